"""The GeoPackage hand-off: QGIS default styles in layer_styles and Chinese field titles in
the schema extension, read back with sqlite3; the file still opens in GDAL."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import pyogrio
import pytest
from test_export_support import district, edit_layer

from gridkit.export import ExportOptions, export

QGIS_COLUMNS = ["id", "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
                "styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner",
                "ui", "update_time"]
SPATIAL = ["community", "unit_grid", "responsibility_grid", "component", "event", "qa_issue"]


@pytest.fixture(scope="module")
def handoff(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gpkg")
    dest = folder / "handoff.gpkg"
    export(district(folder), ExportOptions("gpkg", dest, record=False))
    return dest


def query(path, sql, *args):
    with sqlite3.connect(path) as db:
        return db.execute(sql, args).fetchall()


def qml_root(text):
    return ET.fromstring(text.split("\n", 1)[1])  # past the DOCTYPE line


def test_schema_extension_tables(handoff):
    extensions = query(handoff, "SELECT table_name, column_name, extension_name, scope FROM "
                                "gpkg_extensions WHERE extension_name = 'gpkg_schema'")
    assert sorted(extensions) == [("gpkg_data_column_constraints", None, "gpkg_schema",
                                   "read-write"),
                                  ("gpkg_data_columns", None, "gpkg_schema", "read-write")]
    ddl = query(handoff, "SELECT sql FROM sqlite_master WHERE name = 'gpkg_data_columns'")[0][0]
    assert "PRIMARY KEY (table_name, column_name)" in ddl and "UNIQUE (table_name, name)" in ddl
    rows = query(handoff, "SELECT table_name, column_name, name, title, description, "
                          "constraint_name FROM gpkg_data_columns")
    described = {(t, c): (n, title, d, k) for t, c, n, title, d, k in rows}
    assert described[("component", "OBJCODE")][:2] == ("标识码", "标识码")
    assert "GB/T 30428.2" in described[("component", "OBJCODE")][2]
    assert described[("unit_grid", "BGID")][0] == "单元网格编码"
    assert described[("unit_grid", "DENSITY")][3] == "gridkit_density"
    assert described[("qa_issue", "SEVERITY")][3] == "gridkit_severity"
    contents = {r[0] for r in query(handoff, "SELECT table_name FROM gpkg_contents")}
    for table, column in described:
        assert table in contents
        assert column in {r[1] for r in query(handoff, f'PRAGMA table_info("{table}")')}
    names = [(t, n) for t, _, n, _, _, _ in rows]
    assert len(names) == len(set(names))  # gdc_tn
    enums = query(handoff, "SELECT constraint_name, constraint_type, value, min, max FROM "
                           "gpkg_data_column_constraints ORDER BY constraint_name, value")
    assert ("gridkit_density", "enum", "dense", None, None) in enums
    assert {r[0] for r in enums} == {"gridkit_density", "gridkit_severity"}
    title = query(handoff, "SELECT identifier, description FROM gpkg_contents WHERE "
                           "table_name = 'responsibility_grid'")[0]
    assert title[0] == "责任网格" and "疏密相间" in title[1]


def test_layer_styles_table(handoff):
    columns = [r[1] for r in query(handoff, "PRAGMA table_info(layer_styles)")]
    assert columns == QGIS_COLUMNS
    assert query(handoff, "SELECT data_type FROM gpkg_contents WHERE table_name = "
                          "'layer_styles'") == [("attributes",)]
    geometry = dict(query(handoff, "SELECT table_name, column_name FROM gpkg_geometry_columns"))
    rows = query(handoff, "SELECT f_table_catalog, f_table_schema, f_table_name, "
                          "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, "
                          "owner FROM layer_styles")
    styles = {r[2]: r for r in rows}
    assert sorted(styles) == sorted([*SPATIAL, "gridkit_run", "gridkit_export"])
    for name, (catalog, schema, _, column, style_name, qml, sld, default, owner) in \
            styles.items():
        assert (catalog, schema, column, style_name, default, owner) == \
               ("", "", geometry.get(name, ""), name, 1, "gridkit")
        root = qml_root(qml)
        assert qml.startswith("<!DOCTYPE qgis") and root.tag == "qgis"
        if name in SPATIAL:
            assert ET.fromstring(sld.encode()).tag.endswith("StyledLayerDescriptor")
        else:  # attribute tables: the Chinese aliases only
            assert sld == "" and root.find("renderer-v2") is None
            assert root.find("aliases") is not None

    grid = qml_root(styles["unit_grid"][5])
    assert grid.find("renderer-v2").get("type") == "singleSymbol"
    fill = {o.get("name"): o.get("value") for o in grid.iter("Option") if o.get("name")}
    assert fill["style"] == "no"  # outlined, not filled
    aliases = {a.get("field"): a.get("name") for a in grid.iter("alias")}
    assert aliases["BGID"] == "单元网格编码"

    density = qml_root(styles["responsibility_grid"][5]).find("renderer-v2")
    assert (density.get("type"), density.get("attr")) == ("categorizedSymbol", "DENSITY")
    assert [c.get("value") for c in density.iter("category")] == ["dense", "sparse", ""]

    majors = qml_root(styles["component"][5]).find("renderer-v2")
    assert majors.get("attr") == "MAJOR"
    labels = {c.get("value"): c.get("label") for c in majors.iter("category")}
    assert labels["01"] == "01 公用设施" and labels["02"] == "02 道路交通"
    assert {s.get("type") for s in majors.iter("symbol")} == {"marker"}
    assert "<ogc:Literal>01</ogc:Literal>" in styles["component"][6]


def test_the_file_still_opens_everywhere(handoff):
    layers = dict(pyogrio.list_layers(handoff))
    assert set(SPATIAL) | {"gridkit_run", "gridkit_export", "layer_styles"} <= set(layers)
    for name in layers:
        frame = pyogrio.read_dataframe(handoff, layer=name)
        assert len(frame) > 0, name
    manifest = pyogrio.read_dataframe(handoff, layer="gridkit_export")
    assert dict(zip(manifest["LAYER"], manifest["FEATURES"], strict=True))["component"] == 240
    assert query(handoff, "PRAGMA integrity_check") == [("ok",)]
    assert query(handoff, "PRAGMA user_version") == [(10300,)]  # GeoPackage 1.3
    assert query(handoff, "PRAGMA foreign_key_check") == []


def test_incremental_geopackage_is_styled_by_change(tmp_path):
    source = district(tmp_path)
    export(source, ExportOptions("gpkg", tmp_path / "all.gpkg", layers=["community"]))

    def rename(frame, shapes):
        frame.loc[frame.index[0], "NAME"] = "新城居委会"
        return frame, shapes

    edit_layer(source, "community", rename)
    dest = tmp_path / "delta.gpkg"
    export(source, ExportOptions("gpkg", dest, since="last", layers=["community"]))
    qml = query(dest, "SELECT styleQML FROM layer_styles WHERE f_table_name = 'community'")[0][0]
    renderer = qml_root(qml).find("renderer-v2")
    assert renderer.get("attr") == "CHANGE"
    assert query(dest, "SELECT constraint_name FROM gpkg_data_columns WHERE column_name = "
                       "'CHANGE'") == [("gridkit_change",)]
    assert query(dest, "SELECT NAME, CHANGE FROM community") == [("新城居委会", "changed")]
