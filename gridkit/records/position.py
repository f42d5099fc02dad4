"""Where each record is.

Geometry or coordinate columns, in the CRS they are in, located in a unit grid; one implementation
for components and events.

A position comes from the source's geometry, two coordinate columns (X/Y, 经度/纬度), one
``x,y`` column or a WKT column. ``--crs`` names the CRS of coordinate columns and overrides a
vector file's own (a GeoJSON drawn on a Chinese web map says WGS 84 but is GCJ-02).

A row that cannot be placed is rejected with what would place it, tried in this order on the
row's own numbers: the columns swapped (经度 30.7 / 纬度 121.3; Chinese surveying calls the
northing X), a Gauss–Krüger easting with its zone number in front (40 623 694.3 is zone 40:
CGCS2000 EPSG:4528, the 3° zones with prefix are EPSG:4513–4533, without 4534–4554), Web
Mercator metres (EPSG:3857) and Baidu Mercator metres (bd09mc) where degrees were expected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyproj
import shapely

from gridkit.errors import InputError, mention
from gridkit.records.coords import (
    SourceCRS,
    from_pyproj,
    parse_numbers,
    parse_source_crs,
    to_target,
)
from gridkit.records.problems import Problems
from gridkit.sources.columns import ColumnMap
from gridkit.sources.tables import SourceTable


def column(table: pa.Table, name: str | None) -> pa.Array | None:
    """A source column as one Arrow array (None when ``name`` is None)."""
    if name is None:
        return None
    values = table.column(name)
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _np(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False)


def _quote(name: str, values: pa.Array, positions: np.ndarray) -> list[str]:
    return [f"{name} {v!r}" for v in pc.take(values, pa.array(positions)).to_pylist()]


@dataclass
class Located:
    """Positions of a table's rows in the grids' CRS and the unit grid of each.

    Attributes
    ----------
    crs : str
        Label of the CRS the positions were read in (``EPSG:4326``, ``GCJ-02``).
    x, y : numpy.ndarray
        float, one per row, in the grids' CRS (metres); NaN where the row has no usable position.
    shapes : numpy.ndarray or None
        Lines and polygons of a vector source, in the grids' CRS.
    grid : numpy.ndarray
        int, one per row: index into the unit grids (BGID order), -1 outside or unplaced.

    Examples
    --------
    >>> import numpy as np
    >>> located = Located("EPSG:4549", np.array([5.0]), np.array([5.0]), None, np.array([0]))
    >>> located.grid.tolist()
    [0]
    """

    crs: str  # label of the CRS the positions were read in
    x: np.ndarray  # NaN where the row has no usable position
    y: np.ndarray
    shapes: np.ndarray | None  # lines/polygons of a vector source, in the grids' CRS
    grid: np.ndarray  # index into the unit grids, -1 outside or unplaced


class Positioner:
    r"""Reads the positions of tables' rows and locates them against one set of unit grids.

    Positions come from a geometry, X/Y columns, one joined XY column or WKT, in the CRS of
    ``crs`` (or the file's own); a row outside every grid is an ``outside-area`` problem whose
    message suggests the ``--crs`` that would place it.

    Parameters
    ----------
    grids : UnitGrids
        The unit grids (their CRS is the output CRS).
    crs : SourceCRS, optional
        ``--crs``: the CRS of coordinate columns, and of geometries over the file's own.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, tempfile, shapely
    >>> from gridkit.components import UnitGrids
    >>> from gridkit.records import COMPONENT, Problems, parse_source_crs
    >>> from gridkit.sources import map_columns, read_source
    >>> grids = UnitGrids(gpd.GeoDataFrame({"BGID": ["310116001001001"]},
    ...                   geometry=[shapely.box(0, 0, 100, 100)], crs=4549))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "points.csv"
    >>> _ = path.write_text("X,Y\n50,50\n500,50\n", encoding="utf-8")
    >>> table = read_source(path)
    >>> problems = Problems(table.table.num_rows, COMPONENT.rules)
    >>> located = Positioner(grids, parse_source_crs("EPSG:4549")).locate(
    ...     table, map_columns(table.columns, aliases=COMPONENT.aliases), problems)
    >>> located.grid.tolist(), problems.rule_names([1])
    ([0, -1], ['outside-area'])
    """

    def __init__(self, grids, crs: SourceCRS | None) -> None:
        self.grids = grids
        self.crs = crs

    def source_crs(self, source: SourceTable, cmap: ColumnMap | None = None) -> SourceCRS:
        """The CRS of ``source``'s positions: ``--crs``, else the file's own.

        Raises
        ------
        GridkitError
            When neither names one (with the CGCS2000 zone that places the rows, when
            ``cmap``'s coordinate columns hold Gauss–Krüger metres).
        """
        if self.crs is not None:
            return self.crs
        if source.crs is not None:
            return from_pyproj(source.crs)
        what = "geometries" if source.geometry is not None else "coordinates"
        fit = self._projected_fit(source, cmap) if cmap is not None else ""
        raise InputError(
            f"{source.path}: the {what} have no CRS; name it with {mention('crs')} (wgs84, "
            "cgcs2000, gcj02 for Amap/Tencent, bd09 for Baidu, bd09mc for Baidu Mercator "
            f"metres, or EPSG:n){fit}", parameter="crs", file=source.path)

    def _projected_fit(self, source: SourceTable, cmap: ColumnMap) -> str:
        """The hint "; the numbers fit EPSG:n ..." for a table without a CRS, or "".

        Given when the coordinate columns hold Gauss–Krüger metres that a CGCS2000 zone (with
        or without its prefix, X and Y either way) places in the unit grids: survey files name
        no CRS, but metres in a zone are unambiguous.
        """
        x_col, y_col = cmap.get("X"), cmap.get("Y")
        if source.geometry is not None or not (x_col and y_col):
            return ""
        x_values, y_values = column(source.table, x_col), column(source.table, y_col)
        assert x_values is not None and y_values is not None  # both names are given
        xs, _ = parse_numbers(x_values.slice(0, 1000))
        ys, _ = parse_numbers(y_values.slice(0, 1000))
        good = np.isfinite(xs) & np.isfinite(ys) & (np.abs(xs) > 1000) & (np.abs(ys) > 1000)
        if not good.any():
            return ""
        xs, ys = xs[good], ys[good]
        target = from_pyproj(self.grids.crs)
        candidates = [*_zone_candidates(xs, ys), (target.label, target, False),
                      (target.label, target, True)]
        for label, candidate, swap in candidates:
            a, b = (ys, xs) if swap else (xs, ys)
            tx, ty, ok = to_target(a, b, candidate, self.grids.crs)
            placed = int((self.grids.index.locate(np.where(ok, tx, np.nan),
                                                  np.where(ok, ty, np.nan)) >= 0).sum())
            if placed * 2 > xs.size:
                option = f" --x {y_col} --y {x_col}" if swap else ""
                return (f"; the numbers fit {label}{' with X and Y swapped' if swap else ''} "
                        f"({placed} of the first {xs.size} rows fall in unit grids): give "
                        f"--crs {label}{option}")
        return ""

    def locate(self, source: SourceTable, cmap: ColumnMap, problems: Problems) -> Located:
        """Positions and unit grids of every row; problems added to ``problems``."""
        _require_positions(source, cmap)  # before the CRS: no CRS fixes a file without any
        crs = self.source_crs(source, cmap)
        x, y, shapes = self._coordinates(source, cmap, crs, problems)
        grid = self.grids.index.locate(x, y)
        outside = np.flatnonzero(np.isfinite(x) & (grid < 0))
        if outside.size:
            _, distance = self.grids.index.nearest(x[outside], y[outside])
            fixes = self.fixes(source, cmap, crs, outside)
            problems.add("outside-area", outside, [
                f"outside the managed area: ({x[p]:.1f}, {y[p]:.1f}) is {d:,.0f} m from the "
                "nearest unit grid" + (f"; {f}" if f else "; check the coordinates and --crs")
                for p, d, f in zip(outside, distance, fixes, strict=True)])
        return Located(crs.label, x, y, shapes, grid)

    # -- reading positions -------------------------------------------------------------------

    def _coordinates(self, source: SourceTable, cmap: ColumnMap, crs: SourceCRS,
                     problems: Problems) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        # Imported here: gridkit.components imports this module.
        from gridkit.components.layers import representative_xy

        table = source.table
        n = table.num_rows
        sx = np.full(n, np.nan)
        sy = np.full(n, np.nan)
        found = np.zeros(n, bool)  # a position (possibly bad) came from some source
        shapes = None
        names: list[str] = []
        if source.geometry is not None:
            geoms = source.geometry
            names.append("geometry")
            present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
            sx, sy = representative_xy(geoms)
            found |= present
            kinds = shapely.get_type_id(geoms)
            other = present & (kinds != 0)
            if other.any():
                shapes = np.full(n, None, dtype=object)
                shapes[other] = shapely.transform(
                    geoms[other], lambda c: np.column_stack(to_target(c[:, 0], c[:, 1], crs,
                                                                      self.grids.crs)[:2]))
        x_col, y_col = cmap.get("X"), cmap.get("Y")
        if x_col and y_col:
            names.append(f"{x_col}/{y_col}")
            _pair(table, x_col, y_col, sx, sy, found, problems)
        xy_col = cmap.get("XY")
        if xy_col:
            names.append(xy_col)
            _joined(table, xy_col, sx, sy, found, problems)
        wkt_col = cmap.get("WKT")
        if wkt_col:
            names.append(wkt_col)
            _wkt(table, wkt_col, sx, sy, found, problems)
        problems.add("no-coordinates", np.flatnonzero(~found),
                     f"no coordinates: {' and '.join(names)} empty")
        x, y, ok = to_target(sx, sy, crs, self.grids.crs)
        bad = np.flatnonzero(found & ~ok & ~np.isnan(sx) & ~np.isnan(sy))
        if bad.size:
            fixes = self.fixes(source, cmap, crs, bad, sx[bad], sy[bad])
            problems.add("bad-coordinates", bad, [
                self._range_message(sx[p], sy[p], crs, f) for p, f in zip(bad, fixes,
                                                                          strict=True)])
        x[~ok], y[~ok] = np.nan, np.nan
        return x, y, shapes

    @staticmethod
    def _range_message(x: float, y: float, crs: SourceCRS, fix: str) -> str:
        if fix:
            return f"({x:g}, {y:g}) cannot be read in {crs.label}: {fix}"
        if crs.geographic and (abs(x) > 180 or abs(y) > 90):
            return (f"({x:g}, {y:g}) are not longitude/latitude, but --crs is {crs.label}; name "
                    "the CRS the coordinates are in (e.g. --crs EPSG:4549)")
        if crs.shift == "GCJ-02" or crs.shift == "BD-09":
            return (f"({x:g}, {y:g}): no WGS-84 position maps to this {crs.shift} point (it "
                    f"lies at the edge of the rectangle {crs.shift} is defined on); check the "
                    "coordinates and --crs")
        return f"({x:g}, {y:g}) cannot be converted from {crs.label}"

    # -- what would place a row -------------------------------------------------------------

    def fixes(self, source: SourceTable, cmap: ColumnMap, crs: SourceCRS, rows: np.ndarray,
              xs: np.ndarray | None = None, ys: np.ndarray | None = None) -> list[str]:
        """For each of ``rows``, the option that would place it in a unit grid ("" if none)."""
        answers = [""] * rows.size
        x_col, y_col = cmap.get("X"), cmap.get("Y")
        if xs is None or ys is None:
            if not (x_col and y_col):
                return answers
            xs, _ = parse_numbers(pc.take(column(source.table, x_col), pa.array(rows)))
            ys, _ = parse_numbers(pc.take(column(source.table, y_col), pa.array(rows)))
        names = (x_col, y_col) if x_col and y_col else ("X", "Y")
        todo = np.isfinite(xs) & np.isfinite(ys)
        for label, candidate, swap in self._candidates(crs, xs[todo], ys[todo]):
            if not todo.any():
                break
            a, b = (ys, xs) if swap else (xs, ys)
            tx, ty, ok = to_target(a, b, candidate, self.grids.crs)
            grid = self.grids.index.locate(np.where(ok & todo, tx, np.nan),
                                           np.where(ok & todo, ty, np.nan))
            placed = np.flatnonzero(todo & (grid >= 0))
            for p in placed:
                bgid = self.grids.bgid[grid[p]]
                option = f"--x {names[1]} --y {names[0]}" if swap else ""
                if swap and candidate is crs:
                    answers[p] = (f"{names[0]} {xs[p]:g} / {names[1]} {ys[p]:g} look swapped: "
                                  f"swapped, the row falls in unit grid {bgid} (Chinese "
                                  f"surveying calls the northing X); give {option}")
                else:
                    answers[p] = (f"the numbers fit {label}"
                                  f"{' with X and Y swapped' if swap else ''} (the row falls in "
                                  f"unit grid {bgid}); give --crs {label}"
                                  f"{' ' + option if option else ''}")
            todo[placed] = False
        return answers

    def _candidates(self, crs: SourceCRS, xs: np.ndarray, ys: np.ndarray):
        """(option text, CRS, swap) to try, most likely first."""
        yield crs.label, crs, True
        yield from _zone_candidates(xs, ys)
        target = from_pyproj(self.grids.crs)
        if target.label != crs.label:
            yield target.label, target, False
            yield target.label, target, True
        if crs.geographic or crs.shift == "BD-09MC":
            mercator = from_pyproj(pyproj.CRS.from_epsg(3857))
            yield "EPSG:3857", mercator, False
            yield "bd09mc", parse_source_crs("bd09mc"), False
        if not crs.geographic:
            wgs = parse_source_crs("wgs84")
            yield "wgs84", wgs, False
            yield "wgs84", wgs, True


def _zone_candidates(xs: np.ndarray, ys: np.ndarray):
    """(option text, CRS, swap) for each CGCS2000 zone whose number leads an easting.

    An easting of 10⁷ m or more carries its zone: 6° zones 13–23 (EPSG:4491–4501), 3° zones
    25–45 (EPSG:4513–4533).
    """
    values = np.concatenate([xs, ys])
    big = values[np.abs(values) >= 1e7]
    zones = sorted({int(v // 1e6) for v in big if 13 <= v // 1e6 <= 45})
    for zone in zones:
        epsg = 4513 + zone - 25 if zone >= 25 else 4491 + zone - 13
        candidate = from_pyproj(pyproj.CRS.from_epsg(epsg))
        yield f"EPSG:{epsg}", candidate, False
        yield f"EPSG:{epsg}", candidate, True


def _pair(table, x_col, y_col, sx, sy, found, problems) -> None:
    todo = np.isnan(sx)
    xs, x_present = parse_numbers(column(table, x_col))
    ys, y_present = parse_numbers(column(table, y_col))
    both = todo & x_present & y_present
    good = both & np.isfinite(xs) & np.isfinite(ys)
    sx[good], sy[good] = xs[good], ys[good]
    found |= todo & (x_present | y_present)
    for col, values, present, numbers in ((x_col, column(table, x_col), x_present, xs),
                                          (y_col, column(table, y_col), y_present, ys)):
        bad = np.flatnonzero(todo & present & ~np.isfinite(numbers))
        problems.add("bad-coordinates", bad,
                     [f"{q} is not a number" for q in _quote(col, values, bad)])
    half = np.flatnonzero(todo & (x_present ^ y_present))
    problems.add("bad-coordinates", half,
                 [f"only {x_col if x_present[p] else y_col} is filled; the position needs "
                  f"both {x_col} and {y_col}" for p in half])


def _joined(table, name, sx, sy, found, problems) -> None:
    todo = np.isnan(sx) & ~found
    values = pc.utf8_trim_whitespace(column(table, name))
    present = _np(pc.not_equal(values, "")) & todo
    parts = pc.split_pattern_regex(values, r"[,;，；\s]+")
    count = _np(pc.list_value_length(parts))
    two = present & (count == 2)
    xs, _ = parse_numbers(pc.fill_null(pc.list_element(
        pc.if_else(pa.array(count >= 1), parts, pa.scalar(["0"], parts.type)), 0), ""))
    ys, _ = parse_numbers(pc.fill_null(pc.list_element(
        pc.if_else(pa.array(count >= 2), parts, pa.scalar(["0", "0"], parts.type)), 1), ""))
    good = two & np.isfinite(xs) & np.isfinite(ys)
    sx[good], sy[good] = xs[good], ys[good]
    found |= present
    bad = np.flatnonzero(present & ~good)
    problems.add("bad-coordinates", bad, [f"{q} is not 'x,y' (two numbers)"
                                          for q in _quote(name, values, bad)])


def _require_positions(source: SourceTable, cmap: ColumnMap) -> None:
    """Refuse a table with no geometry and no coordinate column, naming its columns."""
    if source.geometry is not None or (cmap.get("X") and cmap.get("Y")) or cmap.get("XY") \
            or cmap.get("WKT"):
        return
    header = (f" (the header was read from row {source.header_row}; if it is another "
              "row, give `header_row=N`)" if source.header_row > 1 or
              source.encoding == "xlsx" or source.path.suffix.lower() == ".csv" else "")
    raise InputError(
        f"{source.path}: no coordinates: no geometry and no coordinate columns among "
        f"{', '.join(source.columns)} (looked for 经度/纬度, lon/lat, lng, X/Y, 坐标, "
        f"WKT){header}; name them with {mention(maps={'X': 'COLUMN', 'Y': 'COLUMN'})}",
        parameter="maps", file=source.path)


def _wkt(table, name, sx, sy, found, problems) -> None:
    from gridkit.components.layers import representative_xy

    todo = np.isnan(sx) & ~found
    values = pc.utf8_trim_whitespace(column(table, name))
    present = np.flatnonzero(_np(pc.not_equal(values, "")) & todo)
    if present.size == 0:
        return
    texts = pc.take(values, pa.array(present)).to_pylist()
    geoms = shapely.from_wkt(np.asarray(texts, dtype=object), on_invalid="ignore")
    px, py = representative_xy(geoms)
    ok = np.isfinite(px) & np.isfinite(py)
    sx[present[ok]], sy[present[ok]] = px[ok], py[ok]
    found[present] = True
    bad = present[~ok]
    problems.add("bad-coordinates", bad, [f"{q} is not WKT (e.g. POINT (121.3 30.7))"
                                          for q in _quote(name, values, bad)])
