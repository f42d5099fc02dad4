"""A layer in memory: its attributes as an Arrow table and its geometries as WKB.

Arrow keeps every field's type as the GeoPackage has it (text codes stay text, dates stay
dates, integers with gaps stay integers), which a round trip through pandas would not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyproj
import shapely

# shapely type ids by the geometry family a Shapefile or a QGIS symbol can hold.
_FAMILY = {0: "point", 4: "point", 1: "line", 2: "line", 5: "line", 3: "polygon",
           6: "polygon", 7: "collection"}
FAMILIES = ("point", "line", "polygon")


@dataclass(frozen=True)
class Layer:
    """A layer in memory: attributes as an Arrow table, geometries as WKB.

    Attributes
    ----------
    name : str
        The layer's name in the source.
    table : pyarrow.Table
        Attributes only, in the source's field order and types.
    geometry : pyarrow.Array, optional
        Binary WKB, null where a feature has none; None for an attribute table.
    crs : str, optional
        The CRS (``EPSG:n`` or WKT).
    geometry_type : str, optional
        As GDAL names it: ``Point``, ``MultiPolygon``, ``Unknown``.
    geometry_name : str
        The geometry column's name.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa, shapely
    >>> layer = Layer("unit_grid", pa.table({"BGID": ["310116001001001"]}),
    ...               wkb_array(np.array([shapely.box(0, 0, 100, 100)])), "EPSG:4549")
    >>> len(layer), layer.fields, layer.main_family()
    (1, ['BGID'], 'polygon')
    """

    name: str
    table: pa.Table  # attributes only, in the source's field order
    geometry: pa.Array | None = None  # binary WKB, null where a feature has none
    crs: str | None = None
    geometry_type: str | None = None  # as GDAL names it: "Point", "MultiPolygon", "Unknown"
    geometry_name: str = "geom"

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def spatial(self) -> bool:
        """Whether the layer has geometries."""
        return self.geometry is not None

    @property
    def fields(self) -> list[str]:
        """The attribute field names, in order."""
        return list(self.table.column_names)

    def shapes(self) -> np.ndarray:
        """The geometries as shapely objects (None where empty)."""
        if self.geometry is None:
            return np.full(len(self), None, dtype=object)
        return shapely.from_wkb(np.asarray(self.geometry.to_numpy(zero_copy_only=False),
                                           dtype=object))

    def take(self, positions: np.ndarray) -> Layer:
        """The features at ``positions``, as a layer."""
        positions = pa.array(np.asarray(positions, dtype=np.int64))
        geometry = None if self.geometry is None else self.geometry.take(positions)
        return replace(self, table=self.table.take(positions), geometry=geometry)

    def families(self) -> np.ndarray:
        """Per feature: point, line, polygon, collection, or '' without a geometry."""
        shapes = self.shapes()
        ids = shapely.get_type_id(shapes)
        return np.array([_FAMILY.get(int(i), "") for i in ids], dtype=object)

    def main_family(self) -> str | None:
        """The family most features have (what a style draws), None without geometries."""
        families = [f for f in self.families() if f in FAMILIES]
        if not families:
            return _family_of_type(self.geometry_type)
        values, counts = np.unique(families, return_counts=True)
        return str(values[np.argmax(counts)])


def _family_of_type(geometry_type: str | None) -> str | None:
    kind = (geometry_type or "").lower().replace("multi", "")
    if kind.startswith("point"):
        return "point"
    if kind.startswith("line"):
        return "line"
    if kind.startswith("polygon"):
        return "polygon"
    return None


def layer_of_frame(name: str, frame: pd.DataFrame) -> Layer:
    """A frame in memory as a :class:`Layer`, as :func:`read_export_layer` reads a file's.

    A GeoDataFrame keeps its geometry (WKB), CRS and its features' one geometry type
    (``Unknown`` when they mix, promoted to Multi* when single and multi parts mix, as
    gridkit writes them); a DataFrame is an attribute table.
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        return Layer(name, pa.Table.from_pandas(pd.DataFrame(frame), preserve_index=False))
    from gridkit.io import declared_geometry_type

    shapes = np.asarray(frame.geometry.array, dtype=object)
    table = pa.Table.from_pandas(pd.DataFrame(frame.drop(columns=frame.geometry.name)),
                                 preserve_index=False)
    kind, promote = declared_geometry_type(set(frame.geom_type.dropna()))
    if promote:
        single = np.flatnonzero(shapely.get_type_id(shapes) == _TYPE_IDS[kind[5:]])
        make = {"Point": shapely.multipoints, "LineString": shapely.multilinestrings,
                "Polygon": shapely.multipolygons}[kind[5:]]
        shapes = shapes.copy()
        shapes[single] = make(shapes[single], indices=np.arange(len(single)))
    crs = frame.crs.to_string() if frame.crs is not None else None
    return Layer(name, table, wkb_array(shapes), crs, kind)


def wkb_array(shapes: np.ndarray) -> pa.Array:
    """Shapely geometries as an Arrow binary array of WKB (null for None)."""
    return pa.array(shapely.to_wkb(shapes).tolist(), pa.binary())


def reproject(shapes: np.ndarray, source: str, target: str) -> np.ndarray:
    """Geometries from ``source`` to ``target`` CRS, coordinates in x/y (lon/lat) order."""
    transformer = pyproj.Transformer.from_crs(source, target, always_xy=True)

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(shapes, move)


_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LineString", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}
_TYPE_IDS = {"Point": 0, "LineString": 1, "Polygon": 3}


def declared_type(layer: Layer) -> str | None:
    """The geometry type to declare when writing ``layer``.

    The source's when every feature fits it (so a delta declares what the full export did), else the
    one type all features share, else "Unknown" (any geometry).
    """
    if layer.geometry is None:
        return None
    if layer.geometry_type in (None, "Unknown"):
        return "Unknown"
    names = type_names(layer)
    if not names or names == {layer.geometry_type}:
        return layer.geometry_type
    return names.pop() if len(names) == 1 else "Unknown"


def type_names(layer: Layer) -> set[str]:
    """The geometry types the features of ``layer`` have (Point, MultiPolygon, ...)."""
    ids = shapely.get_type_id(layer.shapes())
    return {_TYPE_NAMES[int(i)] for i in np.unique(ids) if int(i) >= 0}
