"""GCJ-02/BD-09 transforms, number parsing and census CRSs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridkit.errors import GridkitError
from gridkit.records.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    dms_value,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    parse_numbers,
    parse_source_crs,
    to_target,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = pyproj.Geod(ellps="WGS84")
# China's extent, with the published formula's own box around it.
LON = st.floats(73.5, 135.0)
LAT = st.floats(18.0, 53.5)


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_round_trip_error_over_china_is_far_below_half_a_metre():
    rng = np.random.default_rng(7)
    lon = rng.uniform(73.5, 135.0, 200_000)
    lat = rng.uniform(18.0, 53.5, 200_000)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back).max() < 1e-3  # documented: below 0.1 mm, limit 0.5 m
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert metres(lon, lat, *back).max() < 1e-3
    back = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert metres(lon, lat, *back).max() < 1e-3


@settings(max_examples=300, deadline=None)
@given(LON, LAT)
def test_inverse_undoes_forward_anywhere_in_china(lon, lat):
    x, y = gcj02_to_wgs84(*wgs84_to_gcj02(np.array([lon]), np.array([lat])))
    assert metres(lon, lat, x[0], y[0]) < 0.5
    x, y = bd09_to_wgs84(*wgs84_to_bd09(np.array([lon]), np.array([lat])))
    assert metres(lon, lat, x[0], y[0]) < 0.5


def test_forward_shift_is_the_known_hundreds_of_metres_and_none_outside_china():
    lon, lat = np.array([121.4737, 116.3913, 10.0]), np.array([31.2304, 39.9075, 50.0])
    gx, gy = wgs84_to_gcj02(lon, lat)
    shift = metres(lon, lat, gx, gy)
    assert 300 < shift[0] < 700 and 300 < shift[1] < 700
    assert shift[2] == 0  # outside the published box nothing moves
    bx, by = gcj02_to_bd09(gx, gy)
    assert 500 < metres(gx, gy, bx, by)[0] < 1500


def test_nan_passes_through_the_inverse():
    x, y = gcj02_to_wgs84(np.array([np.nan, 121.0]), np.array([31.0, np.nan]))
    assert np.isnan(x[0]) and np.isnan(y[1])


def test_parse_numbers_plain_dms_empty_and_bad():
    values, present = parse_numbers(pa.array([" 121.5 ", "", "abc", "121°28'15.5\"",
                                              "31度12分30秒", "1e3", None, "N31 12 30", "-.5"]))
    assert present.tolist() == [True, False, True, True, True, True, False, True, True]
    assert values[0] == 121.5 and values[5] == 1000 and values[8] == -0.5
    assert np.isnan(values[[1, 2, 6]]).all()
    assert values[3] == pytest.approx(121 + 28 / 60 + 15.5 / 3600)
    assert values[4] == pytest.approx(31 + 12 / 60 + 30 / 3600)
    assert values[7] == pytest.approx(31.208333, abs=1e-6)
    assert dms_value("121°70'") is None and dms_value("W10°30'") == -10.5


def test_source_crs_names():
    assert parse_source_crs("gcj02").shift == "GCJ-02"
    assert parse_source_crs("BD09").shift == "BD-09"
    assert parse_source_crs("wgs84").crs.to_epsg() == 4326
    assert parse_source_crs("EPSG:4549").crs.to_epsg() == 4549
    with pytest.raises(GridkitError, match="gcj02"):
        parse_source_crs("mars-grid")


def test_to_target_flags_values_outside_the_crs_range():
    target = pyproj.CRS.from_epsg(4549)
    x, y, ok = to_target(np.array([121.3, 621000.0, 121.3]), np.array([30.7, 3398000.0, 95.0]),
                         parse_source_crs("gcj02"), target)
    assert ok.tolist() == [True, False, False]
    assert 500_000 < x[0] < 700_000 and np.isnan(x[1])
