"""gridkit grids adopt (codes kept, --recode, --repair, --area), gridkit run with [grids],
and partition --update/--area on a small district: phased areas, events re-located."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from conftest import X0, Y0, four_communities

from gridkit.cli import main
from gridkit.partition import partition

TARGET = "20000"


@pytest.fixture(scope="module")
def clean():
    result = partition(four_communities(), target_area=20_000)
    return result.unit_grids, result.communities


def _write(frame: gpd.GeoDataFrame, path):
    frame.to_file(path)
    return str(path)


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_adopt_keeps_codes_and_refuses_what_unit_grid_cannot_hold(clean, tmp_path):
    grids, communities = clean
    comm = _write(communities, tmp_path / "c.gpkg")
    city = grids[["BGID", "geometry"]].rename(columns={"BGID": "WGBM"})
    city = city.iloc[::-1].reset_index(drop=True)  # any order in, BGID order out
    done = _invoke("grids", "adopt", _write(city, tmp_path / "g.gpkg"), "-o",
                   tmp_path / "o.gpkg", "--communities", comm, "--target-area", TARGET, "--json")
    assert done.exit_code == 0, done.output
    out = pyogrio.read_dataframe(tmp_path / "o.gpkg", layer="unit_grid")
    assert out["BGID"].tolist() == sorted(grids["BGID"])
    assert list(out.columns[:6]) == ["BGID", "COMMUNITY", "STREET", "AREA", "RGID", "DENSITY"]
    community = pyogrio.read_dataframe(tmp_path / "o.gpkg", layer="community")
    assert community["UNITS"].sum() == len(grids)

    city.loc[1, "WGBM"] = city.loc[0, "WGBM"]
    before = hashlib.sha256((tmp_path / "o.gpkg").read_bytes()).hexdigest()
    done = _invoke("grids", "adopt", _write(city, tmp_path / "dup.gpkg"), "-o",
                   tmp_path / "o.gpkg", "--target-area", TARGET)
    assert done.exit_code == 2
    assert f"code {city.loc[0, 'WGBM']} is held by 2 features" in done.output
    assert "--recode" in done.output and "Traceback" not in done.output
    assert hashlib.sha256((tmp_path / "o.gpkg").read_bytes()).hexdigest() == before

    done = _invoke("grids", "adopt", tmp_path / "dup.gpkg", "-o", tmp_path / "r.gpkg",
                   "--communities", comm, "--recode", "--target-area", TARGET, "--json")
    assert done.exit_code == 0, done.output
    recoded = pyogrio.read_dataframe(tmp_path / "r.gpkg", layer="unit_grid")
    assert recoded["BGID"].is_unique and len(recoded) == len(grids)
    assert Counter(recoded["SRCCODE"])[city.loc[0, "WGBM"]] == 2
    assert (recoded["BGID"].str[:12] == recoded["COMMUNITY"]).all()


def test_repair_fixes_small_gaps_overlaps_and_slivers_and_reports_each(clean, tmp_path):
    grids, communities = clean
    city = grids[["BGID", "geometry"]].copy()
    geoms = list(city.geometry)
    first = int(np.flatnonzero(city["BGID"].str.startswith("310116001001"))[0])
    near = shapely.STRtree(geoms).query(geoms[first], predicate="touches")
    other = next(int(k) for k in near
                 if shapely.intersection(geoms[first].boundary, geoms[k].boundary).length > 20)
    edge = shapely.intersection(geoms[first].boundary, geoms[other].boundary)
    point = shapely.line_interpolate_point(shapely.line_merge(edge), 0.5, normalized=True)
    overlap = shapely.intersection(geoms[other], point.buffer(4, cap_style="square"))
    geoms[first] = shapely.union(geoms[first], overlap)  # about 32 m² into the neighbour
    x0, y0, x1, y1 = geoms[-1].bounds
    sliver = shapely.intersection(geoms[-1], shapely.box(x0, y0, x0 + 2, y1))
    geoms[-1] = shapely.difference(geoms[-1], sliver)
    city = gpd.GeoDataFrame({"BGID": list(city["BGID"]) + [city["BGID"].iloc[-1][:12] + "990"]},
                            geometry=geoms + [sliver], crs=city.crs)
    path = _write(city, tmp_path / "g.gpkg")
    comm = _write(communities, tmp_path / "c.gpkg")
    done = _invoke("grids", "check", path, "--communities", comm, "--target-area", TARGET,
                   "--json")
    found = json.loads(done.output)["by_rule"]
    assert found["grid-overlap"] == 1 and found["grid-sliver"] == 1
    done = _invoke("grids", "adopt", path, "-o", tmp_path / "o.gpkg", "--communities", comm,
                   "--repair", "--target-area", TARGET, "--json")
    assert done.exit_code == 0, done.output
    figures = json.loads(done.output)
    assert figures["repairs"] == {"repair-overlap": 1, "repair-sliver": 1}
    assert figures["retired"] == [city["BGID"].iloc[-1]]
    qa = pyogrio.read_dataframe(tmp_path / "o.gpkg", layer="qa_issue")
    assert not set(qa["RULE"]) & {"grid-overlap", "grid-sliver", "grid-gap"}
    assert {"repair-overlap", "repair-sliver"} <= set(qa["RULE"])
    out = pyogrio.read_dataframe(tmp_path / "o.gpkg", layer="unit_grid")
    assert shapely.union_all(out.geometry.to_numpy()).area == pytest.approx(
        shapely.union_all(grids.geometry.to_numpy()).area, abs=1)
    registry = pyogrio.read_dataframe(tmp_path / "o.gpkg", layer="bgid_registry",
                                      read_geometry=False)
    assert registry.set_index("BGID")["STATUS"][city["BGID"].iloc[-1]] == "retired"


def test_adopt_without_communities_dissolves_them_from_the_prefixes(clean, tmp_path):
    grids, communities = clean
    path = _write(grids[["BGID", "geometry"]], tmp_path / "g.gpkg")
    done = _invoke("grids", "adopt", path, "-o", tmp_path / "o.gpkg", "--target-area", TARGET)
    assert done.exit_code == 0, done.output
    community = pyogrio.read_dataframe(tmp_path / "o.gpkg", layer="community")
    assert sorted(community["CODE"]) == sorted(communities["CODE"])
    for code, geom in zip(community["CODE"], community.geometry, strict=True):
        expected = communities.set_index("CODE").geometry[code]
        assert shapely.symmetric_difference(geom, expected).area < 1


def test_adopt_with_an_area_keeps_the_grids_inside(clean, tmp_path):
    grids, _ = clean
    area = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 600, Y0 + 600)], crs=4549)
    done = _invoke("grids", "adopt", _write(grids[["BGID", "geometry"]], tmp_path / "g.gpkg"),
                   "-o", tmp_path / "o.gpkg", "--area", _write(area, tmp_path / "a.gpkg"),
                   "--target-area", TARGET)
    assert done.exit_code == 0, done.output
    out = pyogrio.read_dataframe(tmp_path / "o.gpkg", layer="unit_grid")
    assert set(out["COMMUNITY"]) == {"310116001001"}
    assert len(out) == (grids["COMMUNITY"] == "310116001001").sum()


def test_run_takes_grids_instead_of_partition(clean, tmp_path):
    grids, communities = clean
    _write(grids[["BGID", "geometry"]].rename(columns={"BGID": "网格编码"}), tmp_path / "g.gpkg")
    _write(communities, tmp_path / "c.gpkg")
    config = tmp_path / "city.toml"
    config.write_text('output = "city.gpkg"\n[grids]\ngrids = "g.gpkg"\ncommunities = '
                      '"c.gpkg"\ntarget_area = 20000\nrepair = true\n[group]\n',
                      encoding="utf-8")
    done = _invoke("run", config, "--json")
    assert done.exit_code == 0, done.output
    figures = json.loads(done.output)
    assert figures["grids"]["unit_grids"] == len(grids)
    assert figures["group"]["unit_grids"] == len(grids)
    config.write_text('[grids]\ngrids = "g.gpkg"\nrepair = "yes"\n', encoding="utf-8")
    done = _invoke("run", config, "-o", tmp_path / "x.gpkg")
    assert done.exit_code == 2 and "[grids] repair must be true or false" in done.output
    config.write_text('[grids]\ngrids = "g.gpkg"\n[partition]\ncommunities = "c.gpkg"\n',
                      encoding="utf-8")
    done = _invoke("run", config, "-o", tmp_path / "x.gpkg")
    assert done.exit_code == 2 and "keep one, not both" in done.output


def test_phased_area_then_a_wider_update_adds_grids_without_touching_the_old(tmp_path):
    communities = _write(four_communities(), tmp_path / "c.gpkg")
    first = gpd.GeoDataFrame(geometry=[shapely.box(X0 - 10, Y0 - 10, X0 + 1310, Y0 + 590)],
                             crs=4549)
    out = tmp_path / "o.gpkg"
    done = _invoke("partition", communities, "-o", out, "--target-area", TARGET, "--area",
                   _write(first, tmp_path / "a1.gpkg"))
    assert done.exit_code == 0, done.output
    before = pyogrio.read_dataframe(out, layer="unit_grid")
    assert set(before["COMMUNITY"]) == {"310116001001", "310116001002"}
    # Events in the first community, as gridkit events import would have located them.
    points = shapely.point_on_surface(before.geometry.to_numpy())
    events = gpd.GeoDataFrame({"EVTID": [f"E{k}" for k in range(len(before))],
                               "BGID": before["BGID"], "STREET": before["STREET"],
                               "COMMUNITY": before["COMMUNITY"]}, geometry=points, crs=4549)
    from gridkit.io import write_geopackage

    write_geopackage(out, {"event": events})

    wider = gpd.GeoDataFrame(geometry=[shapely.box(X0 - 10, Y0 - 10, X0 + 1310, Y0 + 1210)],
                             crs=4549)
    done = _invoke("partition", communities, "-o", out, "--target-area", TARGET, "--update",
                   "--area", _write(wider, tmp_path / "a2.gpkg"), "--json")
    assert done.exit_code == 0, done.output
    figures = json.loads(done.output)
    assert figures["communities"] == {"unchanged": 2, "changed": 0, "new": 2, "gone": 0,
                                      "recoded": 0}
    after = pyogrio.read_dataframe(out, layer="unit_grid")
    old = after[after["BGID"].isin(before["BGID"])].reset_index(drop=True)
    assert (old.geometry.to_wkb() == before.geometry.to_wkb()).all()
    def rows(frame):  # null is null, whichever dtype pandas reads it as
        frame = frame.drop(columns="geometry").astype(object)
        return frame.where(frame.notna(), None).values.tolist()

    assert rows(old) == rows(before)
    change = pyogrio.read_dataframe(out, layer="grid_change")
    assert set(change["KIND"]) == {"new"}
    assert set(change["NEW_BGID"]) == set(after["BGID"]) - set(before["BGID"])
    assert figures["relocated"] == {"component": 0, "event": 0}

    # Then the two first communities merge (撤村建居-like): their events follow the grids.
    merged = four_communities()
    union = shapely.union(merged.geometry[0], merged.geometry[1])
    merged = merged.drop(index=[0, 1])
    merged.loc[9] = ["310116001010", "新社区", union]
    done = _invoke("partition", _write(gpd.GeoDataFrame(merged, crs=4549), tmp_path / "m.gpkg"),
                   "-o", out, "--target-area", TARGET, "--update", "--json")
    assert done.exit_code == 0, done.output
    figures = json.loads(done.output)
    assert figures["relocated"]["event"] == len(events)
    moves = pyogrio.read_dataframe(out, layer="grid_relocation", read_geometry=False)
    moved = pyogrio.read_dataframe(out, layer="event").set_index("EVTID")
    assert sorted(moves["KEY"]) == sorted(events["EVTID"])
    assert (moved.loc[moves["KEY"], "BGID"].to_numpy() == moves["NEW_BGID"].to_numpy()).all()
    assert (moved["COMMUNITY"] == "310116001010").all()
    assert (moved["BGID"].str[:12] == moved["COMMUNITY"]).all()
    registry = pyogrio.read_dataframe(out, layer="bgid_registry", read_geometry=False)
    assert set(registry.loc[registry["STATUS"] == "retired", "BGID"]) == set(before["BGID"])
    change = pyogrio.read_dataframe(out, layer="grid_change")
    assert sorted(set(change["RUN"])) == [2, 3]  # gridkit_run rows of the two updates


def test_a_province_project_refuses_a_grids_county(tmp_path):
    project = tmp_path / "province.toml"
    project.write_text('[county.310116.grids]\ngrids = "g.gpkg"\n', encoding="utf-8")
    done = _invoke("run", project, "-o", tmp_path / "out")
    assert done.exit_code == 2, done.output
    assert "county 310116 adopts its own grids" in done.output


def test_adopt_an_arcgis_polygonz_shapefile_with_a_double_code_field(clean, tmp_path):
    # As ArcGIS exports a city's layer: PolygonZ with heights, GBK DBF, the code a Double.
    grids, communities = clean
    comm = _write(communities, tmp_path / "c.gpkg")
    city = gpd.GeoDataFrame({"DYWGBM": grids["BGID"].astype("float64").to_numpy()},
                            geometry=shapely.force_3d(grids.geometry.to_numpy(), 12.5),
                            crs=grids.crs)
    city.to_file(tmp_path / "grids.shp", encoding="gbk")
    assert pyogrio.read_info(tmp_path / "grids.shp")["geometry_type"] == "Polygon Z"
    done = _invoke("grids", "adopt", tmp_path / "grids.shp", "-o", tmp_path / "o.gpkg",
                   "--communities", comm, "--target-area", TARGET)
    assert done.exit_code == 0, done.output
    assert pyogrio.read_info(tmp_path / "o.gpkg", layer="unit_grid")["geometry_type"] == "Polygon"
    out = pyogrio.read_dataframe(tmp_path / "o.gpkg", layer="unit_grid")
    assert out["BGID"].tolist() == sorted(grids["BGID"])
    assert not shapely.has_z(out.geometry.to_numpy()).any()
    qa = pyogrio.read_dataframe(tmp_path / "o.gpkg", layer="qa_issue")
    dropped = qa[qa["RULE"] == "dropped-z-m"]
    assert len(dropped) == 1
    assert f"{len(grids)} of {len(grids)} grids carry Z/M values" in dropped["MESSAGE"].iloc[0]


def test_a_village_recoded_on_the_same_land_keeps_its_grids_under_the_new_code(tmp_path):
    # 撤村建居: village 310116101201 becomes residents' committee 310116101003; the new
    # boundary file redraws its outline with a 0.4 m wobble (digitising), nothing else changes.
    communities = four_communities()
    out = tmp_path / "o.gpkg"
    done = _invoke("partition", _write(communities, tmp_path / "c.gpkg"), "-o", out,
                   "--target-area", TARGET)
    assert done.exit_code == 0, done.output
    assert _invoke("group", out).exit_code == 0
    before = pyogrio.read_dataframe(out, layer="unit_grid")
    village = before[before["COMMUNITY"] == "310116101201"].reset_index(drop=True)
    points = shapely.point_on_surface(before.geometry.to_numpy())
    events = gpd.GeoDataFrame({"EVTID": [f"E{k}" for k in range(len(before))],
                               "BGID": before["BGID"], "STREET": before["STREET"],
                               "COMMUNITY": before["COMMUNITY"]}, geometry=points, crs=4549)
    from gridkit.io import write_geopackage

    write_geopackage(out, {"event": events})

    now = communities.copy()
    k = int(np.flatnonzero(now["CODE"] == "310116101201")[0])
    x0, y0, x1, y1 = now.geometry.iloc[k].bounds
    now.loc[k, "CODE"], now.loc[k, "NAME"] = "310116101003", "新居委会"
    now.loc[k, "geometry"] = shapely.box(x0, y0, x1 + 0.4, y1)
    done = _invoke("partition", _write(now, tmp_path / "c2.gpkg"), "-o", out, "--target-area",
                   TARGET, "--update", "--json")
    assert done.exit_code == 0, done.output
    figures = json.loads(done.output)
    assert figures["communities"] == {"unchanged": 3, "changed": 0, "new": 0, "gone": 0,
                                      "recoded": 1}
    assert figures["recut"] == {"old": 0, "new": 0}
    assert figures["grid_change"]["kept"] == len(village)  # SPEC's KIND for a recoded grid
    assert figures["grid_change"]["reshaped"] == figures["grid_change"]["new"] == 0

    after = pyogrio.read_dataframe(out, layer="unit_grid").set_index("BGID")
    assert len(after) == len(before)
    renamed = {old: "310116101003" + old[12:] for old in village["BGID"]}  # serials kept
    assert set(after.index) == set(before["BGID"]) - set(renamed) | set(renamed.values())
    for old, geom in zip(village["BGID"], village.geometry, strict=True):
        grid = after.loc[renamed[old]]
        assert grid.geometry.wkb == geom.wkb  # the city's geometry, byte for byte
        assert (grid["COMMUNITY"], grid["STREET"]) == ("310116101003", "310116101")
    change = pyogrio.read_dataframe(out, layer="grid_change")
    assert (change["KIND"] == "kept").all()
    assert (change["OLD_BGID"] != change["NEW_BGID"]).all()
    assert dict(zip(change["OLD_BGID"], change["NEW_BGID"], strict=True)) == renamed
    assert change["AREA"].to_numpy() == pytest.approx(shapely.area(village.geometry.to_numpy()))
    registry = pyogrio.read_dataframe(out, layer="bgid_registry",
                                      read_geometry=False).set_index("BGID")
    assert (registry.loc[list(renamed), "STATUS"] == "retired").all()
    assert (registry.loc[list(renamed.values()), "STATUS"] == "active").all()
    community = pyogrio.read_dataframe(out, layer="community").set_index("CODE")
    assert "310116101201" not in community.index
    assert community.loc["310116101003", "NAME"] == "新居委会"
    # The village's events follow their grid to its new code, each listed.
    moves = pyogrio.read_dataframe(out, layer="grid_relocation", read_geometry=False)
    mine = events[events["COMMUNITY"] == "310116101201"]
    assert dict(zip(moves["KEY"], moves["NEW_BGID"], strict=True)) == {
        e: renamed[b] for e, b in zip(mine["EVTID"], mine["BGID"], strict=True)}
    moved = pyogrio.read_dataframe(out, layer="event").set_index("EVTID")
    assert (moved.loc[mine["EVTID"], "COMMUNITY"] == "310116101003").all()
    # Same street: the responsibility grids are the same grids and keep their RGIDs.
    assert after.loc[list(renamed.values()), "RGID"].notna().all()
    assert _invoke("group", out).exit_code == 0
    regrouped = pyogrio.read_dataframe(out, layer="unit_grid").set_index("BGID")
    old_rgid = before.set_index("BGID")["RGID"].rename(index=renamed)
    assert (regrouped["RGID"] == old_rgid.reindex(regrouped.index)).all()
    # Then the same again is a no-op.
    stamp = hashlib.sha256(out.read_bytes()).hexdigest()
    done = _invoke("partition", tmp_path / "c2.gpkg", "-o", out, "--target-area", TARGET,
                   "--update")
    assert done.exit_code == 0 and hashlib.sha256(out.read_bytes()).hexdigest() == stamp


def test_recoding_into_another_street_clears_the_responsibility_grid_and_skips_used_codes():
    from gridkit.grids.registry import new_registry
    from gridkit.grids.update import recode_grids

    codes = ["310116101201001", "310116101201002", "310116101202001"]
    kept = gpd.GeoDataFrame(
        {"BGID": codes, "COMMUNITY": [c[:12] for c in codes], "STREET": "310116101",
         "RGID": ["310116101001", "310116101001", "310116101002"],
         "DENSITY": ["dense", "dense", "sparse"]},
        geometry=[shapely.box(k, 0, k + 1, 1) for k in range(3)], crs=4549)
    # 撤镇建街 and 撤村建居 at once: the village goes to street 003; 310116003005001 was used
    # (and retired) before, so its grids take serials the community never used, in order.
    registry = new_registry([*codes, "310116003005001"], 0)
    out, registry, renames = recode_grids(kept, {"310116101201": "310116003005"}, registry, 7)
    assert renames == {"310116101201001": "310116003005002",
                       "310116101201002": "310116003005003"}
    assert out["BGID"].tolist() == ["310116003005002", "310116003005003", "310116101202001"]
    assert out["STREET"].tolist() == ["310116003", "310116003", "310116101"]
    # Its responsibility grid named the old street: cleared; the other one stays.
    assert out["RGID"].isna().tolist() == [True, True, False]
    status = registry.set_index("BGID")["STATUS"]
    assert status[list(renames)].eq("retired").all()
    assert status[list(renames.values())].eq("active").all()


def test_a_run_without_a_group_section_says_it_built_no_responsibility_grids(clean, tmp_path):
    grids, _ = clean
    _write(grids[["BGID", "geometry"]], tmp_path / "g.gpkg")
    config = tmp_path / "city.toml"
    config.write_text('output = "city.gpkg"\n[grids]\ngrids = "g.gpkg"\ntarget_area = 20000\n',
                      encoding="utf-8")
    done = _invoke("run", config)
    assert done.exit_code == 0, done.output
    lines = [line for line in done.output.splitlines() if line.startswith("group ")]
    assert len(lines) == 1 and "no [group] section" in lines[0]
    assert f"gridkit group {tmp_path / 'city.gpkg'}" in lines[0]
    assert "responsibility_grid" not in pyogrio.list_layers(tmp_path / "city.gpkg")[:, 0]
