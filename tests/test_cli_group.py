"""`gridkit group` as a user runs it, on the sample district."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from conftest import copy_of, invoke, sample_partitioned

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def gridkit(*args) -> subprocess.CompletedProcess:
    return invoke(args)


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory):
    # `gridkit partition` on the sample with roads, water and buildings, run once per session
    return copy_of(sample_partitioned(), tmp_path_factory.mktemp("group"), "district.gpkg")


def test_group_on_the_sample(partitioned, tmp_path):
    out = tmp_path / "d.gpkg"
    out.write_bytes(partitioned.read_bytes())
    done = gridkit("group", out, "--key-areas", SAMPLES / "key_areas.gpkg", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["contiguous_share"] == 1.0
    assert figures["in_band_share_where_feasible"] >= 0.98
    assert figures["workload"] == "building footprint area"
    resp = pyogrio.read_dataframe(out, layer="responsibility_grid")
    grids = pyogrio.read_dataframe(out, layer="unit_grid")
    assert {"RGID", "STREET", "DENSITY", "BAND", "UNITS", "WORKLOAD", "AREA"} <= set(resp)
    assert (resp["RGID"].str[:9] == resp["STREET"]).all()
    assert grids["RGID"].notna().all() and set(grids["DENSITY"]) == {"dense", "sparse"}
    assert resp["UNITS"].sum() == len(grids)
    assert (resp.geom_type == "Polygon").all()
    assert {"community", "unit_grid", "responsibility_grid", "qa_issue", "gridkit_run"} <= set(
        dict(pyogrio.list_layers(out)))
    qa = pyogrio.read_dataframe(out, layer="qa_issue")
    assert {"partition", "group"} == set(qa["COMMAND"])  # group kept partition's rows
    # Re-running gives the same RGIDs.
    assert gridkit("group", out, "--key-areas", SAMPLES / "key_areas.gpkg").returncode == 0
    again = pyogrio.read_dataframe(out, layer="unit_grid")
    assert again["RGID"].tolist() == grids["RGID"].tolist()
    assert len(pyogrio.read_dataframe(out, layer="qa_issue").query("COMMAND == 'group'")) == \
        len(qa.query("COMMAND == 'group'"))


def test_group_errors_are_one_line_and_write_nothing(partitioned, tmp_path):
    out = tmp_path / "d.gpkg"
    out.write_bytes(partitioned.read_bytes())
    before = out.read_bytes()

    def refused(done, fragment):
        assert done.returncode == 2, done.stdout + done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], done.stderr
        assert out.read_bytes() == before

    refused(gridkit("group", out, "--dense", "16-10"), "--dense 16-10")
    refused(gridkit("group", out, "--sparse", "0-5"), "--sparse 0-5")
    points = gpd.GeoDataFrame(geometry=[shapely.Point(121.33, 30.72)], crs=4490)
    points.to_file(tmp_path / "points.gpkg")
    refused(gridkit("group", out, "--key-areas", tmp_path / "points.gpkg"), "is a Point")
    elsewhere = gpd.read_file(SAMPLES / "key_areas.gpkg").set_crs(3857, allow_override=True)
    elsewhere.to_file(tmp_path / "wrong_crs.gpkg")
    refused(gridkit("group", out, "--key-areas", tmp_path / "wrong_crs.gpkg"),
            "no key area overlaps")
    bare = tmp_path / "bare.gpkg"
    points.to_file(bare, layer="something")
    done = gridkit("group", bare)
    assert done.returncode == 2 and "run gridkit partition first" in done.stderr
    grids = pyogrio.read_dataframe(out, layer="unit_grid").drop(columns=["STREET"])
    nostreet = tmp_path / "nostreet.gpkg"
    grids.to_file(nostreet, layer="unit_grid")
    done = gridkit("group", nostreet)
    assert done.returncode == 2 and "STREET" in done.stderr
