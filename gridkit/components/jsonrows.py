"""Rows as JSON objects, built column-wise by Arrow: RAW of a reject, EXTRA of a component.

``json.dumps`` per row costs about a microsecond a cell, a minute for a city's census; string
kernels do it in bulk. Backslashes and quotes are escaped by Arrow; the rare cell holding a
control character (a newline inside a note) is escaped by ``json.dumps``.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_CONTROL = r"[\x00-\x1f]"


def _escaped(values: pa.Array) -> pa.Array:
    control = pc.fill_null(pc.match_substring_regex(values, _CONTROL), False)
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    if not pc.any(control).as_py():
        return escaped
    positions = np.flatnonzero(control.to_numpy(zero_copy_only=False))
    originals = pc.take(values, pa.array(positions)).to_pylist()
    return _put(escaped, positions, [json.dumps(v, ensure_ascii=False)[1:-1] for v in originals])


def _put(values: pa.Array, positions: np.ndarray, replacement: list[str]) -> pa.Array:
    text = values.to_pylist() if len(values) < 4 * len(positions) else None
    if text is not None:
        for pos, new in zip(positions, replacement, strict=True):
            text[pos] = new
        return pa.array(text, pa.string())
    mask = np.zeros(len(values), bool)
    mask[positions] = True
    patch = np.empty(len(values), dtype=object)
    patch[positions] = replacement
    return pc.if_else(pa.array(mask), pa.array(patch, pa.string()), values)


def json_objects(table: pa.Table, columns: list[str], *, omit_empty: bool = False) -> pa.Array:
    """One JSON object per row of ``table`` with the text ``columns`` (keys = column names).

    ``omit_empty`` leaves out empty cells; a row with nothing left gives null, not ``{}``.
    """
    n = table.num_rows
    if not columns:
        return pa.nulls(n, pa.string())
    pieces = []
    for column in columns:
        values = table.column(column)
        values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        values = pc.fill_null(values.cast(pa.string()), "")
        key = json.dumps(str(column), ensure_ascii=False) + ':"'
        piece = pc.binary_join_element_wise(key, _escaped(values), '",', "")
        if omit_empty:
            piece = pc.if_else(pc.equal(values, ""), "", piece)
        pieces.append(piece)
    # Each piece ends in a comma; the last one is trimmed. (Arrow's null_handling="skip" was
    # not used: in pyarrow 26 it drops rows whose inputs are all null.)
    joined = pc.utf8_rtrim(pc.binary_join_element_wise(*pieces, ""), ",")
    objects = pc.binary_join_element_wise("{", joined, "}", "")
    if omit_empty:
        objects = pc.if_else(pc.equal(objects, "{}"), pa.scalar(None, pa.string()), objects)
    return objects
