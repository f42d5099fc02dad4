"""``gridkit census accuracy`` as a library call: plan, census, verdicts, figures, layers."""

from __future__ import annotations

import time
from pathlib import Path

from gridkit.acceptance.census import read_census
from gridkit.acceptance.figures import Targets, compute
from gridkit.acceptance.layers import (
    RESULT_LAYER,
    REWORK_LAYER,
    SUMMARY_LAYER,
    result_layer,
    rework_layer,
    summary_layer,
)
from gridkit.acceptance.plan import PLAN_LAYER, plan_source, read_plan
from gridkit.acceptance.resurvey import ResurveyOptions, read_resurvey
from gridkit.acceptance.sheet import SheetOptions, read_verdict_sheet
from gridkit.acceptance.verdicts import CODE, CORRECT, VERDICTS
from gridkit.codes.catalog import Catalog, national_catalog
from gridkit.errors import FileError, InputError
from gridkit.io import layers_of, run_record, write_geopackage

COMMAND = "census accuracy"


def accuracy_geopackage(output: Path, *, check: Path | None = None,
                        resurvey: Path | None = None, plan: Path | None = None,
                        targets: Targets | None = None, catalog: Catalog | None = None,
                        sheet_options: SheetOptions | None = None,
                        resurvey_options: ResurveyOptions | None = None) -> dict:
    """Judge the census of OUT.gpkg on a verdict sheet or a re-survey; write the layers and
    return the report (its "verdict" is "pass" or "fail")."""
    started = time.perf_counter()
    output = Path(output)
    targets = targets or Targets()
    if (check is None) == (resurvey is None):
        raise InputError("give either `check=SHEET` (a filled-in checklist) or "
                         "`resurvey=FILE` (an independent re-survey of the sampled grids)",
                         parameter="check")
    _validate(targets)
    if not output.exists():
        raise FileError(f"{output}: no such file", file=output)
    catalog = catalog or national_catalog("component")
    source = plan_source(output, plan)
    assumed = None
    if plan is None and check is not None and PLAN_LAYER not in layers_of(output):
        # A joint check sheet without a gridkit plan: its grids as a simple random sample.
        from gridkit.acceptance.sheetplan import ASSUMED_DESIGN, plan_from_sheet

        the_plan, assumed = plan_from_sheet(output, Path(check), sheet_options), ASSUMED_DESIGN
    else:
        the_plan = read_plan(source, given=plan is not None)
    census = read_census(output, the_plan)
    if check is not None:
        verdicts, facts = read_verdict_sheet(Path(check), the_plan, census, catalog,
                                             sheet_options or SheetOptions())
        method, inputs = "sheet", [output, check]
        if assumed:
            from gridkit.acceptance.sheetplan import METHOD

            method = METHOD
    else:
        verdicts, facts = read_resurvey(Path(resurvey), output, the_plan, census, catalog,
                                        resurvey_options or ResurveyOptions())
        method, inputs = "resurvey", [output, resurvey]
    names = {e.code: e.name for e in catalog.minors()}
    figures = compute(the_plan, verdicts, targets, names)
    rework = rework_layer(the_plan, verdicts, census.crs)
    parameters = {"method": method, "plan": "assumed" if assumed else str(source),
                  "plan_id": the_plan.plan_id, "design": assumed,
                  "target": targets.accuracy, "completeness_target": targets.completeness,
                  "confidence": targets.confidence, "strict": targets.strict,
                  **({"tolerance": resurvey_options.tolerance, "search": resurvey_options.search,
                      "crs": resurvey_options.crs} if resurvey_options and resurvey else {})}
    write_geopackage(output, {
        RESULT_LAYER: result_layer(the_plan, figures, method),
        SUMMARY_LAYER: summary_layer(figures),
        REWORK_LAYER: rework,
    }, run_record(COMMAND, parameters, [p for p in inputs if p is not None]))
    wrong = verdicts.verdict != CODE[CORRECT]
    return {
        "output": str(output), "method": method, "input": facts,
        "plan": {"source": None if assumed else str(source), "plan_id": the_plan.plan_id,
                 "seed": the_plan.seed, "grids": len(the_plan.grids),
                 **({"design": assumed} if assumed else {})},
        "target": targets.accuracy, "completeness_target": targets.completeness,
        "confidence": targets.confidence, "strict": targets.strict,
        "verdict": figures.verdict,
        "overall": figures.overall, "by_street": figures.streets, "by_class": figures.classes,
        "by_grid": figures.grids,
        "rework": {
            "grids": figures.rework_grids,
            "components": [
                {"BGID": row.BGID, "OBJCODE": row.OBJCODE, "OBJNAME": row.OBJNAME,
                 "VERDICT": row.VERDICT, "SRCROW": int(row.SRCROW)}
                for row in rework.itertuples(index=False)],
            "counts": {VERDICTS[v]: int((verdicts.verdict[wrong] == v).sum())
                       for v in range(1, len(VERDICTS))},
        },
        "layers": [RESULT_LAYER, SUMMARY_LAYER, REWORK_LAYER],
        "seconds": round(time.perf_counter() - started, 2),
    }


def _validate(targets: Targets) -> None:
    if not 0 < targets.accuracy <= 1:
        raise InputError(f"`accuracy={targets.accuracy:g}`: give a share between 0 and 1, "
                         "e.g. 0.96", parameter="accuracy")
    if targets.completeness is not None and not 0 <= targets.completeness <= 1:
        raise InputError(f"`completeness={targets.completeness:g}`: give a share "
                         "between 0 and 1 (0 to not judge completeness)",
                         parameter="completeness")
    if not 0.5 <= targets.confidence < 1:
        raise InputError(f"`confidence={targets.confidence:g}`: give a level between 0.5 "
                         "and 1, e.g. 0.95", parameter="confidence")
