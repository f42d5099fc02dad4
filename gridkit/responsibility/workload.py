"""Workload per unit grid, from what the GeoPackage holds.

Activity comes, in order of preference, from the ``component`` and ``event`` layers (each
record weighted by its class, see ``data/weights.toml``); else from the building footprint
area the partition recorded (``BLDG_AREA``). Every grid must be patrolled whatever it holds,
so each also carries a baseline equal to the median grid's activity: an empty landscape belt
is light work, not none. Without either source, workload is the grid's area.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from gridkit.errors import InputError
from gridkit.io import layers_of, read_toml

LAYERS = {"component": ("MAJOR", "MINOR"), "event": ("MAJOR", "MINOR")}


def load_weights(path: str | Path | None = None) -> dict[str, dict[str, float]]:
    """Workload weights per component/event class: the shipped defaults, overridden by ``path``.

    The defaults (``data/weights.toml``) weigh event classes above component classes, as events
    are most cases (Yangzhou 2006: 1,167 of 1,795 cases).
    """
    default = tomllib.loads(
        resources.files("gridkit.responsibility").joinpath("data/weights.toml").read_text(
            encoding="utf-8"))
    if path is None:
        return default
    given = read_toml(path, "weights")
    for kind, table in given.items():
        if kind not in LAYERS or not isinstance(table, dict):
            raise InputError(f"{path}: [{kind}] is not a weights table; use [component] "
                             "and [event] with code = weight")
        for code, weight in table.items():
            if not isinstance(weight, int | float) or weight < 0:
                raise InputError(f"{path}: [{kind}] {code} = {weight!r}: a weight is a "
                                 "non-negative number")
            if code != "default" and not (code.isdigit() and len(code) in (2, 4)):
                raise InputError(f"{path}: [{kind}] {code!r}: keys are 2- or 4-digit class "
                                 "codes or default")
        default[kind] = {**default[kind], **table}
    return default


def _weigh(records: pd.DataFrame, table: dict[str, float]) -> np.ndarray:
    major = records.get("MAJOR", pd.Series("", index=records.index)).astype("string")
    minor = records.get("MINOR", pd.Series("", index=records.index)).astype("string")
    minor = minor.fillna("").str.zfill(2)
    major = major.fillna("").str.zfill(2)
    weights = pd.Series(table.get("default", 1.0), index=records.index, dtype=float)
    weights = (major.map(table).astype(float)).fillna(weights)
    return ((major + minor).map(table).astype(float)).fillna(weights).to_numpy()


def workload_for(path: str | Path, grids: pd.DataFrame,
                 weights: dict[str, dict[str, float]]) -> tuple[np.ndarray, str]:
    """Workload per row of ``grids`` and a word on where it came from."""
    present = [layer for layer in LAYERS if layer in layers_of(path)]
    if present:
        load = pd.Series(0.0, index=grids["BGID"].astype(str))
        for layer in present:
            records = pyogrio.read_dataframe(path, layer=layer, read_geometry=False,
                                             columns=["BGID", *LAYERS[layer]], use_arrow=True)
            records = records[records["BGID"].notna()]
            per_grid = pd.Series(_weigh(records, weights[layer]),
                                 index=records["BGID"].astype(str)).groupby(level=0).sum()
            load = load.add(per_grid, fill_value=0.0).loc[load.index]
        return with_baseline(load.to_numpy()), "+".join(present)
    if "BLDG_AREA" in grids:
        return (with_baseline(grids["BLDG_AREA"].fillna(0).to_numpy(dtype=float)),
                "building footprint area")
    return grids.geometry.area.to_numpy(), "unit grid area"


def with_baseline(activity: np.ndarray) -> np.ndarray:
    """Activity plus the median grid's activity (the mean where most grids have none)."""
    base = float(np.median(activity)) if len(activity) else 0.0
    return activity + (base if base > 0 else float(np.mean(activity)) if len(activity) else 0)
