"""Cutting a block into compact, building-free cells of about equal area.

A block is laid in the frame of its minimum rotated rectangle (long side along x), split
into rows of about √(cell area) height, and every row into cells, each cut at the position of
equal cumulative area. Each cut may slide within ±30% of a cell's area of that position; it
takes the place that crosses the fewest buildings (smaller than the target), and among equals
the one nearest the ideal (for the fabric cutting: the one passing beside most buildings).
Cumulative areas come in closed form from the block's edges (see :func:`area_below`), so the
search never clips the block once per candidate position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from gridkit.geometry import extend_segments, rotation

SLABS = 400  # resolution of the cumulative area: 1/400 of the block's extent
WINDOW = 0.3  # how far (share of a cell's area) a cut may slide to miss buildings
OVERSHOOT = 0.01  # metres: cut lines cross the block edge by this much (see extend_segments)


@dataclass
class CutPlan:
    """Cut lines in the working CRS and the frame to label the faces they make."""

    lines: np.ndarray
    forward: object
    row_bounds: np.ndarray
    rows: list[list[tuple[shapely.Polygon, np.ndarray]]] = field(default_factory=list)

    def cell_of(self, points: np.ndarray) -> np.ndarray:
        """A cell number for each point (points inside the block)."""
        xy = self.forward(shapely.get_coordinates(points))
        row = np.clip(np.searchsorted(self.row_bounds, xy[:, 1]) - 1, 0, len(self.rows) - 1)
        out = np.zeros(len(points), dtype=np.int64)
        offset = 0
        base = []
        for parts in self.rows:
            base.append(offset)
            offset += sum(len(cuts) + 1 for _, cuts in parts)
        for r, parts in enumerate(self.rows):
            mine = np.flatnonzero(row == r)
            if len(mine) == 0:
                continue
            if len(parts) == 1:
                which = np.zeros(len(mine), dtype=np.int64)
            else:
                dist = np.column_stack([shapely.distance(part, shapely.points(xy[mine]))
                                        for part, _ in parts])
                which = np.argmin(dist, axis=1)
            starts = np.cumsum([0] + [len(cuts) + 1 for _, cuts in parts])[:-1]
            for k, (_, cuts) in enumerate(parts):
                sel = mine[which == k]
                out[sel] = base[r] + starts[k] + np.searchsorted(cuts, xy[sel, 0])
        return out


def area_below(geom, positions: np.ndarray, axis: int) -> np.ndarray:
    """Area of ``geom`` on the low side of each line ``coordinate[axis] = t``, exactly.

    By Green's theorem the area left of x = t is -∮ y dx over the ring clipped to x < t; the
    closing piece on x = t adds nothing (dx = 0), so each edge contributes the integral of
    y dx over its own part left of t. That is closed-form per edge, hence one numpy pass for
    all edges and all positions. ``axis`` 1 swaps x and y.
    """
    # Exteriors counter-clockwise, holes clockwise: holes then subtract by themselves.
    rings = shapely.get_rings(shapely.get_parts(shapely.orient_polygons(geom)))
    total = np.zeros(len(positions))
    for ring in rings:
        xy = shapely.get_coordinates(ring)
        if axis == 1:
            xy = xy[:, ::-1]
        xa, ya, xb, yb = xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]
        run = xb - xa
        keep = run != 0
        xa, ya, xb, yb, run = xa[keep], ya[keep], xb[keep], yb[keep], run[keep]
        slope = (yb - ya) / run
        lo, hi = np.minimum(xa, xb), np.maximum(xa, xb)

        def primitive(u, xa=xa, ya=ya, slope=slope):
            return ya * (u - xa) + slope * (u - xa) ** 2 / 2

        u = np.clip(positions[:, None], lo[None, :], hi[None, :])
        total -= (np.sign(run) * (primitive(u) - primitive(lo))).sum(axis=1)
    # Swapping axes mirrors the plane and flips every ring's orientation.
    return -total if axis == 1 else total


def _cumulative(geom, lo: float, hi: float, axis: int):
    """Slab edges along ``axis`` and the block's area below each edge."""
    edges = np.linspace(lo, hi, SLABS + 1)
    return edges, area_below(geom, edges, axis)


def _choose(edges, cumulative, pieces, low, high, aims=None, most=None, gap=None):
    """Cut positions dividing the area into ``pieces``, each missing buildings if it can.

    Cuts are chosen in order: each aims at an equal share of the area still to divide, may
    slide by ``WINDOW`` of a share, and takes the slab edge crossing fewest buildings
    (``low`` < x < ``high``), nearest the aim among equals. Aiming at the remainder spreads
    every slide over the cells still to come instead of letting slides add up. With ``most``
    (m²), a slide may not make the cell before the cut, or the mean cell after it, larger.
    With ``gap`` (metres), among positions crossing equally few buildings the one passing
    within ``gap`` of most buildings (two at least: a gap between them) wins over the
    nearest, so that a cut runs between farmhouses or along a row of them, not mid-field.
    """
    chosen, done = [], 0.0
    total = cumulative[-1]
    for k in range(pieces - 1):
        share = (total - done) / (pieces - k)
        aim = done + share if aims is None else aims[k]
        window = np.abs(cumulative - aim) <= WINDOW * share
        if most is not None:
            fits = ((cumulative - done <= most)
                    & (total - cumulative <= (pieces - k - 1) * most))
            window &= fits if (window & fits).any() else True
        near = np.flatnonzero(window)
        if len(near) == 0:
            near = np.array([int(np.argmin(np.abs(cumulative - aim)))])
        positions = edges[near]
        crossings = ((low[None, :] < positions[:, None])
                     & (high[None, :] > positions[:, None])).sum(axis=1)
        beside = np.zeros(len(near), dtype=np.int64)
        if gap is not None:
            beside = ((low[None, :] - gap < positions[:, None])
                      & (high[None, :] + gap > positions[:, None])).sum(axis=1) - crossings
            beside[beside < 2] = 0
        best = near[np.lexsort((np.abs(cumulative[near] - aim), -beside, crossings))[0]]
        chosen.append(edges[best])
        done = cumulative[best]
    return np.array(chosen)


def plan_cuts(block, cell_area: float, buildings: np.ndarray,
              max_cell: float | None = None, gap: float | None = None) -> CutPlan:
    """Cut lines dividing ``block`` into cells of about ``cell_area``.

    Each row is cut into round(row area / ``cell_area``) cells, and, with ``max_cell``
    (m²), into at least enough that none exceeds it, nor does a cut slid to miss a building
    make one larger. With ``gap`` (metres), cuts slide towards buildings they pass within
    ``gap`` of (see :func:`_choose`).
    """
    envelope = shapely.oriented_envelope(block)
    ring = np.asarray(envelope.exterior.coords)
    sides = np.diff(ring[:3], axis=0)
    longest = sides[np.argmax(np.hypot(sides[:, 0], sides[:, 1]))]
    centre = block.centroid
    forward, backward = rotation(float(np.arctan2(longest[1], longest[0])),
                                 (centre.x, centre.y))
    shape = shapely.transform(block, forward)
    x0, y0, x1, y1 = shape.bounds
    area = shape.area
    if len(buildings):
        b = shapely.bounds(shapely.transform(buildings, forward))
    else:
        b = np.empty((0, 4))
    rows_wanted = int(np.clip(round((y1 - y0) / np.sqrt(cell_area)), 1,
                              max(1, round(area / cell_area))))
    lines = []
    bounds = np.array([y0, y1])
    if rows_wanted > 1:
        edges, cumulative = _cumulative(shape, y0, y1, 1)
        # Rows of equal height, not equal area: interior cells then come out square.
        aims = area_below(shape, y0 + (y1 - y0) * np.arange(1, rows_wanted) / rows_wanted, 1)
        cuts = _choose(edges, cumulative, rows_wanted, b[:, 1], b[:, 3], aims, gap=gap)
        bounds = np.concatenate([[y0], cuts, [y1]])
        across = shapely.linestrings(
            np.stack([np.column_stack([np.full(len(cuts), x0 - 1), cuts]),
                      np.column_stack([np.full(len(cuts), x1 + 1), cuts])], axis=1))
        lines.append(shapely.intersection(across, shape))
    rows = []
    for r in range(len(bounds) - 1):
        lo, hi = bounds[r], bounds[r + 1]
        band = shapely.intersection(shape, shapely.box(x0 - 1, lo, x1 + 1, hi))
        parts = [p for p in shapely.get_parts(band) if p.geom_type == "Polygon" and p.area > 0]
        parts.sort(key=lambda p: p.bounds[0])
        in_band = (b[:, 3] > lo) & (b[:, 1] < hi)
        row = []
        for part in parts:
            pieces = int(round(part.area / cell_area))
            if max_cell is not None:
                pieces = max(pieces, int(np.ceil(part.area / max_cell)))
            if pieces < 2:
                row.append((part, np.empty(0)))
                continue
            px0, _, px1, _ = part.bounds
            edges, cumulative = _cumulative(part, px0, px1, 0)
            inside = in_band & (b[:, 2] > px0) & (b[:, 0] < px1)
            cuts = _choose(edges, cumulative, pieces, b[inside, 0], b[inside, 2],
                           most=max_cell, gap=gap)
            down = shapely.linestrings(
                np.stack([np.column_stack([cuts, np.full(len(cuts), lo - 1)]),
                          np.column_stack([cuts, np.full(len(cuts), hi + 1)])], axis=1))
            lines.append(shapely.intersection(down, part))
            row.append((part, cuts))
        rows.append(row)
    if lines:
        segments = shapely.get_parts(np.concatenate(lines))
        segments = segments[shapely.get_type_id(segments) == 1]
        segments = shapely.transform(extend_segments(segments, OVERSHOOT), backward)
    else:
        segments = np.empty(0, dtype=object)
    return CutPlan(segments, forward, bounds, rows)
