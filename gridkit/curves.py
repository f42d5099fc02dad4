"""True curves, linearised to the tolerance of :mod:`gridkit.geometry` (CURVE_TOLERANCE).

- Curved WKB (ISO SQL/MM: CircularString, CompoundCurve, CurvePolygon, MultiCurve,
  MultiSurface, as GeoPackage and PostGIS hold them), which shapely cannot read: parsed here,
  each arc through :func:`gridkit.geometry.arc_points`.
- Esri JSON true curves (``curvePaths``, ``curveRings``), which GDAL's ESRIJSON driver reads
  as no geometry. A curve path is a start point followed by segments, each a point (a
  straight segment) or an object: ``{"c": [end, interior]}`` a circular arc through
  ``interior``, ``{"a": [end, centre, minor, clockwise]}`` a circular arc about ``centre``
  (an elliptic one, with axis ratio other than 1, is refused), ``{"b": [end, control1,
  control2]}`` a cubic Bézier curve.
"""

from __future__ import annotations

import json
import struct
from functools import reduce
from pathlib import Path

import numpy as np
import shapely

from gridkit.geometry import CURVE_MAX_GAP, arc_points


class CurveError(ValueError):
    """A curve segment gridkit cannot linearise; the message says which."""


def _xy(point) -> tuple[float, float]:
    return float(point[0]), float(point[1])


def _centre_arc(start, end, centre, minor: bool, clockwise: bool, gap: float) -> np.ndarray:
    """The circular arc from ``start`` to ``end`` about ``centre``, as Esri's "a" segment."""
    cx, cy = centre
    a0 = np.arctan2(start[1] - cy, start[0] - cx)
    a2 = np.arctan2(end[1] - cy, end[0] - cx)
    sweep = (a2 - a0) % (2 * np.pi)  # counter-clockwise sweep
    if clockwise:
        sweep = sweep - 2 * np.pi if sweep > 0 else -2 * np.pi
    if np.isclose(abs(sweep), 0) and start == end:
        sweep = -2 * np.pi if clockwise else 2 * np.pi
    if minor and abs(sweep) > np.pi or not minor and abs(sweep) < np.pi and start != end:
        raise CurveError("its minor/clockwise flags contradict the arc's ends")
    radius = np.hypot(start[0] - cx, start[1] - cy)
    middle = (cx + radius * np.cos(a0 + sweep / 2), cy + radius * np.sin(a0 + sweep / 2))
    if start == end:
        return np.vstack([arc_points(start, middle, middle, max_gap=gap)[:-1],
                          arc_points(middle, (2 * cx - middle[0], 2 * cy - middle[1]), start,
                                     max_gap=gap)])
    return arc_points(start, middle, end, max_gap=gap)


def _bezier(start, end, c1, c2, gap: float) -> np.ndarray:
    hull = sum(np.hypot(b[0] - a[0], b[1] - a[1]) for a, b in
               ((start, c1), (c1, c2), (c2, end)))
    n = int(min(1000, max(8, np.ceil(hull / gap))))
    t = np.linspace(0, 1, n + 1)[:, None]
    pts = ((1 - t) ** 3 * np.array(start) + 3 * (1 - t) ** 2 * t * np.array(c1)
           + 3 * (1 - t) * t**2 * np.array(c2) + t**3 * np.array(end))
    return pts


def linearise_path(path: list, gap: float = CURVE_MAX_GAP) -> np.ndarray:
    """The (n, 2) vertices of one Esri curve path (see the module doc).

    Parameters
    ----------
    path : list
        A ``curvePaths``/``curveRings`` member: a start point, then points and segment objects.
    gap : float
        Longest chord, in the data's units (metres; degrees for geographic data).

    Returns
    -------
    ndarray of shape (n, 2)

    Raises
    ------
    CurveError
        For an elliptic arc or a segment of unknown shape.

    Examples
    --------
    >>> pts = linearise_path([[0, 0], {"c": [[20, 0], [10, 10]]}])
    >>> bool(abs(pts[len(pts) // 2][1] - 10) < 0.1)
    True
    """
    if not path or not isinstance(path[0], list | tuple):
        raise CurveError("a curve path must start with a point")
    out = [np.array([_xy(path[0])])]
    current = _xy(path[0])
    for segment in path[1:]:
        if isinstance(segment, list | tuple):
            end = _xy(segment)
            out.append(np.array([end]))
        elif isinstance(segment, dict) and "c" in segment:
            end, interior = _xy(segment["c"][0]), _xy(segment["c"][1])
            out.append(arc_points(current, interior, end, max_gap=gap)[1:])
        elif isinstance(segment, dict) and "a" in segment:
            spec = segment["a"]
            end, centre = _xy(spec[0]), _xy(spec[1])
            if len(spec) > 6 and spec[6] not in (None, 1, 1.0):
                raise CurveError("elliptic arcs (axis ratio other than 1) are not supported")
            out.append(_centre_arc(current, end, centre, bool(spec[2]), bool(spec[3]),
                                   gap)[1:])
        elif isinstance(segment, dict) and "b" in segment:
            end, c1, c2 = (_xy(p) for p in segment["b"][:3])
            out.append(_bezier(current, end, c1, c2, gap)[1:])
        else:
            raise CurveError(f"unknown curve segment {str(segment)[:40]}")
        current = end
    return np.vstack(out)


def _geometry(geometry: dict, gap: float):
    if "curvePaths" in geometry:
        parts = [shapely.LineString(linearise_path(p, gap)) for p in geometry["curvePaths"]]
        return parts[0] if len(parts) == 1 else shapely.MultiLineString(parts)
    rings = [shapely.Polygon(linearise_path(r, gap)) for r in geometry["curveRings"]]
    # Esri rings: outer rings clockwise, holes counter-clockwise, holes inside their outer
    # ring; the even-odd union of the rings is that polygon whatever the orientation.
    return shapely.make_valid(reduce(shapely.symmetric_difference, rings))


def esri_curve_geometries(path: Path, gap: float) -> dict[int, object]:
    """Linearised geometries of the features of an Esri JSON file that have true curves.

    By feature position (0-based, the order GDAL reads them in); a feature whose curve cannot be
    linearised is left out (so it stays without geometry and is reported by the caller).

    Parameters
    ----------
    path : Path
        The Esri JSON file.
    gap : float
        Longest chord, in the file's coordinate units.

    Returns
    -------
    dict
        ``{position: shapely geometry}``.
    """
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    out = {}
    for k, feature in enumerate(data.get("features") or []):
        geometry = (feature or {}).get("geometry") or {}
        if "curvePaths" not in geometry and "curveRings" not in geometry:
            continue
        try:
            out[k] = _geometry(geometry, gap)
        except (CurveError, ValueError, TypeError, IndexError, shapely.errors.GEOSException):
            continue
    return out


class _WKB:
    """A cursor over one WKB geometry, yielding shapely geometries with curves linearised."""

    def __init__(self, data: bytes, gap: float):
        self.data, self.pos, self.gap = memoryview(data), 0, gap

    def _take(self, fmt: str):
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values

    def _header(self) -> tuple[str, int, int]:
        (order,) = self._take("B")
        endian = "<" if order == 1 else ">"
        (code,) = self._take(endian + "I")
        dims = 2 + bool(code & 0x80000000) + bool(code & 0x40000000)
        code &= 0x0FFFFFFF
        kind, iso = code % 1000, code // 1000
        dims += {0: 0, 1: 1, 2: 1, 3: 2}.get(iso, 0)
        return endian, kind, dims

    def _points(self, endian: str, dims: int) -> np.ndarray:
        (n,) = self._take(endian + "I")
        flat = self._take(f"{endian}{n * dims}d")
        return np.asarray(flat, dtype=float).reshape(n, dims)[:, :2]

    def _arcs(self, pts: np.ndarray) -> np.ndarray:
        if len(pts) < 3 or len(pts) % 2 == 0:
            raise CurveError(f"a circular string needs an odd number (>= 3) of points, "
                             f"not {len(pts)}")
        out = [pts[:1]]
        for k in range(0, len(pts) - 2, 2):
            out.append(arc_points(pts[k], pts[k + 1], pts[k + 2], max_gap=self.gap)[1:])
        return np.vstack(out)

    def curve(self) -> np.ndarray:
        """Vertices of one curve: LineString, CircularString or CompoundCurve."""
        endian, kind, dims = self._header()
        if kind == 2:
            return self._points(endian, dims)
        if kind == 8:
            return self._arcs(self._points(endian, dims))
        if kind == 9:
            (n,) = self._take(endian + "I")
            pieces = [self.curve() for _ in range(n)]
            return np.vstack([pieces[0], *(p[1:] for p in pieces[1:])])
        raise CurveError(f"WKB type {kind} where a curve was expected")

    def geometry(self):
        start = self.pos
        endian, kind, dims = self._header()
        if kind in (2, 8, 9):
            self.pos = start
            return shapely.LineString(self.curve())
        if kind in (3, 10):  # Polygon, CurvePolygon
            (n,) = self._take(endian + "I")
            if kind == 3:
                rings = [self._points(endian, dims) for _ in range(n)]
            else:
                rings = [self.curve() for _ in range(n)]
            return shapely.Polygon(rings[0], rings[1:]) if rings else shapely.Polygon()
        if kind == 1:
            coords = self._take(f"{endian}{dims}d")
            return shapely.Point(coords[:2])
        if kind in (4, 5, 6, 7, 11, 12):  # Multi*, collection, MultiCurve, MultiSurface
            (n,) = self._take(endian + "I")
            parts = [self.geometry() for _ in range(n)]
            kinds = {p.geom_type for p in parts}
            if kinds == {"LineString"}:
                return shapely.MultiLineString(parts)
            if kinds == {"Polygon"}:
                return shapely.MultiPolygon(parts)
            if kinds == {"Point"}:
                return shapely.MultiPoint(parts)
            return shapely.GeometryCollection(parts)
        raise CurveError(f"WKB geometry type {kind} is not supported")


def linearise_wkb(data: bytes | None, gap: float = CURVE_MAX_GAP):
    """A shapely geometry from WKB that may hold curves (2D; Z and M are dropped).

    Parameters
    ----------
    data : bytes or None
        ISO or extended WKB.
    gap : float
        Longest chord of a linearised arc, in the data's units.

    Returns
    -------
    shapely geometry or None
        None for None input.

    Raises
    ------
    CurveError
        For malformed WKB or a type gridkit does not know.

    Examples
    --------
    >>> import struct
    >>> arc = struct.pack("<BII", 1, 8, 3) + struct.pack("<6d", 0, 0, 10, 10, 20, 0)
    >>> round(linearise_wkb(arc).length, 1)  # half of a circle of radius 10
    31.4
    """
    if data is None:
        return None
    try:
        return _WKB(bytes(data), gap).geometry()
    except (struct.error, ValueError, shapely.errors.GEOSException) as exc:
        raise CurveError(f"unreadable geometry ({exc})") from None
