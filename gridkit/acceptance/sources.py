"""What the acceptance commands borrow from the census import: reading files the way the
import reads them (CSV in any Chinese encoding, XLSX, any GDAL source), recognising columns,
and converting coordinates (WGS-84, CGCS2000, GCJ-02, BD-09, EPSG:n). Kept in one module so
that the import's internals are named in one place only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyproj

from gridkit.records.coords import from_pyproj, parse_numbers, parse_source_crs, to_target
from gridkit.records.schema import COMPONENT_ALIASES as ALIASES
from gridkit.sources.cells import fold_text
from gridkit.sources.columns import column_key, map_columns
from gridkit.sources.tables import EXCEL_SUFFIXES, SourceTable, read_source

__all__ = ["ALIASES", "SourceTable", "clean_codes", "column_key", "find_column", "numbers",
           "read_table", "text", "to_crs"]


def read_table(path: Path, *, sheet: str | None = None, layer: str | None = None,
               preferred_sheet: str | None = None,
               aliases: dict[str, tuple[str, ...]] | None = ALIASES) -> SourceTable:
    """A check or re-survey file as text columns. A workbook with several sheets is read at
    ``preferred_sheet`` when it has one (the checklist gridkit wrote), else needs --sheet."""
    path = Path(path)
    if sheet is None and preferred_sheet and path.suffix.lower() in EXCEL_SUFFIXES \
            and path.exists():
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True)
            names = book.sheetnames
            book.close()
        except Exception:  # unreadable: read_source reports it properly
            names = []
        if preferred_sheet in names:
            sheet = preferred_sheet
    return read_source(path, sheet=sheet, layer=layer, aliases=aliases)


def find_column(columns: list[str], aliases: tuple[str, ...]) -> str | None:
    """The first column whose name matches an alias (in alias order), or the Shapefile cut
    of one: the import's column recognition (:func:`gridkit.sources.map_columns`)."""
    return map_columns(columns, aliases={"COLUMN": tuple(aliases)}).get("COLUMN")


def text(table: pa.Table, column: str | None) -> np.ndarray:
    """A column as trimmed Python strings ("" when absent)."""
    if column is None:
        return np.full(table.num_rows, "", dtype=object)
    values = table.column(column).to_pylist()
    return np.array([("" if v is None else str(v)).strip() for v in values], dtype=object)


def numbers(table: pa.Table, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(values, present) of a coordinate column: decimals or degrees-minutes-seconds."""
    values = table.column(column)
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return parse_numbers(values)


def to_crs(x: np.ndarray, y: np.ndarray, crs_text: str | None, target: pyproj.CRS,
           *, option: str = "--crs") -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Coordinates into ``target``: from ``crs_text`` when given; otherwise WGS-84 when every
    value looks like degrees, else the target CRS itself. Returns (x, y, ok, CRS label)."""
    finite = np.isfinite(x) & np.isfinite(y)
    if crs_text:
        source = parse_source_crs(crs_text, option=option)
    elif finite.any() and (np.abs(x[finite]) <= 180).all() and (np.abs(y[finite]) <= 90).all():
        source = parse_source_crs("wgs84", option=option)
    else:
        source = from_pyproj(target)
    tx, ty, ok = to_target(x, y, source, target)
    return tx, ty, ok & finite, source.label


def clean_codes(values: np.ndarray) -> np.ndarray:
    """Codes as spreadsheets give them back: without spaces, a leading ' or a float's .0."""
    def clean(text: str) -> str:
        text = fold_text(str(text)).strip().lstrip("'").strip()
        return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text

    return np.array([clean(v) for v in values], dtype=object)
