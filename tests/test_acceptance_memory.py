"""census_sample / census_accuracy in memory draw and judge exactly what the GeoPackage
functions (the commands) do on the same census, which they wrap."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gridkit import acceptance
from gridkit.acceptance import AccuracyOptions, SampleOptions, census_accuracy, census_sample
from gridkit.components import ImportOptions, UnitGrids, import_census
from gridkit.errors import GridkitError
from gridkit.io import ArrowLayer, write_geopackage

X, Y = 624_000, 3_398_000  # EPSG:4549 metres


@pytest.fixture
def district(tmp_path):
    """Twelve unit grids in two streets, 4-9 lamps and bins each, imported as the census."""
    bgids = [f"31011600{s}001{g:03d}" for s in (1, 2) for g in range(1, 7)]
    grids = gpd.GeoDataFrame(
        {"BGID": bgids, "STREET": [b[:9] for b in bgids],
         "DENSITY": ["dense", "sparse"] * 6},
        geometry=[shapely.box(X + 100 * i, Y, X + 100 * (i + 1), Y + 100)
                  for i in range(len(bgids))], crs=4549)
    rng = np.random.default_rng(3)
    rows = [f"{name},{X + 100 * i + rng.uniform(5, 95):.2f},{Y + rng.uniform(5, 95):.2f}"
            for i in range(len(bgids)) for name in ["路灯", "垃圾箱"] * int(rng.integers(2, 5))]
    (tmp_path / "census.csv").write_text("部件名称,X,Y\n" + "\n".join(rows) + "\n",
                                         encoding="utf-8")
    census = import_census([tmp_path / "census.csv"], UnitGrids(grids),
                           ImportOptions(crs="EPSG:4549"))
    table = census.component_table()
    gpkg = tmp_path / "out.gpkg"
    write_geopackage(gpkg, {"unit_grid": grids, "component": ArrowLayer(
        table, "EPSG:4549", census.geometry_type)})
    return gpkg, grids, table


def _figures(figures: dict) -> dict:
    return {k: v for k, v in figures.items() if k not in ("output", "plan", "files", "seconds")}


def test_in_memory_plan_and_verdict_are_the_commands(district, tmp_path):
    gpkg, grids, table = district
    options = SampleOptions(tmp_path / "plan", seed=11, grids=6, minimum=1)
    on_file = acceptance.census_sample_geopackage(gpkg, options)
    drawn = census_sample(grids, table, options)
    assert _figures(drawn.figures) == _figures(on_file.figures)
    assert drawn["sampled_grids"] == on_file["sampled_grids"] and len(drawn["sampled_grids"]) == 6
    written = pyogrio.read_dataframe(tmp_path / "plan" / "plan.gpkg",
                                     layer="spotcheck_checklist")
    assert len(drawn.checklist) == len(written) == on_file["checklist_components"] > 0
    assert drawn.checklist["OBJCODE"].tolist() == written["OBJCODE"].tolist()
    assert drawn.plan.grids["BGID"].tolist() == pyogrio.read_dataframe(
        gpkg, layer="spotcheck_plan")["BGID"].tolist()
    # The same census as a GeoDataFrame draws the same plan.
    frame = pyogrio.read_dataframe(gpkg, layer="component")
    assert census_sample(grids, frame, options)["sampled_grids"] == drawn["sampled_grids"]

    # Every fifth component was not where the census puts it.
    sheet = pd.read_csv(tmp_path / "plan" / "checklist.csv", dtype=str, encoding="utf-8-sig")
    sheet["VERDICT"] = "正确"
    sheet.loc[sheet.index[::5], "VERDICT"] = "位置错误"
    sheet.to_csv(tmp_path / "checked.csv", index=False, encoding="utf-8-sig")
    judged_file = acceptance.census_accuracy_geopackage(
        gpkg, AccuracyOptions(check=tmp_path / "checked.csv", plan=tmp_path / "plan"))
    judged = census_accuracy(drawn, table, sheet)
    wrong = len(sheet.index[::5])
    assert judged["rework"]["counts"]["wrong_position"] == wrong
    assert judged["overall"] == judged_file["overall"]
    assert judged["verdict"] == judged_file["verdict"]
    assert judged["rework"] == judged_file["rework"]
    assert {k: v for k, v in judged["plan"].items()} == {
        k: v for k, v in judged_file["plan"].items() if k != "source"}
    # The layers the command wrote, here returned.
    result = pyogrio.read_dataframe(gpkg, layer="spotcheck_result")
    assert judged.result["BGID"].tolist() == result["BGID"].tolist()
    assert judged.result["CORRECT"].tolist() == result["CORRECT"].tolist()
    assert len(judged.rework) == wrong == len(pyogrio.read_dataframe(gpkg,
                                                                     layer="spotcheck_rework"))
    # The plan layer read back judges the same.
    plan_layer = pyogrio.read_dataframe(gpkg, layer="spotcheck_plan")
    assert census_accuracy(plan_layer, table, sheet)["overall"] == judged["overall"]


def test_in_memory_errors_name_the_fix(district):
    _, grids, table = district
    with pytest.raises(GridkitError, match="no BGID column"):
        census_sample(grids, table.drop_columns(["BGID"]), SampleOptions(seed=1))
    drawn = census_sample(grids, table, SampleOptions(seed=1, grids=4, minimum=1))
    with pytest.raises(GridkitError, match="give `unit_grids=`"):
        census_accuracy(drawn, table, resurvey=pd.DataFrame({"部件名称": ["路灯"]}))
    with pytest.raises(GridkitError, match="give either"):
        census_accuracy(drawn, table)
    sheet = drawn.checklist.drop(columns="geometry")
    n = len(sheet)  # VERDICT empty everywhere; rows counted as in a CSV (the first is row 2)
    with pytest.raises(GridkitError, match=rf"^sheet: {n} problems - rows 2-{n + 1}: VERDICT "
                                           "is empty"):
        census_accuracy(drawn, table, sheet)
