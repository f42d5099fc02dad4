"""Click options the record importers share (``census import``, ``events import``)."""

from __future__ import annotations

import click

CRS_HELP = ("CRS of coordinate columns, and of a vector file's geometries over its own: wgs84, "
            "cgcs2000, gcj02 (Amap, Tencent), bd09 (Baidu), bd09mc (Baidu Mercator metres) "
            "or EPSG:n.")

crs_option = click.option("--crs", help=CRS_HELP)
header_row_option = click.option(
    "--header-row", type=click.IntRange(min=1), default=None,
    help="Row of the column names in a CSV or sheet (default: the first row naming known "
         "columns, so a title row above the header is skipped).")
