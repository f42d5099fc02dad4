"""Point location: the raster path agrees with GEOS, and the edge rule holds."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridkit.components.locate import OUTSIDE, GridIndex


def voronoi_coverage(seed: int, n: int, side: float = 1000.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frame = shapely.box(0, 0, side, side)
    points = shapely.multipoints(rng.uniform(0, side, (n, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=frame))
    cells = shapely.intersection(cells, frame)
    # An island cut out of the cells (a hole in one, or notches in several) and placed as a
    # grid of its own: even-odd filling and holes must be right.
    hole = shapely.box(400, 400, 450, 450)
    cells = shapely.difference(cells, hole)
    return np.concatenate([cells[~shapely.is_empty(cells)], [hole]])


def probe_points(geoms: np.ndarray, seed: int, n: int = 4000) -> np.ndarray:
    """Random points, every vertex, points on edges, and points outside."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    random = rng.uniform([xmin - 50, ymin - 50], [xmax + 50, ymax + 50], (n, 2))
    coords = shapely.get_coordinates(geoms)
    t = rng.uniform(0, 1, (len(coords) - 1, 1))
    edges = coords[:-1] + t * (coords[1:] - coords[:-1])
    return np.vstack([random, coords, edges])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(3, 60), st.sampled_from([2_000, 40_000, 400_000]))
def test_raster_agrees_with_geos_everywhere(seed, n, cells):
    geoms = voronoi_coverage(seed, n)
    xy = probe_points(geoms, seed)
    raster = GridIndex(geoms, raster=True, max_cells=cells).locate(xy[:, 0], xy[:, 1])
    exact = GridIndex(geoms, raster=False).locate(xy[:, 0], xy[:, 1])
    assert np.array_equal(raster, exact)


def test_shared_edge_goes_to_the_first_grid_and_outside_is_minus_one():
    left, right = shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)
    index = GridIndex(np.array([left, right]), raster=True)
    found = index.locate(np.array([10.0, 10.0, 5.0, 15.0, 25.0, np.nan]),
                         np.array([5.0, 10.0, 5.0, 5.0, 5.0, 1.0]))
    assert found.tolist() == [0, 0, 0, 1, OUTSIDE, OUTSIDE]
    # The order of the index decides, not the geometry: reversed, the other grid wins.
    reverse = GridIndex(np.array([right, left]), raster=True)
    assert reverse.locate(np.array([10.0]), np.array([5.0])).tolist() == [0]
    index, distance = GridIndex(np.array([left, right])).nearest(np.array([25.0]),
                                                                 np.array([5.0]))
    assert index.tolist() == [1] and distance.tolist() == [5.0]
