"""Which unit grid holds each component: millions of points against tens of thousands of grids.

**Edge rule.** A point lies in a grid when it is inside it or on its boundary. A point on an
edge shared by several grids (or on a shared vertex) goes to the one that comes first in the
index order, which the importer makes the ascending BGID order: *the smallest BGID wins*. The
rule needs no tolerance and gives the same answer for the same point every time.

**How.** A test per point against an R-tree costs about 3 µs in GEOS, half a minute for a
city's 11 million components. Unit grids form a coverage, so almost every point can be
answered from a raster instead: the grids' extent is cut into square cells (about 400 per
grid and eight per point to locate, at most 2**24); every cell that an edge passes through
(computed with a margin, so that rounding cannot hide one) is a *boundary cell*, and every
other cell lies wholly inside one grid or wholly outside all of them, which a scanline fill of
the polygons gives once. Points in boundary cells (one in six or so) take the exact GEOS test
with the edge rule; the rest are one array lookup. Both paths agree exactly;
``tests/test_census_locate.py`` checks it on random layouts with points on edges and vertices.
"""

from __future__ import annotations

import numpy as np
import shapely

OUTSIDE = -1
_EXACT = -2
_MAX_CELLS = 1 << 24
_CELLS_PER_POLYGON = 400
_CELLS_PER_POINT = 8
_MARGIN = 1e-6  # of a cell: edges this close to a cell line mark the cells on both sides
_SMALL = 20_000  # fewer points than this: the exact test alone is faster than a raster


class GridIndex:
    """Point location in a polygonal coverage of unit grids, by the edge rule.

    A point on a shared edge or vertex goes to the polygon first in ``geoms`` (the smallest BGID
    when ``geoms`` is in BGID order). Large batches are answered from a raster of the coverage,
    the few points in cells an edge crosses by the exact GEOS test; both agree exactly.

    Parameters
    ----------
    geoms : numpy.ndarray
        Shapely polygons forming a coverage (no overlaps), in priority order.
    raster : bool, optional
        Force (True) or forbid (False) the raster; default: from 20,000 points on.
    max_cells : int, optional
        The raster's largest cell count (memory: 8 bytes per cell).

    Examples
    --------
    >>> import numpy as np, shapely
    >>> index = GridIndex(np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)]))
    >>> index.locate([5.0, 10.0, 25.0], [5.0, 5.0, 5.0]).tolist()
    [0, 0, -1]
    """

    def __init__(self, geoms: np.ndarray, *, raster: bool | None = None,
                 max_cells: int = _MAX_CELLS) -> None:
        self.geoms = np.asarray(geoms, dtype=object)
        self.tree = shapely.STRtree(self.geoms)
        self._use_raster = raster
        self._max_cells = max_cells
        self._table: np.ndarray | None = None
        self._built_for = 0

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index of the grid holding each point (-1 outside all; NaN coordinates give -1)."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        result = np.full(x.shape, OUTSIDE, dtype=np.int64)
        finite = np.isfinite(x) & np.isfinite(y)
        use_raster = self._use_raster
        if use_raster is None:
            use_raster = finite.sum() >= _SMALL
        if not use_raster or len(self.geoms) == 0:
            positions = np.flatnonzero(finite)
            result[positions] = self.exact(x[positions], y[positions])
            return result
        table = self._raster(int(finite.sum()))
        fx = np.floor((x - self._x0) / self._cell)
        fy = np.floor((y - self._y0) / self._cell)
        inside = finite & (fx >= 0) & (fx < self._nx) & (fy >= 0) & (fy < self._ny)
        positions = np.flatnonzero(inside)
        labels = table[fy[positions].astype(np.int64) * self._nx + fx[positions].astype(np.int64)]
        result[positions] = labels
        exact = positions[labels == _EXACT]
        result[exact] = self.exact(x[exact], y[exact])
        return result

    def exact(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """GEOS point-in-polygon (boundary included), the smallest index winning ties."""
        result = np.full(len(x), OUTSIDE, dtype=np.int64)
        if len(x) == 0:
            return result
        points, grids = self.tree.query(shapely.points(x, y), predicate="intersects")
        if len(points):
            order = np.lexsort((grids, points))
            points, grids = points[order], grids[order]
            first = np.r_[True, points[1:] != points[:-1]]
            result[points[first]] = grids[first]
        return result

    def __getstate__(self) -> dict:
        # The raster is rebuilt where it is used, for the points that go there.
        state = dict(self.__dict__)
        state["_table"], state["_built_for"] = None, 0
        return state

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index, distance) of the nearest grid, for telling how far outside a point is."""
        if len(x) == 0 or len(self.geoms) == 0:
            return np.full(len(x), OUTSIDE), np.full(len(x), np.inf)
        points = shapely.points(x, y)
        (which, grids), distances = self.tree.query_nearest(points, return_distance=True,
                                                            all_matches=False)
        index = np.full(len(x), OUTSIDE)
        distance = np.full(len(x), np.inf)
        index[which] = grids
        distance[which] = distances
        return index, distance

    # -- the raster ------------------------------------------------------------------------

    def _raster(self, points: int) -> np.ndarray:
        # Built for the first big batch; rebuilt finer when a much bigger one comes.
        if self._table is None or (points > 4 * self._built_for
                                   and self._built_for * _CELLS_PER_POINT < self._max_cells):
            self._table = self._build(points)
            self._built_for = points
        return self._table

    def _build(self, points: int) -> np.ndarray:
        xmin, ymin, xmax, ymax = shapely.total_bounds(self.geoms)
        # Finer cells send fewer points to the exact test but cost more to build: about eight
        # cells per point to locate balances the two.
        wanted = min(self._max_cells, _CELLS_PER_POLYGON * len(self.geoms),
                     max(_CELLS_PER_POINT * points, 1 << 16))
        cell = max(np.sqrt((xmax - xmin) * (ymax - ymin) / max(wanted, 1)), 1e-6)
        # One spare cell on every side: points on the outermost edges stay in the raster.
        self._cell = cell
        self._x0, self._y0 = xmin - cell, ymin - cell
        self._nx = int(np.ceil((xmax - self._x0) / cell)) + 2
        self._ny = int(np.ceil((ymax - self._y0) / cell)) + 2
        starts, ends, owner = _segments(self.geoms)
        table = _scanline_fill(starts, ends, owner, self._x0, self._y0, cell, self._nx,
                               self._ny)
        _mark_boundary(table, starts, ends, self._x0, self._y0, cell, self._nx, self._ny)
        return table


def _segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every ring edge: start xy, end xy, owning polygon index."""
    rings, owner = shapely.get_parts(shapely.boundary(geoms), return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    return coords[:-1][same], coords[1:][same], owner[ring[:-1][same]]


def _scanline_fill(starts, ends, owner, x0, y0, cell, nx, ny) -> np.ndarray:
    """Label each cell by the polygon holding its centre (even-odd rule per polygon)."""
    table = np.full(nx * ny, OUTSIDE, dtype=np.int32)
    ya, yb = starts[:, 1], ends[:, 1]
    low, high = np.minimum(ya, yb), np.maximum(ya, yb)
    # Rows whose centre y is in [low, high): the half-open rule counts a vertex once.
    first = np.ceil((low - y0) / cell - 0.5).astype(np.int64)
    stop = np.ceil((high - y0) / cell - 0.5).astype(np.int64)
    count = np.maximum(stop - first, 0)
    seg = np.repeat(np.arange(len(starts)), count)
    if seg.size == 0:
        return table
    row = np.repeat(first, count) + (np.arange(seg.size) - np.repeat(np.cumsum(count) - count,
                                                                      count))
    yc = y0 + (row + 0.5) * cell
    xa, xb = starts[seg, 0], ends[seg, 0]
    y1, y2 = starts[seg, 1], ends[seg, 1]
    xc = xa + (yc - y1) * (xb - xa) / (y2 - y1)
    poly = owner[seg]
    order = np.lexsort((xc, poly.astype(np.int64) * ny + row))
    row, xc, poly = row[order], xc[order], poly[order]
    # Crossings pair up per (polygon, row): inside between the 1st and 2nd, 3rd and 4th, ...
    left, right = xc[0::2], xc[1::2]
    row, poly = row[0::2], poly[0::2]
    col_a = np.ceil((left - x0) / cell - 0.5).astype(np.int64)
    col_b = np.ceil((right - x0) / cell - 0.5).astype(np.int64)
    length = np.maximum(col_b - col_a, 0)
    base = row * nx + col_a
    total = int(length.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(length) - length, length)
    table[np.repeat(base, length) + offsets] = np.repeat(poly, length).astype(np.int32)
    return table


def _mark_boundary(table, starts, ends, x0, y0, cell, nx, ny, chunk: int = 1 << 15) -> None:
    """Mark every cell an edge passes through as needing the exact test."""
    step = cell / 2  # samples closer than a cell: consecutive ones are in adjacent cells
    for lo in range(0, len(starts), chunk):
        a, b = starts[lo:lo + chunk], ends[lo:lo + chunk]
        length = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
        count = np.ceil(length / step).astype(np.int64) + 1
        seg = np.repeat(np.arange(len(a)), count)
        k = np.arange(seg.size) - np.repeat(np.cumsum(count) - count, count)
        t = k / np.maximum(np.repeat(count, count) - 1, 1)
        fx = (a[seg, 0] + t * (b[seg, 0] - a[seg, 0]) - x0) / cell
        fy = (a[seg, 1] + t * (b[seg, 1] - a[seg, 1]) - y0) / cell
        cx = [np.floor(fx - _MARGIN).astype(np.int64), np.floor(fx + _MARGIN).astype(np.int64)]
        cy = [np.floor(fy - _MARGIN).astype(np.int64), np.floor(fy + _MARGIN).astype(np.int64)]
        for gx in cx:
            for gy in cy:
                table[gy * nx + gx] = _EXACT
        # Between two consecutive samples an edge can cut one corner cell: mark both candidates.
        same = seg[1:] == seg[:-1]
        for gx, gy in ((cx[0][1:], cy[0][:-1]), (cx[0][:-1], cy[0][1:])):
            table[(gy * nx + gx)[same]] = _EXACT


class UnitGrids:
    """The ``unit_grid`` layer as arrays, sorted by BGID (the edge rule's order), indexed.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The unit grids with BGID (15 digits) and a CRS; COMMUNITY, STREET and AREA are taken from
        the BGID and geometry when absent.

    Raises
    ------
    GridkitError
        When ``frame`` has no geometry, CRS or BGID field.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> grids = UnitGrids(gpd.GeoDataFrame(
    ...     {"BGID": ["310116001001002", "310116001001001"]},
    ...     geometry=[shapely.box(100, 0, 200, 100), shapely.box(0, 0, 100, 100)], crs=4549))
    >>> grids.bgid.tolist(), grids.street.tolist(), grids.area.tolist()
    (['310116001001001', '310116001001002'], ['310116001', '310116001'], [10000.0, 10000.0])
    >>> grids.bgid[grids.index.locate([100.0], [50.0])].tolist()  # the edge: smallest BGID
    ['310116001001001']
    """

    def __init__(self, frame) -> None:
        import geopandas as gpd

        from gridkit.errors import InputError

        if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
            raise InputError("unit_grid has no geometry or no CRS")
        missing = [f for f in ("BGID",) if f not in frame]
        if missing:
            raise InputError(f"unit_grid has no {', '.join(missing)} field; run gridkit "
                             "partition again")
        frame = frame.sort_values("BGID", kind="stable").reset_index(drop=True)
        self.crs = frame.crs
        self.bgid = frame["BGID"].astype(str).to_numpy(dtype=object)
        self.community = (frame["COMMUNITY"].astype(str) if "COMMUNITY" in frame
                          else frame["BGID"].astype(str).str[:12]).to_numpy(dtype=object)
        self.street = (frame["STREET"].astype(str) if "STREET" in frame
                       else frame["BGID"].astype(str).str[:9]).to_numpy(dtype=object)
        county = frame["BGID"].astype(str).str[:6]
        self.county = np.where(county.str.fullmatch(r"\d{6}"), county, "-1").astype(np.int64)
        self.geoms = np.asarray(frame.geometry.array, dtype=object)
        self.area = (frame["AREA"].to_numpy(dtype=float) if "AREA" in frame
                     else shapely.area(self.geoms))
        self.index = GridIndex(self.geoms)
        self.bounds = shapely.bounds(self.geoms)
        import pyarrow as pa

        self.bgid_arrow = pa.array(self.bgid, pa.string())
        self.community_arrow = pa.array(self.community, pa.string())
        self.street_arrow = pa.array(self.street, pa.string())

    def __len__(self) -> int:
        return len(self.bgid)
