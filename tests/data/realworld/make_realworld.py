"""Write the small real-shaped inputs of tests/test_cli_realworld.py (run from the repo root:
``python tests/data/realworld/make_realworld.py``). The files are committed; this script says
exactly what is in them.

All in CGCS2000 / 3-degree Gauss-Kruger CM 114E (EPSG:4547), near 东莞 (113.6°E, 22.8°N):
community A (441900003001) west of a circular arc from (X+500, Y) through (X+560, Y+400) to
(X+500, Y+800), B (441900003002) east of it up to X+1000, C (441900003003) north of both up to
Y+1100.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import geopandas as gpd
import pyarrow as pa
import pyogrio
import shapely

HERE = Path(__file__).parent
X, Y = 459_000.0, 2_521_000.0
CRS = "EPSG:4547"


def _wkb(kind: int, body: bytes) -> bytes:
    return struct.pack("<BI", 1, kind) + body


def _points(pts) -> bytes:
    return struct.pack("<I", len(pts)) + b"".join(struct.pack("<2d", *p) for p in pts)


def line(pts) -> bytes:
    return _wkb(2, _points(pts))


def circular(pts) -> bytes:
    return _wkb(8, _points(pts))


def compound(*curves) -> bytes:
    return _wkb(9, struct.pack("<I", len(curves)) + b"".join(curves))


def curve_polygon(*rings) -> bytes:
    return _wkb(10, struct.pack("<I", len(rings)) + b"".join(rings))


def multi_surface(*surfaces) -> bytes:
    return _wkb(12, struct.pack("<I", len(surfaces)) + b"".join(surfaces))


def polygon(ring) -> bytes:
    return _wkb(3, struct.pack("<I", 1) + _points(ring))


ARC = [(X + 500, Y), (X + 560, Y + 400), (X + 500, Y + 800)]


def curved_gpkg() -> None:
    """CurvePolygon (CompoundCurve ring), a CurvePolygon of a reversed arc, a MultiSurface."""
    a = curve_polygon(compound(line([(X + 500, Y + 800), (X, Y + 800), (X, Y), (X + 500, Y)]),
                               circular(ARC)))
    b = curve_polygon(compound(circular(ARC[::-1]),
                               line([(X + 500, Y), (X + 1000, Y), (X + 1000, Y + 800),
                                     (X + 500, Y + 800)])))
    c = multi_surface(polygon([(X, Y + 800), (X + 1000, Y + 800), (X + 1000, Y + 1100),
                               (X, Y + 1100), (X, Y + 800)]))
    table = pa.table({"CODE": ["441900003001", "441900003002", "441900003003"],
                      "NAME": ["东城社区", "主山社区", "花园社区"],
                      "geometry": pa.array([a, b, c], pa.binary())})
    path = HERE / "curved_communities.gpkg"
    path.unlink(missing_ok=True)
    pyogrio.write_arrow(table, path, layer="community", driver="GPKG",
                        geometry_name="geometry", geometry_type="Unknown", crs=CRS)


def esri_json() -> None:
    """ArcGIS exports: OBJECTID as the FID field, true curves, multi-part paths, Z."""
    fields = [{"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"}]
    communities = {
        "objectIdFieldName": "OBJECTID", "geometryType": "esriGeometryPolygon",
        "spatialReference": {"wkid": 4547},
        "fields": [*fields, {"name": "CODE", "type": "esriFieldTypeString", "length": 12}],
        "features": [
            {"attributes": {"OBJECTID": 11, "CODE": "441900003001"},
             "geometry": {"curveRings": [[[X + 500, Y + 800], [X, Y + 800], [X, Y],
                                          [X + 500, Y], {"c": [list(ARC[2]), list(ARC[1])]}]]}},
            {"attributes": {"OBJECTID": 12, "CODE": "441900003002"},
             "geometry": {"curveRings": [[[X + 500, Y + 800], {"c": [list(ARC[0]),
                                                                     list(ARC[1])]},
                                          [X + 1000, Y], [X + 1000, Y + 800],
                                          [X + 500, Y + 800]]]}},
            {"attributes": {"OBJECTID": 13, "CODE": "441900003003"},
             "geometry": {"rings": [[[X, Y + 800], [X, Y + 1100], [X + 1000, Y + 1100],
                                     [X + 1000, Y + 800], [X, Y + 800]]]}},
        ],
    }
    (HERE / "esri_communities.json").write_text(json.dumps(communities, indent=1))
    roads = {
        "objectIdFieldName": "OBJECTID", "geometryType": "esriGeometryPolyline",
        "hasZ": True, "spatialReference": {"wkid": 4547},
        "fields": [*fields, {"name": "fclass", "type": "esriFieldTypeString", "length": 20}],
        "features": [
            # Two parts: an east-west road in two pieces, split at a junction.
            {"attributes": {"OBJECTID": 1, "fclass": "primary"},
             "geometry": {"paths": [[[X - 20, Y + 300, 5.0], [X + 600, Y + 300, 5.5]],
                                    [[X + 600, Y + 300, 5.5], [X + 1020, Y + 300, 6.0]]]}},
            # A curved lane: a circular arc about a centre ("a") and a Bezier ("b").
            {"attributes": {"OBJECTID": 2, "fclass": "residential"},
             "geometry": {"curvePaths": [[[X + 700, Y - 20, 4.0],
                                          {"a": [[X + 900, Y + 180, 4.0], [X + 900, Y - 20],
                                                 1, 1]},
                                          {"b": [[X + 900, Y + 820, 4.0], [X + 1100, Y + 400],
                                                 [X + 700, Y + 600]]}]]}},
        ],
    }
    (HERE / "esri_roads.json").write_text(json.dumps(roads, indent=1))


def mixed_roads() -> None:
    """What OSM and CAD exports hold: multi-part lines, a stray MultiPoint, a
    GeometryCollection of a line and a point, an empty feature and a 3D line."""
    geoms = [
        shapely.MultiLineString([[(X - 20, Y + 600), (X + 400, Y + 600)],
                                 [(X + 400, Y + 600), (X + 1020, Y + 610)]]),
        shapely.MultiLineString([[(X + 250, Y - 20), (X + 250, Y + 300)],
                                 [(X + 250, Y + 300), (X + 260, Y + 820)],
                                 [(X + 260, Y + 820), (X + 260, Y + 1120)]]),
        shapely.MultiPoint([(X + 100, Y + 100), (X + 120, Y + 100)]),
        shapely.GeometryCollection([shapely.LineString([(X + 750, Y - 20),
                                                        (X + 760, Y + 1120)]),
                                    shapely.Point(X + 750, Y + 500)]),
        shapely.LineString([(X - 20, Y + 950, 12.0), (X + 1020, Y + 960, 14.0)]),
        None,
    ]
    frame = gpd.GeoDataFrame({"fclass": ["primary", "residential", "", "service",
                                         "secondary", "footway"]}, geometry=geoms, crs=CRS)
    path = HERE / "roads_mixed.gpkg"
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(frame, path, layer="roads", geometry_type="Unknown",
                            promote_to_multi=False)


if __name__ == "__main__":
    curved_gpkg()
    esri_json()
    mixed_roads()

