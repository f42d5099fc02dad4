"""Read what a report shows from a gridkit GeoPackage, without ever writing to it.

Only ``community`` and ``unit_grid`` are required; every other layer is used when present.
Point layers that can hold millions of rows (components, events) stay Arrow tables with
coordinate arrays beside them: pandas objects for a million rows would cost seconds and
gigabytes for nothing the report needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import pyproj
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from gridkit.errors import FileError, InputError
from gridkit.qa import canonical_rules

POINT_LAYERS = ("component", "event")
SHAPE_LAYERS = ("community", "unit_grid", "responsibility_grid", "qa_issue", "spotcheck_result",
                "context_road", "context_water", "context_building")
TABLE_LAYERS = ("gridkit_run", "spotcheck_summary")
REJECT_LAYERS = ("component_reject", "event_reject")
# Reject layers can be as large as the imports; only their reason columns are read.
REJECT_FIELDS = ("RULE", "REASON")


@dataclass
class PointLayer:
    """A point layer: attribute columns as Arrow, one (x, y) per row (NaN when missing).

    Lines and polygons (linear or areal component classes) are shown at a point on them.
    """

    name: str
    table: pa.Table
    x: np.ndarray
    y: np.ndarray
    geometry_types: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.table.num_rows

    def coded(self, column: str) -> tuple[np.ndarray, list[str]] | None:
        """A column as (index per row, distinct texts), null as ""; None when the layer lacks it.

        Class codes, BGIDs and states repeat: working on the distinct values keeps a million rows
        cheap.
        """
        if column not in self.table.column_names:
            return None
        values = pc.fill_null(pc.cast(self.table.column(column), pa.string()), "")
        encoded = pc.dictionary_encode(values).combine_chunks()
        return (np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64),
                encoded.dictionary.to_pylist())

    def text(self, column: str) -> np.ndarray | None:
        """A column as an array of str ("" for null), or None when the layer lacks it."""
        coded = self.coded(column)
        if coded is None:
            return None
        index, values = coded
        return np.asarray(values, dtype=object)[index] if values else \
            np.full(len(index), "", dtype=object)


@dataclass
class ReportData:
    """The layers of a gridkit GeoPackage as the report reads them.

    Attributes
    ----------
    path : pathlib.Path
        The GeoPackage.
    crs : pyproj.CRS
        The unit grids' CRS.
    shapes : dict of str to geopandas.GeoDataFrame
        Polygon layers: community, unit_grid, responsibility_grid, qa_issue, spotcheck_result.
    points : dict of str to PointLayer
        The component and event layers as coordinate arrays.
    tables : dict of str to pandas.DataFrame
        Attribute tables: gridkit_run, spotcheck_summary, ...
    rejects : dict of str to pandas.DataFrame
        The reject tables.
    counts : dict of str to int
        Features per layer.
    """

    path: Path
    crs: pyproj.CRS
    shapes: dict[str, gpd.GeoDataFrame]
    points: dict[str, PointLayer]
    tables: dict[str, pd.DataFrame]
    rejects: dict[str, pd.DataFrame]
    counts: dict[str, int]

    @property
    def community(self) -> gpd.GeoDataFrame:
        """The community layer."""
        return self.shapes["community"]

    @property
    def unit_grid(self) -> gpd.GeoDataFrame:
        """The unit grid layer."""
        return self.shapes["unit_grid"]

    @property
    def community_names(self) -> dict[str, str]:
        """Community (居委会/村) name by 12-digit code, from the community layer's NAME."""
        return _names(self.community, "CODE", "NAME")

    @property
    def street_names(self) -> dict[str, str]:
        """Street/town (街道/镇) name by 9-digit code, from the community layer's STREET_NAME.

        The partition keeps it from its input; empty when the input had none.
        """
        community = self.community
        if "STREET_NAME" not in community:
            return {}
        frame = pd.DataFrame({"STREET": community["CODE"].astype(str).str[:9],
                              "STREET_NAME": community["STREET_NAME"]})
        return _names(frame.drop_duplicates("STREET"), "STREET", "STREET_NAME")

    @property
    def district_name(self) -> str:
        """The district's (区/县) name from the community layer's COUNTY_NAME, else "".

        Without it the report names the province and the county code.
        """
        if "COUNTY_NAME" not in self.community:
            return ""
        names = self.community["COUNTY_NAME"].dropna().astype(str).str.strip()
        names = names[names != ""]
        return str(names.mode().iloc[0]) if len(names) else ""


def _names(frame: pd.DataFrame, code: str, name: str) -> dict[str, str]:
    names = frame[name].fillna("").astype(str).str.strip()
    return {c: n for c, n in zip(frame[code].astype(str), names, strict=True) if n}


def read_report_data(path: str | Path) -> ReportData:
    """Everything the report uses from ``path``; one-line errors that say how to fix it."""
    path = Path(path)
    if not path.exists():
        raise FileError(f"{path}: no such file; give the GeoPackage that gridkit run or "
                        "gridkit partition wrote", file=path)
    if path.is_dir():
        raise InputError(f"{path} is a folder; give the GeoPackage (.gpkg) gridkit wrote")
    try:
        listed = {str(name): kind for name, kind in pyogrio.list_layers(path)}
    except (DataSourceError, DataLayerError):
        raise FileError(f"{path}: not a GeoPackage GDAL can open; give the .gpkg that "
                        "gridkit run or gridkit partition wrote", file=path) from None
    for required, command in (("community", "partition"), ("unit_grid", "partition")):
        if required not in listed:
            raise InputError(f"{path} has no {required} layer: run gridkit {command} (or "
                             "gridkit run) to make it first")
    grids = _read_shapes(path, "unit_grid")
    shapes = {name: _read_shapes(path, name) for name in SHAPE_LAYERS
              if name in listed and name != "unit_grid"}
    return _assemble(
        path, grids, shapes,
        lambda crs: {name: _read_points(path, name, crs) for name in POINT_LAYERS
                     if name in listed},
        {name: _read_table(path, name) for name in TABLE_LAYERS if name in listed},
        {name: _read_table(path, name, REJECT_FIELDS) for name in REJECT_LAYERS
         if name in listed},
        {name: _count(path, name) for name in listed})


def report_data(layers: dict[str, gpd.GeoDataFrame | pd.DataFrame | pa.Table],
                name: str = "memory") -> ReportData:
    """What the report uses from layers held in memory, as :func:`read_report_data` reads a file.

    Parameters
    ----------
    layers : dict
        Layer name (as in a gridkit GeoPackage: ``community``, ``unit_grid``,
        ``responsibility_grid``, ``component``, ``qa_issue``, ``gridkit_run``, ...) to a
        GeoDataFrame, a DataFrame (tables), or an Arrow table with WKB ``geometry`` in the
        unit grids' CRS (``component``/``event`` as the imports return them).
    name : str
        What the report and its errors call the source.

    Returns
    -------
    ReportData

    Raises
    ------
    InputError
        No community or unit_grid layer, unit grids not in a projected CRS, no BGID.
    """
    path = Path(name)
    for required, command in (("community", "partition"), ("unit_grid", "partition")):
        if required not in layers:
            raise InputError(f"{name}: no {required} layer; give the layers "
                             f"gridkit {command} made", parameter="layers")

    def shape(frame: gpd.GeoDataFrame | pd.DataFrame | pa.Table) -> gpd.GeoDataFrame:
        if isinstance(frame, pa.Table):
            frame = frame.to_pandas()
        if isinstance(frame, gpd.GeoDataFrame):
            return frame.copy()
        return gpd.GeoDataFrame(frame, geometry=[None] * len(frame))

    def points(crs: pyproj.CRS) -> dict[str, PointLayer]:
        found = {}
        for layer in POINT_LAYERS:
            frame = layers.get(layer)
            if frame is None:
                continue
            if isinstance(frame, pa.Table):
                table, source = frame, None
            else:
                table = pa.Table.from_pandas(pd.DataFrame(frame).assign(
                    geometry=shapely.to_wkb(np.asarray(frame.geometry.array, dtype=object))),
                    preserve_index=False)
                source = frame.crs
            x, y, kinds = (wkb_xy(table.column("geometry").combine_chunks())
                           if "geometry" in table.column_names else
                           (np.full(table.num_rows, np.nan), np.full(table.num_rows, np.nan), []))
            table = table.drop_columns([c for c in ("geometry",) if c in table.column_names])
            if source is not None and source != crs:
                x, y = pyproj.Transformer.from_crs(source, crs, always_xy=True).transform(x, y)
            found[layer] = PointLayer(layer, table, np.asarray(x, float), np.asarray(y, float),
                                      kinds)
        return found

    def table(frame: gpd.GeoDataFrame | pd.DataFrame | pa.Table,
              columns: tuple[str, ...] | None = None) -> pd.DataFrame:
        out = frame.to_pandas() if isinstance(frame, pa.Table) else pd.DataFrame(frame)
        out = out.drop(columns=[c for c in out.columns if c == "geometry"])
        return out[[c for c in columns if c in out]] if columns is not None else out

    return _assemble(
        path, shape(layers["unit_grid"]),
        {n: shape(layers[n]) for n in SHAPE_LAYERS if n in layers and n != "unit_grid"},
        points, {n: table(layers[n]) for n in TABLE_LAYERS if n in layers},
        {n: table(layers[n], REJECT_FIELDS) for n in REJECT_LAYERS if n in layers},
        {n: (f.num_rows if isinstance(f, pa.Table) else len(f)) for n, f in layers.items()})


def _assemble(path: Path, grids: gpd.GeoDataFrame, shapes: dict[str, gpd.GeoDataFrame],
              points: Callable[[pyproj.CRS], dict[str, PointLayer]],
              tables: dict[str, pd.DataFrame], rejects: dict[str, pd.DataFrame],
              counts: dict[str, int]) -> ReportData:
    """The layers read (from a file or memory), checked and brought to the unit grids' CRS."""
    crs = grids.crs
    if crs is None or not crs.is_projected:
        raise InputError(
            f"{path}: layer unit_grid is in {crs.to_string() if crs else 'no CRS'}, not a "
            "projected metric CRS; re-run gridkit partition, which writes one")
    _require(path, grids, "unit_grid", ("BGID",))
    shapes = {"unit_grid": _complete_grids(grids), **{
        name: frame.to_crs(crs) if frame.crs is not None and frame.crs != crs else frame
        for name, frame in shapes.items()}}
    _require(path, shapes["community"], "community", ("CODE",))
    if "NAME" not in shapes["community"]:
        shapes["community"]["NAME"] = ""
    # A GeoPackage of an older gridkit spells some rules as they were: count them as now.
    for frame in [shapes.get("qa_issue"), *rejects.values()]:
        if frame is not None and "RULE" in frame:
            frame["RULE"] = canonical_rules(frame["RULE"])
    return ReportData(path, crs, shapes, points(crs), tables, rejects, counts)


def _require(path: Path, frame: pd.DataFrame, layer: str, fields: tuple[str, ...]) -> None:
    missing = [f for f in fields if f not in frame]
    if missing:
        raise InputError(f"{path}: layer {layer} has no field {', '.join(missing)}; it was "
                         "not written by gridkit: re-run gridkit partition")
    if frame.empty:
        raise InputError(f"{path}: layer {layer} has no features; re-run gridkit partition")


def _complete_grids(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill the fields older or hand-edited files may lack from what the codes say."""
    grids = grids.copy()
    grids["BGID"] = grids["BGID"].astype(str)
    if "COMMUNITY" not in grids:
        grids["COMMUNITY"] = grids["BGID"].str[:12]
    if "STREET" not in grids:
        grids["STREET"] = grids["BGID"].str[:9]
    if "AREA" not in grids:
        grids["AREA"] = np.round(grids.geometry.area.to_numpy(), 2)
    return grids


def _open_error(path: Path, layer: str, exc: Exception) -> FileError:
    return FileError(f"{path}: GDAL cannot read layer {layer} ({exc}); re-run the gridkit "
                     "command that wrote it", file=path)


def _read_shapes(path: Path, layer: str) -> gpd.GeoDataFrame:
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, use_arrow=True)
    except (DataSourceError, DataLayerError) as exc:
        raise _open_error(path, layer, exc) from None
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame, geometry=[None] * len(frame))
    return frame


def _read_table(path: Path, layer: str, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    try:
        if columns is not None:
            present = set(pyogrio.read_info(path, layer=layer)["fields"])
            wanted = [c for c in columns if c in present]
            _, table = pyogrio.read_arrow(path, layer=layer, columns=wanted,
                                          read_geometry=False)
            return table.to_pandas()
        frame = pyogrio.read_dataframe(path, layer=layer, use_arrow=True, read_geometry=False)
    except (DataSourceError, DataLayerError) as exc:
        raise _open_error(path, layer, exc) from None
    return pd.DataFrame(frame)


def _count(path: Path, layer: str) -> int:
    try:
        return int(pyogrio.read_info(path, layer=layer, force_feature_count=True)["features"])
    except (DataSourceError, DataLayerError):
        return 0


def _read_points(path: Path, layer: str, crs: pyproj.CRS) -> PointLayer:
    try:
        meta, table = pyogrio.read_arrow(path, layer=layer)
    except (DataSourceError, DataLayerError) as exc:
        raise _open_error(path, layer, exc) from None
    geometry = meta.get("geometry_name") or "wkb_geometry"
    if geometry in table.column_names:
        wkb = table.column(geometry).combine_chunks()
        table = table.drop_columns([geometry])
        x, y, kinds = wkb_xy(wkb)
    else:
        x = y = np.full(table.num_rows, np.nan)
        kinds = []
    source = pyproj.CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    if source is not None and source != crs:
        x, y = pyproj.Transformer.from_crs(source, crs, always_xy=True).transform(x, y)
    return PointLayer(layer, table, np.asarray(x, float), np.asarray(y, float), kinds)


def wkb_xy(wkb: pa.Array) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(x, y) per WKB geometry and the geometry types seen.

    Plain 2D little-endian points (what gridkit writes) are read straight from the bytes;
    a million of them take milliseconds this way against a second through shapely.
    """
    n = len(wkb)
    if n and wkb.null_count == 0 and pa.types.is_binary(wkb.type):
        offsets = np.frombuffer(wkb.buffers()[1], dtype=np.int32, count=n + 1,
                                offset=wkb.offset * 4)
        if np.all(np.diff(offsets) == 21):
            raw = np.frombuffer(wkb.buffers()[2], dtype=np.uint8,
                                count=21 * n, offset=int(offsets[0])).reshape(n, 21)
            if np.all(raw[:, 0] == 1) and np.all(raw[:, 1:5] == [1, 0, 0, 0]):
                xy = np.ascontiguousarray(raw[:, 5:21]).view("<f8").reshape(n, 2)
                return xy[:, 0].copy(), xy[:, 1].copy(), ["Point"]
    geoms = shapely.from_wkb(np.asarray(wkb.to_numpy(zero_copy_only=False), dtype=object),
                             on_invalid="ignore")
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if present.any():
        points = shapely.point_on_surface(geoms[present])
        x[present] = shapely.get_x(points)
        y[present] = shapely.get_y(points)
    kinds = sorted(set(shapely.get_type_id(geoms[present]).tolist()))
    names = ["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
             "MultiPolygon", "GeometryCollection"]
    return x, y, [names[k] for k in kinds if 0 <= k < len(names)]
