"""Adopt and audit a city's unit grids at city scale: ``python benchmarks/grids.py``.

Builds ~35,000 hand-drawn-like unit grids (Shanghai's 34,619): 280 synthetic communities cut
by a 100 m net, each piece coded community + serial, written as a GBK Shapefile with the codes
in 网格编码 (no .cpg, as Chinese ArcGIS delivers them), with faults planted (overlaps, gaps,
duplicate codes). Times ``gridkit grids check`` and ``gridkit grids adopt`` as library calls
(reading included) against the obvious alternative for the costliest rule, overlaps: a
geopandas self-overlay of the layer (``gpd.overlay(grids, grids)``), which is also what a
desktop GIS "Intersect" does. Add ``--json`` for one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import synthetic_communities  # noqa: E402

from gridkit.grids.adopt import adopt_to_geopackage, check_grids, read_inputs  # noqa: E402

CELL = 100.0
PLANTED = 25  # of each: overlap, gap, duplicate code


def city_grids(communities: gpd.GeoDataFrame, seed: int = 0,
               duplicates: bool = True) -> gpd.GeoDataFrame:
    """Communities cut by a 100 m net; pieces coded in row order; faults planted (overlaps,
    gaps and, with ``duplicates``, duplicate codes)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = communities.total_bounds
    xs = np.arange(x0, x1 + CELL, CELL)
    ys = np.arange(y0, y1 + CELL, CELL)
    gx, gy = np.meshgrid(xs[:-1], ys[:-1])
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + CELL, gy.ravel() + CELL)
    geoms = communities.geometry.to_numpy()
    c, k = shapely.STRtree(cells).query(geoms, predicate="intersects")
    pieces = shapely.intersection(geoms[c], cells[k])
    keep = shapely.area(pieces) > 1.0
    pieces, c = pieces[keep], c[keep]
    parts, index = shapely.get_parts(pieces, return_index=True)
    parts, c = parts[shapely.get_type_id(parts) == 3], c[index][shapely.get_type_id(parts) == 3]
    codes = communities["CODE"].to_numpy()[c]
    order = np.lexsort((shapely.bounds(parts)[:, 0], -shapely.bounds(parts)[:, 3], codes))
    parts, codes = parts[order], codes[order]
    serial = np.zeros(len(codes), dtype=np.int64)
    _, first = np.unique(codes, return_index=True)
    starts = np.zeros(len(codes), dtype=np.int64)
    starts[first] = first
    serial = np.arange(len(codes)) - np.maximum.accumulate(starts) + 1
    bgid = np.array([f"{a}{b:03d}" for a, b in zip(codes, serial, strict=True)], dtype=object)
    big = np.flatnonzero(shapely.area(parts) > 0.99 * CELL * CELL)
    chosen = rng.choice(big, 3 * PLANTED, replace=False)
    for k in chosen[:PLANTED]:  # overlaps: 3 m into the east neighbour
        parts[k] = shapely.box(*(np.array(parts[k].bounds) + [0, 0, 3, 0]))
    for k in chosen[PLANTED:2 * PLANTED]:  # gaps: 2 m short of the north neighbour
        parts[k] = shapely.box(*(np.array(parts[k].bounds) - [0, 0, 0, 2]))
    for k in chosen[2 * PLANTED:] if duplicates else []:  # duplicate codes
        bgid[k] = bgid[k - 1] if bgid[k - 1][:12] == bgid[k][:12] else bgid[k]
    return gpd.GeoDataFrame({"网格编码": bgid}, geometry=parts, crs=communities.crs)


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, round(time.perf_counter() - started, 2)


def naive_overlaps(path: Path, crs) -> tuple[int, float]:
    frame = pyogrio.read_dataframe(path, encoding="GB18030")
    frame["I"] = np.arange(len(frame))
    both = gpd.overlay(frame[["I", "geometry"]], frame[["I", "geometry"]],
                       how="intersection", keep_geom_type=True)
    both = both[(both["I_1"] < both["I_2"]) & (both.geometry.area >= 1.0)]
    return int(len(both)), float(both.geometry.area.sum())


def main() -> None:
    as_json = "--json" in sys.argv
    folder = Path(tempfile.mkdtemp(prefix="gridkit-bench-grids-"))
    communities = synthetic_communities(n=280, area_km2=280, per_street=20)
    grids = city_grids(communities)
    shp = folder / "grids.shp"
    clean_codes = folder / "grids_unique_codes.shp"
    for path, frame in ((shp, grids), (clean_codes, city_grids(communities,
                                                                duplicates=False))):
        pyogrio.write_dataframe(frame, path, encoding="GBK")
        path.with_suffix(".cpg").unlink(missing_ok=True)
    comm = folder / "communities.gpkg"
    communities.to_file(comm)

    inputs, read_s = timed(lambda: read_inputs(shp, communities=comm))
    audit, audit_s = timed(lambda: check_grids(inputs, target_area=10_000))
    adopted, adopt_s = timed(lambda: adopt_to_geopackage(
        read_inputs(clean_codes, communities=comm), folder / "adopted.gpkg",
        target_area=10_000))
    _, repair_s = timed(lambda: adopt_to_geopackage(
        read_inputs(clean_codes, communities=comm), folder / "repaired.gpkg",
        target_area=10_000, repair=True))
    figures = {
        "unit_grids": len(grids), "communities": len(communities),
        "planted": {"overlap": PLANTED, "gap": PLANTED, "duplicate": PLANTED},
        "found": {rule: audit.figures["by_rule"].get(rule, 0) for rule in
                  ("grid-overlap", "grid-gap", "grid-code-duplicate")},
        "check_seconds": {"read": read_s, "audit": audit_s, "total": round(read_s + audit_s, 2)},
        "adopt_seconds": adopt_s,
        "adopt_repair_seconds": repair_s,
        "adopted": {k: adopted[k] for k in ("unit_grids", "repairs", "errors", "warnings")},
    }
    if "--no-naive" not in sys.argv:
        (count, area), naive_s = timed(lambda: naive_overlaps(shp, communities.crs))
        figures["naive_overlay"] = {"overlaps": count, "area_m2": round(area, 1),
                                    "seconds": naive_s}
    if as_json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    print(f"{figures['unit_grids']:,} unit grids in {figures['communities']} communities")
    print(f"found: {figures['found']} (planted {PLANTED} of each)")
    print(f"grids check: read {read_s} s + audit {audit_s} s = {read_s + audit_s:.2f} s")
    print(f"grids adopt (read, audit, write): {adopt_s} s; with --repair (audit, repair, "
          f"re-audit, write): {repair_s} s")
    if "naive_overlay" in figures:
        naive = figures["naive_overlay"]
        print(f"naive self-overlay for overlaps alone: {naive['seconds']} s "
              f"({naive['overlaps']} overlaps)")


if __name__ == "__main__":
    main()
