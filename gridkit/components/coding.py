"""Codes for an import.

The existing layer split by mode, codes carried over from the previous import of a file, and new
serials (see ``importer`` for the rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gridkit.codes.serials import allocate_serial_numbers
from gridkit.components.layers import GEOMETRY, wkb_points
from gridkit.components.locate import UnitGrids
from gridkit.components.prepare import TablePreparer

if TYPE_CHECKING:
    from gridkit.components.importer import Accepted


def split_existing(existing: pa.Table | None, names: set[str],
                    mode: str) -> tuple[pa.Table | None, pa.Table | None]:
    """(rows kept, rows replaced) of the existing component layer."""
    if existing is None or existing.num_rows == 0:
        return None, None
    if mode == "replace":
        return None, existing
    if "SRCFILE" not in existing.column_names:
        return existing, None
    mine = pc.fill_null(pc.is_in(existing.column("SRCFILE"),
                                 value_set=pa.array(sorted(names), pa.string())), False)
    return existing.filter(pc.invert(mine)), existing.filter(mine)


def reuse_codes(new: Accepted, old: pa.Table | None, preparer: TablePreparer) -> int:
    """Give rows without a code the code of the same component in the previous import."""
    if old is None or old.num_rows == 0 or len(new) == 0:
        return 0
    wanted = np.flatnonzero(new.code_in.to_numpy(zero_copy_only=False) == "")
    if wanted.size == 0:
        return 0
    ox, oy = wkb_points(old.column(GEOMETRY).combine_chunks())
    major = pc.fill_null(old.column("MAJOR"), "").to_numpy(zero_copy_only=False)
    minor = pc.fill_null(old.column("MINOR"), "").to_numpy(zero_copy_only=False)
    before = pd.DataFrame({
        "file": old.column("SRCFILE").to_numpy(zero_copy_only=False),
        "cls": pd.Series(major, dtype=object) + pd.Series(minor, dtype=object),
        "xi": np.round(ox * 100), "yi": np.round(oy * 100),
        "code": old.column("OBJCODE").to_numpy(zero_copy_only=False),
    }).dropna(subset=["code", "xi", "yi"])
    if before.empty:
        return 0
    names = np.array([p.source.name for p in new.prepared], dtype=object)
    class_codes = np.asarray(preparer.class_codes, dtype=object)
    after = pd.DataFrame({
        "row": wanted,
        "file": names[new.table[wanted]],
        "cls": class_codes[new.klass[wanted]],
        "xi": np.round(new.x[wanted] * 100), "yi": np.round(new.y[wanted] * 100),
        "county": preparer.grids.county[new.grid[wanted]],
    })
    keys = ["file", "cls", "xi", "yi"]
    before["k"] = before.groupby(keys, sort=False).cumcount()
    after["k"] = after.groupby(keys, sort=False).cumcount()
    matched = after.merge(before, on=[*keys, "k"], how="inner")
    # Only a code that still fits the record (its county may have moved with the grids).
    fits = (matched["code"].str[:6] == matched["county"].astype(str)) & \
        (matched["code"].str[6:10] == matched["cls"])
    matched = matched[fits]
    if matched.empty:
        return 0
    codes_in = new.code_in.to_numpy(zero_copy_only=False).astype(object)
    codes_in[matched["row"].to_numpy()] = matched["code"].to_numpy()
    new.code_in = pa.array(codes_in, pa.string())
    return int(len(matched))


@dataclass
class CodeAllocation:
    """The OBJCODEs of an import's accepted rows.

    Attributes
    ----------
    codes : numpy.ndarray
        int64 code per accepted row, -1 for the rows rejected here.
    rejected : numpy.ndarray
        Accepted rows the allocation rejects (no serial left, a duplicate code).
    kept : int
        Rows that kept their code.
    allocated : int
        Rows given a new serial.
    duplicates : int
        Rows claiming a code another row holds.
    """

    codes: np.ndarray  # int64 code per accepted row, -1 for the rows rejected here
    rejected: np.ndarray  # accepted rows the allocation rejects (no serial left, ...)
    kept: int
    allocated: int
    duplicates: int


def allocate_codes(new: Accepted, grids: UnitGrids, preparer: TablePreparer,
                   kept: pa.Table | None) -> CodeAllocation:
    """OBJCODEs for the accepted rows of an import: kept, carried over from ``kept`` or allocated.

    New serials continue after the highest in use per county and class (GB/T 30428.2), in
    :func:`numbering_order` (by BGID, then position), so the same file gives the same codes.
    """
    if len(new) == 0:
        return CodeAllocation(np.empty(0, np.int64), np.empty(0, np.int64), 0, 0, 0)
    class_codes = preparer.class_codes
    majors = np.array([int(c[:2]) for c in class_codes], dtype=np.int16)
    minors = np.array([int(c[2:]) for c in class_codes], dtype=np.int16)
    order = numbering_order(new, grids)
    frame = pd.DataFrame({
        "county": grids.county[new.grid[order]],
        "major": majors[new.klass[order]],
        "minor": minors[new.klass[order]],
        "objcode": new.code_in.take(pa.array(order)).to_pandas().set_axis(order),
    }, index=order)
    reserved: list[str] = []
    if kept is not None and kept.num_rows:
        reserved = [c for c in pc.drop_null(kept.column("OBJCODE")).to_pylist() if c]
    # Rows come in numbering order already, so no sort_by: one integer sort instead of three.
    result = allocate_serial_numbers(frame, reserved=reserved)
    del frame
    codes = np.empty(len(new), np.int64)
    codes[order] = result.codes
    rejected: dict[tuple[int, str], tuple[list[int], list[str]]] = {}
    duplicates = 0
    for conflict in result.conflicts:
        row = int(conflict.row)
        if conflict.kind == "duplicate":
            codes[row] = int(conflict.code)  # reported in qa_issue, never renumbered
            duplicates += 1
            continue
        rule = "no-serial" if conflict.kind == "exhausted" else "objcode-invalid"
        rows, messages = rejected.setdefault((int(new.table[row]), rule), ([], []))
        rows.append(row)
        messages.append(conflict.message)
    for (table, rule), (rows, messages) in rejected.items():
        new.prepared[table].problems.add(rule, new.local[np.asarray(rows)], messages)
        codes[rows] = -1
    rejected_rows = np.sort(np.concatenate([np.asarray(r, np.int64) for r, _ in
                                            rejected.values()] or [np.empty(0, np.int64)]))
    has_in = new.code_in.to_numpy(zero_copy_only=False) != ""
    allocated = int(((codes >= 0) & ~has_in).sum())
    return CodeAllocation(codes, rejected_rows, int(result.kept), allocated, duplicates)


def numbering_order(new: Accepted, grids: UnitGrids) -> np.ndarray:
    """The order new serials are handed out in.

    By unit grid (BGID), then north to south and west to east inside it, to the millimetre; ties in
    row order.
    """
    minx, maxy = grids.bounds[new.grid, 0], grids.bounds[new.grid, 3]
    limit = (1 << 21) - 1  # 2 km at a millimetre: more than any unit grid
    qy = np.clip(np.round((maxy - new.y) * 1000), 0, limit).astype(np.int64)
    qx = np.clip(np.round((new.x - minx) * 1000), 0, limit).astype(np.int64)
    key = (new.grid.astype(np.int64) << 42) | (qy << 21) | qx
    return np.argsort(key, kind="stable")
