"""Shapefiles.

One per layer (one per geometry family when a layer mixes points, lines and polygons), field names
shortened by :mod:`gridkit.export.shpnames`, text in GBK or UTF-8 with a .cpg naming it, and
``field_names.csv`` mapping every field to its Shapefile name.
"""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio

from gridkit.errors import InputError, mention
from gridkit.export.fields import titles
from gridkit.export.layer import Layer, type_names
from gridkit.export.shpnames import shapefile_names
from gridkit.export.writers import WriteContext, Written
from gridkit.export.writers.text import as_plain_types, fit_encoding, truncate

FIELD_NAMES = "field_names.csv"
TEXT_LIMIT = 254  # bytes in a DBF character field
# GDAL's name for the encoding, what the .cpg says (a code page number, which ArcGIS, QGIS
# and GDAL all read) and the DBF language driver id for readers that ignore .cpg files.
_ENCODINGS = {"gbk": ("CP936", "936", 0x4D), "utf-8": ("UTF-8", "UTF-8", None)}
_FIX = "export with `encoding='utf-8'`"


def write(layers: list[Layer], target: Path, context: WriteContext) -> Written:
    """One Shapefile per layer (per geometry family when mixed), names cut to 10 bytes, a .cpg."""
    encoding = context.encoding
    written = Written()
    mapping_rows = []
    for layer in layers:
        names = shapefile_names(layer.fields, encoding)
        table = as_plain_types(layer.table)
        table, replaced = fit_encoding(table, layer.name, encoding, _FIX)
        for field, count in replaced.items():
            written.warnings.append(f"{layer.name}.{field}: {count} value(s) with symbols GBK "
                                    "lacks written with look-alikes (m² as m2, ...)")
        table, cut = truncate(table, TEXT_LIMIT, encoding)
        for field, count in cut.items():
            written.warnings.append(f"{layer.name}.{field}: {count} value(s) longer than "
                                    f"{TEXT_LIMIT} bytes cut (a DBF limit; use --to gpkg)")
        table = table.rename_columns([names[n] for n in table.column_names])
        files = []
        for suffix, rows in _parts(layer):
            stem = layer.name + suffix
            part = layer if rows is None else layer.take(rows)
            _write_part(target, stem, part, table if rows is None else table.take(rows),
                        encoding)
            files.append(f"{stem}.{'shp' if part.spatial else 'dbf'}")
        written.files[layer.name] = files
        aliases = titles(layer.name, layer.fields)
        mapping_rows += [(layer.name, ";".join(files), field, names[field], aliases[field])
                         for field in layer.fields]
    _write_mapping(target / FIELD_NAMES, mapping_rows)
    written.extra.append(FIELD_NAMES)
    return written


def _parts(layer: Layer) -> list[tuple[str, np.ndarray | None]]:
    """The parts a layer is written as: ``[("", None)]`` for one geometry type.

    A layer of any geometry type (the component layer, where linear and areal classes keep their
    shape) is split by family, _point/_line/_polygon, always, so that a delta with points only still
    names its file like the full export; features without a geometry go with the first part.
    """
    if not layer.spatial:
        return [("", None)]
    families = layer.families()
    if "collection" in set(families):
        row = int(np.flatnonzero(families == "collection")[0])
        raise InputError(f"layer {layer.name} feature {row + 1} is a GeometryCollection, "
                         f"which a Shapefile cannot hold; use {mention(format='gpkg')}",
                         parameter="format")
    present = [f for f in ("point", "line", "polygon") if f in set(families)]
    if layer.geometry_type not in (None, "Unknown", "Geometry") and len(present) <= 1:
        return [("", None)]
    present = present or [layer.main_family() or "point"]
    return [(f"_{family}", np.flatnonzero((families == family)
                                          | ((families == "") & (number == 0))))
            for number, family in enumerate(present)]


def _write_part(target: Path, stem: str, part: Layer, rows: pa.Table, encoding: str) -> None:
    gdal_encoding, cpg, ldid = _ENCODINGS[encoding]
    path = target / f"{stem}.{'shp' if part.spatial else 'dbf'}"
    with warnings.catch_warnings():
        # GDAL reports the .dbf-only file of an attribute table; nothing is wrong with it.
        warnings.simplefilter("ignore", RuntimeWarning)
        if part.spatial:
            rows = rows.append_column(pa.field("geometry", pa.binary()), part.geometry)
            pyogrio.write_arrow(rows, path, driver="ESRI Shapefile", geometry_name="geometry",
                                geometry_type=_shape_type(part), crs=part.crs,
                                encoding=gdal_encoding)
        else:
            pyogrio.write_arrow(rows, path, driver="ESRI Shapefile", encoding=gdal_encoding)
    path.with_suffix(".cpg").write_text(cpg, encoding="ascii")
    if ldid is not None:
        _set_language_driver(path.with_suffix(".dbf"), ldid)


def _shape_type(part: Layer) -> str:
    """The Shapefile shape type: one per family, multi-part where any feature needs it."""
    names = type_names(part)
    family = part.main_family() or "point"
    single = {"point": "Point", "line": "LineString", "polygon": "Polygon"}[family]
    return f"Multi{single}" if f"Multi{single}" in names else single


def _set_language_driver(dbf: Path, ldid: int) -> None:
    # Byte 29 of the DBF header: the code page for readers that predate .cpg files.
    with open(dbf, "r+b") as handle:
        handle.seek(29)
        handle.write(bytes([ldid]))


def _write_mapping(path: Path, rows: list[tuple]) -> None:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(["LAYER", "FILES", "FIELD", "SHAPEFILE_FIELD", "TITLE"])
    out.writerows(rows)
    # UTF-8 with a BOM: Excel on a Chinese Windows opens it correctly.
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
