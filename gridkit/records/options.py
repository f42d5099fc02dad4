"""Help texts the record importers share (``census import``, ``events import``); their
options are fields of :class:`gridkit.components.CensusImportOptions` and
:class:`gridkit.events.EventImportOptions`, made with :mod:`gridkit.options`."""

from __future__ import annotations

CRS_HELP = ("CRS of coordinate columns, and of a vector file's geometries over its own: wgs84, "
            "cgcs2000, gcj02 (Amap, Tencent), bd09 (Baidu), bd09mc (Baidu Mercator metres) "
            "or EPSG:n.")
HEADER_ROW_HELP = ("Row of the column names in a CSV or sheet (default: the first row naming "
                   "known columns, so a title row above the header is skipped).")
