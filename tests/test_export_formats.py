"""Every format reads back (through GDAL, pandas or geopandas) with the same features and
values as OUT.gpkg: Chinese text, codes as text with their zeros, dates, geometries within
the format's precision."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pyproj
import pytest
import shapely
from test_export_support import (
    assert_rows_equal,
    canon,
    district,
    edit_layer,
    same,
    source_rows,
)

from gridkit.errors import GridkitError
from gridkit.export import ExportOptions, export
from gridkit.export.source import KEYS
from gridkit.export.writers.text import GBK_FALLBACK

# Every layer a default export hands on (the partition's context_* layers only when named).
LAYERS = ["community", "unit_grid", "responsibility_grid", "component", "event", "qa_issue",
          "gridkit_run"]
SPATIAL = LAYERS[:-1]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return district(tmp_path_factory.mktemp("formats"))


def run(source, fmt, dest, **options):
    return export(source, ExportOptions(fmt, dest, record=False, **options))


def sort_key(layer):
    return KEYS.get(layer, {"qa_issue": "MESSAGE", "gridkit_run": "TIME"}.get(layer))


def ordered(rows, shapes, layer):
    """Rows (and shapes) in key order, so files split or reordered compare."""
    key = sort_key(layer)
    order = sorted(range(len(rows)), key=lambda i: (str(rows[i].get(key)), i))
    rows = [rows[i] for i in order]
    return rows, None if shapes is None else np.asarray(shapes, dtype=object)[order]


def same_shapes(expected, actual, tolerance=0.0):
    for a, b in zip(expected, actual, strict=True):
        if a is None or b is None:
            assert a is None and b is None
            continue
        if tolerance:  # rounded coordinates: every vertex within the rounding
            assert shapely.hausdorff_distance(a, b) <= tolerance, (a.wkt[:80], b.wkt[:80])
            continue
        a, b = shapely.normalize(a), shapely.normalize(b)
        assert a.equals_exact(b, 0) or shapely.equals(a, b), (a.wkt[:80], b.wkt[:80])


def to_wgs84(shapes, crs):
    transformer = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    return shapely.transform(shapes, lambda xy: np.column_stack(
        transformer.transform(xy[:, 0], xy[:, 1])))


def test_geopackage_round_trip(source, tmp_path):
    dest = tmp_path / "handoff.gpkg"
    report = run(source, "gpkg", dest)
    assert report["outputs"] == [str(dest)] and report["format"] == "gpkg"
    assert set(report["counts"]) == set(LAYERS)
    for layer in LAYERS:
        rows, shapes, crs = source_rows(source, layer)
        back, back_shapes, back_crs = source_rows(dest, layer)
        assert_rows_equal(rows, back, list(rows[0]), where=layer)
        assert back_crs == crs
        if shapes is not None:
            same_shapes(shapes, back_shapes)
        assert report["counts"][layer] == len(rows)
    info = pyogrio.read_info(dest, layer="component")
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types["OBJCODE"] == types["MAJOR"] == "OFTString" and types["ORDATE"] == "OFTDate"
    assert pyogrio.read_info(dest, layer="event")["geometry_type"] == "Point"


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_shapefile_round_trip(source, tmp_path, encoding):
    dest = tmp_path / f"shp-{encoding}"
    report = run(source, "shp", dest, encoding=encoding)
    assert "gridkit_run" not in report["counts"]  # attribute tables only when asked
    names = pd.read_csv(dest / "field_names.csv", dtype=str, encoding="utf-8-sig")
    assert set(names.columns) == {"LAYER", "FILES", "FIELD", "SHAPEFILE_FIELD", "TITLE"}
    # Mixed geometries: one Shapefile per family.
    assert report["layers"]["component"]["files"] == [
        "component_point.shp", "component_line.shp", "component_polygon.shp"]
    for layer in SPATIAL:
        rows, shapes, _ = source_rows(source, layer)
        mapping = names[names["LAYER"] == layer]
        back_to = dict(zip(mapping["SHAPEFILE_FIELD"], mapping["FIELD"], strict=True))
        back, back_shapes = [], []
        for name in report["layers"][layer]["files"]:
            _, table = pyogrio.read_arrow(dest / name)  # GDAL decodes by the .cpg
            back_shapes += list(shapely.from_wkb(table.column("wkb_geometry").to_pylist()))
            back += [{back_to[k]: v for k, v in row.items() if k in back_to}
                     for row in table.drop_columns(["wkb_geometry"]).to_pylist()]
        if encoding == "gbk":
            rows = [{k: v.translate(GBK_FALLBACK) if isinstance(v, str) else v
                     for k, v in row.items()} for row in rows]
        rows, shapes = ordered(rows, shapes, layer)
        back, back_shapes = ordered(back, back_shapes, layer)
        assert_rows_equal(rows, back, list(rows[0]), empty_is_null=True, where=layer)
        same_shapes(shapes, back_shapes)
    cpg = (dest / "unit_grid.cpg").read_text()
    assert cpg == ("936" if encoding == "gbk" else "UTF-8")
    dbf = (dest / "component_point.dbf").read_bytes()
    assert dbf[29] == (0x4D if encoding == "gbk" else 0)
    assert "区路政所".encode(encoding) in dbf
    comp = pyogrio.read_dataframe(dest / "component_point.shp")
    assert comp["MAJOR"].str.startswith("0").all() and comp["OBJNAME"].str.len().min() >= 2


def test_shapefile_attribute_table_and_gbk_refusal(source, tmp_path):
    report = run(source, "shp", tmp_path / "runs", layers=["gridkit_run"], encoding="utf-8")
    assert report["layers"]["gridkit_run"]["files"] == ["gridkit_run.dbf"]
    assert len(pyogrio.read_dataframe(tmp_path / "runs" / "gridkit_run.dbf")) == 2
    rare = tmp_path / "rare.gpkg"
    rare.write_bytes(source.read_bytes())

    def rare_note(frame, shapes):
        frame.loc[frame["SRCROW"] == 9, "NOTE"] = "龑䶮路口"  # 䶮 is in GB18030, not GBK
        return frame, shapes

    edit_layer(rare, "component", rare_note)

    with pytest.raises(GridkitError, match=r"component feature 8 field NOTE: '䶮' cannot be "
                                           r"written in GBK; export with `encoding='utf-8'`"):
        run(rare, "shp", tmp_path / "rare-gbk", layers=["component"])
    assert not (tmp_path / "rare-gbk").exists()
    run(rare, "shp", tmp_path / "rare-utf8", layers=["component"], encoding="utf-8")
    notes = pyogrio.read_dataframe(tmp_path / "rare-utf8" / "component_point.shp")["NOTE"]
    assert "龑䶮路口" in set(notes)


def test_geojson_round_trip(source, tmp_path):
    dest = tmp_path / "web"
    report = run(source, "geojson", dest)
    for layer in LAYERS:
        rows, shapes, crs = source_rows(source, layer)
        meta, table = pyogrio.read_arrow(dest / f"{layer}.geojson")
        geometry = table.column("wkb_geometry").to_pylist()
        back = table.drop_columns(["wkb_geometry"]).to_pylist()
        assert_rows_equal(rows, back, list(rows[0]), where=layer)
        if shapes is None:
            assert all(g is None for g in geometry)
            continue
        assert pyproj.CRS(meta["crs"]).equals(pyproj.CRS("EPSG:4326"))
        expected = to_wgs84(shapes, crs)
        same_shapes(expected, shapely.from_wkb(geometry), tolerance=1e-7)
    text = (dest / "unit_grid.geojson").read_text(encoding="utf-8")
    assert '"crs"' not in text  # RFC 7946: WGS 84 only, no crs member
    decimals = {len(d) for d in re.findall(r"\d+\.(\d+)", text.split('"features"')[1][:4000])}
    assert max(decimals) <= 17 and report["counts"]["event"] == 120
    first = json.loads(text)["features"][0]["properties"]
    assert first["BGID"].startswith("310116") and isinstance(first["BGID"], str)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_csv_round_trip(source, tmp_path, encoding):
    dest = tmp_path / f"csv-{encoding}"
    run(source, "csv", dest, encoding=encoding)
    lonlat = pyproj.Transformer.from_crs(source_rows(source, "unit_grid")[2], 4326,
                                         always_xy=True)
    for layer in LAYERS:
        rows, shapes, _ = source_rows(source, layer)
        raw = (dest / f"{layer}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8")
        frame = pd.read_csv(dest / f"{layer}.csv", dtype=str, keep_default_na=False,
                            encoding="utf-8-sig" if encoding == "utf-8" else "gbk")
        if encoding == "gbk":
            rows = [{k: v.translate(GBK_FALLBACK) if isinstance(v, str) else v
                     for k, v in row.items()} for row in rows]
        back = frame.to_dict("records")
        for row, got in zip(rows, back, strict=True):
            for field, value in row.items():
                want = canon(value, empty_is_null=True)
                text = got[field]
                have = None if text == "" else float(text) if isinstance(want, float) \
                    else canon(text)
                assert same(want, have), (layer, field, text, value)
        if shapes is None:
            continue
        points = shapes if layer == "event" else shapely.centroid(shapes)
        assert np.array_equal(frame["X"].astype(float), shapely.get_x(points))
        assert np.array_equal(frame["Y"].astype(float), shapely.get_y(points))
        lon, lat = lonlat.transform(shapely.get_x(points), shapely.get_y(points))
        assert np.allclose(frame["LON"].astype(float), lon, atol=1e-8)
        assert np.allclose(frame["LAT"].astype(float), lat, atol=1e-8)
        if layer != "event":
            same_shapes(shapes, shapely.from_wkt(frame["WKT"].to_numpy()))
    # GDAL reads the CSV with its .csvt: codes stay text, WKT becomes the geometry.
    grids = pyogrio.read_dataframe(dest / "unit_grid.csv", encoding=encoding.upper())
    assert grids["BGID"].map(type).eq(str).all() and grids["AREA"].dtype == float
    assert grids.geometry.notna().all() and list(grids.columns[:2]) == ["BGID", "COMMUNITY"]


def test_geoparquet_round_trip(source, tmp_path):
    dest = tmp_path / "parquet"
    run(source, "parquet", dest)
    for layer in LAYERS:
        rows, shapes, crs = source_rows(source, layer)
        if shapes is None:
            back = pd.read_parquet(dest / f"{layer}.parquet")
        else:
            back = gpd.read_parquet(dest / f"{layer}.parquet")
            assert back.crs == pyproj.CRS(crs)
            same_shapes(shapes, back.geometry.to_numpy())
            back = pd.DataFrame(back.drop(columns="geometry"))
        records = [{k: (None if v is pd.NA else v) for k, v in r.items()}
                   for r in back.to_dict("records")]
        assert_rows_equal(rows, records, list(rows[0]), where=layer)
    schema = pq.read_schema(dest / "component.parquet")
    assert schema.field("MAJOR").type == pa.string()
    assert schema.field("ORDATE").type == pa.date32()
    assert schema.field("SRCROW").type == pa.int64()
    assert b"geo" in schema.metadata


def test_event_times_stay_local_wall_clock(source, tmp_path):
    """Event times are stored as the local (Beijing) time they were reported at, without a
    zone; GDAL's Arrow reader calls them UTC. Handed on as UTC they would be 8 hours off in
    any system that shows Beijing time, so every format keeps them zone-less."""
    stored = pyogrio.read_dataframe(source, layer="event", read_geometry=False)
    first = stored.sort_values("EVTID").iloc[0]
    wall = pd.Timestamp(first["TIME"]).strftime("%Y-%m-%dT%H:%M:%S")
    run(source, "geojson", tmp_path / "g", layers=["event"])
    features = json.loads((tmp_path / "g" / "event.geojson").read_text(encoding="utf-8"))
    times = {f["properties"]["EVTID"]: f["properties"]["TIME"] for f in features["features"]}
    assert times[first["EVTID"]] == wall  # no "Z", no shift
    run(source, "csv", tmp_path / "c", layers=["event"])
    frame = pd.read_csv(tmp_path / "c" / "event.csv", dtype=str, encoding="utf-8-sig")
    assert frame.set_index("EVTID").loc[first["EVTID"], "TIME"] == wall
    run(source, "parquet", tmp_path / "p", layers=["event"])
    schema = pq.read_schema(tmp_path / "p" / "event.parquet")
    assert schema.field("TIME").type == pa.timestamp("ms")  # naive: local wall-clock
    back = pd.read_parquet(tmp_path / "p" / "event.parquet").set_index("EVTID")
    assert back.loc[first["EVTID"], "TIME"].strftime("%Y-%m-%dT%H:%M:%S") == wall
