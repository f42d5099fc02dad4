"""export_layers writes layers held in memory as export_geopackage writes the same layers of
a GeoPackage: the same writers, names and encodings; no history, so no --since."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from gridkit.errors import GridkitError
from gridkit.export import ExportOptions, export_geopackage, export_layers
from gridkit.io import write_geopackage

X, Y = 624_000, 3_398_000  # EPSG:4549 metres


def _layers():
    grids = gpd.GeoDataFrame(
        {"BGID": [f"310116001001{i:03d}" for i in (1, 2, 3)], "COMMUNITY": "310116001001",
         "AREA": [10_000.0, 10_000.0, 20_000.0], "NAME": ["东林", "罗星", "朱泾"]},
        geometry=[shapely.box(X, Y, X + 100, Y + 100), shapely.box(X + 100, Y, X + 200, Y + 100),
                  shapely.MultiPolygon([shapely.box(X + 200, Y, X + 300, Y + 100),
                                        shapely.box(X + 400, Y, X + 500, Y + 100)])],
        crs=4549)
    qa = pd.DataFrame({"LAYER": ["unit_grid"], "KEY": ["310116001001003"],
                       "RULE": ["area-band"], "SEVERITY": ["warning"], "MESSAGE": ["大"]})
    return {"unit_grid": grids, "spotcheck_summary": qa}


@pytest.mark.parametrize("fmt", ["shp", "geojson", "csv"])
def test_layers_in_memory_export_as_the_geopackage_does(tmp_path, fmt):
    layers = _layers()
    gpkg = tmp_path / "out.gpkg"
    write_geopackage(gpkg, layers)
    on_file = export_geopackage(gpkg, ExportOptions(fmt, tmp_path / "file", record=False))
    in_memory = export_layers(layers, ExportOptions(fmt, tmp_path / "memory"))
    assert in_memory["counts"] == on_file["counts"]
    assert in_memory["layers"] == on_file["layers"]
    assert in_memory["run"] is None and in_memory["source"] == "memory"
    names = sorted(p.name for p in (tmp_path / "file").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "memory").iterdir())
    for name in names:
        if name == "gridkit_export.json":  # names the source and the time
            continue
        assert (tmp_path / "file" / name).read_bytes() == \
            (tmp_path / "memory" / name).read_bytes(), name
    if fmt == "shp":  # polygons and the exclave's multipolygon: one Shapefile, as from a file
        assert "unit_grid.shp" in names and not [n for n in names if "_polygon" in n]


def test_memory_export_refuses_since_and_unknown_layers(tmp_path):
    with pytest.raises(GridkitError, match="since='last'.*no export history"):
        export_layers(_layers(), ExportOptions("gpkg", tmp_path / "a.gpkg", since="last"))
    with pytest.raises(GridkitError, match="no layer 'event'"):
        export_layers(_layers(), ExportOptions("gpkg", tmp_path / "a.gpkg", layers=["event"]))
    done = export_layers(_layers(), ExportOptions("gpkg", tmp_path / "a.gpkg"))
    assert pyogrio.read_dataframe(tmp_path / "a.gpkg", layer="unit_grid")["BGID"].tolist() == \
        _layers()["unit_grid"]["BGID"].tolist()
    assert done["counts"] == {"unit_grid": 3, "spotcheck_summary": 1}
