"""Spot-check acceptance benchmark: does the plan judge censuses of known accuracy right?

    python benchmarks/acceptance.py            # the tables of gridkit/acceptance/README.md
    python benchmarks/acceptance.py --runs 2000 --json

Censuses are simulated on 1,200 unit grids in 6 strata (street x density) with uneven grid
sizes (negative binomial, mean 12-38 components by stratum, 30,000 components in all) and
errors clustered in grids (beta-binomial, intra-grid correlation rho); each census has exactly
the stated accuracy. For each census the library plans the spot check (plan_design), draws
``runs`` seeded samples (draw) and estimates (stratified_ratio), as `gridkit census sample`
and `gridkit census accuracy` do. Reported: grids and components checked, how often the
census passes (estimate >= 0.96), how often the 95% interval covers the truth, and the same
coverage for the naive binomial interval on raw counts (which ignores clustering).

The re-survey matcher is measured on 6,000 field components (one per 200 m2) with 1% each of
wrong class, wrong position (8-15 m), not found and missing, for GPS noise of 0.5-3 m per
survey: the error of the accuracy it derives, in points.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_acceptance_estimate import census  # noqa: E402
from test_acceptance_match import synthetic_resurvey  # noqa: E402

from gridkit.acceptance.design import DesignInputs, draw, plan_design  # noqa: E402
from gridkit.acceptance.estimate import stratified_ratio  # noqa: E402
from gridkit.acceptance.evidence import position_check  # noqa: E402
from gridkit.acceptance.match import match  # noqa: E402
from gridkit.acceptance.verdicts import CODE  # noqa: E402


def scenario(accuracy: float, icc: float, margin: float, runs: int) -> dict:
    stratum, m, y = census(accuracy, seed=11, icc=icc)
    design = plan_design([str(h) for h in range(6)], [m[stratum == h] for h in range(6)],
                         DesignInputs(margin=margin))
    picks = np.stack([draw(stratum, design.sample, seed)[0] for seed in range(runs)])
    est = stratified_ratio(y[picks], m[picks], stratum[picks[0]], design.grids)
    truth = y.sum() / m.sum()
    raw = y[picks].sum(axis=1) / m[picks].sum(axis=1)
    half = 1.96 * np.sqrt(raw * (1 - raw) / m[picks].sum(axis=1))
    return {
        "accuracy": accuracy, "icc": icc, "margin": margin, "grids": design.n,
        "components": round(float(m[picks].sum(axis=1).mean())),
        "passes": round(float(np.mean(est.estimate >= 0.96 - 1e-12)), 4),
        "coverage": round(float(np.mean((est.low <= truth) & (truth <= est.high))), 4),
        "naive_coverage": round(float(np.mean(np.abs(raw - truth) <= half)), 4),
        "mean_half_width": round(float(np.mean(est.high - est.low) / 2), 4),
    }


def matcher(noise: float, tolerance: float, seed: int = 0) -> dict:
    rates = {"wrong_class": 0.01, "wrong_position": 0.01, "not_found": 0.01, "missing": 0.01}
    cxy, ccl, fxy, fcl, counts = synthetic_resurvey(6000, rates, seed, noise=noise)
    started = time.perf_counter()
    result = match(cxy, ccl, fxy, fcl, tolerance=tolerance, search=max(20, 4 * tolerance))
    seconds = time.perf_counter() - started
    advice = position_check(result, tolerance)
    truth = counts["correct"] / len(cxy)
    found = float(np.mean(result.verdict == CODE["correct"]))
    return {"noise_m": noise, "tolerance_m": tolerance, "true_accuracy": round(truth, 4),
            "derived": round(found, 4), "error_points": round(100 * (found - truth), 2),
            "advice": advice.get("warning", ""), "seconds": round(seconds, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = [scenario(p, icc, margin, args.runs)
            for margin in (0.015, 0.01)
            for icc in (0.02, 0.05, 0.1)
            for p in (0.94, 0.95, 0.955, 0.96, 0.965, 0.97, 0.98)]
    matches = [matcher(noise, tolerance) for noise in (0.5, 1.0, 2.0, 3.0)
               for tolerance in sorted({5.0, float(np.ceil(5.3 * noise))})]
    report = {"runs": args.runs, "spot_checks": rows, "matcher": matches,
              "seconds": round(time.perf_counter() - started, 1)}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{args.runs} seeded spot checks per row (plan rho 0.05, expected accuracy 0.96)")
    print("| margin | true rho | true accuracy | grids | components | passes | coverage | "
          "naive coverage | half-width |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| ±{r['margin'] * 100:.1f} | {r['icc']} | {r['accuracy']} | {r['grids']} | "
              f"{r['components']:,} | {r['passes']:.1%} | {r['coverage']:.1%} | "
              f"{r['naive_coverage']:.1%} | {r['mean_half_width'] * 100:.2f} |")
    print("\nre-survey matcher (6,000 components, 4% errors, search max(20, 4 x tolerance))")
    print("| GPS noise per survey | tolerance | true accuracy | derived | error (points) | "
          "tolerance advice | seconds |")
    print("| ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for r in matches:
        advice = r["advice"].rsplit("consider ", 1)[-1] if r["advice"] else "-"
        print(f"| {r['noise_m']} m | {r['tolerance_m']:g} m | {r['true_accuracy']:.4f} | "
              f"{r['derived']:.4f} | {r['error_points']:+.2f} | {advice} | {r['seconds']} |")
    print(f"\n{report['seconds']} s")


if __name__ == "__main__":
    main()
