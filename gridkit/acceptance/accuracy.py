"""``gridkit census accuracy`` as a library call: plan, census, verdicts, figures and layers.

The layers it writes into OUT.gpkg:

``spotcheck_result`` (Polygon, one row per sampled grid): BGID, STREET, COMMUNITY, DENSITY,
STRATUM, WEIGHT (grids it stands for), CHECKED (census components checked), CORRECT,
WRONG_CLASS, WRONG_POSITION, WRONG_ATTRIBUTE, NOT_FOUND, MISSING (counts), ACCURACY, ACC_LOW,
ACC_HIGH, COMPLETENESS, COMP_LOW, COMP_HIGH (the grid's own figures and exact binomial
intervals), VERDICT (pass / fail / empty), REWORK (1 when the grid is to be reworked),
METHOD (sheet / resurvey), PLAN_ID.

``spotcheck_summary`` (no geometry): LEVEL (overall / street / class), KEY (street or class
code), NAME, GRIDS, CHECKED, CORRECT, NOT_FOUND, MISSING, ACCURACY, ACC_LOW, ACC_HIGH,
COMPLETENESS, COMP_LOW, COMP_HIGH, DEFF (design effect of the accuracy), VERDICT.

``spotcheck_rework`` (Point, one row per component with a verdict other than correct): BGID,
OBJCODE (empty for missing ones), OBJNAME, CLASS, VERDICT, VERDICT_ZH, SRCROW (row of the
check or re-survey file), DISTANCE (census to re-survey position, m), NOTE.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridkit.acceptance.checklist import SHEET
from gridkit.acceptance.estimate import AccuracyFigures, Targets, accuracy_figures
from gridkit.acceptance.evidence import (
    ASSUMED_DESIGN,
    ASSUMED_METHOD,
    ResurveyOptions,
    SheetOptions,
    plan_from_sheet,
    read_resurvey,
    read_table,
    read_verdict_sheet,
)
from gridkit.acceptance.plan import (
    PLAN_LAYER,
    Census,
    Plan,
    plan_source,
    read_census,
    read_plan,
)
from gridkit.acceptance.verdicts import CODE, CORRECT, LABELS_ZH, VERDICTS, Verdicts
from gridkit.codes.catalog import Catalog, national_catalog
from gridkit.components.locate import UnitGrids
from gridkit.errors import FileError, InputError
from gridkit.io import layers_of, run_record, write_geopackage
from gridkit.options import record
from gridkit.result import StepResult
from gridkit.sources.tables import SourceTable

COMMAND = "census accuracy"
RESULT_LAYER = "spotcheck_result"
SUMMARY_LAYER = "spotcheck_summary"
REWORK_LAYER = "spotcheck_rework"


def accuracy_geopackage(output: Path, *, check: Path | None = None,
                        resurvey: Path | None = None, plan: Path | None = None,
                        targets: Targets | None = None, catalog: Catalog | None = None,
                        sheet_options: SheetOptions | None = None,
                        resurvey_options: ResurveyOptions | None = None) -> dict:
    r"""Judge the census of OUT.gpkg on a filled-in checklist or an independent re-survey.

    The verdicts of the sampled grids give the census accuracy and completeness, estimated
    for the whole district with their confidence intervals (stratified ratio estimators over
    whole grids), per street and per class; the census passes when the estimates reach the
    targets (96% by default). The result, summary and rework layers are written into OUT.gpkg.

    Parameters
    ----------
    output : pathlib.Path
        OUT.gpkg, with the plan :func:`sample_geopackage` drew.
    check : pathlib.Path, optional
        The filled-in checklist (CSV or XLSX, Chinese or English verdicts; rows added for
        components found in the field but missing from the census).
    resurvey : pathlib.Path, optional
        An independent re-survey of the sampled grids (any census file), matched to the census
        by :func:`match`; give ``check`` or ``resurvey``, not both.
    plan : pathlib.Path, optional
        The plan folder (default: the plan held in OUT.gpkg).
    targets : Targets, optional
        Accuracy and completeness targets, confidence, strictness.
    catalog : Catalog, optional
        The component classes (default: the national catalog).
    sheet_options : gridkit.acceptance.evidence.SheetOptions, optional
        The checklist's sheet and the CRS of added rows' coordinates.
    resurvey_options : gridkit.acceptance.evidence.ResurveyOptions, optional
        The re-survey's CRS, sheet/layer, column maps and matching distances.

    Returns
    -------
    dict
        The report ``--json`` prints: ``verdict`` (``pass``/``fail``), ``overall``, ``by_street``
        and ``by_class`` figures with their intervals, the rework grids.

    Raises
    ------
    GridkitError
        When both or neither of ``check``/``resurvey`` are given, the plan is missing, or the
        sheet does not cover every census component of the sampled grids.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, pathlib, shapely, tempfile
    >>> from gridkit.components import ImportOptions, UnitGrids, import_census
    >>> from gridkit.io import ArrowLayer, write_geopackage
    >>> from gridkit.acceptance import DesignInputs, sample_geopackage
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> x, y = 624_000, 3_398_000  # EPSG:4549 metres
    >>> grids = gpd.GeoDataFrame(
    ...     {"BGID": [f"310116001001{i + 1:03d}" for i in range(4)], "STREET": "310116001"},
    ...     geometry=[shapely.box(x + 100 * i, y, x + 100 * (i + 1), y + 100) for i in range(4)],
    ...     crs=4549)
    >>> lamps = "".join(f"路灯,{x + 100 * i + 10 * k + 5},{y + 50}\n"
    ...                 for i in range(4) for k in range(5))
    >>> _ = (folder / "census.csv").write_text("部件名称,X,Y\n" + lamps, encoding="utf-8")
    >>> census = import_census([folder / "census.csv"], UnitGrids(grids),
    ...                        ImportOptions(crs="EPSG:4549"))
    >>> write_geopackage(folder / "out.gpkg", {"unit_grid": grids, "component": ArrowLayer(
    ...     census.component_table(), "EPSG:4549", census.geometry_type)})
    >>> _ = sample_geopackage(folder / "out.gpkg", folder / "plan", DesignInputs(grids=2), seed=1)
    >>> sheet = pd.read_csv(folder / "plan" / "checklist.csv", dtype=str, encoding="utf-8-sig")
    >>> sheet["VERDICT"] = "正确"
    >>> sheet.to_csv(folder / "checked.csv", index=False, encoding="utf-8-sig")
    >>> report = accuracy_geopackage(folder / "out.gpkg", check=folder / "checked.csv",
    ...                              plan=folder / "plan")
    >>> report["verdict"], report["overall"]["checked"]
    ('pass', 10)
    """
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
        the_plan, assumed = plan_from_sheet(output, Path(check), sheet_options), ASSUMED_DESIGN
    else:
        the_plan = read_plan(source, given=plan is not None)
    census = read_census(output, the_plan)
    if check is not None:
        evidence, inputs = read_table(Path(check), sheet=(sheet_options or SheetOptions()).sheet,
                                      preferred_sheet=SHEET), [output, check]
    else:
        assert resurvey is not None  # exactly one of check/resurvey, refused above otherwise
        options = resurvey_options or ResurveyOptions()
        options.validate()
        evidence = read_table(Path(resurvey), sheet=options.sheet, layer=options.layer)
        inputs = [output, resurvey]
    judged = judge_census(the_plan, census, catalog, targets,
                          sheet=evidence if check is not None else None,
                          resurvey=evidence if check is None else None,
                          grids=output, sheet_options=sheet_options,
                          resurvey_options=resurvey_options,
                          method=ASSUMED_METHOD if assumed else None)
    f = judged.figures
    from gridkit.acceptance.api import AccuracyOptions

    # The options' record (target, confidence, strict), with what this run resolved.
    parameters = record(
        AccuracyOptions(target=targets.accuracy, confidence=targets.confidence,
                        strict=targets.strict),
        method=f["method"], plan="assumed" if assumed else str(source),
        plan_id=the_plan.plan_id, design=assumed, completeness_target=targets.completeness,
        **({"tolerance": resurvey_options.tolerance, "search": resurvey_options.search,
            "crs": resurvey_options.crs} if resurvey_options and resurvey else {}))
    write_geopackage(output, judged.layers(), run_record(COMMAND, parameters,
                                                         [p for p in inputs if p is not None]))
    return {"output": str(output), "method": f["method"], "input": f["input"],
            "plan": {"source": None if assumed else str(source), **f["plan"],
                     **({"design": assumed} if assumed else {})},
            **{k: v for k, v in f.items() if k not in ("method", "input", "plan")},
            "seconds": round(time.perf_counter() - started, 2)}


@dataclass
class SpotCheckAccuracy(StepResult):
    """The census judged on a spot check: figures and the three spot-check layers.

    Parameters
    ----------
    figures : dict
        What ``gridkit census accuracy --json`` prints but the output, the plan's source
        and the seconds: method, input, plan (plan_id, seed, grids), targets, ``verdict``
        (``pass``/``fail``), overall, by_street, by_class, by_grid, rework, layers.
    qa : geopandas.GeoDataFrame
        Empty: the verdicts are in the layers below.
    result : geopandas.GeoDataFrame
        ``spotcheck_result``: one row per sampled grid with its counts and figures.
    summary : pandas.DataFrame
        ``spotcheck_summary``: overall, per street and per class, with intervals.
    rework : geopandas.GeoDataFrame
        ``spotcheck_rework``: every component not found correct, with its verdict.

    Examples
    --------
    >>> SpotCheckAccuracy({"verdict": "pass"})["verdict"]
    'pass'
    """

    result: gpd.GeoDataFrame | None = None
    summary: pd.DataFrame | None = None
    rework: gpd.GeoDataFrame | None = None

    def layers(self) -> dict[str, pd.DataFrame]:
        """The layers as :func:`gridkit.io.write_geopackage` takes them.

        Returns
        -------
        dict
            ``spotcheck_result``, ``spotcheck_summary`` and ``spotcheck_rework``.
        """
        return {RESULT_LAYER: self.result, SUMMARY_LAYER: self.summary,
                REWORK_LAYER: self.rework}


def judge_census(plan: Plan, census: Census, catalog: Catalog | None = None,
                 targets: Targets | None = None, *, sheet: SourceTable | None = None,
                 resurvey: SourceTable | None = None, grids: Path | UnitGrids | None = None,
                 sheet_options: SheetOptions | None = None,
                 resurvey_options: ResurveyOptions | None = None,
                 method: str | None = None) -> SpotCheckAccuracy:
    """Judge ``census`` on a read verdict ``sheet`` or ``resurvey`` of the ``plan``'s grids.

    ``grids`` (the unit grids, or their GeoPackage) locate a re-survey's points; ``method``
    overrides the method recorded (a sheet judged on an assumed plan).
    """
    targets = targets or Targets()
    _validate(targets)
    catalog = catalog or national_catalog("component")
    if (sheet is None) == (resurvey is None):
        raise InputError("give either `check=SHEET` (a filled-in checklist) or "
                         "`resurvey=FILE` (an independent re-survey of the sampled grids)",
                         parameter="check")
    if sheet is not None:
        verdicts, facts = read_verdict_sheet(sheet, plan, census, catalog,
                                             sheet_options or SheetOptions())
        method = method or "sheet"
    else:
        assert resurvey is not None and grids is not None  # a re-survey is located in grids
        verdicts, facts = read_resurvey(resurvey, grids, plan, census, catalog,
                                        resurvey_options or ResurveyOptions())
        method = method or "resurvey"
    names = {e.code: e.name for e in catalog.minors()}
    figures = accuracy_figures(plan, verdicts, targets, names)
    rework = rework_layer(plan, verdicts, census.crs)
    wrong = verdicts.verdict != CODE[CORRECT]
    return SpotCheckAccuracy({
        "method": method, "input": facts,
        "plan": {"plan_id": plan.plan_id, "seed": plan.seed, "grids": len(plan.grids)},
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
    }, result=result_layer(plan, figures, method), summary=summary_layer(figures),
        rework=rework)


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


def result_layer(plan: Plan, figures: AccuracyFigures, method: str) -> gpd.GeoDataFrame:
    """The ``spotcheck_result`` layer: one row per sampled grid with its counts and figures."""
    grids = pd.DataFrame(figures.grids)
    frame = plan.grids[["BGID", "STREET", "COMMUNITY", "DENSITY", "STRATUM", "WEIGHT"]].copy()
    frame["CHECKED"] = grids["checked"].to_numpy()
    for verdict in VERDICTS:
        frame[verdict.upper()] = grids[verdict].to_numpy()
    for field, key in (("ACCURACY", "accuracy"), ("ACC_LOW", "accuracy_low"),
                       ("ACC_HIGH", "accuracy_high"), ("COMPLETENESS", "completeness"),
                       ("COMP_LOW", "completeness_low"), ("COMP_HIGH", "completeness_high")):
        frame[field] = grids[key].astype(float).to_numpy()
    frame["VERDICT"] = grids["verdict"].to_numpy()
    frame["REWORK"] = (grids["verdict"] == "fail").astype(np.int32).to_numpy()
    frame["METHOD"] = method
    frame["PLAN_ID"] = plan.plan_id
    return gpd.GeoDataFrame(frame, geometry=plan.grids.geometry.to_numpy(), crs=plan.grids.crs)


def summary_layer(figures: AccuracyFigures) -> pd.DataFrame:
    """The ``spotcheck_summary`` table: overall, per street and per class, with intervals."""
    rows = [("overall", "", "", figures.overall)]
    rows += [("street", s["street"], "", s) for s in figures.streets]
    rows += [("class", c["class"], c["name"], c) for c in figures.classes]
    return pd.DataFrame([{
        "LEVEL": level, "KEY": key, "NAME": name, "GRIDS": f["grids"], "CHECKED": f["checked"],
        "CORRECT": f["correct"], "NOT_FOUND": f["not_found"], "MISSING": f["missing"],
        "ACCURACY": f["accuracy"]["estimate"], "ACC_LOW": f["accuracy"]["low"],
        "ACC_HIGH": f["accuracy"]["high"], "COMPLETENESS": f["completeness"]["estimate"],
        "COMP_LOW": f["completeness"]["low"], "COMP_HIGH": f["completeness"]["high"],
        "DEFF": f["accuracy"]["design_effect"], "VERDICT": f["verdict"],
    } for level, key, name, f in rows]).astype({"ACCURACY": float, "ACC_LOW": float,
                                                 "ACC_HIGH": float, "COMPLETENESS": float,
                                                 "COMP_LOW": float, "COMP_HIGH": float,
                                                 "DEFF": float})


def rework_layer(plan: Plan, verdicts: Verdicts, crs) -> gpd.GeoDataFrame:
    """The ``spotcheck_rework`` layer: every component not found correct, with its verdict."""
    wrong = np.flatnonzero(verdicts.verdict != CODE[CORRECT])
    names = [VERDICTS[v] for v in verdicts.verdict[wrong]]
    frame = pd.DataFrame({
        "BGID": [plan.bgids[g] for g in verdicts.grid[wrong]],
        "OBJCODE": verdicts.objcode[wrong].astype(str),
        "OBJNAME": verdicts.objname[wrong].astype(str),
        "CLASS": verdicts.klass[wrong].astype(str),
        "VERDICT": names, "VERDICT_ZH": [LABELS_ZH[v] for v in names],
        "SRCROW": verdicts.srcrow[wrong].astype(np.int64),
        "DISTANCE": np.round(verdicts.distance[wrong], 2),
        "NOTE": verdicts.note[wrong].astype(str),
    })
    x, y = verdicts.x[wrong], verdicts.y[wrong]
    points = shapely.points(x, y)
    points[~(np.isfinite(x) & np.isfinite(y))] = None
    return gpd.GeoDataFrame(frame, geometry=points, crs=crs).sort_values(
        ["BGID", "VERDICT", "OBJCODE"], kind="stable").reset_index(drop=True)
