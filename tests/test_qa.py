"""The QA rule registry, its old names, the one collector, and one name at import and check."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pytest
import shapely
from test_census_support import HEADER, district, good_rows

from gridkit.components.check import check_components
from gridkit.components.gpkg import load_grids
from gridkit.components.importer import ImportOptions, import_census
from gridkit.io import write_geopackage
from gridkit.qa import (
    QA_FIELDS,
    RULES,
    QACollector,
    QAIssue,
    UnknownRule,
    canonical,
    canonical_rules,
    registered,
    rule,
)
from gridkit.records.problems import Problems
from gridkit.records.schema import COMPONENT_RULES, EVENT_RULES
from gridkit.report import figures, i18n
from gridkit.report.data import read_report_data

README = Path(__file__).parents[1] / "README.md"


def test_every_rule_is_kebab_case_with_labels_severity_and_a_fix():
    assert len(RULES) >= 60
    for name, found in RULES.items():
        assert found.name == name
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name
        assert found.severity in found.severities and set(found.severities) <= {"error",
                                                                                 "warning"}
        assert found.fix and found.message and found.label_en and found.steps, name
        assert re.search(r"[\u4e00-\u9fff]", found.label_zh), name
        assert not set(found.aliases) & RULES.keys(), name


def test_old_names_map_to_the_current_ones():
    # The four pairs the review found: one name at import and at check now.
    assert canonical("bad-objcode") == "objcode-invalid"
    assert canonical("unknown-class") == "class-unknown"
    assert canonical("bad-date") == "date-invalid"
    assert canonical("bad-state") == "enum-invalid"
    # snake_case of the partition, group and grids check
    assert canonical("admin_gap") == "admin-gap"
    assert canonical("grid_code_numeric") == "grid-code-numeric"
    assert canonical("building_split") == "building-split"
    # grid_empty (empty geometry) must not become census check's grid-empty (no components)
    assert canonical("grid_empty") == "grid-empty-geometry"
    assert rule("grid-empty").label_en == "unit grid without components"
    # current names, and names gridkit does not know, come back unchanged
    assert canonical("objcode-invalid") == "objcode-invalid"
    assert canonical("somebody-elses") == "somebody-elses"
    assert rule("block_whole") is RULES["block-whole"]
    with pytest.raises(UnknownRule, match="'no-such-rule' is not registered"):
        rule("no-such-rule")
    old = pd.Series(["admin_gap", "admin-gap", "bad-objcode", "mine"])
    assert canonical_rules(old).tolist() == ["admin-gap", "admin-gap", "objcode-invalid", "mine"]


def test_collector_builds_qa_issue_rows_and_refuses_unknown_rules():
    collector = QACollector([QAIssue("community", "310116001001|310116001002", "admin-gap",
                                     "warning", "a gap", shapely.box(0, 0, 1, 1))])
    collector.add("grid-sliver", "310116001001007", "a sliver", shapely.box(2, 2, 3, 3))
    collector.rows("field-missing", ["A", "B"], "DEPTNAME3 is empty", severity="warning")
    collector.rows("date-order", ["C"], chdate=["2000-01-01"], ordate=["2012-03-05"])
    collector.add("empty-geometry", "7", layer="road", source="roads.shp", feature="7")
    frame = collector.frame("EPSG:4549")
    assert len(collector) == len(frame) == 6
    assert list(frame.columns) == [*QA_FIELDS, "geometry"] and frame.crs == "EPSG:4549"
    assert frame["RULE"].tolist() == ["admin-gap", "grid-sliver", "field-missing",
                                      "field-missing", "date-order", "empty-geometry"]
    assert frame["LAYER"].tolist() == ["community", "unit_grid", "component", "component",
                                       "component", "road"]
    assert frame["SEVERITY"].tolist() == ["warning", "warning", "warning", "warning", "error",
                                          "warning"]
    assert frame["MESSAGE"].iloc[4] == "CHDATE 2000-01-01 before ORDATE 2012-03-05"
    assert frame["MESSAGE"].iloc[5] == "roads.shp: feature 7 has no geometry; skipped"
    assert frame.geometry.iloc[1].equals(shapely.box(2, 2, 3, 3))
    assert frame.geometry.iloc[2] is None
    assert QACollector().frame("EPSG:4549").columns.tolist() == [*QA_FIELDS, "geometry"]

    with pytest.raises(UnknownRule, match="'typo-rule' is not registered"):
        collector.add("typo-rule", "k", "m")
    with pytest.raises(UnknownRule, match="renamed 'admin-gap'"):
        collector.add("admin_gap", "k", "m")  # code writes the current name only
    with pytest.raises(UnknownRule, match="not 'warning'"):
        collector.add("not-contiguous", "R", "m", severity="warning")
    with pytest.raises(UnknownRule, match="concerns layer unit_grid, not community"):
        collector.add("grid-gap", "k", "m", layer="community")
    with pytest.raises(UnknownRule, match="name the layer"):
        collector.add("empty-geometry", "k", "m")
    with pytest.raises(UnknownRule):
        QAIssue("unit_grid", "k", "grid_gap", "error", "an old name in code")
    with pytest.raises(ValueError, match="2 keys but 1 messages"):
        collector.rows("grid-gap", ["a", "b"], ["one"])
    assert len(collector) == 6  # nothing half-added


def test_reject_rules_are_registered_and_problems_refuse_others():
    for name in (*COMPONENT_RULES, *EVENT_RULES):
        assert registered(name)[0].name == name
    with pytest.raises(UnknownRule):
        Problems(3, ("bad-row", "made-up"))
    problems = Problems(3)
    with pytest.raises(UnknownRule, match="'grid-gap' is not one of this import's"):
        problems.add("grid-gap", np.array([0]), "m")
    problems.add("objcode-invalid", np.array([1]), "OBJCODE 1: too short")
    assert problems.counts() == {"objcode-invalid": 1}


def test_report_labels_come_from_the_registry():
    assert not hasattr(i18n, "_RULES")  # one table: the registry
    for name, found in RULES.items():
        assert i18n.rule_label(name, "zh") == found.label_zh
        assert i18n.rule_label(name, "en") == found.label_en
        for alias in found.aliases:
            assert i18n.rule_label(alias, "zh") == found.label_zh
    assert i18n.rule_label("the cell is empty", "zh") == "the cell is empty"


def test_readme_lists_every_rename():
    text = README.read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([a-z0-9_-]+)` \| `([a-z0-9-]+)` \|", text, re.M))
    expected = {alias: r.name for r in RULES.values() for alias in r.aliases}
    assert listed == expected


def _census(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def test_a_fault_has_one_name_at_import_and_at_check(tmp_path):
    grids = load_grids(district(tmp_path))
    broken = {"objcode-invalid": ("标识码", "310116011800001"),
              "enum-invalid": ("状态", "坏了"),
              "date-order": ("变更时间", "2011-01-01")}
    rows = good_rows(len(broken))
    for k, (column, value) in enumerate(broken.values()):
        rows[k][HEADER.index(column)] = value
    imported = import_census([_census(tmp_path / "bad.csv", rows)], grids,
                             ImportOptions(crs="wgs84"))
    assert sorted(imported.reject.column("RULE").to_pylist()) == sorted(broken)

    good = import_census([_census(tmp_path / "good.csv", good_rows(3))], grids,
                         ImportOptions(crs="wgs84")).component_table()

    def set_cell(table: pa.Table, name: str, row: int, value) -> pa.Table:
        values = table.column(name).to_pylist()
        values[row] = value
        return table.set_column(table.column_names.index(name), name,
                                pa.array(values, table.schema.field(name).type))

    good = set_cell(good, "OBJCODE", 0, "310116011800001")
    good = set_cell(good, "OBJSTATE", 1, "坏了")
    good = set_cell(good, "CHDATE", 2, pd.Timestamp("2011-01-01").date())
    checked = check_components(good, grids)
    assert set(broken) <= set(checked.qa["RULE"])


def test_the_report_reads_an_older_qa_issue_under_the_new_names(tmp_path):
    gpkg = district(tmp_path)
    old = pd.DataFrame({"LAYER": ["community", "community", "component"],
                        "KEY": ["310116001001|310116001002", "310116001003|310116001004",
                                "c.csv:2"],
                        "RULE": ["admin_gap", "admin-gap", "bad-objcode"],
                        "SEVERITY": ["warning", "warning", "error"],
                        "MESSAGE": ["a gap", "another gap", "OBJCODE 1: too short"],
                        "COMMAND": ["partition", "partition", "census check"]})
    frame = gpd.GeoDataFrame(old, geometry=[shapely.box(0, 0, 1, 1)] * 3, crs="EPSG:4549")
    write_geopackage(gpkg, {"qa_issue": frame,
                            "component_reject": pd.DataFrame({
                                "SRCFILE": ["c.csv"], "SRCROW": [3], "RULE": ["unknown-class"],
                                "REASON": ["unknown class: 路登"], "RAW": ["{}"]})})
    assert set(pyogrio.read_dataframe(gpkg, layer="qa_issue")["RULE"]) == {
        "admin_gap", "admin-gap", "bad-objcode"}
    data = read_report_data(gpkg)
    found = {r["rule"]: r["total"] for r in figures.qa(data)["rules"]}
    assert found == {"admin-gap": 2, "objcode-invalid": 1}
    assert figures.rejects(data)["component_reject"]["reasons"] == [
        {"reason": "class-unknown", "count": 1}]


def test_no_old_rule_name_is_left_in_the_code():
    # The collector refuses old names at run time; this finds them on paths no test runs.
    import ast

    old = {alias for r in RULES.values() for alias in r.aliases}
    package = Path(__file__).parents[1] / "gridkit"
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "qa.py" and path.parent == package:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        keys = {id(k) for node in ast.walk(tree) if isinstance(node, ast.Dict)
                for k in node.keys if k is not None}  # figures keys are not rule names
        found += [f"{path.relative_to(package)}:{node.lineno} {node.value}"
                  for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and node.value in old
                  and id(node) not in keys]
    assert found == []
