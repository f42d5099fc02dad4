"""Sizing and drawing the spot check: the formula, the allocation, the seeded draw."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridkit.acceptance.design import (
    DesignInputs,
    allocate_sample,
    anticipated_s2,
    draw,
    plan_design,
    variance,
)
from gridkit.errors import GridkitError

Z95 = 1.959963984540054


def test_worked_example_one_stratum():
    """1,000 grids of 30 components, p 0.96, ±1.5 points, rho 0.05: the closed form."""
    m = np.full(1000, 30)
    design = plan_design(["s"], [m], DesignInputs())
    s2 = 0.96 * 0.04 * 30 * (1 + 29 * 0.05)
    assert anticipated_s2(m, 0.96, 0.05) == pytest.approx(s2)
    n0 = Z95 ** 2 * s2 / (0.015 ** 2 * 30 ** 2)  # grids, infinite population
    assert n0 == pytest.approx(53.54, abs=0.01)
    assert design.n == math.ceil(n0 * 1000 / (1000 + n0)) == 51
    assert design.margin <= 0.015
    # The components of a simple random sample, and the design effect of the clusters.
    assert design.srs_components() == pytest.approx(655.6, abs=0.1)
    assert design.design_effect() == pytest.approx(1 + 29 * 0.05, rel=0.01)


def test_no_clustering_gives_the_binomial_size():
    m = np.full(10_000, 1)  # one component per grid: grids are components
    design = plan_design(["s"], [m], DesignInputs(icc=0.3))
    n0 = Z95 ** 2 * 0.96 * 0.04 / 0.015 ** 2
    assert design.n == math.ceil(n0 * 10_000 / (10_000 + n0))


def test_small_population_is_taken_whole():
    design = plan_design(["a", "b"], [np.full(3, 50), np.full(1, 50)], DesignInputs())
    assert design.sample.tolist() == [3, 1]
    assert design.margin == 0


def test_fixed_number_of_grids_and_its_margin():
    m = [np.full(200, 20), np.full(100, 40)]
    design = plan_design(["a", "b"], m, DesignInputs(grids=30))
    assert design.n == 30
    # Neyman: more grids where the anticipated residual spread N_h S_h is larger.
    assert design.sample[1] > design.sample[0] * 0.5
    assert design.margin == pytest.approx(
        Z95 * math.sqrt(variance(design.grids, design.sample, design.s2, 8000)))


def test_bad_inputs_are_refused():
    with pytest.raises(GridkitError, match="`margin=0`"):
        plan_design(["s"], [np.full(10, 5)], DesignInputs(margin=0))
    with pytest.raises(GridkitError, match="`grids=3`"):
        plan_design(["a", "b"], [np.full(10, 5), np.full(10, 5)], DesignInputs(grids=3))
    with pytest.raises(GridkitError, match="no components"):
        plan_design(["s"], [np.zeros(10)], DesignInputs())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 120), st.integers(0, 60)), min_size=1, max_size=6),
       st.floats(0.005, 0.05), st.floats(0.0, 0.3))
def test_allocation_is_the_smallest_meeting_the_margin(strata, margin, icc):
    grids = np.array([n for n, _ in strata])
    sizes = [np.full(n, m) for n, m in strata]
    total = float(sum(n * m for n, m in strata))
    if total == 0:
        return
    s2 = np.array([anticipated_s2(s, 0.96, icc) for s in sizes])
    sample = allocate_sample(grids, s2, total, z=Z95, margin=margin)
    assert (sample <= grids).all() and (sample >= np.minimum(grids, 2)).all()
    limit = (margin / Z95) ** 2
    assert variance(grids, sample, s2, total) <= limit * (1 + 1e-9) or (sample == grids).all()
    for h in np.flatnonzero(sample > np.minimum(grids, 2)):
        fewer = sample.copy()
        fewer[h] -= 1
        assert variance(grids, fewer, s2, total) > limit * (1 - 1e-9)


def test_draw_is_reproducible_and_stratified():
    stratum = np.repeat([0, 1, 2], [50, 30, 20])
    sample = np.array([5, 3, 2])
    first, order = draw(stratum, sample, seed=42)
    again, _ = draw(stratum, sample, seed=42)
    other, _ = draw(stratum, sample, seed=43)
    assert first.tolist() == again.tolist()
    assert first.tolist() != other.tolist()
    assert np.bincount(stratum[first]).tolist() == [5, 3, 2]
    assert len(set(first.tolist())) == 10
    assert order.tolist() == [1, 2, 3, 4, 5, 1, 2, 3, 1, 2]


def test_draw_gives_every_grid_its_chance():
    stratum = np.zeros(20, dtype=np.int64)
    hits = np.zeros(20)
    for seed in range(2000):
        hits[draw(stratum, np.array([5]), seed)[0]] += 1
    assert hits / 2000 == pytest.approx(np.full(20, 0.25), abs=0.04)
