"""Files as people send them (issue 13): each kind of fault on a small real-shaped input,
through the one record importer (census and events), asserting the right value."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import openpyxl
import pyogrio
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from test_census_support import HEADER, district, good_rows, grid_points

from gridkit.cli import main
from gridkit.records.coords import (
    bd09mc_to_bd09,
    gcj02_to_wgs84,
    parse_numbers,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from gridkit.sources.tables import read_source


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def census(*args):
    result = run("census", "import", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def layers(out):
    return (pyogrio.read_dataframe(out, layer="component"),
            pyogrio.read_dataframe(out, layer="component_reject"))


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def sheet(path, rows, *, title=None):
    book = openpyxl.Workbook()
    ws = book.active
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


# -- 1. Excel numbers in code columns --------------------------------------------------------

def import_one_row(csv, out, column, value, encoding):
    """Import a CSV of one good census row with ``value`` in ``column``; the rejects."""
    row = good_rows(1)[0]
    row[column] = value
    csv.write_text(",".join(HEADER) + "\n" + ",".join(row) + "\n", encoding=encoding)
    census(csv, "-o", out, "--crs", "wgs84")
    return layers(out)[1]


def test_excel_numbers_in_code_columns(tmp_path):
    out = district(tmp_path)
    lon, lat, bgid = grid_points()
    rows = [["标识码", "小类代码", "经度", "纬度"],
            # A 16-digit code typed as a number: Excel kept 3101160102000120.
            [3101160102000120, 102, float(lon[0]), float(lat[0])],
            # A class code that lost its leading zero, no OBJCODE.
            [None, 102, float(lon[1]), float(lat[1])]]
    figures = census(sheet(tmp_path / "numbers.xlsx", rows), "-o", out, "--crs", "wgs84")
    components, rejects = layers(out)
    assert figures["rows"] == 2 and figures["balanced"]
    reject = rejects.iloc[0]
    assert reject["SRCROW"] == 2 and reject["RULE"] == "objcode-invalid"
    assert "was a number" in reject["REASON"] and "15 significant digits" in reject["REASON"]
    assert components["MAJOR"].tolist() == ["01"] and components["MINOR"].tolist() == ["02"]
    changes = figures["files"][0]["changed_values"]
    assert {"field": "小类代码", "from": "102", "to": "0102", "rule": "leading-zero", "rows": 2,
            "first_row": 2} in changes


def test_scientific_notation_from_an_excel_csv(tmp_path):
    out = district(tmp_path)
    rejects = import_one_row(tmp_path / "saved_by_excel.csv", out, 0, "3.10116E+15", "gbk")
    assert rejects["RULE"].tolist() == ["objcode-invalid"]
    assert "scientific notation" in rejects["REASON"][0]
    assert "characters other than digits" not in rejects["REASON"][0]


def test_codes_check_shares_the_number_rule(tmp_path):
    rows = [["OBJCODE"], [3101160102000120], ["3101160102000123"]]
    result = CliRunner().invoke(main, ["codes", "check", str(sheet(tmp_path / "c.xlsx", rows)),
                                       "--json"])
    assert result.exit_code == 1
    issues = json.loads(result.stdout)["layers"][0]["issues"]
    invalid = [i for i in issues if i["rule"] == "invalid"]
    assert [i["row"] for i in invalid] == ["row 2"]
    assert "15 significant digits" in invalid[0]["message"]
    csv = tmp_path / "c.csv"
    csv.write_text("OBJCODE\n3.10116E+15\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["codes", "check", str(csv), "--json"])
    message = json.loads(result.stdout)["layers"][0]["issues"][0]["message"]
    assert "scientific notation" in message


# -- 2. Excel dates ---------------------------------------------------------------------------

def test_excel_serial_dates_in_sheets_and_csv(tmp_path):
    out = district(tmp_path)
    lon, lat, _ = grid_points()
    rows = [["部件名称", "经度", "纬度", "初始时间", "变更时间"],
            ["路灯", float(lon[0]), float(lat[0]), 45789, 45789.5]]
    figures = census(sheet(tmp_path / "dates.xlsx", rows), "-o", out, "--crs", "wgs84")
    components, _ = layers(out)
    assert str(components["ORDATE"][0])[:10] == "2025-05-12"
    assert str(components["CHDATE"][0])[:10] == "2025-05-12"
    assert any(c["rule"] == "excel-serial-date" and c["from"] == "45789"
               for c in figures["files"][0]["changed_values"])
    rejects = import_one_row(tmp_path / "dates.csv", out, 8, "45789", "utf-8")
    reason = rejects.loc[rejects["SRCFILE"] == "dates.csv", "REASON"].iloc[0]
    assert "Excel day number (2025-05-12)" in reason


# -- 3. Title rows ----------------------------------------------------------------------------

def test_a_merged_title_row_above_the_header(tmp_path):
    out = district(tmp_path)
    lon, lat, bgid = grid_points()
    rows = [["部件名称", "经度", "纬度"], ["路灯", float(lon[2]), float(lat[2])]]
    book = sheet(tmp_path / "titled.xlsx", rows, title="某街道城市部件普查登记表")
    figures = census(book, "-o", out, "--crs", "wgs84")
    assert figures["files"][0]["header_row"] == 2 and figures["accepted"] == 1
    components, _ = layers(out)
    assert components["SRCROW"].tolist() == [3] and components["BGID"].tolist() == [bgid[2]]
    csv = tmp_path / "titled.csv"
    csv.write_text("某街道城市部件普查登记表,,\n部件名称,经度,纬度\n"
                   f"路灯,{lon[3]:.8f},{lat[3]:.8f}\n", encoding="gbk")
    assert read_source(csv, aliases={"X": ("经度",), "Y": ("纬度",)}).header_row == 2
    figures = census(csv, "-o", out, "--crs", "wgs84")
    assert figures["files"][0]["header_row"] == 2 and figures["accepted"] == 1
    # Told the wrong header row, the error names the row used and the option.
    message = one_line_error(run("census", "import", csv, "-o", out, "--crs", "wgs84",
                                 "--header-row", "1"))
    assert "--header-row" in message and "row 1" in message


def test_a_two_row_header_under_a_merged_cell(tmp_path):
    """位置 merged over 经度 | 纬度, the names one row lower: the rows below are read as data
    (found alone, from --header-row, and in the CSV Excel saves from such a sheet)."""
    out = district(tmp_path)
    lon, lat, bgid = grid_points()
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["某街道城市部件普查登记表"])
    ws.merge_cells("A1:E1")
    ws.append(["序号", "部件名称", "位置", None, "初始时间"])
    ws.merge_cells("C2:D2")
    ws.append([None, None, "经度", "纬度", None])
    ws.append([1, "路灯", f"{lon[2]:.8f}", f"{lat[2]:.8f}", dt.datetime(2025, 5, 12)])
    ws.append([2, "垃圾箱", float(lon[3]), float(lat[3]), dt.datetime(2025, 5, 13)])
    book.save(tmp_path / "merged.xlsx")
    for extra in ((), ("--header-row", "2")):
        figures = census(tmp_path / "merged.xlsx", "-o", out, "--crs", "wgs84", "--mode",
                         "replace", *extra)
        assert (figures["rows"], figures["accepted"]) == (2, 2), figures
        assert figures["files"][0]["header_row"] == 2
        assert figures["files"][0]["srcrow"] == "sheet row number (header on rows 2-3)"
        components, _ = layers(out)
        assert components["SRCROW"].tolist() == [4, 5]
        assert components["BGID"].tolist() == [bgid[2], bgid[3]]
        assert components["ORDATE"].astype(str).str[:10].tolist() == ["2025-05-12",
                                                                      "2025-05-13"]
    csv = tmp_path / "merged.csv"
    csv.write_text("某街道城市部件普查登记表,,,,\n序号,部件名称,位置,,初始时间\n,,经度,纬度,\n"
                   f"1,路灯,{lon[2]:.8f},{lat[2]:.8f},2025-05-12\n", encoding="gbk")
    figures = census(csv, "-o", out, "--crs", "wgs84", "--mode", "replace")
    assert (figures["rows"], figures["accepted"]) == (1, 1), figures
    assert figures["files"][0]["srcrow"].endswith("(header on rows 2-3)")
    assert layers(out)[0]["SRCROW"].tolist() == [4]


# -- 4, 5. Shapefiles: cut names and encodings ------------------------------------------------

def _shapefile(folder, name, columns, encoding, cpg=True, offset=0):
    lon, lat, _ = grid_points()
    n = len(next(iter(columns.values())))
    frame = gpd.GeoDataFrame(columns, geometry=shapely.points(lon[offset:offset + n],
                                                             lat[offset:offset + n]), crs=4326)
    path = folder / f"{name}.shp"
    pyogrio.write_dataframe(frame, path, encoding=encoding)
    if not cpg:
        path.with_suffix(".cpg").unlink()
    return path


def test_field_names_cut_at_ten_bytes(tmp_path):
    out = district(tmp_path)
    utf8 = _shapefile(tmp_path, "utf8", {"部件名称": ["路灯"], "主管部门名称": ["区路政所"]},
                      "UTF-8")
    assert b"\xe9\x83\xa8\xe4\xbb\xb6\xe5\x90\x8d\xe7\x00" in utf8.with_suffix(".dbf").read_bytes()
    figures = census(utf8, "-o", out)
    file = figures["files"][0]
    assert figures["accepted"] == 1 and file["encoding"].startswith("UTF-8")
    assert file["columns"]["OBJNAME"] == "部件名" and file["cut_names"]["部件名"] == "OBJNAME"
    gbk = _shapefile(tmp_path, "gbk", {"部件名称": ["路灯"], "主管部门名称": ["区路政所"]}, "GBK",
                     offset=1)
    figures = census(gbk, "-o", out)
    components, _ = layers(out)
    row = components[components["SRCFILE"] == "gbk.shp"].iloc[0]
    assert row["DEPTNAME1"] == "区路政所" and row["OBJNAME"] == "路灯"
    assert figures["files"][0]["kept_in_extra"] == []


def test_every_cut_column_is_mapped_or_named_never_dropped(tmp_path):
    # UTF-8 keeps 3 Chinese characters: 主管部门名称 is 主管部, which could as well be
    # 主管部门代码. It is not guessed: kept in EXTRA, named, and --map decides.
    out = district(tmp_path)
    path = _shapefile(tmp_path, "utf8", {"部件名称": ["路灯"], "主管部门名称": ["区路政所"],
                                         "调查说明": ["夜间补测"]}, "UTF-8")
    done = run("census", "import", path, "-o", out)
    assert done.exit_code == 0, done.output
    assert "column 主管部 could be DEPTCODE1 or DEPTNAME1" in done.output
    assert "--map DEPTNAME1=主管部" in done.output
    figures = census(path, "-o", out, "--mode", "replace")
    file = figures["files"][0]
    assert file["ambiguous_cut_names"] == {"主管部": ["DEPTCODE1", "DEPTNAME1"]}
    # The DBF's three names (each cut mid-character, the broken byte dropped): all accounted.
    assert set(file["columns"].values()) - {"X", "Y"} == {"部件名"}
    assert set(file["kept_in_extra"]) == {"主管部", "调查说"}
    components, _ = layers(out)
    extra = json.loads(components["EXTRA"].iloc[0])
    assert extra["主管部"] == "区路政所" and components["DEPTCODE1"].isna().all()
    census(path, "-o", out, "--mode", "replace", "--map", "DEPTNAME1=主管部")
    components, _ = layers(out)
    assert components["DEPTNAME1"].tolist() == ["区路政所"]


def test_a_cut_street_name_of_the_communities_is_carried_not_dropped(tmp_path):
    # 所属街道名称 is 10 bytes too long for a GBK DBF: GDAL writes 所属街道名.
    from conftest import X0, Y0

    frame = gpd.GeoDataFrame({"社区代码": ["310116101003"], "名称": ["新居委会"],
                              "所属街道名称": ["朱泾镇"], "SHAPE_Area": [40_000.0]},
                             geometry=[shapely.box(X0, Y0, X0 + 200, Y0 + 200)], crs=4549)
    path = tmp_path / "communities.shp"
    with pytest.warns(RuntimeWarning):
        pyogrio.write_dataframe(frame, path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    out = tmp_path / "out.gpkg"
    done = run("partition", path, "-o", out, "--target-area", "10000", "--json")
    assert done.exit_code == 0, done.output
    community = pyogrio.read_dataframe(out, layer="community")
    assert community["STREET_NAME"].tolist() == ["朱泾镇"]
    # Every column of the file is used or named as ignored.
    assert json.loads(done.stdout)["community_columns"] == {
        "used": {"CODE": "社区代码", "NAME": "名称", "STREET_NAME": "所属街道名"},
        "ignored": ["SHAPE_Area"]}


def test_dbf_encoding_by_evidence(tmp_path):
    out = district(tmp_path)
    names = ["路灯", "垃圾箱", "污水井盖"]
    path = _shapefile(tmp_path, "nocpg", {"NAME": names, "NOTE": ["靠近路口"] * 3}, "UTF-8",
                      cpg=False)
    # Cut one value in the middle of a character, as a too-narrow field does.
    raw = bytearray(path.with_suffix(".dbf").read_bytes())
    at = raw.index("靠近路口".encode())
    raw[at + 10: at + 12] = b"  "  # 口 loses its last two bytes
    path.with_suffix(".dbf").write_bytes(bytes(raw))
    figures = census(path, "-o", out, "--crs", "wgs84")
    file = figures["files"][0]
    assert file["encoding"].startswith("UTF-8") and figures["accepted"] == 3
    assert file["damaged_cells"] == 1 and file["damaged"][0]["row"] == 0
    assert file["damaged"][0]["field"] == "NOTE"
    components, _ = layers(out)
    assert sorted(components["OBJNAME"]) == sorted(names)  # not GB18030 mojibake
    assert "靠近路" in components["NOTE"].iloc[0]
    # A .cpg saying UTF-8 over GBK values: one line naming the .cpg.
    gbk = _shapefile(tmp_path, "lying", {"NAME": names}, "GBK")
    gbk.with_suffix(".cpg").write_text("UTF-8")
    message = one_line_error(run("census", "import", gbk, "-o", out))
    assert "lying.cpg" in message and "GBK" in message


# -- 6, 7. Swapped, survey and web-map coordinates -------------------------------------------

def test_swapped_longitude_latitude_is_named(tmp_path):
    out = district(tmp_path)
    lon, lat, bgid = grid_points()
    csv = tmp_path / "swapped.csv"
    csv.write_text(f"部件名称,经度,纬度\n路灯,{lat[0]:.8f},{lon[0]:.8f}\n", encoding="utf-8")
    figures = census(csv, "-o", out, "--crs", "wgs84")
    _, rejects = layers(out)
    assert figures["rejected"] == 1
    reason = rejects["REASON"][0]
    assert "look swapped" in reason and bgid[0] in reason and "--x 纬度 --y 经度" in reason


def test_survey_coordinates_with_a_zone_prefix(tmp_path):
    out = district(tmp_path)
    lon, lat, bgid = grid_points()
    to_zone = pyproj.Transformer.from_crs(4326, 4528, always_xy=True)  # zone 40, prefixed
    easting, northing = to_zone.transform(lon[0], lat[0])
    assert 40e6 < easting < 41e6
    csv = tmp_path / "survey.csv"
    # Chinese surveying: X is the northing, Y the easting.
    csv.write_text(f"部件名称,X,Y\n路灯,{northing:.3f},{easting:.3f}\n", encoding="utf-8")
    census(csv, "-o", out, "--crs", "EPSG:4549")
    _, rejects = layers(out)
    reason = rejects["REASON"][0]
    assert "EPSG:4528" in reason and "--x Y --y X" in reason and bgid[0] in reason
    census(csv, "-o", out, "--crs", "EPSG:4528", "--x", "Y", "--y", "X")
    components, _ = layers(out)
    assert components["BGID"].tolist() == [bgid[0]]


@pytest.mark.parametrize("command", ["census", "events"])
def test_survey_metres_without_a_crs_name_the_zone_that_fits(tmp_path, command):
    """A survey file names no CRS, but Gauss–Krüger metres in a zone are unambiguous: the
    refusal names the CRS and the columns that place the rows, not only the list of choices."""
    out = district(tmp_path)
    lon, lat, _ = grid_points()
    easting, northing = pyproj.Transformer.from_crs(4326, 4528, always_xy=True).transform(
        lon[:3], lat[:3])
    csv = tmp_path / "survey.csv"
    csv.write_text("部件名称,X,Y\n" + "".join(f"路灯,{n:.3f},{e:.3f}\n"
                                            for e, n in zip(easting, northing, strict=True)),
                   encoding="utf-8")
    line = one_line_error(run(command, "import", csv, "-o", out))
    assert "have no CRS" in line
    assert line.endswith("the numbers fit EPSG:4528 with X and Y swapped (3 of the first 3 "
                         "rows fall in unit grids): give --crs EPSG:4528 --x Y --y X")
    degrees = tmp_path / "degrees.csv"
    degrees.write_text(f"部件名称,经度,纬度\n路灯,{lon[0]:.7f},{lat[0]:.7f}\n", encoding="utf-8")
    line = one_line_error(run(command, "import", degrees, "-o", out))
    assert "have no CRS" in line and "fit" not in line  # WGS 84 or GCJ-02: only the user knows


def test_bd09mc_against_published_vectors():
    # go-bd09mc's test pair, gcoord's BD09Meter test, and TeslaMate's two city points.
    x = np.array([12128773.43, 13692446.35077864, 12958175.0, 13525353.98])
    y = np.array([4040249.00, 5591020.962240655, 4825923.77, 3641593.36])
    lon, lat = bd09mc_to_bd09(x, y)
    np.testing.assert_allclose(lon, [108.95344, 123.0, 116.404, 121.499], atol=2e-6)
    np.testing.assert_allclose(lat, [34.265657, 44.9999997, 39.915, 31.240], atol=2e-6)


def test_bd09mc_import_and_web_mercator_hint(tmp_path):
    out = district(tmp_path)
    lon, lat, bgid = grid_points()
    blon, blat = wgs84_to_bd09(lon[:1], lat[:1])
    # BD-09 degrees -> Baidu Mercator metres by inverting the published polynomial.
    mx, my = blon * 111320.0, blat * 111320.0
    for _ in range(30):
        fx, fy = bd09mc_to_bd09(mx, my)
        mx, my = mx + (blon - fx) * 1e5, my + (blat - fy) * 1.2e5
    csv = tmp_path / "baidu.csv"
    csv.write_text(f"部件名称,X,Y\n路灯,{mx[0]:.2f},{my[0]:.2f}\n", encoding="utf-8")
    census(csv, "-o", out, "--crs", "bd09mc")
    components, _ = layers(out)
    assert components["BGID"].tolist() == [bgid[0]]
    wx, wy = pyproj.Transformer.from_crs(4326, 3857, always_xy=True).transform(lon[1], lat[1])
    csv.write_text(f"部件名称,X,Y\n路灯,{wx:.2f},{wy:.2f}\n", encoding="utf-8")
    census(csv, "-o", out, "--crs", "wgs84")
    _, rejects = layers(out)
    assert "--crs EPSG:3857" in rejects["REASON"][0]


# -- 8. Chinese input methods -----------------------------------------------------------------

def test_full_width_numbers_codes_and_dates():
    values, present = parse_numbers(__import__("pyarrow").array(
        ["１２１．３０５", "－３０．７", "东经121°18′18″", "N30°42'00\""]))
    np.testing.assert_allclose(values, [121.305, -30.7, 121.305, 30.7], atol=1e-9)
    assert present.all()


def test_full_width_cells_import(tmp_path):
    out = district(tmp_path)
    lon, lat, bgid = grid_points()
    full = str.maketrans("0123456789.-", "０１２３４５６７８９．－")
    csv = tmp_path / "ime.csv"
    csv.write_text("部件名称,经度,纬度,初始时间\n"
                   f"路灯,{f'{lon[0]:.8f}'.translate(full)},{f'{lat[0]:.8f}'.translate(full)},"
                   "２０２５年５月１２日\n", encoding="utf-8")
    figures = census(csv, "-o", out, "--crs", "wgs84")
    components, _ = layers(out)
    assert figures["accepted"] == 1 and components["BGID"].tolist() == [bgid[0]]
    assert str(components["ORDATE"][0])[:10] == "2025-05-12"


# -- 9, 11. Values changed on the way in, class spellings ------------------------------------

def test_changed_values_are_logged_and_kept(tmp_path):
    out = district(tmp_path)
    lon, lat, _ = grid_points()
    names = ["行道树（香樟）", "雨水井", "污水井", "自动售货亭", "公厕化粪池"]
    csv = tmp_path / "names.csv"
    csv.write_text("部件名称,经度,纬度,状态\n" + "".join(
        f"{n},{lon[i]:.8f},{lat[i]:.8f},{'好' if i else '正常'}\n" for i, n in enumerate(names)),
        encoding="utf-8")
    figures = census(csv, "-o", out, "--crs", "wgs84")
    assert figures["accepted"] == 5
    components, _ = layers(out)
    tree = components[components["OBJNAME"] == "行道树"].iloc[0]
    assert json.loads(tree["EXTRA"])["部件名称"] == "行道树（香樟）"
    # A local name matched to its class is kept as surveyed too.
    kept = {json.loads(e)["部件名称"] for e in components["EXTRA"].dropna()}
    assert {"雨水井", "污水井", "自动售货亭", "公厕化粪池"} <= kept
    assert set(components["OBJSTATE"]) == {"完好"}
    changes = {(c["field"], c["from"], c["to"]) for c in figures["files"][0]["changed_values"]}
    assert {("状态", "好", "完好"), ("状态", "正常", "完好"),
            ("部件名称", "行道树（香樟）", "行道树"), ("部件名称", "雨水井", "雨水井盖")} <= changes
    # The terminal says it too, not only --json: the same file again, replacing itself.
    shown = run("census", "import", csv, "-o", out, "--crs", "wgs84", "--mode", "replace")
    assert shown.exit_code == 0, shown.output
    assert "  状态 好 -> 完好 (" in shown.stdout and "from row 2)" in shown.stdout
    assert "  部件名称 行道树（香樟） -> 行道树 (" in shown.stdout


def test_event_spellings_time_and_web_map_crs(tmp_path):
    out = district(tmp_path)
    lon, lat, bgid = grid_points()
    glon, glat = wgs84_to_gcj02(lon[:3], lat[:3])
    frame = gpd.GeoDataFrame(
        {"事件类型": ["其它街面秩序问题", "其它市容环境问题", "下水道堵塞（大街）"],
         "上报时间": ["2025-05-12 08:30"] * 3},
        geometry=shapely.points(glon, glat), crs=4326)  # GCJ-02 that says WGS 84
    geojson = tmp_path / "amap.geojson"
    frame.to_file(geojson)
    done = run("events", "import", geojson, "-o", out, "--crs", "gcj02", "--json")
    assert done.exit_code == 0, done.output
    figures = json.loads(done.stdout)
    events = pyogrio.read_dataframe(out, layer="event")
    assert figures["accepted"] == 3 and figures["files"][0]["crs"] == "GCJ-02"
    assert events.sort_values("SRCROW")["EVTCODE"].tolist() == ["0599", "0199", "0404"]
    assert events.sort_values("SRCROW")["BGID"].tolist() == list(bgid[:3])
    book = sheet(tmp_path / "times.xlsx", [["事件类型", "经度", "纬度", "上报时间"],
                                            ["暴露垃圾", float(lon[0]), float(lat[0]), 45789.5]],
                 title="某街道事件登记表")
    done = run("events", "import", book, "-o", out, "--crs", "wgs84", "--json")
    assert done.exit_code == 0, done.output
    events = pyogrio.read_dataframe(out, layer="event")
    when = events.loc[events["SRCFILE"] == "times.xlsx", "TIME"].iloc[0]
    assert str(when).startswith("2025-05-12") and "12:00" in str(when)


# -- 12. GeoPackages saved by QGIS ------------------------------------------------------------

def test_layer_styles_does_not_make_a_file_multi_layer(tmp_path):
    out = district(tmp_path)
    lon, lat, bgid = grid_points()
    gpkg = tmp_path / "qgis.gpkg"
    gpd.GeoDataFrame({"部件名称": ["路灯"]}, geometry=shapely.points(lon[:1], lat[:1]),
                     crs=4326).to_file(gpkg, layer="部件")
    import pandas as pd
    pyogrio.write_dataframe(pd.DataFrame({"f_table_name": ["部件"], "styleQML": ["<qgis/>"]}),
                            gpkg, layer="layer_styles", append=True)
    figures = census(gpkg, "-o", out)
    assert figures["accepted"] == 1 and figures["files"][0]["file"] == "qgis.gpkg:部件"


# -- 13. GCJ-02 points with no WGS-84 source --------------------------------------------------

def test_gcj02_points_without_a_source_are_flagged(tmp_path):
    lon, lat = gcj02_to_wgs84(np.array([72.004, 121.3]), np.array([0.8293, 30.7]))
    assert np.isnan(lon[0]) and np.isnan(lat[0]) and np.isfinite(lon[1])
    out = district(tmp_path)
    csv = tmp_path / "edge.csv"
    csv.write_text("部件名称,经度,纬度\n路灯,72.004,0.8293\n", encoding="utf-8")
    census(csv, "-o", out, "--crs", "gcj02")
    _, rejects = layers(out)
    assert rejects["RULE"].tolist() == ["bad-coordinates"]
    assert "no WGS-84 position" in rejects["REASON"][0]


@pytest.mark.parametrize("text", ["2025-05-12", "2025/5/12", "2025年5月12日"])
def test_event_time_spellings(text):
    from gridkit.events.importer import parse_time

    assert parse_time(text, False) == dt.datetime(2025, 5, 12)


def test_local_catalog_sheet_with_a_title_and_numbers(tmp_path):
    from gridkit.codes.local import load_catalog

    rows = [["大类代码", "大类名称", "小类代码", "小类名称"],
            [1, "公用设施", 102, "污水井盖"], [1, "公用设施", 3, "雨水井盖"]]
    catalog = load_catalog(sheet(tmp_path / "catalog.xlsx", rows, title="某市部件分类表"))
    assert {e.code for e in catalog.minors()} == {"0102", "0103"}
    assert catalog.name_of("0102") == "污水井盖"
    assert "102 was a number; read as 0102" in next(
        e.note for e in catalog.minors() if e.code == "0102")


@pytest.mark.parametrize("command", ["census", "events"])
def test_a_table_without_coordinates_says_so_before_asking_for_a_crs(tmp_path, command):
    """No --crs can place a table that has no coordinate columns: say what is missing."""
    out = district(tmp_path)
    plain = tmp_path / "plain.csv"
    plain.write_text("部件名称,备注\n路灯,东门\n", encoding="utf-8")
    done = CliRunner().invoke(main, [command, "import", str(plain), "-o", str(out)])
    assert done.exit_code == 2
    assert "no coordinate columns among 部件名称, 备注" in done.output
    assert "have no CRS" not in done.output


# -- 14. Esri JSON exported from ArcGIS (OBJECTID is the FID and a field) ----------------------

def test_esri_json_with_objectid_imports_census_and_events(tmp_path):
    out = district(tmp_path)
    lon, lat, bgid = grid_points()

    def esri(name, attributes):
        fields = [{"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"}] + [
            {"name": k, "type": "esriFieldTypeString", "alias": k, "length": 50}
            for k in attributes[0]]
        features = [{"attributes": {"OBJECTID": 11 + k, **a},
                     "geometry": {"x": float(lon[k]), "y": float(lat[k])}}
                    for k, a in enumerate(attributes)]
        path = tmp_path / name
        path.write_text(json.dumps({
            "objectIdFieldName": "OBJECTID", "geometryType": "esriGeometryPoint",
            "spatialReference": {"wkid": 4326}, "fields": fields, "features": features},
            ensure_ascii=False), encoding="utf-8")
        return path

    figures = census(esri("census.json", [{"部件名称": "路灯"}, {"部件名称": "垃圾箱"}]),
                     "-o", out)
    components, _ = layers(out)
    assert figures["accepted"] == 2 and figures["rejected"] == 0
    assert components.sort_values("SRCROW")["SRCROW"].tolist() == [11, 12]
    assert components.sort_values("SRCROW")["BGID"].tolist() == list(bgid[:2])
    done = run("events", "import", esri("events.json", [{"事件类型": "暴露垃圾",
                                                         "上报时间": "2025-05-12 08:30"}]),
               "-o", out, "--json")
    assert done.exit_code == 0, done.output
    events = pyogrio.read_dataframe(out, layer="event")
    assert events["SRCROW"].tolist() == [11] and events["BGID"].tolist() == [bgid[0]]


# -- 15. GeoPackages with true curves (CurvePolygon drawn in ArcGIS Pro or QGIS) --------------

def test_curved_component_polygons_are_linearised(tmp_path):
    import struct

    import pyarrow as pa

    out = district(tmp_path)
    lon, lat, bgid = grid_points()
    x, y = pyproj.Transformer.from_crs(4326, 4549, always_xy=True).transform(lon[0], lat[0])
    r = 4.0  # a 4 m round flower bed: two circular arcs
    ring = [(x + r, y), (x, y + r), (x - r, y), (x, y - r), (x + r, y)]
    arc = struct.pack("<BII", 1, 8, len(ring)) + b"".join(struct.pack("<2d", *p) for p in ring)
    curve_polygon = struct.pack("<BII", 1, 10, 1) + arc
    gpkg = tmp_path / "green.gpkg"
    pyogrio.write_arrow(pa.table({"部件名称": ["绿地"], "geometry": pa.array([curve_polygon],
                                                                          pa.binary())}),
                        gpkg, layer="绿地", driver="GPKG", geometry_name="geometry",
                        geometry_type="Unknown", crs="EPSG:4549")
    figures = census(gpkg, "-o", out)
    components, _ = layers(out)
    assert figures["accepted"] == 1 and figures["rejected"] == 0
    shape = components.geometry.iloc[0]
    assert shape.geom_type == "Polygon" and components["BGID"].tolist() == [bgid[0]]
    assert shape.area == pytest.approx(np.pi * r * r, rel=0.01)


# -- 16. Event times from platforms' APIs: offsets and Chinese clock notation ----------------

@pytest.mark.parametrize(("text", "expected"), [
    ("2025-05-12T00:30:00Z", dt.datetime(2025, 5, 12, 8, 30)),        # UTC: 08:30 in China
    ("2025-05-11T20:30:00-04:00", dt.datetime(2025, 5, 12, 8, 30)),
    ("2025-05-12T08:30:00+08:00", dt.datetime(2025, 5, 12, 8, 30)),
    ("2025年5月12日 8时30分", dt.datetime(2025, 5, 12, 8, 30)),
    ("2025年5月12日 8时30分15秒", dt.datetime(2025, 5, 12, 8, 30, 15)),
])
def test_event_times_with_offsets_are_china_time(text, expected):
    from gridkit.events.importer import parse_time

    assert parse_time(text, False) == expected


def test_a_utc_event_time_is_converted_and_logged(tmp_path):
    out = district(tmp_path)
    lon, lat, _ = grid_points()
    csv = tmp_path / "api.csv"
    csv.write_text("案件编号,事件类型,上报时间,经度,纬度\n"
                   f"A1,暴露垃圾,2025-05-12T00:30:00Z,{lon[0]:.7f},{lat[0]:.7f}\n"
                   f"A2,暴露垃圾,2025-05-12T08:30:00+08:00,{lon[1]:.7f},{lat[1]:.7f}\n",
                   encoding="utf-8")
    done = run("events", "import", csv, "-o", out, "--crs", "wgs84", "--json")
    assert done.exit_code == 0, done.output
    figures = json.loads(done.stdout)
    events = pyogrio.read_dataframe(out, layer="event").sort_values("EVTID")
    assert [str(t) for t in events["TIME"]] == ["2025-05-12 08:30:00"] * 2
    assert [c for c in figures["files"][0]["changed_values"] if c["rule"] == "time-zone"] == [
        {"field": "上报时间", "from": "2025-05-12T00:30:00Z", "to": "2025-05-12 08:30:00",
         "rule": "time-zone", "rows": 1, "first_row": 2}]


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-05-11T20:30:00Z", dt.date(2025, 5, 12)),             # 04:30 on 12 May in China
    ("2025-05-12T00:30:00Z", dt.date(2025, 5, 12)),
    ("2025-05-12T23:30:00-05:00", dt.date(2025, 5, 13)),
    ("2025-05-11T20:30:00+08:00", dt.date(2025, 5, 11)),
    ("2025-05-11 20:30", dt.date(2025, 5, 11)),
    ("2025-05-12", dt.date(2025, 5, 12)),                       # "-12" is a day, not an offset
])
def test_census_dates_with_offsets_are_china_time(text, expected):
    from gridkit.components.attributes import parse_date

    assert parse_date(text) == expected


def test_a_utc_census_date_is_converted_and_logged_as_events_are(tmp_path):
    out = district(tmp_path)
    rows = good_rows(3)
    rows[0][8] = "2025-05-11T20:30:00Z"         # ORDATE from a platform's API, in UTC
    rows[1][8] = "2025-05-11T20:30:00+08:00"    # China's own offset: read as written
    rows[2][9] = "2025-05-12T00:30:00Z"         # CHDATE: the same day either way, still logged
    csv = tmp_path / "census.csv"
    csv.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    figures = census(csv, "-o", out, "--crs", "wgs84")
    components = pyogrio.read_dataframe(out, layer="component").sort_values("SRCROW")
    assert [str(d)[:10] for d in components["ORDATE"]] == ["2025-05-12", "2025-05-11",
                                                           "2012-03-05"]
    assert str(components["CHDATE"].iloc[2])[:10] == "2025-05-12"
    assert [c for c in figures["files"][0]["changed_values"] if c["rule"] == "time-zone"] == [
        {"field": "初始时间", "from": "2025-05-11T20:30:00Z", "to": "2025-05-12",
         "rule": "time-zone", "rows": 1, "first_row": 2},
        {"field": "变更时间", "from": "2025-05-12T00:30:00Z", "to": "2025-05-12",
         "rule": "time-zone", "rows": 1, "first_row": 4}]


def test_geopackage_event_times_keep_their_offset(tmp_path):
    """GDAL's Arrow read labels a GeoPackage DateTime column UTC; 20:30+08:00 stays 20:30."""
    import pandas as pd

    out = district(tmp_path)
    lon, lat, _ = grid_points()
    when = pd.to_datetime(["2025-05-12 20:30", "2025-05-12 12:30"])
    frame = gpd.GeoDataFrame(
        {"事件类型": ["暴露垃圾", "暴露垃圾"],
         "上报时间": pd.Series([when[0].tz_localize("Asia/Shanghai"),
                            when[1].tz_localize("UTC")], dtype=object)},
        geometry=shapely.points(lon[:2], lat[:2]), crs=4326)
    gpkg = tmp_path / "platform.gpkg"
    frame.to_file(gpkg, layer="事件")
    done = run("events", "import", gpkg, "-o", out, "--json")
    assert done.exit_code == 0, done.output
    events = pyogrio.read_dataframe(out, layer="event").sort_values("SRCROW")
    assert [str(t) for t in events["TIME"]] == ["2025-05-12 20:30:00"] * 2
    changed = json.loads(done.stdout)["files"][0]["changed_values"]
    assert [(c["rule"], c["to"]) for c in changed] == [("time-zone", "2025-05-12 20:30:00")]


def test_codes_check_and_import_agree_on_an_empty_objcode(tmp_path):
    # A survey team's sheet: 标识码 left empty on new components, for the import to allocate.
    rows = good_rows(5)
    rows[2][0] = "3101160104000001"  # one 雨水箅子 already coded: kept
    csv = tmp_path / "census.csv"
    csv.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    done = run("codes", "check", csv, "--json")
    assert done.exit_code == 0, done.output  # not an error: the import allocates them
    report = json.loads(done.stdout)
    issues = [i for part in report["layers"] for i in part["issues"]
              if i["rule"] == "objcode-to-allocate"]
    assert len(issues) == 1 and issues[0]["severity"] == "warning"
    assert "4 rows have no component code (rows 2-3, 5-6): to be allocated" in \
        issues[0]["message"]
    assert report["errors"] == 0
    figures = census(csv, "-o", district(tmp_path), "--crs", "wgs84")
    assert figures["codes"]["allocated"] == 4 and figures["codes"]["kept"] == 1


def test_srcrow_of_feature_files_is_the_feature_id_qgis_shows_and_each_import_says_so(tmp_path):
    out = district(tmp_path)
    lon, lat, _ = grid_points()
    frame = gpd.GeoDataFrame({"部件名称": ["路灯", "垃圾箱", "污水井盖"]},
                             geometry=shapely.points(lon[:3], lat[:3]), crs=4326)
    frame.to_file(tmp_path / "survey.geojson")
    frame.to_file(tmp_path / "survey.gpkg")
    expected = {"survey.geojson": [0, 1, 2], "survey.gpkg": [1, 2, 3]}
    for name, first in (("survey.geojson", "0 = first feature"),
                        ("survey.gpkg", "1 = first feature")):
        done = run("census", "import", tmp_path / name, "-o", out, "--allow-duplicates")
        assert done.exit_code == 0, done.output
        assert "SRCROW: " in done.output and first in done.output
        components, _ = layers(out)
        mine = components[components["SRCFILE"] == name].sort_values("SRCROW")
        # QGIS's $id of each feature (GDAL's FID): the row a user selects with "$id = N".
        assert mine["SRCROW"].tolist() == expected[name]
        assert mine["OBJNAME"].tolist() == frame["部件名称"].tolist()
    # A GeoJSON whose features carry ids: QGIS shows those, SRCROW too.
    collection = json.loads((tmp_path / "survey.geojson").read_text(encoding="utf-8"))
    for feature, fid in zip(collection["features"], (101, 205, 3), strict=True):
        feature["id"] = fid
    (tmp_path / "ids.geojson").write_text(json.dumps(collection), encoding="utf-8")
    figures = census(tmp_path / "ids.geojson", "-o", out, "--allow-duplicates")
    assert "GeoJSON id members" in figures["files"][0]["srcrow"]
    components, _ = layers(out)
    assert sorted(components.loc[components["SRCFILE"] == "ids.geojson", "SRCROW"]) == \
        [3, 101, 205]
