"""An incremental layer.

The features new or changed since an earlier export, and the keys retired since, each with a CHANGE
field (``new``/``changed``/``retired``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa

from gridkit.export.layer import Layer

CHANGE = "CHANGE"
NEW, CHANGED, RETIRED = "new", "changed", "retired"


def changes_since(layer: Layer, key: str, keys: np.ndarray, current: pd.DataFrame,
                  previous: pd.DataFrame | None,
                  last_geometries: Callable[[list[str]], dict[str, bytes | None]],
                  ) -> tuple[Layer, dict[str, int]]:
    """``layer`` cut down to what differs from ``previous`` (KEY, HASH as handed over then).

    ``keys`` holds each feature's key, ``current`` the fingerprint per key now. Without a
    ``previous`` state (the layer was not handed over then) every feature is new. A retired
    key keeps only its key field and the geometry it last had (``last_geometries``).
    """
    before = {} if previous is None else dict(zip(previous["KEY"], previous["HASH"],
                                                  strict=True))
    now = dict(zip(current["KEY"], current["HASH"], strict=True))
    status = np.array([NEW if k not in before else CHANGED if before[k] != now[k] else ""
                       for k in keys], dtype=object)
    moved = np.flatnonzero(status != "")
    kept = layer.take(moved)
    table = kept.table.append_column(CHANGE, pa.array(status[moved].tolist(), pa.string()))
    gone = sorted(set(before) - set(now))
    retired_table, retired_geometry = _retired(layer, key, gone, last_geometries)
    table = pa.concat_tables([table, retired_table])
    geometry = None
    if layer.geometry is not None:
        geometry = pa.concat_arrays([kept.geometry, retired_geometry])
    counts = {NEW: int((status == NEW).sum()), CHANGED: int((status == CHANGED).sum()),
              RETIRED: len(gone)}
    return replace(layer, table=table, geometry=geometry), counts


def _retired(layer: Layer, key: str, gone: list[str],
             last_geometries: Callable[[list[str]], dict[str, bytes | None]],
             ) -> tuple[pa.Table, pa.Array]:
    columns = {}
    for field in layer.table.schema:
        if field.name == key:
            columns[field.name] = pa.array(gone, pa.string()).cast(field.type)
        else:
            columns[field.name] = pa.nulls(len(gone), field.type)
    columns[CHANGE] = pa.array([RETIRED] * len(gone), pa.string())
    shapes = last_geometries(gone) if gone and layer.geometry is not None else {}
    geometry = pa.array([shapes.get(k) for k in gone], pa.binary())
    return pa.table(columns), geometry
