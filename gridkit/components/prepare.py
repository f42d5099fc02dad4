"""One census table turned into component fields, row problems and a unit grid per row.

Everything here works on whole columns (Arrow string kernels, numpy); values with few distinct
texts (class names, states, dates) are interpreted once per distinct text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gridkit.codes.admin import parse_county_code, problem_of
from gridkit.codes.catalog import Catalog
from gridkit.codes.component import component_code_problem
from gridkit.codes.matcher import Match
from gridkit.components.attributes import (
    OBJSTATES,
    canonical_source,
    canonical_state,
    factorize,
    parse_dates,
)
from gridkit.components.jsonrows import json_objects
from gridkit.components.locate import UnitGrids
from gridkit.errors import InputError, mention
from gridkit.records.clock import converts
from gridkit.records.coords import SourceCRS
from gridkit.records.position import Positioner
from gridkit.records.position import column as source_column
from gridkit.records.problems import Problems
from gridkit.records.schema import COMPONENT
from gridkit.sources.cells import code_number_problem, nfkc, pad_number, serial_text
from gridkit.sources.columns import ColumnMap, map_columns
from gridkit.sources.tables import SourceTable

TEXT_FIELDS = ("DEPTCODE1", "DEPTNAME1", "DEPTCODE2", "DEPTNAME2", "DEPTCODE3", "DEPTNAME3",
               "NOTE", "PICTURE")
_NULL = pa.scalar(None, pa.string())


class FieldSource:
    """One output field of a table, produced for any rows on demand.

    A text column is cleaned (spaces trimmed, empty as null) only for the rows asked for, so a
    city's census is not copied column by column; an enumeration keeps one code per row and
    its few distinct values.
    """

    def __init__(self, column: pa.Array | None = None, *, n: int = 0,
                 codes: np.ndarray | None = None, values: list[str | None] | None = None,
                 array: pa.Array | None = None, kind: pa.DataType | None = None,
                 source_column: str | None = None) -> None:
        self.column, self.n, self.kind = column, n, kind or pa.string()
        self.source_column = source_column
        self.codes, self.array = codes, array
        self.values = pa.array(list(values or []) + [None], pa.string()) if codes is not None \
            else None

    def take(self, rows: pa.Array) -> pa.Array:
        """The field's values for ``rows``: trimmed text, null where empty."""
        if self.array is not None:
            return self.array.take(rows)
        if self.codes is not None:
            return self.values.take(pa.array(self.codes[rows.to_numpy()]))
        if self.column is None:
            return pa.nulls(len(rows), self.kind)
        return _nullify(pc.utf8_trim_whitespace(self.column.take(rows)))


@dataclass
class Prepared:
    """One source table checked and located, before coding.

    Attributes
    ----------
    source : SourceTable
        The table as read.
    columns : ColumnMap
        Which column feeds each field.
    crs : str
        The CRS positions were read in.
    x, y : numpy.ndarray
        Positions in the output CRS (NaN where the row has none usable).
    shapes : numpy.ndarray or None
        Lines and polygons of a vector source, in the output CRS.
    klass : numpy.ndarray
        Index into the catalog's class codes, -1 when unknown.
    """

    source: SourceTable
    columns: ColumnMap
    crs: str
    x: np.ndarray  # output CRS; NaN where the row has no usable position
    y: np.ndarray
    shapes: np.ndarray | None  # lines/polygons from a vector source, in the output CRS
    klass: np.ndarray  # index into the catalog's class codes, -1 when unknown
    objcode: pa.Array  # cleaned text, "" when none
    fields: dict[str, FieldSource]  # the SPEC text, enumeration and date fields
    grid: np.ndarray  # index into the unit grids, -1 outside
    problems: Problems
    changes: list[dict] = field(default_factory=list)  # values changed on the way in
    kept_name: np.ndarray | None = None  # rows whose class name was changed (kept in EXTRA)

    @property
    def n(self) -> int:
        """Number of source rows."""
        return self.source.table.num_rows

    def extra(self, rows: pa.Array) -> pa.Array:
        """EXTRA for ``rows``, as JSON.

        The columns no field took, and the class name as surveyed where the import changed it.
        """
        columns = list(self.columns.extra)
        name = self.columns.get("OBJNAME")
        kept = self.kept_name[rows.to_numpy()] if self.kept_name is not None else None
        if kept is not None and kept.any() and name not in columns:
            picked = self.source.table.select(columns).take(rows)
            named = source_column(self.source.table, name)
            names = pc.if_else(pa.array(kept), named.take(rows), "")
            table = pa.table({**{c: picked.column(c) for c in columns}, name: names})
            return json_objects(table, columns + [name], omit_empty=True)
        if not columns:
            return pa.nulls(len(rows), pa.string())
        return json_objects(self.source.table.select(columns).take(rows), columns,
                            omit_empty=True)


def _nullify(values: pa.Array) -> pa.Array:
    if pc.any(pc.equal(values, "")).as_py():
        return pc.if_else(pc.equal(values, ""), _NULL, values)
    return values


def clean_code(text: str) -> str:
    """A code as typed in a spreadsheet: without spaces, the text marker ' and a float's .0."""
    text = text.strip().lstrip("'").strip()
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


def _clean_codes(values: pa.Array, width: int = 16) -> pa.Array:
    """``clean_code`` on a column: in bulk only a check, the rare odd cells one by one."""
    plain = pc.fill_null(pc.and_(pc.equal(pc.binary_length(values), width),
                                 pc.utf8_is_digit(values)), False)
    odd = np.flatnonzero(~_np(plain) & _np(pc.not_equal(values, "")))
    if odd.size == 0:
        return values
    fixed = [clean_code(v) for v in values.take(pa.array(odd)).to_pylist()]
    mask = np.zeros(len(values), bool)
    mask[odd] = True
    patch = np.empty(len(values), dtype=object)
    patch[odd] = fixed
    return pc.if_else(pa.array(mask), pa.array(patch, pa.string()), values)


def _np(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False)


def _quote(column: str, values: pa.Array, positions: np.ndarray) -> list[str]:
    return [f"{column} {v!r}" for v in pc.take(values, pa.array(positions)).to_pylist()]


class TablePreparer:
    """Prepares the tables of one import against the same grids, catalog and options."""

    def __init__(self, grids: UnitGrids, catalog: Catalog, *, crs: SourceCRS | None,
                 maps: dict[str, str]) -> None:
        self.grids = grids
        self.positioner = Positioner(grids, crs)
        self.catalog = catalog
        self.crs = crs
        self.maps = maps
        self.class_codes = [e.code for e in catalog.minors()]
        self._class_index = {c: i for i, c in enumerate(self.class_codes)}

    def prepare(self, source: SourceTable) -> Prepared:
        """Check and locate every row of ``source``: columns, positions, classes, codes, fields."""
        table = source.table
        cmap = map_columns(source.columns, self.maps, source=str(source.path),
                           aliases=COMPONENT.aliases)
        problems = Problems(table.num_rows, COMPONENT.rules)
        located = self.positioner.locate(source, cmap, problems)
        x, y, shapes, grid = located.x, located.y, located.shapes, located.grid
        self._source, self._changes, self._kept_name = source, [], None
        codes = cmap.get("OBJCODE")
        objcode = _clean_codes(nfkc(source_column(table, codes))) if codes \
            else pa.array(np.full(table.num_rows, "", dtype=object), pa.string())
        shaped = pc.fill_null(pc.and_(pc.equal(pc.binary_length(objcode), 16),
                                      pc.utf8_is_digit(objcode)), False)
        # A code Excel kept as a number has lost its 16th digit: never a valid code.
        was_number = source.was_number(cmap.get("OBJCODE"))
        if was_number.any():
            shaped = pc.and_(shaped, pa.array(~was_number))
        code_class = self._objcodes(cmap, objcode, shaped, problems)
        klass = self._classes(source, cmap, code_class, problems)
        self._clashes(cmap, objcode, code_class, klass, problems)
        fields = self._attributes(table, cmap, problems)
        self._county(cmap, objcode, code_class, grid, problems)
        return Prepared(source, cmap, located.crs, x, y, shapes, klass, objcode, fields, grid,
                        problems, self._changes, self._kept_name)

    def _changed(self, field_name: str | None, old: str, new: str, rule: str,
                 rows: np.ndarray) -> None:
        """Record that ``rows`` of ``field_name`` were changed from ``old`` to ``new``."""
        if rows.size:
            self._changes.append({"field": field_name, "from": old, "to": new, "rule": rule,
                                  "rows": int(rows.size),
                                  "first_row": int(self._source.rows[rows[0]])})

    # -- class and code ----------------------------------------------------------------------

    def _classes(self, source, cmap, code_class: np.ndarray, problems: Problems) -> np.ndarray:
        """The class of each row from its class code and/or name, else from its OBJCODE.

        Names are matched once per distinct combination.
        """
        table = source.table
        n = table.num_rows
        roles = [r for r in ("CLASSCODE", "MAJOR", "MINOR", "OBJNAME") if cmap.get(r)]
        if not roles and not cmap.get("OBJCODE"):
            raise InputError(
                f"{source.path}: no class column among {', '.join(source.columns)} (looked for "
                "部件名称, 部件类型, 小类代码, OBJNAME, ...); name it with "
                f"{mention(maps={'OBJNAME': 'COLUMN'})} or "
                f"{mention(maps={'CLASSCODE': 'COLUMN'})}", parameter="maps", file=source.path)
        decoded: list[list[str]] = []
        indices: list[np.ndarray] = []
        for role in roles:
            values, index = factorize(source_column(table, cmap.get(role)))
            decoded.append([str(v) for v in values] + [""])
            indices.append(np.where(index < 0, len(values), index))
        if np.prod([float(len(d)) for d in decoded]) < 2**62:
            combo = np.zeros(n, np.int64)
            for values, index in zip(decoded, indices, strict=True):
                combo = combo * len(values) + index
            first, ids = pd.factorize(combo) if roles else (np.zeros(n, np.int64), [0])
            combos = [self._digits(c, decoded) for c in ids]
        else:  # a file of millions of distinct names: pair the indices instead
            frame = pd.DataFrame({k: i for k, i in enumerate(indices)})
            first, ids = pd.factorize(pd.MultiIndex.from_frame(frame))
            combos = [list(c) for c in ids]
        klass_of, message_of, part_of = [], [], []
        order = np.argsort(first, kind="stable")
        starts = np.searchsorted(first[order], np.arange(len(combos) + 1))
        name_column = cmap.get("OBJNAME")
        for number, combo in enumerate(combos):
            parts = {role: d[i] for role, d, i in zip(roles, decoded, combo, strict=True)}
            key = self._class_key(parts)
            part_of.append(False)
            if not key:
                klass_of.append(-2)  # no class given: the OBJCODE's, if any
                message_of.append("")
                continue
            answer = self.catalog.matcher.match(key)
            klass_of.append(self._class_index.get(answer.code, -1) if isinstance(answer, Match)
                            else -1)
            message_of.append("" if isinstance(answer, Match) else answer.message())
            if isinstance(answer, Match):
                rows = order[starts[number]:starts[number + 1]]
                code = clean_code(parts.get("CLASSCODE", ""))
                if pad_number(code, 4):
                    self._changed(cmap.get("CLASSCODE"), code, code.zfill(4), "leading-zero",
                                  rows)
                given = parts.get("OBJNAME", "").strip()
                if given and given != answer.name:
                    self._changed(name_column, given, answer.name, f"class-{answer.how}", rows)
                    # The name as surveyed stays with the component, in EXTRA: the qualifier
                    # a class drops (行道树（香樟）: the species), or a local name (果皮箱).
                    part_of[-1] = True
        klass = np.asarray(klass_of, dtype=np.int32)[first]
        if any(part_of):
            self._kept_name = np.asarray(part_of, bool)[first]
        empty = klass == -2
        klass[empty] = code_class[empty]
        bad = np.flatnonzero(klass < 0)
        if bad.size:
            where = " + ".join(cmap.get(r) for r in roles) or str(cmap.get("OBJCODE"))
            problems.add("class-unknown", bad, [
                f"no class: {where} empty" if not message_of[first[r]] else
                f"{where}: {message_of[first[r]]}; correct it, or load a local catalog with "
                "--catalog" for r in bad])
        return klass

    @staticmethod
    def _digits(value: int, decoded: list[list[str]]) -> list[int]:
        """The per-column indices packed into one combination number."""
        out = []
        for values in reversed(decoded):
            value, rest = divmod(int(value), len(values))
            out.append(rest)
        return list(reversed(out))

    @staticmethod
    def _class_key(parts: dict[str, str]) -> str:
        """What the matcher reads: '0102 污水井盖', '0102', '污水井盖' (code first, as typed)."""
        code = clean_code(parts.get("CLASSCODE", ""))
        code = pad_number(code, 4) or code  # 0102 typed as a number is 102
        if "MAJOR" in parts:
            major = clean_code(parts["MAJOR"])
            minor = clean_code(parts.get("MINOR", "")) if "MINOR" in parts else \
                (code if 0 < len(code) <= 2 else "")
            if major and minor:
                code = major.zfill(2) + minor.zfill(2)
        return f"{code} {parts.get('OBJNAME', '').strip()}".strip()

    def _objcodes(self, cmap, objcode, shaped, problems: Problems) -> np.ndarray:
        """Report malformed codes; returns each row's class from its code (-1 when none)."""
        n = len(objcode)
        code_class = np.full(n, -1, dtype=np.int32)
        column = cmap.get("OBJCODE")
        if column is None:
            return code_class
        present = _np(pc.not_equal(objcode, ""))
        shaped_np = _np(shaped)
        malformed = np.flatnonzero(present & ~shaped_np)
        if malformed.size:
            texts = pc.take(objcode, pa.array(malformed)).to_pylist()
            numbers = self._source.was_number(column)[malformed]
            problems.add("objcode-invalid", malformed, [
                f"{column} {t!r}: "
                + (code_number_problem(t, bool(w), 16, "OBJCODE") or component_code_problem(t))
                for t, w in zip(texts, numbers, strict=True)])
        rows = np.flatnonzero(shaped_np)
        if rows.size == 0:
            return code_class
        # Counties, classes and serials of well-shaped codes, each checked once per value.
        head_values, head_index = factorize(pc.utf8_slice_codeunits(objcode.take(
            pa.array(rows)), 0, 10))
        zero_serial = _np(pc.equal(pc.utf8_slice_codeunits(objcode.take(pa.array(rows)), 10,
                                                           16), "000000"))
        head_problem, head_class = [], []
        for head in head_values:
            problem = _county_problem(head[:6])
            cls = self._class_index.get(head[6:10], -1)
            if problem is None and cls < 0:
                problem = f"class {head[6:10]} is not in {self.catalog.describe()}"
            head_problem.append(problem)
            head_class.append(cls)
        problem_of = np.array([p is not None for p in head_problem], bool)[head_index]
        bad = problem_of | zero_serial
        if bad.any():
            texts = pc.take(objcode, pa.array(rows[bad])).to_pylist()
            problems.add("objcode-invalid", rows[bad], [
                f"{column} {t}: " + (head_problem[i] or "serial 000000 is not allowed")
                for t, i in zip(texts, head_index[bad], strict=True)])
        good = ~bad
        code_class[rows[good]] = np.asarray(head_class, np.int32)[head_index[good]]
        return code_class

    def _clashes(self, cmap, objcode, code_class, klass, problems: Problems) -> None:
        column = cmap.get("OBJCODE")
        clash = np.flatnonzero((code_class >= 0) & (klass >= 0) & (code_class != klass))
        if clash.size:
            texts = pc.take(objcode, pa.array(clash)).to_pylist()
            problems.add("objcode-class", clash, [
                f"{column} {t} is coded for class {t[6:10]} {self.catalog.name_of(t[6:10])} "
                f"but the record is {self.class_codes[k]} "
                f"{self.catalog.name_of(self.class_codes[k])}; correct the code or the class"
                for t, k in zip(texts, klass[clash], strict=True)])

    def _county(self, cmap, objcode, code_class, grid, problems: Problems) -> None:
        column = cmap.get("OBJCODE")
        if column is None:
            return
        rows = np.flatnonzero((code_class >= 0) & (grid >= 0))
        if rows.size == 0:
            return
        county = pc.cast(pc.utf8_slice_codeunits(pc.take(objcode, pa.array(rows)), 0, 6),
                         pa.int64()).to_numpy()
        located = self.grids.county[grid[rows]]
        clash = rows[county != located]
        if clash.size:
            texts = pc.take(objcode, pa.array(clash)).to_pylist()
            problems.add("objcode-county", clash, [
                f"{column} {t} is coded for county {t[:6]} but the component lies in "
                f"{self.grids.bgid[g][:6]} (unit grid {self.grids.bgid[g]}); correct the code "
                "or the position" for t, g in zip(texts, grid[clash], strict=True)])

    # -- attributes --------------------------------------------------------------------------

    def _attributes(self, table, cmap, problems: Problems) -> dict[str, FieldSource]:
        n = table.num_rows
        fields: dict[str, FieldSource] = {}
        for name in TEXT_FIELDS:
            fields[name] = FieldSource(source_column(table, cmap.get(name)), n=n,
                                       source_column=cmap.get(name))
        fields["OBJSTATE"] = self._state(table, cmap, problems)
        source = source_column(table, cmap.get("DATASOURCE"))
        if source is None:
            fields["DATASOURCE"] = FieldSource(n=n)
        else:
            values, index = factorize(source)
            canon = [canonical_source(v) or (v.strip() or None) for v in values]
            fields["DATASOURCE"] = FieldSource(codes=np.where(index < 0, len(values), index),
                                               values=canon)
        dates = {name: self._dates(table, cmap, name, problems) for name in ("ORDATE", "CHDATE")}
        both = pc.and_(pc.is_valid(dates["ORDATE"]), pc.is_valid(dates["CHDATE"]))
        early = np.flatnonzero(_np(pc.fill_null(pc.and_(both, pc.less(dates["CHDATE"],
                                                                      dates["ORDATE"])),
                                                False)))
        if early.size:
            o = pc.take(dates["ORDATE"], pa.array(early)).to_pylist()
            c = pc.take(dates["CHDATE"], pa.array(early)).to_pylist()
            problems.add("date-order", early, [
                f"{cmap.get('CHDATE')} {b} is before {cmap.get('ORDATE')} {a}: a component "
                "changes after it is first recorded" for a, b in zip(o, c, strict=True)])
        for name, values in dates.items():
            fields[name] = FieldSource(array=values)
        return fields

    def _state(self, table, cmap, problems: Problems) -> FieldSource:
        column = cmap.get("OBJSTATE")
        values = source_column(table, column)
        if values is None:
            return FieldSource(n=table.num_rows)
        uniques, index = factorize(values)
        canon = [canonical_state(u) for u in uniques]
        bad_value = np.array([c is None and u.strip() != "" for c, u in zip(canon, uniques,
                                                                             strict=True)]
                             + [False])
        safe = np.where(index < 0, len(uniques), index)
        bad = np.flatnonzero(bad_value[safe])
        problems.add("enum-invalid", bad, [
            f"{column} {uniques[i]!r} is not one of {'/'.join(OBJSTATES)}" for i in safe[bad]])
        for i, (u, c) in enumerate(zip(uniques, canon, strict=True)):
            if c is not None and u.strip() != c:
                self._changed(column, u.strip(), c, "state-synonym", np.flatnonzero(safe == i))
        return FieldSource(codes=safe, values=canon)

    def _dates(self, table, cmap, name: str, problems: Problems) -> pa.Array:
        column = cmap.get(name)
        values = source_column(table, column)
        if values is None:
            return pa.nulls(table.num_rows, pa.date32())
        values = nfkc(values)
        numeric = self._source.was_number(column)
        if numeric.any():
            # A number in a date column of a workbook is Excel's serial day (45789 = 2025-05-12).
            rows = np.flatnonzero(numeric)
            texts = pc.take(values, pa.array(rows)).to_pylist()
            patch = np.empty(len(values), dtype=object)
            mask = np.zeros(len(values), bool)
            for text in sorted(set(texts)):
                moment = serial_text(text)
                if moment is None:
                    continue
                mine = rows[np.asarray(texts, dtype=object) == text]
                patch[mine], mask[mine] = moment.date().isoformat(), True
                self._changed(column, text, moment.date().isoformat(), "excel-serial-date", mine)
            if mask.any():
                values = pc.if_else(pa.array(mask), pa.array(patch, pa.string()), values)
        dates, problem_index, messages = parse_dates(values)
        bad = np.flatnonzero(problem_index >= 0)
        problems.add("date-invalid", bad, [f"{column}: {messages[i]}" for i in problem_index[bad]])
        # A date-time written with another offset than China's was read on China's clock.
        uniques, index = factorize(values)
        for i, text in enumerate(uniques):
            if text and converts(text):
                mine = np.flatnonzero((index == i) & (problem_index < 0))
                if mine.size:
                    day = dates[int(mine[0])].as_py()
                    self._changed(column, text.strip(), day.isoformat(), "time-zone", mine)
        return dates


_county_problem = problem_of(parse_county_code)

