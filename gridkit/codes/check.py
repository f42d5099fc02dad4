"""Check every code column of a table or layer, row by row, and the codes against each other.

Columns are recognised by name (English field names of production systems and their common
Chinese headers). Each distinct value is validated once and the verdict spread over its rows,
so a census of millions of rows costs about as much as its distinct codes.

Severity: ``error`` for a code that is malformed, unknown to the catalog, duplicated where it
must be unique, or contradicting another code of the same row; ``warning`` for an empty optional
code, a code stored as a number, or a name that names another class than the code. An empty
component code (OBJCODE, 标识码) is neither: ``gridkit census import`` allocates one, so the
rows are listed once as ``objcode-to-allocate`` (a warning), in the import's words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gridkit.codes.admin import (
    community_code_problem,
    parse_bgid,
    parse_county_code,
    parse_street_code,
    problem_of,
)
from gridkit.codes.catalog import Catalog, national_catalog
from gridkit.codes.component import component_code_problem, event_code_problem
from gridkit.codes.explain import KIND_BY_LENGTH
from gridkit.codes.matcher import Match
from gridkit.codes.normalize import normalize_name
from gridkit.codes.textio import Table, read_tables
from gridkit.errors import InputError
from gridkit.qa import registered
from gridkit.records.schema import COMPONENT, EVENT
from gridkit.sources.cells import code_number_problem

COLUMN_ALIASES: dict[str, list[str]] = {
    "component": ["OBJCODE", "OBJID", "标识码", "部件编码", "部件标识码", "部件代码", "部件编号"],
    "unit grid": ["BGID", "网格编码", "网格代码", "单元网格编码", "单元网格代码", "所在网格",
                  "所在单元网格", "单元网格"],
    "community": ["COMMUNITY", "社区代码", "社区编码", "居委会代码", "村居代码", "社区居委会代码"],
    "street": ["STREET", "街道代码", "街道编码", "街镇代码", "街道乡镇代码"],
    "county": ["COUNTY", "区县代码", "县区代码", "行政区划代码"],
    "event": ["EVTCODE", "事件编码", "事件代码", "事件类型代码", "事件分类代码"],
    "code": ["CODE", "代码", "编码"],
    "major": ["MAJOR", "大类代码", "大类编码"],
    "minor": ["MINOR", "小类代码", "小类编码"],
    "rgid": ["RGID", "责任网格编码", "责任网格代码"],
    "objname": ["OBJNAME", "部件名称"],
}
# What finds the header of a form: the code columns and the census/event columns (a title row
# above the header is skipped, and a second header row, 位置 over 经度/纬度, is not data).
_HEADER_ALIASES = {**{f"code:{kind}": tuple(names) for kind, names in COLUMN_ALIASES.items()},
                   **{f"component:{f}": a for f, a in COMPONENT.aliases.items()},
                   **{f"event:{f}": a for f, a in EVENT.aliases.items()}}
_BY_KEY = {normalize_name(a): kind for kind, names in COLUMN_ALIASES.items() for a in names}
CODE_KINDS = ("component", "unit grid", "community", "street", "county", "event", "code")
# An empty value is an error where the code is the row's identity, a warning elsewhere; an
# empty component code is what the census import allocates (one warning naming the rows).
REQUIRED = {"event", "code"}
_LENGTH_KIND = {n: kind for n, kind in KIND_BY_LENGTH.items() if n > 4}
ISSUE_COLUMNS = ["row", "column", "value", "rule", "severity", "message"]


def recognise_columns(columns: list[str]) -> dict[str, str]:
    """Column name → kind for the columns gridkit knows; first column of a kind wins."""
    found: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        kind = _BY_KEY.get(normalize_name(str(column)))
        if kind and kind not in taken:
            found[str(column)] = kind
            taken.add(kind)
    return found


def _validators(components: Catalog, events: Catalog) -> dict[str, Callable[[str], str | None]]:
    return {
        "component": lambda v: component_code_problem(v, components),
        "unit grid": problem_of(parse_bgid),
        "community": community_code_problem,
        "street": problem_of(parse_street_code),
        "county": problem_of(parse_county_code),
        "event": lambda v: event_code_problem(v, events),
    }


@dataclass
class LayerReport:
    """The code check of one table or layer.

    Attributes
    ----------
    name : str
        The table (sheet, layer or file name).
    rows : int
        Rows read.
    columns : dict of str to str
        Column → code kind it was recognised as.
    issues : pandas.DataFrame
        One row per problem: row, column, value, rule, severity, message.

    Examples
    --------
    >>> import pandas as pd
    >>> from gridkit.codes.textio import Table
    >>> frame = pd.DataFrame({"BGID": ["310116001001001", "31011600100"]})
    >>> report = check_table(Table("grids", frame))
    >>> report.rows, report.errors
    (2, 1)
    """

    name: str
    rows: int
    columns: dict[str, str]
    issues: pd.DataFrame

    @property
    def errors(self) -> int:
        """Number of error rows."""
        return int((self.issues["severity"] == "error").sum())

    @property
    def warnings(self) -> int:
        """Number of warning rows."""
        return int((self.issues["severity"] == "warning").sum())

    def by_rule(self) -> dict[str, int]:
        """Number of issues per rule."""
        return {str(k): int(v) for k, v in self.issues["rule"].value_counts().items()}

    def as_dict(self, max_issues: int = 0) -> dict:
        """The report as a plain dict (``--json``); ``max_issues`` > 0 keeps that many issues."""
        shown = self.issues if max_issues <= 0 else self.issues.head(max_issues)
        return {
            "layer": self.name,
            "rows": self.rows,
            "columns": self.columns,
            "errors": self.errors,
            "warnings": self.warnings,
            "by_rule": self.by_rule(),
            "issues": shown.to_dict("records"),
            "issues_truncated": len(shown) < len(self.issues),
        }


@dataclass
class CheckReport:
    r"""The code check of a file: one :class:`LayerReport` per table with code columns.

    Attributes
    ----------
    source : str
        The file checked.
    layers : list of LayerReport
        Its tables' reports.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> twice = "OBJCODE\n3205820102048188\n3205820102048188\n"  # one code, two components
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "codes.csv"
    >>> _ = path.write_text(twice, encoding="utf-8")
    >>> report = check_file(path)
    >>> report.clean, report.errors
    (False, 1)
    """

    source: str
    layers: list[LayerReport]

    @property
    def errors(self) -> int:
        """Number of error rows over all tables."""
        return sum(layer.errors for layer in self.layers)

    @property
    def warnings(self) -> int:
        """Number of warning rows over all tables."""
        return sum(layer.warnings for layer in self.layers)

    @property
    def clean(self) -> bool:
        """Whether no table has an error."""
        return self.errors == 0

    def as_dict(self, max_issues: int = 0) -> dict:
        """The report as a plain dict (``--json``); ``max_issues`` > 0 keeps that many issues."""
        return {
            "file": self.source,
            "clean": self.clean,
            "errors": self.errors,
            "warnings": self.warnings,
            "layers": [layer.as_dict(max_issues) for layer in self.layers],
        }


class _Issues:
    """Issues collected as arrays (positions, one message per distinct value) until the end."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.parts: list[pd.DataFrame] = []

    def add(self, positions: np.ndarray, column: str, rule: str, severity: str,
            messages: object) -> None:
        registered(rule, severity)
        if len(positions) == 0:
            return
        values = self.table.frame[column].to_numpy(dtype=object)[positions] if column else ""
        self.parts.append(pd.DataFrame({
            "position": positions, "column": column, "value": values, "rule": rule,
            "severity": severity, "message": messages,
        }))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=ISSUE_COLUMNS)
        issues = pd.concat(self.parts, ignore_index=True)
        issues = issues.sort_values(["position", "column", "rule"], kind="stable")
        labels = self.table.labels
        if labels is None:
            labels = np.arange(len(self.table.frame)) + 2
        issues.insert(0, "row", [f"{self.table.row_label} {labels[p]}"
                                 for p in issues.pop("position")])
        return issues.reset_index(drop=True)[ISSUE_COLUMNS]


def _spans(table: Table, positions: np.ndarray, most: int = 8) -> str:
    """The row labels of ``positions`` as runs (``2-41, 57``), the first ``most`` runs."""
    labels = table.labels if table.labels is not None else np.arange(len(table.frame)) + 2
    rows = np.asarray(labels)[positions].astype(np.int64)
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    runs = [f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in np.split(rows, breaks)]
    more = f" and {len(runs) - most} more runs" if len(runs) > most else ""
    return ", ".join(runs[:most]) + more


def _validate(series: pd.Series, validate: Callable[[str], str | None]):
    """Positions of invalid non-empty values and their messages, one call per distinct value."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    problems = np.array([validate(str(u)) if u else None for u in uniques] + [None], dtype=object)
    bad = np.array([p is not None for p in problems])
    positions = np.flatnonzero(bad[codes])
    return positions, problems[codes[positions]]


def _auto_kind(series: pd.Series) -> str | None:
    """The kind a generic CODE column holds: the commonest code length among its values."""
    lengths = series[series != ""].str.len().value_counts()
    for length in lengths.index:
        if int(length) in _LENGTH_KIND:
            return _LENGTH_KIND[int(length)]
    return None


def check_table(table: Table, *, components: Catalog | None = None,
                events: Catalog | None = None) -> LayerReport:
    """Check one table's code columns and their agreement; see the module doc.

    Each distinct value is validated once (GB/T 2260 county, GB/T 10114 street/town, community,
    GB/T 30428.1 BGID, GB/T 30428.2 component code, event class), then codes of the same row are
    compared (a BGID inside its community, an OBJCODE's class against MAJOR/MINOR and OBJNAME),
    and identity codes checked for duplicates.

    Parameters
    ----------
    table : gridkit.codes.textio.Table
        The table, every cell as text; columns are recognised by name (OBJCODE, BGID, 网格编码).
    components : Catalog, optional
        Component classes (default: the national catalog).
    events : Catalog, optional
        Event classes (default: the national catalog).

    Returns
    -------
    LayerReport
        The recognised columns and one issue row per problem.

    Examples
    --------
    >>> import pandas as pd
    >>> from gridkit.codes.textio import Table
    >>> frame = pd.DataFrame({"OBJCODE": ["3205820102048188"], "OBJNAME": ["路灯"]})
    >>> check_table(Table("census", frame)).issues[["column", "severity"]].values.tolist()
    [['OBJNAME', 'warning']]
    """
    components = components or national_catalog("component")
    events = events or national_catalog("event")
    frame = table.frame
    columns = recognise_columns(list(frame.columns))
    kinds = {kind: column for column, kind in columns.items()}
    validators = _validators(components, events)
    issues = _Issues(table)
    valid: dict[str, np.ndarray] = {}
    for column, kind in columns.items():
        if kind not in CODE_KINDS:
            continue
        values = frame[column].astype(object).fillna("").astype(str)
        if kind == "code":
            detected = _auto_kind(values)
            columns[column] = f"{detected}, detected" if detected else "code"
            kind_here = detected
        else:
            kind_here = kind
        empty = (values == "").to_numpy()
        if empty.any() and kind == "component":
            where = np.flatnonzero(empty)
            issues.add(where[:1], column, "objcode-to-allocate", "warning",
                       f"{len(where):,} rows have no component code "
                       f"({table.row_label}s {_spans(table, where)}): to be allocated; "
                       "gridkit census import allocates each the next free serial of its "
                       "county and class (its 'codes: … allocated' count), or carries over the "
                       "code an earlier import of the same file gave it; fill one in only "
                       "where a code is already in use")
        elif empty.any():
            severity = "error" if kind in REQUIRED else "warning"
            issues.add(np.flatnonzero(empty), column, "empty", severity, f"no {kind} code")
        if kind_here is None:
            issues.add(np.flatnonzero(~empty), column, "unknown-kind", "error",
                       "not a code gridkit knows: codes have 6, 9, 12, 15 or 16 digits")
            continue
        bad, messages = _validate(values, validators[kind_here])
        if kind == "code":
            messages = [_length_hint(m, v, kind_here) for m, v in
                        zip(messages, values.to_numpy(dtype=object)[bad], strict=True)]
        # The import's rule for codes that were numbers (Excel keeps 15 significant digits).
        numeric = table.numeric.get(column)
        was_number = numeric if numeric is not None else np.zeros(len(values), bool)
        texts = values.to_numpy(dtype=object)
        digits = {v: k for k, v in _LENGTH_KIND.items()}.get(kind_here, 16)
        lost = np.array([bool(code_number_problem(t, bool(w), digits, f"{kind_here} code"))
                         for t, w in zip(texts, was_number, strict=True)], bool)
        if lost.any():
            keep = ~np.isin(bad, np.flatnonzero(lost))
            bad, messages = bad[keep], list(np.asarray(messages, dtype=object)[keep])
            where = np.flatnonzero(lost)
            issues.add(where, column, "invalid", "error",
                       [code_number_problem(texts[p], bool(was_number[p]), digits,
                                            f"{kind_here} code") for p in where])
        issues.add(bad, column, "invalid", "error", messages)
        ok = ~empty
        ok[bad] = False
        ok[lost] = False
        valid[kind_here if kind == "code" else kind] = ok
        valid[column] = ok
        numeric = table.numeric.get(column)
        if numeric is not None and numeric.any():
            issues.add(np.flatnonzero(numeric)[:1], column, "stored-as-number", "warning",
                       f"{int(numeric.sum())} cells are numbers, not text: leading zeros and "
                       "digits past the 15th can be lost — store codes as text")
    _check_unique(frame, columns, kinds, valid, issues)
    _check_agreement(frame, kinds, valid, issues)
    _check_names(frame, kinds, valid, issues, components)
    return LayerReport(table.name, len(frame), columns, issues.frame())


def _length_hint(message: str, value: str, kind: str) -> str:
    digits = {v: k for k, v in _LENGTH_KIND.items()}[kind]
    if len(value) != digits and value.isdigit():
        return f"this column holds {kind} codes ({digits} digits); {value!r} has {len(value)}"
    return message


def _key_columns(kinds: dict[str, str]) -> list[str]:
    """Columns whose values must be unique in the table."""
    keys = [kinds[k] for k in ("component", "code") if k in kinds]
    # A BGID column is the key of a grid table and a reference everywhere else.
    if "unit grid" in kinds and not ({"component", "event"} & kinds.keys()):
        keys.append(kinds["unit grid"])
    return keys


def _check_unique(frame, columns, kinds, valid, issues: _Issues) -> None:
    for column in _key_columns(kinds):
        values = frame[column].astype(object)
        dup = (values.duplicated(keep="first") & (values != "")).to_numpy()
        if not dup.any():
            continue
        first = pd.Series(np.arange(len(values)), index=values.to_numpy()).groupby(level=0).min()
        positions = np.flatnonzero(dup)
        firsts = first.reindex(values.to_numpy()[positions]).to_numpy()
        messages = [f"duplicate: also at {issues.table.label(p)}" for p in firsts]
        issues.add(positions, column, "duplicate", "error", messages)


def _both(valid, a: str, b: str) -> np.ndarray | None:
    if a in valid and b in valid:
        return valid[a] & valid[b]
    return None


def _compare(frame, kinds, valid, issues: _Issues, a: str, b: str, part_a: tuple[int, int],
             part_b: tuple[int, int] | None, rule: str, say: Callable[[str, str], str]) -> None:
    """Rows where digits ``part_a`` of column ``a`` differ from ``b`` (or its ``part_b``)."""
    if a not in kinds or b not in kinds:
        return
    mask = _both(valid, a, b)
    if mask is None:
        return
    left = frame[kinds[a]].astype(str).str.slice(*part_a)
    right = frame[kinds[b]].astype(str)
    if part_b:
        right = right.str.slice(*part_b)
    positions = np.flatnonzero(mask & (left != right).to_numpy())
    messages = [say(left.iat[p], right.iat[p]) for p in positions]
    issues.add(positions, kinds[a], rule, "error", messages)


def _check_agreement(frame, kinds, valid, issues: _Issues) -> None:
    _compare(frame, kinds, valid, issues, "unit grid", "community", (0, 12), None,
             "grid-community", lambda g, c: f"unit grid lies in community {g}, not {c}")
    _compare(frame, kinds, valid, issues, "community", "street", (0, 9), None,
             "community-street", lambda c, s: f"community lies in street {c}, not {s}")
    if "community" not in kinds:
        _compare(frame, kinds, valid, issues, "unit grid", "street", (0, 9), None,
                 "grid-street", lambda g, s: f"unit grid lies in street {g}, not {s}")
    _compare(frame, kinds, valid, issues, "component", "unit grid", (0, 6), (0, 6),
             "component-county",
             lambda c, g: f"component is coded in county {c} but its unit grid is in {g}")
    owner = "component" if "component" in kinds else "event" if "event" in kinds else None
    if owner:
        offset = 6 if owner == "component" else 0
        for part, start in (("major", offset), ("minor", offset + 2)):
            if part in kinds:
                values = frame[kinds[part]].astype(str).str.zfill(2)
                code = frame[kinds[owner]].astype(str).str.slice(start, start + 2)
                mask = valid.get(owner, np.ones(len(frame), bool)) & (values != "00").to_numpy()
                positions = np.flatnonzero(mask & (values != code).to_numpy())
                issues.add(positions, kinds[part], f"{owner}-{part}", "error",
                           [f"{part} {frame[kinds[part]].iat[p]} but {kinds[owner]} "
                            f"{frame[kinds[owner]].iat[p]} has {part} {code.iat[p]}"
                            for p in positions])
    if "rgid" in kinds and "street" in kinds:
        rgid = frame[kinds["rgid"]].astype(str)
        street = frame[kinds["street"]].astype(str)
        mask = valid.get("street", np.ones(len(frame), bool)) & (rgid != "").to_numpy()
        wrong = mask & ~np.array([r.startswith(s) for r, s in zip(rgid, street, strict=True)])
        positions = np.flatnonzero(wrong)
        issues.add(positions, kinds["rgid"], "rgid-street", "error",
                   [f"RGID {rgid.iat[p]} does not start with its STREET {street.iat[p]}"
                    for p in positions])


def _check_names(frame, kinds, valid, issues: _Issues, components: Catalog) -> None:
    """OBJNAME naming another class than OBJCODE's: a warning, names are free text."""
    if "objname" not in kinds or "component" not in kinds:
        return
    matched = components.matcher.match_many(frame[kinds["objname"]])
    code_class = frame[kinds["component"]].astype(str).str.slice(6, 10)
    named = matched["code"].notna().to_numpy()
    wrong = valid["component"] & named & (matched["code"].to_numpy() != code_class.to_numpy())
    positions = np.flatnonzero(wrong)
    issues.add(positions, kinds["objname"], "name-class", "warning",
               [f"{frame[kinds['objname']].iat[p]!r} names class "
                f"{matched['code'].iat[p]} {matched['name'].iat[p]} but OBJCODE is class "
                f"{code_class.iat[p]}" for p in positions])


def check_file(path: str | Path, *, layer: str | None = None, components: Catalog | None = None,
               events: Catalog | None = None) -> CheckReport:
    r"""Check every table of ``path`` (or only ``layer``) that has code columns.

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV, XLSX (every sheet), Shapefile, GeoPackage or other GDAL vector file.
    layer : str, optional
        Check only this sheet or layer.
    components, events : Catalog, optional
        The classes OBJCODE and EVTCODE must name; the national catalogs when not given.

    Returns
    -------
    CheckReport
        One report per table with code columns.

    Raises
    ------
    GridkitError
        When the file cannot be read or no table has a code column.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "grids.csv"
    >>> _ = path.write_text("BGID\n310116001001001\n", encoding="utf-8")
    >>> check_file(path).clean
    True
    """
    tables = read_tables(path, layer, aliases=_HEADER_ALIASES)
    reports = [
        check_table(table, components=components, events=events)
        for table in tables
        if any(kind in CODE_KINDS for kind in recognise_columns(list(table.frame.columns))
               .values())
    ]
    if not reports:
        names = ", ".join(n for names in COLUMN_ALIASES.values() for n in names[:1])
        raise InputError(f"{path}: no code columns found; gridkit recognises {names} and "
                         "their Chinese headers (标识码, 部件编码, 网格编码, 社区代码, ...)")
    return CheckReport(str(path), reports)


__all__ = ["CheckReport", "LayerReport", "Match", "check_file", "check_table",
           "recognise_columns"]
