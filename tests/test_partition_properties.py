"""Property tests: partition invariants on random community layouts.

Layouts are Voronoi cells in a box, with optional enclaves (a community inside another's
hole), multi-part communities, a narrow strip community and random barrier lines.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from conftest import X0, Y0, layout
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_partition import assert_partition_invariants

from gridkit.partition import partition

SIDE = 900.0


@st.composite
def districts(draw):
    n = draw(st.integers(2, 7))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    frame = shapely.box(X0, Y0, X0 + SIDE, Y0 + SIDE)
    points = rng.uniform([X0, Y0], [X0 + SIDE, Y0 + SIDE], size=(n, 2))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points),
                                                   extend_to=frame)), frame)
    cells = list(cells[shapely.area(cells) > 0])
    if draw(st.booleans()):  # a narrow strip community along the south edge
        strip = shapely.box(X0, Y0, X0 + SIDE, Y0 + draw(st.floats(8, 25)))
        cells = [c.difference(strip) for c in cells] + [strip]
    if draw(st.booleans()):  # an enclave: a community in a hole of another
        host = int(np.argmax([c.area for c in cells]))
        centre = cells[host].representative_point()
        enclave = centre.buffer(draw(st.floats(20, 90)), quad_segs=4).intersection(cells[host])
        if enclave.geom_type == "Polygon" and enclave.area > 100:
            cells[host] = cells[host].difference(enclave)
            cells.append(enclave)
    if draw(st.booleans()) and len(cells) >= 4:  # two cells sharing one code: multi-part
        a, b = 0, len(cells) // 2
        cells[a] = shapely.union(cells[a], cells[b])
        del cells[b]
    cells = [c for c in cells if not c.is_empty and c.area > 1]
    roads = None
    if draw(st.booleans()):
        ends = rng.uniform([X0 - 50, Y0 - 50], [X0 + SIDE + 50, Y0 + SIDE + 50],
                           size=(draw(st.integers(1, 5)), 2, 2))
        roads = gpd.GeoDataFrame({"CLASS": rng.choice(["primary", "residential"], len(ends))},
                                 geometry=shapely.linestrings(ends), crs=4549)
    target = draw(st.sampled_from([4_000.0, 10_000.0, 25_000.0]))
    return layout(cells), roads, target


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(districts())
def test_partition_invariants_hold_on_random_layouts(district):
    communities, roads, target = district
    result = partition(communities, roads=roads, target_area=target)
    assert_partition_invariants(result, communities)
    grids = result.unit_grids
    # No slivers, except a grid that is a whole (small) part of its community.
    parts = shapely.get_parts(result.communities.geometry.to_numpy())
    part_area = np.array([p.area for p in parts])
    tree = shapely.STRtree(parts)
    g, p = tree.query(shapely.point_on_surface(grids.geometry.to_numpy()), predicate="within")
    sliver = grids.area.to_numpy()[g] < 0.1 * target
    assert np.allclose(grids.area.to_numpy()[g][sliver], part_area[p][sliver], rtol=1e-6)
    # Sizes: the median grid is near the target unless communities are smaller than it.
    if result.communities["AREA"].min() >= 2 * target:
        assert 0.5 * target <= grids.area.median() <= 2 * target
    # Deterministic.
    again = partition(communities, roads=roads, target_area=target).unit_grids
    assert again["BGID"].tolist() == grids["BGID"].tolist()
    assert shapely.equals_exact(again.geometry.to_numpy(), grids.geometry.to_numpy(), 0).all()
