"""Figures per county for a partition spanning several counties (a development zone, a city).

Each county's communities, streets, unit grids and size figures. The partition itself is
one: community rings of every county are noded together, so a county border is one line
shared by the grids on both sides, with no gap or overlap between counties.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from gridkit.partition.metrics import area_figures


def county_figures(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
                   target_area: float) -> list[dict]:
    """One entry per county code (the first six digits of the community codes), in code order.

    Parameters
    ----------
    grids : GeoDataFrame
        The unit grids, with COMMUNITY; areas in m² (a projected CRS).
    communities : GeoDataFrame
        The community layer, with CODE, STREET and AREA (m²).
    target_area : float
        The target unit grid area, m²: grids of communities under half of it are exempt from
        the band, as in :func:`gridkit.partition.metrics.partition_figures`.

    Returns
    -------
    list of dict
        ``county``, ``communities``, ``streets``, ``unit_grids``, ``area_km2``,
        ``in_band_share`` (None when every grid is exempt) and ``slivers``.

    Examples
    --------
    >>> import shapely
    >>> comm = gpd.GeoDataFrame({"CODE": ["441900003001", "442000001001"],
    ...     "STREET": ["441900003", "442000001"], "AREA": [1e4, 1e4]},
    ...     geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)], crs=3857)
    >>> grids = comm.rename(columns={"CODE": "COMMUNITY"})
    >>> [(c["county"], c["unit_grids"]) for c in county_figures(grids, comm, 10_000)]
    [('441900', 1), ('442000', 1)]
    """
    area_of = dict(zip(communities["CODE"], communities["AREA"], strict=True))
    county_of_grid = grids["COMMUNITY"].astype(str).str[:6].to_numpy()
    county_of_comm = communities["CODE"].astype(str).str[:6].to_numpy()
    out = []
    for county in sorted(set(county_of_comm)):
        mine = grids[county_of_grid == county]
        comm = communities[county_of_comm == county]
        areas = mine.geometry.area.to_numpy()
        entry = {"county": county, "communities": int(len(comm)),
                 "streets": int(comm["STREET"].nunique()), "unit_grids": int(len(mine)),
                 "area_km2": round(float(comm["AREA"].sum()) / 1e6, 4)}
        if len(mine):
            exempt = mine["COMMUNITY"].map(area_of).to_numpy() < 0.5 * target_area
            sizes = area_figures(areas, target_area, np.asarray(exempt, dtype=bool))
            entry["in_band_share"] = sizes["in_band_share"]
            entry["slivers"] = sizes["slivers"]
        out.append(entry)
    return out
