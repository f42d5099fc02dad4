"""The parameters census import/check, sample and accuracy record in ``gridkit_run``, pinned:
generated from each step's options dataclass (gridkit.options.record), they must stay the
values the commands recorded when they were written out by hand."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from gridkit.acceptance import (
    AccuracyOptions,
    SampleOptions,
    census_accuracy_geopackage,
    census_sample_geopackage,
)
from gridkit.acceptance.design import (
    DEFAULT_CONFIDENCE,
    DEFAULT_EXPECTED,
    DEFAULT_ICC,
    DEFAULT_MARGIN,
)
from gridkit.acceptance.match import DEFAULT_SEARCH
from gridkit.components import (
    CensusCheckOptions,
    CensusImportOptions,
    check_census_geopackage,
    import_census_geopackage,
)
from gridkit.io import write_geopackage

X, Y = 624_000, 3_398_000  # EPSG:4549 metres


def _last_parameters(gpkg, command: str) -> dict:
    runs = pyogrio.read_dataframe(gpkg, layer="gridkit_run")
    return json.loads(runs.loc[runs["COMMAND"] == command, "PARAMETERS"].iloc[-1])


def test_each_step_records_the_parameters_it_always_recorded(tmp_path):
    bgids = [f"310116001001{i:03d}" for i in range(1, 5)]
    grids = gpd.GeoDataFrame({"BGID": bgids, "STREET": "310116001"},
                             geometry=[shapely.box(X + 100 * i, Y, X + 100 * (i + 1), Y + 100)
                                       for i in range(4)], crs=4549)
    gpkg = tmp_path / "out.gpkg"
    write_geopackage(gpkg, {"unit_grid": grids})
    census = tmp_path / "census.csv"
    census.write_text("设施,东,Y\n" + "".join(f"路灯,{X + 100 * i + 10 * k + 5},{Y + 50}\n"
                                            for i in range(4) for k in range(5)),
                      encoding="utf-8")
    catalog = tmp_path / "local.csv"
    catalog.write_text("code,name\n99,智慧设施\n9901,智能灯杆\n", encoding="utf-8")

    import_census_geopackage(gpkg, CensusImportOptions(
        [census], crs="EPSG:4549", map=["OBJNAME=设施"], x="东", header_row=1,
        dup_tolerance=["0.8", "0118=2"], catalog=str(catalog), extend=True,
        allow_duplicates=True))
    assert _last_parameters(gpkg, "census import") == {
        "crs": "EPSG:4549", "sheet": None, "layer": None, "header_row": 1,
        "map": {"OBJNAME": "设施", "X": "东"}, "mode": "append", "tolerance": 0.8,
        "class_tolerance": {"0118": 2.0},
        "catalog": "the national component catalog (GB/T 30428.2-2013) + catalog local.csv"}

    check_census_geopackage(gpkg, CensusCheckOptions(dup_tolerance=["1.5"], sparse_ratio=0.3))
    assert _last_parameters(gpkg, "census check") == {
        "tolerance": 1.5, "class_tolerance": {}, "sparse_ratio": 0.3, "min_expected": 20,
        "catalog": "the national component catalog (GB/T 30428.2-2013)"}

    plan = tmp_path / "plan"
    drawn = census_sample_geopackage(gpkg, SampleOptions(plan, seed=5, grids=2, minimum=1))
    assert _last_parameters(gpkg, "census sample") == {
        "plan": str(plan), "seed": 5, "plan_id": drawn["plan_id"], "expected": DEFAULT_EXPECTED,
        "margin": DEFAULT_MARGIN, "confidence": DEFAULT_CONFIDENCE, "icc": DEFAULT_ICC,
        "min_per_stratum": 1, "grids": 2}

    sheet = pd.read_csv(plan / "checklist.csv", dtype=str, encoding="utf-8-sig")
    sheet["VERDICT"] = "正确"
    sheet.to_csv(tmp_path / "checked.csv", index=False, encoding="utf-8-sig")
    census_accuracy_geopackage(gpkg, AccuracyOptions(check=tmp_path / "checked.csv", plan=plan,
                                                     target=0.9, crs="EPSG:4549"))
    assert _last_parameters(gpkg, "census accuracy") == {
        "method": "sheet", "plan": str(plan / "plan.gpkg"), "plan_id": drawn["plan_id"],
        "design": None, "target": 0.9, "completeness_target": 0.9,
        "confidence": DEFAULT_CONFIDENCE, "strict": False}

    census_accuracy_geopackage(gpkg, AccuracyOptions(
        resurvey=census, map=["OBJNAME=设施"], x="东", crs="EPSG:4549", tolerance=1.0,
        completeness_target=0, strict=True))
    assert _last_parameters(gpkg, "census accuracy") == {
        "method": "resurvey", "plan": str(gpkg), "plan_id": drawn["plan_id"], "design": None,
        "target": 0.96, "completeness_target": None, "confidence": DEFAULT_CONFIDENCE,
        "strict": True, "tolerance": 1.0, "search": DEFAULT_SEARCH, "crs": "EPSG:4549"}
