"""GeoPackage for other systems.

The layers as they are in OUT.gpkg, plus what makes them readable without gridkit (Chinese field
titles and descriptions, default QGIS styles, and a ``gridkit_export`` table saying what the file
holds).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyogrio

from gridkit.export.fields import layer_text, titles
from gridkit.export.gpkgmeta import StyleRow, add_schema, add_styles
from gridkit.export.layer import Layer, declared_type
from gridkit.export.qml import qml
from gridkit.export.sld import sld
from gridkit.export.styles import style_for
from gridkit.export.target import MANIFEST_TABLE
from gridkit.export.writers import WriteContext, Written

MANIFEST_FIELDS = {"LAYER": pa.string(), "FEATURES": pa.int64(), "KEYFIELD": pa.string(),
                   "NEW": pa.int64(), "CHANGED": pa.int64(), "RETIRED": pa.int64(),
                   "SOURCE": pa.string(), "RUN": pa.int64(), "SINCE": pa.int64(),
                   "TIME": pa.string(), "VERSION": pa.string()}


def write(layers: list[Layer], target: Path, context: WriteContext) -> Written:
    """One GeoPackage 1.3 with every layer, its styles and Chinese field descriptions."""
    written = Written()
    for number, layer in enumerate(layers):
        # GeoPackage 1.3, not GDAL's newest 1.4: readers with an older GDAL (QGIS 3.22 has
        # 3.6) then open it without a "partially supported" warning.
        _write_layer(layer, target, {"VERSION": "1.3"} if number == 0 else None)
        written.files[layer.name] = [target.name]
    manifest = pa.table({name: pa.array([row.get(name) for row in context.manifest], kind)
                         for name, kind in MANIFEST_FIELDS.items()})
    text = layer_text(MANIFEST_TABLE)
    pyogrio.write_arrow(manifest, target, layer=MANIFEST_TABLE, driver="GPKG",
                        layer_options={"IDENTIFIER": text.title,
                                       "DESCRIPTION": text.description})
    described = {layer.name: layer.fields for layer in layers}
    described[MANIFEST_TABLE] = list(MANIFEST_FIELDS)
    add_schema(target, described)
    add_styles(target, _styles(layers, context.incremental, list(MANIFEST_FIELDS)))
    return written


def _write_layer(layer: Layer, target: Path, dataset_options: dict | None) -> None:
    text = layer_text(layer.name)
    options = {"IDENTIFIER": text.title, "DESCRIPTION": text.description}
    if not layer.spatial:
        pyogrio.write_arrow(layer.table, target, layer=layer.name, driver="GPKG",
                            layer_options=options, dataset_options=dataset_options)
        return
    table = layer.table.append_column(pa.field(layer.geometry_name, pa.binary()),
                                      layer.geometry)
    pyogrio.write_arrow(table, target, layer=layer.name, driver="GPKG",
                        geometry_name=layer.geometry_name, geometry_type=declared_type(layer),
                        crs=layer.crs, layer_options=options, dataset_options=dataset_options)


def _styles(layers: list[Layer], incremental: bool,
            manifest_fields: list[str]) -> list[StyleRow]:
    """A default style per layer.

    Attribute tables (and layers without a geometry to draw) get one with the Chinese aliases only.
    """
    rows = []
    for layer in layers:
        style = style_for(layer, incremental)
        aliases = titles(layer.name, layer.fields)
        title = layer_text(layer.name).title
        rows.append(StyleRow(layer.name, layer.name, qml(style, aliases),
                             sld(style) if style is not None else "", f"gridkit：{title}"))
    rows.append(StyleRow(MANIFEST_TABLE, MANIFEST_TABLE,
                         qml(None, titles(MANIFEST_TABLE, manifest_fields)), "",
                         f"gridkit：{layer_text(MANIFEST_TABLE).title}"))
    return rows
