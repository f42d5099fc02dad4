"""Tables for code checks and local catalogs, read by :mod:`gridkit.sources`.

Every CSV, XLSX sheet or vector layer of a file as a pandas frame of text (codes keep their
leading zeros), with the cells the source stored as numbers flagged: a number has already
lost leading zeros or, past 15 digits in Excel, its last digits. A title row above the header
is skipped as the census import skips it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gridkit.errors import FileError, GridkitError
from gridkit.sources.columns import Aliases
from gridkit.sources.tables import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    SourceTable,
    read_csv,
    read_vector_source,
    read_xlsx,
    sheet_names,
)

TEXT_SUFFIXES = CSV_SUFFIXES


@dataclass
class Table:
    """One sheet, CSV or layer attribute table as text, for the code checks.

    Attributes
    ----------
    name : str
        The sheet, layer or file name.
    frame : pandas.DataFrame
        Every cell a str (``""`` when empty).
    numeric : dict of str to numpy.ndarray
        Column → bool per row: the cell was a number (a code that may have lost leading zeros).
    row_label : str
        ``"row"`` for sheet rows, ``"feature"`` for layer FIDs.
    labels : numpy.ndarray, optional
        The row number or FID per frame row (default: sheet rows 2, 3, ...).
    """

    name: str
    frame: pd.DataFrame  # every cell a str ("" when empty)
    numeric: dict[str, np.ndarray] = field(default_factory=dict)  # column -> cell was a number
    row_label: str = "row"  # "row" for sheet rows, "feature" for layer FIDs
    labels: np.ndarray | None = None  # row number or FID per frame row

    def label(self, position: int) -> str:
        """How messages name the row at ``position``: ``"row 2"`` or ``"feature 17"``."""
        labels = self.labels if self.labels is not None else np.arange(len(self.frame)) + 2
        return f"{self.row_label} {labels[position]}"


def _table(name: str, source: SourceTable, row_label: str = "row") -> Table:
    frame = pd.DataFrame({c: pd.Series(source.table.column(c).to_pylist(), dtype=object)
                          .str.strip() for c in source.columns})
    labels = source.rows
    numeric = dict(source.numeric)
    if source.bad_rows:
        # A check reads every record: one with too few or too many cells is padded or cut.
        width = len(source.columns)
        cells = [(next(csv.reader([b.text]), []) + [""] * width)[:width]
                 for b in source.bad_rows]
        extra = pd.DataFrame([[c.strip() for c in r] for r in cells], columns=source.columns,
                             dtype=object)
        frame = pd.concat([frame, extra], ignore_index=True)
        labels = np.concatenate([labels, [b.row or 0 for b in source.bad_rows]])
        order = np.argsort(labels, kind="stable")
        frame, labels = frame.iloc[order].reset_index(drop=True), labels[order]
        numeric = {c: np.concatenate([f, np.zeros(len(cells), bool)])[order]
                   for c, f in numeric.items()}
    return Table(name, frame, numeric, row_label, labels)


def read_tables(path: str | Path, layer: str | None = None, *,
                aliases: Aliases | None = None) -> list[Table]:
    """Every table (CSV file, XLSX sheet, vector feature layer) of ``path``, or only ``layer``.

    ``aliases`` (field -> column names) lets a header under a title row be found.
    """
    from gridkit.io import feature_layers

    path = Path(path)
    if not path.exists():
        raise FileError(f"{path}: no such file", file=path)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return [_table(path.stem, read_csv(path, aliases=aliases))]
    if suffix in EXCEL_SUFFIXES:
        tables = []
        for name in [layer] if layer else sheet_names(path):
            try:
                source = read_xlsx(path, name, aliases=aliases, several=True)
            except GridkitError as exc:
                if layer is None and "is empty" in str(exc):
                    continue  # an empty sheet among others is no table
                raise
            tables.append(_table(name, source))
        return tables
    return [_table(name, read_vector_source(path, name), "feature")
            for name in ([layer] if layer else feature_layers(path))]
