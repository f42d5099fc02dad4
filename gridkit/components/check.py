"""``census check``: coding, attribute and coverage rules over the ``component`` layer.

Rules (RULE in ``qa_issue``, severity in brackets):

Coding
- ``objcode-missing`` [error]: no OBJCODE.
- ``objcode-invalid`` [error]: not 16 digits, county not a GB/T 2260 county, class not in the
  catalog, serial 000000.
- ``duplicate-objcode`` [error]: an OBJCODE held by an earlier component too.
- ``objcode-class`` [error]: the code's class is not the component's MAJOR+MINOR.
- ``objcode-county`` [error]: the code's county is not the county of the component's BGID.
- ``class-unknown`` [error]: MAJOR+MINOR is not a class of the catalog.
- ``objname-class`` [warning]: OBJNAME names another class than MAJOR+MINOR.
- ``bgid-unknown`` [error]: BGID empty or not a unit grid of the file.
- ``bgid-location`` [error]: the component does not lie in its BGID (by the import's edge
  rule), e.g. after the grids were cut again; COMMUNITY/STREET not those of the BGID.
- ``duplicate-position`` [warning]: same class within the tolerance (default 0.5 m).

Attributes
----------
- ``field-missing``: a required field is empty: OBJSTATE, DEPTNAME1 (主管部门) and DEPTNAME2
  (权属单位: components are dispatched to their owner, 部件按属主) are errors; DEPTNAME3
  (养护单位), ORDATE and DATASOURCE warnings. A field empty in every component is one issue
  (``field-empty``), not one per component.
- ``enum-invalid``: OBJSTATE not 完好/破损/丢失/占用 [error]; DATASOURCE not 实测/地形图/调绘/其它
  [warning].
- ``date-invalid`` [error]: a date that does not parse, is before 1900 or in the future;
  ``date-order`` [error]: CHDATE before ORDATE.

Coverage (warnings)
- ``grid-empty``: a unit grid without any component.
- ``class-sparse``: a class whose density in a street is below ``sparse_ratio`` (default
  0.25) of its density in the whole district, where the district's density predicts at least
  ``min_expected`` (default 20) components in that street: a sign of omissions (漏查).
The counts per unit grid and class are written to the table ``component_coverage``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from gridkit.codes.catalog import Catalog, national_catalog
from gridkit.codes.component import component_code_problem
from gridkit.codes.matcher import Match
from gridkit.components.attributes import DATASOURCES, OBJSTATES, factorize, parse_dates
from gridkit.components.duplicates import DEFAULT_TOLERANCE, table_duplicate_issues
from gridkit.components.layers import GEOMETRY, wkb_points
from gridkit.components.locate import UnitGrids
from gridkit.errors import InputError
from gridkit.geometry import dissolve_coverage
from gridkit.qa import QACollector
from gridkit.result import StepResult

COMMAND = "census check"
REQUIRED = {"OBJSTATE": "error", "DEPTNAME1": "error", "DEPTNAME2": "error",
            "DEPTNAME3": "warning", "ORDATE": "warning", "DATASOURCE": "warning"}


@dataclass
class CheckOptions:
    """Options of the census check (``gridkit census check``).

    Parameters
    ----------
    catalog : Catalog, optional
        The component classes (default: the national GB/T 30428.2 catalog).
    tolerance : float
        Metres within which two components of the same class are ``duplicate-position``.
    class_tolerance : dict of str to float
        Per-class tolerance (four-digit class code → metres).
    sparse_ratio : float
        A class is ``class-sparse`` in a street when its density there is below this share of
        its density in the whole district.
    min_expected : float
        ... and the district's density predicts at least this many components in the street.

    Examples
    --------
    >>> CheckOptions(tolerance=1.0).sparse_ratio
    0.25
    """

    catalog: Catalog | None = None
    tolerance: float = DEFAULT_TOLERANCE
    class_tolerance: dict[str, float] = field(default_factory=dict)
    sparse_ratio: float = 0.25
    min_expected: float = 20


@dataclass
class CensusCheck:
    """What the census check found.

    Attributes
    ----------
    qa : geopandas.GeoDataFrame
        One ``qa_issue`` row per problem: LAYER, KEY (OBJCODE or BGID), RULE, SEVERITY,
        MESSAGE, geometry.
    coverage : pyarrow.Table
        Components per unit grid and class: BGID, COMMUNITY, STREET, CLASS, OBJNAME, COUNT.
    report : dict
        Counts: components, unit grids, errors and warnings by rule, coverage figures.

    Examples
    --------
    >>> import geopandas as gpd, pyarrow as pa, shapely
    >>> grids = UnitGrids(gpd.GeoDataFrame({"BGID": ["310116001001001"]},
    ...                   geometry=[shapely.box(0, 0, 100, 100)], crs=4549))
    >>> check = check_components(pa.table({"OBJCODE": pa.array([], pa.string())}), grids)
    >>> check.report["components"], check.report["coverage"]["grids_without_components"]
    (0, 1)
    """

    qa: gpd.GeoDataFrame
    coverage: pa.Table  # BGID, COMMUNITY, STREET, CLASS, OBJNAME, COUNT
    report: dict


def _column(table: pa.Table, name: str, kind: pa.DataType | None = None) -> pa.Array:
    if name not in table.column_names:
        return pa.nulls(table.num_rows, kind or pa.string())
    return table.column(name).combine_chunks()


def _text(table: pa.Table, name: str) -> pa.Array:
    """A text column trimmed, "" for null: Arrow, never a Python string per row."""
    values = _column(table, name).cast(pa.string())
    return pc.fill_null(pc.utf8_trim_whitespace(values), "")


def _np(values) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False)


def _at(values: pa.Array, rows: np.ndarray) -> list:
    return values.take(pa.array(rows, pa.int64())).to_pylist()


class _Issues(QACollector):
    """The step's collector, with rows named by their positions in the component table."""

    def __init__(self, keys: Callable[[np.ndarray], list[str]],
                 geometry: Callable[[np.ndarray], np.ndarray]) -> None:
        super().__init__(layer="component")
        self.keys = keys
        self.geometry = geometry

    def at(self, rule: str, severity: str, rows: np.ndarray, messages) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size:
            self.rows(rule, self.keys(rows), messages, self.geometry(rows), severity=severity)


def check_components(component: pa.Table, grids: UnitGrids,
                     options: CheckOptions | None = None) -> CensusCheck:
    r"""Check the component layer against coding, attribute and coverage rules (see module doc).

    Codes (GB/T 30428.2 OBJCODE, its class and county, duplicates), the BGID each component
    lies in (by the import's edge rule), required fields and their values (OBJSTATE 完好/破损/丢失/
    占用, dates), and coverage: unit grids without components and classes too sparse in a street
    (signs of omissions, 漏查). The component layer and grids are not changed.

    Parameters
    ----------
    component : pyarrow.Table
        The ``component`` layer (OBJCODE, OBJNAME, MAJOR, MINOR, BGID, attributes, geometry as
        WKB), as :meth:`CensusImport.component_table` gives it.
    grids : UnitGrids
        The unit grids.
    options : CheckOptions, optional
        Catalog, tolerances and the sparse-class thresholds.

    Returns
    -------
    CensusCheck
        QA issues, coverage table and report.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, tempfile, shapely
    >>> from gridkit.components import ImportOptions, import_census
    >>> grids = UnitGrids(gpd.GeoDataFrame({"BGID": ["310116001001001", "310116001001002"]},
    ...                   geometry=[shapely.box(624_000, 3_398_000, 624_100, 3_398_100),
    ...                             shapely.box(624_100, 3_398_000, 624_200, 3_398_100)], crs=4549))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "census.csv"
    >>> _ = path.write_text("部件名称,X,Y,部件状态\n路灯,624050,3398050,完好\n", encoding="utf-8")
    >>> census = import_census([path], grids, ImportOptions(crs="EPSG:4549")).component_table()
    >>> check = check_components(census, grids)
    >>> check.report["coverage"]["grids_without_components"], "grid-empty" in set(check.qa["RULE"])
    (1, True)
    """
    started = time.perf_counter()
    options = options or CheckOptions()
    catalog = options.catalog or national_catalog("component")
    n = component.num_rows
    codes = _text(component, "OBJCODE")
    files = _text(component, "SRCFILE")
    srcrows = pc.fill_null(_column(component, "SRCROW", pa.int64()).cast(pa.int64()), -1)

    def keys(rows: np.ndarray) -> list[str]:
        # A component is known by its OBJCODE, or by its source row while it has none.
        return [c or f"{f}:{r}" for c, f, r in zip(_at(codes, rows), _at(files, rows),
                                                   _at(srcrows, rows), strict=True)]

    if GEOMETRY in component.column_names and n:
        x, y = wkb_points(component.column(GEOMETRY).combine_chunks())
    else:
        x = y = np.full(n, np.nan)
    issues = _Issues(keys, lambda rows: shapely.points(x[rows], y[rows]))
    klass = pc.binary_join_element_wise(_text(component, "MAJOR"), _text(component, "MINOR"),
                                        "")
    bgid = _text(component, "BGID")

    _coding(issues, catalog, codes, klass, bgid, component)
    grid = _location(issues, grids, x, y, bgid, component)
    qa_dup = table_duplicate_issues(component, grids.crs, catalog, options.tolerance,
                                    options.class_tolerance, (x, y))
    _attributes(issues, component)
    coverage = _coverage(issues, grids, grid, klass, catalog, options)

    qa = issues.frame(grids.crs)
    if len(qa_dup):
        qa = gpd.GeoDataFrame(pd.concat([qa, qa_dup], ignore_index=True), crs=grids.crs)
    # Errors first, in qa_issue and in the summary: they are what must be fixed.
    qa = qa.iloc[np.argsort((qa["SEVERITY"] != "error").to_numpy(), kind="stable")] \
        .reset_index(drop=True)
    counted = qa.groupby(["RULE", "SEVERITY"]).size()
    both = counted.index.get_level_values("RULE").duplicated(keep=False)
    # A rule with both severities (field-empty: error for OBJSTATE, warning for others) has
    # an entry for each, "rule/severity"; each other rule one, under its name.
    by_rule = {f"{rule}/{severity}" if two else rule: {"severity": severity, "count": int(n)}
               for ((rule, severity), n), two in zip(counted.items(), both, strict=True)}
    by_rule = dict(sorted(by_rule.items(), key=lambda item: (item[1]["severity"] != "error",
                                                             item[0])))
    per_grid = np.bincount(grid[grid >= 0], minlength=len(grids)) if len(grids) else \
        np.zeros(0, int)
    report = {
        "components": n,
        "unit_grids": len(grids),
        "errors": int((qa["SEVERITY"] == "error").sum()),
        "warnings": int((qa["SEVERITY"] == "warning").sum()),
        "by_rule": by_rule,
        "coverage": {
            "grids_without_components": int((per_grid == 0).sum()),
            "components_per_grid": {
                "min": int(per_grid.min()) if per_grid.size else 0,
                "median": float(np.median(per_grid)) if per_grid.size else 0.0,
                "max": int(per_grid.max()) if per_grid.size else 0,
            },
            "classes": int(pc.count_distinct(coverage.column("CLASS")).as_py())
            if coverage.num_rows else 0,
            "sparse_classes": int((qa["RULE"] == "class-sparse").sum()),
        },
        "seconds": round(time.perf_counter() - started, 2),
    }
    return CensusCheck(qa, coverage, report)


def _per_value(values: pa.Array, answer: Callable[[str], object]) -> tuple[list, np.ndarray]:
    uniques, index = factorize(values)
    return [answer(u) for u in uniques], np.where(index < 0, len(uniques), index)


def _coding(issues: _Issues, catalog: Catalog, codes, klass, bgid, component) -> None:
    present = _np(pc.not_equal(codes, ""))
    issues.at("objcode-missing", "error", np.flatnonzero(~present),
                "no OBJCODE; re-import the component to have one allocated")
    shaped = _np(pc.and_(pc.equal(pc.binary_length(codes), 16), pc.utf8_is_digit(codes)))
    malformed = np.flatnonzero(present & ~shaped)
    issues.at("objcode-invalid", "error", malformed,
                [f"OBJCODE {c!r}: {component_code_problem(c)}" for c in _at(codes, malformed)])
    # County and class of every well-shaped code, judged once per distinct prefix.
    problems, index = _per_value(pc.utf8_slice_codeunits(codes, 0, 10),
                                 lambda h: component_code_problem(h + "000001", catalog)
                                 if len(h) == 10 else "")
    head_bad = np.array([p is not None for p in problems] + [True])[index]
    zero = _np(pc.equal(pc.utf8_slice_codeunits(codes, 10, 16), "000000"))
    bad = np.flatnonzero(shaped & (head_bad | zero))
    issues.at("objcode-invalid", "error", bad, [
        f"OBJCODE {c}: " + (problems[i].replace(c[:10] + "000001", c) if problems[i]
                            else "serial 000000 is not allowed")
        for c, i in zip(_at(codes, bad), index[bad], strict=True)])
    good = shaped & ~head_bad & ~zero
    code_class = pc.utf8_slice_codeunits(codes, 6, 10)
    clash = np.flatnonzero(good & _np(pc.not_equal(code_class, klass)))
    issues.at("objcode-class", "error", clash, [
        f"OBJCODE {c} is coded for class {c[6:10]} but MAJOR+MINOR is {k or 'empty'}"
        for c, k in zip(_at(codes, clash), _at(klass, clash), strict=True)])
    county = np.flatnonzero(good & _np(pc.not_equal(pc.utf8_slice_codeunits(codes, 0, 6),
                                                    pc.utf8_slice_codeunits(bgid, 0, 6))))
    issues.at("objcode-county", "error", county, [
        f"OBJCODE {c} is coded for county {c[:6]} but BGID {b or '(empty)'} is in "
        f"{b[:6] or 'no county'}" for c, b in zip(_at(codes, county), _at(bgid, county),
                                                   strict=True)])
    known, index = _per_value(klass, lambda k: len(k) == 4 and k in catalog)
    unknown = np.flatnonzero(~np.array(known + [False])[index])
    issues.at("class-unknown", "error", unknown,
                [f"MAJOR+MINOR {k or '(empty)'} is not a class of {catalog.describe()}"
                 for k in _at(klass, unknown)])
    names = _text(component, "OBJNAME")

    def other_class(pair: str) -> bool:
        name, cls = pair.split("\x00")
        match = catalog.matcher.match(name) if name else None
        return isinstance(match, Match) and cls in catalog and match.code != cls

    verdict, index = _per_value(pc.binary_join_element_wise(names, klass, "\x00"),
                                other_class)
    wrong = np.flatnonzero(np.array(verdict + [False])[index])
    issues.at("objname-class", "warning", wrong, [
        f"OBJNAME {name!r} names another class than {k} {catalog.name_of(k)}"
        for name, k in zip(_at(names, wrong), _at(klass, wrong), strict=True)])


def _location(issues: _Issues, grids: UnitGrids, x, y, bgid, component) -> np.ndarray:
    """Report BGIDs that are unknown or not where the component lies.

    Returns the grid index each component lies in (-1 outside all).
    """
    located = grids.index.locate(x, y)
    claimed = _np(pc.fill_null(pc.index_in(bgid, value_set=grids.bgid_arrow), -1)).astype(
        np.int64)
    unknown = np.flatnonzero(claimed < 0)
    issues.at("bgid-unknown", "error", unknown,
                [f"BGID {b!r} is not a unit grid of this file" if b else "no BGID"
                 for b in _at(bgid, unknown)])
    moved = np.flatnonzero((claimed >= 0) & (located != claimed))
    issues.at("bgid-location", "error", moved, [
        f"the component lies in {grids.bgid[g]}, not in its BGID {b}" if g >= 0
        else f"the component lies outside every unit grid (BGID {b})"
        for b, g in zip(_at(bgid, moved), located[moved], strict=True)])
    ok = claimed >= 0
    for name, truth in (("COMMUNITY", grids.community_arrow), ("STREET", grids.street_arrow)):
        if name not in component.column_names:
            continue
        values = _text(component, name)
        expected = truth.take(pa.array(np.where(ok, claimed, 0)))
        wrong = np.flatnonzero(ok & _np(pc.not_equal(values, expected)))
        issues.at("bgid-location", "error", wrong, [
            f"{name} {v or '(empty)'} is not the {name.lower()} of BGID {b} ({t})"
            for v, b, t in zip(_at(values, wrong), _at(bgid, wrong), _at(expected, wrong),
                               strict=True)])
    return np.where(ok, claimed, located)


def _map_fix(component: pa.Table, name: str) -> str:
    """The fix for a field no census column fed.

    ``--map`` with a column the files really have (the unmapped ones kept in EXTRA), or saying there
    is none.
    """
    columns: dict[str, None] = {}
    if "EXTRA" in component.column_names:
        for text in pc.drop_null(component.column("EXTRA")).slice(0, 1000).to_pylist():
            try:
                columns.update(dict.fromkeys(json.loads(text)))
            except (TypeError, ValueError, AttributeError):
                continue
    if not columns:
        return (f"the census files have no column left to take it from: add a {name} column "
                "(or one named as in README) and import again")
    listed = ", ".join(list(columns)[:8])
    return (f"if one of the census's other columns ({listed}) holds it, import again with "
            f"--map {name}={next(iter(columns))} (or that column's name)")


def _attributes(issues: _Issues, component: pa.Table) -> None:
    n = component.num_rows
    for name, severity in REQUIRED.items():
        values = _column(component, name)
        if pa.types.is_string(values.type) or pa.types.is_null(values.type):
            empty = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(values.cast(pa.string())),
                                          ""), True)
        else:
            empty = pc.is_null(values)
        empty = _np(empty)
        if n and empty.all():
            issues.add("field-empty", name,
                       f"{name} is empty in all {n:,} components; {_map_fix(component, name)}",
                       severity=severity)
            continue
        issues.at("field-missing", severity, np.flatnonzero(empty), f"{name} is empty")
    for name, allowed, severity in (("OBJSTATE", OBJSTATES, "error"),
                                    ("DATASOURCE", DATASOURCES, "warning")):
        values = _text(component, name)
        wrong = np.flatnonzero(_np(pc.and_(pc.not_equal(values, ""), pc.invert(
            pc.is_in(values, value_set=pa.array(list(allowed)))))))
        issues.at("enum-invalid", severity, wrong,
                    [f"{name} {v!r} is not one of {'/'.join(allowed)}"
                     for v in _at(values, wrong)])
    dates = {}
    for name in ("ORDATE", "CHDATE"):
        values = _column(component, name, pa.date32())
        if pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
            values = pc.strftime(values, "%Y-%m-%d")
        values = pc.fill_null(values.cast(pa.string()), "")
        parsed, problem_index, messages = parse_dates(values)
        bad = np.flatnonzero(problem_index >= 0)
        issues.at("date-invalid", "error", bad,
                    [f"{name}: {messages[i]}" for i in problem_index[bad]])
        dates[name] = parsed
    early = np.flatnonzero(_np(pc.fill_null(pc.less(dates["CHDATE"], dates["ORDATE"]),
                                            False))) if n else np.zeros(0, np.int64)
    issues.at("date-order", "error", early,
                [f"CHDATE {c} is before ORDATE {o}" for c, o in
                 zip(_at(dates["CHDATE"], early), _at(dates["ORDATE"], early), strict=True)])


def _coverage(issues: _Issues, grids: UnitGrids, grid: np.ndarray, klass: pa.Array,
              catalog: Catalog, options: CheckOptions) -> pa.Table:
    classes, class_index = factorize(klass)
    inside = grid >= 0
    counts = pd.DataFrame({"grid": grid[inside], "cls": class_index[inside]}) \
        .groupby(["grid", "cls"], sort=True).size()
    g = counts.index.get_level_values("grid").to_numpy()
    c = counts.index.get_level_values("cls").to_numpy()
    names = pa.array([catalog.name_of(k) for k in classes], pa.string())
    coverage = pa.table({
        "BGID": grids.bgid_arrow.take(pa.array(g)),
        "COMMUNITY": grids.community_arrow.take(pa.array(g)),
        "STREET": grids.street_arrow.take(pa.array(g)),
        "CLASS": pa.array(classes, pa.string()).take(pa.array(c)),
        "OBJNAME": names.take(pa.array(c)),
        "COUNT": pa.array(counts.to_numpy(), pa.int64()),
    })
    per_grid = np.bincount(grid[inside], minlength=len(grids))
    for k in np.flatnonzero(per_grid == 0):
        issues.add("grid-empty", grids.bgid[k], geometry=grids.geoms[k], bgid=grids.bgid[k])
    streets = pd.Series(grids.street)
    area_of_street = pd.Series(grids.area).groupby(streets).sum()
    total_area = float(grids.area.sum())
    if total_area <= 0 or coverage.num_rows == 0:
        return coverage
    frame = pd.DataFrame({"STREET": grids.street[g], "CLASS": np.asarray(classes,
                                                                         dtype=object)[c],
                          "COUNT": counts.to_numpy()})
    per_class = frame.groupby("CLASS")["COUNT"].sum()
    observed = frame.groupby(["STREET", "CLASS"])["COUNT"].sum()
    for cls, total in per_class.items():
        density = total / total_area
        for street, area in area_of_street.items():
            expected = density * area
            seen = int(observed.get((street, cls), 0))
            if expected >= options.min_expected and seen < options.sparse_ratio * expected:
                union = dissolve_coverage(grids.geoms[grids.street == street])
                issues.add(
                    "class-sparse", f"{street}/{cls}",
                    f"{cls} {catalog.name_of(cls) or ''}: {seen:,} in street {street}, "
                    f"{seen / area * 1e6:.1f} per km² against {density * 1e6:.1f} in the "
                    f"district ({expected:,.0f} expected): omissions (漏查)?",
                    union)
    return coverage


def check_to_geopackage(output: Path, options: CheckOptions,
                        progress: Callable[[str], None] | None = None, *,
                        parameters: dict | None = None) -> StepResult:
    """Check OUT.gpkg's component layer and write qa_issue, component_coverage and gridkit_run.

    Returns the figures and the issues. ``parameters``: what the ``gridkit_run`` row records
    (default: :func:`gridkit.components.api.run_parameters` of ``options``).
    """
    from gridkit.components.gpkg import load_grids
    from gridkit.components.layers import read_layer
    from gridkit.io import ArrowLayer, merge_qa, run_record, write_geopackage

    output = Path(output)
    grids = load_grids(output)
    component = read_layer(output, "component")
    if component is None:
        raise InputError(f"{output} has no component layer; run `gridkit census import FILE "
                         f"-o {output}` first")
    if progress is not None:
        progress("checking")
    result = check_components(component, grids, options)
    if progress is not None:
        progress("writing")
    if parameters is None:
        from gridkit.components.api import CensusCheckOptions, run_parameters

        parameters = run_parameters(CensusCheckOptions(sparse_ratio=options.sparse_ratio,
                                                       min_expected=options.min_expected),
                                    options)
    write_geopackage(
        output,
        {"qa_issue": merge_qa(output, COMMAND, result.qa),
         "component_coverage": ArrowLayer(result.coverage)},
        run_record(COMMAND, parameters, []),
    )
    return StepResult({"output": str(output), **result.report}, result.qa)
