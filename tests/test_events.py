"""`gridkit events import`: classes, territory, rejects, conservation, re-import."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyogrio
import pytest
from conftest import X0, Y0, four_communities, invoke

from gridkit.io import write_geopackage
from gridkit.partition import partition

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def gridkit(*args) -> subprocess.CompletedProcess:
    return invoke(args)


@pytest.fixture
def district(tmp_path):
    out = tmp_path / "d.gpkg"
    result = partition(four_communities())
    write_geopackage(out, {"unit_grid": result.unit_grids, "community": result.communities})
    return out


def test_every_row_is_accepted_or_rejected_for_its_reason(district, tmp_path):
    import geopandas as gpd
    import shapely

    inside = gpd.GeoSeries([shapely.Point(X0 + 150, Y0 + 150)], crs=4549).to_crs(4326)
    lon, lat = f"{inside.x[0]:.7f}", f"{inside.y[0]:.7f}"
    rows = [
        ("A1", "暴露垃圾", "", "2025-04-10 07:53", lon, lat),      # by name
        ("A2", "", "0505", "2025/05/01 12:00", lon, lat),          # by code
        ("A3", "乱停车", "", "2025-05-02", lon, lat),              # by alias? else rejected
        ("A4", "其他情况啊", "", "2025-05-02", lon, lat),          # unknown class
        ("A5", "暴露垃圾", "", "昨天下午", lon, lat),              # bad time
        ("A6", "暴露垃圾", "", "2025-05-02", "", ""),              # no coordinates
        ("A7", "暴露垃圾", "", "2025-05-02", "121.9", "31.9"),     # outside
        ("A8", "暴露垃圾", "", "2025-05-02", "12x", lat),          # not a number
    ]
    csv = tmp_path / "events.csv"
    lines = ["案件编号,事件类型,小类代码,上报时间,经度,纬度"] + [",".join(r) for r in rows]
    csv.write_text("\n".join(lines) + "\n", encoding="gbk")
    done = gridkit("events", "import", csv, "-o", district, "--crs", "wgs84", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["rows"] == 8 and figures["balanced"]
    events = pyogrio.read_dataframe(district, layer="event")
    rejects = pyogrio.read_dataframe(district, layer="event_reject")
    assert len(events) + len(rejects) == 8
    by_id = events.set_index("EVTID")
    assert by_id.loc["A1", "EVTCODE"] == "0102" and by_id.loc["A2", "EVTCODE"] == "0505"
    assert by_id.loc["A1", "BGID"].startswith("310116001001")
    assert by_id.loc["A1", "STREET"] == "310116001"
    rules = dict(zip(rejects["SRCROW"], rejects["RULE"], strict=True))
    assert rules[5] == "class-unknown" and rules[6] == "bad-time"
    assert rules[7] == "no-coordinates" and rules[8] == "outside-area"
    assert rules[9] == "bad-coordinates"
    assert set(rules) <= {4, 5, 6, 7, 8, 9}  # no good row rejected
    assert json.loads(rejects.loc[rejects["SRCROW"] == 6, "RAW"].iloc[0])["上报时间"] == "昨天下午"
    # Importing the same file again replaces its events instead of adding them twice.
    again = json.loads(gridkit("events", "import", csv, "-o", district, "--crs", "wgs84",
                               "--json").stdout)
    assert again["events"] == figures["events"]


def test_sample_events_and_workload(tmp_path):
    out = tmp_path / "s.gpkg"
    assert gridkit("partition", SAMPLES / "communities.gpkg", "-o", out).returncode == 0
    done = gridkit("events", "import", SAMPLES / "events.csv", "-o", out, "--crs", "wgs84",
                   "--json")
    figures = json.loads(done.stdout)
    assert figures["rejected"] == 30 and figures["balanced"]  # the generator planted 30
    group = json.loads(gridkit("group", out, "--json").stdout)
    assert group["workload"] == "event"


def test_missing_crs_and_missing_grids_are_one_line_errors(tmp_path, district):
    done = gridkit("events", "import", SAMPLES / "events.csv", "-o", district)
    assert done.returncode == 2 and "--crs" in done.stderr and len(
        done.stderr.strip().splitlines()) == 1
    done = gridkit("events", "import", SAMPLES / "events.csv", "-o", tmp_path / "none.gpkg",
                   "--crs", "wgs84")
    assert done.returncode == 2 and "gridkit partition" in done.stderr


def test_map_names_event_columns(district, tmp_path):
    import geopandas as gpd
    import shapely

    inside = gpd.GeoSeries([shapely.Point(X0 + 150, Y0 + 150)], crs=4549).to_crs(4326)
    csv = tmp_path / "odd.csv"
    csv.write_text(f"案号,什么事,lng,lat\nB1,暴露垃圾,{inside.x[0]:.7f},{inside.y[0]:.7f}\n",
                   encoding="utf-8")
    done = gridkit("events", "import", csv, "-o", district, "--crs", "wgs84", "--map",
                   "EVTID=案号", "--map", "EVTNAME=什么事", "--json")
    assert done.returncode == 0, done.stderr  # --map EVTID was refused before
    events = pyogrio.read_dataframe(district, layer="event")
    assert events["EVTID"].tolist() == ["B1"] and events["EVTCODE"].tolist() == ["0102"]
    bad = gridkit("events", "import", csv, "-o", district, "--crs", "wgs84", "--map",
                  "OBJCODE=案号")
    assert bad.returncode == 2 and "use one of EVTID" in bad.stderr


def test_the_same_events_under_another_name_are_refused_with_the_fix(district, tmp_path):
    """An export saved again under another name (case numbers already held) would hold every
    event twice; a later export overlapping in a few cases is not a re-import."""
    import geopandas as gpd
    import shapely

    inside = gpd.GeoSeries([shapely.Point(X0 + 150, Y0 + 150)], crs=4549).to_crs(4326)
    lon, lat = f"{inside.x[0]:.7f}", f"{inside.y[0]:.7f}"

    def export(name, ids):
        path = tmp_path / name
        path.write_text("案件编号,事件类型,上报时间,经度,纬度\n" + "".join(
            f"{i},暴露垃圾,2025-05-02 08:00,{lon},{lat}\n" for i in ids), encoding="utf-8")
        return path

    first = export("五月.csv", [f"E{k}" for k in range(10)])
    assert gridkit("events", "import", first, "-o", district, "--crs", "wgs84").returncode == 0
    copy = export("五月_副本.csv", [f"E{k}" for k in range(10)])
    done = gridkit("events", "import", copy, "-o", district, "--crs", "wgs84")
    assert done.returncode == 2
    assert "10 of its 10 events have case numbers already held from 五月.csv" in done.stderr
    assert "--mode replace" in done.stderr and "--allow-duplicates" in done.stderr
    assert pyogrio.read_info(district, layer="event")["features"] == 10
    # Two cases shared with the earlier export of ten: new events, imported with a warning.
    later = export("六月.csv", ["E8", "E9", "F1", "F2", "F3", "F4", "F5"])
    done = gridkit("events", "import", later, "-o", district, "--crs", "wgs84", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["duplicate_evtid"] == 2
    # On purpose: allowed, and then held twice.
    done = gridkit("events", "import", copy, "-o", district, "--crs", "wgs84",
                   "--allow-duplicates")
    assert done.returncode == 0, done.stderr
    assert pyogrio.read_info(district, layer="event")["features"] == 27
