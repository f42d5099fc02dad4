"""``gridkit census sample`` as a library call: frame, design, draw, checklist, files."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import geopandas as gpd

from gridkit import __version__
from gridkit.acceptance.checklist import (
    CENSUS_COLUMNS,
    check_target,
    checklist_frame,
    plan_folder,
)
from gridkit.acceptance.design import DesignInputs, new_seed
from gridkit.acceptance.plan import (
    PLAN_LAYER,
    STRATUM_LAYER,
    Frame,
    Plan,
    make_plan,
    read_components,
    read_frame,
)
from gridkit.errors import GridkitError, InputError, mention
from gridkit.io import refuse_overwriting_inputs, run_record, run_time, write_geopackage
from gridkit.options import record
from gridkit.result import StepResult
from gridkit.store import layer_versions

COMMAND = "census sample"
STRATA_RULE = "STREET x DENSITY (all grids of a street in one stratum before gridkit group)"


def sample_geopackage(output: Path, plan_dir: Path, inputs: DesignInputs,
                      seed: int | None = None) -> dict:
    r"""Draw a spot-check plan (抽查方案) from OUT.gpkg into ``plan_dir`` and OUT.gpkg.

    Unit grids are stratified by street and density, sized by :func:`plan_design` and drawn
    with ``seed``; the plan (GeoPackage, JSON) and the field checklist (CSV, XLSX) are written
    to ``plan_dir`` together with the plan layers of OUT.gpkg, both or neither.

    Parameters
    ----------
    output : pathlib.Path
        OUT.gpkg, with unit_grid and component layers.
    plan_dir : pathlib.Path
        The folder to write (replaced only when complete).
    inputs : DesignInputs
        Expected accuracy, margin, confidence, or a fixed number of grids.
    seed : int, optional
        The random seed (0 to 2^63-1; a new one when None, recorded in the plan).

    Returns
    -------
    dict
        The figures ``--json`` prints: files, plan id, seed, design, sampled grids, checklist
        components.

    Raises
    ------
    GridkitError
        When OUT.gpkg is missing or lacks its layers, ``plan_dir`` is taken by something else, or
        an input is out of range.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, shapely, tempfile
    >>> from gridkit.components import ImportOptions, UnitGrids, import_census
    >>> from gridkit.io import ArrowLayer, write_geopackage
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> x, y = 624_000, 3_398_000  # EPSG:4549 metres
    >>> grids = gpd.GeoDataFrame(
    ...     {"BGID": ["310116001001001", "310116001001002"], "STREET": "310116001"},
    ...     geometry=[shapely.box(x, y, x + 100, y + 100),
    ...               shapely.box(x + 100, y, x + 200, y + 100)], crs=4549)
    >>> _ = (folder / "census.csv").write_text(
    ...     "部件名称,X,Y\n路灯,624050,3398050\n垃圾箱,624150,3398050\n", encoding="utf-8")
    >>> census = import_census([folder / "census.csv"], UnitGrids(grids),
    ...                        ImportOptions(crs="EPSG:4549"))
    >>> write_geopackage(folder / "out.gpkg", {"unit_grid": grids, "component": ArrowLayer(
    ...     census.component_table(), "EPSG:4549", census.geometry_type)})
    >>> plan = sample_geopackage(folder / "out.gpkg", folder / "plan",
    ...                          DesignInputs(grids=1, minimum=1), seed=7)
    >>> len(plan["sampled_grids"]), sorted(plan["files"])
    (1, ['checklist.csv', 'checklist.xlsx', 'plan.gpkg', 'plan.json'])
    """
    started = time.perf_counter()
    output, plan_dir = Path(output), Path(plan_dir)
    if not output.exists():
        raise GridkitError(f"{output}: no such file; run gridkit partition and gridkit census "
                           "import first")
    refuse_overwriting_inputs(plan_dir, [output])
    check_target(plan_dir)
    check_design(inputs, seed)
    drawn = draw_sample(read_frame(output), partial(read_components, output), inputs, seed)
    plan, checklist = drawn.plan, drawn.checklist
    assert plan is not None and checklist is not None  # draw_sample sets both
    metadata = {
        "gridkit": __version__, "created": run_time().isoformat(timespec="seconds"),
        "source": str(output), "plan_id": plan.plan_id, "seed": plan.seed,
        "strata_rule": STRATA_RULE, "design": drawn.figures["design"],
        "strata": drawn.figures["strata"],
        "grids": plan.bgids,
        # The version of each layer of OUT the plan was drawn from (gridkit.store), so a
        # later change to the census shows the plan is stale.
        "census_state": layer_versions(output),
    }
    from gridkit.acceptance.api import SampleOptions

    parameters = record(SampleOptions(
        plan_dir, seed=plan.seed, margin=inputs.margin, confidence=inputs.confidence,
        expected=inputs.expected, icc=inputs.icc, minimum=inputs.minimum, grids=inputs.grids),
        plan_id=plan.plan_id)
    with plan_folder(plan_dir, plan, checklist, metadata) as files:
        write_geopackage(output, {PLAN_LAYER: plan.grids, STRATUM_LAYER: plan.strata},
                         run_record(COMMAND, parameters, [output]))
    return {"output": str(output), "plan": str(plan_dir), "files": files, **drawn.figures,
            "seconds": round(time.perf_counter() - started, 2)}


def check_design(inputs: DesignInputs, seed: int | None) -> None:
    """Refuse design inputs out of range and a seed outside 0 to 2^63-1."""
    inputs.validate()
    if seed is not None and not 0 <= seed < 2**63:
        raise InputError(f"{mention(seed=seed)}: give a whole number from 0 to 2^63-1",
                         parameter="seed")


@dataclass
class SpotCheckPlan(StepResult):
    """A drawn spot-check plan (抽查方案): the sampled grids and the field checklist.

    Parameters
    ----------
    figures : dict
        plan_id, seed, strata_rule, design, sampled_grids, checklist_components,
        components_outside_grids, strata: what ``gridkit census sample --json`` prints
        but the files and the seconds.
    qa : geopandas.GeoDataFrame
        Empty: drawing a plan finds no issues.
    plan : Plan
        The sampled grids (``plan.grids``: the ``spotcheck_plan`` layer) and strata
        (``plan.strata``: ``spotcheck_stratum``), seed and plan id.
    checklist : geopandas.GeoDataFrame
        One row per census component of the sampled grids with an empty VERDICT (NO, BGID,
        STREET, COMMUNITY, OBJCODE, OBJNAME, MAJOR, MINOR, ..., LON, LAT, VERDICT, NOTE).

    Examples
    --------
    >>> SpotCheckPlan({"seed": 7}).checklist is None
    True
    """

    plan: Plan | None = None
    checklist: gpd.GeoDataFrame | None = None


def draw_sample(frame: Frame, components_of: Callable[[list[str], list[str]], gpd.GeoDataFrame],
                inputs: DesignInputs, seed: int | None) -> SpotCheckPlan:
    """Size, draw and list the plan of ``frame``.

    ``components_of(bgids, columns)`` gives the census components of the drawn grids.
    """
    check_design(inputs, seed)
    seed = new_seed() if seed is None else seed
    plan = make_plan(frame, inputs, seed)
    assert plan.design is not None  # a plan just drawn knows its design
    design = plan.design.as_dict()
    design.update(resolution(plan.design))
    checklist = checklist_frame(components_of(plan.bgids, CENSUS_COLUMNS), plan)
    return SpotCheckPlan({
        "plan_id": plan.plan_id, "seed": seed, "strata_rule": STRATA_RULE,
        "design": design, "sampled_grids": plan.bgids,
        "checklist_components": len(checklist),
        "components_outside_grids": frame.unplaced,
        "strata": plan.strata.to_dict(orient="records"),
    }, plan=plan, checklist=checklist)


def resolution(design) -> dict:
    """What the plan can tell apart, if the census accuracy is near the expected value.

    A census this far below the target fails, and this far above passes, in 95% of draws.
    """
    se = design.margin / design.z
    return {"fails_with_95pct_below": round(design.inputs.expected - 1.645 * se, 4),
            "passes_with_95pct_above": round(design.inputs.expected + 1.645 * se, 4)}
