"""An independent re-survey of the sampled grids turned into verdicts.

The re-survey file is read exactly as ``gridkit census import`` reads a census file (same
formats, encodings, column names, CRSs, class names), located in the unit grids of OUT.gpkg,
and matched one-to-one to the census components of the sampled grids (:mod:`.match`).
Re-surveyed points outside the sampled grids but within ``search`` metres of one take part in
the matching (GPS noise puts border components over the line); others are ignored and counted.
Rows without a usable position or class stop the run with their row numbers: silently dropping
them would turn census components into ``not_found``.

Attributes are not compared: ``wrong_attribute`` needs a verdict sheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from gridkit.acceptance.census import Census
from gridkit.acceptance.match import DEFAULT_SEARCH, DEFAULT_TOLERANCE, match
from gridkit.acceptance.plan import Plan
from gridkit.acceptance.sheet import Problem, fail
from gridkit.acceptance.sources import read_table
from gridkit.acceptance.tally import Verdicts
from gridkit.acceptance.verdicts import CODE, CORRECT, MISSING, VERDICTS, WRONG_POSITION
from gridkit.codes.catalog import Catalog
from gridkit.errors import InputError

# Problems that make a re-survey row unusable; others (a bad date, state) do not matter here.
_BLOCKING = ("bad-row", "no-coordinates", "bad-coordinates", "unknown-class")


@dataclass
class ResurveyOptions:
    crs: str | None = None
    sheet: str | None = None
    layer: str | None = None
    maps: dict[str, str] = field(default_factory=dict)
    tolerance: float = DEFAULT_TOLERANCE
    search: float = DEFAULT_SEARCH

    def validate(self) -> None:
        if not self.tolerance > 0:
            raise InputError(f"`tolerance={self.tolerance:g}`: give a distance in metres "
                             "above 0 (default 5)", parameter="tolerance")
        if not self.search >= self.tolerance:
            raise InputError(f"`search={self.search:g}`: give a distance of at least "
                             f"`tolerance` ({self.tolerance:g} m)", parameter="search")


def read_resurvey(path: Path, output: Path, plan: Plan, census: Census, catalog: Catalog,
                  options: ResurveyOptions) -> tuple[Verdicts, dict]:
    """Verdicts from matching the re-survey at ``path`` to the census; (verdicts, facts)."""
    from gridkit.components.gpkg import load_grids
    from gridkit.components.prepare import TablePreparer
    from gridkit.records.coords import parse_source_crs

    options.validate()
    grids = load_grids(output)
    crs = parse_source_crs(options.crs) if options.crs else None
    preparer = TablePreparer(grids, catalog, crs=crs, maps=options.maps)
    source = read_table(path, sheet=options.sheet, layer=options.layer)
    prepared = preparer.prepare(source)
    rows = source.rows
    problems = [Problem(int(b.row or 0), b.message) for b in source.bad_rows]
    first = prepared.problems.first
    from gridkit.records.problems import RULES

    blocking = np.flatnonzero(np.isin(first, [RULES.index(r) for r in _BLOCKING]))
    for position, reason in zip(blocking, prepared.problems.reasons(blocking), strict=True):
        problems.append(Problem(int(rows[position]), reason))
    if problems:
        raise fail(path, problems, "correct these rows of the re-survey (or name columns with "
                                   "`maps` and the CRS with `crs`) and run again")
    usable = np.isfinite(prepared.x) & np.isfinite(prepared.y)
    klass = np.array([preparer.class_codes[k] if k >= 0 else "" for k in prepared.klass],
                     dtype=object)
    plan_index = {b: i for i, b in enumerate(plan.bgids)}
    in_plan = np.array([plan_index.get(grids.bgid[g], -1) if g >= 0 else -1
                        for g in prepared.grid], dtype=np.int64)
    near = usable & (in_plan < 0)
    if near.any():
        tree = shapely.STRtree(np.asarray(plan.grids.geometry.array, dtype=object))
        points = shapely.points(prepared.x[near], prepared.y[near])
        hit, _ = tree.query(points, predicate="dwithin", distance=options.search)
        close = np.zeros(int(near.sum()), dtype=bool)
        close[hit] = True
        near[np.flatnonzero(near)] = close
    used = usable & ((in_plan >= 0) | near)
    field_at = np.flatnonzero(used)
    result = match(np.column_stack([census.x, census.y]), census.klass,
                   np.column_stack([prepared.x[field_at], prepared.y[field_at]]),
                   klass[field_at], tolerance=options.tolerance, search=options.search)
    extra = field_at[(result.field_partner < 0) & (in_plan[field_at] >= 0)]
    n = len(census)
    verdicts = Verdicts(
        grid=np.concatenate([census.grid, in_plan[extra]]),
        klass=np.concatenate([census.klass, klass[extra]]),
        verdict=np.concatenate([result.verdict, np.full(len(extra), CODE[MISSING])]),
        objcode=np.concatenate([census.objcode, np.full(len(extra), "", dtype=object)]),
        objname=np.concatenate([census.objname, np.array(
            [catalog.name_of(c) or c for c in klass[extra]], dtype=object)]),
        x=np.concatenate([census.x, prepared.x[extra]]),
        y=np.concatenate([census.y, prepared.y[extra]]),
        srcrow=np.concatenate([np.where(result.partner >= 0,
                                        rows[field_at][np.maximum(result.partner, 0)], -1)
                               if n else np.empty(0, np.int64),
                               rows[extra]]).astype(np.int64),
        note=np.full(n + len(extra), "", dtype=object),
        distance=np.concatenate([result.distance, np.full(len(extra), np.nan)]),
    )
    facts = {
        "file": str(path), "rows": int(len(rows)), "crs": prepared.crs,
        "tolerance_m": options.tolerance, "search_m": options.search,
        "points_in_sampled_grids": int((in_plan >= 0).sum()),
        "points_near_sampled_grids": int(near.sum()),
        "points_ignored_elsewhere": int((usable & ~used).sum()),
        "matched": {VERDICTS[c]: int((result.verdict == c).sum())
                    for c in range(len(VERDICTS) - 1)},
        "unmatched_field_points": len(extra),
        **position_check(result, options.tolerance),
    }
    return verdicts, facts


def position_check(result, tolerance: float) -> dict:
    """How far apart the two surveys put the same components, and the tolerance that fits.

    The distance between two independent fixes of one point, each with error sigma per axis,
    follows a Rayleigh law of scale sigma * sqrt(2), whose median is 1.1774 times the scale;
    99.9% of distances lie within 3.72 scales. A tolerance below that turns correct
    components into wrong_position ones, so the report names the tolerance the data need.
    """
    same = (result.verdict == CODE[CORRECT]) | (result.verdict == CODE[WRONG_POSITION])
    distances = result.distance[same]
    if distances.size < 20:
        return {}
    scale = float(np.median(distances)) / 1.1774
    needed = 3.72 * scale
    facts = {"position_difference_median_m": round(float(np.median(distances)), 2)}
    if needed > tolerance:
        facts["warning"] = (f"the surveys' positions of the same components differ by "
                            f"{np.median(distances):.1f} m in the median: --tolerance "
                            f"{tolerance:g} m is too tight for that and counts correct "
                            f"components as wrong_position; consider --tolerance "
                            f"{np.ceil(needed):.0f}")
    return facts
