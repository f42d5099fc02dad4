"""Re-survey matching: one-to-one, optimal, and faithful to a known error rate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridkit.acceptance.match import assign, match
from gridkit.acceptance.verdicts import CODE


def names(result):
    return [list(CODE)[v] for v in result.verdict]


def test_each_kind_of_verdict():
    census = [(0, 0), (100, 0), (200, 0), (300, 0)]
    field = [(1, 1), (100, 2), (212, 0), (500, 500)]
    result = match(census, ["0102", "0102", "0118", "0201"], field,
                   ["0102", "0103", "0118", "0201"])
    assert names(result) == ["correct", "wrong_class", "wrong_position", "not_found"]
    assert result.partner.tolist() == [0, 1, 2, -1]
    assert result.field_partner.tolist() == [0, 1, 2, -1]  # the last field point is missing
    assert result.distance[2] == 12


def test_optimal_not_greedy():
    """Taking the closest pair first would leave one component unmatched."""
    census = [(1, 0), (-1.9, 0)]
    field = [(0, 0), (2.9, 0)]
    result = match(census, ["a", "a"], field, ["a", "a"], tolerance=2, search=2)
    assert names(result) == ["correct", "correct"]
    assert result.partner.tolist() == [1, 0]


def test_same_place_twice_is_two_components():
    result = match([(5, 5), (5, 5)], ["a", "a"], [(5, 5), (5.5, 5)], ["a", "a"])
    assert names(result) == ["correct", "correct"]
    assert sorted(result.partner.tolist()) == [0, 1]


def test_assign_prefers_more_pairs_then_shorter():
    a = np.array([0, 0, 1])
    b = np.array([0, 1, 0])
    d = np.array([0.1, 3.0, 3.0])
    chosen_a, chosen_b, chosen_d = assign(a, b, d)
    assert sorted(zip(chosen_a.tolist(), chosen_b.tolist(), strict=True)) == [(0, 1), (1, 0)]
    assert chosen_d.sum() == 6.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 60), st.floats(0, 60), st.sampled_from("ab")),
                max_size=25),
       st.lists(st.tuples(st.floats(0, 60), st.floats(0, 60), st.sampled_from("ab")),
                max_size=25))
def test_matching_is_one_to_one_and_within_reach(census, field):
    cxy = np.array([(x, y) for x, y, _ in census]).reshape(-1, 2)
    fxy = np.array([(x, y) for x, y, _ in field]).reshape(-1, 2)
    ccl = np.array([c for _, _, c in census])
    fcl = np.array([c for _, _, c in field])
    result = match(cxy, ccl, fxy, fcl, tolerance=5, search=15)
    used = result.partner[result.partner >= 0]
    assert len(set(used.tolist())) == len(used)
    for i, j in enumerate(result.partner):
        if j < 0:
            assert result.verdict[i] == CODE["not_found"]
            continue
        assert result.field_partner[j] == i
        d = np.hypot(*(cxy[i] - fxy[j]))
        assert d == pytest.approx(result.distance[i])
        kind = list(CODE)[result.verdict[i]]
        assert (kind == "correct" and ccl[i] == fcl[j] and d <= 5) or \
            (kind == "wrong_class" and ccl[i] != fcl[j] and d <= 5) or \
            (kind == "wrong_position" and ccl[i] == fcl[j] and d <= 15)
    # Nothing left over that could still have been paired as correct.
    free_c = np.flatnonzero(result.partner < 0)
    free_f = np.flatnonzero(result.field_partner < 0)
    for i in free_c:
        for j in free_f:
            assert not (ccl[i] == fcl[j] and np.hypot(*(cxy[i] - fxy[j])) <= 5)


def synthetic_resurvey(n: int, rates: dict[str, float], seed: int, noise: float = 1.0):
    """Field truth of ``n`` components, a census with injected errors, a re-survey with GPS
    noise. Returns census (xy, class), field (xy, class) and the true verdict counts."""
    rng = np.random.default_rng(seed)
    side = np.sqrt(n * 200.0)  # one component per 200 m2, as on a busy street
    truth = rng.uniform(0, side, (n, 2))
    klass = rng.integers(0, 6, n)
    kind = rng.choice(["correct", "wrong_class", "wrong_position", "not_found", "missing"],
                      size=n, p=[1 - sum(rates.values()), rates["wrong_class"],
                                 rates["wrong_position"], rates["not_found"],
                                 rates["missing"]])
    census_xy = truth + rng.normal(0, noise, truth.shape)
    census_class = klass.copy()
    shifted = kind == "wrong_position"
    angle = rng.uniform(0, 2 * np.pi, shifted.sum())
    length = rng.uniform(8, 15, shifted.sum())
    census_xy[shifted] += np.column_stack([np.cos(angle), np.sin(angle)]) * length[:, None]
    census_class[kind == "wrong_class"] = (klass[kind == "wrong_class"] + 1) % 6
    in_census = kind != "missing"
    in_field = kind != "not_found"
    field_xy = truth + rng.normal(0, noise, truth.shape)
    counts = {k: int((kind == k).sum()) for k in np.unique(kind)}
    return (census_xy[in_census], census_class[in_census], field_xy[in_field],
            klass[in_field], counts)


def test_matcher_recovers_a_known_error_rate():
    rates = {"wrong_class": 0.012, "wrong_position": 0.01, "not_found": 0.01,
             "missing": 0.01}
    for seed in range(3):
        cxy, ccl, fxy, fcl, counts = synthetic_resurvey(6000, rates, seed)
        result = match(cxy, ccl, fxy, fcl)
        checked = len(cxy)
        true_accuracy = counts["correct"] / checked
        found_accuracy = np.mean(result.verdict == CODE["correct"])
        assert abs(found_accuracy - true_accuracy) <= 0.005
        found_missing = int((result.field_partner < 0).sum())
        assert abs(found_missing - counts["missing"]) <= 0.005 * checked
        for verdict in ("wrong_class", "wrong_position", "not_found"):
            found = int((result.verdict == CODE[verdict]).sum())
            assert abs(found - counts[verdict]) <= 0.005 * checked, verdict


def test_a_tolerance_too_tight_for_the_positions_is_named():
    from gridkit.acceptance.evidence import position_check

    rates = {"wrong_class": 0.01, "wrong_position": 0.01, "not_found": 0.01, "missing": 0.01}
    cxy, ccl, fxy, fcl, counts = synthetic_resurvey(3000, rates, seed=4, noise=3.0)
    tight = match(cxy, ccl, fxy, fcl, tolerance=5)
    advice = position_check(tight, 5)
    assert "consider --tolerance" in advice["warning"]
    suggested = float(advice["warning"].rsplit(" ", 1)[-1])
    assert 13 <= suggested <= 18  # 3 m per survey: 3.72 * 3 * sqrt(2) = 15.8 m
    truth = counts["correct"] / len(cxy)
    assert np.mean(tight.verdict == CODE["correct"]) < truth - 0.3
    fitting = match(cxy, ccl, fxy, fcl, tolerance=suggested, search=60)
    # 8-15 m displacements now fall within tolerance: 3 m fixes cannot show them.
    assert abs(np.mean(fitting.verdict == CODE["correct"]) - truth) < 0.015
