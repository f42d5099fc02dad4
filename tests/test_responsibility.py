"""Responsibility grids: the density rule, bands, contiguity, balance, codes, errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import X0, Y0, layout
from hypothesis import given, settings
from hypothesis import strategies as st

from gridkit.errors import GridkitError
from gridkit.partition import partition
from gridkit.responsibility import group
from gridkit.responsibility.adjacency import _by_intersection, _by_segments
from gridkit.responsibility.grouping import group_count


def lattice(nx: int, ny: int, street_split: int | None = None, size: float = 100.0):
    """nx × ny square unit grids; columns from ``street_split`` on are a second street."""
    cells, streets, bgids = [], [], []
    for j in range(ny):
        for i in range(nx):
            cells.append(shapely.box(X0 + i * size, Y0 + j * size, X0 + (i + 1) * size,
                                     Y0 + (j + 1) * size))
            street = "310116002" if street_split is not None and i >= street_split \
                else "310116001"
            streets.append(street)
            bgids.append(f"{street}001{len(bgids) + 1:03d}")
    return gpd.GeoDataFrame({"BGID": bgids, "COMMUNITY": [b[:12] for b in bgids],
                             "STREET": streets}, geometry=cells, crs=4549)


def check_grouping(result, bands=((10, 16), (20, 30))):
    grids, resp = result.unit_grids, result.responsibility_grids
    assert grids["RGID"].notna().all()
    # Every unit grid in exactly one responsibility grid; their unions match.
    assert resp["UNITS"].sum() == len(grids)
    counts = grids["RGID"].value_counts()
    assert (counts.loc[resp["RGID"]].to_numpy() == resp["UNITS"].to_numpy()).all()
    for rgid, members in grids.groupby("RGID"):
        assert members["STREET"].nunique() == 1 and members["DENSITY"].nunique() == 1
        assert rgid.startswith(members["STREET"].iloc[0])
    assert (resp.geom_type == "Polygon").all()  # contiguous through edges
    assert resp["RGID"].is_unique
    assert shapely.coverage_is_valid(resp.geometry.to_numpy())


def test_group_counts_follow_the_band():
    assert group_count(100, 20, 30) == 4
    assert group_count(26, 10, 16) == 2
    assert group_count(7, 10, 16) == 1  # too few: the nearest grouping
    assert group_count(17, 10, 16) == 1  # 17 in one misses by 1; 8 + 9 by 3


def test_sparse_lattice_groups_in_band_and_balanced():
    grids = lattice(30, 20)  # 600 grids
    result = group(grids)
    check_grouping(result)
    units = result.responsibility_grids["UNITS"]
    assert units.between(20, 30).all()
    assert result.figures["workload_cv_max"] <= 0.25
    assert set(result.unit_grids["DENSITY"]) == {"sparse"}


def test_key_area_makes_grids_dense_and_groups_stay_in_streets():
    grids = lattice(30, 20, street_split=15)
    key = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 800, Y0 + 1000)], crs=4549)
    result = group(grids, key.to_crs(4490))  # another CRS: reprojected
    check_grouping(result)
    dense = result.unit_grids[result.unit_grids["DENSITY"] == "dense"]
    assert len(dense) == 80
    resp = result.responsibility_grids
    assert resp.loc[resp["DENSITY"] == "dense", "UNITS"].between(10, 16).all()
    assert resp.loc[resp["DENSITY"] == "sparse", "UNITS"].between(20, 30).all()
    assert (resp["BAND"] == np.where(resp["DENSITY"] == "dense", "10-16", "20-30")).all()


def test_busy_grids_are_dense_and_workload_is_balanced():
    grids = lattice(30, 20)
    x = shapely.get_x(shapely.centroid(grids.geometry.to_numpy())) - X0
    workload = np.where(x < 600, 5.0, 1.0) * 10_000  # the west third is five times busier
    result = group(grids, workload=workload)
    check_grouping(result)
    assert (result.unit_grids["DENSITY"] == "dense").sum() == 120
    assert result.figures["workload_cv_max"] <= 0.25


def test_too_few_grids_is_reported_not_dropped():
    grids = lattice(7, 1)  # a street with 7 grids
    result = group(grids)
    check_grouping(result)
    assert len(result.responsibility_grids) == 1
    assert [i.rule for i in result.issues] == ["band-violation"]
    assert "7 unit grids" in result.issues[0].message


def test_rgids_are_stable_across_runs_and_input_order():
    grids = lattice(30, 20, street_split=10)
    a = group(grids).unit_grids.set_index("BGID")["RGID"]
    b = group(grids.iloc[::-1]).unit_grids.set_index("BGID")["RGID"]
    assert a.sort_index().equals(b.sort_index())


def test_segment_adjacency_matches_geometric_adjacency():
    comm = layout([shapely.box(X0, Y0, X0 + 700, Y0 + 500),
                   shapely.box(X0 + 700, Y0, X0 + 1200, Y0 + 500)])
    geoms = partition(comm).unit_grids.geometry.to_numpy()
    fast = _by_segments(geoms).sort_values(["a", "b"]).reset_index(drop=True)
    slow = _by_intersection(geoms).sort_values(["a", "b"]).reset_index(drop=True)
    assert fast[["a", "b"]].equals(slow[["a", "b"]])
    assert np.allclose(fast["length"], slow["length"])


@pytest.mark.parametrize("band", ["16-10", "0-5", "ten"])
def test_bad_bands_are_refused(band):
    with pytest.raises(GridkitError, match="`dense="):
        group(lattice(5, 5), dense=band)


def test_missing_street_is_refused():
    grids = lattice(5, 5)
    grids.loc[3, "STREET"] = None
    with pytest.raises(GridkitError, match="STREET"):
        group(grids)


@settings(max_examples=15, deadline=None)
@given(st.integers(5, 24), st.integers(3, 16), st.integers(0, 2**16),
       st.sampled_from([(10, 16), (20, 30), (4, 6)]))
def test_grouping_invariants_on_random_lattices(nx, ny, seed, band):
    rng = np.random.default_rng(seed)
    grids = lattice(nx, ny, street_split=int(rng.integers(1, nx)) if nx > 6 else None)
    keep = rng.random(len(grids)) > 0.1  # holes make islands and odd shapes
    grids = grids[keep].reset_index(drop=True)
    workload = rng.lognormal(0, 0.7, len(grids))
    result = group(grids, workload=workload, dense=band, sparse=band)
    check_grouping(result)
    violations = {i.key for i in result.issues if i.rule == "band-violation"}
    resp = result.responsibility_grids
    outside = resp[~resp["UNITS"].between(*band)]
    assert set(outside["RGID"]) == violations


def test_workload_from_component_and_event_layers_with_weights(tmp_path):
    import pandas as pd

    from gridkit.io import write_geopackage
    from gridkit.responsibility.workload import load_weights, workload_for

    grids = lattice(3, 1)
    out = tmp_path / "d.gpkg"
    first, second, third = grids["BGID"]
    components = gpd.GeoDataFrame(
        {"BGID": [first, first, second, None], "MAJOR": ["01", "01", "02", "01"],
         "MINOR": ["02", "03", "01", "02"]},
        geometry=[shapely.Point(X0 + 50, Y0 + 50)] * 4, crs=4549)
    events = pd.DataFrame({"BGID": [third], "MAJOR": ["05"], "MINOR": ["05"]})
    write_geopackage(out, {"unit_grid": grids, "component": components, "event": events})
    weights_file = tmp_path / "w.toml"
    weights_file.write_text('[component]\n"0102" = 5\n"02" = 2\n[event]\ndefault = 3\n',
                            encoding="utf-8")
    load, source = workload_for(out, grids, load_weights(weights_file))
    assert source == "component+event"
    activity = np.array([5 + 1, 2, 3])  # 0102 weighs 5, 0103 the default 1; major 02 weighs 2
    assert np.allclose(load, activity + np.median(activity))
    bad = tmp_path / "bad.toml"
    bad.write_text('[component]\n"0102" = -1\n', encoding="utf-8")
    with pytest.raises(GridkitError, match="non-negative"):
        load_weights(bad)
    with pytest.raises(GridkitError, match="no such weights file"):
        load_weights(tmp_path / "none.toml")


def _pendant(width: float) -> gpd.GeoDataFrame:
    """A 4 x 5 lattice and one more grid touching its north-east grid through ``width`` m of
    edge only (a diagonal neighbour with a sliver of shared boundary)."""
    grids = lattice(4, 5)
    x, y = X0 + 400, Y0 + 500 - width
    # The lattice's north-east grid gets the contact's vertex: grids form a valid coverage.
    grids.loc[19, "geometry"] = shapely.Polygon([(X0 + 300, Y0 + 400), (x, Y0 + 400), (x, y),
                                                 (x, Y0 + 500), (X0 + 300, Y0 + 500)])
    extra = gpd.GeoDataFrame({"BGID": ["310116001001021"], "COMMUNITY": ["310116001001"],
                              "STREET": ["310116001"]},
                             geometry=[shapely.Polygon([(x, y), (x + 100, y),
                                                        (x + 100, y + 100), (x, y + 100),
                                                        (x, Y0 + 500)])], crs=4549)
    return gpd.GeoDataFrame(pd.concat([grids, extra], ignore_index=True), crs=4549)


def test_grids_touching_through_half_a_metre_are_not_neighbours():
    grids = _pendant(0.5)
    # Bands wide enough for one group of all 21: only the contact decides.
    walkable = group(grids, dense="1-30", sparse="1-30")
    check_grouping(walkable, bands=((1, 30), (1, 30)))
    assert _mates(walkable) == 1  # alone: it cannot be reached on foot
    assert walkable.figures["contacts_below_min_shared_edge"] == 1
    assert walkable.figures["min_shared_edge_m"] == 3.0
    anything = group(grids, dense="1-30", sparse="1-30", min_shared_edge=0)
    assert _mates(anything) > 1
    assert anything.figures["contacts_below_min_shared_edge"] == 0
    # A 5 m edge is walkable under the default.
    assert _mates(group(_pendant(5.0), dense="1-30", sparse="1-30")) > 1


def _mates(result) -> int:
    """How many unit grids share the pendant grid's responsibility grid (itself included)."""
    rgid = result.unit_grids.set_index("BGID")["RGID"]
    return int((rgid == rgid["310116001001021"]).sum())


def test_min_shared_edge_must_be_metres_not_negative():
    with pytest.raises(GridkitError, match="`min_shared_edge=-1`"):
        group(lattice(4, 5), min_shared_edge=-1)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)),
                                    max_size=60), st.integers(0, 2**16))
def test_connected_parts_partition_the_nodes(n, pairs, seed):
    from gridkit.responsibility.grouping import connected_parts

    edges = {(a, b) for a, b in pairs if a < n and b < n and a != b}
    adjacency = [set() for _ in range(n)]
    for a, b in edges:
        adjacency[a].add(b)
        adjacency[b].add(a)
    neighbours = [np.array(sorted(v), dtype=np.int64) for v in adjacency]
    rng = np.random.default_rng(seed)
    nodes = np.flatnonzero(rng.random(n) < 0.7)
    parts = connected_parts(nodes, neighbours)
    # Every node once, parts sorted and in the order of their first node.
    assert np.array_equal(np.sort(np.concatenate(parts)) if parts else nodes, nodes)
    assert sum(len(p) for p in parts) == len(nodes)
    assert all(np.array_equal(p, np.sort(p)) for p in parts)
    assert [int(p[0]) for p in parts] == sorted(int(p[0]) for p in parts)
    part_of = {int(u): k for k, p in enumerate(parts) for u in p}
    # No edge between two parts, and each part connected through its own nodes.
    assert all(part_of[a] == part_of[b] for a, b in edges if a in part_of and b in part_of)
    for p in parts:
        members, reached, stack = set(p.tolist()), {int(p[0])}, [int(p[0])]
        while stack:
            for v in adjacency[stack.pop()]:
                if v in members and v not in reached:
                    reached.add(v)
                    stack.append(v)
        assert reached == members


def test_key_areas_without_crs_are_a_one_line_error():
    """Key areas drawn in a notebook without ``crs=``: an error naming them, not geopandas'."""
    grids = gpd.GeoDataFrame(
        {"BGID": ["310116001001001"], "STREET": ["310116001"]},
        geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100)], crs=4549)
    keys = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 50, Y0 + 50)])
    with pytest.raises(GridkitError, match=r"^key_areas has no CRS: set it with key_areas"):
        group(grids, keys)
