"""Which source column feeds which field: aliases, Shapefile-cut names and ``--map``.

Column names are compared after NFKC, case folding and removal of spaces, underscores,
hyphens and brackets, so ``主管部门 (名称)``, ``DEPT_NAME1`` and ``deptname1`` all compare as
the alias list says. For each field the first alias (in the schema's order) found among the
columns wins; a column serves one field at most. A DBF keeps only 10 bytes of a field name:
部件名称 is 部件名 in UTF-8 and 主管部门名称 is 主管部门名 in GBK, so a column whose name is
the 10-byte cut of an alias (in UTF-8 or GBK, a broken last character dropped) matches it
too, after every exact match. Other tools cut elsewhere (SuperMap, a UTF-8 cut read as GBK), so
a column whose name looks cut (at most 10 bytes in UTF-8 or GBK, at least 7) and is the start
of an alias longer than that matches the alias's field as well. A cut name that could be
either of two fields still open (主管部: 主管部门代码 or 主管部门名称 in UTF-8) is ambiguous: it
stays in ``EXTRA`` and is named in :attr:`ColumnMap.ambiguous` with a warning (``--map``
decides). Columns no field takes are kept in the record's ``EXTRA``, and listed in the
import's figures: nothing is dropped without a mention.
"""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from gridkit.errors import GridkitWarning, InputError, mention

Aliases = Mapping[str, tuple[str, ...]]
_DROP = set(" \t_-–—.·()（）[]【】{}<>《》:：/\\'\"")
DBF_NAME_BYTES = 10
SHOWN_CHANGES = 10  # changed values listed on the terminal per file
# A name this short (bytes) is a word of its own, not a cut: 街道 is not the cut of 街道名称.
CUT_MIN_BYTES = 7


def column_key(name: object) -> str:
    """The comparison key of a column name: NFKC, case folded, spaces and brackets removed.

    Parameters
    ----------
    name : object
        A column name.

    Returns
    -------
    str
        The key two names that mean the same column share.

    Examples
    --------
    >>> column_key("主管部门（名称）") == column_key("主管部门名称")
    True
    """
    text = unicodedata.normalize("NFKC", str(name)).casefold()
    return "".join(ch for ch in text if ch not in _DROP)


def dbf_cut(name: str, encoding: str) -> str:
    """``name`` as a DBF keeps it: its first 10 bytes in ``encoding``.

    A character cut in the middle of its bytes is dropped, as GDAL and ArcGIS do.

    Parameters
    ----------
    name : str
        A column name.
    encoding : str
        The DBF's encoding (``gbk`` two bytes per Chinese character, ``utf-8`` three).

    Returns
    -------
    str
        The name a Shapefile would hold.

    Examples
    --------
    >>> dbf_cut("部件名称", "utf-8"), dbf_cut("主管部门名称", "gbk")
    ('部件名', '主管部门名')
    """
    try:
        raw = name.encode(encoding)
    except UnicodeEncodeError:
        return name
    return raw[:DBF_NAME_BYTES].decode(encoding, errors="ignore")


@lru_cache(maxsize=8)
def _keys(aliases: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[dict, dict]:
    exact = {f: tuple(column_key(a) for a in names) for f, names in aliases}
    cut: dict[str, tuple[str, ...]] = {}
    for f, names in aliases:
        keys = []
        for alias in names:
            for encoding in ("utf-8", "gbk"):
                short = dbf_cut(alias, encoding)
                if short != alias and len(column_key(short)) >= 2:
                    keys.append(column_key(short))
        cut[f] = tuple(dict.fromkeys(keys))
    return exact, cut


def alias_keys(aliases: Aliases) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(exact keys, DBF-cut keys) of every field's aliases."""
    return _keys(tuple((f, tuple(a)) for f, a in aliases.items()))


def recognised(cells: list[str], aliases: Aliases) -> int:
    """How many ``cells`` name a known column: what tells a header row from a title row."""
    exact, cut = alias_keys(aliases)
    known = {k for keys in exact.values() for k in keys} | {k for keys in cut.values()
                                                            for k in keys}
    return sum(1 for c in cells if c and column_key(c) in known)


def parse_maps(items: tuple[str, ...] | list[str], aliases: Aliases) -> dict[str, str]:
    """``maps`` items ``"FIELD=COLUMN"`` (``--map``) into {FIELD: COLUMN}.

    FIELD is one of ``aliases``.

    Parameters
    ----------
    items : sequence of str
        The options as given, ``"OBJNAME=设施类型"``; FIELD is case-insensitive.
    aliases : mapping of str to sequence of str
        The schema's fields.

    Returns
    -------
    dict of str to str
        Field → column.

    Raises
    ------
    InputError
        An item is not FIELD=COLUMN, or FIELD is not a field of the schema.

    Examples
    --------
    >>> parse_maps(["objname=设施类型"], {"OBJNAME": ("部件名称",)})
    {'OBJNAME': '设施类型'}
    """
    mapping: dict[str, str] = {}
    for item in items:
        target, sep, column = item.partition("=")
        target = target.strip().upper()
        if not sep or not column.strip():
            raise InputError(f"{mention(maps=[item])}: write FIELD=COLUMN, e.g. "
                             f"{mention(maps=['OBJNAME=设施类型'])}", parameter="maps")
        if target not in aliases:
            raise InputError(f"{mention(maps=[item])}: {target} is not a field gridkit fills; "
                             f"use one of {', '.join(aliases)}", parameter="maps")
        mapping[target] = column.strip()
    return mapping


@dataclass
class ColumnMap:
    """Which source column feeds each field of a schema.

    Attributes
    ----------
    fields : dict of str to str
        Field (OBJNAME, X, Y, ...) → source column.
    extra : list of str
        Source columns no field took (kept as surveyed, e.g. in EXTRA).
    cut : dict of str to str
        Columns matched as DBF-cut names (a Shapefile keeps 10 bytes) → the field whose alias
        they were cut from.
    ambiguous : dict of str to list of str
        Cut-looking columns that start aliases of several fields → those fields; they stay in
        ``extra`` (``--map FIELD=COLUMN`` decides).

    Examples
    --------
    >>> found = map_columns(["部件名", "备注"], aliases={"OBJNAME": ("部件名称",)})
    >>> found.get("OBJNAME"), found.extra, found.cut
    ('部件名', ['备注'], {'部件名': 'OBJNAME'})
    """

    fields: dict[str, str]
    extra: list[str] = field(default_factory=list)
    cut: dict[str, str] = field(default_factory=dict)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        """The source column of field ``name``, or None."""
        return self.fields.get(name)


def map_columns(columns: list[str], explicit: dict[str, str] | None = None, *,
                source: str = "", aliases: Aliases) -> ColumnMap:
    """Assign source columns to a schema's fields.

    ``explicit`` (``--map``) first, then ``aliases`` in order (compared by :func:`column_key`:
    case, width, spaces and brackets ignored), then the DBF-cut forms of the aliases (a
    Shapefile cuts names to 10 bytes).

    Parameters
    ----------
    columns : list of str
        The source's column names.
    explicit : dict of str to str, optional
        Field → column the user named.
    source : str, optional
        The file, for messages.
    aliases : mapping of str to sequence of str
        Field → the column names that mean it, most specific first.

    Returns
    -------
    ColumnMap
        Field → column, the columns left over, and those matched as cut names.

    Raises
    ------
    InputError
        An explicit column is not in ``columns``.

    Examples
    --------
    >>> map_columns(["经度", "纬度", "主管部门名"], aliases={"X": ("经度",), "Y": ("纬度",),
    ...             "DEPTNAME1": ("主管部门名称",)}).fields["DEPTNAME1"]
    '主管部门名'
    """
    exact, cut = alias_keys(aliases)
    explicit = explicit or {}
    fields: dict[str, str] = {}
    taken: set[str] = set()
    for target, column in explicit.items():
        if column not in columns:
            matches = [c for c in columns if column_key(c) == column_key(column)]
            if len(matches) != 1:
                raise InputError(
                    f"{source}: {mention(maps=[f'{target}={column}'])}: no column {column!r}; "
                    f"the columns are: {', '.join(columns)}",
                    parameter="maps", file=source or None, field=target)
            column = matches[0]
        fields[target] = column
        taken.add(column)
    keys: dict[str, str] = {}
    for column in columns:
        keys.setdefault(column_key(column), column)
    for target, keys_of_target in exact.items():
        if target in fields:
            continue
        for alias in keys_of_target:
            found = keys.get(alias)
            if found is not None and found not in taken:
                fields[target] = found
                taken.add(found)
                break
    # Cut names after every exact match; one that could be either of two open fields (主管部,
    # the UTF-8 cut of both 主管部门代码 and 主管部门名称) is not guessed.
    cut_from: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}
    for column in columns:
        if column in taken:
            continue
        key = column_key(column)
        targets = [t for t, cut_keys in cut.items() if key in cut_keys]
        targets += [t for t in cut_of(column, aliases) if t not in targets]
        targets = [t for t in targets if t not in fields]
        if len(targets) == 1:
            fields[targets[0]] = column
            taken.add(column)
            cut_from[column] = targets[0]
        elif targets:
            ambiguous[column] = targets
            choice = " or ".join(f"--map {t}={column}" for t in targets)
            warnings.warn(f"{source + ': ' if source else ''}column {column} could be "
                          f"{' or '.join(targets)} (a field name cut at 10 bytes); kept in "
                          f"EXTRA: give {choice}", GridkitWarning, stacklevel=2)
    # A lone MINOR column is only a class code together with MAJOR.
    if "MINOR" in fields and "MAJOR" not in fields and "MINOR" not in explicit:
        taken.discard(fields.pop("MINOR"))
    return ColumnMap(fields, [c for c in columns if c not in taken], cut_from, ambiguous)


def cut_of(column: str, aliases: Aliases) -> list[str]:
    """The fields ``column`` may be a cut name of: it starts one of their longer aliases.

    Only a name that looks cut counts: at most :data:`DBF_NAME_BYTES` and at least
    :data:`CUT_MIN_BYTES` bytes in UTF-8 or GBK, where the alias is longer than 10 bytes.

    Parameters
    ----------
    column : str
        A source column name.
    aliases : mapping of str to sequence of str
        Field → the column names that mean it.

    Returns
    -------
    list of str
        The fields, in the schema's order (empty when none).

    Examples
    --------
    >>> cut_of("所属街道名", {"STREET_NAME": ("街道名称", "所属街道名称")})
    ['STREET_NAME']
    >>> cut_of("街道", {"STREET_NAME": ("街道名称",)})
    []
    """
    key = column_key(column)
    if not key:
        return []
    found = []
    for target, names in aliases.items():
        for alias in names:
            whole = column_key(alias)
            if whole == key or not whole.startswith(key):
                continue
            if any(CUT_MIN_BYTES <= _bytes(column, e) <= DBF_NAME_BYTES < _bytes(alias, e)
                   for e in ("utf-8", "gbk")):
                found.append(target)
                break
    return found


def _bytes(name: str, encoding: str) -> int:
    try:
        return len(name.encode(encoding))
    except UnicodeEncodeError:
        return 0


def column_notes(figures: Mapping) -> list[str]:
    """What an import's figures of one file say about its columns and rows, as terminal lines.

    Parameters
    ----------
    figures : mapping
        One file's figures with ``kept_in_extra``, ``cut_names``, ``ambiguous_cut_names``,
        ``srcrow`` (what SRCROW numbers are) and ``changed_values`` (the values the import
        changed: the first ``SHOWN_CHANGES`` of them, the rest counted; ``--json`` has all).

    Returns
    -------
    list of str
        One line per fact, indented under the file's line.

    Examples
    --------
    >>> column_notes({"kept_in_extra": ["主管部"], "cut_names": {"部件名": "OBJNAME"},
    ...               "ambiguous_cut_names": {"主管部": ["DEPTCODE1", "DEPTNAME1"]}})[1:]
    ['  部件名 read as OBJNAME (a Shapefile field name cut at 10 bytes)', '  主管部 could be \
DEPTCODE1 or DEPTNAME1 (a cut field name): kept in EXTRA; --map FIELD=主管部 decides']
    """
    lines = [f"  SRCROW: {figures['srcrow']}"] if figures.get("srcrow") else []
    if figures.get("kept_in_extra"):
        lines.append("  kept in EXTRA (no field takes them): "
                     + ", ".join(figures["kept_in_extra"]))
    for cut, target in figures.get("cut_names", {}).items():
        lines.append(f"  {cut} read as {target} (a Shapefile field name cut at 10 bytes)")
    for column, targets in figures.get("ambiguous_cut_names", {}).items():
        lines.append(f"  {column} could be {' or '.join(targets)} (a cut field name): kept in "
                     f"EXTRA; --map FIELD={column} decides")
    changes = figures.get("changed_values", [])
    for change in changes[:SHOWN_CHANGES]:
        lines.append(f"  {change['field']} {change['from']} -> {change['to']} "
                     f"({change['rule']}, {change['rows']:,} rows from row {change['first_row']})")
    if len(changes) > SHOWN_CHANGES:
        lines.append(f"  ... {len(changes) - SHOWN_CHANGES:,} more changed values "
                     "(changed_values in --json)")
    return lines
