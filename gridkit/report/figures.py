"""The report's numbers, computed once and used by the charts, the tables and ``--json``.

Each function returns plain dicts and lists (JSON-ready) or None when its layer is absent.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa

from gridkit.codes import national_catalog
from gridkit.codes.catalog import province_names
from gridkit.report.data import PointLayer, ReportData

BAND = (0.5, 2.0)  # unit grid area band, × target (the partition's rule)
DEFAULT_TARGET = 10_000.0
DEFAULT_ACCEPTANCE = 0.96
TOP = 15  # rows of "most" tables


def _stats(values: np.ndarray) -> dict:
    values = values[np.isfinite(values)]
    if not len(values):
        return {}
    p5, median, p95 = np.percentile(values, [5, 50, 95])
    return {"min": float(values.min()), "p5": float(p5), "median": float(median),
            "mean": float(values.mean()), "p95": float(p95), "max": float(values.max())}


def grid_targets(data: ReportData) -> np.ndarray:
    """The target area each unit grid was cut for (communities can have raised targets)."""
    grids = data.unit_grid
    default = _run_parameter(data, "partition", "target_area") or DEFAULT_TARGET
    community = data.community
    if "TARGET" in community:
        target = dict(zip(community["CODE"].astype(str),
                          pd.to_numeric(community["TARGET"], errors="coerce"), strict=True))
        values = grids["COMMUNITY"].astype(str).map(target).astype(float).to_numpy()
        return np.where(np.isfinite(values) & (values > 0), values, float(default))
    return np.full(len(grids), float(default))


def _run_parameter(data: ReportData, command: str, key: str):
    runs = data.tables.get("gridkit_run")
    if runs is None or "COMMAND" not in runs or "PARAMETERS" not in runs:
        return None
    for _, row in runs[runs["COMMAND"].astype(str).str.contains(command)].iloc[::-1].iterrows():
        try:
            value = json.loads(row["PARAMETERS"] or "{}").get(key)
        except (TypeError, ValueError, AttributeError):
            continue
        if value is not None:
            return value
    return None


def district_title(data: ReportData, counties: list[str]) -> str:
    """The district's name for the page title.

    The input's county name when it had one (上海市金山区), else the province and the county
    code (上海市 310116).
    """
    if not counties:
        return data.district_name
    province = province_names().get(counties[0][:2], "")
    name = data.district_name
    if name:
        return name if province and name.startswith(province) else f"{province}{name}"
    return f"{province} {', '.join(counties)}".strip()


def overview(data: ReportData) -> dict:
    """The overview card: area (km²), counties, streets, communities and counts per layer."""
    grids = data.unit_grid
    codes = data.community["CODE"].astype(str)
    counties = sorted({c[:6] for c in codes if len(c) >= 6})
    area = float(pd.to_numeric(grids["AREA"], errors="coerce").sum())
    streets = data.street_names
    per_street = codes.str[:9].value_counts()
    return {
        "name": district_title(data, counties),
        "street_names": streets,
        "community_names": data.community_names,
        "street_list": [(code, streets.get(code, "")) for code in sorted(per_street.index)],
        "street_communities": {str(k): int(v) for k, v in per_street.items()},
        "source": str(data.path),
        "crs": data.crs.to_string(),
        "crs_name": data.crs.name,
        "county": counties,
        "area_km2": round(area / 1e6, 3),
        "streets": int(grids["STREET"].astype(str).nunique()),
        "layers": dict(sorted(data.counts.items())),
    }


def unit_areas(data: ReportData) -> dict:
    """Unit grid areas against their target: the histogram and the share within 0.5-2×."""
    grids = data.unit_grid
    area = pd.to_numeric(grids["AREA"], errors="coerce").to_numpy(float)
    targets = grid_targets(data)
    ratio = area / targets
    single = bool(np.allclose(targets, targets[0]))
    scale = float(targets[0]) if single else 1.0
    top = max(2.5, float(np.nanpercentile(ratio, 99.5)) if len(ratio) else 2.5)
    top = min(top, 6.0)
    edges = np.round(np.arange(0, top + 1e-9, 0.1), 6)
    counts, _ = np.histogram(np.clip(ratio, 0, edges[-1] - 1e-9), edges)
    streets = []
    frame = pd.DataFrame({"street": grids["STREET"].astype(str), "area": area,
                          "in": (ratio >= BAND[0]) & (ratio <= BAND[1])})
    for street, group in frame.groupby("street", sort=True):
        streets.append({"street": street, "grids": int(len(group)),
                        "median": float(group["area"].median()),
                        "in_band": float(group["in"].mean())})
    finite = np.isfinite(ratio)
    return {
        "grids": int(len(grids)),
        "target": float(np.median(targets)),
        "single_target": single,
        "stats": _stats(area),
        "in_band": float(np.mean((ratio[finite] >= BAND[0]) & (ratio[finite] <= BAND[1]))),
        "below": float(np.mean(ratio[finite] < BAND[0])),
        "above": float(np.mean(ratio[finite] > BAND[1])),
        "histogram": {"edges": (edges * scale).tolist(), "counts": counts.tolist(),
                      "band": [BAND[0] * scale, BAND[1] * scale], "target": scale},
        "streets": streets,
        "ratio": ratio,  # per grid, for the map; dropped from JSON
    }


def band_limits(text: str) -> tuple[int, int] | None:
    """(low, high) of a stored BAND value such as '10-16', or None when it is not one."""
    match = re.fullmatch(r"\s*(\d+)\s*[-–~]\s*(\d+)\s*", str(text or ""))
    return (int(match[1]), int(match[2])) if match else None


def responsibility(data: ReportData) -> dict | None:
    """Responsibility grids per band (10-16, 20-30): counts, unit grids each, in-band share."""
    frame = data.shapes.get("responsibility_grid")
    if frame is None or frame.empty:
        return None
    resp = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    units = pd.to_numeric(resp.get("UNITS", pd.Series(np.nan, index=resp.index)),
                          errors="coerce")
    if units.isna().all():
        counts = data.unit_grid.get("RGID", pd.Series(dtype=str)).astype(str).value_counts()
        units = resp["RGID"].astype(str).map(counts).astype(float)
    resp["UNITS_N"] = units
    band = resp.get("BAND", pd.Series("", index=resp.index)).fillna("").astype(str)
    resp["BAND_S"] = band
    bounds = band.map(band_limits)
    resp["IN"] = [b is not None and b[0] <= u <= b[1] for b, u in zip(bounds, units, strict=True)]
    bands = []
    for name, group in resp.groupby("BAND_S", sort=True):
        values = group["UNITS_N"].dropna().astype(int)
        lo, hi = (int(values.min()), int(values.max())) if len(values) else (0, 0)
        limits = band_limits(name)
        if limits:
            lo, hi = min(lo, limits[0]), max(hi, limits[1])
        histogram = {int(k): int((values == k).sum()) for k in range(lo, hi + 1)}
        density = sorted(group.get("DENSITY", pd.Series(dtype=str)).dropna().astype(str)
                         .unique().tolist())
        bands.append({"band": name, "limits": list(limits) if limits else None,
                      "density": density, "grids": int(len(group)),
                      "in_band": float(group["IN"].mean()), "histogram": histogram})
    workload = pd.to_numeric(resp.get("WORKLOAD", pd.Series(np.nan, index=resp.index)),
                             errors="coerce")
    resp["WL"] = workload
    streets = []
    for street, group in resp.groupby(resp["STREET"].astype(str), sort=True):
        wl = group["WL"].dropna().to_numpy(float)
        mean = float(wl.mean()) if len(wl) else float("nan")
        rel = wl / mean if len(wl) and mean > 0 else np.zeros(0)
        streets.append({
            "street": street, "grids": int(len(group)),
            "units_mean": float(group["UNITS_N"].mean()),
            "in_band": float(group["IN"].mean()),
            "workload_mean": mean if np.isfinite(mean) else None,
            "workload_cv": float(wl.std() / mean) if len(wl) > 1 and mean > 0 else None,
            "workload_ratio": float(wl.max() / wl.min()) if len(wl) and wl.min() > 0 else None,
            "relative": ({"min": float(rel.min()), "p25": float(np.percentile(rel, 25)),
                          "median": float(np.median(rel)), "p75": float(np.percentile(rel, 75)),
                          "max": float(rel.max())} if len(rel) else None),
        })
    return {"grids": int(len(resp)), "in_band": float(resp["IN"].mean()), "bands": bands,
            "streets": streets, "workload_total": float(np.nansum(workload))}


def class_names(kind: str) -> dict[str, str]:
    """Major (2-digit) and minor (4-digit) class names of the national catalog, by code."""
    catalog = national_catalog(kind)
    return {entry.code: entry.name for entry in catalog}


def class_names_en(kind: str) -> dict[str, str]:
    """English class names by code for ``kind`` (the Chinese name where there is none)."""
    catalog = national_catalog(kind)
    return {entry.code: entry.name_en or entry.name for entry in catalog}


def point_classes(layer: PointLayer, code_field: str, code_at: int) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """(major, class) codes per row: MAJOR and MAJOR+MINOR, or read from the code field."""
    n = len(layer)
    empty = (np.zeros(n, np.int64), [""])
    code = layer.coded(code_field)
    major = layer.coded("MAJOR") or (
        _sliced(code, code_at, code_at + 2) if code is not None else empty)
    minor = layer.coded("MINOR") or (
        _sliced(code, code_at + 2, code_at + 4) if code is not None else empty)
    majors = [m.strip().zfill(2) if m.strip() else "" for m in major[1]]
    # Work on the distinct (major, minor) pairs only; MINOR may hold the 2-digit minor or
    # the whole 4-digit class code.
    pairs, inverse = np.unique(major[0] * len(minor[1]) + minor[0], return_inverse=True)
    full = []
    for pair in pairs:
        m, k = divmod(int(pair), len(minor[1]))
        text = minor[1][k].strip()
        full.append(text[-4:] if len(text) >= 4 else (majors[m] + text.zfill(2) if text
                                                      else ""))
    return (np.asarray(majors, dtype=object)[major[0]],
            np.asarray(full, dtype=object)[inverse.reshape(-1)])


def _sliced(coded: tuple[np.ndarray, list[str]], start: int, stop: int):
    index, values = coded
    return index, [v[start:stop] for v in values]


def _counts(values: np.ndarray) -> list[tuple[str, int]]:
    table = pa.array(values, pa.string()).value_counts()
    pairs = [(v["values"].as_py() or "", v["counts"].as_py()) for v in table]
    return sorted(pairs, key=lambda p: (-p[1], p[0]))


def _coded_counts(coded: tuple[np.ndarray, list[str]]) -> list[tuple[str, int]]:
    index, values = coded
    counts = np.bincount(index, minlength=len(values))
    totals: dict[str, int] = {}
    for value, count in zip(values, counts, strict=True):
        if count:
            totals[value] = totals.get(value, 0) + int(count)
    return sorted(totals.items(), key=lambda p: (-p[1], p[0]))


def points(data: ReportData, name: str, kind: str, code_field: str, code_at: int,
           grid_index: pd.Index) -> dict | None:
    """Figures of the component or event layer ``name``: counts per class, grid and state."""
    layer = data.points.get(name)
    if layer is None:
        return None
    names = class_names(kind)
    names_en = class_names_en(kind)
    major, full = point_classes(layer, code_field, code_at)
    majors = [{"code": c, "name": names.get(c, ""), "name_en": names_en.get(c, ""),
               "count": k} for c, k in _counts(major)]
    minors = [{"code": c, "name": names.get(c, ""), "name_en": names_en.get(c, ""),
               "count": k} for c, k in _counts(full)]
    bgid = layer.coded("BGID")
    per_grid = np.zeros(len(grid_index), np.int64)
    unplaced = len(layer)
    if bgid is not None:
        where = grid_index.get_indexer(pd.Index(bgid[1], dtype=object))[bgid[0]]
        inside = where >= 0
        per_grid = np.bincount(where[inside], minlength=len(grid_index))
        unplaced = int((~inside).sum())
    result = {
        "count": int(len(layer)),
        "on_map": int(np.isfinite(layer.x).sum()),
        "geometry_types": layer.geometry_types,
        "majors": majors,
        "minors": minors,
        "not_in_grid": unplaced,
        "grids_with": int((per_grid > 0).sum()),
        "grids_without": int((per_grid == 0).sum()),
        "per_grid_stats": _stats(per_grid.astype(float)),
        "per_grid_histogram": _count_histogram(per_grid),
        "top_grids": [{"bgid": str(grid_index[i]), "count": int(per_grid[i])}
                      for i in np.argsort(-per_grid, kind="stable")[:TOP] if per_grid[i] > 0],
        "per_grid": per_grid,  # for the map; dropped from JSON
        "major_codes": major,  # for the map's colours; dropped from JSON
        "class_codes": full,
    }
    state = layer.coded("OBJSTATE")
    if state is not None:
        result["states"] = [{"state": s, "count": k} for s, k in _coded_counts(state)]
    if name == "event":
        street = layer.coded("STREET")
        if street is not None:
            result["streets"] = [{"street": s, "count": k} for s, k in _coded_counts(street)]
        time = layer.coded("TIME")
        if time is not None:
            index, values = time
            months = (index, [t[:7] if re.match(r"\d{4}-\d{2}", t) else "" for t in values])
            result["months"] = sorted(({"month": m, "count": k}
                                       for m, k in _coded_counts(months) if m),
                                      key=lambda r: str(r["month"]))
    return result


def _count_histogram(per_grid: np.ndarray) -> dict:
    """Grids by how many records they hold, in bins that suit the spread."""
    if not len(per_grid):
        return {"labels": [], "counts": []}
    top = int(per_grid.max())
    if top <= 20:
        edges = list(range(0, top + 2))
    else:
        width = _nice_width(np.percentile(per_grid, 99) / 15)
        edges = [0, 1] + [int(width * k) for k in range(1, 16) if width * k > 1]
        edges.append(top + 1)
        edges = sorted(set(edges))
    counts = np.histogram(per_grid, edges)[0]
    labels = [str(lo) if hi - lo == 1 else f"{lo}–{hi - 1}"
              for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return {"labels": labels, "counts": counts.tolist()}


def _nice_width(raw: float) -> int:
    for width in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if width >= raw:
            return width
    return int(raw)


def qa(data: ReportData) -> dict | None:
    """QA issues by rule, layer and severity, each finding counted once."""
    frame = data.shapes.get("qa_issue")
    if frame is None:
        return None
    table = pd.DataFrame({
        column: frame[column].fillna("").astype(str) if column in frame else ""
        for column in ("LAYER", "KEY", "RULE", "SEVERITY", "COMMAND")})
    # One finding, one count: the same rule on the same feature reported twice (by import and
    # by check, or once per pair of duplicates) is counted once.
    read = len(table)
    keyed = table["KEY"] != ""
    table = pd.concat([table[keyed].drop_duplicates(["LAYER", "KEY", "RULE", "SEVERITY"]),
                       table[~keyed]])
    rules = []
    for (rule, layer), group in table.groupby(["RULE", "LAYER"], sort=True):
        counts = group["SEVERITY"].value_counts()
        rules.append({"rule": rule, "layer": layer, "error": int(counts.get("error", 0)),
                      "warning": int(counts.get("warning", 0)),
                      "other": int(len(group) - counts.get("error", 0)
                                   - counts.get("warning", 0)),
                      "total": int(len(group))})
    rules.sort(key=lambda r: (-r["error"], -r["total"], r["rule"]))
    severity = table["SEVERITY"].value_counts()
    return {"count": int(len(table)), "repeats": int(read - len(table)),
            "error": int(severity.get("error", 0)),
            "warning": int(severity.get("warning", 0)), "rules": rules,
            "commands": {str(k): int(v) for k, v in table["COMMAND"].value_counts().items()
                         if k}}


def rejects(data: ReportData) -> dict:
    """Rejected rows per reject table, by rule (or reason)."""
    out = {}
    for name, frame in data.rejects.items():
        column = "RULE" if "RULE" in frame and frame["RULE"].notna().any() else "REASON"
        values = (frame[column].fillna("").astype(str).str.slice(0, 120)
                  if column in frame else pd.Series([""] * len(frame)))
        counts = values.value_counts()
        out[name] = {"count": int(len(frame)), "by": column,
                     "reasons": [{"reason": str(k), "count": int(v)}
                                 for k, v in counts.head(TOP).items()]}
    return out


INTERVAL = re.compile(r"^(.*?)_?(LOW|LO|LOWER|L)$")


def interval_columns(columns: list[str]) -> list[tuple[str, str, str]]:
    """(estimate, low, high) triples among field names.

    ACCURACY with ACC_LOW/ACC_HIGH, X with X_LOW/X_HIGH, ... The estimate is the field whose name
    starts with the stem.
    """
    triples = []
    for low in columns:
        match = INTERVAL.match(low)
        if not match or not match[1]:
            continue
        stem = match[1]
        high = next((c for c in columns if c != low and re.fullmatch(
            re.escape(stem) + r"_?(HIGH|HI|UPPER|U)", c)), None)
        estimate = next((c for c in columns if c not in (low, high) and c.startswith(stem)
                         and not INTERVAL.match(c)), None)
        if high and estimate:
            triples.append((estimate, low, high))
    return triples


def spotcheck(data: ReportData) -> dict | None:
    """The spot check's verdict and estimates against the acceptance level (96% by default)."""
    summary = data.tables.get("spotcheck_summary")
    result = data.shapes.get("spotcheck_result")
    if summary is None and result is None:
        return None
    level = _run_parameter(data, "accuracy", "target") or DEFAULT_ACCEPTANCE
    out: dict = {"acceptance": float(level)}
    if summary is not None and not summary.empty:
        frame = pd.DataFrame(summary)
        out["summary_columns"] = [str(c) for c in frame.columns]
        out["summary"] = _records(frame)
        out["summary_intervals"] = interval_columns(out["summary_columns"])
        if "LEVEL" in frame and (frame["LEVEL"].astype(str) == "overall").any():
            out["overall"] = _records(frame[frame["LEVEL"].astype(str) == "overall"].head(1))[0]
    if result is not None:
        frame = pd.DataFrame(result.drop(columns=result.geometry.name))
        out["grids"] = int(len(frame))
        out["result_columns"] = [str(c) for c in frame.columns]
        out["result"] = _records(frame)
        out["result_intervals"] = interval_columns(out["result_columns"])
        if "VERDICT" in frame:
            out["verdicts"] = {str(k): int(v) for k, v in
                               frame["VERDICT"].fillna("").astype(str).value_counts().items()}
    return out


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows with JSON-safe values (NaN → None, numpy scalars → Python)."""
    rows = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, float | np.floating) and not np.isfinite(value):
                value = None
            elif isinstance(value, np.integer):
                value = int(value)
            elif isinstance(value, np.floating):
                value = float(value)
            elif value is not None and not isinstance(value, int | float | str | bool):
                value = str(value)
            clean[str(key)] = value
        rows.append(clean)
    return rows


def runs(data: ReportData) -> list[dict]:
    """The ``gridkit_run`` rows: time, version, command, parameters."""
    frame = data.tables.get("gridkit_run")
    if frame is None:
        return []
    keep = [c for c in ("TIME", "VERSION", "COMMAND", "PARAMETERS") if c in frame]
    return _records(frame[keep].fillna(""))

