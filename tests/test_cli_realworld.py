"""Real input geometry through `gridkit partition` and `gridkit group`: one CLI test per kind,
on the committed files of tests/data/realworld/ (see make_realworld.py there)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from gridkit.cli import main
from gridkit.errors import GridkitWarning
from gridkit.geometry import CURVE_TOLERANCE
from gridkit.io import read_vector

DATA = Path(__file__).parent / "data" / "realworld"
X, Y = 459_000.0, 2_521_000.0
# The arc between communities A and B: chord 800 m, sagitta 60 m.
RADIUS = (400**2 + 60**2) / (2 * 60)
HALF = math.asin(400 / RADIUS)
SEGMENT = RADIUS**2 * (2 * HALF - math.sin(2 * HALF)) / 2
ARC_LENGTH = 2 * HALF * RADIUS
EXACT = {"441900003001": 500 * 800 + SEGMENT, "441900003002": 500 * 800 - SEGMENT,
         "441900003003": 1000 * 300}


def run(*args) -> tuple[int, str]:
    """Exit code and standard output (or everything, on failure) of ``gridkit ARGS``."""
    done = CliRunner().invoke(main, [str(a) for a in args])
    return done.exit_code, done.stdout if done.exit_code == 0 else done.output


def partitioned(tmp_path: Path, communities: Path, *more) -> tuple[Path, dict]:
    out = tmp_path / "out.gpkg"
    code, output = run("partition", communities, "-o", out, "--json", *more)
    assert code == 0, output
    return out, json.loads(output)


def assert_curved_communities_kept(out: Path) -> None:
    """Every community in, at its true area within the documented linearisation tolerance."""
    comm = pyogrio.read_dataframe(out, layer="community").set_index("CODE")
    assert sorted(comm.index) == sorted(EXACT)
    for code, area in EXACT.items():
        assert abs(comm.loc[code, "AREA"] - area) <= CURVE_TOLERANCE * ARC_LENGTH + 0.01, code
    grids = pyogrio.read_dataframe(out, layer="unit_grid")
    assert shapely.coverage_is_valid(grids.geometry.to_numpy())
    assert grids.area.sum() == pytest.approx(sum(EXACT.values()), abs=1.0)
    # The curved border is followed: the westmost point of B's grids lies on the arc's
    # chord at most (no straight cut replaced it).
    b = grids[grids["COMMUNITY"] == "441900003002"]
    assert b.total_bounds[0] == pytest.approx(X + 500, abs=0.01)
    a = grids[grids["COMMUNITY"] == "441900003001"]
    assert a.total_bounds[2] == pytest.approx(X + 560, abs=CURVE_TOLERANCE)


def test_geopackage_curve_polygons_and_multisurfaces_are_linearised(tmp_path):
    out, figures = partitioned(tmp_path, DATA / "curved_communities.gpkg")
    assert figures["communities"] == 3
    assert_curved_communities_kept(out)


def test_esri_json_with_objectid_and_curve_rings(tmp_path):
    out, figures = partitioned(tmp_path, DATA / "esri_communities.json",
                               "--roads", DATA / "esri_roads.json")
    assert_curved_communities_kept(out)
    qa = pyogrio.read_dataframe(out, layer="qa_issue")
    # ArcGIS wrote Z on the roads: dropped, and said once for the layer.
    z = qa[qa["RULE"] == "dropped-z-m"]
    assert len(z) == 1 and "esri_roads.json" in z["MESSAGE"].iloc[0]
    assert figures["skipped_features"] == {}
    # Both roads are barriers: the two-part one and the curved lane (an arc about a centre,
    # then a Bézier), which grid edges follow.
    grids = pyogrio.read_dataframe(out, layer="unit_grid")
    roads = read_vector(DATA / "esri_roads.json", what="roads")
    assert roads.index.tolist() == [1, 2]
    assert followed(grids, roads.geometry.loc[1]) > 0.9
    assert followed(grids, shapely.force_2d(roads.geometry.loc[2])) > 0.9


def test_road_layer_of_multipart_lines_points_and_collections(tmp_path):
    out, figures = partitioned(tmp_path, DATA / "curved_communities.gpkg",
                               "--roads", DATA / "roads_mixed.gpkg")
    # The MultiPoint (fid 3) and the empty feature (fid 6) are skipped and named.
    assert figures["skipped_features"] == {"road": {"count": 2, "ids": ["3", "6"]}}
    qa = pyogrio.read_dataframe(out, layer="qa_issue")
    rules = dict(zip(qa["KEY"].where(qa["LAYER"] == "road"), qa["RULE"], strict=True))
    assert rules["3"] == "unusable-geometry" and rules["6"] == "empty-geometry"
    assert rules["4"] == "parts-dropped"  # the collection's point; its line is a road
    assert (qa["RULE"] == "dropped-z-m").sum() == 1
    grids = pyogrio.read_dataframe(out, layer="unit_grid")
    # Multi-part roads and the collection's line are barriers: grid edges run along them.
    roads = pyogrio.read_dataframe(DATA / "roads_mixed.gpkg", fid_as_index=True)
    for fid in (1, 2, 4):
        assert followed(grids, roads.geometry.loc[fid]) > 0.9, fid


def followed(grids: gpd.GeoDataFrame, line) -> float:
    """Share of ``line`` inside the grids that lies on a grid edge (1 cm tolerance)."""
    edges = shapely.union_all(shapely.boundary(grids.geometry.to_numpy())).buffer(0.01)
    inside = shapely.intersection(line, shapely.union_all(grids.geometry.to_numpy()))
    return shapely.intersection(inside, edges).length / inside.length


def test_community_with_empty_geometry_is_refused_with_its_code(tmp_path):
    comm = pyogrio.read_dataframe(DATA / "curved_communities.gpkg")
    comm.loc[1, "geometry"] = None
    path = tmp_path / "comm.gpkg"
    comm.to_file(path, layer="community")
    out = tmp_path / "out.gpkg"
    code, output = run("partition", path, "-o", out)
    assert code == 2 and not out.exists()
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "441900003002" in lines[0] and "territory" in lines[0]


def test_key_areas_with_a_stray_point_are_used_and_the_point_reported(tmp_path):
    out, _ = partitioned(tmp_path, DATA / "curved_communities.gpkg")
    keys = gpd.GeoDataFrame(
        {"NAME": ["示范区", "stray"]},
        geometry=[shapely.MultiPolygon([shapely.box(X, Y, X + 300, Y + 300),
                                        shapely.box(X + 700, Y + 800, X + 1000, Y + 1100)]),
                  shapely.Point(X + 10, Y + 10)], crs=4547)
    keys.to_file(tmp_path / "keys.gpkg", layer="key_area")
    code, output = run("group", out, "--key-areas", tmp_path / "keys.gpkg", "--json")
    assert code == 0, output
    assert json.loads(output)["skipped_features"] == {"key_area": {"count": 1, "ids": ["2"]}}
    qa = pyogrio.read_dataframe(out, layer="qa_issue")
    stray = qa[(qa["LAYER"] == "key_area") & (qa["RULE"] == "unusable-geometry")]
    assert stray["KEY"].tolist() == ["2"]
    grids = pyogrio.read_dataframe(out, layer="unit_grid")
    assert (grids["DENSITY"] == "dense").any()


def test_gbk_shapefile_with_cut_chinese_field_names(tmp_path):
    """A communities Shapefile written in GBK keeps 10 bytes of a field name: 统计用区划代码
    arrives as 统计用区划 and 村居名称 whole. The cut code field is found and the names kept."""
    comm = pyogrio.read_dataframe(DATA / "curved_communities.gpkg")
    comm = comm.rename(columns={"CODE": "统计用区划代码"})
    comm["村居名称"] = [f"社区{i}" for i in range(len(comm))]
    comm = comm[["统计用区划代码", "村居名称", "geometry"]]
    comm["geometry"] = shapely.force_2d(comm.geometry.to_numpy())
    path = tmp_path / "村居.shp"
    with pytest.warns(RuntimeWarning):  # GDAL says it truncated the field name
        pyogrio.write_dataframe(comm, path, encoding="gbk")
    fields = pyogrio.read_info(path, encoding="gbk")["fields"].tolist()
    assert "统计用区划" in fields  # the DBF really cut it
    out, figures = partitioned(tmp_path, path)
    written = pyogrio.read_dataframe(out, layer="community").set_index("CODE")
    assert sorted(written.index) == sorted(EXACT)
    assert written["NAME"].str.startswith("社区").all()


@pytest.mark.parametrize("cpg", [True, False])
def test_street_and_county_names_from_an_arcgis_shapefile(tmp_path, cpg):
    """所属街道名称/所属区县名称 in a GBK DBF (cut to 所属街道名/所属区县名 at 10 bytes, with or
    without a .cpg) reach the community layer; they were dropped without a word."""
    comm = gpd.GeoDataFrame(
        {"社区代码": ["441900003001", "441900004001"], "社区名称": ["东城社区", "南城社区"],
         "所属街道名称": ["东城街道", "南城街道"], "所属区县名称": ["东莞市", "东莞市"]},
        geometry=[shapely.box(X, Y, X + 200, Y + 200), shapely.box(X + 200, Y, X + 400, Y + 200)],
        crs=4547)
    path = tmp_path / "社区.shp"
    pyogrio.write_dataframe(comm, path, encoding="GBK")
    assert "所属街道名" in pyogrio.read_info(path, encoding="GBK")["fields"]
    if not cpg:
        path.with_suffix(".cpg").unlink()
    out, _ = partitioned(tmp_path, path)
    got = pyogrio.read_dataframe(out, layer="community", read_geometry=False).set_index("CODE")
    assert got["STREET_NAME"].to_dict() == {"441900003001": "东城街道", "441900004001": "南城街道"}
    assert set(got["COUNTY_NAME"]) == {"东莞市"}
    if cpg:  # the Shapefile export titles them in field_names.csv, as the other fields
        code, output = run("export", out, "--to", "shp", tmp_path / "shp")
        assert code == 0, output
        titles = pd.read_csv(tmp_path / "shp" / "field_names.csv", encoding="utf-8-sig")
        titles = titles[titles["LAYER"] == "community"].set_index("FIELD")["TITLE"]
        assert (titles["STREET_NAME"], titles["COUNTY_NAME"]) == ("街道/镇名称", "区县名称")


def test_empty_and_3d_roads_leave_no_library_warnings(tmp_path):
    """An OSM export's empty LineString and MultiLineString Z: reported once by gridkit, with
    no geopandas/GDAL warning on the user's terminal, and the context layer stored 2D."""
    roads = gpd.GeoDataFrame(
        {"highway": ["primary", "track"]},
        geometry=[shapely.MultiLineString([[(X - 20, Y + 600, 5.0), (X + 400, Y + 600, 5.0)],
                                           [(X + 400, Y + 600, 5.0), (X + 1020, Y + 610, 6.0)]]),
                  shapely.LineString()], crs=4547)
    path = tmp_path / "roads.geojson"
    pyogrio.write_dataframe(roads, path, driver="GeoJSON")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, figures = partitioned(tmp_path, DATA / "curved_communities.gpkg", "--roads", path)
    foreign = [f"{w.category.__name__}: {w.message}" for w in caught
               if not issubclass(w.category, GridkitWarning)]
    assert foreign == []
    assert figures["skipped_features"] == {"road": {"count": 1, "ids": ["1"]}}
    assert pyogrio.read_info(out, layer="context_road")["geometry_type"] == "MultiLineString"


def test_an_exclave_is_exempt_from_the_band_and_exported_as_one_layer(tmp_path):
    """A lake enclave of one community inside another (a MultiPolygon community, the other
    with a hole): the enclave is its own grid, below the band like a small community, and
    not counted as a band miss (in_band_share was 0.97 on a development zone)."""
    lake = shapely.box(X + 300, Y + 80, X + 360, Y + 140)
    comm = gpd.GeoDataFrame(
        {"CODE": ["440305004001", "440306001001"]},
        geometry=[shapely.MultiPolygon([shapely.box(X, Y, X + 200, Y + 200), lake]),
                  shapely.box(X + 200, Y, X + 600, Y + 200).difference(lake)], crs=4547)
    path = tmp_path / "zone.gpkg"
    comm.to_file(path)
    out, figures = partitioned(tmp_path, path, "--target-area", "10000")
    grids = pyogrio.read_dataframe(out, layer="unit_grid")
    enclave = grids[grids.geometry.representative_point().within(lake)]
    assert enclave["COMMUNITY"].tolist() == ["440305004001"]
    assert enclave.area.iloc[0] == pytest.approx(3600, abs=0.01)
    assert (figures["in_band_share"], figures["exempt_small_communities"]) == (1.0, 1)
    assert [c["in_band_share"] for c in figures["counties"]] == [1.0, 1.0]
    assert shapely.union_all(grids.geometry.to_numpy()).symmetric_difference(
        shapely.union_all(comm.geometry.to_numpy())).area < 1e-6
    # One declared type for the community layer (was "Unknown", and the Shapefile export
    # then wrote community_polygon.shp instead of the contract's community.shp).
    assert pyogrio.read_info(out, layer="community")["geometry_type"] == "MultiPolygon"
    code, output = run("export", out, "--to", "shp", tmp_path / "shp")
    assert code == 0, output
    assert len(pyogrio.read_dataframe(tmp_path / "shp" / "community.shp")) == 2


def test_run_names_the_fix_as_the_config_key_of_its_section(tmp_path):
    """In `gridkit run`, a census file without coordinate columns names `map = [...]` in
    [census] (the TOML the user writes), not the census import's --map flag."""
    (tmp_path / "census.csv").write_text("部件名称,位置\n路灯,东城大道\n", encoding="utf-8")
    config = tmp_path / "gridkit.toml"
    config.write_text(f'output = "out.gpkg"\n[partition]\ncommunities = '
                      f'"{(DATA / "curved_communities.gpkg").as_posix()}"\n'
                      '[census]\nfiles = ["census.csv"]\ncrs = "wgs84"\n', encoding="utf-8")
    code, output = run("run", config)
    assert code == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "census.csv" in lines[0], output
    assert 'map = ["X=COLUMN", "Y=COLUMN"] in [census]' in lines[0]
    assert "--map" not in lines[0] and "--header-row" not in lines[0]


def test_full_width_community_codes_are_read_and_logged(tmp_path):
    """A code typed with a Chinese input method (４４１９…) is the same code, as in a census:
    it was refused ("characters other than digits"); now folded and logged (code-folded)."""
    comm = gpd.GeoDataFrame(
        {"社区代码": ["４４１９００００３００１", "441900003002 "],
         "所属街道名称": ["东城街道"] * 2},
        geometry=[shapely.box(X, Y, X + 200, Y + 200), shapely.box(X + 200, Y, X + 400, Y + 200)],
        crs=4547)
    path = tmp_path / "comm.geojson"
    comm.to_file(path, driver="GeoJSON")
    out, figures = partitioned(tmp_path, path)
    got = pyogrio.read_dataframe(out, layer="community", read_geometry=False)
    assert got["CODE"].tolist() == ["441900003001", "441900003002"]
    assert got["STREET_NAME"].tolist() == ["东城街道", "东城街道"]
    grids = pyogrio.read_dataframe(out, layer="unit_grid", read_geometry=False)
    assert set(grids["BGID"].str[:12]) == {"441900003001", "441900003002"}
    qa = pyogrio.read_dataframe(out, layer="qa_issue", read_geometry=False)
    folded = qa[qa["RULE"] == "code-folded"]
    assert folded["KEY"].tolist() == ["441900003001"]  # the trailing space is not a change
    assert "４４１９００００３００１" in folded["MESSAGE"].iloc[0]
    assert figures["qa"]["by_rule"] == {"code-folded": 1}


def test_a_utf8_cpg_over_gbk_communities_names_the_cpg(tmp_path):
    """ArcGIS's GBK DBF under a .cpg saying UTF-8: the error named no .cpg and told the user
    to add one; now it names the .cpg and what to write in it, as the census import does."""
    comm = gpd.GeoDataFrame({"社区代码": ["441900003001"], "社区名称": ["东城社区"]},
                            geometry=[shapely.box(X, Y, X + 200, Y + 200)], crs=4547)
    path = tmp_path / "社区.shp"
    pyogrio.write_dataframe(comm, path, encoding="GBK")
    path.with_suffix(".cpg").write_text("UTF-8")
    code, output = run("partition", path, "-o", tmp_path / "out.gpkg")
    assert code == 2 and not (tmp_path / "out.gpkg").exists()
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "社区.cpg says UTF-8" in lines[0] and "write GBK" in lines[0]


def test_single_part_rows_of_one_community_are_merged(tmp_path):
    """An ArcGIS single-part layer: a community's exclave is a second row with the same code
    and name. It was refused; now the rows are one community (reported parts-merged), and
    rows sharing a code under two names are still refused."""
    lake = shapely.box(X + 300, Y + 80, X + 360, Y + 140)
    comm = gpd.GeoDataFrame(
        {"社区代码": ["440305004001", "440306001001", "440305004001"],
         "社区名称": ["前湾社区", "铲湾社区", "前湾社区"]},
        geometry=[shapely.box(X, Y, X + 200, Y + 200),
                  shapely.box(X + 200, Y, X + 600, Y + 200).difference(lake), lake], crs=4547)
    path = tmp_path / "single.shp"
    pyogrio.write_dataframe(comm, path, encoding="GBK")
    out, figures = partitioned(tmp_path, path)
    got = pyogrio.read_dataframe(out, layer="community").set_index("CODE")
    assert sorted(got.index) == ["440305004001", "440306001001"]
    assert got.loc["440305004001", "AREA"] == pytest.approx(200 * 200 + 60 * 60, abs=0.01)
    assert figures["qa"]["by_rule"] == {"parts-merged": 1}
    grids = pyogrio.read_dataframe(out, layer="unit_grid")
    assert grids[grids.geometry.representative_point().within(lake)]["COMMUNITY"].tolist() == [
        "440305004001"]
    comm.loc[2, "社区名称"] = "桂湾社区"
    pyogrio.write_dataframe(comm, path, encoding="GBK")
    code, output = run("partition", path, "-o", tmp_path / "two.gpkg")
    assert code == 2 and len(output.strip().splitlines()) == 1
    assert "440305004001 is used by features 0, 2 named 前湾社区, 桂湾社区" in output


@pytest.mark.skipif("OpenFileGDB" not in pyogrio.list_drivers(write=True),
                    reason="this GDAL cannot write a File Geodatabase")
def test_an_esri_file_geodatabase_folder_as_input(tmp_path):
    """A .gdb is a folder (what ArcGIS offices send): it ended in IsADirectoryError when the
    run record checksummed its inputs; now the folder's files are hashed."""
    comm = gpd.GeoDataFrame({"社区代码": ["441900003001", "441900003002"]},
                            geometry=[shapely.box(X, Y, X + 200, Y + 200),
                                      shapely.box(X + 200, Y, X + 400, Y + 200)], crs=4547)
    gdb = tmp_path / "东城.gdb"
    comm.to_file(gdb, driver="OpenFileGDB", layer="社区")
    gpd.GeoDataFrame(geometry=[shapely.box(X + 50, Y + 50, X + 70, Y + 70)], crs=4547).to_file(
        gdb, driver="OpenFileGDB", layer="建筑")
    out, figures = partitioned(tmp_path, gdb, "--layer", "社区", "--buildings", gdb,
                               "--buildings-layer", "建筑")
    assert figures["communities"] == 2 and figures["unit_grids"] >= 2
    inputs = json.loads(pyogrio.read_dataframe(out, layer="gridkit_run")["INPUTS"].iloc[-1])
    assert list(inputs) == [str(gdb)] and len(inputs[str(gdb)]) == 64


@pytest.mark.parametrize("font", [True, False])
def test_english_png_maps_label_chinese_community_names(tmp_path, monkeypatch, font):
    """`report --lang en --png`: community names are Chinese whatever the language; they were
    drawn without the CJK font (rows of empty boxes). With a CJK font they are drawn in it;
    without one the map shows the community codes."""
    import matplotlib.axes

    from gridkit.report import png

    if font and png.cjk_font() is None:
        pytest.skip("no CJK font on this machine")
    if not font:
        monkeypatch.setattr(png, "cjk_font", lambda: None)
    drawn: list[tuple[str, object]] = []
    annotate = matplotlib.axes.Axes.annotate

    def record(self, text, *args, **kwargs):
        drawn.append((text, kwargs.get("fontproperties")))
        return annotate(self, text, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "annotate", record)
    comm = gpd.GeoDataFrame({"CODE": ["441900003001", "441900003002"],
                             "NAME": ["东城社区", "主山社区"]},
                            geometry=[shapely.box(X, Y, X + 200, Y + 200),
                                      shapely.box(X + 200, Y, X + 400, Y + 200)], crs=4547)
    comm.to_file(tmp_path / "comm.gpkg")
    out, _ = partitioned(tmp_path, tmp_path / "comm.gpkg")
    code, output = run("report", out, "-o", tmp_path / "r.html", "--lang", "en", "--png",
                       tmp_path / "maps")
    assert code == 0, output
    labels = {text: prop for text, prop in drawn
              if text in {"东城社区", "主山社区", "441900003001", "441900003002"}}
    if font:
        assert set(labels) == {"东城社区", "主山社区"}
        assert all(prop is not None for prop in labels.values())
    else:
        assert set(labels) == {"441900003001", "441900003002"}


def test_grids_check_leaves_out_grids_filling_a_small_community_or_exclave(tmp_path):
    """`grids check --communities`: a 0.36 ha community and a lake exclave are one grid each
    below the band by necessity; they were warned grid-size-band (noise), as they are not in
    the partition's figures. A small grid in a large community still is."""
    lake = shapely.box(X + 300, Y + 80, X + 360, Y + 140)
    comm = gpd.GeoDataFrame(
        {"CODE": ["440305004001", "440306001001", "440306001002"]},
        geometry=[shapely.MultiPolygon([shapely.box(X, Y, X + 200, Y + 200), lake]),
                  shapely.box(X + 200, Y, X + 600, Y + 200).difference(lake),
                  shapely.box(X + 600, Y, X + 660, Y + 60)], crs=4547)
    comm.to_file(tmp_path / "comm.gpkg")
    grids = gpd.GeoDataFrame(
        {"BGID": ["440305004001001", "440305004001002", "440305004001003",
                  "440306001001001", "440306001001002", "440306001002001"]},
        geometry=[shapely.box(X, Y, X + 100, Y + 200), shapely.box(X + 100, Y, X + 200, Y + 200),
                  lake, shapely.box(X + 200, Y, X + 560, Y + 200).difference(lake),
                  shapely.box(X + 560, Y, X + 600, Y + 200),
                  shapely.box(X + 600, Y, X + 660, Y + 60)], crs=4547)
    grids.to_file(tmp_path / "grids.gpkg")
    code, output = run("grids", "check", tmp_path / "grids.gpkg", "--communities",
                       tmp_path / "comm.gpkg", "--json")
    figures = json.loads(output)
    # Only 440306001001001 (6.8 ha in a 7.6 ha community) is outside the band.
    assert figures["by_rule"] == {"grid-size-band": 1}, output


def test_a_windows_path_pasted_into_the_config_says_how_to_write_it(tmp_path):
    """The path as copied from Windows Explorer: TOML's escape error alone does not tell an
    office user what to do."""
    config = tmp_path / "gridkit.toml"
    config.write_text('output = "out.gpkg"\n[partition]\ncommunities = "D:\\数据\\社区.shp"\n',
                      encoding="utf-8")
    code, output = run("run", config)
    assert code == 2 and len(output.strip().splitlines()) == 1, output
    assert "gridkit.toml: not valid TOML" in output and '"D:/数据/社区.shp"' in output
    # Backslashes TOML takes as escapes (\t, \n) give a path with a tab and a line break.
    config.write_text('output = "out.gpkg"\n[partition]\ncommunities = "D:\\temp\\new.shp"\n',
                      encoding="utf-8")
    code, output = run("run", config)
    assert code == 2 and len(output.strip().splitlines()) == 1, output
    assert "holds a tab or line break" in output and '"D:/temp/社区.shp"' in output
