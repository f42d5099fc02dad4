"""Shared fixtures: small community layouts in EPSG:4549 metres near 121.3°E 30.7°N."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

X0, Y0 = 624_000.0, 3_398_000.0


def scratch_folder(prefix: str) -> Path:
    """A temporary folder shared by a test session (cached templates), removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, True)
    return folder


def layout(polygons, codes=None, crs=4549) -> gpd.GeoDataFrame:
    codes = codes or [f"310116001{k + 1:03d}" for k in range(len(polygons))]
    return gpd.GeoDataFrame({"CODE": codes, "NAME": [f"社区{k}" for k in range(len(codes))]},
                            geometry=list(polygons), crs=crs)


def four_communities() -> gpd.GeoDataFrame:
    """Four neighbours, one of them in a town (village code), 0.25-0.39 km² each."""
    return layout(
        [
            shapely.box(X0, Y0, X0 + 600, Y0 + 600),
            shapely.box(X0 + 600, Y0, X0 + 1300, Y0 + 600),
            shapely.Polygon([(X0, Y0 + 600), (X0 + 600, Y0 + 600), (X0 + 600, Y0 + 1150),
                             (X0, Y0 + 1200)]),
            shapely.box(X0 + 600, Y0 + 600, X0 + 1300, Y0 + 1150),
        ],
        ["310116001001", "310116001002", "310116001003", "310116101201"],
    )


@pytest.fixture
def communities() -> gpd.GeoDataFrame:
    return four_communities()


@pytest.fixture
def roads() -> gpd.GeoDataFrame:
    lines = [
        shapely.LineString([(X0 - 50, Y0 + 300), (X0 + 1350, Y0 + 310)]),  # crosses everything
        shapely.LineString([(X0 + 300, Y0 - 50), (X0 + 310, Y0 + 1250)]),
        shapely.LineString([(X0 + 900, Y0 + 600), (X0 + 905, Y0 + 1150)]),  # ends on borders
        shapely.LineString([(X0 + 100, Y0 + 100), (X0 + 150, Y0 + 200)]),  # a dead end
    ]
    return gpd.GeoDataFrame({"CLASS": ["primary", "residential", "service", "track"]},
                            geometry=lines, crs=4549)


SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def partition_and_group_config(folder) -> Path:
    """A config for the sample's partition and grouping only (no census, events, spot check
    or report): the GeoPackage several test modules build their fixtures on."""
    config = Path(folder) / "partition_and_group.toml"
    config.write_text(
        "[partition]\n"
        + "".join(f'{key} = "{SAMPLES / name}"\n' for key, name in (
            ("communities", "communities.gpkg"), ("roads", "roads.gpkg"),
            ("water", "water.gpkg"), ("buildings", "buildings.gpkg")))
        + f'[group]\nkey_areas = "{SAMPLES / "key_areas.gpkg"}"\n',
        encoding="utf-8")
    return config
