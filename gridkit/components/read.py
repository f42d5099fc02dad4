"""Census files as the field hands them in, read into one shape: every cell as text.

CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GBK/GB18030; comma, tab, semicolon or bar,
sniffed from the header) is parsed by Arrow on both cores. XLSX is read with openpyxl in
streaming mode (numbers formatted ``0000`` keep their zeros). Any GDAL vector source
(Shapefile with GBK or UTF-8 DBF, GeoPackage, GeoJSON, ...) is read through pyogrio as Arrow,
with its geometry.

Rows are numbered as the user finds them: for CSV and XLSX the row in the file with the header
as row 1 (blank lines are not records and not counted in CSV; in XLSX the sheet's own row
number is used), for vector sources the feature id. A CSV record with the wrong number of
cells is not a reason to stop: it comes back as a bad row, for ``component_reject``.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyproj
import shapely

from gridkit.errors import GridkitError
from gridkit.io import utf8_or_gb18030

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_SAMPLE = 1 << 20


@dataclass
class BadRow:
    row: int | None
    text: str
    message: str


@dataclass
class SourceTable:
    path: Path
    name: str  # what SRCFILE records: the file name, ":layer" when one of several was chosen
    table: pa.Table  # every source column as non-null text ("" when empty)
    rows: np.ndarray  # SRCROW of each table row
    geometry: np.ndarray | None = None  # shapely geometries (None where missing)
    crs: pyproj.CRS | None = None
    bad_rows: list[BadRow] = field(default_factory=list)
    encoding: str = ""

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)


def read_source(path: str | Path, *, sheet: str | None = None,
                layer: str | None = None) -> SourceTable:
    """One census file as a :class:`SourceTable`; GridkitError names what is wrong."""
    path = Path(path)
    if not path.exists():
        raise GridkitError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv(path)
    if suffix in EXCEL_SUFFIXES:
        return read_xlsx(path, sheet)
    return read_vector_source(path, layer)


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


def _header(path: Path, encoding: str) -> tuple[list[str], str]:
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        text = handle.read(_SAMPLE)
    first = text.split("\n", 1)[0]
    delimiter = max([",", "\t", ";", "|"], key=first.count)
    if path.suffix.lower() == ".tsv":
        delimiter = "\t"
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except StopIteration:
        header = []
    return [h.lstrip("\ufeff") for h in header], delimiter


def read_csv(path: Path) -> SourceTable:
    with open(path, "rb") as handle:
        sample = handle.read(_SAMPLE)
    encoding = detect_encoding(sample)
    try:
        return _read_csv_as(path, encoding)
    except UnicodeError:
        if encoding != "utf-8":
            raise _encoding_error(path, encoding) from None
    # Valid UTF-8 in the first megabyte, not after: a GBK file that starts in ASCII.
    try:
        return _read_csv_as(path, "gb18030")
    except UnicodeError:
        raise _encoding_error(path, "utf-8") from None


def _encoding_error(path: Path, encoding: str) -> GridkitError:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError:
                return GridkitError(
                    f"{path}: line {number} is not {encoding} text like the lines before it "
                    "(a file pasted together from two encodings?); save the file as UTF-8")
    return GridkitError(f"{path}: not readable as {encoding} text; save the file as UTF-8")


def _read_csv_as(path: Path, encoding: str) -> SourceTable:
    header, delimiter = _header(path, encoding)
    if not header:
        raise GridkitError(f"{path}: the file is empty; a census CSV needs a header row")
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
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=threads,
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
        raise GridkitError(f"{path}: cannot read as CSV ({exc})") from None
    except UnicodeDecodeError as exc:
        raise UnicodeError(str(exc)) from None
    rows = _record_numbers(table.num_rows, [b.row for b in bad])
    return SourceTable(path, path.name, table, rows, bad_rows=bad, encoding=encoding)


def _record_numbers(n: int, bad: list[int | None]) -> np.ndarray:
    """Row numbers of the good records (header = 1), skipping those of the bad ones."""
    taken = np.asarray(sorted(b for b in bad if b is not None), dtype=np.int64)
    numbers = np.arange(2, n + len(taken) + 2, dtype=np.int64)
    return np.setdiff1d(numbers, taken, assume_unique=True)[:n] if len(taken) else numbers[:n]


# -- XLSX --------------------------------------------------------------------------------------

def read_xlsx(path: Path, sheet: str | None) -> SourceTable:
    import openpyxl

    from gridkit.codes.textio import cell_text

    try:
        # Read-only streams rows; cells still carry their number formats.
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise GridkitError(f"{path}: cannot read as XLSX ({exc})") from None
    try:
        names = book.sheetnames
        if sheet is None and len(names) > 1:
            raise GridkitError(f"{path} has {len(names)} sheets ({', '.join(names)}): name one "
                               "with --sheet")
        if sheet is not None and sheet not in names:
            raise GridkitError(f"{path} has no sheet {sheet!r}; its sheets are: "
                               f"{', '.join(names)}")
        chosen = sheet or names[0]
        header: list[str] | None = None
        columns: list[list[str]] = []
        rows: list[int] = []
        for number, row in enumerate(book[chosen].iter_rows(), start=1):
            cells = [cell_text(c.value, getattr(c, "number_format", "") or "")[0] for c in row]
            if header is None:
                if any(cells):
                    header = cells
                    columns = [[] for _ in header]
                continue
            if not any(cells):
                continue
            cells = cells[: len(header)] + [""] * (len(header) - len(cells))
            for column, text in zip(columns, cells, strict=True):
                column.append(text)
            rows.append(number)
    finally:
        book.close()
    if header is None:
        raise GridkitError(f"{path}: sheet {chosen!r} is empty; a census sheet needs a header "
                           "row")
    names_ = unique_names(header)
    table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names_, columns, strict=True)})
    name = f"{path.name}:{chosen}" if len(names) > 1 else path.name
    return SourceTable(path, name, table, np.asarray(rows, dtype=np.int64), encoding="xlsx")


# -- GDAL vector sources -----------------------------------------------------------------------

def read_vector_source(path: Path, layer: str | None) -> SourceTable:
    import pyogrio

    from gridkit.io import layers_of, shapefile_encoding

    names = layers_of(path)
    if layer is None and len(names) > 1:
        raise GridkitError(f"{path} has {len(names)} layers ({', '.join(names)}): name one with "
                           "--layer")
    if layer is not None and layer not in names:
        raise GridkitError(f"{path} has no layer {layer!r}; its layers are: {', '.join(names)}")
    chosen = layer or names[0]
    try:
        meta, table = pyogrio.read_arrow(path, layer=chosen, encoding=shapefile_encoding(path),
                                         return_fids=True)
    except UnicodeDecodeError:
        raise GridkitError(f"{path}: field names or values are not valid text in the file's "
                           "encoding; add a .cpg naming it (e.g. GBK)") from None
    except Exception as exc:  # pyogrio wraps GDAL errors in several classes
        raise GridkitError(f"{path}: GDAL cannot read layer {chosen!r} ({exc})") from None
    geometry_name = meta.get("geometry_name") or ""
    fid_name = meta.get("fid_column") or ""
    fid_column = fid_name if fid_name in table.column_names else (
        "OGC_FID" if "OGC_FID" in table.column_names else table.column_names[0])
    geometry = None
    if geometry_name and geometry_name in table.column_names:
        wkb = table.column(geometry_name).combine_chunks()
        geometry = shapely.from_wkb(np.asarray(wkb.to_numpy(zero_copy_only=False), dtype=object),
                                    on_invalid="ignore")
    elif "wkb_geometry" in table.column_names:
        geometry_name = "wkb_geometry"
        geometry = shapely.from_wkb(np.asarray(table.column(geometry_name).to_numpy(
            zero_copy_only=False), dtype=object), on_invalid="ignore")
    rows = table.column(fid_column).to_numpy().astype(np.int64)
    fields = [c for c in table.column_names if c not in (geometry_name, fid_column)]
    names_ = unique_names(fields)
    text = pa.table({n: text_column(table.column(c)) for n, c in zip(names_, fields, strict=True)})
    crs = pyproj.CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    name = f"{path.name}:{chosen}" if len(names) > 1 else path.name
    return SourceTable(path, name, text, rows, geometry, crs, encoding=meta.get("encoding", ""))


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
