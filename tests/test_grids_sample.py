"""Existing grids on the bundled sample district: the round trip through a city's GBK
Shapefile (partition → 网格编码 Shapefile → grids check → grids adopt → the same grids and
figures) and ``partition --update`` after a merger and a moved boundary."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from conftest import SAMPLES, scratch_folder

from gridkit.cli import main
from gridkit.components.gpkg import import_to_geopackage
from gridkit.components.importer import ImportOptions
from gridkit.partition import PartitionOptions, partition_geopackage
from gridkit.responsibility import group_geopackage

CENSUS_ROWS = 4_000


def _census_subset(folder: Path) -> Path:
    """The first rows of the sample census, bytes as they are (GBK, GCJ-02)."""
    lines = (SAMPLES / "census.csv").read_bytes().splitlines(keepends=True)
    path = folder / "census.csv"
    path.write_bytes(b"".join(lines[:CENSUS_ROWS + 1]))
    return path


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample partitioned (communities, roads, water) with a census subset and grouped."""
    folder = scratch_folder("gridkit-grids-tests-")
    original = folder / "original.gpkg"
    partition_geopackage(original, PartitionOptions(
        SAMPLES / "communities.gpkg", roads=SAMPLES / "roads.gpkg", water=SAMPLES / "water.gpkg"))
    census = _census_subset(folder)
    return folder, original, census


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _grids(path: Path) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(path, layer="unit_grid")


def test_round_trip_through_a_gbk_shapefile(sample, tmp_path):
    folder, original, census = sample
    grids = _grids(original)
    city = tmp_path / "grids.shp"
    pyogrio.write_dataframe(grids[["BGID", "geometry"]].rename(columns={"BGID": "网格编码"}),
                            city, encoding="GBK")
    city.with_suffix(".cpg").unlink()  # a GBK file as Chinese ArcGIS writes it
    communities = tmp_path / "communities.gpkg"
    pyogrio.write_dataframe(pyogrio.read_dataframe(original, layer="community"), communities)
    runner = CliRunner()
    done = runner.invoke(main, ["grids", "check", str(city), "--communities", str(communities),
                                "--json"])
    assert done.exit_code == 0, done.output
    audit = json.loads(done.output)
    assert audit["errors"] == 0 and audit["code_field"] == "网格编码"
    assert audit["unit_grids"] == len(grids)

    adopted = tmp_path / "adopted.gpkg"
    done = runner.invoke(main, ["grids", "adopt", str(city), "-o", str(adopted),
                                "--communities", str(communities), "--json"])
    assert done.exit_code == 0, done.output
    again = _grids(adopted)
    assert again["BGID"].tolist() == grids["BGID"].tolist()
    assert (again.geometry.to_wkb() == grids.geometry.to_wkb()).all()
    for column in ("COMMUNITY", "STREET", "AREA"):
        assert again[column].tolist() == grids[column].tolist(), column
    registry = pyogrio.read_dataframe(adopted, layer="bgid_registry", read_geometry=False)
    assert sorted(registry["BGID"]) == sorted(grids["BGID"])
    assert set(registry["STATUS"]) == {"active"}

    # The census and the grouping give the same figures on both files.
    figures = {}
    for name, path in (("original", tmp_path / "original.gpkg"), ("adopted", adopted)):
        if name == "original":
            shutil.copyfile(original, path)
        imported = import_to_geopackage([census], path, ImportOptions(crs="gcj02"))
        grouped = group_geopackage(path)
        figures[name] = (
            {k: imported[k] for k in ("rows", "accepted", "rejected")},
            {k: v for k, v in grouped.items() if k not in ("output", "seconds")},
            pyogrio.read_dataframe(path, layer="component", read_geometry=False)["BGID"]
            .tolist(),
            pyogrio.read_dataframe(path, layer="unit_grid", read_geometry=False)[
                ["BGID", "RGID", "DENSITY"]].values.tolist(),
        )
    assert figures["adopted"] == figures["original"]
    assert figures["original"][0]["accepted"] > 0.9 * CENSUS_ROWS


def _neighbours(comm: gpd.GeoDataFrame, street_same: bool, exclude=()) -> tuple[int, int]:
    geoms = comm.geometry.to_numpy()
    for i in range(len(comm)):
        for j in range(i + 1, len(comm)):
            if {i, j} & set(exclude):
                continue
            shared = shapely.intersection(geoms[i].boundary, geoms[j].boundary).length
            same = comm["STREET"].iloc[i] == comm["STREET"].iloc[j]
            if shared > 300 and same == street_same:
                return i, j
    raise AssertionError("no such pair of communities")


def test_update_after_a_merger_and_a_moved_boundary(sample, tmp_path):
    folder, original, census = sample
    out = tmp_path / "district.gpkg"
    shutil.copyfile(original, out)
    import_to_geopackage([census], out, ImportOptions(crs="gcj02"))
    group_geopackage(out)
    before = _grids(out)
    before_rgid = pyogrio.read_dataframe(out, layer="responsibility_grid")
    runner = CliRunner()
    done = runner.invoke(main, ["export", str(out), "--to", "gpkg", str(tmp_path / "a.gpkg"),
                                "--json"])  # the baseline handed to another system
    assert done.exit_code == 0, done.output

    comm = pyogrio.read_dataframe(out, layer="community")
    a, b = _neighbours(comm, street_same=True)
    p, q = _neighbours(comm, street_same=True, exclude=(a, b))
    merged_code = comm["CODE"].iloc[a][:9] + "190"
    assert merged_code not in set(comm["CODE"])
    new = comm[["CODE", "NAME", "geometry"]].copy()
    # Community q gives a 30 m band along its border with p to p.
    band = shapely.intersection(new.geometry.iloc[q], new.geometry.iloc[p].buffer(
        30, join_style="mitre"))
    new.loc[new.index[p], "geometry"] = shapely.union(new.geometry.iloc[p], band)
    new.loc[new.index[q], "geometry"] = shapely.difference(new.geometry.iloc[q], band)
    merged = shapely.union(new.geometry.iloc[a], new.geometry.iloc[b])
    changed_codes = set(comm["CODE"].iloc[[a, b, p, q]])
    new = pd.concat([new.drop(index=new.index[[a, b]]), gpd.GeoDataFrame(
        {"CODE": [merged_code], "NAME": ["合并社区"]}, geometry=[merged], crs=comm.crs)],
        ignore_index=True)
    communities = tmp_path / "communities_2026.gpkg"
    gpd.GeoDataFrame(new, crs=comm.crs).to_file(communities)

    args = ["partition", str(communities), "-o", str(out), "--roads",
            str(SAMPLES / "roads.gpkg"), "--water", str(SAMPLES / "water.gpkg"), "--update",
            "--json"]
    done = runner.invoke(main, args)
    assert done.exit_code == 0, done.output
    figures = json.loads(done.output)
    assert figures["communities"] == {"unchanged": len(comm) - 4, "changed": 2, "new": 1,
                                      "gone": 2, "recoded": 0}
    after = _grids(out)
    # Grids of every other community: same rows, same BGIDs, same geometry bytes.
    others = ~before["COMMUNITY"].isin(changed_codes)
    assert before.loc[others, "BGID"].tolist() == after.loc[
        ~after["COMMUNITY"].isin(changed_codes | {merged_code}), "BGID"].tolist()
    kept = after.set_index("BGID").loc[before.loc[others, "BGID"]]
    assert (kept.geometry.to_wkb().to_numpy() == before[others].geometry.to_wkb().to_numpy()
            ).all()
    for column in ("COMMUNITY", "STREET", "AREA"):
        assert kept[column].tolist() == before.loc[others, column].tolist()
    # The merged communities' codes retire; the merged one's are new.
    change = pyogrio.read_dataframe(out, layer="grid_change")
    retired = set(change.loc[change["KIND"] == "retired", "OLD_BGID"])
    old_ab = set(before.loc[before["COMMUNITY"].isin(set(comm["CODE"].iloc[[a, b]])), "BGID"])
    assert old_ab <= retired
    assert set(after["BGID"]) & retired == set()
    new_rows = change[change["KIND"] == "new"]
    assert set(after.loc[after["COMMUNITY"] == merged_code, "BGID"]) <= set(new_rows["NEW_BGID"])
    assert set(change["RUN"]) == {figures["run"]}
    assert change["CHANGE_ID"].is_unique
    assert (change["AREA"] > 0).all()
    registry = pyogrio.read_dataframe(out, layer="bgid_registry", read_geometry=False)
    assert set(registry.loc[registry["STATUS"] == "retired", "BGID"]) == retired
    assert set(registry.loc[registry["STATUS"] == "active", "BGID"]) == set(after["BGID"])
    # New codes in p and q never reuse a retired serial.
    for code in set(after["COMMUNITY"]) & {comm["CODE"].iloc[p], comm["CODE"].iloc[q]}:
        fresh = set(after.loc[after["COMMUNITY"] == code, "BGID"]) - set(before["BGID"])
        assert not fresh & retired
    # Components of re-cut grids are re-located, each change listed, and correct.
    moves = pyogrio.read_dataframe(out, layer="grid_relocation", read_geometry=False)
    components = pyogrio.read_dataframe(out, layer="component")
    assert figures["relocated"]["component"] == len(moves) > 0
    assert set(moves["OLD_BGID"]) <= set(before["BGID"]) - set(before.loc[others, "BGID"])
    moved = components.set_index("OBJCODE").loc[moves["KEY"]]
    assert moved["BGID"].tolist() == moves["NEW_BGID"].tolist()
    holder = after.set_index("BGID").geometry.loc[moved["BGID"]].to_numpy()
    assert shapely.covers(holder, moved.geometry.to_numpy()).all()
    assert not set(components["BGID"].dropna()) & retired
    # The grouping keeps the RGIDs of responsibility grids whose unit grids did not change.
    assert "responsibility_grid" not in pyogrio.list_layers(out)[:, 0]
    grouped = group_geopackage(out)
    assert grouped["kept_rgids"] > 0
    rgid_after = pyogrio.read_dataframe(out, layer="unit_grid", read_geometry=False)
    old_sets = before.groupby("RGID")["BGID"].apply(frozenset)
    new_sets = rgid_after.groupby("RGID")["BGID"].apply(frozenset)
    unchanged = {r for r, s in old_sets.items() if s in set(new_sets)}
    assert unchanged and all(new_sets[r] == old_sets[r] for r in unchanged)
    assert len(before_rgid) > len(unchanged)

    # A second identical update changes nothing, not even the file.
    checksum = _sha(out)
    done = runner.invoke(main, args)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["changed"] is False
    assert _sha(out) == checksum

    # export --since hands the change on: the new and retired unit grids and grid_change.
    done = runner.invoke(main, ["export", str(out), "--to", "gpkg", str(tmp_path / "b.gpkg"),
                                "--since", "last", "--json"])
    assert done.exit_code == 0, done.output
    handed = pyogrio.read_dataframe(tmp_path / "b.gpkg", layer="grid_change")
    assert sorted(handed["CHANGE_ID"]) == sorted(change["CHANGE_ID"])
    assert set(handed["CHANGE"]) == {"new"}
    grids_handed = pyogrio.read_dataframe(tmp_path / "b.gpkg", layer="unit_grid")
    assert retired <= set(grids_handed.loc[grids_handed["CHANGE"] == "retired", "BGID"])
    same = before.merge(rgid_after, on="BGID", suffixes=("", "_NOW"))
    same = set(same.loc[(same["RGID"] == same["RGID_NOW"])
                        & (same["DENSITY"] == same["DENSITY_NOW"])
                        & ~same["COMMUNITY"].isin(changed_codes), "BGID"])
    assert same and not set(grids_handed["BGID"]) & same  # unchanged grids are not sent
