"""Local catalogs (a city's own class list, or extended classes) from CSV or XLSX.

Two layouts are read, with English or Chinese headers:

- one row per class: ``code,name`` (code = 2-digit major or 4-digit major+minor), optional
  ``name_en``, ``geometry`` (point/line/polygon or 点/线/面) and ``kind`` (component/event,
  部件/事件) when one file holds both catalogs;
- one row per minor class: ``大类代码,大类名称,小类代码,小类名称`` (major_code, major_name,
  minor_code, minor_name); the minor code may be 2 digits or the full 4.

Every problem names the file, the row (as a spreadsheet shows it, header = row 1), the field and
the fix. A local catalog replaces the national one unless ``extend`` is set, when its classes are
added to the national ones (national codes must then keep their national names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gridkit.codes.catalog import Catalog, ClassEntry, Kind, national_catalog
from gridkit.codes.normalize import normalize_name
from gridkit.codes.textio import EXCEL_SUFFIXES, TEXT_SUFFIXES, Table, read_tables
from gridkit.errors import InputError

_HEADERS = {
    "code": ["code", "代码", "编码", "分类代码", "分类编码", "类别代码", "类代码"],
    "name": ["name", "name_zh", "名称", "分类名称", "类别名称", "中文名称"],
    "name_en": ["name_en", "english", "英文名称", "英文名", "英文"],
    "geometry": ["geometry", "geom", "几何", "几何类型", "空间类型", "图形类型", "空间表达"],
    "kind": ["kind", "类型", "种类", "部件事件"],
    "major_code": ["major_code", "major", "大类代码", "大类编码"],
    "major_name": ["major_name", "大类名称", "大类"],
    "minor_code": ["minor_code", "minor", "小类代码", "小类编码"],
    "minor_name": ["minor_name", "小类名称", "小类"],
    "note": ["note", "备注", "说明"],
}
_GEOMETRY = {"point": "point", "点": "point", "line": "line", "线": "line", "polygon": "polygon",
             "面": "polygon", "": ""}
_KIND = {"component": "component", "部件": "component", "event": "event", "事件": "event"}


def _header_key(text: str) -> str:
    return normalize_name(text.replace("_", "")) if text else ""


_LOOKUP = {_header_key(alias): field for field, aliases in _HEADERS.items() for alias in aliases}


class CatalogError(InputError):
    """A local catalog that cannot be used; ``problems`` lists every problem found.

    An :class:`~gridkit.errors.InputError` (a ``ValueError``) about the ``catalog``.

    Parameters
    ----------
    problems : list of str
        One line per problem (file, row, column, what and the fix); the message is the first.

    Examples
    --------
    >>> error = CatalogError(["catalog.csv row 3: code '1' is not a class code", "row 4: ..."])
    >>> str(error), error.parameter, isinstance(error, ValueError)
    ("catalog.csv row 3: code '1' is not a class code (and 1 more problems)", 'catalog', True)
    """

    def __init__(self, problems: list[str]) -> None:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more, parameter="catalog")
        self.problems = problems


@dataclass
class _Builder:
    path: Path
    kind: Kind
    extend: bool
    entries: dict[str, ClassEntry] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # code -> row that defined it
    names: dict[str, str] = field(default_factory=dict)  # name key -> code
    problems: list[str] = field(default_factory=list)

    def problem(self, row: int | None, column: str, text: str, fix: str) -> None:
        where = f"row {row}, " if row else ""
        self.problems.append(f"{self.path}: {where}field {column}: {text} — {fix}")

    def add(self, row: int, column: str, code: str, name: str, **extra: str) -> None:
        if not code:
            self.problem(row, column, "empty code", "give every class a code")
            return
        if not code.isascii() or not code.isdigit():
            self.problem(row, column, f"{code!r} has characters other than digits",
                         "codes are digits only")
            return
        if len(code) not in (2, 4):
            self.problem(row, column, f"{code!r} has {len(code)} digits",
                         "a class code has 2 digits (major) or 4 (major + minor)")
            return
        if code.startswith("00") or code.endswith("00"):
            self.problem(row, column, f"{code!r} uses 00", "major and minor classes start at 01")
            return
        if not name:
            self.problem(row, "name", f"class {code} has no name", "name every class")
            return
        if code in self.rows:
            if self.entries[code].name == name:
                return  # a major class repeated on every minor row of the wide layout
            self.problem(row, column, f"{code} is already defined at row {self.rows[code]} "
                         f"({self.entries[code].name})", "give each class one code")
            return
        key = normalize_name(name)
        if key in self.names:
            other = self.names[key]
            self.problem(row, "name", f"{name!r} already names {other} (row {self.rows[other]})",
                         "a name must identify one class")
            return
        self.entries[code] = ClassEntry(code, name, status="local",
                                        source=str(self.path.name), **extra)
        self.rows[code] = row
        self.names[key] = code

    def finish(self) -> Catalog:
        national = national_catalog(self.kind)
        for code, entry in self.entries.items():
            row = self.rows[code]
            if len(code) == 4 and code[:2] not in self.entries and not (
                self.extend and code[:2] in national
            ):
                self.problem(row, "code", f"{code}'s major class {code[:2]} is not defined",
                             f"add a row for major class {code[:2]}")
            if not self.extend:
                continue
            known = national.get(code)
            if known and normalize_name(known.name) != normalize_name(entry.name):
                self.problem(row, "name", f"{code} is {known.name} in the national catalog",
                             "with `extend=True` a national code keeps its name: use a free "
                             "code, or drop `extend=True` to replace the national catalog")
            taken = national.name_index.get(normalize_name(entry.name))
            if taken and taken != code:
                self.problem(row, "name", f"{entry.name!r} is national class {taken}",
                             "with `extend=True` a national name keeps its code")
        if not self.entries and not self.problems:
            self.problem(None, "code", f"no {self.kind} classes", "add rows, or check --events")
        if self.problems:
            raise CatalogError(self.problems)
        local = Catalog(self.kind, self.entries.values(), title=f"catalog {self.path.name}",
                        origin=str(self.path))
        return national.extended(local) if self.extend else local


# Digits the codes of a major/minor column have: a number that lost one leading zero is padded
# back (the census import's rule). A generic code column holds 2 or 4 digits, so a number
# there is left for the code checks to refuse.
_WIDTHS = {"major_code": (2,), "minor_code": (2, 4)}


def _pad_numbers(table: Table, cols: dict[str, str], position: int, cell: dict) -> str:
    """Pad code cells the sheet stored as numbers (0102 typed as 102); returns the log note."""
    notes = []
    for name, widths in _WIDTHS.items():
        column = cols.get(name)
        flags = table.numeric.get(column) if column else None
        if flags is None or not flags[position]:
            continue
        value = cell.get(name, "")
        width = next((w for w in widths if len(value) == w - 1), None)
        if value.isdigit() and width:
            cell[name] = value.zfill(width)
            notes.append(f"{column} {value} was a number; read as {cell[name]}")
    return "; ".join(notes)


def _columns(table: Table, path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for column in table.frame.columns:
        target = _LOOKUP.get(_header_key(str(column)))
        if target and target not in found:
            found[target] = column
    if not ({"code", "name"} <= found.keys() or {"minor_code", "minor_name"} <= found.keys()):
        raise CatalogError([
            f"{path}: row 1 (header): no code and name columns among "
            f"{', '.join(map(str, table.frame.columns)) or 'none'} — name them code,name or "
            "大类代码,大类名称,小类代码,小类名称"
        ])
    return found


def load_catalog(path: str | Path, kind: Kind = "component", *, extend: bool = False,
                 sheet: str | None = None) -> Catalog:
    r"""A local class catalog from CSV or XLSX, validated row by row.

    Columns are recognised by their Chinese or English headers: either ``code``/``name`` per class,
    or ``major_code``/``major_name``/``minor_code``/``minor_name`` per row; ``geometry`` (point,
    line, polygon or 点/线/面), ``kind`` (component/部件, event/事件), ``name_en`` and ``note``
    are optional. Codes that lost their leading zeros in a spreadsheet are padded back and noted.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV (any Chinese encoding) or XLSX file.
    kind : {"component", "event"}, optional
        Which classes to read (rows of the other ``kind`` are skipped).
    extend : bool, optional
        Add these classes to the national catalog instead of replacing it.
    sheet : str, optional
        The XLSX sheet (default: the first).

    Returns
    -------
    Catalog
        The local catalog (extended by the national one when ``extend``).

    Raises
    ------
    CatalogError
        Listing every bad row (code, name, geometry, a minor class outside its major class).
    GridkitError
        When the file is not CSV/XLSX or cannot be read.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "local.csv"
    >>> _ = path.write_text("代码,名称,几何\n90,本地设施,\n9001,共享单车桩,点\n", encoding="utf-8")
    >>> load_catalog(path).name_of("9001")
    '共享单车桩'
    """
    path = Path(path)
    if path.suffix.lower() not in TEXT_SUFFIXES | EXCEL_SUFFIXES:
        raise InputError(f"{path}: a catalog is read from CSV or XLSX, not {path.suffix!r}")
    tables = read_tables(path, sheet, aliases={k: tuple(v) for k, v in _HEADERS.items()})
    if not tables:
        raise CatalogError([f"{path}: no rows"])
    table = tables[0]
    cols = _columns(table, path)
    builder = _Builder(path, kind, extend)
    for position, record in enumerate(table.frame.to_dict("records")):
        row = int(table.labels[position]) if table.labels is not None else position + 2
        cell = {name: str(record[col]).strip() for name, col in cols.items()}
        padded = _pad_numbers(table, cols, position, cell)
        row_kind = cell.get("kind", "")
        if row_kind:
            if row_kind.lower() not in _KIND:
                builder.problem(row, cols["kind"], f"{row_kind!r} is not a catalog kind",
                                "write component/部件 or event/事件")
                continue
            if _KIND[row_kind.lower()] != kind:
                continue
        geometry = cell.get("geometry", "").lower()
        if geometry not in _GEOMETRY:
            builder.problem(row, cols["geometry"], f"{geometry!r} is not a geometry kind",
                            "write point, line or polygon (点/线/面) or leave it empty")
            continue
        extra = {"name_en": cell.get("name_en", ""), "geometry": _GEOMETRY[geometry],
                 "note": "; ".join(n for n in (cell.get("note", ""), padded) if n)}
        if "code" in cell:
            builder.add(row, cols["code"], cell["code"], cell.get("name", ""), **extra)
            continue
        major = cell.get("major_code", "")
        minor = cell["minor_code"]
        if major:
            builder.add(row, cols["major_code"], major, cell.get("major_name", ""))
        if len(minor) == 2 and major:
            minor = major + minor
        elif major and len(minor) == 4 and not minor.startswith(major):
            builder.problem(row, cols["minor_code"], f"{minor} does not start with its major "
                            f"class {major}", "make the first two digits the major class")
            continue
        builder.add(row, cols["minor_code"], minor, cell.get("minor_name", ""), **extra)
    return builder.finish()
