"""The ``component_reject`` layer: every rejected row with its rule, reasons and raw cells."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gridkit.components.jsonrows import json_objects
from gridkit.components.layers import conform, point_wkb, reject_schema
from gridkit.components.prepare import Prepared
from gridkit.records.problems import Problems
from gridkit.sources.tables import SourceTable


def reject_table(prepared: list[Prepared], existing: pa.Table | None, names: set[str],
                 mode: str) -> pa.Table:
    """The rejects of the files imported now, after the kept rejects of other files (append)."""
    schema = reject_schema()
    parts: list[pa.Table | None] = []
    if existing is not None and mode == "append" and "SRCFILE" in existing.column_names:
        mine = pc.fill_null(pc.is_in(existing.column("SRCFILE"),
                                     value_set=pa.array(sorted(names), pa.string())), False)
        parts.append(existing.filter(pc.invert(mine)))
    for part in prepared:
        parts.append(_rejects_of(part, schema))
        if part.source.bad_rows:
            bad = part.source.bad_rows
            parts.append(pa.Table.from_arrays([
                pa.array([part.source.name] * len(bad), pa.string()),
                pa.array([b.row for b in bad], pa.int64()),
                pa.array(["bad-row"] * len(bad), pa.string()),
                pa.array([f"the record has {b.message}; fix the quoting or the separators"
                          for b in bad], pa.string()),
                json_objects(pa.table({"_text": [b.text for b in bad]}), ["_text"]),
                pa.nulls(len(bad), pa.binary()),
            ], schema=schema))
    tables = [conform(t, schema) for t in parts if t is not None]
    if not tables:
        return schema.empty_table()
    return pa.concat_tables(tables, promote_options="permissive").combine_chunks()


def _rejects_of(part: Prepared, schema: pa.Schema) -> pa.Table:
    problems: Problems = part.problems
    rows = np.flatnonzero(problems.rejected)
    take = pa.array(rows, pa.int64())
    source: SourceTable = part.source
    raw = json_objects(source.table.take(take), source.columns)
    x, y = part.x[rows], part.y[rows]
    return pa.Table.from_arrays([
        pa.array([source.name] * rows.size, pa.string()),
        pa.array(source.rows[rows], pa.int64()),
        pa.array(problems.rule_names(rows), pa.string()),
        pa.array(problems.reasons(rows), pa.string()),
        raw,
        point_wkb(x, y, np.isfinite(x) & np.isfinite(y)),
    ], schema=schema)
