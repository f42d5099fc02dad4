"""Components recorded twice: the same class within a tolerance, or one OBJCODE on two records.

Neither is ever resolved by dropping a record: both are reported in ``qa_issue`` for the data
maintainer, who knows which record is the real one.

**Position duplicates.** Two components of the same class closer than the class's tolerance
(default 0.5 m, ``--dup-tolerance CODE=M`` per class) are a pair. Points are hashed into square
cells of the tolerance per class, so a partner can only be in the same cell or one of the eight
around it; half of those are looked up (the other half is the same pairs seen from the other
side), which makes the search linear in the number of components. In a cluster of many
records at one spot each record is paired with at most 64 others: all of them are still
reported, without a quadratic number of pairs.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from gridkit.codes.catalog import Catalog
from gridkit.components.layers import GEOMETRY, wkb_points
from gridkit.errors import InputError, mention
from gridkit.qa import QACollector

DEFAULT_TOLERANCE = 0.5
_MAX_PARTNERS = 64
_OFFSETS = ((0, 0), (0, 1), (1, -1), (1, 0), (1, 1))


def parse_tolerances(items: tuple[str, ...] | list[str]) -> tuple[float, dict[str, float]]:
    """``--dup-tolerance`` values: a bare number is the default, ``CODE=M`` one class's."""
    default = DEFAULT_TOLERANCE
    per_class: dict[str, float] = {}
    for item in items:
        code, sep, value = item.rpartition("=")
        try:
            metres = float(value)
        except ValueError:
            metres = -1.0
        if metres <= 0 or (sep and not (code.strip().isdigit() and len(code.strip()) == 4)):
            raise InputError(f"{mention(dup_tolerance=[item])}: give metres (e.g. 0.5) or "
                             "CLASS=metres with a 4-digit class code (e.g. 0118=2)",
                             parameter="dup_tolerance")
        if sep:
            per_class[code.strip()] = metres
        else:
            default = metres
    return default, per_class


def position_pairs(x: np.ndarray, y: np.ndarray, group: np.ndarray,
                   tolerance: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, distance) of the pairs i < j with the same ``group`` within ``tolerance[i]``.

    ``group`` is an integer class per row (negative: not compared); ``tolerance`` per row
    (the same for rows of one group).
    """
    empty = np.empty(0, np.int64)
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    rows = np.flatnonzero(np.isfinite(x) & np.isfinite(y) & (group >= 0))
    if rows.size < 2:
        return empty, empty, np.empty(0)
    tol = tolerance[rows]
    cx = np.floor(x[rows] / tol).astype(np.int64)
    cy = np.floor(y[rows] / tol).astype(np.int64)
    _, klass = np.unique(group[rows], return_inverse=True)
    # Composite cell key with a spare column/row on each side, so neighbours never wrap.
    cx -= cx.min() - 1
    cy -= cy.min() - 1
    span_x, span_y = int(cx.max()) + 2, int(cy.max()) + 2
    if (int(klass.max()) + 1) * span_x * span_y >= 2**62:
        raise InputError(f"{mention('tolerance')} is too small for the extent of the data "
                         "(use at least a centimetre)", parameter="tolerance")
    key = (klass.astype(np.int64) * span_x + cx) * span_y + cy
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    # Targets taken in sorted order are sorted too: the binary searches stay cache-friendly.
    firsts, seconds = [], []
    for dx, dy in _OFFSETS:
        target = sorted_key + (dx * span_y + dy)
        hi = np.searchsorted(sorted_key, target, side="right")
        if dx == 0 and dy == 0:
            lo = np.arange(1, order.size + 1)  # later members of the same cell: each pair once
        else:
            lo = np.searchsorted(sorted_key, target, side="left")
        count = np.clip(hi - lo, 0, _MAX_PARTNERS)
        if not count.any():
            continue
        owner = np.repeat(order, count)
        start = np.repeat(lo, count)
        step = np.arange(owner.size) - np.repeat(np.cumsum(count) - count, count)
        firsts.append(owner)
        seconds.append(order[start + step])
    if not firsts:
        return empty, empty, np.empty(0)
    a = np.concatenate(firsts)
    b = np.concatenate(seconds)
    distance = np.hypot(x[rows[a]] - x[rows[b]], y[rows[a]] - y[rows[b]])
    close = distance <= tol[a]
    i, j = rows[a[close]], rows[b[close]]
    swap = i > j
    i, j = np.where(swap, j, i), np.where(swap, i, j)
    order = np.lexsort((j, i))
    return i[order], j[order], distance[close][order]


def code_repeats(codes) -> tuple[np.ndarray, np.ndarray]:
    """(row, first holder) for every row whose non-empty code an earlier row already holds.

    Works on Arrow dictionary encoding, not Python strings: a city holds millions of codes.
    """
    if not isinstance(codes, pa.Array | pa.ChunkedArray):
        codes = pa.array(np.asarray(codes, dtype=object), pa.string(), from_pandas=True)
    codes = pc.if_else(pc.equal(codes, ""), pa.scalar(None, pa.string()), codes)
    encoded = pc.dictionary_encode(codes)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    index = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    present = np.flatnonzero(index >= 0)
    if present.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    counts = np.bincount(index[present], minlength=len(encoded.dictionary))
    shared = present[counts[index[present]] > 1]
    if shared.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    values, first = np.unique(index[shared], return_index=True)
    holder_of = np.full(len(encoded.dictionary), -1, np.int64)
    holder_of[values] = shared[first]
    repeats = shared[holder_of[index[shared]] != shared]
    return repeats.astype(np.int64), holder_of[index[repeats]]


def duplicate_issues(x: np.ndarray, y: np.ndarray, classes: pa.Array, codes: pa.Array,
                     files: pa.Array, srcrows: np.ndarray, crs, catalog: Catalog,
                     tolerance: float, class_tolerance: dict[str, float]) -> gpd.GeoDataFrame:
    """qa_issue rows for components of one class within the tolerance, and shared OBJCODEs.

    One entry per component: position ``x``/``y``, class code, OBJCODE, SRCFILE and SRCROW.
    """
    qa = QACollector()
    if len(x) == 0:
        return qa.frame(crs)
    encoded = pc.dictionary_encode(pc.fill_null(classes, "")).combine_chunks() \
        if isinstance(classes, pa.ChunkedArray) else pc.dictionary_encode(
            pc.fill_null(classes, ""))
    class_list = encoded.dictionary.to_pylist()
    group = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    tol_of = np.array([class_tolerance.get(c, tolerance) for c in class_list] + [tolerance])
    i, j, distance = position_pairs(x, y, group, tol_of[group])

    def label(row: int) -> str:
        code = codes[int(row)].as_py()
        where = f"{files[int(row)].as_py()} row {srcrows[int(row)]}"
        return f"{code} ({where})" if code else where

    def key(row: int) -> str:
        return codes[int(row)].as_py() or f"{files[int(row)].as_py()}:{srcrows[int(row)]}"

    if i.size:
        qa.rows("duplicate-position", [key(b) for b in j],
                [f"{label(b)} is {d:.2f} m from {label(a)}, both {class_list[group[b]]} "
                 f"{catalog.name_of(class_list[group[b]]) or ''}: the same component "
                 "recorded twice? Delete one record or correct its position"
                 for a, b, d in zip(i, j, distance, strict=True)],
                shapely.points(x[j], y[j]))
    rows, holders = code_repeats(codes)
    if rows.size:
        qa.rows("duplicate-objcode", [key(r) for r in rows],
                [f"{label(r)} has OBJCODE {codes[int(r)].as_py()}, already held by "
                 f"{label(h)}; clear one of the codes and re-import to have a new one "
                 "allocated" for r, h in zip(rows, holders, strict=True)],
                shapely.points(x[rows], y[rows]))
    return qa.frame(crs)


def table_duplicate_issues(component: pa.Table, crs, catalog: Catalog, tolerance: float,
                           class_tolerance: dict[str, float],
                           xy: tuple[np.ndarray, np.ndarray] | None = None) -> gpd.GeoDataFrame:
    """:func:`duplicate_issues` for a component table (as ``census check`` reads it)."""
    n = component.num_rows
    x, y = xy if xy is not None else wkb_points(component.column(GEOMETRY).combine_chunks())

    def column(name: str, kind: pa.DataType | None = None) -> pa.Array:
        kind = kind or pa.string()
        if name not in component.column_names:
            return pa.nulls(n, kind)
        return component.column(name).combine_chunks().cast(kind)

    classes = pc.binary_join_element_wise(pc.fill_null(column("MAJOR"), ""),
                                          pc.fill_null(column("MINOR"), ""), "")
    srcrows = pc.fill_null(column("SRCROW", pa.int64()), -1).to_numpy(zero_copy_only=False)
    return duplicate_issues(x, y, classes, column("OBJCODE"), column("SRCFILE"), srcrows, crs,
                            catalog, tolerance, class_tolerance)
