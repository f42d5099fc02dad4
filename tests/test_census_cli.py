"""`gridkit census` as a user runs it: real files of every kind in, layers read back."""

from __future__ import annotations

import csv
import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from test_census_support import HEADER, district, good_rows, grid_points, gridkit

from gridkit.errors import GridkitError
from gridkit.records.coords import wgs84_to_gcj02


def write_csv(path, rows, encoding):
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def points_frame(n: int, offset: int, crs: int = 4490) -> gpd.GeoDataFrame:
    lon, lat, _ = grid_points()
    rows = good_rows(n, offset=offset)
    frame = gpd.GeoDataFrame(
        {"标识码": [""] * n, "部件名称": [r[1] for r in rows], "主管部门": [r[4] for r in rows],
         "权属单位": [r[5] for r in rows], "养护单位": [r[6] for r in rows],
         "状态": ["破损"] * n, "初始时间": [r[8] for r in rows], "数据来源": ["调绘"] * n,
         "备注": ["靠近路口"] * n, "照片": [r[12] for r in rows]},
        geometry=shapely.points(lon[offset:offset + n], lat[offset:offset + n]), crs=4326)
    return frame.set_crs(crs, allow_override=True) if crs == 4490 else frame.to_crs(crs)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """One import of five files of different kinds into one district, run once."""
    folder = tmp_path_factory.mktemp("census")
    out = district(folder)
    gbk = write_csv(folder / "井盖普查.csv", good_rows(10), "gbk")
    bom = write_csv(folder / "bom.csv", good_rows(10, offset=10), "utf-8-sig")

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "部件"
    sheet.append(HEADER)
    for r in good_rows(10, offset=20):
        r[2], r[3] = float(r[2]), float(r[3])  # numbers, as Excel keeps them
        r[8] = dt.datetime(2012, 3, 5)  # a real date cell
        sheet.append(r)
    book.create_sheet("说明").append(["填表说明"])
    book.save(folder / "survey.xlsx")

    shp = folder / "lamps.shp"
    pyogrio.write_dataframe(points_frame(10, 30), shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    assert "部件名称".encode("gbk") in shp.with_suffix(".dbf").read_bytes()

    english = points_frame(10, 40, crs=4549).rename(columns={
        "标识码": "OBJCODE", "部件名称": "OBJNAME", "主管部门": "DEPTNAME1",
        "权属单位": "DEPTNAME2", "养护单位": "DEPTNAME3", "状态": "OBJSTATE",
        "初始时间": "ORDATE", "数据来源": "DATASOURCE", "备注": "NOTE", "照片": "PICTURE"})
    english.to_file(folder / "trees.gpkg", layer="trees")

    done = gridkit("census", "import", gbk, bom, folder / "survey.xlsx", "--sheet", "部件",
                   "-o", out, "--crs", "wgs84", "--json")
    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout)
    # Shapefile and GeoPackage carry their CRS: no --crs needed.
    done = gridkit("census", "import", shp, folder / "trees.gpkg", "-o", out, "--json")
    assert done.returncode == 0, done.stderr
    return folder, out, first, json.loads(done.stdout)


def test_every_format_imports_with_its_encoding(imported):
    folder, out, first, second = imported
    files = {f["file"]: f for f in first["files"] + second["files"]}
    assert files["井盖普查.csv"]["encoding"] == "gb18030"
    assert files["bom.csv"]["encoding"] == "utf-8-sig"
    assert "survey.xlsx:部件" in files and files["lamps.shp"]["crs"] == "EPSG:4490"
    assert all(f["rows"] == 10 == f["accepted"] for f in files.values()), files
    assert first["balanced"] and second["balanced"] and second["components"] == 50
    comp = pyogrio.read_dataframe(out, layer="component")
    assert len(comp) == 50 and comp.crs.to_epsg() == 4549
    _, _, bgids = grid_points()
    assert sorted(comp["BGID"]) == sorted(bgids[:50])
    assert comp["OBJCODE"].str.fullmatch(r"\d{16}").all() and comp["OBJCODE"].is_unique
    shp_rows = comp[comp["SRCFILE"] == "lamps.shp"]
    assert set(shp_rows["OBJSTATE"]) == {"破损"} and set(shp_rows["NOTE"]) == {"靠近路口"}
    assert set(shp_rows["DEPTNAME1"]) == {"区绿化市容局"}  # GBK text decoded
    xlsx_rows = comp[comp["SRCFILE"] == "survey.xlsx:部件"]
    assert set(xlsx_rows["ORDATE"].astype(str)) == {"2012-03-05"}
    csv_rows = comp[comp["SRCFILE"] == "井盖普查.csv"]
    assert json.loads(csv_rows["EXTRA"].iloc[0]) == {"调查员": "张三"}
    info = pyogrio.read_info(out, layer="component")
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types["OBJCODE"] == "OFTString" and types["ORDATE"] == "OFTDate"
    assert info["geometry_type"] == "Point"
    layers = dict(pyogrio.list_layers(out))
    assert {"component", "component_reject", "qa_issue", "gridkit_run"} <= set(layers)
    runs = pyogrio.read_dataframe(out, layer="gridkit_run")
    assert runs["COMMAND"].tolist()[-2:] == ["census import"] * 2
    assert len(json.loads(runs["INPUTS"].iloc[-2])) == 3


def test_check_passes_a_clean_layer_then_fails_on_errors(imported, tmp_path):
    _, out, _, _ = imported
    done = gridkit("census", "check", out, "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0, (done.stderr, report["by_rule"])
    assert report["components"] == 50 and report["errors"] == 0
    assert report["coverage"]["grids_without_components"] == report["unit_grids"] - 50
    assert pyogrio.read_dataframe(out, layer="component_coverage")["COUNT"].sum() == 50

    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(out.read_bytes())
    comp = pyogrio.read_dataframe(broken, layer="component")
    comp.loc[0, "OBJCODE"] = comp.loc[1, "OBJCODE"]
    comp.loc[2, "DEPTNAME2"] = None
    comp.loc[3, "OBJSTATE"] = "坏了"
    comp.loc[4, "CHDATE"] = pd.Timestamp("2000-01-01")
    comp.loc[5, "BGID"] = comp.loc[6, "BGID"]
    pyogrio.write_dataframe(comp, broken, layer="component")
    done = gridkit("census", "check", broken, "--json")
    assert done.returncode == 1 and "component errors" in done.stderr
    report = json.loads(done.stdout)
    assert {"duplicate-objcode", "field-missing", "enum-invalid", "date-order",
            "bgid-location"} <= set(report["by_rule"])
    qa = pyogrio.read_dataframe(broken, layer="qa_issue")
    assert set(qa["COMMAND"]) == {"census check"} and len(qa) == sum(
        r["count"] for r in report["by_rule"].values())
    text = gridkit("census", "check", broken)
    assert text.returncode == 1 and "errors" in text.stdout


def test_gcj02_geojson_and_summary_output(tmp_path):
    out = district(tmp_path)
    frame = points_frame(6, 0, crs=4326)
    lon, lat = wgs84_to_gcj02(frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy())
    frame = frame.set_geometry(gpd.points_from_xy(lon, lat), crs=4326)
    frame.to_file(tmp_path / "amap.geojson")
    done = gridkit("census", "import", tmp_path / "amap.geojson", "-o", out, "--crs", "gcj02")
    assert done.returncode == 0, done.stderr
    assert "6 rows = 6 accepted + 0 rejected" in done.stdout
    comp = pyogrio.read_dataframe(out, layer="component")
    _, _, bgids = grid_points()
    assert sorted(comp["BGID"]) == sorted(bgids[:6])


def test_bad_input_is_one_line_with_exit_2_and_leaves_the_file_intact(tmp_path):
    out = district(tmp_path)
    good = write_csv(tmp_path / "good.csv", good_rows(3), "utf-8")
    before = out.read_bytes()
    cases = [
        (["census", "import", good, "-o", out], "--crs"),
        (["census", "import", tmp_path / "missing.csv", "-o", out, "--crs", "wgs84"],
         "no such file"),
        (["census", "import", good, "-o", tmp_path / "new.gpkg", "--crs", "wgs84"],
         "gridkit partition"),
        (["census", "import", good, "-o", out, "--crs", "moon"], "not a CRS"),
        (["census", "import", good, "-o", out, "--crs", "wgs84", "--map", "COLOUR=x"],
         "not a field"),
    ]
    for args, words in cases:
        done = gridkit(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""
    assert out.read_bytes() == before


def test_failed_write_never_damages_the_output(tmp_path, monkeypatch):
    from gridkit import io
    from gridkit.components.gpkg import import_to_geopackage
    from gridkit.components.importer import ImportOptions

    out = district(tmp_path)
    before = out.read_bytes()
    good = write_csv(tmp_path / "good.csv", good_rows(5), "utf-8")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(io.pyogrio, "write_arrow", broken)
    # A one-line error (exit 2 on the command line) that says the file is untouched.
    with pytest.raises(GridkitError, match="disk full.*as it was before"):
        import_to_geopackage([good], out, ImportOptions(crs="wgs84"))
    assert out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.gpkg")]


def test_help_has_examples():
    for args in (["census", "--help"], ["census", "import", "--help"],
                 ["census", "check", "--help"]):
        done = gridkit(*args)
        assert done.returncode == 0 and "Example" in done.stdout


def test_points_on_a_shared_edge_follow_the_rule(tmp_path):
    """A component exactly on the border of two grids goes to the smaller BGID."""
    out = district(tmp_path)
    grids = pyogrio.read_dataframe(out, layer="unit_grid").sort_values("BGID")
    a = grids.iloc[0]
    touching = grids[grids.geometry.touches(a.geometry)]
    shared = shapely.intersection(a.geometry, touching.geometry.iloc[0])
    point = shapely.line_interpolate_point(shapely.line_merge(shared), 0.5, normalized=True) \
        if shared.geom_type != "Point" else shared
    frame = gpd.GeoDataFrame({"部件名称": ["路灯"], "状态": ["完好"]}, geometry=[point],
                             crs=4549)
    frame.to_file(tmp_path / "edge.gpkg")
    done = gridkit("census", "import", tmp_path / "edge.gpkg", "-o", out, "--json")
    assert done.returncode == 0, done.stderr
    comp = pyogrio.read_dataframe(out, layer="component")
    assert comp["BGID"].tolist() == [min(a.BGID, touching["BGID"].iloc[0])]
    assert np.isclose(comp.geometry.x.iloc[0], point.x)
