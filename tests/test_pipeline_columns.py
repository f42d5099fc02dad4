"""``gridkit run`` takes the import's column options from the config: ``x``/``y``/``map``/
``header_row`` in ``[census]`` and ``[events]``, as ``--x/--y/--map/--header-row``."""

from __future__ import annotations

import csv

import pyogrio
import pytest
from test_census_support import HEADER, district, good_rows

from gridkit.errors import GridkitError
from gridkit.pipeline import _census, _events, load_config


def test_config_names_coordinate_columns_for_the_census(tmp_path):
    out = district(tmp_path)
    # A title row, then columns gridkit cannot recognise by name (东坐标/北坐标 as a team wrote).
    header = ["东坐标" if h == "经度" else "北坐标" if h == "纬度" else h for h in HEADER]
    path = tmp_path / "c.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["某街道城市部件普查登记表"] + [""] * (len(header) - 1))
        writer.writerow(header)
        writer.writerows(good_rows(6))
    config = tmp_path / "gridkit.toml"
    config.write_text('[partition]\ncommunities = "x.gpkg"\n[census]\nfiles = ["c.csv"]\n'
                      'crs = "wgs84"\nx = "东坐标"\ny = "北坐标"\nheader_row = 2\n',
                      encoding="utf-8")
    section = load_config(config)["census"]
    figures = _census(out, section)
    assert figures["accepted"] == 6 and figures["rejected"] == 0
    table = pyogrio.read_dataframe(out, layer="component")
    assert len(table) == 6 and table["BGID"].str.len().eq(15).all()


def test_config_map_for_events_and_a_bad_field(tmp_path):
    out = district(tmp_path)
    lon_lat = [(r[2], r[3]) for r in good_rows(3)]
    path = tmp_path / "e.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["编号", "类别", "上报时间", "东", "北"])
        for k, (lon, lat) in enumerate(lon_lat):
            writer.writerow([f"E{k}", "暴露垃圾", "2025-05-12 08:30", lon, lat])
    figures = _events(out, {"files": [path], "crs": "wgs84", "x": "东", "y": "北",
                            "map": ["EVTID=编号", "EVTNAME=类别"]})
    assert figures["accepted"] == 3
    events = pyogrio.read_dataframe(out, layer="event")
    assert sorted(events["EVTID"]) == ["E0", "E1", "E2"]
    with pytest.raises(GridkitError, match="NOPE is not a field"):
        _census(out, {"files": [path], "crs": "wgs84", "map": ["NOPE=东"]})
