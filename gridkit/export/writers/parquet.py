"""GeoParquet, one file per layer, through geopandas and pyarrow.

GDAL in pyogrio's wheels has no Parquet driver. Geometry as WKB in OUT.gpkg's CRS (PROJJSON
in the metadata), every field with its Arrow type. An attribute table becomes plain Parquet.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from gridkit.export.layer import Layer
from gridkit.export.writers import WriteContext, Written


def write(layers: list[Layer], target: Path, context: WriteContext) -> Written:
    """One GeoParquet per layer (plain Parquet for attribute tables)."""
    written = Written()
    for layer in layers:
        name = f"{layer.name}.parquet"
        if layer.spatial:
            # Arrow-backed columns keep integers with gaps as integers and dates as dates.
            frame = layer.table.to_pandas(types_mapper=pd.ArrowDtype)
            geometry = gpd.GeoSeries.from_wkb(
                np.asarray(layer.geometry.to_numpy(zero_copy_only=False), dtype=object),
                crs=layer.crs)
            gpd.GeoDataFrame(frame, geometry=geometry).to_parquet(target / name, index=False)
        else:
            pq.write_table(layer.table, target / name)
        written.files[layer.name] = [name]
    return written
