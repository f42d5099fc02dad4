"""``gridkit census accuracy OUT.gpkg --check SHEET`` without a plan in the file: the grids a
joint check sheet lists, judged as a simple random sample of grids (said so)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from test_acceptance_support import box_district

from gridkit.acceptance.estimate import stratified_ratio
from gridkit.cli import main

CHOSEN = [3, 17, 25, 42, 58, 61, 77, 80, 94, 99]  # grids the departments and towns chose


def _sheet(path, components: pd.DataFrame, wrong: int, *, bgid: bool = True):
    rows = components.sort_values("OBJCODE").reset_index(drop=True)
    rows["VERDICT"] = "正确"
    rows.loc[rows.index[::len(rows) // wrong][:wrong], "VERDICT"] = "实地不存在"
    columns = ["BGID", "OBJCODE", "VERDICT"] if bgid else ["OBJCODE", "VERDICT"]
    rows[columns].rename(columns={"BGID": "单元网格", "OBJCODE": "标识码",
                                  "VERDICT": "核查结果"}).to_csv(path, index=False,
                                                                 encoding="gbk")
    return rows


@pytest.mark.parametrize("bgid_column", [True, False])
def test_sheet_without_plan_is_a_simple_random_sample_of_grids(tmp_path, bgid_column):
    out = box_district(tmp_path, grids=100, per_grid=40)
    grids = [f"310116001001{k:03d}" for k in CHOSEN]
    components = pyogrio.read_dataframe(out, layer="component", read_geometry=False)
    listed = components[components["BGID"].isin(grids)]
    rows = _sheet(tmp_path / "joint.csv", listed, wrong=12, bgid=bgid_column)
    done = CliRunner().invoke(main, ["census", "accuracy", str(out), "--check",
                                     str(tmp_path / "joint.csv"), "--json"])
    assert done.exit_code == 0, done.output  # 97% passes 96%
    report = json.loads(done.output)
    assert "simple random sample of all unit grids" in report["plan"]["design"]
    assert "assumed" in report["method"]
    assert report["plan"]["grids"] == len(CHOSEN)
    overall = report["overall"]
    assert overall["checked"] == len(rows) == 400 and overall["grids"] == len(CHOSEN)
    assert overall["accuracy"]["estimate"] == pytest.approx(388 / 400)
    # The same interval method as a planned check: one stratum of all 100 grids, 10 drawn.
    wrong = rows.groupby("BGID")["VERDICT"].apply(lambda v: (v != "正确").sum())
    checked = rows.groupby("BGID").size()
    expected = stratified_ratio((checked - wrong).to_numpy(), checked.to_numpy(),
                                np.zeros(len(CHOSEN), dtype=np.int64), np.array([100]))
    assert overall["accuracy"]["low"] == pytest.approx(float(expected.low), abs=1e-5)
    assert overall["accuracy"]["high"] == pytest.approx(float(expected.high), abs=1e-5)
    result = pyogrio.read_dataframe(out, layer="spotcheck_result")
    assert sorted(result["BGID"]) == grids
    assert set(result["METHOD"]) == {report["method"]}
    assert (result["WEIGHT"] == 10.0).all()


def test_text_output_says_the_design_is_assumed(tmp_path):
    out = box_district(tmp_path, grids=100, per_grid=40)
    components = pyogrio.read_dataframe(out, layer="component", read_geometry=False)
    grids = [f"310116001001{k:03d}" for k in CHOSEN]
    _sheet(tmp_path / "joint.csv", components[components["BGID"].isin(grids)], wrong=40)
    done = CliRunner().invoke(main, ["census", "accuracy", str(out), "--check",
                                     str(tmp_path / "joint.csv")])
    assert done.exit_code == 1  # 90% fails
    assert "design: no gridkit plan in the file" in done.output
    assert "simple random sample of all unit grids (assumed, not known)" in done.output


def test_sheet_naming_unknown_grids_is_refused(tmp_path):
    out = box_district(tmp_path, grids=100, per_grid=40)
    pd.DataFrame({"BGID": ["310116001001999"], "OBJCODE": [""], "VERDICT": ["missing"]}) \
        .to_csv(tmp_path / "joint.csv", index=False)
    done = CliRunner().invoke(main, ["census", "accuracy", str(out), "--check",
                                     str(tmp_path / "joint.csv")])
    assert done.exit_code == 2
    assert "310116001001999 is not a unit grid" in done.output


def test_sheet_naming_no_grid_names_the_geopackage(tmp_path):
    out = box_district(tmp_path, grids=100, per_grid=40)
    pd.DataFrame({"标识码": ["3101160101999999"], "核查结果": ["正确"]}) \
        .to_csv(tmp_path / "joint.csv", index=False)
    done = CliRunner().invoke(main, ["census", "accuracy", str(out), "--check",
                                     str(tmp_path / "joint.csv")])
    assert done.exit_code == 2
    assert f"and {out.name} has no spot-check plan" in done.output
