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

import json
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from gridkit.codes.catalog import national_catalog
from gridkit.codes.matcher import ClassMatcher
from gridkit.components.columns import ALIASES, map_columns, parse_maps
from gridkit.components.coords import from_pyproj, parse_numbers, parse_source_crs, to_target
from gridkit.components.locate import UnitGrids
from gridkit.components.read import read_source
from gridkit.errors import GridkitError
from gridkit.qa import QAIssue

COMMAND = "events import"
EVENT_ALIASES: dict[str, tuple[str, ...]] = {
    "EVTID": ("evtid", "案件编号", "案卷编号", "案卷号", "事件编号", "事件编码", "工单号",
              "caseid", "eventid", "id"),
    "EVTCODE": ("evtcode", "事件代码", "事件小类代码", "小类代码", "类别代码", "classcode",
                "code"),
    "EVTNAME": ("evtname", "事件类型", "事件名称", "事件小类", "案件类型", "问题类型",
                "小类名称", "类型", "名称", "type", "name"),
    "TIME": ("time", "上报时间", "发生时间", "发现时间", "立案时间", "时间", "日期",
             "reporttime", "datetime", "date"),
    "X": ALIASES["X"],
    "Y": ALIASES["Y"],
}
EVENT_FIELDS = ["EVTID", "EVTCODE", "EVTNAME", "MAJOR", "MINOR", "BGID", "STREET", "COMMUNITY",
                "TIME", "SRCFILE", "SRCROW", "EXTRA"]


@dataclass
class EventOptions:
    crs: str | None = None
    sheet: str | None = None
    layer: str | None = None
    maps: tuple[str, ...] = ()
    mode: str = "append"


@dataclass
class EventImport:
    events: gpd.GeoDataFrame
    rejects: pd.DataFrame
    issues: list[QAIssue] = field(default_factory=list)
    figures: dict = field(default_factory=dict)


def _times(text: pd.Series) -> pd.Series:
    cleaned = text.str.strip().str.replace("/", "-", regex=False).str.replace(".", "-",
                                                                              regex=False)
    return pd.to_datetime(cleaned, errors="coerce", format="mixed")


def _read_one(path: Path, grids: UnitGrids, options: EventOptions, matcher: ClassMatcher,
              codes: set[str]) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    source = read_source(path, sheet=options.sheet, layer=options.layer)
    table = source.table.to_pandas()
    name = source.name
    chosen = map_columns(source.columns, parse_maps(options.maps, EVENT_ALIASES),
                         source=str(path), aliases=EVENT_ALIASES).fields
    reason = pd.Series("", index=table.index, dtype=object)
    rule = pd.Series("", index=table.index, dtype=object)

    def reject(mask, slug: str, text) -> None:
        mask = np.asarray(mask) & (reason == "").to_numpy()
        reason[mask] = text if isinstance(text, str) else list(text(mask))
        rule[mask] = slug

    def blank(field_name: str) -> pd.Series:
        column = chosen.get(field_name)
        return table[column].astype(str).str.strip() if column else pd.Series("", index=table.index)

    # Where: geometry when the source has it, else X/Y columns in --crs.
    if source.geometry is not None and options.crs is None:
        if source.crs is None:
            raise GridkitError(f"{path}: has geometries but no CRS; name it with --crs")
        points = np.array([g.representative_point() if g is not None and not g.is_empty
                           else None for g in source.geometry], dtype=object)
        x, y = shapely.get_x(points), shapely.get_y(points)
        crs = from_pyproj(source.crs)
    else:
        if "X" not in chosen or "Y" not in chosen:
            raise GridkitError(f"{path}: no coordinate columns (looked for 经度/纬度, lon/lat, "
                               "X/Y, ...); name them with --map X=COLUMN --map Y=COLUMN")
        if options.crs is None:
            raise GridkitError(f"{path}: give the coordinates' CRS with --crs (wgs84, cgcs2000, "
                               "gcj02, bd09 or EPSG:n); a wrong guess moves events by 300-700 m")
        crs = parse_source_crs(options.crs)
        x, present_x = parse_numbers(pa.array(table[chosen["X"]].astype(str)))
        y, present_y = parse_numbers(pa.array(table[chosen["Y"]].astype(str)))
        missing = ~(present_x & present_y)
        reject(missing, "no-coordinates", "no coordinates")
        reject(~missing & ~(np.isfinite(x) & np.isfinite(y)), "bad-coordinates",
               f"coordinates {chosen['X']}/{chosen['Y']} are not numbers")
    tx, ty, ok = to_target(x, y, crs, grids.crs)
    where = grids.index.locate(np.where(ok, tx, np.nan), np.where(ok, ty, np.nan))
    reject(where < 0, "outside-area", f"outside the managed area (no unit grid holds it; "
           f"coordinates read as {crs.label})")

    # What: a valid event class code, else the name.
    code = blank("EVTCODE").str.zfill(4).where(blank("EVTCODE") != "", "")
    matched = matcher.match_many(blank("EVTNAME"))
    by_name = matched["code"].fillna("").astype(str).to_numpy()
    final = np.where(code.isin(codes), code, by_name)
    unknown = final == ""
    why = matched["reason"].fillna("").astype(str).to_numpy()
    reject(unknown, "unknown-class", lambda mask: (
        f"unknown event class: {w}" if w else "no event class name or code" for w in why[mask]))
    when = _times(blank("TIME")) if "TIME" in chosen else pd.Series(pd.NaT, index=table.index)
    bad_time = when.isna() & (blank("TIME") != "")
    reject(bad_time, "bad-time", lambda mask: (
        f"{chosen['TIME']}: {t!r} is not a date/time; write e.g. 2025-04-10 07:53"
        for t in blank("TIME")[mask]))

    rejected = (reason != "").to_numpy()
    raw = table.astype(str).to_dict(orient="records")
    rejects = pd.DataFrame({
        "SRCFILE": name, "SRCROW": source.rows[rejected].astype(np.int64),
        "RULE": rule[rejected].to_numpy(), "REASON": reason[rejected].to_numpy(),
        "RAW": [json.dumps(raw[i], ensure_ascii=False) for i in np.flatnonzero(rejected)],
    })
    keep = ~rejected
    grid = where[keep]
    evtid = blank("EVTID")[keep].to_numpy()
    rows = source.rows[keep].astype(np.int64)
    evtid = np.where(evtid == "", [f"{name}#{r}" for r in rows], evtid)
    names = np.array([matcher.catalog.name_of(c) or "" for c in final[keep]], dtype=object)
    used = set(chosen.values())
    extra = table.loc[keep, [c for c in source.columns if c not in used]]
    events = pd.DataFrame({
        "EVTID": evtid, "EVTCODE": final[keep], "EVTNAME": names,
        "MAJOR": [c[:2] for c in final[keep]], "MINOR": [c[2:] for c in final[keep]],
        "BGID": grids.bgid[grid], "STREET": grids.street[grid],
        "COMMUNITY": grids.community[grid], "TIME": when[keep].to_numpy(),
        "SRCFILE": name, "SRCROW": rows,
        "EXTRA": [json.dumps({k: v for k, v in r.items() if v}, ensure_ascii=False)
                  for r in extra.astype(str).to_dict(orient="records")],
    })
    xy = np.column_stack([tx[keep], ty[keep]])
    return events, rejects, xy


def import_events(files: list[Path], grids: UnitGrids, options: EventOptions,
                  existing: gpd.GeoDataFrame | None = None) -> EventImport:
    """Read, classify and locate event records; conserve every row."""
    if options.mode not in ("append", "replace"):
        raise GridkitError(f"--mode {options.mode!r}: use append or replace")
    catalog = national_catalog("event")
    matcher = ClassMatcher(catalog)
    codes = {e.code for e in catalog.minors()}
    names = [Path(f).name for f in files]
    if len(set(names)) < len(names):
        raise GridkitError("two files of the same name in one call; rename one so that "
                           "SRCFILE tells them apart")
    frames, rejects, points = [], [], []
    for path in files:
        events, rejected, xy = _read_one(Path(path), grids, options, matcher, codes)
        frames.append(events)
        rejects.append(rejected)
        points.append(xy)
    events = pd.concat(frames, ignore_index=True)
    xy = np.concatenate(points) if points else np.empty((0, 2))
    events = gpd.GeoDataFrame(events, geometry=shapely.points(xy), crs=grids.crs)
    kept_before = 0
    if existing is not None and not existing.empty and options.mode == "append":
        others = existing[~existing["SRCFILE"].isin(set(names))]
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
        issues.append(QAIssue("event", str(evtid), "duplicate_evtid", "warning",
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
    }
    return EventImport(events, reject_frame, issues, figures)
