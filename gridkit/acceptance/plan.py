"""A spot-check plan: the drawn grids with their strata and weights, and reading it back.

The plan lives in two places with the same layers: OUT.gpkg (so ``gridkit census accuracy
OUT.gpkg`` finds it without being told) and the PLAN folder handed to the field teams
(``plan.gpkg`` there). Each sampled grid carries everything the estimator needs (its stratum,
the stratum's grid count N_h and sample size n_h), so a plan is self-contained.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from gridkit.acceptance.design import Design, DesignInputs, plan_design
from gridkit.acceptance.draw import draw
from gridkit.acceptance.frame import Frame
from gridkit.errors import FileError, GridkitError, mention
from gridkit.io import layers_of

PLAN_LAYER = "spotcheck_plan"
STRATUM_LAYER = "spotcheck_stratum"
CHECKLIST_LAYER = "spotcheck_checklist"
PLAN_FIELDS = ("BGID", "COMMUNITY", "STREET", "DENSITY", "STRATUM", "STRATUM_GRIDS",
               "STRATUM_SAMPLE", "WEIGHT", "COMPONENTS", "DRAW", "SEED", "PLAN_ID")
PLAN_FILE = "plan.gpkg"


@dataclass
class Plan:
    grids: gpd.GeoDataFrame  # PLAN_FIELDS + geometry, one row per sampled grid, BGID order
    strata: pd.DataFrame  # one row per stratum
    seed: int
    plan_id: str
    design: Design | None = None  # known when just drawn, not when read back

    @property
    def bgids(self) -> list[str]:
        return self.grids["BGID"].tolist()

    def stratum_numbers(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(stratum keys, stratum number of each sampled grid, N_h per stratum)."""
        keys = sorted(self.grids["STRATUM"].unique())
        number = {k: h for h, k in enumerate(keys)}
        sizes = self.grids.groupby("STRATUM")["STRATUM_GRIDS"].first()
        return (keys, self.grids["STRATUM"].map(number).to_numpy(np.int64),
                np.array([int(sizes[k]) for k in keys], dtype=np.int64))


def make_plan(frame: Frame, inputs: DesignInputs, seed: int) -> Plan:
    """Size the sample, draw it with ``seed`` and describe it."""
    design = plan_design(frame.strata, frame.components_by_stratum(), inputs)
    positions, order = draw(frame.stratum, design.sample, seed)
    chosen = frame.grids.iloc[positions].copy()
    h = frame.stratum[positions]
    chosen["STRATUM_GRIDS"] = design.grids[h]
    chosen["STRATUM_SAMPLE"] = design.sample[h]
    chosen["WEIGHT"] = design.grids[h] / design.sample[h]
    chosen["DRAW"] = order
    chosen["SEED"] = seed
    digest = hashlib.sha256(("|".join(sorted(chosen["BGID"])) + f"#{seed}").encode())
    plan_id = digest.hexdigest()[:12]
    chosen["PLAN_ID"] = plan_id
    chosen = chosen.sort_values("BGID", kind="stable").reset_index(drop=True)
    grids = gpd.GeoDataFrame(chosen[list(PLAN_FIELDS)], geometry=chosen.geometry.to_numpy(),
                             crs=frame.grids.crs)
    street, density = zip(*(k.split("/", 1) for k in frame.strata), strict=True) \
        if frame.strata else ((), ())
    mean = np.divide(design.components, design.grids, out=np.zeros(len(design.grids)),
                     where=design.grids > 0)
    strata = pd.DataFrame({
        "STRATUM": frame.strata, "STREET": list(street), "DENSITY": list(density),
        "GRIDS": design.grids, "COMPONENTS": design.components, "SAMPLE": design.sample,
        "SAMPLE_COMPONENTS": [int(chosen.loc[chosen["STRATUM"] == k, "COMPONENTS"].sum())
                              for k in frame.strata],
        "MEAN_COMPONENTS": np.round(mean, 2), "S2": np.round(design.s2, 4),
    })
    return Plan(grids, strata, seed, plan_id, design)


def plan_source(output: Path, plan: Path | None) -> Path:
    """The GeoPackage holding the plan: PLAN/plan.gpkg, a plan .gpkg, or OUT.gpkg."""
    if plan is None:
        return output
    if plan.is_dir():
        inner = plan / PLAN_FILE
        if not inner.exists():
            raise GridkitError(f"{plan}: no {PLAN_FILE} in this folder; give the folder "
                               "gridkit census sample -o wrote")
        return inner
    if not plan.exists():
        raise FileError(f"{mention(plan=str(plan))}: no such file or folder", parameter="plan",
                        file=plan)
    return plan


def read_plan(source: Path, *, given: bool) -> Plan:
    """The plan stored in ``source``; ``given`` says whether the user named it with --plan."""
    if source.suffix.lower() != ".gpkg" or PLAN_LAYER not in layers_of(source):
        if given:
            raise GridkitError(f"{source}: no {PLAN_LAYER} layer; give the PLAN folder that "
                               "gridkit census sample -o wrote")
        raise GridkitError(f"{source} has no spot-check plan ({PLAN_LAYER}): run gridkit "
                           f"census sample {source} -o PLAN first, or give `plan=PLAN`",
                           parameter="plan")
    grids = pyogrio.read_dataframe(source, layer=PLAN_LAYER, use_arrow=True)
    missing = [f for f in PLAN_FIELDS if f not in grids]
    if missing or grids.empty:
        raise GridkitError(f"{source}: layer {PLAN_LAYER} lacks {', '.join(missing) or 'rows'};"
                           " run gridkit census sample again")
    grids["BGID"] = grids["BGID"].astype(str)
    for column in ("STRATUM_GRIDS", "STRATUM_SAMPLE", "COMPONENTS", "DRAW", "SEED"):
        grids[column] = grids[column].astype(np.int64)
    counts = grids.groupby("STRATUM")["BGID"].count()
    declared = grids.groupby("STRATUM")["STRATUM_SAMPLE"].first()
    bad = counts[counts != declared.reindex(counts.index)]
    if grids["BGID"].duplicated().any() or len(bad):
        raise GridkitError(f"{source}: layer {PLAN_LAYER} was edited (grids and stratum sizes "
                           "disagree); run gridkit census sample again rather than editing it")
    strata = (pyogrio.read_dataframe(source, layer=STRATUM_LAYER, read_geometry=False)
              if STRATUM_LAYER in layers_of(source) else pd.DataFrame())
    grids = grids.sort_values("BGID", kind="stable").reset_index(drop=True)
    return Plan(grids, strata, int(grids["SEED"].iloc[0]), str(grids["PLAN_ID"].iloc[0]))
