"""`gridkit census sample` and `gridkit census accuracy` as a user runs them: real CSV (UTF-8,
GBK) and XLSX files in, layers and files read back with pyogrio and openpyxl."""

from __future__ import annotations

import json
import shutil

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from test_acceptance_support import box_district, district, fill_verdicts

from gridkit.acceptance.cli import accuracy, sample


def run(command, *args):
    result = CliRunner().invoke(command, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result


def read_checklist(folder):
    return pd.read_csv(folder / "checklist.csv", dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The district with its census, sampled once (seed 5)."""
    folder = tmp_path_factory.mktemp("accept")
    out = district(folder)
    result = run(sample, out, "-o", folder / "plan", "--seed", 5, "--json")
    assert result.exit_code == 0, result.output
    return folder, out, json.loads(result.output)


@pytest.fixture
def copy(planned, tmp_path):
    """A private copy of the sampled OUT.gpkg, and the shared plan folder."""
    folder, out, report = planned
    target = tmp_path / "out.gpkg"
    shutil.copyfile(out, target)
    return target, folder / "plan", report


# -- sample ----------------------------------------------------------------------------------

def test_sample_writes_the_plan_files_and_layers(planned):
    folder, out, report = planned
    plan = folder / "plan"
    assert sorted(p.name for p in plan.iterdir()) == ["checklist.csv", "checklist.xlsx",
                                                      "plan.gpkg", "plan.json"]
    assert report["seed"] == 5 and len(report["strata"]) == 3
    design = report["design"]
    assert design["anticipated_margin"] <= 0.015 and design["sample_grids"] == len(
        report["sampled_grids"])
    grids = pyogrio.read_dataframe(out, layer="spotcheck_plan")
    assert sorted(grids["BGID"]) == sorted(report["sampled_grids"])
    assert set(grids["STRATUM"]) == {"310116001/dense", "310116001/sparse", "310116101/sparse"}
    assert (grids["WEIGHT"] == grids["STRATUM_GRIDS"] / grids["STRATUM_SAMPLE"]).all()
    runs = pyogrio.read_dataframe(out, layer="gridkit_run")
    assert runs["COMMAND"].iloc[-1] == "census sample"
    assert json.loads(runs["PARAMETERS"].iloc[-1])["seed"] == 5
    assert set(pyogrio.list_layers(plan / "plan.gpkg")[:, 0]) == {
        "spotcheck_plan", "spotcheck_stratum", "spotcheck_checklist"}
    saved = json.loads((plan / "plan.json").read_text(encoding="utf-8"))
    assert saved["seed"] == 5 and saved["design"]["sample_grids"] == design["sample_grids"]


def test_checklist_csv_and_xlsx_hold_every_component_as_text(planned):
    folder, out, report = planned
    checklist = read_checklist(folder / "plan")
    components = pyogrio.read_dataframe(out, layer="component")
    expected = components[components["BGID"].isin(report["sampled_grids"])]
    assert len(checklist) == len(expected) == report["checklist_components"]
    assert set(checklist["OBJCODE"]) == set(expected["OBJCODE"])
    assert checklist["OBJCODE"].str.fullmatch(r"\d{16}").all()
    book = openpyxl.load_workbook(folder / "plan" / "checklist.xlsx")
    sheet = book["checklist"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["NO", "BGID", "STREET", "COMMUNITY", "OBJCODE"]
    codes = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True) if row[4]]
    assert sorted(codes) == sorted(checklist["OBJCODE"]) and isinstance(codes[0], str)
    assert sheet.data_validations.dataValidation[0].formula1.startswith('"correct,')
    assert {"grids", "design"} <= set(book.sheetnames)


def test_same_seed_same_grids_and_a_fresh_seed_is_recorded(copy, tmp_path):
    out, _, report = copy
    again = run(sample, out, "-o", tmp_path / "again", "--seed", 5, "--json")
    assert json.loads(again.output)["sampled_grids"] == report["sampled_grids"]
    fresh = run(sample, out, "-o", tmp_path / "fresh", "--json")
    seed = json.loads(fresh.output)["seed"]
    saved = json.loads((tmp_path / "fresh" / "plan.json").read_text(encoding="utf-8"))
    assert saved["seed"] == seed > 0


def test_sample_again_replaces_the_plan_folder_whole(copy, tmp_path):
    out, _, _ = copy
    target = tmp_path / "plan"
    first = run(sample, out, "-o", target, "--seed", 1, "--json")
    second = run(sample, out, "-o", target, "--seed", 2, "--json")
    assert json.loads(first.output)["plan_id"] != json.loads(second.output)["plan_id"]
    saved = json.loads((target / "plan.json").read_text(encoding="utf-8"))
    assert saved["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg", "plan"]  # no leftovers


@pytest.mark.parametrize("make, expected", [
    (lambda p: (p / "notes").mkdir() or (p / "notes" / "a.txt").write_text("x"),
     "holds other files"),
    (lambda p: None, "PLAN is a folder"),
])
def test_sample_refuses_a_bad_plan_target(copy, tmp_path, make, expected):
    out, _, _ = copy
    make(tmp_path)
    target = tmp_path / "notes" if "other" in expected else tmp_path / "plan.gpkg"
    before = out.read_bytes()
    result = run(sample, out, "-o", target)
    assert result.exit_code == 2
    assert expected in result.output and result.output.count("\n") == 1
    assert out.read_bytes() == before


def test_sample_needs_a_census(tmp_path):
    out = district(tmp_path)
    gpkg = tmp_path / "grids.gpkg"
    pyogrio.write_dataframe(pyogrio.read_dataframe(out, layer="unit_grid"), gpkg,
                            layer="unit_grid")
    result = run(sample, gpkg, "-o", tmp_path / "plan")
    assert result.exit_code == 2 and "gridkit census import" in result.output


def test_help_has_examples():
    for command in (sample, accuracy):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example" in result.output


# -- accuracy on verdict sheets --------------------------------------------------------------

@pytest.mark.parametrize("wrong, accuracy_, code", [(70, 0.965, 0), (100, 0.95, 1)])
def test_exact_arithmetic_pass_and_fail(tmp_path, wrong, accuracy_, code):
    """50 of 100 grids of 40 components: 2,000 checked; 1,930 or 1,900 correct."""
    out = box_district(tmp_path)
    assert run(sample, out, "-o", tmp_path / "plan", "--grids", 50, "--seed", 3).exit_code == 0
    checklist = read_checklist(tmp_path / "plan")
    assert len(checklist) == 2000
    filled = fill_verdicts(checklist, {"wrong_attribute": wrong})
    filled.to_csv(tmp_path / "verdicts.csv", index=False, encoding="utf-8")
    result = run(accuracy, out, "--check", tmp_path / "verdicts.csv", "--json")
    assert result.exit_code == code
    report = json.loads(result.stdout)
    assert report["overall"]["accuracy"]["estimate"] == accuracy_
    assert report["overall"]["raw_accuracy"] == accuracy_
    assert report["overall"]["completeness"]["estimate"] == 1.0
    assert report["verdict"] == ("pass" if code == 0 else "fail")
    layer = pyogrio.read_dataframe(out, layer="spotcheck_result")
    assert len(layer) == 50 and layer["CHECKED"].sum() == 2000
    assert layer["WRONG_ATTRIBUTE"].sum() == wrong
    assert (layer["ACCURACY"] == layer["CORRECT"] / layer["CHECKED"]).all()
    assert pyogrio.read_dataframe(out, layer="gridkit_run")["COMMAND"].iloc[-1] == \
        "census accuracy"
    rework = pyogrio.read_dataframe(out, layer="spotcheck_rework")
    assert len(rework) == wrong and set(rework["VERDICT"]) == {"wrong_attribute"}


def test_strict_judges_the_lower_bound(tmp_path):
    out = box_district(tmp_path)
    run(sample, out, "-o", tmp_path / "plan", "--grids", 50, "--seed", 3)
    filled = fill_verdicts(read_checklist(tmp_path / "plan"), {"wrong_class": 70})
    filled.to_csv(tmp_path / "v.csv", index=False)
    assert run(accuracy, out, "--check", tmp_path / "v.csv").exit_code == 0
    strict = run(accuracy, out, "--check", tmp_path / "v.csv", "--strict", "--json")
    assert strict.exit_code == 1
    report = json.loads(strict.stdout)
    assert report["overall"]["accuracy"]["low"] < 0.96 < report["overall"]["accuracy"][
        "estimate"]


def test_gbk_csv_with_chinese_verdicts_and_a_missing_component(copy, tmp_path):
    out, plan, report = copy
    checklist = read_checklist(plan)
    filled = fill_verdicts(checklist, {"wrong_position": 2})
    filled["VERDICT"] = filled["VERDICT"].map({"correct": "正确", "wrong_position": "位置错误"})
    first = checklist.iloc[0]
    extra = {"BGID": "", "OBJNAME": "路灯", "VERDICT": "漏查", "LON": first["LON"],
             "LAT": first["LAT"], "NOTE": "新装"}
    filled = pd.concat([filled, pd.DataFrame([extra])], ignore_index=True)
    filled = filled.rename(columns={"VERDICT": "核查结果", "OBJNAME": "部件名称"})
    filled.to_csv(tmp_path / "核查.csv", index=False, encoding="gbk")
    result = run(accuracy, out, "--check", tmp_path / "核查.csv", "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["overall"]["missing"] == 1 and figures["overall"]["wrong_position"] == 2
    assert figures["overall"]["checked"] == len(checklist)
    assert any(c["class"] == "0118" and c["missing"] == 1 for c in figures["by_class"])
    rework = pyogrio.read_dataframe(out, layer="spotcheck_rework")
    missing = rework[rework["VERDICT"] == "missing"]
    assert len(missing) == 1 and missing["BGID"].iloc[0] == first["BGID"]
    assert missing["NOTE"].iloc[0] == "新装" and missing.geometry.iloc[0] is not None


def test_xlsx_checklist_filled_in_excel(copy, tmp_path):
    out, plan, _ = copy
    book = openpyxl.load_workbook(plan / "checklist.xlsx")
    sheet = book["checklist"]
    header = [c.value for c in sheet[1]]
    column = header.index("VERDICT") + 1
    listed = [r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 5).value]
    for r in listed:
        sheet.cell(r, column, "correct")
    sheet.cell(2, column, "not_found")
    # A missing component typed into the first prepared row below the list.
    blank = listed[-1] + 1
    for c, value in ((2, sheet.cell(3, 2).value), (6, "雨水井盖"), (column, "missing")):
        sheet.cell(blank, c, value)
    book.save(tmp_path / "filled.xlsx")
    result = run(accuracy, out, "--check", tmp_path / "filled.xlsx", "--json")
    assert result.exit_code == 0, result.output
    overall = json.loads(result.stdout)["overall"]
    assert overall["not_found"] == 1 and overall["missing"] == 1
    assert overall["checked"] == len(listed)


def test_bad_rows_are_listed_in_one_line(copy, tmp_path):
    out, plan, _ = copy
    filled = fill_verdicts(read_checklist(plan))
    filled.loc[2, "VERDICT"] = "fine"
    filled.loc[4, "OBJCODE"] = "3101160102999999"
    other = pyogrio.read_dataframe(out, layer="unit_grid")["BGID"]
    outside = sorted(set(other) - set(filled["BGID"]))[0]
    extra = pd.DataFrame([{"BGID": outside, "OBJNAME": "路灯", "VERDICT": "missing"},
                          {"BGID": filled.loc[0, "BGID"], "OBJNAME": "飞碟", "VERDICT": "missing"}])
    pd.concat([filled, extra], ignore_index=True).to_csv(tmp_path / "bad.csv", index=False)
    before = out.read_bytes()
    result = run(accuracy, out, "--check", tmp_path / "bad.csv")
    assert result.exit_code == 2
    message = result.output
    assert message.count("\n") == 1 and "bad.csv: 4 problems" in message
    assert "row 4: VERDICT 'fine' is not a verdict" in message
    assert "row 6: OBJCODE 3101160102999999 is not in the census" in message
    assert f"BGID {outside} is not a sampled grid of the plan" in message
    assert "'飞碟'" in message
    assert out.read_bytes() == before  # a failed run leaves OUT.gpkg as it was


def test_components_without_verdict_are_named(copy, tmp_path):
    out, plan, _ = copy
    filled = fill_verdicts(read_checklist(plan)).iloc[3:]
    filled.to_csv(tmp_path / "part.csv", index=False)
    result = run(accuracy, out, "--check", tmp_path / "part.csv")
    assert result.exit_code == 2
    assert "3 census components" in result.output and "no verdict row" in result.output


def test_accuracy_needs_a_plan(tmp_path):
    out = district(tmp_path)
    (tmp_path / "v.csv").write_text("BGID,OBJCODE,VERDICT\n", encoding="utf-8")
    result = run(accuracy, out, "--check", tmp_path / "v.csv")
    assert result.exit_code == 2 and "gridkit census sample" in result.output
    both = run(accuracy, out, "--check", tmp_path / "v.csv", "--resurvey", tmp_path / "v.csv")
    assert both.exit_code == 2 and "either --check" in both.output


# -- accuracy on a re-survey -----------------------------------------------------------------

def resurvey_rows(checklist: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """The checklist's components re-surveyed with 0.5 m of noise, with known errors."""
    rng = np.random.default_rng(seed)
    rows = checklist[["OBJNAME", "LON", "LAT"]].copy()
    rows["LON"] = rows["LON"].astype(float) + rng.normal(0, 5e-6, len(rows))
    rows["LAT"] = rows["LAT"].astype(float) + rng.normal(0, 5e-6, len(rows))
    rows.loc[rows.index[:3], "OBJNAME"] = "果皮箱"  # three wrong classes
    rows = rows.drop(rows.index[3:5])  # two census components not in the field
    extra = rows.iloc[:2].assign(OBJNAME="路灯")  # two the census missed
    rows = pd.concat([rows, extra], ignore_index=True)
    return rows.rename(columns={"OBJNAME": "部件名称", "LON": "经度", "LAT": "纬度"}), {
        "wrong_class": 3, "not_found": 2, "missing": 2,
        "correct": len(checklist) - 5}


def test_resurvey_csv_in_wgs84(copy, tmp_path):
    out, plan, _ = copy
    checklist = read_checklist(plan)
    rows, expected = resurvey_rows(checklist)
    rows.to_csv(tmp_path / "recheck.csv", index=False, encoding="utf-8")
    result = run(accuracy, out, "--resurvey", tmp_path / "recheck.csv", "--crs", "wgs84",
                 "--json")
    report = json.loads(result.stdout)
    overall = report["overall"]
    assert {k: overall[k] for k in expected} == expected
    assert report["method"] == "resurvey" and report["input"]["crs"] == "EPSG:4326"
    assert result.exit_code == (0 if report["verdict"] == "pass" else 1)
    rework = pyogrio.read_dataframe(out, layer="spotcheck_rework")
    assert sorted(rework["VERDICT"]) == ["missing"] * 2 + ["not_found"] * 2 + \
        ["wrong_class"] * 3


def test_resurvey_geopackage_and_an_explicit_plan(copy, tmp_path):
    out, plan, _ = copy
    checklist = read_checklist(plan)
    rows, expected = resurvey_rows(checklist, seed=1)
    import geopandas as gpd

    frame = gpd.GeoDataFrame(rows[["部件名称"]], geometry=gpd.points_from_xy(rows["经度"],
                                                                          rows["纬度"]),
                             crs=4326).to_crs(4549)
    pyogrio.write_dataframe(frame, tmp_path / "recheck.gpkg")
    result = run(accuracy, out, "--resurvey", tmp_path / "recheck.gpkg", "--plan", plan,
                 "--json")
    overall = json.loads(result.stdout)["overall"]
    assert {k: overall[k] for k in expected} == expected


def test_resurvey_rows_without_class_or_position_stop_the_run(copy, tmp_path):
    out, plan, _ = copy
    rows, _ = resurvey_rows(read_checklist(plan))
    rows.loc[1, "部件名称"] = "飞碟"
    rows.loc[2, "经度"] = np.nan
    rows.to_csv(tmp_path / "recheck.csv", index=False, encoding="gbk")
    result = run(accuracy, out, "--resurvey", tmp_path / "recheck.csv", "--crs", "wgs84")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "recheck.csv: 2 problems" in result.output
    assert "row 3:" in result.output and "row 4:" in result.output
    no_crs = run(accuracy, out, "--resurvey", tmp_path / "recheck.csv")
    assert no_crs.exit_code == 2 and "--crs" in no_crs.output


def test_a_sheet_from_another_plan_is_told_so(copy, tmp_path):
    out, plan, _ = copy
    filled = fill_verdicts(read_checklist(plan))
    filled.to_csv(tmp_path / "v.csv", index=False)
    assert run(sample, out, "-o", tmp_path / "newer", "--seed", 99).exit_code == 0
    result = run(accuracy, out, "--check", tmp_path / "v.csv")
    assert result.exit_code == 2 and "give its folder with --plan" in result.output
    assert run(accuracy, out, "--check", tmp_path / "v.csv", "--plan", plan).exit_code == 0


def test_an_unfilled_checklist_is_one_short_line(copy, tmp_path):
    out, plan, _ = copy
    checklist = read_checklist(plan)
    result = run(accuracy, out, "--check", plan / "checklist.csv")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert f"{len(checklist)} problems - rows 2-{len(checklist) + 1}: VERDICT is empty" in \
        result.output
    assert len(result.output) < 400


def test_failed_writes_leave_files_as_they_were(copy, tmp_path, monkeypatch):
    out, plan, _ = copy
    target = tmp_path / "plan"
    assert run(sample, out, "-o", target, "--seed", 8).exit_code == 0
    before_out = out.read_bytes()
    before_plan = {p.name: p.read_bytes() for p in target.iterdir()}

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("gridkit.acceptance.checklist.write_xlsx", broken)
    result = run(sample, out, "-o", target, "--seed", 9)
    assert result.exit_code == 2 and "No space left on device" in result.output
    assert out.read_bytes() == before_out
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before_plan
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg", "plan"]

    filled = fill_verdicts(read_checklist(target))
    filled.to_csv(tmp_path / "v.csv", index=False)
    monkeypatch.setattr("gridkit.io.write_layer", broken)
    failed = CliRunner().invoke(accuracy, [str(out), "--check", str(tmp_path / "v.csv")])
    assert failed.exit_code != 0
    assert out.read_bytes() == before_out


def test_xlsx_checklist_with_a_title_row_and_a_code_typed_as_a_number(copy, tmp_path):
    out, plan, _ = copy
    book = openpyxl.load_workbook(plan / "checklist.xlsx")
    sheet = book["checklist"]
    header = [c.value for c in sheet[1]]
    verdict, objcode = header.index("VERDICT") + 1, header.index("OBJCODE") + 1
    listed = [r for r in range(2, sheet.max_row + 1) if sheet.cell(r, objcode).value]
    for r in listed:
        sheet.cell(r, verdict, "correct")
    code = sheet.cell(listed[0], objcode).value
    sheet.cell(listed[0], objcode, int(code[:15] + "0"))  # what Excel keeps of a number
    sheet.insert_rows(1)
    sheet.cell(1, 1, "某街道城市部件抽查核查表")
    book.save(tmp_path / "titled.xlsx")
    result = run(accuracy, out, "--check", tmp_path / "titled.xlsx")
    assert result.exit_code == 2
    assert f"row {listed[0] + 1}" in result.output and "15 significant digits" in result.output
