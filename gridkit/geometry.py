"""Geometry hygiene shared by every input.

Drop empties, repair invalid shapes, keep the geometry kind a layer is for, and report each change
as a QA issue.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

from gridkit.errors import InputError
from gridkit.qa import QAIssue

POLYGONAL = {"Polygon", "MultiPolygon"}
LINEAR = {"LineString", "MultiLineString", "LinearRing"}
UNUSABLE_RULE = "unusable-geometry"  # QA rule of a feature skipped for its kind


def _describe(frame: gpd.GeoDataFrame, what: str) -> str:
    return frame.attrs.get("source", what)


def _collect(parts: list) -> object:
    """One geometry of the given parts: single, Multi*, or line parts when kinds mix."""
    if len(parts) == 1:
        return parts[0]
    kinds = {p.geom_type for p in parts}
    if kinds <= {"Polygon"}:
        return shapely.multipolygons(parts)
    if kinds <= {"LineString", "LinearRing"}:
        return shapely.multilinestrings([shapely.linestrings(shapely.get_coordinates(p))
                                         if p.geom_type == "LinearRing" else p for p in parts])
    # Lines and polygons in one feature (a GeometryCollection of a line layer): the layer
    # takes polygon outlines anyway, so the feature becomes the lines and those outlines.
    lines = []
    for part in parts:
        if part.geom_type == "Polygon":
            lines.extend(shapely.get_parts(shapely.boundary(part)))
        else:
            lines.append(part)
    return _collect(lines)


def _keep(geoms: np.ndarray, kinds: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """The parts of each geometry whose type is in ``kinds``, and how many other parts each lost.

    Collections and multi-part geometries are opened, nested ones too.
    """
    out = np.empty(len(geoms), dtype=object)
    lost = np.zeros(len(geoms), dtype=np.int64)
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            out[i] = None
            continue
        parts = _flatten(geom)
        usable = [p for p in parts if p.geom_type in kinds and not p.is_empty]
        lost[i] = sum(1 for p in parts if not p.is_empty) - len(usable)
        out[i] = _collect(usable) if usable else None
    return out, lost


def _flatten(geom) -> list:
    """Single-part geometries of ``geom``, opening nested collections."""
    parts = []
    for part in shapely.get_parts(geom):
        if shapely.get_type_id(part) in (4, 5, 6, 7):  # Multi* or GeometryCollection
            parts.extend(_flatten(part))
        else:
            parts.append(part)
    return parts


def _drop_z_m(frame: gpd.GeoDataFrame, source: str, layer: str) -> tuple[np.ndarray,
                                                                          list[QAIssue]]:
    """Geometries in 2D; one QA issue for the whole layer when any had Z or M values."""
    geoms = frame.geometry.to_numpy()
    present = ~shapely.is_missing(geoms)
    with_z = present & shapely.has_z(geoms)
    with_m = present & shapely.has_m(geoms) if hasattr(shapely, "has_m") else with_z & False
    if not (with_z | with_m).any():
        return geoms, []
    what = " and ".join(n for n, m in (("Z", with_z), ("M", with_m)) if m.any())
    count = int((with_z | with_m).sum())
    issue = QAIssue(layer, "*", "dropped-z-m", "warning",
                    f"{source}: {count} of {len(geoms)} features carry {what} values; gridkit "
                    "works in 2D, so they were dropped (heights and measures are not used)")
    return shapely.force_2d(geoms), [issue]


def _ids(index, rows: np.ndarray, limit: int = 20) -> str:
    shown = ", ".join(str(index[i]) for i in rows[:limit])
    return shown + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def clean_geometries(
    frame: gpd.GeoDataFrame,
    *,
    what: str,
    allowed: set[str],
    layer: str,
) -> tuple[gpd.GeoDataFrame, list[QAIssue]]:
    """Keep the usable geometry of every feature, repair invalid shapes, report each change.

    Multi-part geometries and GeometryCollections are opened and their parts of an
    ``allowed`` kind kept (nested collections too); Z and M values are dropped (one warning
    for the layer). A feature with nothing usable (empty, or a Point/MultiPoint in a line or
    polygon layer) is skipped with an ``unusable-geometry`` or ``empty-geometry`` warning
    naming its feature id: one stray feature is no reason to refuse a whole layer. Callers
    for whom a lost feature matters (communities: territory) compare the index.

    Parameters
    ----------
    frame : GeoDataFrame
        The layer as read (its index is the feature id, ``attrs["source"]`` its file).
    what : str
        What the layer is, for messages ("roads", "communities", ...).
    allowed : set of str
        The geometry types the layer is for, e.g. ``POLYGONAL`` or ``LINEAR | POLYGONAL``.
    layer : str
        The LAYER value of the QA issues.

    Returns
    -------
    (GeoDataFrame, list of QAIssue)
        The usable features (2D, valid, only ``allowed`` kinds; other rows dropped) and the
        issues.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> f = gpd.GeoDataFrame(geometry=[shapely.MultiPoint([(0, 0), (1, 1)]),
    ...     shapely.MultiLineString([[(0, 0), (1, 0)], [(2, 0), (3, 0)]])], crs=3857)
    >>> kept, issues = clean_geometries(f, what="roads", allowed=LINEAR, layer="road")
    >>> len(kept), issues[0].rule
    (1, 'unusable-geometry')
    """
    source = _describe(frame, what)
    geoms, issues = _drop_z_m(frame, source, layer)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(empty):
        issues.append(QAIssue(layer, str(frame.index[i]), "empty-geometry", "warning",
                              f"{source}: feature {frame.index[i]} has no geometry; skipped"))
    invalid = ~empty & ~shapely.is_valid(geoms)
    repaired = geoms.copy()
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        repaired[invalid] = fixed
        for i, reason in zip(np.flatnonzero(invalid), reasons, strict=True):
            issues.append(QAIssue(layer, str(frame.index[i]), "invalid-geometry", "warning",
                                  f"{source}: feature {frame.index[i]} was invalid ({reason});"
                                  " repaired with make_valid", geoms[i]))
    kept, lost_parts = _keep(repaired, allowed)
    gone = ~empty & np.array([g is None for g in kept])
    kinds = ", ".join(sorted(allowed - {"LinearRing"}))
    unusable = gone & ~invalid
    for i in np.flatnonzero(unusable):
        issues.append(QAIssue(layer, str(frame.index[i]), UNUSABLE_RULE, "warning",
                              f"{source}: feature {frame.index[i]} is a {geoms[i].geom_type} "
                              f"with no {kinds} part; skipped", geoms[i]))
    for i in np.flatnonzero(gone & invalid):
        issues.append(QAIssue(layer, str(frame.index[i]), "empty-geometry", "warning",
                              f"{source}: feature {frame.index[i]} collapsed to nothing when "
                              "repaired; skipped", geoms[i]))
    partial = ~gone & ~empty & ~invalid & (lost_parts > 0)
    for i in np.flatnonzero(partial):
        issues.append(QAIssue(layer, str(frame.index[i]), "parts-dropped", "warning",
                              f"{source}: feature {frame.index[i]} ({geoms[i].geom_type}) has "
                              f"{lost_parts[i]} part(s) that are not {kinds}; kept the rest",
                              geoms[i]))
    if (empty | gone).all():
        first = int(np.flatnonzero(~empty)[0]) if (~empty).any() else 0
        found = (f"feature {frame.index[first]} is a {geoms[first].geom_type}"
                 if (~empty).any() else "every feature has an empty geometry")
        raise InputError(f"{source} ({what}): {found} and no feature has a usable {kinds} "
                         "geometry; give the layer that holds them")
    out = frame.copy()
    out[out.geometry.name] = gpd.GeoSeries(kept, index=frame.index, crs=frame.crs)
    out = out[~(empty | gone)]
    if unusable.any():
        out.attrs["skipped"] = {"count": int(unusable.sum()),
                                "ids": [str(frame.index[i]) for i in np.flatnonzero(unusable)]}
    return out, issues


def skipped_features(issues: list[QAIssue]) -> dict[str, dict]:
    """Per QA layer, how many features were skipped and their feature ids.

    Skipped are the unusable kinds, the empty and the collapsed; the counts go into a command's
    figures.

    Parameters
    ----------
    issues : list of QAIssue
        The issues of :func:`clean_geometries` (others are ignored).

    Returns
    -------
    dict
        ``{layer: {"count": n, "ids": [feature id, ...]}}``; empty when nothing was skipped.

    Examples
    --------
    >>> skipped_features([QAIssue("road", "7", "unusable-geometry", "warning", "...")])
    {'road': {'count': 1, 'ids': ['7']}}
    """
    out: dict[str, dict] = {}
    for issue in issues:
        if issue.rule in (UNUSABLE_RULE, "empty-geometry"):
            entry = out.setdefault(issue.layer, {"count": 0, "ids": []})
            entry["count"] += 1
            entry["ids"].append(issue.key)
    for entry in out.values():  # in feature order: numeric ids by value
        entry["ids"].sort(key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
    return out


# Curves (GeoPackage CurvePolygon/CompoundCurve/MultiSurface, Esri JSON curvePaths/curveRings)
# are linearised with chords of at most CURVE_STEP_DEGREES of arc and CURVE_MAX_GAP metres,
# so the polyline stays within CURVE_TOLERANCE of the true arc whatever its radius r: the
# deviation is at most min(r·(1-cos(step/2)), gap²/8r) <= gap·step/8 = 2.2 cm.
CURVE_STEP_DEGREES = 2.0
CURVE_MAX_GAP = 5.0  # metres (converted to degrees for geographic data)
CURVE_TOLERANCE = CURVE_MAX_GAP * np.radians(CURVE_STEP_DEGREES) / 8


def arc_points(start, middle, end, *, max_gap: float = CURVE_MAX_GAP) -> np.ndarray:
    """Points along the circular arc from ``start`` through ``middle`` to ``end``.

    Parameters
    ----------
    start, middle, end : sequence of float
        (x, y) of the arc's ends and of any point on it between them.
    max_gap : float
        Longest chord, in the coordinates' units (metres, or degrees for geographic data).

    Returns
    -------
    ndarray of shape (n, 2)
        From ``start`` to ``end`` inclusive; chords of at most ``CURVE_STEP_DEGREES`` of arc
        and ``max_gap``, inner vertices at whole multiples of that step around the centre
        (so one arc stored by two neighbours gets the same vertices). Collinear points give
        the straight segment.

    Examples
    --------
    >>> pts = arc_points((0, 0), (10, 10), (20, 0))  # a half circle of radius 10
    >>> bool(np.allclose(np.hypot(pts[:, 0] - 10, pts[:, 1]), 10))
    True
    """
    (x0, y0), (x1, y1), (x2, y2) = (tuple(map(float, p[:2])) for p in (start, middle, end))
    tau = 2 * math.pi
    if (x0, y0) == (x2, y2):  # a full circle (ISO: start = end, middle diametrically opposite)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        sweep = tau
    else:
        # Relative coordinates keep the circumcentre exact for projected eastings/northings.
        bx, by, qx, qy = x1 - x0, y1 - y0, x2 - x0, y2 - y0
        d = 2 * (bx * qy - by * qx)
        if abs(d) <= 1e-12 * (bx * bx + by * by + qx * qx + qy * qy):
            return np.array([[x0, y0], [x2, y2]])
        b2, q2 = bx * bx + by * by, qx * qx + qy * qy
        cx = x0 + (qy * b2 - by * q2) / d
        cy = y0 + (bx * q2 - qx * b2) / d
        a0, a1, a2 = (math.atan2(y - cy, x - cx) for x, y in ((x0, y0), (x1, y1), (x2, y2)))
        sweep = (a2 - a0) % tau
        if (a1 - a0) % tau > sweep:  # the middle point is on the other way round
            sweep -= tau
    radius = math.hypot(x0 - cx, y0 - cy)
    a0 = math.atan2(y0 - cy, x0 - cx)
    widest = min(math.radians(CURVE_STEP_DEGREES),
                 2 * math.asin(min(1.0, max_gap / (2 * radius))))
    # Vertices at whole multiples of a step that divides the full circle, counted from angle
    # 0, not from the arc's start: two neighbours that store one arc (reversed, or split at
    # other points) get the same vertices, so their linearised border leaves no sliver.
    step = tau / math.ceil(tau / widest)
    lo, hi = (a0, a0 + sweep) if sweep > 0 else (a0 + sweep, a0)
    inner = np.arange(math.floor(lo / step) + 1, math.ceil(hi / step)) * step
    inner = inner[(inner - lo > 1e-9) & (hi - inner > 1e-9)]
    angles = inner if sweep > 0 else inner[::-1]
    out = np.empty((len(angles) + 2, 2))
    out[0], out[-1] = (x0, y0), (x2, y2)
    out[1:-1, 0] = cx + radius * np.cos(angles)
    out[1:-1, 1] = cy + radius * np.sin(angles)
    return out


def extend_segments(lines: np.ndarray, distance: float) -> np.ndarray:
    """Lengthen each two-point segment by ``distance`` at both ends.

    Cut lines are clipped to the shape they cut, so their ends sit on its boundary only up to
    rounding; overshooting a little guarantees that noding splits the shape, and polygonize
    drops the overshoot as a dangle.
    """
    if len(lines) == 0:
        return lines
    coords = shapely.get_coordinates(lines)
    counts = shapely.get_num_coordinates(lines)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ends = starts + counts - 1
    first, last = coords[starts], coords[ends]
    direction = last - first
    norm = np.hypot(direction[:, 0], direction[:, 1])
    norm[norm == 0] = 1.0
    unit = direction / norm[:, None]
    coords[starts] = first - unit * distance
    coords[ends] = last + unit * distance
    return shapely.linestrings(coords, indices=np.repeat(np.arange(len(lines)), counts))


def rotation(angle: float, origin: tuple[float, float]):
    """A pair of functions mapping coordinates into a frame rotated by ``-angle`` and back."""
    cos, sin = np.cos(angle), np.sin(angle)
    ox, oy = origin

    def forward(coords: np.ndarray) -> np.ndarray:
        x, y = coords[:, 0] - ox, coords[:, 1] - oy
        return np.column_stack([x * cos + y * sin, -x * sin + y * cos])

    def backward(coords: np.ndarray) -> np.ndarray:
        x, y = coords[:, 0], coords[:, 1]
        return np.column_stack([x * cos - y * sin + ox, x * sin + y * cos + oy])

    return forward, backward


def polsby_popper(geoms) -> np.ndarray:
    """Compactness 4πA/P²: 1 for a disc, π/4 for a square."""
    perimeter = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * np.pi * shapely.area(geoms) / perimeter**2, 0.0)


def dissolve_coverage(geoms) -> shapely.Geometry:
    """The union of polygons that tile without overlaps.

    The fast coverage union where the shared edges carry the same vertices (gridkit's own
    partitions), the full overlay where they do not (grids digitised by hand, or re-cut beside kept
    ones by ``--update``, where one side of an edge has a vertex the other lacks).
    """
    try:
        return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        return shapely.union_all(geoms)
