"""gridkit grids check: an audit catching each planted fault exactly once, with its place;
code fields as cities name them; codes stored as numbers flagged."""

from __future__ import annotations

import json
from collections import Counter

import geopandas as gpd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from conftest import four_communities

from gridkit.cli import main
from gridkit.grids import audit_grids, find_code_field, grid_layer
from gridkit.partition import partition

CRS = 4549


@pytest.fixture(scope="module")
def clean():
    """Four communities cut into unit grids of 2 ha: (grids, communities) in EPSG:4549."""
    result = partition(four_communities(), target_area=20_000)
    return result.unit_grids, result.communities


def _audit(grids: gpd.GeoDataFrame, communities=None, field="BGID"):
    frame = grids.rename(columns={"BGID": field})[[field, "geometry"]]
    return audit_grids(grid_layer(frame), grids.crs, communities, target_area=20_000)


def _neighbours(grids, k, same_community: bool):
    geoms = grids.geometry.to_numpy()
    touching = shapely.STRtree(geoms).query(geoms[k], predicate="touches")
    for j in touching:
        shared = shapely.intersection(geoms[k].boundary, geoms[j].boundary).length
        same = grids["COMMUNITY"].iloc[j] == grids["COMMUNITY"].iloc[k]
        if shared > 50 and same == same_community:
            return int(j)
    raise AssertionError("layout has no such neighbour")


def test_clean_partition_passes(clean):
    grids, communities = clean
    found = _audit(grids, communities)
    assert found.errors == 0
    assert found.figures["unit_grids"] == len(grids)
    assert found.figures["gaps"] == {"count": 0, "area_m2": 0}


def test_each_planted_fault_is_found_exactly_once_with_its_place(clean):
    grids, communities = clean
    grids = grids.copy()
    geoms = list(grids.geometry)
    codes = list(grids["BGID"])
    first = grids.index[grids["COMMUNITY"] == "310116001001"]
    second = grids.index[grids["COMMUNITY"] == "310116001002"]
    third = grids.index[grids["COMMUNITY"] == "310116001003"]
    fourth = grids.index[grids["COMMUNITY"] == "310116101201"]
    places = {}
    # A duplicate code: the second grid of community 1 takes the first one's code.
    codes[first[1]] = codes[first[0]]
    places["grid-code-duplicate"] = geoms[first[0]]
    # A prefix contradicting the community holding the grid.
    codes[second[0]] = "310116001003900"
    places["grid-code-community"] = geoms[second[0]]
    # A 2 m gap: one grid drawn 2 m short of its neighbours all round.
    gap = int(third[len(third) // 2])
    places["grid-gap"] = shapely.difference(geoms[gap], geoms[gap].buffer(-2))
    geoms[gap] = geoms[gap].buffer(-2, join_style="mitre")
    # An overlap: a grid reaching 5 m into a neighbour of its own community.
    a = int(fourth[0])
    b = _neighbours(grids, a, same_community=True)
    piece = shapely.intersection(geoms[b], geoms[a].buffer(5, join_style="mitre"))
    geoms[a] = shapely.union(geoms[a], piece)
    places["grid-overlap"] = piece
    # A grid across two communities: 30 m of its neighbour over the border moved into it.
    c = int(fourth[-1])
    d = _neighbours(grids, c, same_community=False)
    piece = shapely.intersection(geoms[d], geoms[c].buffer(30, join_style="mitre"))
    geoms[c], geoms[d] = shapely.union(geoms[c], piece), shapely.difference(geoms[d], piece)
    places["grid-across-communities"] = piece
    # A sliver: a 3 m strip cut off a grid as a grid of its own.
    e = int(first[-1])
    x0, y0, x1, y1 = geoms[e].bounds
    strip = shapely.intersection(geoms[e], shapely.box(x0, y0, x0 + 3, y1))
    geoms[e] = shapely.difference(geoms[e], strip)
    geoms.append(strip)
    codes.append(codes[e][:12] + "950")
    places["grid-sliver"] = strip
    # A multi-part grid: two grids far apart under one code.
    f, g = int(second[1]), int(second[-1])
    assert not shapely.intersects(geoms[f], geoms[g])
    geoms[f] = shapely.MultiPolygon([geoms[f], geoms[g]])
    places["grid-multipart"] = geoms[f]
    drop = {g}
    damaged = gpd.GeoDataFrame(
        {"BGID": [c for k, c in enumerate(codes) if k not in drop]},
        geometry=[s for k, s in enumerate(geoms) if k not in drop], crs=grids.crs)

    found = _audit(damaged, communities)
    rules = Counter(i.rule for i in found.issues)
    for rule, place in places.items():
        assert rules[rule] == 1, (rule, rules)
        issue = next(i for i in found.issues if i.rule == rule)
        assert issue.severity in ("error", "warning")
        assert issue.geometry is not None and issue.geometry.distance(place) < 0.01, rule
        assert "°E" in issue.message and "°N" in issue.message, issue.message
    # Only the planted faults are errors; everything else is a consequence (serial gaps).
    errors = Counter(i.rule for i in found.issues if i.severity == "error")
    assert errors == Counter({r: 1 for r in places if r != "grid-sliver"})
    gap = next(i for i in found.issues if i.rule == "grid-gap")
    assert gap.geometry.area == pytest.approx(places["grid-gap"].area, rel=1e-6)
    assert set(rules) - set(places) <= {"grid-serial-gap", "grid-size-band"}


def test_without_communities_the_prefixes_are_checked_against_each_other(clean):
    grids, _ = clean
    grids = grids.copy()
    k = grids.index[grids["COMMUNITY"] == "310116001001"][0]
    grids.loc[k, "BGID"] = "310116001004001"  # a prefix no neighbour shares: 2 pieces?
    far = grids.index[grids["COMMUNITY"] == "310116101201"][0]
    grids.loc[far, "BGID"] = "310116001001950"  # community 1's code far away from it
    found = _audit(grids)
    rules = Counter(i.rule for i in found.issues)
    assert rules["grid-community-disconnected"] == 1
    issue = next(i for i in found.issues if i.rule == "grid-community-disconnected")
    assert issue.key == "310116001001"


@pytest.mark.parametrize("name", ["BGID", "网格编码", "单元网格编码", "单元网格编", "单元网",
                                  "DYWGBM", "wgbm", "单元网\ufffd"])
def test_code_fields_as_cities_name_them(name):
    frame = gpd.GeoDataFrame({"OBJECTID": [1], name: ["310116001001001"], "NAME": ["x"]},
                             geometry=[shapely.box(0, 0, 1, 1)], crs=CRS)
    assert find_code_field(frame) == name


def test_no_code_field_names_the_fields_and_the_option():
    frame = gpd.GeoDataFrame({"OBJECTID": [1], "NAME": ["x"]},
                             geometry=[shapely.box(0, 0, 1, 1)], crs=CRS)
    with pytest.raises(Exception, match="OBJECTID, NAME; name it with `code_field`"):
        find_code_field(frame)


def test_codes_stored_as_numbers_are_read_exactly_and_flagged(clean):
    grids, communities = clean
    frame = grids[["BGID", "geometry"]].copy()
    frame["BGID"] = frame["BGID"].astype("float64")  # what Excel and ArcGIS doubles do
    layer = grid_layer(frame)
    assert layer.numeric
    assert list(layer.frame["CODE"]) == list(grids["BGID"])  # read back exactly, still flagged
    found = audit_grids(layer, grids.crs, communities, target_area=20_000)
    numeric = [i for i in found.issues if i.rule == "grid-code-numeric"]
    # 15 digits survive a double exactly: a warning to store them as text, not an error.
    assert len(numeric) == 1 and numeric[0].severity == "warning"
    assert found.errors == 0
    frame.loc[0, "BGID"] = 31011600100100.0  # a code that lost a digit is still refused
    found = audit_grids(grid_layer(frame), grids.crs, communities, target_area=20_000)
    assert [i.rule for i in found.issues if i.severity == "error"] == ["grid-code-invalid"]


def test_bad_codes(clean):
    grids, _ = clean
    frame = grids[["BGID", "geometry"]].copy()
    frame.loc[0, "BGID"] = ""
    frame.loc[1, "BGID"] = "31011600100100"  # 14 digits
    frame.loc[2, "BGID"] = "３１０１１６００１００１９９９"  # full-width digits: the same code
    found = _audit(frame)
    rules = Counter(i.rule for i in found.issues if i.severity == "error")
    assert rules == Counter({"grid-code-missing": 1, "grid-code-invalid": 1})
    assert "310116001001999" in set(found.grids["CODE"])


def test_check_command_exit_codes_and_json(clean, tmp_path):
    grids, communities = clean
    good = tmp_path / "grids.gpkg"
    grids.rename(columns={"BGID": "DYWGBM"})[["DYWGBM", "geometry"]].to_file(good)
    comm = tmp_path / "communities.gpkg"
    communities.to_file(comm)
    runner = CliRunner()
    done = runner.invoke(main, ["grids", "check", str(good), "--communities", str(comm),
                                "--target-area", "20000", "--json"])
    assert done.exit_code == 0, done.output
    figures = json.loads(done.output)
    assert figures["errors"] == 0 and figures["code_field"] == "DYWGBM"
    bad = tmp_path / "bad.gpkg"
    broken = grids[["BGID", "geometry"]].copy()
    broken.loc[1, "BGID"] = broken.loc[0, "BGID"]
    broken.to_file(bad)
    done = runner.invoke(main, ["grids", "check", str(bad), "--json"])
    assert done.exit_code == 1
    assert json.loads(done.output)["by_rule"]["grid-code-duplicate"] == 1
    report = tmp_path / "audit.html"
    done = runner.invoke(main, ["grids", "check", str(bad), "-o", str(report)])
    assert done.exit_code == 1 and report.stat().st_size > 10_000
    assert "grid-code-duplicate" in report.read_text(encoding="utf-8")
    done = runner.invoke(main, ["grids", "check", str(tmp_path / "none.shp")])
    assert done.exit_code == 2 and "no such file" in done.output
    done = runner.invoke(main, ["grids", "check", str(good), "--code-field", "WGBM"])
    assert done.exit_code == 2 and "has no field 'WGBM'" in done.output


def test_gbk_shapefile_with_cut_field_names(clean, tmp_path):
    grids, _ = clean
    frame = grids[["BGID", "geometry"]].rename(columns={"BGID": "单元网格编码"})
    path = tmp_path / "grids.shp"
    with pytest.warns(RuntimeWarning):  # GDAL says it cuts the name at 10 bytes
        pyogrio.write_dataframe(frame, path, encoding="GBK")
    path.with_suffix(".cpg").unlink()  # as most city files arrive
    assert [f for f in pyogrio.read_info(path, encoding="GBK")["fields"]] == ["单元网格编"]
    done = CliRunner().invoke(main, ["grids", "check", str(path), "--json",
                                     "--target-area", "20000"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["code_field"] == "单元网格编"


def test_invalid_ring_is_an_error_and_repaired_on_adoption(clean, tmp_path):
    grids, communities = clean
    frame = grids[["BGID", "geometry"]].copy()
    x0, y0, x1, y1 = frame.geometry.iloc[0].bounds
    box = frame.geometry.iloc[0]
    assert box.equals(shapely.box(x0, y0, x1, y1))
    # The same square with a spike of no width drawn out of its top edge and back.
    mid = (x0 + x1) / 2
    spiked = shapely.Polygon([(x0, y0), (x1, y0), (x1, y1), (mid, y1), (mid, y1 - 20),
                              (mid, y1), (x0, y1)])
    assert not spiked.is_valid
    frame.loc[0, "geometry"] = spiked
    found = _audit(frame, communities)
    invalid = [i for i in found.issues if i.rule == "grid-invalid-geometry"]
    assert len(invalid) == 1 and invalid[0].key == frame.loc[0, "BGID"]
    assert found.errors == 1
    path = tmp_path / "g.gpkg"
    frame.to_file(path)
    comm = tmp_path / "c.gpkg"
    communities.to_file(comm)
    args = ["grids", "adopt", str(path), "-o", str(tmp_path / "o.gpkg"), "--communities",
            str(comm), "--target-area", "20000", "--json"]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 2 and "add --repair" in done.output
    done = CliRunner().invoke(main, [*args, "--repair"])
    assert done.exit_code == 0, done.output
    figures = json.loads(done.output)
    assert figures["repairs"] == {"repair-invalid-geometry": 1} and figures["errors"] == 0
    out = pyogrio.read_dataframe(tmp_path / "o.gpkg", layer="unit_grid")
    repaired = out.set_index("BGID").geometry[frame.loc[0, "BGID"]]
    assert repaired.is_valid and repaired.area == pytest.approx(box.area)


def test_a_bow_tie_ring_is_one_invalid_grid_with_its_place(clean, tmp_path):
    # A grid digitised with two corners swapped: its ring crosses itself in the middle.
    grids, communities = clean
    frame = grids[["BGID", "geometry"]].copy()
    x0, y0, x1, y1 = frame.geometry.iloc[0].bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    assert not bowtie.is_valid
    frame.loc[0, "geometry"] = bowtie
    found = _audit(frame, communities)
    mine = [i for i in found.issues if i.key == frame.loc[0, "BGID"]]
    assert [i.rule for i in mine] == ["grid-invalid-geometry"]
    assert "Self-intersection" in mine[0].message and "°E" in mine[0].message
    assert "falls into 2 parts" in mine[0].message
    centre = shapely.Point((x0 + x1) / 2, (y0 + y1) / 2)
    assert mine[0].geometry.distance(centre) < 0.01
    assert "grid-multipart" not in {i.rule for i in found.issues}
    # Made valid it is two triangles: adoption stops even with --repair, naming the grid.
    path = tmp_path / "g.gpkg"
    frame.to_file(path)
    done = CliRunner().invoke(main, ["grids", "adopt", str(path), "-o", str(tmp_path / "o.gpkg"),
                                     "--target-area", "20000", "--repair"])
    assert done.exit_code == 2, done.output
    assert frame.loc[0, "BGID"] in done.output and "redraw it as one polygon" in done.output
    assert not (tmp_path / "o.gpkg").exists()


def test_esri_json_from_an_arcgis_server(clean, tmp_path):
    grids, _ = clean
    features = [{"attributes": {"OBJECTID": k + 1, "DYWGBM": code},
                 "geometry": {"rings": [[list(xy) for xy in shapely.get_coordinates(
                     shapely.orient_polygons(geom, exterior_cw=True).exterior)]]}}
                for k, (code, geom) in enumerate(zip(grids["BGID"], grids.geometry,
                                                     strict=True))]
    path = tmp_path / "grids.json"
    path.write_text(json.dumps({
        "geometryType": "esriGeometryPolygon", "spatialReference": {"wkid": 4549},
        "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID"},
                   {"name": "DYWGBM", "type": "esriFieldTypeString", "length": 15}],
        "features": features}), encoding="utf-8")
    done = CliRunner().invoke(main, ["grids", "check", str(path), "--json",
                                     "--target-area", "20000"])
    assert done.exit_code == 0, done.output
    figures = json.loads(done.output)
    assert figures["code_field"] == "DYWGBM" and figures["unit_grids"] == len(grids)


def test_communities_drawn_overlapping_do_not_put_grids_across(clean):
    # The office's communities overlap (one drawn 30 m into its neighbour, as admin data is):
    # the grids along that border lie wholly in their own community, also in the other's
    # outline; they are not across two communities. A grid really reaching over is.
    grids, communities = clean
    drawn = communities.copy()
    k = int((drawn["CODE"] == "310116101201").to_numpy().nonzero()[0][0])
    district = shapely.union_all(drawn.geometry.to_numpy())
    drawn.loc[drawn.index[k], "geometry"] = shapely.intersection(
        drawn.geometry.iloc[k].buffer(30, join_style="mitre"), district)
    neighbours = shapely.intersects(grids.geometry.to_numpy(), drawn.geometry.iloc[k]) & (
        grids["COMMUNITY"] != "310116101201").to_numpy()
    assert neighbours.any()  # grids of other communities inside the widened outline
    found = _audit(grids, drawn)
    assert found.figures["by_rule"].get("grid-across-communities", 0) == 0
    assert found.errors == 0


def test_grids_of_a_recoded_community_are_one_fault_with_the_way_to_recode_them(clean,
                                                                              tmp_path):
    # The city's grids still carry village 310116101201's code; the new boundaries name the
    # same land residents' committee 310116101003 (撤村建居).
    grids, communities = clean
    now = communities.copy()
    now.loc[now["CODE"] == "310116101201", "CODE"] = "310116101003"
    found = _audit(grids, now)
    wrong = [i for i in found.issues if i.rule == "grid-code-community"]
    assert len(wrong) == 1 and wrong[0].key == "310116101201"
    village = grids[grids["COMMUNITY"] == "310116101201"]
    assert f"all {len(village)} grids coded 310116101201NNN" in wrong[0].message
    assert "--update" in wrong[0].message and "°E" in wrong[0].message
    assert wrong[0].geometry.area == pytest.approx(village.area.sum(), rel=1e-6)
    # Doing what it says: adopt as coded, then update to the new communities.
    path, out = tmp_path / "g.gpkg", tmp_path / "o.gpkg"
    grids[["BGID", "geometry"]].to_file(path)
    now[["CODE", "NAME", "geometry"]].to_file(tmp_path / "c.gpkg")
    runner = CliRunner()
    done = runner.invoke(main, ["grids", "adopt", str(path), "-o", str(out),
                                "--target-area", "20000"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(main, ["partition", str(tmp_path / "c.gpkg"), "-o", str(out),
                                "--target-area", "20000", "--update"])
    assert done.exit_code == 0, done.output
    assert "1 recoded (same land, new code)" in done.output
    assert f"{len(village)} kept under new codes (310116101201 → 310116101003)" in done.output
    adopted = pyogrio.read_dataframe(out, layer="unit_grid")
    assert sorted(adopted["BGID"]) == sorted(
        "310116101003" + c[12:] if c.startswith("310116101201") else c for c in grids["BGID"])
