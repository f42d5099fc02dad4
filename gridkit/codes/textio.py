"""Reading tables with every cell as text: codes keep their leading zeros.

CSV (UTF-8 or GB18030), XLSX (openpyxl, each sheet a table) and any GDAL vector source
(pyogrio, each layer a table, geometry not read). Cells that the source stored as numbers are
flagged, because a number has already lost leading zeros or, past 15 digits in Excel, its last
digits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gridkit.errors import GridkitError

TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


@dataclass
class Table:
    name: str
    frame: pd.DataFrame  # every cell a str ("" when empty)
    numeric: dict[str, np.ndarray] = field(default_factory=dict)  # column -> cell was a number
    row_label: str = "row"  # "row" for sheet rows (header = row 1), "feature" for layer FIDs
    labels: np.ndarray | None = None  # row number or FID per frame row

    def label(self, position: int) -> str:
        labels = self.labels if self.labels is not None else np.arange(len(self.frame)) + 2
        return f"{self.row_label} {labels[position]}"


def _cell_text(value: object, number_format: str = "") -> tuple[str, bool]:
    """(text, was a number) of one spreadsheet cell."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return repr(value), True
        text = str(int(value))
        # A "0000" number format shows the zeros the number lost; put them back.
        if number_format and set(number_format) == {"0"}:
            text = text.zfill(len(number_format))
        return text, True
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(), False
    return str(value).strip(), False


def cell_text(value: object, number_format: str = "") -> tuple[str, bool]:
    """(text, was a number) of one spreadsheet cell, leading zeros put back from a "0000"
    number format: the rule above, for readers that walk a sheet themselves."""
    return _cell_text(value, number_format)


def read_csv_table(path: Path) -> Table:
    last: Exception | None = None
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding,
                                sep=sep)
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise GridkitError(f"{path}: cannot read as CSV ({exc})") from None
        frame.columns = [str(c).strip() for c in frame.columns]
        for col in frame.columns:
            frame[col] = frame[col].astype(object).str.strip()
        return Table(path.stem, frame)
    raise GridkitError(f"{path}: neither UTF-8 nor GB18030 text ({last})")


def read_excel_tables(path: Path, sheet: str | None = None) -> list[Table]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise GridkitError(f"{path}: reading XLSX needs openpyxl (pip install openpyxl)") from None
    try:
        # Not read-only: number formats (which keep leading zeros) are only there in full mode.
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise GridkitError(f"{path}: cannot read as XLSX ({exc})") from None
    names = book.sheetnames
    if sheet is not None and sheet not in names:
        raise GridkitError(f"{path} has no sheet {sheet!r}; its sheets are: {', '.join(names)}")
    tables = []
    for name in [sheet] if sheet else names:
        rows = list(book[name].iter_rows())
        if not rows:
            continue
        header = [str(c.value).strip() if c.value is not None else "" for c in rows[0]]
        width = len(header)
        cells = [[_cell_text(c.value, c.number_format) for c in row[:width]] for row in rows[1:]]
        cells = [r + [("", False)] * (width - len(r)) for r in cells]
        cells = [r for r in cells if any(text for text, _ in r)]
        frame = pd.DataFrame([[t for t, _ in r] for r in cells], columns=header, dtype=object)
        numeric = {
            col: np.array([r[i][1] for r in cells], dtype=bool) for i, col in enumerate(header)
        }
        tables.append(Table(name, frame, numeric))
    return tables


def read_vector_tables(path: Path, layer: str | None = None) -> list[Table]:
    import pyogrio

    from gridkit.io import layers_of, shapefile_encoding

    names = layers_of(path)
    if layer is not None and layer not in names:
        raise GridkitError(f"{path} has no layer {layer!r}; its layers are: {', '.join(names)}")
    tables = []
    for name in [layer] if layer else names:
        try:
            frame = pyogrio.read_dataframe(path, layer=name, read_geometry=False,
                                           fid_as_index=True, encoding=shapefile_encoding(path))
        except Exception as exc:  # pyogrio wraps GDAL errors in several classes
            raise GridkitError(f"{path}: GDAL cannot read layer {name!r} ({exc})") from None
        numeric = {
            str(col): np.full(len(frame), pd.api.types.is_numeric_dtype(frame[col]), bool)
            for col in frame.columns
        }
        text = pd.DataFrame({str(c): _column_text(frame[c]) for c in frame.columns})
        tables.append(Table(name, text.reset_index(drop=True), numeric, "feature",
                            frame.index.to_numpy()))
    return tables


def _column_text(column: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(column):
        # A code in a Real field: 3205820102048188.0 is still the code.
        whole = column.dropna()
        if (whole == np.floor(whole)).all():
            column = column.astype("Int64")
    return column.astype("string").fillna("").str.strip().astype(object)


def read_tables(path: str | Path, layer: str | None = None) -> list[Table]:
    """Every table (CSV file, XLSX sheet, vector layer) of ``path``, or only ``layer``."""
    path = Path(path)
    if not path.exists():
        raise GridkitError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return [read_csv_table(path)]
    if suffix in EXCEL_SUFFIXES:
        return read_excel_tables(path, layer)
    return read_vector_tables(path, layer)
