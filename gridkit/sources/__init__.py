r"""Reading tables and recognising their columns: one place for every step.

CSV (any Chinese encoding), XLSX sheets, Shapefile attribute tables (encoding decided by the
evidence), GeoPackage/GeoJSON and any GDAL vector source, each read into a
:class:`SourceTable` of text columns with row numbers as the user finds them; a title row
above the header is skipped; cells that were numbers are flagged. :func:`map_columns` assigns
columns to a schema's fields by aliases, Shapefile-cut names and ``--map``.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "t.csv").write_text("标题,,\n经度,纬度,部件名\n121.3,30.7,路灯\n")
>>> table = read_source(folder / "t.csv", aliases={"X": ("经度",), "Y": ("纬度",),
...                                                  "OBJNAME": ("部件名称",)})
>>> map_columns(table.columns, aliases={"X": ("经度",), "Y": ("纬度",),
...                                     "OBJNAME": ("部件名称",)}).fields["OBJNAME"]
'部件名'
"""

from gridkit.sources.cells import code_number_problem, excel_serial, fold_text, nfkc
from gridkit.sources.columns import ColumnMap, column_key, dbf_cut, map_columns, parse_maps
from gridkit.sources.tables import SourceTable, read_source

__all__ = [
    "ColumnMap",
    "SourceTable",
    "code_number_problem",
    "column_key",
    "dbf_cut",
    "excel_serial",
    "fold_text",
    "map_columns",
    "nfkc",
    "parse_maps",
    "read_source",
]
