"""Phased areas (``--area``): grid only the managed area.

gridkit grids **whole communities**: a community is managed when at least half of its area
lies inside the area polygons. A unit grid lies in exactly one community and a community
code names all of its land, so gridding part of a community would leave a community whose
later widening re-cuts the grids already in use; with whole communities, a later
``--update`` with a wider area adds the new communities' grids and touches none of the
existing ones.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gridkit.errors import InputError
from gridkit.io import read_vector

MANAGED_SHARE = 0.5


def managed_communities(communities: gpd.GeoDataFrame, area: Path,
                        crs=None) -> gpd.GeoDataFrame:
    """The communities of which at least half lies inside the polygons of ``area``.

    Parameters
    ----------
    communities : GeoDataFrame
        As read (any CRS); its attrs (source) are kept.
    area : Path
        Polygons of the managed area, any GDAL vector source.
    crs : pyproj.CRS, optional
        CRS of ``area`` when the file has none.

    Returns
    -------
    GeoDataFrame
        The managed rows of ``communities``.

    Raises
    ------
    InputError
        When no community is managed.
    """
    shapes = read_vector(area, what="managed area", crs=crs, layer_option="area_layer")
    managed = shapely.union_all(shapely.make_valid(shapes.to_crs(communities.crs)
                                                   .geometry.to_numpy()))
    geoms = shapely.make_valid(communities.geometry.to_numpy())
    inside = shapely.area(shapely.intersection(geoms, managed))
    keep = inside >= MANAGED_SHARE * np.maximum(shapely.area(geoms), 1e-12)
    if not keep.any():
        raise InputError(f"{area} (managed area): no community of "
                         f"{communities.attrs.get('source', 'communities')} lies at least "
                         "half inside it; check that both files are in the CRS they say")
    out = communities[keep].copy()
    out.attrs.update(communities.attrs)
    return out
