"""CSV with coordinates: one file per layer, for spreadsheets and systems that import tables.

Point layers get X, Y (in OUT.gpkg's CRS, metres, full precision) and LON, LAT (WGS 84
degrees, 8 decimals, about 1 mm). Layers with lines or polygons get the geometry as WKT (in
OUT.gpkg's CRS) and X, Y, LON, LAT of its centroid. A name already used by the layer gets a
GEOM_ prefix. Each CSV has a .csvt beside it giving GDAL the column types (so codes stay text
and WKT is read as the geometry). Text is UTF-8 with a BOM (Excel then reads Chinese
correctly), or GBK with ``--encoding gbk``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

from gridkit.export.layer import Layer, reproject
from gridkit.export.writers import WriteContext, Written
from gridkit.export.writers.text import as_plain_types, fit_encoding

LONLAT_DECIMALS = 8


def write(layers: list[Layer], target: Path, context: WriteContext) -> Written:
    """One CSV per layer with X/Y (points) or WKT, text in the chosen encoding."""
    written = Written()
    for layer in layers:
        table = _with_coordinates(layer, as_plain_types(layer.table))
        table, replaced = fit_encoding(table, layer.name, context.encoding,
                                       "export with `encoding='utf-8'`")
        for field, count in replaced.items():
            written.warnings.append(f"{layer.name}.{field}: {count} value(s) with symbols GBK "
                                    "lacks written with look-alikes (m² as m2, ...)")
        name = f"{layer.name}.csv"
        (target / name).write_bytes(_encode(table, context.encoding))
        (target / f"{layer.name}.csvt").write_text(_csvt(table), encoding="ascii")
        written.files[layer.name] = [name, f"{layer.name}.csvt"]
    return written


def _with_coordinates(layer: Layer, table: pa.Table) -> pa.Table:
    if not layer.spatial:
        return table
    shapes = layer.shapes()
    families = set(layer.families()) - {""}
    # Without features the declared type decides, so an empty delta has the full columns.
    point_layer = families <= {"point"} if families else layer.main_family() == "point"
    points = shapes if point_layer else shapely.centroid(shapes)
    x, y = shapely.get_x(points), shapely.get_y(points)
    taken = set(table.column_names)
    if not point_layer:
        wkt = shapely.to_wkt(shapes, rounding_precision=-1, trim=True)
        table = table.append_column(_free("WKT", taken), pa.array(wkt.tolist(), pa.string()))
    table = table.append_column(_free("X", taken), _numbers(x))
    table = table.append_column(_free("Y", taken), _numbers(y))
    if layer.crs:
        lonlat = reproject(points, layer.crs, "EPSG:4326")
        lon = np.round(shapely.get_x(lonlat), LONLAT_DECIMALS)
        lat = np.round(shapely.get_y(lonlat), LONLAT_DECIMALS)
        table = table.append_column(_free("LON", taken), _numbers(lon))
        table = table.append_column(_free("LAT", taken), _numbers(lat))
    return table


def _free(name: str, taken: set[str]) -> str:
    chosen = name if name not in taken else f"GEOM_{name}"
    taken.add(chosen)
    return chosen


def _numbers(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.float64(), mask=~np.isfinite(values))


def _encode(table: pa.Table, encoding: str) -> bytes:
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(quoting_style="needed"))
    data = buffer.getvalue()
    if encoding == "utf-8":
        return b"\xef\xbb\xbf" + data
    # fit_encoding has made every value encodable; the header names were checked with it.
    return data.decode("utf-8").encode(encoding)


def _csvt(table: pa.Table) -> str:
    """GDAL's CSV type sidecar: one quoted type per column."""
    return ",".join(f'"{_gdal_type(f)}"' for f in table.schema) + "\n"


def _gdal_type(field: pa.Field) -> str:
    kind = field.type
    if field.name in ("WKT", "GEOM_WKT") and pa.types.is_string(kind):
        return "WKT"
    if pa.types.is_boolean(kind):
        return "Integer(Boolean)"
    if pa.types.is_integer(kind):
        return "Integer64"
    if pa.types.is_floating(kind):
        return "Real"
    if pa.types.is_date(kind):
        return "Date"
    return "String"
