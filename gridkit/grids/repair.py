"""Safe repairs of a city's unit grids (``gridkit grids adopt --repair``), each reported.

Only what cannot change what a grid *is* is repaired:

- invalid rings are rebuilt with ``make_valid`` (structure method);
- an overlap of at most ``max_area`` m² (default :data:`REPAIR_AREA`) stays with the grid
  bordering it along the longer edge and is cut from the other;
- a gap of at most ``max_area`` m² between grids joins the grid sharing the longest edge;
- a sliver grid (under 0.1× the target or thinner than 5 m) joins the neighbour of the same
  community sharing the longest edge; its code is retired.

Larger gaps and overlaps, multi-part grids and code faults are left for the city to fix
(or for ``--recode``): they are decisions, not repairs.
"""

from __future__ import annotations

import numpy as np
import shapely

from gridkit.grids.audit import GAP_AREA, SLIVER_RATIO, SLIVER_WIDTH, Audit, polygonal
from gridkit.qa import QAIssue

REPAIR_AREA = 100.0  # m²: the largest gap or overlap --repair resolves


def _edges(piece, others) -> np.ndarray:
    """Length of each of ``others``' boundary lying along ``piece`` (1 cm tolerance).

    Only the small piece is buffered, once.
    """
    zone = piece.buffer(0.01)
    return shapely.length(shapely.intersection(shapely.boundary(np.asarray(others)), zone))


def repair_grids(audit: Audit, *, target_area: float,
                 max_area: float = REPAIR_AREA) -> tuple[np.ndarray, np.ndarray, list[QAIssue]]:
    """Geometries after the safe repairs, which grids remain, and one issue per repair.

    Parameters
    ----------
    audit : Audit
        The audit of the grids (its ``grids`` geometries are already made valid).
    target_area : float
        Unit grid target area, m² (what a sliver is).
    max_area : float
        Largest gap or overlap resolved, m².

    Returns
    -------
    geometries : ndarray of shapely geometries
        One per audited grid, in its order.
    kept : ndarray of bool
        False for slivers merged into a neighbour (their codes retire).
    repairs : list of QAIssue
        Severity ``warning``, rule ``repair_*``.
    """
    frame = audit.grids
    geoms = frame.geometry.to_numpy().copy()
    codes = frame["CODE"].to_numpy(dtype=object)
    valid = frame["VALID"].to_numpy()
    kept = np.ones(len(geoms), dtype=bool)
    repairs: list[QAIssue] = []
    for issue in audit.issues:
        if issue.rule == "grid-invalid-geometry":
            repairs.append(QAIssue("unit_grid", issue.key, "repair-invalid-geometry", "warning",
                                   f"grid {issue.key}: invalid rings rebuilt with make_valid",
                                   issue.geometry))
    tree = shapely.STRtree(geoms)
    for issue in [i for i in audit.issues if i.rule == "grid-overlap"]:
        piece = issue.geometry
        if piece.area > max_area:
            continue
        a, b = _pair(tree, geoms, valid, piece)
        rest_a = shapely.difference(geoms[a], piece)
        rest_b = shapely.difference(geoms[b], piece)
        along_a, along_b = _edges(piece, [rest_a, rest_b])
        longer_a = (along_a, codes[b]) >= (along_b, codes[a])
        keep, cut = (a, b) if longer_a else (b, a)
        geoms[cut] = polygonal(shapely.difference(geoms[cut], piece))
        repairs.append(QAIssue("unit_grid", issue.key, "repair-overlap", "warning",
                               f"overlap of {piece.area:,.1f} m² kept in {codes[keep]} (longer "
                               f"shared edge) and cut from {codes[cut]}", piece))
    tree = shapely.STRtree(geoms)
    for issue in [i for i in audit.issues if i.rule == "grid-gap"]:
        piece = issue.geometry
        if piece.area > max_area:
            continue
        near = [int(k) for k in tree.query(piece, predicate="dwithin", distance=0.01)
                if valid[k]]
        if not near:
            continue
        lengths = _edges(piece, geoms[near])
        best = max(zip(lengths, [codes[k] for k in near], near, strict=True))[2]
        geoms[best] = polygonal(shapely.union(geoms[best], piece))
        repairs.append(QAIssue("unit_grid", issue.key, "repair-gap", "warning",
                               f"gap of {piece.area:,.1f} m² joined to {codes[best]} (longest "
                               "shared edge)", piece))
    areas = shapely.area(geoms)
    lengths = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.where(lengths > 0, 2 * areas / lengths, 0.0)
    slivers = np.flatnonzero(valid & ((areas < SLIVER_RATIO * target_area)
                                      | (width < SLIVER_WIDTH)))
    tree = shapely.STRtree(geoms)
    for s in slivers:
        near = [int(k) for k in tree.query(geoms[s], predicate="dwithin", distance=0.01)
                if k != s and kept[k] and valid[k] and codes[k][:12] == codes[s][:12]]
        edges = [(length, codes[k], k) for length, k in zip(
            _edges(geoms[s], geoms[near]) if near else [], near, strict=True) if length > 0]
        if not edges:
            continue
        _, _, best = max(edges)
        geoms[best] = polygonal(shapely.union(geoms[best], geoms[s]))
        kept[s] = False
        repairs.append(QAIssue("unit_grid", codes[s], "repair-sliver", "warning",
                               f"sliver grid {codes[s]} ({areas[s]:,.1f} m²) merged into "
                               f"{codes[best]} (longest shared edge); code {codes[s]} retired",
                               geoms[s]))
    # Unions of touching pieces can leave rounding specks; drop them from multi-part results.
    for k in np.flatnonzero(shapely.get_num_geometries(geoms) > 1):
        parts = [p for p in shapely.get_parts(geoms[k]) if p.area >= GAP_AREA]
        if len(parts) == 1:
            geoms[k] = parts[0]
    return geoms, kept, repairs


def _pair(tree, geoms, valid, piece) -> tuple[int, int]:
    """The two grids an overlap piece belongs to: the two covering most of it."""
    near = [int(k) for k in tree.query(piece, predicate="intersects") if valid[k]]
    cover = sorted(near, key=lambda k: -shapely.area(shapely.intersection(geoms[k], piece)))
    return cover[0], cover[1]
