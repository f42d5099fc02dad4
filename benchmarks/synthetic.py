"""Synthetic districts for benchmarks: communities as Voronoi cells of a random point set.

Deterministic for a seed. Codes follow the sample's pattern: county 310116, streets/towns of
about 19 communities each, committee codes 001.. (streets) or 201.. (towns).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

ORIGIN = (600_000.0, 3_380_000.0)  # EPSG:4549 metres, near 120.9°E 30.5°N


def synthetic_communities(n: int = 190, area_km2: float = 670, seed: int = 0,
                          per_street: int = 19) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    side = np.sqrt(area_km2) * 1000
    x0, y0 = ORIGIN
    frame = shapely.box(x0, y0, x0 + side, y0 + side)
    # Lloyd-relaxed points: communities of comparable, but not equal, size.
    points = rng.uniform([x0, y0], [x0 + side, y0 + side], size=(n, 2))
    for _ in range(2):
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points),
                                                           extend_to=frame))
        cells = shapely.intersection(cells, frame)
        points = shapely.get_coordinates(shapely.centroid(cells))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points),
                                                       extend_to=frame))
    cells = shapely.intersection(cells, frame)
    centres = shapely.get_coordinates(shapely.centroid(cells))
    order = np.lexsort((centres[:, 0], -centres[:, 1]))
    cells = cells[order]
    codes = []
    for k in range(len(cells)):
        street, member = divmod(k, per_street)
        town = street % 2 == 1
        street_code = (100 + street) if town else (street + 1)
        committee = (201 + member) if town else (1 + member)
        codes.append(f"310116{street_code:03d}{committee:03d}")
    return gpd.GeoDataFrame({"CODE": codes, "NAME": [f"社区{k + 1}" for k in range(len(cells))]},
                            geometry=cells, crs=4549)
