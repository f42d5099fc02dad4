"""The options the record importers share (``census import``, ``events import``).

The files and how to read them: one dataclass both steps' options extend
(:mod:`gridkit.options`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import click

from gridkit.options import crs_field, layer_field, option

CRS_HELP = ("CRS of coordinate columns, and of a vector file's geometries over its own: wgs84, "
            "cgcs2000, gcj02 (Amap, Tencent), bd09 (Baidu), bd09mc (Baidu Mercator metres) "
            "or EPSG:n.")
HEADER_ROW_HELP = ("Row of the column names in a CSV or sheet (default: the first row naming "
                   "known columns, so a title row above the header is skipped).")


@dataclass(frozen=True)
class RecordImportOptions:
    """Files of records and how to read them (the first options of both importers).

    Parameters
    ----------
    files : list of pathlib.Path
        CSV, XLSX, Shapefile, GeoPackage, GeoJSON. The ``FILES`` arguments; TOML ``files``.
    crs : str, optional
        CRS of coordinate columns, and of a vector file's geometries over its own:
        ``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``, ``bd09mc`` or ``EPSG:n``. ``--crs``.
    sheet : str, optional
        XLSX sheet to read. ``--sheet``.
    layer : str, optional
        Layer of a multi-layer source. ``--layer``.
    header_row : int, optional
        Row (1-based) of the column names; found when not given. ``--header-row``.
    """

    files: list[Path] = option(dataclasses.MISSING, flag="FILES", argument=True, nargs=-1,
                               type=click.Path(path_type=Path), record=False, kind=list)
    crs: str | None = crs_field(CRS_HELP)
    sheet: str | None = option(None, help="XLSX sheet to read, when a workbook has several.")
    layer: str | None = layer_field("a GeoPackage or other multi-layer source")
    header_row: int | None = option(None, type=click.IntRange(min=1), help=HEADER_ROW_HELP)
