"""report_html builds, from layers in memory, the very page report_geopackage writes for a
GeoPackage holding them: the file-level report is read → the same rendering → write."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
import shapely

from gridkit.components import ImportOptions, UnitGrids, import_census
from gridkit.errors import GridkitError
from gridkit.io import ArrowLayer, write_geopackage
from gridkit.partition import partition
from gridkit.report import ReportOptions, report_geopackage, report_html

X, Y = 624_000, 3_398_000  # EPSG:4549 metres


def test_the_page_in_memory_is_the_page_of_the_geopackage(tmp_path):
    cut = partition(gpd.GeoDataFrame(
        {"CODE": ["310116001001", "310116001002"], "NAME": ["东林居委会", "罗星村"]}, crs=4549,
        geometry=[shapely.box(X, Y, X + 300, Y + 200), shapely.box(X + 300, Y, X + 600, Y + 200)]))
    rows = [f"路灯,{X + 10 + 20 * i},{Y + 50}" for i in range(25)] + ["垃圾箱,1,1"]
    (tmp_path / "c.csv").write_text("部件名称,X,Y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    census = import_census([tmp_path / "c.csv"], UnitGrids(cut.unit_grids),
                           ImportOptions(crs="EPSG:4549"))
    table = census.component_table()
    layers = {"community": cut.communities, "unit_grid": cut.unit_grids, "qa_issue": cut.qa}
    gpkg = tmp_path / "out.gpkg"
    write_geopackage(gpkg, {**layers, "component": ArrowLayer(table, "EPSG:4549",
                                                              census.geometry_type)})
    written = report_geopackage(gpkg, ReportOptions(lang="en"))
    page = report_html({**layers, "component": table}, ReportOptions(lang="en"),
                       name=str(gpkg))
    assert page.html == (tmp_path / "out.html").read_text(encoding="utf-8")
    assert page["bytes"] == written["bytes"] == len(page.html.encode("utf-8"))
    assert page["output"] is None and written.html == ""
    assert page["counts"] == written["counts"] == {"community": 2, "component": 25,
                                                   "qa_issue": 0, "unit_grid": 12}
    # Components as a GeoDataFrame (read back) draw the same points.
    frame = pyogrio.read_dataframe(gpkg, layer="component")
    again = report_html({**layers, "component": frame}, ReportOptions(lang="en"),
                        name=str(gpkg))
    assert again.page["figures"]["points"] == page.page["figures"]["points"]


def test_the_page_in_memory_refuses_what_the_file_would(tmp_path):
    cut = partition(gpd.GeoDataFrame({"CODE": ["310116001001"]}, crs=4549,
                                     geometry=[shapely.box(X, Y, X + 300, Y + 100)]))
    with pytest.raises(GridkitError, match="no community layer"):
        report_html({"unit_grid": cut.unit_grids})
    with pytest.raises(GridkitError, match="not a projected metric CRS"):
        report_html({"community": cut.communities, "unit_grid": cut.unit_grids.to_crs(4490)})
    with pytest.raises(GridkitError, match="lang='fr'"):
        report_html({"community": cut.communities, "unit_grid": cut.unit_grids},
                    ReportOptions(lang="fr"))
