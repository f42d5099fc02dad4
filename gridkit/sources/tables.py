"""Tables as the field hands them in, read into one shape: every cell as text.

CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GBK/GB18030; comma, tab, semicolon or bar,
sniffed from the header) is parsed by Arrow on both cores. XLSX is read with openpyxl in
streaming mode (numbers formatted ``0000`` keep their zeros). Any GDAL vector source
(Shapefile with GBK or UTF-8 DBF, GeoPackage, GeoJSON, ...) is read through pyogrio as Arrow,
with its geometry.

Rows are numbered as the user finds them: for CSV and XLSX the row in the file with the header
as row 1 (blank lines are not records and not counted in CSV; in XLSX the sheet's own row
number is used), for vector sources the feature id. A CSV record with the wrong number of
cells is not a reason to stop: it comes back as a bad row, for ``component_reject``.

**Title rows.** Sheets often carry a merged title (某街道城市部件普查登记表) above the header:
given the schema's aliases, the header is the first of the first 20 rows whose cells name
known columns (``header_row`` says which was used; ``--header-row N`` overrides).

**What the cells were.** ``numeric`` flags the cells a source stored as numbers (XLSX numeric
cells, numeric fields of a vector source): a code that was a number has lost its leading zeros
or, past 15 digits in Excel, its last digit, and a date that is a number is Excel's serial day.

**DBF text.** A Shapefile's bytes are read as they are and decoded here by the weight of the
evidence: the .cpg when there is one (values that are not text in it are a one-line error
naming the .cpg), else UTF-8 when most non-ASCII values are UTF-8, else GB18030 (GBK, the
default of Chinese ArcGIS/SuperMap). Field names cut at 10 bytes in the middle of a character
lose the broken character; values cut the same way are listed in ``damaged`` (row, field).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyproj
import shapely

from gridkit.errors import FileError, InputError, mention
from gridkit.io import utf8_or_gb18030
from gridkit.sources.columns import Aliases, recognised

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_SAMPLE = 1 << 20


@dataclass
class BadRow:
    """A source row that could not be read.

    Attributes
    ----------
    row : int or None
        Its row number as the user finds it, None when unknown.
    text : str
        The row's raw text (shortened), for the reject table.
    message : str
        Why it could not be read.
    """

    row: int | None
    text: str
    message: str


@dataclass
class SourceTable:
    r"""One table read from a CSV, XLSX sheet or vector layer, every cell as text.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    name : str
        What SRCFILE records: the file name, ``name:layer`` when one of several was chosen.
    table : pyarrow.Table
        Every source column as non-null text (``""`` when empty).
    rows : numpy.ndarray
        int, one per table row: its row number as the user finds it (SRCROW; the sheet row, or
        the feature id of a layer).
    geometry : numpy.ndarray, optional
        Shapely geometries per row (None where missing), for vector sources.
    crs : pyproj.CRS, optional
        The CRS the source declares.
    bad_rows : list of BadRow
        Rows that could not be read (wrong number of cells, undecodable bytes).
    encoding : str
        The text encoding used (decided by the evidence for CSV and DBF).
    numeric : dict of str to numpy.ndarray
        Column → bool per row: the cell was a number in the source.
    header_row : int
        The 1-based row the column names came from (CSV/XLSX).
    damaged : list of tuple of (int, str, str)
        (row, column, what) for cells whose text was repaired or is doubtful.
    numbering : str
        What the numbers in ``rows`` are, in the user's words (:func:`feature_numbering`):
        told with every import, since a layer's feature ids may start at 0 or 1.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = path.write_text("经度,纬度\n121.3,30.7\n", encoding="gbk")
    >>> table = read_source(path)
    >>> table.columns, table.encoding, table.rows.tolist()
    (['经度', '纬度'], 'gb18030', [2])
    """

    path: Path
    name: str  # what SRCFILE records: the file name, ":layer" when one of several was chosen
    table: pa.Table  # every source column as non-null text ("" when empty)
    rows: np.ndarray  # SRCROW of each table row
    geometry: np.ndarray | None = None  # shapely geometries (None where missing)
    crs: pyproj.CRS | None = None
    bad_rows: list[BadRow] = field(default_factory=list)
    encoding: str = ""
    numeric: dict[str, np.ndarray] = field(default_factory=dict)  # column -> cell was a number
    header_row: int = 1  # the row the column names came from (CSV/XLSX)
    damaged: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, what)
    numbering: str = ""  # what SRCROW is for this source (feature_numbering)

    def was_number(self, column: str | None) -> np.ndarray:
        """Where ``column``'s cells were numbers in the source (all False when unknown)."""
        flags = self.numeric.get(column) if column else None
        return flags if flags is not None else np.zeros(self.table.num_rows, bool)

    @property
    def columns(self) -> list[str]:
        """The column names, in source order."""
        return list(self.table.column_names)


def read_source(path: str | Path, *, sheet: str | None = None, layer: str | None = None,
                header_row: int | None = None, aliases: Aliases | None = None) -> SourceTable:
    r"""One table (CSV, XLSX sheet, vector layer) as a :class:`SourceTable`.

    Parameters
    ----------
    path : str or Path
        CSV/TSV/TXT, XLSX/XLSM, or any vector source GDAL reads.
    sheet, layer : str, optional
        The sheet of a workbook, the layer of a multi-layer source.
    header_row : int, optional
        Row (1-based) of the column names in a CSV or sheet; found from ``aliases`` if None.
    aliases : mapping of field to column names, optional
        What known columns are called: tells a header row from a title row above it.

    Returns
    -------
    SourceTable
        Every cell as text, each row's number, geometry and CRS where the source has them.

    Raises
    ------
    FileError
        The file is missing or cannot be read (an ``OSError``).
    InputError
        ``header_row`` is not a row of the file, or its text is not in the encoding it
        declares (a ``ValueError``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("某街道部件普查登记表,,\n经度,纬度,名称\n121.3,30.7,路灯\n")
    >>> t = read_source(p, aliases={"X": ("经度",), "Y": ("纬度",)})
    >>> t.header_row, t.columns, t.rows.tolist()
    (2, ['经度', '纬度', '名称'], [3])
    """
    path = Path(path)
    if not path.exists():
        raise FileError(f"{path}: no such file", file=path)
    if header_row is not None and header_row < 1:
        raise InputError(f"{mention(header_row=header_row)}: rows count from 1",
                         parameter="header_row")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv(path, header_row, aliases)
    if suffix in EXCEL_SUFFIXES:
        return read_xlsx(path, sheet, header_row, aliases)
    return read_vector_source(path, layer)


_TITLE_ROWS = 20


def choose_header(rows: list[list[str]], aliases: Aliases | None) -> int:
    """Index (0-based, among ``rows``) of the header.

    The first row naming at least two known columns, else the first with two or more cells (a title
    row has one), else the first.
    """
    filled = [sum(1 for c in r if c.strip()) for r in rows]
    if aliases:
        scores = [recognised(r, aliases) for r in rows]
        best = max(scores, default=0)
        if best >= 1:
            return next(i for i, s in enumerate(scores) if s >= min(best, 2))
    return next((i for i, n in enumerate(filled) if n >= 2),
                next((i for i, n in enumerate(filled) if n), 0))


def with_sub_header(header: list[str], below: list[str], aliases: Aliases | None
                    ) -> list[str] | None:
    """The header completed by the row below it, when that row is a second header row.

    Chinese forms often group columns under a merged cell (位置 over 经度 and 纬度); the names
    then sit one row lower. ``below`` is such a row when it holds no number and its names make
    more known columns than ``header`` (itself naming one at least) alone: each of its names
    replaces the cell above.

    Parameters
    ----------
    header : list of str
        The cells of the header row.
    below : list of str
        The cells of the row under it.
    aliases : mapping of str to sequence of str, optional
        What known columns are called.

    Returns
    -------
    list of str or None
        The combined names, or None when ``below`` is not a header row (it is data).

    Examples
    --------
    >>> with_sub_header(["部件名称", "位置", ""], ["", "经度", "纬度"],
    ...                 {"OBJNAME": ("部件名称",), "X": ("经度",), "Y": ("纬度",)})
    ['部件名称', '经度', '纬度']
    >>> with_sub_header(["部件名称", "经度", "纬度"], ["路灯", "113.7", "23.0"],
    ...                 {"OBJNAME": ("部件名称",), "X": ("经度",), "Y": ("纬度",)}) is None
    True
    """
    if not aliases or not any(c.strip() for c in below):
        return None
    if any(_number_text(c) for c in below):
        return None
    width = max(len(header), len(below))
    header = header + [""] * (width - len(header))
    below = below + [""] * (width - len(below))
    combined = [b.strip() or h for h, b in zip(header, below, strict=True)]
    known = recognised(header, aliases)
    # A title row (one cell) above the real header is not a header with a row below it.
    if known < 1 or sum(1 for c in header if c.strip()) < 2:
        return None
    return combined if recognised(combined, aliases) > known else None


def _number_text(text: str) -> bool:
    try:
        float(text.strip().replace(",", ""))
    except ValueError:
        return False
    return True


def unique_names(names: list[str]) -> list[str]:
    """Header cells made unique and non-empty: a second 备注 becomes 备注_2."""
    seen: dict[str, int] = {}
    result = []
    for position, raw in enumerate(names):
        name = str(raw).strip() or f"column_{position + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
            while name in seen:
                name += "_"
        seen.setdefault(name, 1)
        result.append(name)
    return result


# -- CSV ---------------------------------------------------------------------------------------

def detect_encoding(sample: bytes) -> str:
    """The text encoding of a CSV from its first bytes: a BOM, else UTF-8 if valid, else GB18030."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return utf8_or_gb18030(sample)


def _header(path: Path, encoding: str, header_row: int | None,
            aliases: Aliases | None) -> tuple[list[str], str, int, int]:
    """(column names, delimiter, first and last header line numbers) of a CSV."""
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        text = handle.read(_SAMPLE)
    lines = text.splitlines()[: max(_TITLE_ROWS, header_row or 0)]
    if path.suffix.lower() == ".tsv":
        delimiter = "\t"
    else:
        # The delimiter the most cells agree on over the first lines (a title line has few).
        delimiter = max([",", "\t", ";", "|"], key=lambda d: sum(line.count(d)
                                                                 for line in lines[:_TITLE_ROWS]))
    rows = [next(csv.reader([line], delimiter=delimiter), []) for line in lines]
    rows = [[c.lstrip("\ufeff").strip() for c in r] for r in rows]
    if header_row is not None:
        if header_row > len(rows):
            raise InputError(f"{path}: {mention(header_row=header_row)} is past the end of the "
                             "file", parameter="header_row", file=path)
        index = header_row - 1
    else:
        index = choose_header(rows, aliases) if rows else 0
    if not rows:
        return [], delimiter, 1, 1
    if index + 1 < len(rows):
        combined = with_sub_header(rows[index], rows[index + 1], aliases)
        if combined is not None:
            return combined, delimiter, index + 1, index + 2
    return rows[index], delimiter, index + 1, index + 1


def read_csv(path: Path, header_row: int | None = None,
             aliases: Aliases | None = None) -> SourceTable:
    """A CSV/TSV/TXT file as a :class:`SourceTable`: encoding, delimiter and header row found.

    The encoding is decided by the evidence (UTF-8 when the bytes decode, else GB18030); a title
    row above the header is skipped when ``aliases`` recognise the header below it.
    """
    with open(path, "rb") as handle:
        sample = handle.read(_SAMPLE)
    encoding = detect_encoding(sample)
    try:
        return _read_csv_as(path, encoding, header_row, aliases)
    except UnicodeError:
        if encoding != "utf-8":
            raise _encoding_error(path, encoding) from None
    # Valid UTF-8 in the first megabyte, not after: a GBK file that starts in ASCII.
    try:
        return _read_csv_as(path, "gb18030", header_row, aliases)
    except UnicodeError:
        raise _encoding_error(path, "utf-8") from None


def _encoding_error(path: Path, encoding: str) -> InputError:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError:
                return InputError(
                    f"{path}: line {number} is not {encoding} text like the lines before it "
                    "(a file pasted together from two encodings?); save the file as UTF-8",
                    file=path, row=number)
    return InputError(f"{path}: not readable as {encoding} text; save the file as UTF-8",
                      file=path)


def _read_csv_as(path: Path, encoding: str, header_row: int | None,
                 aliases: Aliases | None) -> SourceTable:
    header, delimiter, header_row, last_header_row = _header(path, encoding, header_row,
                                                             aliases)
    if not header:
        raise InputError(f"{path}: the file is empty; a census CSV needs a header row",
                         file=path)
    names = unique_names(header)
    bad: list[BadRow] = []

    def on_bad_row(row) -> str:
        bad.append(BadRow(row.number, row.text, f"{row.actual_columns} cells where the header "
                                                f"has {row.expected_columns}"))
        return "skip"

    def parse(threads: bool) -> pa.Table:
        arrow_encoding = {"utf-8-sig": "utf8", "utf-8": "utf8"}.get(encoding, encoding)
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=last_header_row,
                                           use_threads=threads,
                                           encoding=arrow_encoding, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                             invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )

    try:
        table = parse(True)
        if bad and any(b.row is None for b in bad):
            # Arrow numbers bad rows only when it reads on one thread; a rare, slower path.
            bad.clear()
            table = parse(False)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "utf8" in str(exc).lower():
            raise UnicodeError(str(exc)) from None
        raise InputError(f"{path}: cannot read as CSV ({exc})", file=path) from None
    except UnicodeDecodeError as exc:
        raise UnicodeError(str(exc)) from None
    rows = _record_numbers(table.num_rows, [b.row for b in bad], last_header_row)
    return SourceTable(path, path.name, table, rows, bad_rows=bad, encoding=encoding,
                       header_row=header_row,
                       numbering="row number as Excel shows it "
                       f"({_header_rows_text(header_row, last_header_row)})")


def _header_rows_text(first: int, last: int) -> str:
    """Where the header is, for the SRCROW note: one row, or a two-row header (位置 over 经度).

    >>> _header_rows_text(1, 1), _header_rows_text(2, 3)
    ('header on row 1', 'header on rows 2-3')
    """
    return f"header on row {first}" if last == first else f"header on rows {first}-{last}"


def _record_numbers(n: int, bad: list[int | None], header_row: int = 1) -> np.ndarray:
    """Row numbers of the good records (the header on ``header_row``), skipping the bad."""
    taken = np.asarray(sorted(b for b in bad if b is not None), dtype=np.int64)
    first = header_row + 1
    numbers = np.arange(first, n + len(taken) + first, dtype=np.int64)
    return np.setdiff1d(numbers, taken, assume_unique=True)[:n] if len(taken) else numbers[:n]


# -- XLSX --------------------------------------------------------------------------------------

def cell_text(value: object, number_format: str = "") -> tuple[str, bool]:
    """(text, was a number) of one spreadsheet cell.

    A ``0000`` number format puts back the leading zeros the number lost.

    Examples
    --------
    >>> cell_text(102, "0000"), cell_text(3101160102000120), cell_text(45789.5)
    (('0102', True), ('3101160102000120', True), ('45789.5', True))
    """
    if value is None:
        return "", False
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return repr(value), True
        text = str(int(value))
        if number_format and set(number_format) == {"0"}:
            text = text.zfill(len(number_format))
        return text, True
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(), False
    return str(value).strip(), False


def sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook, in order."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FileError(f"{path}: cannot read as XLSX ({exc})", file=path) from None
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def read_xlsx(path: Path, sheet: str | None, header_row: int | None = None,
              aliases: Aliases | None = None, *, several: bool = False) -> SourceTable:
    """One sheet of a workbook.

    ``several`` lets the caller read a many-sheet book sheet by sheet (otherwise a book of several
    sheets needs ``sheet``).
    """
    import openpyxl

    try:
        # Read-only streams rows; cells still carry their number formats.
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FileError(f"{path}: cannot read as XLSX ({exc})", file=path) from None
    try:
        names = book.sheetnames
        if sheet is None and len(names) > 1 and not several:
            raise InputError(f"{path} has {len(names)} sheets ({', '.join(names)}): name one "
                             f"with {mention('sheet')}", parameter="sheet", file=path)
        if sheet is not None and sheet not in names:
            raise InputError(f"{path} has no sheet {sheet!r}; its sheets are: "
                             f"{', '.join(names)}", parameter="sheet", file=path)
        chosen = sheet or names[0]
        head: list[tuple[int, list[tuple[str, bool]]]] = []
        header: list[str] | None = None
        columns: list[list[str]] = []
        numbers: list[list[bool]] = []
        rows: list[int] = []
        used = 0

        def add(number: int, cells: list[tuple[str, bool]]) -> None:
            if not any(t for t, _ in cells):
                return
            cells = cells[: len(columns)] + [("", False)] * (len(columns) - len(cells))
            for column, flags, (text, was) in zip(columns, numbers, cells, strict=True):
                column.append(text)
                flags.append(was)
            rows.append(number)

        last = 0

        def start(index: int) -> None:
            """``head[index]`` (with a sub-header row under it) is the header; later rows data."""
            nonlocal used, header, last, columns, numbers
            used, header, skip = _xlsx_header(head, index, aliases)
            last = head[index + skip][0]
            columns = [[] for _ in header]
            numbers = [[] for _ in header]
            for later, later_cells in head[index + 1 + skip:]:
                add(later, later_cells)

        for number, row in enumerate(book[chosen].iter_rows(), start=1):
            cells = [cell_text(c.value, getattr(c, "number_format", "") or "") for c in row]
            if header is None:
                if any(t for t, _ in cells) or (header_row is not None and number == header_row):
                    head.append((number, cells))
                # one row past the header: it may be a second header row (位置 over 经度, 纬度)
                wanted = header_row is not None and number > header_row
                if not wanted and (header_row is not None or len(head) < _TITLE_ROWS):
                    continue
                if header_row is not None:
                    index = next(i for i, (n, _) in enumerate(head) if n == header_row) \
                        if any(n == header_row for n, _ in head) else len(head) - 1
                else:
                    index = choose_header([[t for t, _ in c] for _, c in head], aliases)
                start(index)
                continue
            add(number, cells)
        if header is None and head:  # fewer rows than the title search looks at
            if header_row is not None and all(n != header_row for n, _ in head):
                raise InputError(f"{path}: {mention(header_row=header_row)} is past the end "
                                 f"of sheet {chosen!r}", parameter="header_row", file=path)
            index = (next(i for i, (n, _) in enumerate(head) if n == header_row)
                     if header_row is not None else
                     choose_header([[t for t, _ in c] for _, c in head], aliases))
            start(index)
    finally:
        book.close()
    if header is None:
        raise InputError(f"{path}: sheet {chosen!r} is empty; a sheet needs a header row",
                         file=path)
    names_ = unique_names(header)
    table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names_, columns, strict=True)})
    numeric = {n: np.asarray(f, bool) for n, f in zip(names_, numbers, strict=True)}
    name = f"{path.name}:{chosen}" if len(names) > 1 else path.name
    return SourceTable(path, name, table, np.asarray(rows, dtype=np.int64), encoding="xlsx",
                       numeric=numeric, header_row=used,
                       numbering=f"sheet row number ({_header_rows_text(used, last)})")


def _xlsx_header(head: list[tuple[int, list[tuple[str, bool]]]], index: int,
                 aliases: Aliases | None) -> tuple[int, list[str], int]:
    """(header row number, column names, sub-header rows to skip) of a sheet's first rows."""
    used, header = head[index][0], [t for t, _ in head[index][1]]
    if index + 1 < len(head) and not any(was for _, was in head[index + 1][1]):
        combined = with_sub_header(header, [t for t, _ in head[index + 1][1]], aliases)
        if combined is not None:
            return used, combined, 1
    return used, header, 0


# -- GDAL vector sources -----------------------------------------------------------------------

def read_vector_source(path: Path, layer: str | None) -> SourceTable:
    """One layer of a GDAL vector source as a :class:`SourceTable` with geometry and CRS."""
    from gridkit.io import choose_layer, layers_of

    chosen = choose_layer(path, layer)
    several = len(layers_of(path)) > 1
    dbf = _dbf_of(path)
    try:
        # A DBF is read byte for byte (Latin-1 maps each byte to one character) and decoded
        # below by the evidence: GDAL's own decoding fails on names cut mid-character.
        meta, table = _read_arrow(path, chosen, "ISO-8859-1" if dbf else None)
    except UnicodeDecodeError:
        raise InputError(f"{path}: field names or values are not valid UTF-8 text; save the "
                         "layer again as UTF-8 (GeoPackage and GeoJSON are UTF-8)",
                         file=path) from None
    except Exception as exc:  # pyogrio wraps GDAL errors in several classes
        raise FileError(f"{path}: GDAL cannot read layer {chosen!r} ({exc})",
                        file=path) from None
    geometry_name = meta.get("geometry_name") or ""
    fid_name = meta.get("fid_column") or ""
    if fid_name and table.column_names.count(fid_name) > 1:
        # Esri JSON from ArcGIS: the FID is also an attribute (OBJECTID), so the Arrow read
        # holds it twice; keep one, the row numbers users see in ArcGIS.
        table = table.remove_column(table.column_names.index(fid_name))
    fid_column = fid_name if fid_name in table.column_names else (
        "OGC_FID" if "OGC_FID" in table.column_names else table.column_names[0])
    geometry = None
    if not (geometry_name and geometry_name in table.column_names) \
            and "wkb_geometry" in table.column_names:
        geometry_name = "wkb_geometry"
    if geometry_name and geometry_name in table.column_names:
        geometry = _geometries(table.column(geometry_name), meta.get("crs"))
    rows = table.column(fid_column).to_numpy().astype(np.int64)
    fields = [c for c in table.column_names if c not in (geometry_name, fid_column)]
    columns = {c: table.column(c) for c in fields}
    encoding = meta.get("encoding", "") or "UTF-8"
    damaged: list[tuple[int, str, str]] = []
    if dbf is not None:
        from gridkit.sources.dbf import decode_dbf

        encoding, names, columns, damaged = decode_dbf(path, dbf, fields, columns, rows)
    else:
        names = fields
    names_ = unique_names(names)
    text = pa.table({n: text_column(columns[c]) for n, c in zip(names_, fields, strict=True)})
    numeric = {n: np.asarray(pc.is_valid(columns[c]).to_numpy(zero_copy_only=False))
               if _is_number(columns[c].type) else np.zeros(len(rows), bool)
               for n, c in zip(names_, fields, strict=True)}
    damaged = [(r, names_[fields.index(c)] if c in fields else c, what) for r, c, what in damaged]
    crs = pyproj.CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    name = f"{path.name}:{chosen}" if several else path.name
    return SourceTable(path, name, text, rows, geometry, crs, encoding=encoding,
                       numeric=numeric, damaged=damaged,
                       numbering=feature_numbering(path, fid_name, rows))


def feature_numbering(path: Path, fid_column: str, rows: np.ndarray) -> str:
    """What a layer's SRCROW numbers are: its feature ids, as QGIS and ArcGIS show them.

    SRCROW of a feature is GDAL's feature id, which is what QGIS shows (``$id``, the
    identify panel's feature id, ``getFeature``) and what ArcGIS shows where the format has one
    (a Shapefile's FID column, a GeoPackage's fid/OBJECTID, Esri JSON's OBJECTID). Renumbering
    from 1 would be off by one in exactly the column users search, so the ids stay and each
    import says which they are: a Shapefile's, a GeoJSON's or a FlatGeobuf's start at 0, a
    GeoPackage's (usually) at 1, and a GeoJSON whose features have ``id`` members uses those.

    Parameters
    ----------
    path : Path
        The file (its suffix tells the format).
    fid_column : str
        The layer's FID column as GDAL reports it (``fid``, ``OBJECTID``; ``OGC_FID`` or
        empty when the format has none of its own).
    rows : numpy.ndarray
        The feature ids read.

    Returns
    -------
    str
        One phrase, e.g. ``"FID (0 = first feature), as ArcGIS's FID column and QGIS's $id"``.

    Examples
    --------
    >>> import numpy as np
    >>> print(feature_numbering(Path("a.geojson"), "OGC_FID", np.arange(3)))
    feature id as QGIS numbers it ($id; 0 = first feature)
    >>> print(feature_numbering(Path("a.gpkg"), "fid", np.arange(1, 4)))
    the layer's fid column (its feature id; 1 = first feature here)
    """
    first = int(rows.min()) if len(rows) else 0
    if fid_column and fid_column != "OGC_FID":
        return f"the layer's {fid_column} column (its feature id; {first} = first feature here)"
    suffix = path.suffix.lower()
    if suffix in (".shp", ".dbf", ".shz") or path.name.lower().endswith(".shp.zip"):
        return "FID (0 = first feature), as ArcGIS's FID column and QGIS's $id"
    if len(rows) and not np.array_equal(rows, np.arange(len(rows))):
        return "the features' own ids (GeoJSON id members), as QGIS's $id shows them"
    return "feature id as QGIS numbers it ($id; 0 = first feature)"


def _read_arrow(path: Path, layer: str | None, encoding: str | None):
    """(meta, table) of one layer, date-times as the text the file holds.

    GDAL's Arrow read labels every DateTime column UTC: a GeoPackage time written with its
    offset (2025-05-12T20:30:00+08:00) arrives as 12:30, and one written without an offset
    arrives as UTC too, so the column's zone cannot tell them apart. Read as text (pyogrio's
    ``datetime_as_string``, GDAL ≥ 3.11) each value keeps its own offset, which the event
    reader converts to China Standard Time; an older GDAL reads as before.
    """
    import pyogrio

    try:
        return pyogrio.read_arrow(path, layer=layer, return_fids=True, encoding=encoding,
                                  datetime_as_string=True)
    except (TypeError, NotImplementedError):  # pyogrio or GDAL without the option
        return pyogrio.read_arrow(path, layer=layer, return_fids=True, encoding=encoding)


def _geometries(wkb: pa.ChunkedArray, crs: str | None) -> np.ndarray:
    """Shapely geometries of a WKB column, curves linearised.

    A GeoPackage's CurvePolygon, CompoundCurve or MultiSurface, which shapely does not read,
    is linearised as the partition's reader does; a feature even that cannot read is left
    empty (its row is rejected for no coordinates).
    """
    data = np.asarray(wkb.combine_chunks().to_numpy(zero_copy_only=False), dtype=object)
    try:
        return shapely.from_wkb(data, on_invalid="ignore")
    except NotImplementedError:  # "Nonlinear geometry types are not currently supported"
        from gridkit.curves import CurveError, linearise_wkb
        from gridkit.io import curve_gap

        gap = curve_gap(crs)
        out = np.full(len(data), None, dtype=object)
        for k, item in enumerate(data):
            try:
                out[k] = linearise_wkb(item, gap)
            except CurveError:
                pass
        return out


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _dbf_of(path: Path) -> Path | None:
    """The DBF whose text this reader decodes itself (a Shapefile's or a bare .dbf)."""
    if path.suffix.lower() == ".dbf":
        return path
    if path.suffix.lower() != ".shp":
        return None
    return next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()),
                None)


def text_column(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Any Arrow column as non-null text; whole floats (codes in Real fields) without ``.0``."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = array.type
    if pa.types.is_floating(kind):
        values = array.to_numpy(zero_copy_only=False)
        finite = values[np.isfinite(values)]
        if finite.size and np.all(finite == np.floor(finite)) and np.abs(finite).max() < 2**53:
            array = pc.cast(array, pa.int64(), safe=False)
    elif pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        array = pc.strftime(array, "%Y-%m-%d" if pa.types.is_date(kind) else "%Y-%m-%dT%H:%M:%S")
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        array = pc.cast(array, pa.string())
    return pc.fill_null(array.cast(pa.string()), "")
