"""Local catalogs from CSV and XLSX, and their validation messages."""

from __future__ import annotations

import openpyxl
import pytest

from gridkit.codes import CatalogError, load_catalog, match_class

GOOD = [("code", "name", "geometry"), ("01", "公用设施", ""), ("0101", "上水井盖", "点"),
        ("0102", "污水井盖", "point"), ("07", "扩展部件", ""), ("0701", "防蚊闸", "线")]


def write_csv(path, rows):
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


def write_xlsx(path, rows, number_format=None):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    if number_format:
        for cell in sheet["A"][1:]:
            cell.number_format = number_format
    book.save(path)
    return path


@pytest.fixture(params=["csv", "xlsx"])
def writer(request, tmp_path):
    def write(rows, **kw):
        if request.param == "csv":
            return write_csv(tmp_path / "classes.csv", rows)
        return write_xlsx(tmp_path / "classes.xlsx", rows, **kw)

    return write


def test_good_catalog(writer):
    catalog = load_catalog(writer(GOOD))
    assert [e.code for e in catalog] == ["01", "0101", "0102", "07", "0701"]
    assert catalog["0701"].geometry == "line"
    assert match_class("防蚊闸", catalog).code == "0701"


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (("0101", "中水井盖", ""), "row 7, field code: 0101 is already defined at row 3"),
        (("011", "中水井盖", ""), "row 7, field code: '011' has 3 digits"),
        (("0103", "污 水井盖", ""), "row 7, field name: '污 水井盖' already names 0102 (row 4)"),
        (("0801", "无主类", ""), "row 7, field code: 0801's major class 08 is not defined"),
        (("0103", "中水井盖", "圆"), "row 7, field geometry: '圆' is not a geometry kind"),
        (("01A3", "中水井盖", ""), "row 7, field code: '01A3' has characters other than digits"),
    ],
)
def test_bad_rows_are_reported_with_row_field_and_fix(writer, bad_row, message):
    with pytest.raises(CatalogError) as info:
        load_catalog(writer([*GOOD, bad_row]))
    line = str(info.value)
    assert message in line
    assert " — " in line and "\n" not in line  # one line: the fix follows the dash


def test_all_problems_are_collected(tmp_path):
    path = write_csv(tmp_path / "c.csv", [*GOOD, ("011", "a", ""), ("0101", "b", "")])
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert len(info.value.problems) == 2
    assert "(and 1 more problems)" in str(info.value)


def test_missing_columns(tmp_path):
    path = write_csv(tmp_path / "c.csv", [("foo", "bar"), ("1", "2")])
    with pytest.raises(CatalogError, match="no code and name columns"):
        load_catalog(path)


def test_wide_chinese_layout_and_kind_column(tmp_path):
    rows = [("类型", "大类代码", "大类名称", "小类代码", "小类名称"),
            ("部件", "01", "公用设施", "01", "上水井盖"),
            ("部件", "01", "公用设施", "02", "污水井盖"),
            ("事件", "01", "市容环境", "01", "私搭乱建")]
    path = write_csv(tmp_path / "wide.csv", rows)
    assert [e.code for e in load_catalog(path)] == ["01", "0101", "0102"]
    assert load_catalog(path, "event")["0101"].name == "私搭乱建"


def test_xlsx_numeric_codes_keep_zeros_through_number_format(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [("code", "name"), (1, "公用设施"), (101, "上水井盖")]:
        sheet.append(row)
    sheet["A2"].number_format, sheet["A3"].number_format = "00", "0000"
    book.save(tmp_path / "n.xlsx")
    assert [e.code for e in load_catalog(tmp_path / "n.xlsx")] == ["01", "0101"]
    bare = write_xlsx(tmp_path / "bare.xlsx", [("code", "name"), (1, "公用设施")])
    with pytest.raises(CatalogError, match="'1' has 1 digits"):
        load_catalog(bare)


def test_extend_adds_to_national(tmp_path):
    path = write_csv(tmp_path / "x.csv", [("code", "name"), ("0150", "防蚊闸"), ("21", "扩展"),
                                           ("2101", "洗车场")])
    catalog = load_catalog(path, extend=True)
    assert catalog["0102"].name == "污水井盖" and catalog["0150"].name == "防蚊闸"
    clash = write_csv(tmp_path / "y.csv", [("code", "name"), ("0102", "雨污合流井盖")])
    with pytest.raises(CatalogError, match="0102 is 污水井盖 in the national catalog"):
        load_catalog(clash, extend=True)
