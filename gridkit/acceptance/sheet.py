"""Verdict sheets: the filled-in checklist (CSV in UTF-8 or GBK, or XLSX) read and checked.

Every problem of every row is collected before anything is computed, and reported in one
line naming the file, the rows, the fields and the fix: a field team corrects the sheet once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import shapely

from gridkit.acceptance.census import Census
from gridkit.acceptance.checklist import SHEET
from gridkit.acceptance.frame import grids_of_codes
from gridkit.acceptance.plan import Plan
from gridkit.acceptance.sources import (
    ALIASES,
    clean_codes,
    find_column,
    numbers,
    read_table,
    text,
    to_crs,
)
from gridkit.acceptance.tally import Verdicts
from gridkit.acceptance.verdicts import CODE, MISSING, allowed, parse_verdict
from gridkit.codes.catalog import Catalog
from gridkit.codes.matcher import Match
from gridkit.errors import GridkitError, InputError
from gridkit.sources.cells import code_number_problem

VERDICT_ALIASES = ("verdict", "核查结果", "抽查结果", "检查结果", "核查结论", "结果", "判定",
                   "结论")
BGID_ALIASES = ("bgid", "单元网格", "单元网格编码", "单元网格代码", "单元网格标识码",
                "网格编码", "网格代码", "所在单元网格", "网格")
SHOWN = 12  # problems quoted in the one-line error; the rest are counted


@dataclass
class Problem:
    row: int
    message: str


def fail(path: Path, problems: list[Problem], fix: str) -> InputError:
    """One line for all problems: rows sharing a message are listed together as ranges."""
    grouped: dict[str, list[int]] = {}
    for problem in sorted(problems, key=lambda p: p.row):
        grouped.setdefault(problem.message, []).append(problem.row)
    parts = [f"{_rows(rows)}: {message}" for message, rows in list(grouped.items())[:SHOWN]]
    more = (f"; and {len(grouped) - SHOWN} more kinds of problem"
            if len(grouped) > SHOWN else "")
    count = len(problems)
    return InputError(f"{path}: {count} problem{'s' if count > 1 else ''} - "
                      f"{'; '.join(parts)}{more}; {fix}", file=path)


def _rows(rows: list[int], shown: int = 8) -> str:
    """'row 5' or 'rows 2-40, 43, 50-51'."""
    spans: list[list[int]] = []
    for row in rows:
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans[:shown])
    if len(spans) > shown:
        text += f" and {sum(b - a + 1 for a, b in spans[shown:])} more"
    return f"row {text}" if len(rows) == 1 else f"rows {text}"


@dataclass
class SheetOptions:
    sheet: str | None = None
    crs: str | None = None  # CRS of the coordinates of missing rows


def read_verdict_sheet(path: Path, plan: Plan, census: Census, catalog: Catalog,
                       options: SheetOptions) -> tuple[Verdicts, dict]:
    """The verdicts of a sheet, checked against the census and the plan; (verdicts, facts)."""
    source = read_table(path, sheet=options.sheet, preferred_sheet=SHEET)
    table, rows = source.table, source.rows
    columns = source.columns
    where = {
        "VERDICT": find_column(columns, VERDICT_ALIASES),
        "OBJCODE": find_column(columns, ALIASES["OBJCODE"]),
        "BGID": find_column(columns, BGID_ALIASES),
        "OBJNAME": find_column(columns, ALIASES["OBJNAME"]),
        "X": find_column(columns, ("lon", "lng", "经度") + ALIASES["X"]),
        "Y": find_column(columns, ("lat", "纬度") + ALIASES["Y"]),
        "NOTE": find_column(columns, ALIASES["NOTE"]),
    }
    for needed in ("VERDICT", "OBJCODE"):
        if where[needed] is None:
            raise GridkitError(
                f"{path}: no {needed} column among {', '.join(columns) or 'none'}; a verdict "
                "sheet has BGID, OBJCODE and VERDICT columns (the checklist gridkit census "
                "sample wrote, filled in)")
    problems = [Problem(int(b.row or 0), f"{b.message}; re-type the row")
                for b in source.bad_rows]
    verdict_text = text(table, where["VERDICT"])
    verdict = np.array([parse_verdict(v) for v in verdict_text], dtype=object)
    for r, raw, v in zip(rows, verdict_text, verdict, strict=True):
        if v is None:
            problems.append(Problem(int(r), f"{where['VERDICT']} {raw!r} is not a verdict "
                                            f"(use {allowed()})" if raw else
                                            f"{where['VERDICT']} is empty (use {allowed()})"))
    objcode = clean_codes(text(table, where["OBJCODE"]))
    # The import's rule: a code Excel kept as a number has lost its 16th digit.
    for r, code, was in zip(rows, objcode, source.was_number(where["OBJCODE"]), strict=True):
        lost = code_number_problem(code, bool(was), 16, "OBJCODE")
        if lost:
            problems.append(Problem(int(r), f"{where['OBJCODE']} {lost}"))
    bgid = clean_codes(text(table, where["BGID"]))
    objname = text(table, where["OBJNAME"])
    note = text(table, where["NOTE"])
    missing = verdict == MISSING
    x, y, located = _positions(path, table, where, missing, rows, options, census.crs,
                               problems)
    plan_index = {b: i for i, b in enumerate(plan.bgids)}
    census_index = _census_index(census, plan)
    grid = np.full(len(rows), -1, dtype=np.int64)
    klass = np.full(len(rows), "", dtype=object)
    known = np.array([v is not None for v in verdict], dtype=bool)
    _checked_rows(rows, objcode, bgid, known & ~missing, census, census_index, plan,
                  plan_index, where, grid, klass, problems)
    _missing_rows(rows, objname, bgid, missing, x, y, located, plan, plan_index, catalog,
                  where, grid, klass, problems)
    if problems:
        raise fail(path, problems, "correct these rows and run again")
    _require_coverage(path, objcode[~missing], census, plan)
    facts = {"file": str(path), "rows": int(len(rows)),
             "columns": {k: v for k, v in where.items() if v}}
    # Checked rows take name and position from the census, missing ones from the sheet.
    k = np.array([0 if m else census_index[c] for c, m in zip(objcode, missing, strict=True)],
                 dtype=np.int64)
    return Verdicts(
        grid=grid, klass=klass, verdict=np.array([CODE[v] for v in verdict], dtype=np.int64),
        objcode=np.where(missing, "", objcode),
        objname=np.where(missing, objname, census.objname[k] if len(census) else objname),
        x=np.where(missing, x, census.x[k] if len(census) else x),
        y=np.where(missing, y, census.y[k] if len(census) else y),
        srcrow=np.asarray(rows, dtype=np.int64), note=note,
        distance=np.full(len(rows), np.nan),
    ), facts


def _census_index(census: Census, plan: Plan) -> dict[str, int]:
    """OBJCODE -> census component; a code shared by two components cannot take a verdict."""
    index: dict[str, int] = {}
    for k, code in enumerate(census.objcode):
        if not code or code in index:
            other = plan.bgids[census.grid[index[code]]] if code in index else ""
            raise GridkitError(
                f"{census.source}: the census component {'without OBJCODE' if not code else code}"
                f" in grid {plan.bgids[census.grid[k]]}"
                + (f" shares its code with one in {other}" if code else "")
                + "; a verdict sheet names components by OBJCODE: run gridkit census check and "
                  "fix the codes, or judge the census with `resurvey`", parameter="check")
        index[code] = k
    return index


def _positions(path, table, where, missing, rows, options: SheetOptions, crs: pyproj.CRS,
               problems: list[Problem]):
    n = len(rows)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    located = np.zeros(n, dtype=bool)
    if where["X"] is None or where["Y"] is None or not missing.any():
        return x, y, located
    xs, x_present = numbers(table, where["X"])
    ys, y_present = numbers(table, where["Y"])
    use = missing & x_present & y_present
    for r in np.flatnonzero(missing & (x_present ^ y_present)):
        problems.append(Problem(int(rows[r]), f"only one of {where['X']}/{where['Y']} is "
                                              "filled; give both or neither"))
    for r in np.flatnonzero(use & ~(np.isfinite(xs) & np.isfinite(ys))):
        problems.append(Problem(int(rows[r]), f"{where['X']}/{where['Y']} are not numbers"))
    use &= np.isfinite(xs) & np.isfinite(ys)
    if use.any():
        tx, ty, ok, label = to_crs(xs[use], ys[use], options.crs, crs)
        positions = np.flatnonzero(use)
        x[positions], y[positions] = tx, ty
        located[positions] = ok
        for r in positions[~ok]:
            problems.append(Problem(int(rows[r]), f"({xs[r]:g}, {ys[r]:g}) cannot be read as "
                                                  f"{label}; give `crs`"))
    return x, y, located


def _checked_rows(rows, objcode, bgid, checked, census: Census, census_index, plan: Plan,
                  plan_index, where, grid, klass, problems: list[Problem]) -> None:
    seen: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    for i in np.flatnonzero(checked):
        r, code = int(rows[i]), objcode[i]
        if not code:
            problems.append(Problem(r, f"{where['OBJCODE']} is empty; a checked component is "
                                       "named by its OBJCODE (a component missing from the "
                                       "census has VERDICT missing)"))
            continue
        if code in seen:
            problems.append(Problem(r, f"{where['OBJCODE']} {code} already has a verdict in "
                                       f"row {seen[code]}; keep one row per component"))
            continue
        seen[code] = r
        k = census_index.get(code)
        if k is None:
            unknown.append((r, code))
            continue
        census_grid = plan.bgids[census.grid[k]]
        if bgid[i] and bgid[i] != census_grid:
            where_text = ("not a sampled grid of the plan" if bgid[i] not in plan_index
                          else "another sampled grid")
            problems.append(Problem(r, f"{where['BGID']} {bgid[i]} is {where_text}, but the "
                                       f"census puts {code} in {census_grid}; correct BGID"))
            continue
        grid[i] = census.grid[k]
        klass[i] = census.klass[k]
    elsewhere = grids_of_codes(census.source, [c for _, c in unknown]) if unknown else {}
    for r, code in unknown:
        if code in elsewhere:
            problems.append(Problem(r, f"{where['OBJCODE']} {code} lies in grid "
                                       f"{elsewhere[code]}, not a sampled grid of plan "
                                       f"{plan.plan_id} (seed {plan.seed}); a sheet from "
                                       "another plan? give its folder with `plan`"))
        else:
            problems.append(Problem(r, f"{where['OBJCODE']} {code} is not in the census "
                                       "(layer component); check the code, or use VERDICT "
                                       "missing for a component the census lacks"))


def _missing_rows(rows, objname, bgid, missing, x, y, located, plan: Plan, plan_index,
                  catalog: Catalog, where, grid, klass, problems: list[Problem]) -> None:
    tree = shapely.STRtree(np.asarray(plan.grids.geometry.array, dtype=object))
    for i in np.flatnonzero(missing):
        r = int(rows[i])
        name = objname[i]
        answer = catalog.matcher.match(name) if name else None
        if not isinstance(answer, Match):
            why = (f"{where['OBJNAME'] or 'OBJNAME'} is empty" if not name else
                   f"{where['OBJNAME']} {name!r}: {answer.message()}")
            problems.append(Problem(r, f"{why}; a missing component needs its class name"))
        else:
            klass[i] = answer.code
        if bgid[i]:
            if bgid[i] not in plan_index:
                problems.append(Problem(r, f"{where['BGID']} {bgid[i]} is not a sampled grid "
                                           f"of the plan (seed {plan.seed}); only the plan's "
                                           "grids were checked"))
            else:
                grid[i] = plan_index[bgid[i]]
            continue
        if not located[i]:
            problems.append(Problem(r, "a missing component needs BGID or coordinates "
                                       "(LON/LAT)"))
            continue
        hits = tree.query(shapely.Point(x[i], y[i]), predicate="intersects")
        if len(hits) == 0:
            problems.append(Problem(r, f"position ({x[i]:.1f}, {y[i]:.1f}) lies in no sampled "
                                       "grid of the plan; give BGID, or check the coordinates"
                                       " and `crs`"))
        else:
            grid[i] = int(np.min(hits))


def _require_coverage(path: Path, objcodes: np.ndarray, census: Census, plan: Plan) -> None:
    """Every census component of a sampled grid needs a verdict: a grid checked in part
    would bias the figures towards whatever was checked first."""
    given = set(objcodes.tolist())
    lacking = [k for k, code in enumerate(census.objcode) if code not in given]
    if not lacking:
        return
    grids = sorted({plan.bgids[census.grid[k]] for k in lacking})
    examples = ", ".join(f"{census.objcode[k]} (grid {plan.bgids[census.grid[k]]})"
                         for k in lacking[:5])
    raise GridkitError(
        f"{path}: {len(lacking)} census components of {len(grids)} sampled grids have no "
        f"verdict row, e.g. {examples}; every component of the checklist needs a VERDICT (if "
        "the census changed since gridkit census sample, draw a new plan)")
