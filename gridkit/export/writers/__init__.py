"""One writer per output format.

Each turns a list of :class:`Layer` into files under a temporary target that
:mod:`gridkit.export.target` moves into place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gridkit.export.layer import Layer
from gridkit.export.target import Kind


@dataclass
class WriteContext:
    """What every writer is told.

    Attributes
    ----------
    encoding : str
        Shapefile DBF and CSV text: ``gbk`` or ``utf-8``.
    incremental : bool
        The layers are a difference (``--since``).
    manifest : list of dict
        One row per layer, for the GeoPackage's ``gridkit_export`` table.
    """

    encoding: str = "utf-8"  # Shapefile DBF and CSV text: "gbk" or "utf-8"
    incremental: bool = False
    manifest: list[dict] = field(default_factory=list)  # one row per layer (GeoPackage table)


@dataclass
class Written:
    """What a writer wrote.

    Attributes
    ----------
    files : dict of str to list of str
        Layer → file names under the target.
    extra : list of str
        Files for all layers (``field_names.csv``, ...).
    warnings : list of str
        Values changed to fit the encoding, and the like.
    """

    files: dict[str, list[str]] = field(default_factory=dict)  # layer -> names under target
    extra: list[str] = field(default_factory=list)  # files for all layers (field names, ...)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Format:
    """One output format.

    Attributes
    ----------
    name : str
        ``gpkg``, ``shp``, ``geojson``, ``csv`` or ``parquet``.
    kind : {"file", "folder"}
        What DEST is.
    write : callable
        ``write(layers, target, context) -> Written``.
    spatial_only : bool
        The default layer choice leaves attribute tables out.
    encodings : tuple of str
        ``--encoding`` values it takes; the first is the default.
    description : str
        One line for ``--help``.
    """

    name: str
    kind: Kind
    write: Callable[[list[Layer], Path, WriteContext], Written]
    spatial_only: bool = False  # default layer choice leaves attribute tables out
    encodings: tuple[str, ...] = ()  # --encoding values it takes; first is the default
    description: str = ""


def formats() -> dict[str, Format]:
    """The output formats by name.

    Returns
    -------
    dict of str to Format
        ``gpkg``, ``shp``, ``geojson``, ``csv``, ``parquet``.

    Examples
    --------
    >>> {name: fmt.kind for name, fmt in formats().items()}
    {'gpkg': 'file', 'shp': 'folder', 'geojson': 'folder', 'csv': 'folder', 'parquet': 'folder'}
    """
    from gridkit.export.writers import csv, geojson, gpkg, parquet, shp

    return {
        "gpkg": Format("gpkg", "file", gpkg.write, description="one GeoPackage with styles "
                       "and Chinese field descriptions"),
        "shp": Format("shp", "folder", shp.write, spatial_only=True,
                      encodings=("gbk", "utf-8"), description="a folder, one Shapefile per "
                      "layer"),
        "geojson": Format("geojson", "folder", geojson.write, description="a folder, one "
                          "RFC 7946 GeoJSON (WGS 84) per layer"),
        "csv": Format("csv", "folder", csv.write, encodings=("utf-8", "gbk"),
                      description="a folder, one CSV per layer with coordinates"),
        "parquet": Format("parquet", "folder", parquet.write, description="a folder, one "
                          "GeoParquet per layer"),
    }
