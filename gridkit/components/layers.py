"""The ``component`` and ``component_reject`` layers as Arrow tables, and point WKB in bulk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyproj
import shapely

from gridkit.io import ArrowLayer, layers_of

COMPONENT_FIELDS = (
    "OBJCODE", "OBJNAME", "MAJOR", "MINOR", "DEPTCODE1", "DEPTNAME1", "DEPTCODE2", "DEPTNAME2",
    "DEPTCODE3", "DEPTNAME3", "BGID", "OBJSTATE", "ORDATE", "CHDATE", "DATASOURCE", "NOTE",
    "PICTURE", "SRCROW", "COMMUNITY", "STREET", "SRCFILE", "EXTRA",
)
DATE_FIELDS = ("ORDATE", "CHDATE")
REJECT_FIELDS = ("SRCFILE", "SRCROW", "RULE", "REASON", "RAW")
GEOMETRY = "geometry"


def component_schema() -> pa.Schema:
    """The Arrow schema of the ``component`` layer: the production system's fields, WKB geometry."""
    types = {"SRCROW": pa.int64(), "ORDATE": pa.date32(), "CHDATE": pa.date32()}
    return pa.schema([(f, types.get(f, pa.string())) for f in COMPONENT_FIELDS]
                     + [(GEOMETRY, pa.binary())])


def reject_schema() -> pa.Schema:
    """The Arrow schema of the ``component_reject`` table."""
    return pa.schema([(f, pa.int64() if f == "SRCROW" else pa.string()) for f in REJECT_FIELDS]
                     + [(GEOMETRY, pa.binary())])


def point_wkb(x: np.ndarray, y: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Little-endian WKB points built in one numpy pass (null where not ``valid``)."""
    n = len(x)
    raw = np.empty((n, 21), dtype=np.uint8)
    raw[:, 0] = 1
    raw[:, 1:5] = np.frombuffer(np.uint32(1).astype("<u4").tobytes(), dtype=np.uint8)
    raw[:, 5:13] = np.ascontiguousarray(x, dtype="<f8").view(np.uint8).reshape(n, 8)
    raw[:, 13:21] = np.ascontiguousarray(y, dtype="<f8").view(np.uint8).reshape(n, 8)
    mask = None if valid is None else pa.array(np.asarray(valid, bool)).buffers()[1]
    fixed = pa.Array.from_buffers(pa.binary(21), n, [mask, pa.py_buffer(raw.tobytes())],
                                  null_count=-1 if mask is not None else 0)
    return fixed.cast(pa.binary())


def geometry_wkb(x: np.ndarray, y: np.ndarray, shapes: np.ndarray | None,
                 valid: np.ndarray | None = None) -> pa.Array:
    """Points from x/y, except where ``shapes`` holds a line or polygon to write as it is."""
    if shapes is None or not any(s is not None for s in shapes):
        return point_wkb(x, y, valid)
    geoms = shapely.points(x, y)
    has_shape = np.array([s is not None for s in shapes])
    geoms[has_shape] = shapes[has_shape]
    if valid is not None:
        geoms[~np.asarray(valid, bool)] = None
    return pa.array(shapely.to_wkb(geoms), pa.binary())


def wkb_points(wkb: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of WKB geometries: the point itself, or a point on a line/polygon."""
    fast = _plain_points(wkb)
    if fast is not None:
        return fast
    geoms = shapely.from_wkb(np.asarray(wkb.to_numpy(zero_copy_only=False), dtype=object),
                             on_invalid="ignore")
    return representative_xy(geoms)


def _plain_points(wkb: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """Read 2D little-endian WKB points straight from the Arrow buffer; None for anything else.

    That is what gridkit and GDAL write; no geometry object is made per row.
    """
    wkb = wkb.cast(pa.binary())
    if len(wkb) == 0 or wkb.null_count or wkb.offset:
        return None
    offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int32, count=len(wkb) + 1)
    if offsets[0] != 0 or not np.all(np.diff(offsets) == 21):
        return None
    raw = np.frombuffer(wkb.buffers()[2], dtype=np.uint8, count=21 * len(wkb)).reshape(-1, 21)
    if not (np.all(raw[:, 0] == 1) and np.all(raw[:, 1:5] == np.array([1, 0, 0, 0],
                                                                        np.uint8))):
        return None
    x = raw[:, 5:13].copy().view("<f8").ravel()
    y = raw[:, 13:21].copy().view("<f8").ravel()
    return x.astype(float), y.astype(float)


def representative_xy(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A point per geometry that lies on it: itself, a line's midpoint, inside a polygon."""
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    kinds = shapely.get_type_id(geoms)
    point = present & (kinds == 0)
    x[point] = shapely.get_x(geoms[point])
    y[point] = shapely.get_y(geoms[point])
    lines = present & np.isin(kinds, (1, 2, 5))
    if lines.any():
        mid = shapely.line_interpolate_point(geoms[lines], 0.5, normalized=True)
        x[lines], y[lines] = shapely.get_x(mid), shapely.get_y(mid)
    other = present & ~point & ~lines
    if other.any():
        inner = shapely.point_on_surface(geoms[other])
        x[other], y[other] = shapely.get_x(inner), shapely.get_y(inner)
    return x, y


def crs_text(crs: pyproj.CRS) -> str:
    """``EPSG:n`` when the CRS has a code, else its WKT."""
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


def read_layer(path: Path, layer: str, where: str | None = None) -> pa.Table | None:
    """A layer of ``path`` as Arrow with its geometry column named ``geometry``; None if absent.

    ``where`` is an SQL condition on its rows (all rows without).
    """
    import pyogrio

    if not path.exists() or layer not in layers_of(path):
        return None
    meta, table = pyogrio.read_arrow(path, layer=layer, where=where)
    name = meta.get("geometry_name") or ""
    columns = {}
    for field in table.schema:
        column = table.column(field.name)
        if field.name == name:
            columns[GEOMETRY] = column.cast(pa.binary())
        else:
            columns[field.name] = column
    return pa.table(columns)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns first (cast, null where missing), its others after."""
    columns, fields = [], []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name)
            columns.append(column.cast(field.type) if column.type != field.type else column)
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
        fields.append(field)
    for name in table.column_names:
        if name not in schema.names:
            columns.append(table.column(name))
            fields.append(pa.field(name, table.schema.field(name).type))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def arrow_layer(table: pa.Table | pa.RecordBatchReader, crs: pyproj.CRS,
                kind: str | None = None) -> ArrowLayer:
    """An ArrowLayer of ``table`` (or a stream of batches, which needs ``kind``)."""
    if kind is None:
        kind = geometry_kind(table.column(GEOMETRY))
    return ArrowLayer(table, crs_text(crs), kind, GEOMETRY)


def geometry_kind(geometry: pa.ChunkedArray | pa.Array) -> str:
    """The layer geometry type for WKB values: the one type present, Point when none."""
    kinds = _geometry_kinds(geometry)
    return kinds.pop() if len(kinds) == 1 else ("Point" if not kinds else "Unknown")


def _geometry_kinds(geometry: pa.ChunkedArray) -> set[str]:
    """Geometry types present, from the WKB type word (no parsing of the geometries)."""
    import pyarrow.compute as pc

    words = pc.binary_slice(geometry, 1, 5) if hasattr(pc, "binary_slice") else None
    if words is None:  # pragma: no cover - old pyarrow
        geoms = shapely.from_wkb(np.asarray(geometry.to_numpy(zero_copy_only=False),
                                            dtype=object))
        return {str(t) for t in shapely.get_type_id(geoms)}
    names = {1: "Point", 2: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
             6: "MultiPolygon", 7: "GeometryCollection"}
    kinds = set()
    for word in pc.unique(words).to_pylist():
        if word is None or len(word) != 4:
            continue
        code = int.from_bytes(word, "little") % 1000
        kinds.add(names.get(code, "Unknown"))
    return kinds
