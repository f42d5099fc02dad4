"""The random draw: simple random samples without replacement, stratum by stratum.

Reproducible from the seed alone: strata are visited in sorted order and grids within a
stratum in BGID order, and one numpy PCG64 stream serves them all, so the same frame and seed
always give the same grids (on any machine: numpy keeps ``Generator.permutation`` stable).
"""

from __future__ import annotations

import secrets

import numpy as np


def new_seed() -> int:
    """A seed for a user who gave none; recorded in the plan so the draw can be repeated."""
    return secrets.randbelow(2**31 - 1) + 1


def draw(stratum: np.ndarray, sample: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions, order) of the drawn grids.

    ``stratum`` holds each grid's stratum number (0..H-1) with grids in BGID order;
    ``sample`` the grids to draw per stratum. ``order`` numbers the drawn grids of a stratum
    1, 2, ... in the order they were drawn.
    """
    rng = np.random.default_rng(seed)
    stratum = np.asarray(stratum)
    positions: list[np.ndarray] = []
    orders: list[np.ndarray] = []
    for h, n in enumerate(np.asarray(sample)):
        members = np.flatnonzero(stratum == h)
        chosen = rng.permutation(len(members))[: int(n)]
        positions.append(members[chosen])
        orders.append(np.arange(1, len(chosen) + 1))
    if not positions:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(positions).astype(np.int64), np.concatenate(orders).astype(np.int64)
