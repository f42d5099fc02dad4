"""Unit grid codes (BGID): community code + three-digit serial in a fixed spatial order.

Inside each community, grids are numbered in rows from north-west to south-east: a grid's
row is how many √(target area) bands (100 m for the default target) its representative
point lies below the community's northern edge; within a row, grids go west to east by that
point's x. Ties fall back to y, so the order is total and repeatable.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridkit.codes.admin import make_bgid

MAX_GRIDS = 999


def assign_bgids(grids: gpd.GeoDataFrame, comm: gpd.GeoDataFrame,
                 targets: np.ndarray) -> gpd.GeoDataFrame:
    """Grids sorted by community then spatial order, with their 15-digit BGID."""
    north = dict(zip(comm["CODE"], comm.geometry.bounds["maxy"], strict=True))
    band = dict(zip(comm["CODE"], np.sqrt(targets), strict=True))
    points = shapely.point_on_surface(grids.geometry.to_numpy())
    x, y = shapely.get_x(points), shapely.get_y(points)
    code = grids["COMMUNITY"].to_numpy()
    row = np.floor((np.array([north[c] for c in code]) - y)
                   / np.array([band[c] for c in code])).astype(np.int64)
    order = np.lexsort((-y, x, row, code))
    grids = grids.iloc[order].reset_index(drop=True)
    serial = grids.groupby("COMMUNITY", sort=False).cumcount().to_numpy() + 1
    grids.insert(0, "BGID", [make_bgid(c, int(s)) for c, s in zip(
        grids["COMMUNITY"], serial, strict=True)])
    return grids.drop(columns=["TARGET"])
