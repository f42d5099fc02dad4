"""The working CRS: a projected input written in another CRS is said, not done silently."""

import warnings

import geopandas as gpd
import pytest
import shapely

from gridkit.crs import working_crs
from gridkit.errors import GridkitWarning


def _communities(epsg: int, x: float, y: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"CODE": ["441900003001"]},
                            geometry=[shapely.box(x, y, x + 500, y + 500)], crs=epsg)


def test_zone_prefixed_input_is_written_in_the_zone_without_prefix_and_said():
    # Jinshan, Shanghai in EPSG:4528 (CGCS2000 3-degree zone 40, zone number before the
    # easting): the same zone without the prefix is EPSG:4549.
    frame = _communities(4528, 40_630_000, 3_410_000)
    with pytest.warns(GridkitWarning, match=r"EPSG:4528.*EPSG:4549.*crs='EPSG:4528'"):
        work = working_crs([frame])
    assert work.to_epsg() == 4549


def test_input_already_in_the_working_zone_says_nothing():
    frame = _communities(4549, 630_000, 3_410_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert working_crs([frame]).to_epsg() == 4549
        assert working_crs([frame.to_crs(4490)]).to_epsg() == 4549


def test_a_given_projected_crs_is_kept():
    frame = _communities(4528, 40_630_000, 3_410_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert working_crs([frame], frame.crs).to_epsg() == 4528
