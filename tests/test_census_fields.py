"""Column aliases, attribute values, JSON rows and duplicate search: the small pieces."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridkit.components.attributes import canonical_source, canonical_state, parse_date, parse_dates
from gridkit.components.duplicates import code_repeats, parse_tolerances, position_pairs
from gridkit.components.jsonrows import json_objects
from gridkit.errors import GridkitError
from gridkit.records.schema import COMPONENT_ALIASES
from gridkit.sources.columns import column_key, map_columns, parse_maps
from gridkit.sources.tables import detect_encoding, unique_names


def test_chinese_and_english_aliases_and_extra_columns():
    columns = ["标识码", "部件名称", "经度", "纬度", "主管部门", "权属单位", "养护单位", "状态",
               "初始时间", "数据来源", "备注", "照片", "调查员", "名称"]
    mapped = map_columns(columns, aliases=COMPONENT_ALIASES)
    assert mapped.fields["OBJNAME"] == "部件名称"  # the specific alias beats 名称
    assert mapped.fields["X"] == "经度" and mapped.fields["Y"] == "纬度"
    assert mapped.fields["DEPTNAME2"] == "权属单位" and mapped.fields["PICTURE"] == "照片"
    assert mapped.extra == ["调查员", "名称"]
    english = map_columns(["OBJ_CODE", "ObjName", "Lng", "LAT", "Dept Name1", "objstate"],
                          aliases=COMPONENT_ALIASES)
    assert english.fields == {"OBJCODE": "OBJ_CODE", "OBJNAME": "ObjName", "X": "Lng",
                              "Y": "LAT", "DEPTNAME1": "Dept Name1", "OBJSTATE": "objstate"}
    assert column_key("主管部门（名称）") == column_key("主管部门名称")


def test_explicit_maps_win_and_bad_maps_are_refused():
    mapped = map_columns(["设施类型", "经度", "纬度", "部件名称"],
                         parse_maps(["objname=设施类型"], COMPONENT_ALIASES),
                         aliases=COMPONENT_ALIASES)
    assert mapped.fields["OBJNAME"] == "设施类型" and "部件名称" in mapped.extra
    with pytest.raises(GridkitError, match="FIELD=COLUMN"):
        parse_maps(["OBJNAME"], COMPONENT_ALIASES)
    with pytest.raises(GridkitError, match="not a field"):
        parse_maps(["COLOUR=颜色"], COMPONENT_ALIASES)
    with pytest.raises(GridkitError, match="no column '类型2'"):
        map_columns(["a"], {"OBJNAME": "类型2"}, source="x.csv", aliases=COMPONENT_ALIASES)


def test_states_sources_and_dates():
    assert canonical_state(" 良好 ") == "完好" and canonical_state("Damaged") == "破损"
    assert canonical_state("坏了") is None
    assert canonical_source("其他") == "其它" and canonical_source("RTK") is None
    today = dt.date(2024, 6, 1)
    for text in ("2012-03-05", "2012/3/5", "2012.03.05", "20120305", "2012年3月5日",
                 "2012-03-05 10:20:30", "2012-03-05T10:20:30"):
        assert parse_date(text, today) == dt.date(2012, 3, 5), text
    assert "calendar" in parse_date("2012-02-30", today)
    assert "future" in parse_date("2030-01-01", today)
    assert "1900" in parse_date("1899-12-30", today)
    assert "no day" in parse_date("2012-03", today)
    dates, problem, messages = parse_dates(pa.array(["2012-03-05", "", "x", "2012-03-05"]))
    assert dates.to_pylist() == [dt.date(2012, 3, 5), None, None, dt.date(2012, 3, 5)]
    assert problem.tolist()[:2] == [-1, -1] and problem[2] >= 0
    assert "not a date" in messages[problem[2]]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.text(max_size=8), min_size=2, max_size=2), min_size=1, max_size=20))
def test_json_rows_round_trip_any_text(rows):
    table = pa.table({"a": [r[0] for r in rows], "备注\"x": [r[1] for r in rows]})
    objects = json_objects(table, ["a", "备注\"x"]).to_pylist()
    assert [json.loads(o) for o in objects] == [{"a": r[0], "备注\"x": r[1]} for r in rows]
    sparse = json_objects(table, ["a", "备注\"x"], omit_empty=True).to_pylist()
    for row, obj in zip(rows, sparse, strict=True):
        expected = {k: v for k, v in zip(["a", "备注\"x"], row, strict=True) if v}
        assert (json.loads(obj) if obj is not None else {}) == expected


def brute_pairs(x, y, group, tol):
    found = set()
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            if group[i] == group[j] and group[i] >= 0 and \
                    np.hypot(x[i] - x[j], y[i] - y[j]) <= tol[i]:
                found.add((i, j))
    return found


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 150), st.floats(0.1, 5.0))
def test_position_pairs_match_brute_force(seed, n, tolerance):
    rng = np.random.default_rng(seed)
    x = rng.uniform(620_000, 620_020, n).round(1)  # crowded, with exact repeats
    y = rng.uniform(3_398_000, 3_398_020, n).round(1)
    group = rng.integers(-1, 3, n)
    tol = np.where(group == 1, tolerance * 2, tolerance)
    i, j, d = position_pairs(x, y, group, tol)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == brute_pairs(x, y, group, tol)
    assert (d <= tol[i]).all()


def test_code_repeats_and_tolerance_options():
    rows, holders = code_repeats(np.array(["a", "", "b", "a", None, "a"], dtype=object))
    assert rows.tolist() == [3, 5] and holders.tolist() == [0, 0]
    assert parse_tolerances(["1.5", "0118=2"]) == (1.5, {"0118": 2.0})
    with pytest.raises(GridkitError, match="CLASS=metres"):
        parse_tolerances(["路灯=2"])


def test_encoding_detection_and_header_names():
    assert detect_encoding("编码".encode("gbk") * 10) == "gb18030"
    assert detect_encoding(b"\xef\xbb\xbfa,b") == "utf-8-sig"
    assert detect_encoding("编码".encode()) == "utf-8"
    assert detect_encoding(("a" * 20).encode() + "编".encode()[:2]) == "utf-8"  # cut character
    assert unique_names(["备注", "备注", "", "x"]) == ["备注", "备注_2", "column_3", "x"]
