"""Accuracy and completeness from a stratified sample of whole grids, and the census verdict.

Estimates, variances and confidence intervals.

Both figures are ratios of totals over components, estimated from grids (clusters):

    R = sum_h w_h sum_{i in s_h} y_i / sum_h w_h sum_{i in s_h} x_i,    w_h = N_h / n_h

The variance is the Taylor-linearised (Woodruff) one, computed from the spread of grid
residuals e_i = y_i - R x_i between the sampled grids of each stratum, with the finite
population correction:

    V = sum_h N_h^2 (1 - n_h/N_h) s_h^2(e) / n_h / X^2

so clustering of errors in grids widens it as much as the data show. The interval is Korn and
Graubard's: a Clopper-Pearson interval on the effective sample size n* = p (1-p) / V, scaled by
(z / t_df)^2 with df = sampled grids - strata. It stays inside [0, 1], is asymmetric near 1
where accuracies live, and in simulation covers better than p +- t SE (which misses high
estimates with small variances: estimate and SE are strongly correlated when errors are rare).
The design effect is truncated at 1, so no interval is narrower than the binomial one, except
that a full census of the strata (f = 1) has no sampling error.

Everything works on arrays with any leading shape (..., grids), so a simulation evaluates
thousands of samples in one call.

The figures reported:

- accuracy = correct / census components checked
- completeness = checked census components that exist (all but not_found) /
  (those + missing ones found in the field)

Overall, per street and per class the figures are design-based estimates for the whole census
(:func:`stratified_ratio`, weights N_h / n_h); a street is a union of strata and a
class a domain spread over all sampled grids. Per grid they are the grid's own counts, exact
because a sampled grid is checked in full.

The census passes when accuracy and completeness reach their targets; with ``strict`` the
lower confidence bounds must reach them. A sampled grid is to be reworked when its own
accuracy or completeness is below target; every component with a verdict other than correct
is to be reworked (fixed, deleted or added).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gridkit.acceptance.verdicts import CODE, CORRECT, MISSING, NOT_FOUND, VERDICTS, Verdicts

if TYPE_CHECKING:
    from gridkit.acceptance.plan import Plan


@dataclass
class RatioEstimate:
    """A ratio sum(y)/sum(x) estimated from sampled grids, per row of ``y``.

    Attributes
    ----------
    estimate : numpy.ndarray
        The ratio (NaN where nothing was checked).
    variance : numpy.ndarray
        Its Taylor-linearised variance.
    low, high : numpy.ndarray
        The confidence interval.
    units : numpy.ndarray
        The denominator's sample count (components checked), unweighted.
    numerator : numpy.ndarray
        The numerator's sample count, unweighted.
    df : int
        Degrees of freedom (sampled grids minus strata).
    fraction : float
        The sampled share of the grids of the strata involved.
    design_effect : numpy.ndarray
        The variance over that of a sample of as many components drawn one by one.

    Examples
    --------
    >>> import numpy as np
    >>> r = stratified_ratio([48.0, 50, 29, 30], [50.0, 50, 30, 30], [0, 0, 1, 1], [300, 500])
    >>> round(float(r.estimate), 4), round(float(r.se), 4)
    (0.9817, 0.013)
    """

    estimate: np.ndarray  # NaN where nothing was checked
    variance: np.ndarray
    low: np.ndarray
    high: np.ndarray
    units: np.ndarray  # the denominator's sample count (components checked), unweighted
    numerator: np.ndarray  # the numerator's sample count, unweighted
    df: int
    fraction: float  # sampled share of the grids of the strata involved
    design_effect: np.ndarray  # V over the variance of a component sample of equal size

    @property
    def se(self) -> np.ndarray:
        """The standard error."""
        return np.sqrt(self.variance)


def z_value(confidence: float) -> float:
    """The two-sided normal quantile of ``confidence`` (1.96 for 0.95)."""
    from scipy import stats  # lazy: scipy.stats costs seconds at CLI start-up

    return float(stats.norm.ppf(0.5 + confidence / 2))


def clopper_pearson(p: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """Exact binomial interval for ``p`` observed in ``n`` trials.

    ``n`` may be fractional (an effective sample size) or infinite (no sampling error: the
    interval is the point).
    """
    from scipy import stats

    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    alpha = 1 - confidence
    finite = np.isfinite(n) & (n > 0)
    safe_n = np.where(finite, n, 1.0)
    hits = p * safe_n
    with np.errstate(invalid="ignore"):
        low = stats.beta.ppf(alpha / 2, hits, safe_n - hits + 1)
        high = stats.beta.ppf(1 - alpha / 2, hits + 1, safe_n - hits)
    low = np.where(hits <= 0, 0.0, low)
    high = np.where(hits >= safe_n, 1.0, high)
    low = np.where(finite, low, np.where(np.isinf(n), p, np.nan))
    high = np.where(finite, high, np.where(np.isinf(n), p, np.nan))
    return np.clip(low, 0, 1), np.clip(high, 0, 1)


def stratified_ratio(y: np.ndarray, x: np.ndarray, stratum: np.ndarray,
                     population: np.ndarray, confidence: float = 0.95) -> RatioEstimate:
    """Estimate sum(y)/sum(x) over the population of grids from a stratified sample of grids.

    The combined ratio estimator with its Taylor-linearised (Woodruff) variance and a t
    interval; strata without sampled grids are left out (a domain such as one street passes only
    its own grids).

    Parameters
    ----------
    y : array_like of float, shape (..., n)
        Per sampled grid, the numerator (e.g. components found correct); leading axes are
        several ratios at once.
    x : array_like of float, shape (..., n)
        Per sampled grid, the denominator (components checked).
    stratum : array_like of int, shape (n,)
        The stratum number of each sampled grid.
    population : array_like of float, shape (strata,)
        N_h, the grids in each stratum.
    confidence : float, optional
        Confidence level of the interval.

    Returns
    -------
    RatioEstimate
        Estimate, variance, interval and counts per ratio.

    Examples
    --------
    >>> r = stratified_ratio([48.0, 50, 29, 30], [50.0, 50, 30, 30], [0, 0, 1, 1], [300, 500])
    >>> round(float(r.estimate), 4), float(r.low) < float(r.estimate) < float(r.high)
    (0.9817, True)
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    stratum = np.asarray(stratum, dtype=np.int64)
    population = np.asarray(population, dtype=float)
    strata = len(population)
    members = np.zeros((stratum.size, strata))
    members[np.arange(stratum.size), stratum] = 1.0
    n_h = members.sum(axis=0)
    sampled = n_h > 0
    weight = np.divide(population, n_h, out=np.zeros(strata), where=sampled)
    y_h, x_h = y @ members, x @ members
    total_x = x_h @ weight
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (y_h @ weight) / total_x
        ratio = np.where(total_x > 0, ratio, np.nan)
        residual = y - np.nan_to_num(ratio)[..., None] * x
        e_h, e2_h = residual @ members, (residual * residual) @ members
        spread = np.where(n_h > 1, (e2_h - e_h * e_h / np.maximum(n_h, 1))
                          / np.maximum(n_h - 1, 1), 0.0)
        fpc = np.where(sampled, 1 - n_h / np.maximum(population, 1), 0.0)
        terms = population ** 2 * fpc * np.maximum(spread, 0) / np.maximum(n_h, 1)
        var = np.where(total_x > 0, terms.sum(axis=-1) / total_x ** 2, np.nan)
    units = x.sum(axis=-1)
    df = max(int(n_h.sum() - sampled.sum()), 1)
    fraction = float(n_h.sum() / population[sampled].sum()) if sampled.any() else 0.0
    low, high, deff = _interval(ratio, var, units, df, fraction, confidence)
    return RatioEstimate(ratio, var, low, high, units, y.sum(axis=-1), df, fraction, deff)


def _interval(ratio, var, units, df: int, fraction: float, confidence: float):
    from scipy import stats

    z = z_value(confidence)
    t = float(stats.t.ppf(0.5 + confidence / 2, df))
    p = np.clip(np.nan_to_num(ratio), 0, 1)
    interior = (p > 0) & (p < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A sample of `units` components drawn one by one, with the grids' sampling fraction.
        binomial = (1 - fraction) * p * (1 - p) / units
        deff = np.where(binomial > 0, var / binomial, 1.0)
        floor = np.maximum(np.nan_to_num(var), binomial)
        n_eff = np.where(interior, p * (1 - p) / floor,
                         units / (1 - fraction) if fraction < 1 else np.inf)
    n_eff = np.where(np.isfinite(n_eff), n_eff * (z / t) ** 2, np.inf)
    low, high = clopper_pearson(p, n_eff, confidence)
    missing = ~np.isfinite(ratio)
    return np.where(missing, np.nan, low), np.where(missing, np.nan, high), deff


def grid_interval(correct: np.ndarray, checked: np.ndarray,
                  confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson interval of one grid's own figure.

    A sampled grid is checked in full, so this is not sampling error: it says how well that many
    components pin down the grid's error rate (the process that produced its census).
    """
    checked = np.asarray(checked, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(checked > 0, np.asarray(correct, dtype=float) / checked, np.nan)
    low, high = clopper_pearson(np.nan_to_num(p), checked, confidence)
    return np.where(checked > 0, low, np.nan), np.where(checked > 0, high, np.nan)


def intra_grid_correlation(deff: float, x: np.ndarray) -> float | None:
    """The intra-grid correlation implied by a design effect, for the next plan's ``--icc``.

    deff = 1 + (m* - 1) rho with m* = sum x² / sum x the size-weighted mean grid size.
    """
    x = np.asarray(x, dtype=float)
    if x.sum() <= 0 or not np.isfinite(deff):
        return None
    m_star = float((x * x).sum() / x.sum())
    if m_star <= 1:
        return None
    return max(0.0, (deff - 1) / (m_star - 1))


def tally(verdicts: Verdicts, grids: int) -> tuple[list[str], np.ndarray]:
    """(classes, counts) with counts[grid, class, verdict]."""
    classes = sorted(set(verdicts.klass.tolist()))
    index = {c: i for i, c in enumerate(classes)}
    counts = np.zeros((grids, max(len(classes), 1), len(VERDICTS)), dtype=np.int64)
    if len(verdicts):
        k = np.array([index[c] for c in verdicts.klass], dtype=np.int64)
        np.add.at(counts, (verdicts.grid, k, verdicts.verdict), 1)
    return classes, counts

_EPS = 1e-12  # a ratio equal to the target in exact arithmetic must pass in floating point


@dataclass(frozen=True)
class Targets:
    """What the census must reach to pass (the 96% of the acceptance rules, by default).

    Parameters
    ----------
    accuracy : float
        Accuracy target, a share.
    completeness : float or None
        Completeness target; None: not judged.
    confidence : float
        Confidence level of the intervals.
    strict : bool
        Judge on the interval's lower bound instead of the estimate.

    Examples
    --------
    >>> Targets(accuracy=0.95).completeness
    0.96
    """

    accuracy: float = 0.96
    completeness: float | None = 0.96  # None: not judged
    confidence: float = 0.95
    strict: bool = False


def accuracy_parts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(correct, checked) from counts[..., verdict]."""
    return counts[..., CODE[CORRECT]], counts[..., : CODE[MISSING]].sum(axis=-1)


def completeness_parts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(existing, existing + missing) from counts[..., verdict]."""
    exists = counts[..., : CODE[MISSING]].sum(axis=-1) - counts[..., CODE[NOT_FOUND]]
    return exists, exists + counts[..., CODE[MISSING]]


def _rounded(value: float | np.ndarray | None, digits: int = 5) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def _describe(est: RatioEstimate) -> dict:
    return {"estimate": _rounded(est.estimate), "low": _rounded(est.low),
            "high": _rounded(est.high), "se": _rounded(est.se, 6),
            "design_effect": _rounded(est.design_effect, 3),
            "numerator": int(est.numerator), "denominator": int(est.units)}


def judge(acc: RatioEstimate, comp: RatioEstimate, targets: Targets) -> str:
    """"pass", "fail", or "none" when there is nothing to judge.

    A class only ever missing is judged on completeness alone.
    """
    judged = [(acc, targets.accuracy)]
    if targets.completeness is not None:
        judged.append((comp, targets.completeness))
    judged = [(e, t) for e, t in judged if np.isfinite(e.estimate)]
    if not judged:
        return "none"
    ok = all((e.low if targets.strict else e.estimate) >= t - _EPS for e, t in judged)
    return "pass" if ok else "fail"


def domain(counts: np.ndarray, stratum: np.ndarray, population: np.ndarray,
           targets: Targets) -> tuple[dict, RatioEstimate, RatioEstimate]:
    """Figures of the grids whose counts[grid, verdict] are given."""
    acc = stratified_ratio(*accuracy_parts(counts), stratum, population, targets.confidence)
    comp = stratified_ratio(*completeness_parts(counts), stratum, population,
                            targets.confidence)
    totals = counts.sum(axis=0)
    figures = {
        "grids": int(counts.shape[0]),
        "checked": int(totals[: CODE[MISSING]].sum()),
        **{v: int(totals[CODE[v]]) for v in VERDICTS},
        "accuracy": _describe(acc), "completeness": _describe(comp),
        "verdict": judge(acc, comp, targets),
    }
    return figures, acc, comp


@dataclass
class AccuracyFigures:
    """The figures of an accuracy check.

    Attributes
    ----------
    overall : dict
        Counts, accuracy and completeness with intervals, verdict.
    streets : list of dict
        The same per street.
    classes : list of dict
        The same per class.
    grids : list of dict
        One per plan grid, in plan order: counts and the grid's own figures.
    verdict : str
        ``pass`` or ``fail``.
    counts : numpy.ndarray
        Components per [grid, verdict].
    rework_grids : list of str
        BGIDs of the grids to rework.
    """

    overall: dict
    streets: list[dict]
    classes: list[dict]
    grids: list[dict]  # one per plan grid, in plan order
    verdict: str
    counts: np.ndarray  # [grid, verdict]
    rework_grids: list[str]


def accuracy_figures(plan: Plan, verdicts: Verdicts, targets: Targets,
                     class_names: dict[str, str]) -> AccuracyFigures:
    """The figures of ``verdicts`` on ``plan``: overall, per street, per class, per grid."""
    _, stratum, population = plan.stratum_numbers()
    classes, by_class = tally(verdicts, len(plan.grids))
    counts = by_class.sum(axis=1)
    overall, acc, _ = domain(counts, stratum, population, targets)
    overall["raw_accuracy"] = _rounded(
        overall["correct"] / overall["checked"]) if overall["checked"] else None
    overall["intra_grid_correlation"] = _rounded(
        intra_grid_correlation(float(acc.design_effect), accuracy_parts(counts)[1]), 4)
    overall["judged_on"] = "lower confidence bound" if targets.strict else "estimate"
    streets = []
    street_of = plan.grids["STREET"].to_numpy()
    for street in sorted(set(street_of)):
        rows = street_of == street
        figures, _, _ = domain(counts[rows], stratum[rows], population, targets)
        streets.append({"street": street, **figures})
    per_class = []
    for k, code in enumerate(classes):
        figures, _, _ = domain(by_class[:, k, :], stratum, population, targets)
        figures["grids"] = int((by_class[:, k, :].sum(axis=1) > 0).sum())  # where it occurs
        per_class.append({"class": code, "name": class_names.get(code, ""), **figures})
    grids, rework = _grids(plan, counts, targets)
    return AccuracyFigures(overall, streets, per_class, grids, overall["verdict"], counts, rework)


def _grids(plan: Plan, counts: np.ndarray, targets: Targets) -> tuple[list[dict], list[str]]:
    correct, checked = accuracy_parts(counts)
    exists, seen = completeness_parts(counts)
    acc_low, acc_high = grid_interval(correct, checked, targets.confidence)
    comp_low, comp_high = grid_interval(exists, seen, targets.confidence)
    result, rework = [], []
    for i, bgid in enumerate(plan.bgids):
        acc = correct[i] / checked[i] if checked[i] else np.nan
        comp = exists[i] / seen[i] if seen[i] else np.nan
        if not seen[i]:
            verdict = "empty"
        else:
            ok = (not checked[i]) or acc >= targets.accuracy - _EPS
            if targets.completeness is not None:
                ok &= comp >= targets.completeness - _EPS
            verdict = "pass" if ok else "fail"
        if verdict == "fail":
            rework.append(bgid)
        result.append({
            "BGID": bgid, "checked": int(checked[i]),
            **{v: int(counts[i, CODE[v]]) for v in VERDICTS},
            "accuracy": _rounded(acc), "accuracy_low": _rounded(acc_low[i]),
            "accuracy_high": _rounded(acc_high[i]), "completeness": _rounded(comp),
            "completeness_low": _rounded(comp_low[i]),
            "completeness_high": _rounded(comp_high[i]), "verdict": verdict,
        })
    return result, rework
