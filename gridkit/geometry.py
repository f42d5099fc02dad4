"""Geometry hygiene shared by every input: drop empties, repair invalid shapes, keep the
geometry kind a layer is for, and report each change as a QA issue."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridkit.errors import GridkitError
from gridkit.qa import QAIssue

POLYGONAL = {"Polygon", "MultiPolygon"}
LINEAR = {"LineString", "MultiLineString", "LinearRing"}


def _describe(frame: gpd.GeoDataFrame, what: str) -> str:
    return frame.attrs.get("source", what)


def _keep(geoms: np.ndarray, kinds: set[str]) -> np.ndarray:
    """The parts of each geometry whose type is in ``kinds`` (collections are opened)."""
    out = np.empty(len(geoms), dtype=object)
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            out[i] = None
            continue
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in kinds and not p.is_empty]
        if not parts:
            out[i] = None
        elif kinds & POLYGONAL:
            out[i] = shapely.multipolygons(parts) if len(parts) > 1 else parts[0]
        else:
            out[i] = shapely.multilinestrings(parts) if len(parts) > 1 else parts[0]
    return out


def clean_geometries(
    frame: gpd.GeoDataFrame,
    *,
    what: str,
    allowed: set[str],
    layer: str,
) -> tuple[gpd.GeoDataFrame, list[QAIssue]]:
    """Drop empty geometries and repair invalid ones, reporting each; refuse other kinds.

    ``allowed`` is the set of geometry types the input may hold (e.g. POLYGONAL); a feature of
    another type is a user mistake and raises a one-line GridkitError naming it.
    """
    source = _describe(frame, what)
    issues: list[QAIssue] = []
    geoms = frame.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    names = np.array(["" if g is None else g.geom_type for g in geoms])
    bad_kind = ~empty & ~np.isin(names, list(allowed | {"GeometryCollection"}))
    if bad_kind.any():
        first = np.flatnonzero(bad_kind)
        kinds = ", ".join(sorted(allowed - {"LinearRing"}))
        raise GridkitError(
            f"{source} ({what}): feature {frame.index[first[0]]} is a {names[first[0]]}, "
            f"{what} must be {kinds}"
            + (f" ({len(first) - 1} more such features)" if len(first) > 1 else "")
            + "; convert or remove them"
        )
    for i in np.flatnonzero(empty):
        issues.append(QAIssue(layer, str(frame.index[i]), "empty_geometry", "warning",
                              f"{source}: feature {frame.index[i]} has no geometry; dropped"))
    invalid = ~empty & ~shapely.is_valid(geoms)
    repaired = geoms.copy()
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        repaired[invalid] = fixed
        for i, reason in zip(np.flatnonzero(invalid), reasons, strict=True):
            issues.append(QAIssue(layer, str(frame.index[i]), "invalid_geometry", "warning",
                                  f"{source}: feature {frame.index[i]} was invalid ({reason});"
                                  " repaired with make_valid", geoms[i]))
    kept = _keep(repaired, allowed)
    lost = ~empty & np.array([g is None for g in kept])
    for i in np.flatnonzero(lost):
        issues.append(QAIssue(layer, str(frame.index[i]), "empty_geometry", "warning",
                              f"{source}: feature {frame.index[i]} collapsed to nothing when "
                              "repaired; dropped", geoms[i]))
    out = frame.copy()
    out[out.geometry.name] = gpd.GeoSeries(kept, index=frame.index, crs=frame.crs)
    out = out[~(empty | lost)]
    return out, issues


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
    """The union of polygons that tile without overlaps: the fast coverage union where the
    shared edges carry the same vertices (gridkit's own partitions), the full overlay where
    they do not (grids digitised by hand, or re-cut beside kept ones by ``--update``,
    where one side of an edge has a vertex the other lacks)."""
    try:
        return shapely.coverage_union_all(geoms)
    except shapely.errors.GEOSException:
        return shapely.union_all(geoms)
