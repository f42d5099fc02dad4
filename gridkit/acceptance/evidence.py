"""The evidence a census is judged on: a filled-in verdict sheet or an independent re-survey.

**Reading.** Check and re-survey files are read the way ``gridkit census import`` reads a
census file (CSV in any Chinese encoding, XLSX, any GDAL source), with its column recognition
and coordinate conversion (WGS-84, CGCS2000, GCJ-02, BD-09, EPSG:n); the import's internals
are named in this module only.

**Verdict sheets**: the filled-in checklist (CSV in UTF-8 or GBK, or XLSX) read and checked.
Every problem of every row is collected before anything is computed, and reported in one line
naming the file, the rows, the fields and the fix: a field team corrects the sheet once.

**A joint check sheet without a gridkit plan**: the grids it lists judged as a cluster sample.
A district's acceptance is often a joint spot check by departments and towns who chose the
grids themselves; their sheet lists the components checked in those grids. With no
``spotcheck_plan`` in OUT.gpkg (and no ``--plan``), ``gridkit census accuracy --check SHEET``
takes the grids the sheet names (its BGID column, and the grids of the census components it
names by OBJCODE) as **a simple random sample of the district's unit grids** — one stratum,
N = every unit grid, n = the grids listed, weight N/n each — and estimates with the same ratio
estimator and intervals as for a gridkit plan. That design is assumed, not known: the output,
the ``spotcheck_result.METHOD`` field and so the report say so. Grids chosen for being bad
(or good) make the estimate biased; only a random choice makes it fair.

**Re-survey.** The re-survey file is read exactly as ``gridkit census import`` reads a census
file (same formats, encodings, column names, CRSs, class names), located in the unit grids of
OUT.gpkg, and matched one-to-one to the census components of the sampled grids
(:mod:`gridkit.acceptance.match`). Re-surveyed points outside the sampled grids but within
``search`` metres of one take part in the matching (GPS noise puts border components over the
line); others are ignored and counted. Rows without a usable position or class stop the run
with their row numbers: silently dropping them would turn census components into
``not_found``. Attributes are not compared: ``wrong_attribute`` needs a verdict sheet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pyproj
import shapely

from gridkit.acceptance.checklist import SHEET
from gridkit.acceptance.match import DEFAULT_SEARCH, DEFAULT_TOLERANCE, match
from gridkit.acceptance.plan import (
    PLAN_FIELDS,
    Census,
    Plan,
    grids_of_codes,
    require_layers,
)
from gridkit.acceptance.verdicts import (
    CODE,
    CORRECT,
    MISSING,
    VERDICTS,
    WRONG_POSITION,
    Verdicts,
    allowed,
    parse_verdict,
)
from gridkit.codes.catalog import Catalog
from gridkit.codes.matcher import Match
from gridkit.components.locate import UnitGrids
from gridkit.errors import GridkitError, InputError
from gridkit.records.coords import from_pyproj, parse_numbers, parse_source_crs, to_target
from gridkit.records.schema import COMPONENT_ALIASES as ALIASES
from gridkit.sources.cells import code_number_problem, fold_text
from gridkit.sources.columns import map_columns
from gridkit.sources.tables import EXCEL_SUFFIXES, SourceTable, read_source

VERDICT_ALIASES = ("verdict", "核查结果", "抽查结果", "检查结果", "核查结论", "结果", "判定",
                   "结论")
BGID_ALIASES = ("bgid", "单元网格", "单元网格编码", "单元网格代码", "单元网格标识码",
                "网格编码", "网格代码", "所在单元网格", "网格")
SHOWN = 12  # problems quoted in the one-line error; the rest are counted
ASSUMED_DESIGN = ("no gridkit plan in the file: the grids the sheet lists are taken as a "
                  "simple random sample of all unit grids (assumed, not known)")
ASSUMED_METHOD = "sheet, simple random sample of grids assumed"
ASSUMED_STRATUM = "all"
# Problems that make a re-survey row unusable; others (a bad date, state) do not matter here.
_BLOCKING = ("bad-row", "no-coordinates", "bad-coordinates", "class-unknown")


def read_table(path: Path, *, sheet: str | None = None, layer: str | None = None,
               preferred_sheet: str | None = None,
               aliases: dict[str, tuple[str, ...]] | None = ALIASES) -> SourceTable:
    """A check or re-survey file as text columns.

    A workbook with several sheets is read at ``preferred_sheet`` when it has one (the checklist
    gridkit wrote), else needs ``--sheet``.
    """
    path = Path(path)
    if sheet is None and preferred_sheet and path.suffix.lower() in EXCEL_SUFFIXES \
            and path.exists():
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True)
            names = book.sheetnames
            book.close()
        except Exception:  # unreadable: read_source reports it properly
            names = []
        if preferred_sheet in names:
            sheet = preferred_sheet
    return read_source(path, sheet=sheet, layer=layer, aliases=aliases)


def source_of_frame(frame: pd.DataFrame | pa.Table, name: str) -> SourceTable:
    """A sheet or re-survey held in memory, as :func:`read_table` reads a file.

    Every cell becomes text as a file's would; the rows are numbered as in a CSV with the
    column names on row 1 (the first row is row 2), which the error messages and SRCROW use.
    A GeoDataFrame keeps its geometry and CRS.

    Parameters
    ----------
    frame : pandas.DataFrame, geopandas.GeoDataFrame or pyarrow.Table
        The table.
    name : str
        What errors call it (``sheet``, ``resurvey``).

    Returns
    -------
    gridkit.sources.SourceTable
    """
    from gridkit.sources.tables import text_column

    geometry, crs = None, None
    if isinstance(frame, gpd.GeoDataFrame):
        geometry = np.asarray(frame.geometry.array, dtype=object)
        crs = frame.crs
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(
        frame.astype({c: object for c in frame.columns if frame[c].dtype == object}),
        preserve_index=False)
    numeric = {c: np.full(table.num_rows, pa.types.is_integer(table.column(c).type)
                          or pa.types.is_floating(table.column(c).type))
               for c in table.column_names}
    text = pa.table({str(c): text_column(table.column(c)) for c in table.column_names})
    return SourceTable(Path(name), name, text, np.arange(2, table.num_rows + 2),
                       geometry=geometry, crs=crs, numeric=numeric)


def find_column(columns: list[str], aliases: tuple[str, ...]) -> str | None:
    """The first column whose name matches an alias (in alias order), or the Shapefile cut of one.

    The import's column recognition: :func:`gridkit.sources.map_columns`.
    """
    return map_columns(columns, aliases={"COLUMN": tuple(aliases)}).get("COLUMN")


def text(table: pa.Table, column: str | None) -> np.ndarray:
    """A column as trimmed Python strings ("" when absent)."""
    if column is None:
        return np.full(table.num_rows, "", dtype=object)
    values = table.column(column).to_pylist()
    return np.array([("" if v is None else str(v)).strip() for v in values], dtype=object)


def numbers(table: pa.Table, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(values, present) of a coordinate column: decimals or degrees-minutes-seconds."""
    values = table.column(column)
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return parse_numbers(values)


def to_crs(x: np.ndarray, y: np.ndarray, crs_text: str | None, target: pyproj.CRS,
           *, option: str = "--crs") -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Coordinates into ``target``; returns (x, y, ok, CRS label).

    From ``crs_text`` when given; otherwise WGS-84 when every value looks like degrees, else
    the target CRS itself.
    """
    finite = np.isfinite(x) & np.isfinite(y)
    if crs_text:
        source = parse_source_crs(crs_text, option=option)
    elif finite.any() and (np.abs(x[finite]) <= 180).all() and (np.abs(y[finite]) <= 90).all():
        source = parse_source_crs("wgs84", option=option)
    else:
        source = from_pyproj(target)
    tx, ty, ok = to_target(x, y, source, target)
    return tx, ty, ok & finite, source.label


def clean_codes(values: np.ndarray) -> np.ndarray:
    """Codes as spreadsheets give them back: without spaces, a leading ' or a float's .0."""
    def clean(text: str) -> str:
        text = fold_text(str(text)).strip().lstrip("'").strip()
        return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text

    return np.array([clean(v) for v in values], dtype=object)


@dataclass
class Problem:
    """One bad row of a sheet: its row number and what is wrong."""

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
    """How to read a verdict sheet: its ``sheet``, and the ``crs`` of added rows' coordinates."""

    sheet: str | None = None
    crs: str | None = None  # CRS of the coordinates of missing rows


def read_verdict_sheet(path: Path | SourceTable, plan: Plan, census: Census, catalog: Catalog,
                       options: SheetOptions) -> tuple[Verdicts, dict]:
    """The verdicts of a sheet, checked against the census and the plan; (verdicts, facts).

    ``path`` is the sheet's file, or the sheet already read (:func:`source_of_frame`).
    """
    if isinstance(path, SourceTable):
        source, path = path, path.path
    else:
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
            why = (f"{where['OBJNAME'] or 'OBJNAME'} is empty" if not name or answer is None else
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
    """Every census component of a sampled grid needs a verdict.

    A grid checked in part would bias the figures towards whatever was checked first.
    """
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


def plan_from_sheet(output: Path, sheet: Path, options: SheetOptions | None = None) -> Plan:
    """A one-stratum plan of the grids ``sheet`` lists, over every unit grid of ``output``.

    Parameters
    ----------
    output : Path
        OUT.gpkg with ``unit_grid`` and ``component``.
    sheet : Path
        The joint check sheet (CSV or XLSX) with OBJCODE and/or BGID columns.
    options : SheetOptions, optional
        Which sheet of a workbook.

    Returns
    -------
    Plan
        STRATUM ``all``, STRATUM_GRIDS = N (all unit grids), STRATUM_SAMPLE = n (grids
        listed), WEIGHT = N/n, SEED 0, PLAN_ID ``sheet-`` + a digest of the grids.

    Raises
    ------
    GridkitError
        The sheet names no grid, or a BGID that is not a unit grid of ``output``.

    Examples
    --------
    >>> plan = plan_from_sheet(Path("out/district.gpkg"), Path("joint_check.xlsx"))
    ... # doctest: +SKIP
    """
    require_layers(output, command="accuracy")
    options = options or SheetOptions()
    source = read_table(sheet, sheet=options.sheet, preferred_sheet=SHEET)
    bgid_column = find_column(source.columns, BGID_ALIASES)
    code_column = find_column(source.columns, ALIASES["OBJCODE"])
    listed = [b for b in clean_codes(text(source.table, bgid_column)) if b]
    codes = sorted({c for c in clean_codes(text(source.table, code_column)) if c})
    listed += list(grids_of_codes(output, codes).values()) if codes else []
    listed = list(dict.fromkeys(listed))  # sheet order, once each
    if not listed:
        raise GridkitError(f"{sheet}: names no unit grid (no BGID column and no OBJCODE of a "
                           f"census component), and {Path(output).name} has no spot-check "
                           "plan; add a BGID column or run gridkit census sample first")
    grids = pyogrio.read_dataframe(output, layer="unit_grid", use_arrow=True)
    grids["BGID"] = grids["BGID"].astype(str)
    unknown = [b for b in listed if b not in set(grids["BGID"])]
    if unknown:
        raise GridkitError(f"{sheet}: BGID {', '.join(unknown[:8])} "
                           f"{'is' if len(unknown) == 1 else 'are'} not a unit grid of "
                           f"{output}; correct the BGID column")
    population, sample = len(grids), len(listed)
    chosen = grids.set_index("BGID").loc[listed].reset_index()
    counts = _component_counts(output, listed)
    chosen["STRATUM"] = ASSUMED_STRATUM
    chosen["STRATUM_GRIDS"] = population
    chosen["STRATUM_SAMPLE"] = sample
    chosen["WEIGHT"] = population / sample
    chosen["COMPONENTS"] = [counts.get(b, 0) for b in listed]
    chosen["DRAW"] = np.arange(1, sample + 1)
    chosen["SEED"] = 0
    for column, default in (("COMMUNITY", None), ("STREET", None), ("DENSITY", "all")):
        if column not in chosen:
            chosen[column] = (chosen["BGID"].str[:12 if column == "COMMUNITY" else 9]
                              if default is None else default)
    chosen["DENSITY"] = chosen["DENSITY"].fillna("all").astype(str)
    chosen["PLAN_ID"] = "sheet-" + hashlib.sha256("|".join(sorted(listed)).encode()) \
        .hexdigest()[:12]
    chosen = chosen.sort_values("BGID", kind="stable").reset_index(drop=True)
    frame = gpd.GeoDataFrame(chosen[list(PLAN_FIELDS)], geometry=chosen.geometry.to_numpy(),
                             crs=grids.crs)
    return Plan(frame, gpd.pd.DataFrame(), 0, str(frame["PLAN_ID"].iloc[0]))


def _component_counts(output: Path, bgids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for start in range(0, len(bgids), 400):
        listed = ", ".join("'" + b.replace("'", "''") + "'" for b in bgids[start:start + 400])
        frame = pyogrio.read_dataframe(output, layer="component", columns=["BGID"],
                                       where=f"BGID IN ({listed})", read_geometry=False)
        for bgid, n in frame["BGID"].astype(str).value_counts().items():
            counts[bgid] = int(n)
    return counts


@dataclass
class ResurveyOptions:
    """How to read and match a re-survey.

    Attributes
    ----------
    crs : str, optional
        The CRS of its coordinates.
    sheet : str, optional
        The sheet of a workbook.
    layer : str, optional
        The layer of a vector file.
    maps : dict of str to str
        Field → column where names are not recognised.
    tolerance : float
        Metres within which a field point is the census component (correct, or wrong class).
    search : float
        Metres within which a same-class point is the component misplaced.
    """

    crs: str | None = None
    sheet: str | None = None
    layer: str | None = None
    maps: dict[str, str] = field(default_factory=dict)
    tolerance: float = DEFAULT_TOLERANCE
    search: float = DEFAULT_SEARCH

    def validate(self) -> None:
        """Refuse distances that are not positive, or a search radius below the tolerance."""
        if not self.tolerance > 0:
            raise InputError(f"`tolerance={self.tolerance:g}`: give a distance in metres "
                             "above 0 (default 5)", parameter="tolerance")
        if not self.search >= self.tolerance:
            raise InputError(f"`search={self.search:g}`: give a distance of at least "
                             f"`tolerance` ({self.tolerance:g} m)", parameter="search")


def read_resurvey(path: Path | SourceTable, output: Path | UnitGrids, plan: Plan,
                  census: Census, catalog: Catalog,
                  options: ResurveyOptions) -> tuple[Verdicts, dict]:
    """Verdicts from matching the re-survey at ``path`` to the census; (verdicts, facts).

    ``path`` is the re-survey's file or the re-survey already read (:func:`source_of_frame`);
    ``output`` the GeoPackage of the unit grids, or the grids.
    """
    from gridkit.components.gpkg import load_grids
    from gridkit.components.prepare import TablePreparer
    from gridkit.records.coords import parse_source_crs

    options.validate()
    grids = output if isinstance(output, UnitGrids) else load_grids(output)
    crs = parse_source_crs(options.crs) if options.crs else None
    preparer = TablePreparer(grids, catalog, crs=crs, maps=options.maps)
    if isinstance(path, SourceTable):
        source, path = path, path.path
    else:
        source = read_table(path, sheet=options.sheet, layer=options.layer)
    prepared = preparer.prepare(source)
    rows = source.rows
    problems = [Problem(int(b.row or 0), b.message) for b in source.bad_rows]
    first = prepared.problems.first
    from gridkit.records.problems import RULES

    blocking = np.flatnonzero(np.isin(first, [RULES.index(r) for r in _BLOCKING]))
    for position, reason in zip(blocking, prepared.problems.reasons(blocking), strict=True):
        problems.append(Problem(int(rows[position]), reason))
    if problems:
        raise fail(path, problems, "correct these rows of the re-survey (or name columns with "
                                   "`maps` and the CRS with `crs`) and run again")
    usable = np.isfinite(prepared.x) & np.isfinite(prepared.y)
    klass = np.array([preparer.class_codes[k] if k >= 0 else "" for k in prepared.klass],
                     dtype=object)
    plan_index = {b: i for i, b in enumerate(plan.bgids)}
    in_plan = np.array([plan_index.get(grids.bgid[g], -1) if g >= 0 else -1
                        for g in prepared.grid], dtype=np.int64)
    near = usable & (in_plan < 0)
    if near.any():
        tree = shapely.STRtree(np.asarray(plan.grids.geometry.array, dtype=object))
        points = shapely.points(prepared.x[near], prepared.y[near])
        hit, _ = tree.query(points, predicate="dwithin", distance=options.search)
        close = np.zeros(int(near.sum()), dtype=bool)
        close[hit] = True
        near[np.flatnonzero(near)] = close
    used = usable & ((in_plan >= 0) | near)
    field_at = np.flatnonzero(used)
    result = match(np.column_stack([census.x, census.y]), census.klass,
                   np.column_stack([prepared.x[field_at], prepared.y[field_at]]),
                   klass[field_at], tolerance=options.tolerance, search=options.search)
    extra = field_at[(result.field_partner < 0) & (in_plan[field_at] >= 0)]
    n = len(census)
    verdicts = Verdicts(
        grid=np.concatenate([census.grid, in_plan[extra]]),
        klass=np.concatenate([census.klass, klass[extra]]),
        verdict=np.concatenate([result.verdict, np.full(len(extra), CODE[MISSING])]),
        objcode=np.concatenate([census.objcode, np.full(len(extra), "", dtype=object)]),
        objname=np.concatenate([census.objname, np.array(
            [catalog.name_of(c) or c for c in klass[extra]], dtype=object)]),
        x=np.concatenate([census.x, prepared.x[extra]]),
        y=np.concatenate([census.y, prepared.y[extra]]),
        srcrow=np.concatenate([np.where(result.partner >= 0,
                                        rows[field_at][np.maximum(result.partner, 0)], -1)
                               if n else np.empty(0, np.int64),
                               rows[extra]]).astype(np.int64),
        note=np.full(n + len(extra), "", dtype=object),
        distance=np.concatenate([result.distance, np.full(len(extra), np.nan)]),
    )
    facts = {
        "file": str(path), "rows": int(len(rows)), "crs": prepared.crs,
        "tolerance_m": options.tolerance, "search_m": options.search,
        "points_in_sampled_grids": int((in_plan >= 0).sum()),
        "points_near_sampled_grids": int(near.sum()),
        "points_ignored_elsewhere": int((usable & ~used).sum()),
        "matched": {VERDICTS[c]: int((result.verdict == c).sum())
                    for c in range(len(VERDICTS) - 1)},
        "unmatched_field_points": len(extra),
        **position_check(result, options.tolerance),
    }
    return verdicts, facts


def position_check(result, tolerance: float) -> dict:
    """How far apart the two surveys put the same components, and the tolerance that fits.

    The distance between two independent fixes of one point, each with error sigma per axis,
    follows a Rayleigh law of scale sigma * sqrt(2), whose median is 1.1774 times the scale;
    99.9% of distances lie within 3.72 scales. A tolerance below that turns correct
    components into wrong_position ones, so the report names the tolerance the data need.
    """
    same = (result.verdict == CODE[CORRECT]) | (result.verdict == CODE[WRONG_POSITION])
    distances = result.distance[same]
    if distances.size < 20:
        return {}
    scale = float(np.median(distances)) / 1.1774
    needed = 3.72 * scale
    facts: dict[str, float | str] = {
        "position_difference_median_m": round(float(np.median(distances)), 2)}
    if needed > tolerance:
        facts["warning"] = (f"the surveys' positions of the same components differ by "
                            f"{np.median(distances):.1f} m in the median: --tolerance "
                            f"{tolerance:g} m is too tight for that and counts correct "
                            f"components as wrong_position; consider --tolerance "
                            f"{np.ceil(needed):.0f}")
    return facts
