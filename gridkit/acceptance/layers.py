"""The layers ``gridkit census accuracy`` writes into OUT.gpkg.

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

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridkit.acceptance.figures import Figures
from gridkit.acceptance.plan import Plan
from gridkit.acceptance.tally import Verdicts
from gridkit.acceptance.verdicts import CODE, CORRECT, LABELS_ZH, VERDICTS

RESULT_LAYER = "spotcheck_result"
SUMMARY_LAYER = "spotcheck_summary"
REWORK_LAYER = "spotcheck_rework"


def result_layer(plan: Plan, figures: Figures, method: str) -> gpd.GeoDataFrame:
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


def summary_layer(figures: Figures) -> pd.DataFrame:
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
