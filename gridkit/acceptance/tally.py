"""Verdict rows, whichever way they were obtained, and their counts per grid and class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridkit.acceptance.verdicts import VERDICTS


@dataclass
class Verdicts:
    """One row per checked census component and per missing one."""

    grid: np.ndarray  # index into plan.grids
    klass: np.ndarray  # 4-digit class code: the census's for checked rows, the field's for missing
    verdict: np.ndarray  # index into VERDICTS
    objcode: np.ndarray  # "" for missing rows
    objname: np.ndarray
    x: np.ndarray  # GeoPackage CRS, NaN when unknown
    y: np.ndarray
    srcrow: np.ndarray  # row in the check or re-survey file, -1 when none
    note: np.ndarray
    distance: np.ndarray  # census to field position (re-survey), NaN otherwise

    def __len__(self) -> int:
        return len(self.grid)


def tally(verdicts: Verdicts, grids: int) -> tuple[list[str], np.ndarray]:
    """(classes, counts) with counts[grid, class, verdict]."""
    classes = sorted(set(verdicts.klass.tolist()))
    index = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((grids, max(len(classes), 1), len(VERDICTS)), dtype=np.int64)
    if len(verdicts):
        k = np.array([index[c] for c in verdicts.klass], dtype=np.int64)
        np.add.at(counts, (verdicts.grid, k, verdicts.verdict), 1)
    return classes, counts
