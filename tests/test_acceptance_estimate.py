"""The stratified ratio estimator, its intervals and the verdict, by hand and by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridkit.acceptance.design import DesignInputs, draw, plan_design
from gridkit.acceptance.estimate import Targets, clopper_pearson, domain, judge, stratified_ratio
from gridkit.acceptance.verdicts import CODE


def test_exact_arithmetic_of_a_self_weighting_sample():
    """50 grids of 40 components from 100 (one stratum): 1,930 of 2,000 correct -> 0.965."""
    correct = np.full(50, 40)
    np.subtract.at(correct, np.arange(70) % 50, 1)  # 70 errors spread over the grids
    est = stratified_ratio(correct, np.full(50, 40), np.zeros(50, int), np.array([100]))
    assert correct.sum() == 1930
    assert float(est.estimate) == 0.965
    assert est.low < 0.965 < est.high
    counts = np.zeros((50, 6), dtype=np.int64)
    counts[:, CODE["correct"]] = correct
    counts[:, CODE["wrong_class"]] = 40 - correct
    figures, acc, comp = domain(counts, np.zeros(50, int), np.array([100]), Targets())
    assert figures["verdict"] == "pass" and figures["accuracy"]["estimate"] == 0.965
    counts[:30, CODE["correct"]] -= 1  # 30 more wrong: 1,900 of 2,000
    counts[:30, CODE["wrong_attribute"]] += 1
    figures, _, _ = domain(counts, np.zeros(50, int), np.array([100]), Targets())
    assert figures["accuracy"]["estimate"] == 0.95 and figures["verdict"] == "fail"


def test_variance_matches_the_textbook_formula():
    """Two strata; V = sum N_h^2 (1 - f_h) s_h^2(e) / n_h / X_hat^2 computed by hand."""
    y = np.array([9, 10, 8, 20, 18, 19, 17])
    x = np.array([10, 10, 10, 20, 20, 20, 20])
    stratum = np.array([0, 0, 0, 1, 1, 1, 1])
    population = np.array([12, 10])
    est = stratified_ratio(y, x, stratum, population)
    w = np.where(stratum == 0, 12 / 3, 10 / 4)
    ratio = (w * y).sum() / (w * x).sum()
    e = y - ratio * x
    by_hand = sum(population[h] ** 2 * (1 - (stratum == h).sum() / population[h])
                  * e[stratum == h].var(ddof=1) / (stratum == h).sum() for h in (0, 1))
    by_hand /= (w * x).sum() ** 2
    assert float(est.estimate) == pytest.approx(ratio)
    assert float(est.variance) == pytest.approx(by_hand)
    assert est.df == 7 - 2


def test_a_full_census_has_no_sampling_error():
    y, x = np.array([9, 10, 8]), np.array([10, 10, 10])
    est = stratified_ratio(y, x, np.zeros(3, int), np.array([3]))
    assert float(est.variance) == 0
    assert float(est.low) == float(est.high) == pytest.approx(0.9)


def test_all_correct_still_has_a_lower_bound():
    est = stratified_ratio(np.full(20, 30), np.full(20, 30), np.zeros(20, int),
                           np.array([200]))
    assert float(est.estimate) == 1 and float(est.high) == 1
    assert 0.99 < float(est.low) < 1


def test_strict_judges_the_lower_bound():
    est = stratified_ratio(np.full(20, 29), np.full(20, 30), np.zeros(20, int),
                           np.array([200]))  # 0.9667, lower bound below 0.96
    assert float(est.low) < 0.96 < float(est.estimate)
    assert judge(est, est, Targets()) == "pass"
    assert judge(est, est, Targets(strict=True)) == "fail"


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 2)),
                min_size=2, max_size=30), st.floats(0.8, 0.999))
def test_interval_holds_the_estimate_inside_zero_one(grids, confidence):
    x = np.array([max(a, b) for a, b, _ in grids])
    y = np.array([min(a, b) for a, b, _ in grids])
    stratum = np.array([h for _, _, h in grids])
    population = np.bincount(stratum, minlength=3) * 3 + 1
    est = stratified_ratio(y, x, stratum, population, confidence)
    if x.sum() == 0:
        assert np.isnan(est.estimate)
        return
    assert 0 <= est.low <= est.estimate + 1e-12 <= est.high + 2e-12 <= 1 + 2e-12
    assert est.variance >= 0


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 400), st.integers(0, 400), st.floats(0.5, 0.99))
def test_clopper_pearson_covers_the_observed_share(n, k, confidence):
    k = min(k, n)
    low, high = clopper_pearson(np.array(k / n), np.array(float(n)), confidence)
    assert 0 <= low <= k / n <= high <= 1


# -- simulation: censuses of known accuracy, many seeded spot checks -----------------------

def census(accuracy: float, seed: int, icc: float = 0.05):
    """1,200 grids in 6 strata (street x density) of uneven sizes; errors cluster in grids
    (beta-binomial with intra-grid correlation ``icc``); exactly ``accuracy`` correct."""
    rng = np.random.default_rng(seed)
    stratum = np.repeat(np.arange(6), 200)
    mean = np.linspace(12, 38, 6)[stratum]
    m = rng.negative_binomial(3, 3 / (3 + mean))
    a, b = accuracy * (1 - icc) / icc, (1 - accuracy) * (1 - icc) / icc
    y = rng.binomial(m, rng.beta(a, b, m.size))
    gap = int(round(accuracy * m.sum())) - int(y.sum())
    while gap:  # nudge grids until the census has exactly the stated accuracy
        i = int(rng.integers(m.size))
        step = 1 if gap > 0 else -1
        if 0 <= y[i] + step <= m[i]:
            y[i] += step
            gap -= step
    return stratum, m, y


def spot_checks(accuracy: float, runs: int, margin: float = 0.01):
    """Estimates of ``runs`` seeded samples drawn by the library's own plan and draw."""
    stratum, m, y = census(accuracy, seed=11)
    design = plan_design([str(h) for h in range(6)], [m[stratum == h] for h in range(6)],
                         DesignInputs(margin=margin))
    picks = np.stack([draw(stratum, design.sample, seed)[0] for seed in range(runs)])
    est = stratified_ratio(y[picks], m[picks], stratum[picks[0]], design.grids)
    return y.sum() / m.sum(), est


@pytest.mark.parametrize("accuracy", [0.95, 0.97])
def test_simulated_verdicts_and_coverage(accuracy):
    truth, est = spot_checks(accuracy, runs=2000)
    assert truth == pytest.approx(accuracy, abs=5e-5)
    right = np.mean((est.estimate >= 0.96) == (truth >= 0.96))
    covered = np.mean((est.low <= truth) & (truth <= est.high))
    assert right >= 0.95, right
    assert 0.93 <= covered <= 0.97, covered
