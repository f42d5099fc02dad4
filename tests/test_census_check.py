"""`census check` rules on a component layer broken on purpose, one rule at a time."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from test_census_support import HEADER, district, good_rows

from gridkit.components.check import CheckOptions, check_components
from gridkit.components.gpkg import load_grids
from gridkit.components.importer import ImportOptions, import_census


def imported(tmp_path, n=60):
    out = district(tmp_path)
    path = tmp_path / "c.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(good_rows(n))
    grids = load_grids(out)
    result = import_census([path], grids, ImportOptions(crs="wgs84"))
    table = result.component_table()
    order = pc.sort_indices(table, sort_keys=[("SRCROW", "ascending")])
    return table.take(order), grids


def replace(table: pa.Table, name: str, row: int, value) -> pa.Table:
    values = table.column(name).to_pylist()
    values[row] = value
    index = table.column_names.index(name)
    return table.set_column(index, name, pa.array(values, table.schema.field(name).type))


def rules_of(result, severity=None) -> dict[str, set[str]]:
    qa = result.qa if severity is None else result.qa[result.qa["SEVERITY"] == severity]
    found: dict[str, set[str]] = {}
    for rule, key in zip(qa["RULE"], qa["KEY"], strict=True):
        found.setdefault(rule, set()).add(key)
    return found


def test_a_fresh_import_is_clean(tmp_path):
    table, grids = imported(tmp_path)
    result = check_components(table, grids)
    assert result.report["errors"] == 0, result.qa[["RULE", "MESSAGE"]].to_string()
    assert set(rules_of(result)) <= {"grid-empty", "field-missing"}
    assert result.coverage.num_rows == 60
    assert pc.sum(result.coverage.column("COUNT")).as_py() == 60
    empty = result.report["coverage"]["grids_without_components"]
    assert empty == len(grids) - 60 == len(rules_of(result)["grid-empty"])


def test_each_broken_value_is_found_by_its_rule(tmp_path):
    table, grids = imported(tmp_path)
    codes = table.column("OBJCODE").to_pylist()
    edits = [
        ("OBJCODE", 0, None, "objcode-missing"),
        ("OBJCODE", 1, "31011601180000", "objcode-invalid"),
        ("OBJCODE", 2, codes[2][:6] + "9901" + codes[2][10:], "objcode-invalid"),
        ("OBJCODE", 3, codes[4], "duplicate-objcode"),
        ("OBJCODE", 5, "3205820" + codes[5][7:], "objcode-county"),
        ("MINOR", 6, "99", "class-unknown"),
        ("OBJNAME", 7, "行道树", "objname-class"),
        ("BGID", 8, "310116001001999", "bgid-unknown"),
        ("BGID", 9, table.column("BGID")[10].as_py(), "bgid-location"),
        ("COMMUNITY", 11, "310116001009", "bgid-location"),
        ("DEPTNAME2", 12, None, "field-missing"),
        ("OBJSTATE", 13, "坏了", "enum-invalid"),
        ("DATASOURCE", 14, "RTK", "enum-invalid"),
        ("CHDATE", 15, dt.date(2000, 1, 1), "date-order"),
        ("ORDATE", 16, dt.date(2999, 1, 1), "date-invalid"),
    ]
    for name, row, value, _ in edits:
        table = replace(table, name, row, value)
    # A class in another row's code: the code's class and MAJOR+MINOR disagree.
    table = replace(table, "OBJCODE", 17, codes[17][:6] + "0102" + codes[17][10:])
    edits.append(("OBJCODE", 17, None, "objcode-class"))
    result = check_components(table, grids)
    found = rules_of(result)
    keys = table.column("OBJCODE").to_pylist()
    for name, row, _, rule in edits:
        key = keys[row] or f"c.csv:{table.column('SRCROW')[row].as_py()}"
        assert key in found.get(rule, set()), (name, row, rule, found.get(rule))
    errors = rules_of(result, "error")
    assert "enum-invalid" in errors and "objname-class" not in errors
    assert result.report["errors"] > 0


def test_empty_field_everywhere_is_one_issue_and_sparse_classes_are_flagged(tmp_path):
    table, grids = imported(tmp_path, n=120)
    table = table.set_column(table.column_names.index("DEPTNAME3"), "DEPTNAME3",
                             pa.nulls(table.num_rows, pa.string()))
    result = check_components(table, grids)
    assert rules_of(result)["field-empty"] == {"DEPTNAME3"}
    assert "field-missing" not in rules_of(result)
    # Street 310116101 (the village) holds a share of the grids but, here, no 路灯 at all.
    streets = np.asarray(table.column("STREET").to_pylist())
    lamps = np.asarray(table.column("OBJNAME").to_pylist()) == "路灯"
    assert (lamps & (streets == "310116101")).any()
    keep = ~(lamps & (streets == "310116101"))
    sparse = check_components(table.filter(pa.array(keep)), grids,
                              CheckOptions(min_expected=3, sparse_ratio=0.5))
    assert "310116101/0118" in rules_of(sparse)["class-sparse"]
