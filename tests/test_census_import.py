"""The import as a library: every broken row rejected for its reason, rows conserved, modes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_census_support import HEADER, district, good_rows, grid_points

from gridkit.components.gpkg import import_to_geopackage, load_grids
from gridkit.components.importer import ImportOptions, import_census
from gridkit.errors import GridkitError


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8",
              header: list[str] = HEADER) -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def row(**cells: str) -> list[str]:
    """A good row (first grid) with some cells replaced, by header name."""
    base = good_rows(1)[0]
    for name, value in cells.items():
        base[HEADER.index(name)] = value
    return base


BROKEN = {  # note -> (row, expected rule)
    "lon not a number": (row(经度="121.3E"), "bad-coordinates"),
    "lat out of range": (row(纬度="95.5"), "bad-coordinates"),
    "only lon": (row(纬度=""), "bad-coordinates"),
    "projected values with --crs wgs84": (row(经度="624100", 纬度="3398100"),
                                          "bad-coordinates"),
    "no coordinates": (row(经度="", 纬度=""), "no-coordinates"),
    "far away": (row(经度="116.39", 纬度="39.9"), "outside-area"),
    "unknown class": (row(部件名称="路登"), "class-unknown"),
    "empty class": (row(部件名称=""), "class-unknown"),
    "major class only": (row(部件名称="公用设施"), "class-unknown"),
    "code too short": (row(标识码="310116011800001"), "objcode-invalid"),
    "code bad county": (row(标识码="9901160118000001"), "objcode-invalid"),
    "code unknown class": (row(标识码="3101169918000001"), "objcode-invalid"),
    "code serial zero": (row(标识码="3101160118000000"), "objcode-invalid"),
    "code of another class": (row(标识码="3101160102000001"), "objcode-class"),
    "code of another county": (row(标识码="3205820118000001"), "objcode-county"),
    "bad state": (row(状态="坏了"), "enum-invalid"),
    "impossible date": (row(初始时间="2012-02-30"), "date-invalid"),
    "future date": (row(初始时间="2999-01-01"), "date-invalid"),
    "month only": (row(初始时间="2012-03"), "date-invalid"),
    "change before start": (row(变更时间="2011-01-01"), "date-order"),
}


def test_every_kind_of_broken_row_is_rejected_for_its_reason(tmp_path):
    out = district(tmp_path)
    good = good_rows(40)
    good[3][HEADER.index("标识码")] = "3101160102000007"  # a valid code of its own class
    good[3][HEADER.index("部件名称")] = "污水井盖"
    good[5][HEADER.index("状态")] = "良好"  # a synonym, written as 完好
    good[6][HEADER.index("初始时间")] = "2012年3月5日"
    rows = good[:20] + [r for r, _ in BROKEN.values()] + good[20:]
    path = write_csv(tmp_path / "census.csv", rows)
    with open(path, "a", encoding="utf-8") as handle:  # a record with an extra cell
        handle.write(",".join(good_rows(1)[0] + ["surplus"]) + "\n")
    figures = import_to_geopackage([path], out, ImportOptions(crs="wgs84"))
    assert figures["rows"] == len(rows) + 1 and figures["balanced"]
    assert figures["accepted"] == len(good) and figures["rejected"] == len(BROKEN) + 1

    rejects = pyogrio.read_dataframe(out, layer="component_reject").set_index("SRCROW")
    for k, (note, (_, rule)) in enumerate(BROKEN.items()):
        srcrow = 2 + 20 + k
        assert rejects.loc[srcrow, "RULE"] == rule, (note, rejects.loc[srcrow, "REASON"])
        raw = json.loads(rejects.loc[srcrow, "RAW"])
        assert list(raw) == HEADER and raw["部件名称"] == rows[20 + k][1]
    last = rejects.loc[len(rows) + 2]
    assert last["RULE"] == "bad-row" and "surplus" in json.loads(last["RAW"])["_text"]
    # Several problems in one row: all are listed, the first decides the rule.
    assert "状态" not in rejects.loc[22, "REASON"]
    comp = pyogrio.read_dataframe(out, layer="component")
    assert len(comp) == len(good)
    assert sorted(comp["SRCROW"]) == sorted([2 + i for i in range(20)] +
                                            [2 + 20 + len(BROKEN) + i for i in range(20)])
    assert comp["OBJCODE"].str.fullmatch(r"310116\d{10}").all() and comp["OBJCODE"].is_unique
    assert "3101160102000007" in set(comp["OBJCODE"])
    assert set(comp["OBJSTATE"]) == {"完好"}
    assert (comp["OBJCODE"].str[6:10] == comp["MAJOR"] + comp["MINOR"]).all()
    _, _, bgids = grid_points()
    by_row = comp.set_index("SRCROW")
    for i in range(20):
        assert by_row.loc[2 + i, "BGID"] == bgids[i]
    assert (by_row["COMMUNITY"] == by_row["BGID"].str[:12]).all()
    assert (by_row["STREET"] == by_row["BGID"].str[:9]).all()
    assert json.loads(by_row.loc[2, "EXTRA"]) == {"调查员": "张三"}


def test_rows_are_conserved_whatever_is_broken(tmp_path):
    out = district(tmp_path)
    grids = load_grids(out)
    kinds = list(BROKEN.values())

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.integers(-1, len(kinds) - 1), min_size=0, max_size=40))
    def check(choice):
        rows = [good_rows(1, offset=k)[0] if c < 0 else kinds[c][0]
                for k, c in enumerate(choice)]
        path = write_csv(tmp_path / "c.csv", rows)
        result = import_census([path], grids, ImportOptions(crs="wgs84"))
        f = result.figures
        assert f["rows"] == len(rows) == f["accepted"] + f["rejected"]
        assert result.component_table().num_rows == f["accepted"]
        assert result.reject.num_rows == f["rejected"]
        assert f["accepted"] == sum(c < 0 for c in choice)

    check()


def test_reimport_replaces_the_file_and_keeps_its_codes(tmp_path):
    out = district(tmp_path)
    a = write_csv(tmp_path / "a.csv", good_rows(30))
    b = write_csv(tmp_path / "b.csv", good_rows(10, offset=30))
    options = ImportOptions(crs="wgs84")
    import_to_geopackage([a, b], out, options)
    first = pyogrio.read_dataframe(out, layer="component")
    again = import_to_geopackage([a], out, options)  # append: a's rows replaced, b's kept
    second = pyogrio.read_dataframe(out, layer="component")
    assert len(second) == 40 and again["replaced"] == 30 and again["codes"]["reused"] == 30
    key = ["SRCFILE", "SRCROW"]
    assert first.set_index(key)["OBJCODE"].sort_index().equals(
        second.set_index(key)["OBJCODE"].sort_index())
    replaced = import_to_geopackage([b], out, ImportOptions(crs="wgs84", mode="replace"))
    assert replaced["components"] == 10
    assert set(pyogrio.read_dataframe(out, layer="component")["SRCFILE"]) == {"b.csv"}
    runs = pyogrio.read_dataframe(out, layer="gridkit_run")
    assert runs["COMMAND"].tolist() == ["partition"] + ["census import"] * 3


def test_duplicates_are_reported_never_dropped(tmp_path):
    out = district(tmp_path)
    rows = good_rows(5)
    twin = list(rows[0])
    twin[HEADER.index("经度")] = f"{float(twin[2]) + 2e-6:.8f}"  # ~0.2 m east, same class
    coded = good_rows(2, offset=10)
    for r in coded:
        r[HEADER.index("部件名称")] = "路灯"
        r[HEADER.index("标识码")] = "3101160118000009"
    path = write_csv(tmp_path / "d.csv", rows + [twin] + coded)
    figures = import_to_geopackage([path], out, ImportOptions(crs="wgs84"))
    assert figures["accepted"] == 8
    assert figures["duplicates"] == {"duplicate-position": 1, "duplicate-objcode": 1}
    qa = pyogrio.read_dataframe(out, layer="qa_issue")
    mine = qa[qa["COMMAND"] == "census import"]
    assert set(mine["RULE"]) == {"duplicate-position", "duplicate-objcode"}
    shared = mine[mine["RULE"] == "duplicate-objcode"]
    assert shared["SEVERITY"].tolist() == ["error"] and "3101160118000009" in shared["KEY"].iloc[0]
    comp = pyogrio.read_dataframe(out, layer="component")
    assert (comp["OBJCODE"] == "3101160118000009").sum() == 2
    wider = import_to_geopackage([path], out, ImportOptions(crs="wgs84",
                                                            class_tolerance={"0118": 1e6}))
    assert wider["duplicates"]["duplicate-position"] > 1


def test_gcj02_input_lands_where_wgs84_does(tmp_path):
    from gridkit.records.coords import wgs84_to_gcj02

    out = district(tmp_path)
    rows = good_rows(25)
    shifted = [list(r) for r in rows]
    for r in shifted:
        lon, lat = wgs84_to_gcj02(np.array([float(r[2])]), np.array([float(r[3])]))
        r[2], r[3] = f"{lon[0]:.9f}", f"{lat[0]:.9f}"
    grids = load_grids(out)
    plain = import_census([write_csv(tmp_path / "w.csv", rows)], grids,
                          ImportOptions(crs="wgs84"))
    gcj = import_census([write_csv(tmp_path / "g.csv", shifted)], grids,
                        ImportOptions(crs="gcj02"))
    bgids = plain.component_table().column("BGID").to_pylist()
    assert bgids == gcj.component_table().column("BGID").to_pylist()
    wrong = import_census([write_csv(tmp_path / "g2.csv", shifted)], grids,
                          ImportOptions(crs="wgs84"))
    moved = sum(a != b for a, b in zip(bgids, wrong.component_table().column("BGID")
                                       .to_pylist(), strict=False))
    assert moved > 0 or wrong.figures["rejected"] > 0  # 500 m matters: the CRS is not optional


def test_file_level_problems_are_one_line_errors(tmp_path):
    out = district(tmp_path)
    grids = load_grids(out)
    no_xy = write_csv(tmp_path / "n.csv", [["路灯", "x"]], header=["部件名称", "地址"])
    with pytest.raises(GridkitError,
                       match="no coordinate columns.*`maps={'X': 'COLUMN', 'Y': 'COLUMN'}`"):
        import_census([no_xy], grids, ImportOptions(crs="wgs84"))
    no_class = write_csv(tmp_path / "c.csv", [["1", "2"]], header=["经度", "纬度"])
    with pytest.raises(GridkitError, match="no class column"):
        import_census([no_class], grids, ImportOptions(crs="wgs84"))
    ok = write_csv(tmp_path / "ok.csv", good_rows(2))
    with pytest.raises(GridkitError, match="no CRS.*`crs`"):
        import_census([ok], grids, ImportOptions())
    (tmp_path / "sub").mkdir()
    twin = write_csv(tmp_path / "sub" / "ok.csv", good_rows(2))
    with pytest.raises(GridkitError, match="already in this import"):
        import_census([ok, twin], grids, ImportOptions(crs="wgs84"))
    with pytest.raises(GridkitError, match="run `gridkit partition"):
        load_grids(tmp_path / "nothing.gpkg")
