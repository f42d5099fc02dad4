"""Event records (事件) → the ``event`` and ``event_reject`` layers.

Events are located by territory (事件按属地): each gets the BGID, COMMUNITY and STREET of the
unit grid it falls in, by the census import's edge rule (a point on a shared edge goes to
the grid with the smallest BGID). The class comes from a class code column when it holds a
valid event class, else from the class name matched against the event catalog (the same
normalisation and aliases as component names). Inputs, encodings and ``--crs`` (incl. GCJ-02
and BD-09) are those of ``gridkit census import``; every source row ends in ``event`` or
``event_reject`` (SRCFILE, SRCROW, REASON, RAW).

EVTID is the record's own case number (案件编号, 事件编号, ...) when it has one, else
``SRCFILE#SRCROW``. ``--mode append`` (default) replaces the events of the files being
imported and keeps the others, so importing a file twice never duplicates it; ``replace``
starts the layer afresh. Two events with one EVTID are reported in ``qa_issue``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from gridkit.codes.catalog import national_catalog
from gridkit.codes.matcher import ClassMatcher
from gridkit.components.jsonrows import json_objects
from gridkit.components.locate import UnitGrids
from gridkit.errors import InputError, mention
from gridkit.qa import QAIssue
from gridkit.records.clock import CHINA_TIME, converts, in_china_time, split_offset
from gridkit.records.coords import parse_source_crs
from gridkit.records.position import Positioner, column
from gridkit.records.problems import Problems
from gridkit.records.schema import EVENT
from gridkit.result import IssuesAsQA
from gridkit.sources.cells import excel_serial, fold_text, pad_number
from gridkit.sources.columns import map_columns, parse_maps
from gridkit.sources.tables import read_source

COMMAND = EVENT.command
EVENT_FIELDS = ["EVTID", "EVTCODE", "EVTNAME", "MAJOR", "MINOR", "BGID", "STREET", "COMMUNITY",
                "TIME", "SRCFILE", "SRCROW", "EXTRA"]


@dataclass
class EventOptions:
    """Options of the events import (``gridkit events import``).

    Parameters
    ----------
    crs : str, optional
        CRS of coordinate columns, and of a vector file's geometries over its own
        (wgs84, cgcs2000, gcj02, bd09, bd09mc, EPSG:n).
    sheet : str, optional
        Sheet of a workbook.
    layer : str, optional
        Layer of a multi-layer source.
    maps : tuple of str
        ``FIELD=COLUMN`` items naming the column of EVTID, EVTCODE, EVTNAME, TIME, X, Y.
    mode : {"append", "replace"}
        ``append`` (replace only these files' events) or ``replace``.
    header_row : int, optional
        Row of the column names in a CSV or sheet; found when None.
    allow_duplicates : bool
        Import a file even when most of its case numbers (EVTID) are already held from
        another file (see :func:`import_events`).

    Examples
    --------
    >>> EventOptions(crs="gcj02", maps=("EVTNAME=问题类型",)).mode
    'append'
    """

    crs: str | None = None
    sheet: str | None = None
    layer: str | None = None
    maps: tuple[str, ...] = ()
    mode: str = "append"
    header_row: int | None = None
    allow_duplicates: bool = False


SHARE = 0.5  # a file whose case numbers are this share held from another file is a re-import


@dataclass
class EventImport(IssuesAsQA):
    """Event records read, classed and located: what :func:`import_events` returns.

    Parameters
    ----------
    events : geopandas.GeoDataFrame
        The ``event`` layer (points in the unit grids' CRS).
    rejects : pandas.DataFrame
        The ``event_reject`` layer: SRCFILE, SRCROW, REASON, RAW.
    issues : list of QAIssue
        Events sharing an EVTID, values changed.
    figures : dict
        Rows read, accepted, rejected, per file.
    """

    qa_crs_from = "events"  # the frame whose CRS the qa_issue frame takes

    events: gpd.GeoDataFrame
    rejects: pd.DataFrame
    issues: list[QAIssue] = field(default_factory=list)
    figures: dict = field(default_factory=dict)


_WHEN = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[ T]+(\d{1,2})\s*[:时]\s*(\d{1,2})"
                   r"(?:\s*[:分]\s*(\d{1,2})(?:\.\d+)?秒?)?分?)?$")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
# Event times are kept as China Standard Time (UTC+8, no daylight saving), the clock of the
# city platforms that dispatch them; a time written with another offset (an API's UTC "Z")
# is converted (gridkit.records.clock, as census dates), and logged.


def parse_time(text: str, was_number: bool) -> dt.datetime | str | None:
    """An event time, or why ``text`` is not one (None when empty).

    An Excel serial day number is a time where the sheet stored a number; in a CSV it is
    refused with the date it probably means.

    Examples
    --------
    >>> parse_time("２０２５年５月１２日 ８:３０", False)
    datetime.datetime(2025, 5, 12, 8, 30)
    >>> parse_time("45789.5", True)
    datetime.datetime(2025, 5, 12, 12, 0)
    >>> parse_time("2025-05-12T00:30:00Z", False)  # UTC: 08:30 in China
    datetime.datetime(2025, 5, 12, 8, 30)
    """
    text = fold_text(text).strip()
    if not text:
        return None
    if _SERIAL.match(text):
        moment = excel_serial(float(text))
        if moment is not None:
            if was_number:
                return moment
            return (f"{text!r} looks like an Excel day number ({moment:%Y-%m-%d %H:%M}); write "
                    f"the date itself, e.g. {moment:%Y-%m-%d %H:%M}")
    written, offset = split_offset(text)
    match = _WHEN.match(written)
    try:
        if match:
            year, month, day, hour, minute, second = (int(g) if g else 0
                                                      for g in match.groups())
            return in_china_time(dt.datetime(year, month, day, hour, minute, second), offset)
        value = pd.to_datetime(written, errors="raise")
        if value.tzinfo is not None:  # an offset split_offset does not know
            value = value.tz_convert(CHINA_TIME)
        return in_china_time(value.to_pydatetime().replace(tzinfo=None), offset)
    except (ValueError, TypeError, OverflowError):
        return f"{text!r} is not a date/time; write e.g. 2025-04-10 07:53"


def _read_one(path: Path, positioner: Positioner, options: EventOptions, matcher: ClassMatcher,
              codes: set[str]) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, dict]:
    source = read_source(path, sheet=options.sheet, layer=options.layer,
                         header_row=options.header_row, aliases=EVENT.aliases)
    table = source.table
    n = table.num_rows
    name = source.name
    cmap = map_columns(source.columns, parse_maps(options.maps, EVENT.aliases),
                       source=str(path), aliases=EVENT.aliases)
    chosen = cmap.fields
    problems = Problems(n, EVENT.rules)
    changes: list[dict] = []

    def text(field_name: str) -> np.ndarray:
        values = column(table, chosen.get(field_name))
        if values is None:
            return np.full(n, "", dtype=object)
        return np.array([fold_text(v or "").strip() for v in values.to_pylist()], dtype=object)

    located = positioner.locate(source, cmap, problems)

    # What: a valid event class code (a number that lost its leading zero padded back, and
    # logged), else the name matched against the catalog.
    code = np.array([c[:-2] if c.endswith(".0") and c[:-2].isdigit() else c.lstrip("'")
                     for c in text("EVTCODE")], dtype=object)
    for value in sorted(set(code[(code != "") & ~np.isin(code, list(codes))])):
        padded = pad_number(value, 4)
        if padded in codes:
            rows = np.flatnonzero(code == value)
            code[rows] = padded
            changes.append({"field": chosen["EVTCODE"], "from": value, "to": padded,
                            "rule": "leading-zero", "rows": int(rows.size),
                            "first_row": int(source.rows[rows[0]])})
    matched = matcher.match_many(pd.Series(text("EVTNAME")))
    by_name = matched["code"].fillna("").astype(str).to_numpy()
    final = np.where(np.isin(code, list(codes)), code, by_name)
    unknown = np.flatnonzero(final == "")
    why = matched["reason"].fillna("").astype(str).to_numpy()
    problems.add("class-unknown", unknown, [
        f"unknown event class: {why[p]}" if why[p] else
        (f"{chosen['EVTCODE']} {code[p]!r} is not an event class" if code[p] else
         "no event class name or code") for p in unknown])

    # When.
    when = np.full(n, None, dtype=object)
    if "TIME" in chosen:
        raw = text("TIME")
        numeric = source.was_number(chosen["TIME"])
        answers: dict[tuple[str, bool], object] = {}
        for i, (t, num) in enumerate(zip(raw, numeric, strict=True)):
            key = (t, bool(num))
            if key not in answers:
                answers[key] = parse_time(t, bool(num))
            when[i] = answers[key]
        bad = np.array([isinstance(w, str) for w in when], bool)
        problems.add("bad-time", np.flatnonzero(bad),
                     [f"{chosen['TIME']}: {w}" for w in when[bad]])
        for (t, num), answer in answers.items():
            if num and isinstance(answer, dt.datetime):
                rows = np.flatnonzero((raw == t) & numeric)
                changes.append({"field": chosen["TIME"], "from": t,
                                "to": f"{answer:%Y-%m-%d %H:%M:%S}",
                                "rule": "excel-serial-date", "rows": int(rows.size),
                                "first_row": int(source.rows[rows[0]])})
            elif isinstance(answer, dt.datetime) and converts(t):
                rows = np.flatnonzero(raw == t)
                changes.append({"field": chosen["TIME"], "from": t,
                                "to": f"{answer:%Y-%m-%d %H:%M:%S}",
                                "rule": "time-zone", "rows": int(rows.size),
                                "first_row": int(source.rows[rows[0]])})
        when[bad] = None

    rejected = problems.rejected
    rows_rejected = np.flatnonzero(rejected)
    take = pa.array(rows_rejected, pa.int64())
    rejects = pd.DataFrame({
        "SRCFILE": name, "SRCROW": source.rows[rejected].astype(np.int64),
        "RULE": problems.rule_names(rows_rejected), "REASON": problems.reasons(rows_rejected),
        "RAW": json_objects(table.take(take), source.columns).to_pylist(),
    })
    if source.bad_rows:
        bad_rows = pd.DataFrame({
            "SRCFILE": name, "SRCROW": [b.row or 0 for b in source.bad_rows],
            "RULE": "bad-row",
            "REASON": [f"the record has {b.message}; fix the quoting or the separators"
                       for b in source.bad_rows],
            "RAW": [json.dumps({"_text": b.text}, ensure_ascii=False) for b in source.bad_rows]})
        rejects = pd.concat([rejects, bad_rows], ignore_index=True)
    keep = ~rejected
    grid = located.grid[keep]
    evtid = text("EVTID")[keep]
    rows = source.rows[keep].astype(np.int64)
    evtid = np.where(evtid == "", [f"{name}#{r}" for r in rows], evtid)
    kept = final[keep]
    names = np.array([matcher.catalog.name_of(c) or "" for c in kept], dtype=object)
    extra = json_objects(table.filter(pa.array(keep)), cmap.extra, omit_empty=True) \
        if cmap.extra else pa.nulls(int(keep.sum()), pa.string())
    events = pd.DataFrame({
        "EVTID": evtid, "EVTCODE": kept, "EVTNAME": names,
        "MAJOR": [c[:2] for c in kept], "MINOR": [c[2:] for c in kept],
        "BGID": positioner.grids.bgid[grid],
        "STREET": positioner.grids.street[grid], "COMMUNITY": positioner.grids.community[grid],
        "TIME": pd.to_datetime(pd.Series(when[keep], dtype=object)),
        "SRCFILE": name, "SRCROW": rows, "EXTRA": extra.to_pylist(),
    })
    xy = np.column_stack([located.x[keep], located.y[keep]])
    figures = {"file": name, "path": str(path), "encoding": source.encoding,
               "crs": located.crs, "header_row": source.header_row, "columns": chosen,
               "srcrow": source.numbering,
               "kept_in_extra": cmap.extra, "cut_names": cmap.cut,
               "ambiguous_cut_names": cmap.ambiguous,
               "damaged": [{"row": r, "field": f, "problem": w} for r, f, w in source.damaged[:20]],
               "damaged_cells": len(source.damaged), "changed_values": changes,
               "rows": n + len(source.bad_rows), "rejected": len(rejects)}
    return events, rejects, xy, figures


def import_events(files: list[Path], grids: UnitGrids, options: EventOptions,
                  existing: gpd.GeoDataFrame | None = None) -> EventImport:
    r"""Read, classify and locate event (事件) records; every row is accepted or rejected.

    Each row's class is matched in the national event catalog (EVTCODE and/or EVTNAME), its
    time parsed (Chinese dates, Excel serial days from a sheet), its position read in the given
    CRS and located in a unit grid (events are handled by territory, 事件按属地).

    Parameters
    ----------
    files : list of pathlib.Path
        Event tables: CSV, XLSX, or vector files; their names must differ.
    grids : UnitGrids
        The unit grids (their CRS is the output CRS).
    options : EventOptions
        CRS, sheet/layer, column maps, mode.
    existing : geopandas.GeoDataFrame, optional
        The current ``event`` layer; with ``append`` its events from other files stay.

    Returns
    -------
    EventImport
        Events, rejects, issues and figures; accepted + rejected = rows read.

    Raises
    ------
    GridkitError
        When the mode is unknown, two files share a name, or a file cannot be read.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, shapely, tempfile
    >>> from gridkit.components import UnitGrids
    >>> grids = UnitGrids(gpd.GeoDataFrame({"BGID": ["310116001001001"]}, crs=4549,
    ...                   geometry=[shapely.box(624_000, 3_398_000, 624_100, 3_398_100)]))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = path.write_text("事件类型,上报时间,X,Y\n暴露垃圾,2025-05-12 08:30,624050,3398050\n"
    ...                     "暴露垃圾,2025-05-12 09:00,625000,3398050\n", encoding="utf-8")
    >>> done = import_events([path], grids, EventOptions(crs="EPSG:4549"))
    >>> done.events["BGID"].tolist(), len(done.rejects)
    (['310116001001001'], 1)
    """
    if options.mode not in ("append", "replace"):
        raise InputError(f"{mention(mode=options.mode)}: use append or replace",
                         parameter="mode")
    catalog = national_catalog("event")
    matcher = ClassMatcher(catalog)
    positioner = Positioner(grids, parse_source_crs(options.crs) if options.crs else None)
    codes = {e.code for e in catalog.minors()}
    names = [Path(f).name for f in files]
    if len(set(names)) < len(names):
        raise InputError("two files of the same name in one call; rename one so that "
                         "SRCFILE tells them apart")
    frames, rejects, points, per_file = [], [], [], []
    for path in files:
        events, rejected, xy, figures = _read_one(Path(path), positioner, options, matcher,
                                                  codes)
        frames.append(events)
        rejects.append(rejected)
        points.append(xy)
        per_file.append(figures)
    events = pd.concat(frames, ignore_index=True)
    xy = np.concatenate(points) if points else np.empty((0, 2))
    events = gpd.GeoDataFrame(events, geometry=shapely.points(xy), crs=grids.crs)
    kept_before = 0
    if existing is not None and not existing.empty and options.mode == "append":
        others = existing[~existing["SRCFILE"].isin(set(names))]
        if not options.allow_duplicates:
            _refuse_held_elsewhere(events, others, dict(zip(names, files, strict=True)))
        kept_before = len(others)
        events = gpd.GeoDataFrame(pd.concat([others.to_crs(grids.crs), events],
                                            ignore_index=True), crs=grids.crs)
    events = events.sort_values(["SRCFILE", "SRCROW"], kind="stable").reset_index(drop=True)
    events = events[EVENT_FIELDS + ["geometry"]]
    reject_frame = pd.concat(rejects, ignore_index=True)  # attributes only: RAW keeps the row
    issues = []
    twins = events[events["EVTID"].duplicated(keep=False)]
    for evtid, group in twins.groupby("EVTID", sort=True):
        rows = ", ".join(f"{f}:{r}" for f, r in zip(group["SRCFILE"], group["SRCROW"],
                                                    strict=True))
        issues.append(QAIssue("event", str(evtid), "duplicate-evtid", "warning",
                              f"event {evtid} appears {len(group)} times ({rows})",
                              group.geometry.iloc[0]))
    read = sum(len(f) for f in frames) + len(reject_frame)
    figures = {
        "rows": read, "accepted": sum(len(f) for f in frames),
        "rejected": len(reject_frame),
        "balanced": read == sum(len(f) for f in frames) + len(reject_frame),
        "rejects_by_rule": (reject_frame["RULE"].value_counts().sort_index().to_dict()
                            if len(reject_frame) else {}),
        "kept_from_earlier_imports": kept_before, "events": len(events),
        "by_major_class": events["MAJOR"].value_counts().sort_index().to_dict(),
        "duplicate_evtid": len(issues),
        "files": per_file,
    }
    return EventImport(events, reject_frame, issues, figures)


def _refuse_held_elsewhere(events: pd.DataFrame, others: pd.DataFrame, paths: dict) -> None:
    """Refuse a file whose case numbers are mostly held from another file already.

    The same export under another name (the XLSX, then its CSV; a copy renamed by date)
    would otherwise hold every event twice (issue 16's silent doubling). Only the file's own
    case numbers count: an EVTID made from SRCFILE#SRCROW says nothing across files.
    """
    if others.empty:
        return
    held = others.drop_duplicates("EVTID").set_index("EVTID")["SRCFILE"]
    for name, rows in events.groupby("SRCFILE", sort=False):
        own = rows["EVTID"].astype(str)
        own = own[~own.str.startswith(f"{name}#")]
        hit = own[own.isin(held.index)]
        if len(hit) and len(hit) >= SHARE * len(rows):
            other = held[hit].value_counts().index[0]
            raise InputError(
                f"{paths[name]}: {len(hit):,} of its {len(rows):,} events have case numbers "
                f"already held from {other} (e.g. EVTID {hit.iloc[0]}): importing it as {name} "
                "would hold them twice; use `mode='replace'` to start the event layer afresh, "
                "import it under its first name to update those events, or add "
                "`allow_duplicates=True` if these really are other events",
                parameter="allow_duplicates", file=paths[name])
