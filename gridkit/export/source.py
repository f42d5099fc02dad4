"""Which layers of OUT.gpkg an export takes, and reading one as a :class:`Layer`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from gridkit.errors import FileError, InputError, mention
from gridkit.export.layer import Layer
from gridkit.io import layers_of

# The feature key of each layer an incremental export tracks.
KEYS = {"community": "CODE", "unit_grid": "BGID", "responsibility_grid": "RGID",
        "component": "OBJCODE", "event": "EVTID", "grid_change": "CHANGE_ID"}
# Bookkeeping tables that are not data for another system.
INTERNAL = {"gridkit_export_run", "gridkit_export_state", "layer_styles", "qgis_projects"}
# The SPEC's order, so that outputs list layers the way the contract does.
ORDER = ("community", "unit_grid", "responsibility_grid", "component", "component_reject",
         "event", "event_reject", "qa_issue", "spotcheck_plan", "spotcheck_stratum",
         "spotcheck_checklist", "spotcheck_result", "spotcheck_summary", "spotcheck_rework",
         "grid_change", "grid_relocation", "bgid_registry", "gridkit_run")


def check_source(path: Path) -> None:
    """Refuse a source that is not an existing GeoPackage GDAL can open."""
    if not path.exists():
        raise FileError(f"{path}: no such file; export a GeoPackage written by gridkit "
                        "(e.g. gridkit run -o OUT.gpkg)")
    if path.is_dir() or path.suffix.lower() != ".gpkg":
        raise InputError(f"{path}: not a GeoPackage (.gpkg); give the file gridkit wrote")
    layers_of(path)  # a one-line error when GDAL cannot open it


def spatial_layers(path: Path) -> dict[str, bool]:
    """Every data layer of ``path`` in SPEC order, with whether it has geometries."""
    try:
        listed = {str(name): geometry is not None for name, geometry in pyogrio.list_layers(path)}
    except (DataSourceError, DataLayerError) as exc:
        raise FileError(f"{path}: GDAL cannot read it ({exc})", file=path) from None
    names = [n for n in ORDER if n in listed]
    names += [n for n in listed if n not in ORDER and n not in INTERNAL]
    return {n: listed[n] for n in names}


def choose_layers(path: Path, requested: list[str] | None, *, spatial_only: bool = False,
                  keyed_only: bool = False) -> list[str]:
    """The layers to export: ``requested`` (checked), else every data layer that fits."""
    present = spatial_layers(path)
    if requested:
        chosen = []
        for name in requested:
            if name not in present:
                raise InputError(f"{mention('layers')}: {path} has no layer {name!r}; its layers "
                                 f"are: {', '.join(present) or 'none'}", parameter="layers")
            if keyed_only and name not in KEYS:
                raise InputError(f"{mention('layers')}: {name} has no feature key, so "
                                 f"{mention('since')} cannot tell what changed; "
                                 f"{mention('since')} exports {', '.join(KEYS)}",
                                 parameter="layers")
            if name not in chosen:
                chosen.append(name)
        return chosen
    # The context layers are the partition's own inputs, kept for the report: handed over
    # only when asked for by name.
    chosen = [n for n, spatial in present.items()
              if (spatial or not spatial_only) and (n in KEYS or not keyed_only)
              and not n.startswith("context_")]
    if not chosen:
        what = "layers with a feature key" if keyed_only else "data layers"
        raise InputError(f"{path} has no {what} to export")
    return chosen


def read_export_layer(path: Path, name: str) -> Layer:
    """Layer ``name`` of ``path`` with its field types, dates as text and geometry as WKB."""
    try:
        meta, table = pyogrio.read_arrow(path, layer=name, datetime_as_string=True)
    except (DataSourceError, DataLayerError) as exc:
        raise FileError(f"{path}: GDAL cannot read layer {name!r} ({exc})", file=path) from None
    table = _date_times(table, meta)
    geometry_name = meta.get("geometry_name") or "wkb_geometry"
    if meta.get("geometry_type") is None or geometry_name not in table.column_names:
        return Layer(name, _plain(table))
    wkb = table.column(geometry_name).combine_chunks().cast(pa.binary())
    table = table.drop_columns([geometry_name])
    return Layer(name, _plain(table), wkb, meta.get("crs"), meta.get("geometry_type"),
                 meta.get("geometry_name") or "geom")


def _date_times(table: pa.Table, meta: dict) -> pa.Table:
    """Date-time fields as timestamps that keep what the file says of their zone.

    GDAL's Arrow reader declares every GeoPackage date-time UTC, but gridkit stores event
    and record times as the local (Beijing) wall-clock time they were reported in, without
    a zone: read as UTC they would be handed on 8 hours off. Values written with a zone
    (``Z``/``+08:00``) stay zoned; values without one stay local, naive timestamps.
    """
    for name, kind in zip(meta["fields"], meta["ogr_types"], strict=True):
        if kind != "OFTDateTime" or name not in table.column_names:
            continue
        text = pd.Series(table.column(name).to_pylist(), dtype=object)
        try:
            values = pd.to_datetime(text, format="ISO8601", errors="coerce")
        except ValueError:  # zoned and local values mixed: the zoned ones decide
            values = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert("UTC")
        column = pa.array(values.astype("datetime64[ms, UTC]" if values.dt.tz is not None
                                        else "datetime64[ms]"), from_pandas=True)
        table = table.set_column(table.column_names.index(name), name, column)
    return table


def _plain(table: pa.Table) -> pa.Table:
    """Drop GDAL's per-field metadata (widths) so that writers choose their own."""
    schema = pa.schema([pa.field(f.name, f.type) for f in table.schema])
    return table.combine_chunks().cast(schema) if len(table.schema) else table
