"""Accuracy and completeness overall, per street, per class and per grid, and the verdict.

- accuracy = correct / census components checked
- completeness = checked census components that exist (all but not_found) /
  (those + missing ones found in the field)

Overall, per street and per class the figures are design-based estimates for the whole census
(:func:`.estimate.stratified_ratio`, weights N_h / n_h); a street is a union of strata and a
class a domain spread over all sampled grids. Per grid they are the grid's own counts, exact
because a sampled grid is checked in full.

The census passes when accuracy and completeness reach their targets; with ``strict`` the
lower confidence bounds must reach them. A sampled grid is to be reworked when its own
accuracy or completeness is below target; every component with a verdict other than correct
is to be reworked (fixed, deleted or added).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridkit.acceptance.estimate import (
    RatioEstimate,
    grid_interval,
    intra_grid_correlation,
    stratified_ratio,
)
from gridkit.acceptance.plan import Plan
from gridkit.acceptance.tally import Verdicts, tally
from gridkit.acceptance.verdicts import CODE, CORRECT, MISSING, NOT_FOUND, VERDICTS

_EPS = 1e-12  # a ratio equal to the target in exact arithmetic must pass in floating point


@dataclass(frozen=True)
class Targets:
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


def _rounded(value: float, digits: int = 5) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def _describe(est: RatioEstimate) -> dict:
    return {"estimate": _rounded(est.estimate), "low": _rounded(est.low),
            "high": _rounded(est.high), "se": _rounded(est.se, 6),
            "design_effect": _rounded(est.design_effect, 3),
            "numerator": int(est.numerator), "denominator": int(est.units)}


def judge(acc: RatioEstimate, comp: RatioEstimate, targets: Targets) -> str:
    """"pass", "fail", or "none" when there is nothing to judge (a class only ever missing
    is judged on completeness alone)."""
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
class Figures:
    overall: dict
    streets: list[dict]
    classes: list[dict]
    grids: list[dict]  # one per plan grid, in plan order
    verdict: str
    counts: np.ndarray  # [grid, verdict]
    rework_grids: list[str]


def compute(plan: Plan, verdicts: Verdicts, targets: Targets,
            class_names: dict[str, str]) -> Figures:
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
    return Figures(overall, streets, per_class, grids, overall["verdict"], counts, rework)


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
