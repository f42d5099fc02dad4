"""``gridkit codes list/show/check`` through click's CliRunner."""

from __future__ import annotations

import json

import geopandas as gpd
import openpyxl
import pytest
import shapely
from click.testing import CliRunner

from gridkit.codes.cli import codes


def run(*args):
    return CliRunner().invoke(codes, list(args))


def test_list_json_and_text():
    result = run("list", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["kind"] == "component" and data["majors"] == 6
    assert any(e["code"] == "0102" and e["name"] == "污水井盖" for e in data["entries"])
    events = json.loads(run("list", "--events", "--json").output)
    assert events["kind"] == "event"
    assert "0102  污水井盖" in run("list").output


def test_list_local_catalog(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("code,name\n01,公用设施\n0101,上水井盖\n", encoding="utf-8")
    data = json.loads(run("list", "--catalog", str(path), "--json").output)
    assert data["classes"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\n011,x\n", encoding="utf-8")
    result = run("list", "--catalog", str(bad))
    assert result.exit_code == 2
    assert "row 2, field code" in result.output and "Traceback" not in result.output


def test_show_valid_and_invalid():
    ok = run("show", "3205820102048188", "--json")
    assert ok.exit_code == 0 and json.loads(ok.output)["kind"] == "component"
    bad = run("show", "3205820199048188", "--json")
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["valid"] is False
    text = run("show", "320582110152102")
    assert text.exit_code == 0 and "unit grid" in text.output


CENSUS = [
    ("OBJCODE", "OBJNAME", "BGID"),
    ("3205820102048188", "污水井盖", "320582110152102"),
    ("3205820102048189", "污水井盖", "320582110152102"),
]


def test_check_clean_and_dirty_csv(tmp_path):
    clean = tmp_path / "clean.csv"
    clean.write_text("\n".join(",".join(r) for r in CENSUS), encoding="utf-8")
    result = run("check", str(clean), "--json")
    assert result.exit_code == 0 and json.loads(result.output)["clean"] is True
    dirty = tmp_path / "dirty.csv"
    dirty.write_text("\n".join(",".join(r) for r in [*CENSUS, CENSUS[1]]) + "\n3205820102\n",
                     encoding="utf-8")
    result = run("check", str(dirty), "--json")
    assert result.exit_code == 1
    layer = json.loads(result.stdout)["layers"][0]
    rules = {(i["row"], i["rule"]) for i in layer["issues"]}
    assert ("row 4", "duplicate") in rules and ("row 5", "invalid") in rules


def test_check_chinese_headers_in_xlsx(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "部件"
    sheet.append(["标识码", "网格编码", "名称"])
    sheet.append(["3205820102048188", 320582110152102, "x"])
    sheet.append(["3205830102048188", "320582110152102", "y"])
    book.save(tmp_path / "c.xlsx")
    result = run("check", str(tmp_path / "c.xlsx"), "--json")
    assert result.exit_code == 1
    layer = json.loads(result.stdout)["layers"][0]
    assert layer["columns"] == {"标识码": "component", "网格编码": "unit grid"}
    assert {"stored-as-number", "component-county"} <= set(layer["by_rule"])


def test_check_xlsx_two_row_header_and_title(tmp_path):
    """A census form: title row, 位置 merged over 经度/纬度; rows numbered as Excel shows them."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["某街道城市部件普查登记表"])
    sheet.append(["部件名称", "位置", None, "标识码"])
    sheet.append([None, "经度", "纬度", None])
    sheet.merge_cells("B2:C2")
    sheet.append(["路灯", 121.47, 31.23, ""])
    sheet.append(["路灯", 121.48, 31.24, "31011601020000"])
    book.save(tmp_path / "form.xlsx")
    result = run("check", str(tmp_path / "form.xlsx"), "--json")
    assert result.exit_code == 1, result.output
    layer = json.loads(result.stdout)["layers"][0]
    assert layer["rows"] == 2
    issues = {(i["row"], i["rule"]) for i in layer["issues"]}
    assert ("row 5", "invalid") in issues
    assert [i["row"] for i in layer["issues"] if i["value"] == ""] == ["row 4"]


def test_check_geopackage_layers(tmp_path):
    path = tmp_path / "out.gpkg"
    grids = gpd.GeoDataFrame(
        {"BGID": ["310116001001001", "310116001001002"], "COMMUNITY": ["310116001001"] * 2,
         "STREET": ["310116001", "310116002"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4549)
    grids.to_file(path, layer="unit_grid")
    events = gpd.GeoDataFrame({"EVTCODE": ["0505", "0599", "0798"], "MAJOR": ["05", "05", "07"]},
                              geometry=[shapely.Point(0, 0)] * 3, crs=4549)
    events.to_file(path, layer="event")
    result = run("check", str(path), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    by_layer = {layer["layer"]: layer for layer in report["layers"]}
    assert by_layer["unit_grid"]["by_rule"] == {"community-street": 1}
    assert by_layer["event"]["by_rule"] == {"invalid": 1}
    only = run("check", str(path), "--layer", "unit_grid", "--json")
    assert [layer["layer"] for layer in json.loads(only.stdout)["layers"]] == ["unit_grid"]


@pytest.mark.parametrize("args", [("check", "/no/such/file.gpkg"), ("check", "README.md")])
def test_check_unreadable_input_exits_2(args, tmp_path):
    result = run(*args)
    assert result.exit_code == 2 and result.output.startswith("gridkit: error:")


def test_check_file_without_code_columns(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    result = run("check", str(path))
    assert result.exit_code == 2 and "no code columns" in result.output


def test_every_command_help_has_an_example():
    for command in ("list", "show", "check"):
        assert "gridkit codes" in run(command, "--help").output


def test_registered_on_the_main_command():
    main = pytest.importorskip("gridkit.cli").main
    result = CliRunner().invoke(main, ["codes", "show", "0102", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["kind"] == "class"
