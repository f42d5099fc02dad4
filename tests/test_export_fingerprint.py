"""Feature fingerprints: what changes them and what does not."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import shapely

from gridkit.export.fingerprint import feature_hashes, key_fingerprints
from gridkit.export.layer import Layer, wkb_array


def layer(rows: dict, shapes=None, name: str = "component") -> Layer:
    table = pa.table(rows)
    geometry = None if shapes is None else wkb_array(shapes)
    return Layer(name, table, geometry, "EPSG:4549", "Point")


BASE = {"OBJCODE": ["3101160101000001", "3101160101000002"], "OBJNAME": ["上水井盖", "路灯"],
        "MAJOR": ["01", "01"], "ORDATE": pa.array([dt.date(2012, 3, 5), None], pa.date32()),
        "AREA": [0.1 + 0.2, 3.0], "SRCROW": [2, 3]}
POINTS = [shapely.Point(624000.5, 3398000.25), shapely.Point(624010, 3398010)]


def test_same_features_same_hashes_and_distinct_per_feature():
    first = feature_hashes(layer(BASE, POINTS))
    assert list(first) == list(feature_hashes(layer(dict(BASE), list(POINTS))))
    assert first[0] != first[1]
    assert first.dtype.name == "int64"


def test_attribute_geometry_and_null_changes_show():
    before = feature_hashes(layer(BASE, POINTS))
    renamed = feature_hashes(layer(BASE | {"OBJNAME": ["上水井盖", "路灯杆"]}, POINTS))
    moved = feature_hashes(layer(BASE, [POINTS[0], shapely.Point(624010, 3398010.001)]))
    dated = feature_hashes(layer(BASE | {"ORDATE": pa.array([dt.date(2012, 3, 5),
                                                            dt.date(2012, 3, 6)])}, POINTS))
    assert before[0] == renamed[0] and before[1] != renamed[1]
    assert before[0] == moved[0] and before[1] != moved[1]
    assert before[1] != dated[1]
    # An empty text is not the same as a missing one, nor a float a rounded one.
    empty = feature_hashes(layer(BASE | {"OBJNAME": ["上水井盖", ""]}, POINTS))
    null = feature_hashes(layer(BASE | {"OBJNAME": ["上水井盖", None]}, POINTS))
    rounded = feature_hashes(layer(BASE | {"AREA": [0.3, 3.0]}, POINTS))
    assert empty[1] != null[1] and rounded[0] != before[0]


def test_provenance_and_field_order_do_not_count():
    before = feature_hashes(layer(BASE, POINTS))
    resorted = feature_hashes(layer(BASE | {"SRCROW": [90, 17]}, POINTS))
    reordered = feature_hashes(layer(dict(reversed(list(BASE.items()))), POINTS))
    assert list(before) == list(resorted) == list(reordered)


def test_attribute_tables_hash_too():
    table = layer({"CODE": ["310116001001", "310116001002"]}, None, "community")
    assert len(set(feature_hashes(table))) == 2


def test_key_fingerprints_group_duplicate_keys():
    rows = BASE | {"OBJCODE": ["3101160101000001", "3101160101000001"]}
    prints = key_fingerprints(layer(rows, POINTS), "OBJCODE")
    assert list(prints["KEY"]) == ["3101160101000001"]
    changed = key_fingerprints(layer(rows | {"OBJNAME": ["上水井盖", "路灯杆"]}, POINTS),
                               "OBJCODE")
    assert prints["HASH"].iloc[0] != changed["HASH"].iloc[0]
    swapped = key_fingerprints(layer({k: list(reversed(v.to_pylist() if hasattr(v, "to_pylist")
                                                        else v)) for k, v in rows.items()},
                                     list(reversed(POINTS))), "OBJCODE")
    assert prints["HASH"].iloc[0] == swapped["HASH"].iloc[0]


def test_missing_keys_share_one_key():
    rows = BASE | {"OBJCODE": [None, None]}
    prints = key_fingerprints(layer(rows, POINTS), "OBJCODE")
    assert list(prints["KEY"]) == [""]
