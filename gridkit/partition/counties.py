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
        The target unit grid area, m²: grids of communities (or of a community's separate
        part, an exclave) under half of it are exempt from the band (:func:`room_of_grids`).

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
    room = room_of_grids(grids, communities)
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
            exempt = room[county_of_grid == county] < 0.5 * target_area
            sizes = area_figures(areas, target_area, np.asarray(exempt, dtype=bool))
            entry["in_band_share"] = sizes["in_band_share"]
            entry["slivers"] = sizes["slivers"]
        out.append(entry)
    return out


def room_of_grids(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> np.ndarray:
    """Per unit grid, the area (m²) of the community part it lies in: the most it could hold.

    A community of several parts (an exclave, a lake enclave inside a neighbour) has grids in
    each part, and a part under half the target can only be one grid below the band, as a
    small community is: the size figures exempt such grids by this area.

    Parameters
    ----------
    grids : GeoDataFrame
        The unit grids, with COMMUNITY; areas in m² (a projected CRS).
    communities : GeoDataFrame
        The community layer, with CODE, in the grids' CRS.

    Returns
    -------
    numpy.ndarray
        float, one per grid (the whole community's area where no part holds the grid's
        representative point).

    Examples
    --------
    >>> import shapely
    >>> comm = gpd.GeoDataFrame({"CODE": ["441900003001"]}, geometry=[shapely.MultiPolygon(
    ...     [shapely.box(0, 0, 200, 100), shapely.box(300, 0, 350, 60)])], crs=3857)
    >>> grids = gpd.GeoDataFrame({"COMMUNITY": ["441900003001"] * 3}, geometry=[
    ...     shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100),
    ...     shapely.box(300, 0, 350, 60)], crs=3857)
    >>> room_of_grids(grids, comm).tolist()
    [20000.0, 20000.0, 3000.0]
    """
    whole = dict(zip(communities["CODE"], communities.geometry.area, strict=True))
    room = grids["COMMUNITY"].map(whole).to_numpy(dtype=float, copy=True)
    parts = communities[["CODE", communities.geometry.name]].explode(index_parts=False)
    parts = parts.reset_index(drop=True)
    points = grids.geometry.representative_point().to_numpy()
    grid_at, part_at = parts.sindex.query(points, predicate="within")
    same = grids["COMMUNITY"].to_numpy()[grid_at] == parts["CODE"].to_numpy()[part_at]
    room[grid_at[same]] = parts.geometry.area.to_numpy()[part_at[same]]
    return room
