"""Cutting along the fabric: dead-end alleys, parcel lines, gaps between buildings.

Small blocks in EPSG:4549 metres; every layout is a few hectares.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from conftest import X0, Y0, layout
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_partition import assert_partition_invariants

from gridkit.partition import partition
from gridkit.partition.barriers import MAJOR, MINOR, PARCEL, prepare_barriers
from gridkit.partition.fabric import planned_pieces, tessellation_edges
from gridkit.partition.metrics import boundary_on_barriers, boundary_on_fabric, buildings_split


def _internal_boundary(grids: gpd.GeoDataFrame):
    """The lines shared by two grids."""
    geoms = grids.geometry.to_numpy()
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    shared = shapely.intersection(shapely.boundary(geoms[a[keep]]),
                                  shapely.boundary(geoms[b[keep]]))
    return shapely.line_merge(shapely.union_all(shared))


def _lines(coords, crs=4549, **fields):
    return gpd.GeoDataFrame(fields, geometry=[shapely.LineString(c) for c in coords], crs=crs)


def test_dead_end_alley_becomes_the_grid_boundary():
    # A 2-hectare block with a service road entering from the south at x = 75 m: straight
    # cuts divide it at x = 100 m; the fabric cutting draws the boundary along the alley and
    # straight on past its end (7,500 + 12,500 m², both in the band).
    comm = layout([shapely.box(X0, Y0, X0 + 200, Y0 + 100)])
    alley = _lines([[(X0 + 75, Y0 - 5), (X0 + 75, Y0 + 60)]], CLASS=["service"])
    fabric = partition(comm, roads=alley, cutting="fabric").unit_grids
    assert len(fabric) == 2
    assert sorted(fabric.area.round()) == [7_500, 12_500]
    along = shapely.LineString([(X0 + 75, Y0), (X0 + 75, Y0 + 100)])
    assert shapely.hausdorff_distance(_internal_boundary(fabric), along) < 0.5
    straight = partition(comm, roads=alley, cutting="straight").unit_grids
    assert shapely.hausdorff_distance(_internal_boundary(straight), along) > 20


def test_parcel_lines_become_grid_boundaries_where_the_band_allows():
    # Six plots of 3,333 m² in a 2-hectare block: every grid is a union of whole plots.
    comm = layout([shapely.box(X0, Y0, X0 + 200, Y0 + 100)])
    edges = np.linspace(X0, X0 + 200, 7)
    plots = gpd.GeoDataFrame(geometry=shapely.box(edges[:-1], Y0, edges[1:], Y0 + 100),
                             crs=4549)
    result = partition(comm, parcels=plots, cutting="fabric")
    grids = result.unit_grids
    assert_partition_invariants(result, comm)
    assert len(grids) >= 2 and ((grids.area >= 5_000) & (grids.area <= 20_000)).all()
    walls = shapely.union_all(shapely.boundary(plots.geometry.to_numpy()))
    boundary = _internal_boundary(grids)
    assert shapely.difference(boundary, shapely.buffer(walls, 0.01)).length < 1e-6


def test_gaps_between_buildings_carry_the_cuts_of_a_perimeter_block():
    # A perimeter block of terraced houses (touching, 12 × 15 m) around a courtyard, the
    # party walls of the north and south rows staggered: every straight cut of the block goes
    # through houses; the fabric cut runs on a wall, across the yard, on another wall.
    comm = layout([shapely.box(X0, Y0, X0 + 160, Y0 + 110)])
    houses = [shapely.box(X0 + 8, Y0 + 90, X0 + 14, Y0 + 105)]
    for k in range(12):
        x = X0 + 8 + 12 * k
        houses += [shapely.box(x, Y0 + 5, x + 12, Y0 + 20),
                   shapely.box(x + 6, Y0 + 90, x + 18 if k < 11 else x + 12, Y0 + 105)]
    for k in range(5):
        y = Y0 + 22 + 13 * k
        houses += [shapely.box(X0 + 8, y, X0 + 23, y + 13),
                   shapely.box(X0 + 137, y, X0 + 152, y + 13)]
    buildings = gpd.GeoDataFrame(geometry=houses, crs=4549)
    fabric = partition(comm, buildings=buildings, target_area=8_000, cutting="fabric")
    straight = partition(comm, buildings=buildings, target_area=8_000, cutting="straight")
    footprints = buildings.geometry.to_numpy()
    split = buildings_split(fabric.unit_grids.geometry.to_numpy(), footprints, 8_000)
    assert len(fabric.unit_grids) == 2 and split["split"] == 0
    assert buildings_split(straight.unit_grids.geometry.to_numpy(), footprints,
                           8_000)["split"] > 0
    cores = shapely.union_all(shapely.buffer(footprints, -0.5))
    assert shapely.intersection(_internal_boundary(fabric.unit_grids), cores).length == 0
    assert shapely.intersection(_internal_boundary(straight.unit_grids), cores).length > 10


def test_ring_building_keeps_its_block_whole_and_is_reported():
    # 1.8 hectares around one ring building of 6,000 m²: every cut would split it.
    comm = layout([shapely.box(X0, Y0, X0 + 150, Y0 + 120)])
    ring = shapely.box(X0 + 20, Y0 + 20, X0 + 130, Y0 + 100).difference(
        shapely.box(X0 + 40, Y0 + 40, X0 + 110, Y0 + 80))
    buildings = gpd.GeoDataFrame(geometry=[ring], crs=4549)
    result = partition(comm, buildings=buildings, cutting="fabric")
    assert len(result.unit_grids) == 1
    assert result.unit_grids.area.iloc[0] == pytest.approx(18_000)
    whole = [i for i in result.issues if i.rule == "block-whole"]
    assert len(whole) == 1 and whole[0].key == "310116001001"
    assert "18,000 m²" in whole[0].message and whole[0].geometry.area == pytest.approx(18_000)
    # A longer ring (9,600 m²) across three cells of a 3.6-hectare block: kept whole it would
    # make a grid of 2.7× the target. The band wins: the ring is cut and reported.
    comm = layout([shapely.box(X0, Y0, X0 + 300, Y0 + 120)])
    ring = shapely.box(X0 + 25, Y0 + 20, X0 + 225, Y0 + 100).difference(
        shapely.box(X0 + 45, Y0 + 40, X0 + 205, Y0 + 80))
    buildings = gpd.GeoDataFrame(geometry=[ring], crs=4549)
    result = partition(comm, buildings=buildings, cutting="fabric")
    assert len(result.unit_grids) >= 2 and (result.unit_grids.area <= 20_000).all()
    assert [i.rule for i in result.issues] == ["building-split"]


def test_road_class_lists_take_their_highest_member():
    roads = _lines([[(X0, Y0), (X0 + 10, Y0)]] * 3,
                   highway=["['primary', 'trunk']", "['service', 'footway']", "secondary"])
    parcels = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 5, Y0 + 5)], crs=4549)
    lines, _ = prepare_barriers(roads, None, roads.crs, parcels=parcels)
    assert lines["RANK"].tolist() == [MAJOR, MINOR, MAJOR, PARCEL]
    assert lines["KIND"].tolist() == ["road"] * 3 + ["parcel"]


def test_tessellation_runs_midway_between_buildings_and_along_alleys():
    block = shapely.box(0, 0, 100, 50)
    edges = tessellation_edges(block, shapely.box([10, 60], 10, [40, 90], 40), [])
    assert shapely.hausdorff_distance(shapely.union_all(edges),
                                      shapely.LineString([(50, 0), (50, 50)])) < 0.5
    alley = np.array([shapely.LineString([(30, 0), (30, 20)])])
    edges = shapely.union_all(tessellation_edges(block, np.empty(0, dtype=object), alley))
    assert shapely.hausdorff_distance(edges, shapely.LineString([(30, 0), (30, 50)])) < 0.5


def test_boundary_on_fabric_counts_gaps_not_open_space():
    grids = shapely.box([0, 50], 0, [50, 100], 50)
    none = np.empty(0, dtype=object)
    houses = shapely.box([30, 55], 10, [45, 70], 40)  # 10 m apart, the cut between them
    assert boundary_on_fabric(grids, none, houses) == 1.0
    far = shapely.box([0, 85], 10, [10, 100], 40)  # 75 m apart: the cut crosses a park
    assert boundary_on_fabric(grids, none, far) == 0.0
    through = shapely.box([40], 10, [60], 40)  # the cut runs through one building
    assert boundary_on_fabric(grids, none, np.concatenate([through, houses])) < 0.7
    road = np.array([shapely.LineString([(50, -5), (50, 55)])])
    assert boundary_on_fabric(grids, road, far) == 1.0


def test_boundary_inside_a_water_body_is_on_water():
    # A border drawn on a 40 m river's centre line, 20 m from both banks: on water, though
    # beyond NEAR of the bank lines; the same river 30 m away leaves the border off water.
    grids = shapely.box([0, 50], 0, [50, 100], 50)
    none = np.empty(0, dtype=object)
    river = shapely.box(30, -10, 70, 60)
    banks = shapely.get_parts(shapely.boundary(river))
    assert boundary_on_fabric(grids, banks, none) == 0.0  # the bank lines alone: off
    assert boundary_on_fabric(grids, banks, none, np.array([river])) == 1.0
    assert boundary_on_barriers(grids, banks, np.array([river])) == 1.0
    aside = shapely.box(80, -10, 120, 60)
    assert boundary_on_fabric(grids, shapely.boundary([aside]), none, [aside]) == 0.0
    # Half the border in a pond, half across a field.
    pond = shapely.box(40, -10, 60, 25)
    assert boundary_on_fabric(grids, none, none, [pond]) == pytest.approx(0.5, abs=0.05)


@st.composite
def fabric_districts(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    side = draw(st.sampled_from([250.0, 400.0]))
    frame = shapely.box(X0, Y0, X0 + side, Y0 + side)
    points = rng.uniform([X0, Y0], [X0 + side, Y0 + side], size=(draw(st.integers(1, 3)), 2))
    cells = [frame] if len(points) == 1 else list(shapely.intersection(shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame)), frame))
    # Dead ends: short lines entering from the edge or floating inside.
    starts = rng.uniform([X0 - 10, Y0 - 10], [X0 + side + 10, Y0 + side + 10],
                         size=(draw(st.integers(0, 6)), 2))
    ends = starts + rng.normal(0, 60, size=starts.shape)
    roads = gpd.GeoDataFrame({"CLASS": ["service"] * len(starts)},
                             geometry=shapely.linestrings(np.stack([starts, ends], 1)),
                             crs=4549) if len(starts) else None
    parcels = None
    if draw(st.booleans()):
        corner = rng.uniform([X0, Y0], [X0 + side, Y0 + side], size=(4, 2))
        size = rng.uniform(20, 120, size=(4, 2))
        parcels = gpd.GeoDataFrame(geometry=shapely.box(*corner.T, *(corner + size).T),
                                   crs=4549)
    houses = rng.uniform([X0, Y0], [X0 + side, Y0 + side], size=(draw(st.integers(0, 60)), 2))
    size = rng.uniform(6, 30, size=houses.shape)
    buildings = gpd.GeoDataFrame(geometry=shapely.box(*houses.T, *(houses + size).T),
                                 crs=4549) if len(houses) else None
    target = draw(st.sampled_from([2_500.0, 6_000.0, 10_000.0]))
    return layout(cells), roads, parcels, buildings, target


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fabric_districts())
def test_fabric_cutting_keeps_every_invariant(district):
    communities, roads, parcels, buildings, target = district
    result = partition(communities, roads=roads, buildings=buildings, target_area=target,
                       parcels=parcels, cutting="fabric")
    assert_partition_invariants(result, communities)
    grids = result.unit_grids
    assert shapely.coverage_is_valid(grids.geometry.to_numpy())
    # No slivers, except a grid that is a whole (small) part of its community.
    parts = shapely.get_parts(result.communities.geometry.to_numpy())
    g, p = shapely.STRtree(parts).query(shapely.point_on_surface(grids.geometry.to_numpy()),
                                        predicate="within")
    sliver = grids.area.to_numpy()[g] < 0.1 * target
    assert np.allclose(grids.area.to_numpy()[g][sliver], shapely.area(parts)[p][sliver])
    again = partition(communities, roads=roads, buildings=buildings, target_area=target,
                      parcels=parcels, cutting="fabric").unit_grids
    assert again["BGID"].tolist() == grids["BGID"].tolist()
    assert shapely.equals_exact(again.geometry.to_numpy(), grids.geometry.to_numpy(), 0).all()


def test_cli_parcels_and_fabric_cutting(tmp_path):
    from gridkit.cli import main

    comm = layout([shapely.box(X0, Y0, X0 + 300, Y0 + 100)])
    comm.to_file(tmp_path / "comm.gpkg")
    plots = gpd.GeoDataFrame({"名称": ["某小区", "某单位"]},
                             geometry=[shapely.box(X0, Y0, X0 + 130, Y0 + 100),
                                       shapely.box(X0 + 130, Y0, X0 + 300, Y0 + 100)],
                             crs=4549)
    plots.to_file(tmp_path / "plots.gpkg", layer="compound")
    out = tmp_path / "out.gpkg"
    done = CliRunner().invoke(main, [
        "partition", str(tmp_path / "comm.gpkg"), "-o", str(out), "--parcels",
        str(tmp_path / "plots.gpkg"), "--parcels-layer", "compound", "--cutting", "fabric",
        "--json"])
    assert done.exit_code == 0, done.output
    figures = json.loads(done.output)
    assert figures["in_band_share"] == 1.0 and figures["slivers"] == 0
    grids = pyogrio.read_dataframe(out, layer="unit_grid")
    wall = shapely.LineString([(X0 + 130, Y0), (X0 + 130, Y0 + 100)])
    assert shapely.hausdorff_distance(_internal_boundary(grids).intersection(
        shapely.box(X0 + 129, Y0, X0 + 131, Y0 + 100)), wall) < 1e-6
    run = pyogrio.read_dataframe(out, layer="gridkit_run")
    parameters = json.loads(run["PARAMETERS"].iloc[0])
    assert parameters["cutting"] == "fabric" and parameters["parcels_layer"] == "compound"
    assert len(json.loads(run["INPUTS"].iloc[0])) == 2
    bad = CliRunner().invoke(main, ["partition", str(tmp_path / "comm.gpkg"), "-o",
                                    str(tmp_path / "x.gpkg"), "--cutting", "diagonal"])
    assert bad.exit_code == 2 and "diagonal" in bad.output
    points = pd.DataFrame({"x": [X0 + 5.0]})
    gpd.GeoDataFrame(points, geometry=gpd.points_from_xy(points.x, [Y0 + 5.0]),
                     crs=4549).to_file(tmp_path / "points.gpkg")
    bad = CliRunner().invoke(main, ["partition", str(tmp_path / "comm.gpkg"), "-o",
                                    str(tmp_path / "x.gpkg"), "--parcels",
                                    str(tmp_path / "points.gpkg")])
    assert bad.exit_code == 2 and "parcels" in bad.output and "Traceback" not in bad.output
    assert not (tmp_path / "x.gpkg").exists()


def test_open_land_takes_fewer_larger_grids_built_up_land_one_per_target():
    field = shapely.box(0, 0, 250, 200)  # 5 ha
    none = np.empty(0, dtype=object)
    assert planned_pieces(field, none, 10_000) == 3  # as few as keep them within 1.7 ha
    rows = shapely.box(np.arange(0, 250, 25), 0, np.arange(15, 250, 25), 200)  # 10 m gaps
    assert planned_pieces(field, rows, 10_000) == 5
    # Never so few that the average grid would pass 1.7 × the target.
    assert planned_pieces(shapely.box(0, 0, 190, 100), none, 10_000) == 2
    # One farmhouse in a corner of a 9-hectare field: mostly open land.
    big = shapely.box(0, 0, 300, 300)
    assert planned_pieces(big, shapely.box([5], 5, [17], 15), 10_000) == 6


def test_fabric_gives_open_land_larger_grids_only_when_buildings_are_known():
    # A 6-hectare community, its houses along the west edge, fields to the east.
    comm = layout([shapely.box(X0, Y0, X0 + 300, Y0 + 200)])
    houses = shapely.box(X0 + 5, Y0 + np.arange(5, 200, 25), X0 + 20, Y0 + np.arange(17, 200, 25))
    buildings = gpd.GeoDataFrame(geometry=houses, crs=4549)
    with_houses = partition(comm, buildings=buildings)
    assert_partition_invariants(with_houses, comm)
    grids = with_houses.unit_grids
    assert 3 <= len(grids) <= 5 and grids.area.between(5_000, 20_000).all()
    assert buildings_split(grids.geometry.to_numpy(), houses, 10_000)["split"] == 0
    # Without a building layer nothing is known to be open: one grid per target.
    assert len(partition(comm).unit_grids) == 6


def test_key_areas_keep_grids_of_the_target_on_open_land(tmp_path):
    # The same 6 hectares with a landscape belt (a key area) over the eastern fields: its
    # open land is managed densely, one grid per target, as `group` then needs 10-16 there.
    from gridkit.cli import main

    comm = layout([shapely.box(X0, Y0, X0 + 300, Y0 + 200)])
    houses = shapely.box(X0 + 5, Y0 + np.arange(5, 200, 25), X0 + 20, Y0 + np.arange(17, 200, 25))
    buildings = gpd.GeoDataFrame(geometry=houses, crs=4549)
    belt = gpd.GeoDataFrame({"NAME": ["滨河景观带"], "KIND": ["landscape_belt"]},
                            geometry=[shapely.box(X0 + 40, Y0 - 10, X0 + 310, Y0 + 210)],
                            crs=4549)
    assert len(partition(comm, buildings=buildings).unit_grids) == 4
    keyed = partition(comm, buildings=buildings, key_areas=belt.to_crs(4490))
    assert_partition_invariants(keyed, comm)
    assert len(keyed.unit_grids) == 6
    for name, frame in (("comm", comm), ("houses", buildings), ("keys", belt)):
        frame.to_file(tmp_path / f"{name}.gpkg", layer=name)
    out = tmp_path / "out.gpkg"
    done = CliRunner().invoke(main, [
        "partition", str(tmp_path / "comm.gpkg"), "-o", str(out), "--buildings",
        str(tmp_path / "houses.gpkg"), "--key-areas", str(tmp_path / "keys.gpkg"),
        "--key-areas-layer", "keys", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["unit_grids"] == 6
    run = pyogrio.read_dataframe(out, layer="gridkit_run")
    assert json.loads(run["PARAMETERS"].iloc[0])["key_areas_layer"] == "keys"
    assert len(json.loads(run["INPUTS"].iloc[0])) == 3
    gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs=4549).to_file(
        tmp_path / "points.gpkg")
    bad = CliRunner().invoke(main, ["partition", str(tmp_path / "comm.gpkg"), "-o",
                                    str(tmp_path / "x.gpkg"), "--key-areas",
                                    str(tmp_path / "points.gpkg")])
    assert bad.exit_code == 2 and "key areas" in bad.output and "Traceback" not in bad.output


def test_fabric_is_the_default_cutting(tmp_path):
    from gridkit.cli import main

    comm = layout([shapely.box(X0, Y0, X0 + 200, Y0 + 100)])
    alley = _lines([[(X0 + 75, Y0 - 5), (X0 + 75, Y0 + 60)]], CLASS=["service"])
    along = shapely.LineString([(X0 + 75, Y0), (X0 + 75, Y0 + 100)])
    default = partition(comm, roads=alley).unit_grids
    assert shapely.hausdorff_distance(_internal_boundary(default), along) < 0.5
    comm.to_file(tmp_path / "comm.gpkg")
    alley.to_file(tmp_path / "roads.gpkg")
    out = tmp_path / "out.gpkg"
    done = CliRunner().invoke(main, ["partition", str(tmp_path / "comm.gpkg"), "-o", str(out),
                                     "--roads", str(tmp_path / "roads.gpkg"), "--json"])
    assert done.exit_code == 0, done.output
    run = pyogrio.read_dataframe(out, layer="gridkit_run")
    assert json.loads(run["PARAMETERS"].iloc[0])["cutting"] == "fabric"
    grids = pyogrio.read_dataframe(out, layer="unit_grid")
    assert shapely.hausdorff_distance(_internal_boundary(grids), along) < 0.5
