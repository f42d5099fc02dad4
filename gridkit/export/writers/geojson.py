"""GeoJSON per RFC 7946.

One file per layer, coordinates in WGS 84 longitude/latitude with 7 decimals (about 1 cm), polygons
wound counter-clockwise, numbers with 17 significant digits so that values read back exactly.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pyarrow as pa
import pyogrio

from gridkit.export.fields import layer_text
from gridkit.export.layer import Layer, declared_type, reproject, wkb_array
from gridkit.export.writers import WriteContext, Written

WGS84 = "EPSG:4326"
PRECISION = 7


def write(layers: list[Layer], target: Path, context: WriteContext) -> Written:
    """One RFC 7946 GeoJSON per layer, in WGS 84."""
    written = Written()
    for layer in layers:
        name = f"{layer.name}.geojson"
        options = {"RFC7946": "YES", "COORDINATE_PRECISION": str(PRECISION),
                   "SIGNIFICANT_FIGURES": "17",
                   "DESCRIPTION": layer_text(layer.name).description}
        with warnings.catch_warnings():
            # An attribute table has no CRS to set; GDAL says so and assumes WGS 84, as it
            # should.
            warnings.simplefilter("ignore", RuntimeWarning)
            if layer.spatial:
                shapes = layer.shapes()
                if layer.crs:
                    shapes = reproject(shapes, layer.crs, WGS84)
                table = layer.table.append_column(pa.field("geometry", pa.binary()),
                                                  wkb_array(shapes))
                pyogrio.write_arrow(table, target / name, driver="GeoJSON",
                                    geometry_name="geometry", geometry_type=declared_type(layer),
                                    crs=WGS84, layer_options=options)
            else:
                pyogrio.write_arrow(layer.table, target / name, driver="GeoJSON",
                                    layer_options=options)
        written.files[layer.name] = [name]
    return written
