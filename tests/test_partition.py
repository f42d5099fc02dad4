"""The partition engine: invariants, admin conflicts, barriers, codes, determinism."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import X0, Y0, four_communities, layout

from gridkit.errors import GridkitError
from gridkit.partition import partition, unit_grids
from gridkit.partition.communities import prepare_communities
from gridkit.partition.cutting import area_below


def assert_partition_invariants(result, communities_in_work_crs=None):
    grids, comm = result.unit_grids, result.communities
    geoms = grids.geometry.to_numpy()
    assert (grids.geom_type == "Polygon").all()
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)
    # Each grid inside exactly one community, and the grids tile each community exactly.
    for code, group in grids.groupby("COMMUNITY"):
        shape = comm.loc[comm["CODE"] == code].geometry.iloc[0]
        union = shapely.coverage_union_all(group.geometry.to_numpy())
        assert shapely.symmetric_difference(union, shape).area < 1e-6 * shape.area
        assert group.area.sum() == pytest.approx(shape.area, rel=1e-9)
    tree = shapely.STRtree(comm.geometry.to_numpy())
    g, c = tree.query(shapely.point_on_surface(geoms), predicate="within")
    assert np.array_equal(np.sort(g), np.arange(len(grids)))
    assert (comm["CODE"].to_numpy()[c] == grids["COMMUNITY"].to_numpy()[g]).all()
    assert grids["BGID"].is_unique
    assert (grids["BGID"].str[:12] == grids["COMMUNITY"]).all()
    if communities_in_work_crs is not None:
        total = communities_in_work_crs.area.sum()
        assert grids.area.sum() == pytest.approx(total, rel=1e-6)


def test_purely_geometric_partition_is_in_band_and_compact(communities):
    result = partition(communities)
    assert_partition_invariants(result, communities)
    areas = result.unit_grids.area
    assert areas.between(5_000, 20_000).all()
    assert len(result.unit_grids) == pytest.approx(communities.area.sum() / 10_000, rel=0.1)
    assert result.crs.to_epsg() == 4549


def test_library_api_returns_geodataframe_with_spec_fields(communities):
    grids = unit_grids(communities, target_area=20_000)
    assert isinstance(grids, gpd.GeoDataFrame)
    assert list(grids.columns) == ["BGID", "COMMUNITY", "STREET", "AREA", "RGID", "DENSITY",
                                   "geometry"]
    assert grids["AREA"].between(10_000, 40_000).all()
    assert (grids["STREET"] == grids["BGID"].str[:9]).all()
    assert grids.attrs["qa_issues"] == []


def test_grids_follow_roads_and_never_cross_major_ones(communities, roads):
    result = partition(communities, roads=roads)
    assert_partition_invariants(result, communities)
    primary = roads.geometry.iloc[0]
    # No grid holds a stretch of the primary road inside it: a small disc centred on the
    # road always straddles two grids.
    discs = shapely.buffer(shapely.line_interpolate_point(primary, np.arange(60, 1340, 5.0)),
                           0.5)
    tree = shapely.STRtree(result.unit_grids.geometry.to_numpy())
    inside, _ = tree.query(discs, predicate="within")
    assert len(inside) == 0


def test_cuts_avoid_buildings(communities):
    # Rows of 40 x 12 m slabs with 20 m gaps: a naive equal-area cut would split many.
    slabs = [shapely.box(X0 + x, Y0 + y, X0 + x + 40, Y0 + y + 12)
             for x in range(15, 560, 60) for y in range(15, 560, 35)]
    buildings = gpd.GeoDataFrame(geometry=slabs, crs=4549)
    grids = partition(communities, buildings=buildings).unit_grids
    tree = shapely.STRtree(grids.geometry.to_numpy())
    b, g = tree.query(np.array(slabs), predicate="intersects")
    share = shapely.area(shapely.intersection(np.array(slabs)[b], grids.geometry.to_numpy()[g]))
    split = np.bincount(b[share > 0.01 * 480], minlength=len(slabs)) >= 2
    assert split.mean() <= 0.05


def test_bgid_serials_run_north_west_to_south_east(communities):
    grids = partition(communities).unit_grids
    one = grids[grids["COMMUNITY"] == "310116001001"]
    assert one["BGID"].iloc[0] == "310116001001001"
    points = shapely.point_on_surface(one.geometry.to_numpy())
    y = shapely.get_y(points)
    assert y[0] >= y.max() - 100  # the first grid lies in the northern row
    assert y[-1] <= y.min() + 100
    serials = one["BGID"].str[12:].astype(int).to_numpy()
    assert np.array_equal(serials, np.arange(1, len(one) + 1))


def test_deterministic(communities, roads):
    a = partition(communities, roads=roads).unit_grids
    b = partition(communities.iloc[::-1], roads=roads.iloc[::-1]).unit_grids
    assert a["BGID"].tolist() == b["BGID"].tolist()
    assert all(shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), 1e-6))


def test_small_gap_and_overlap_resolved_and_reported():
    comm = four_communities()
    geoms = comm.geometry.to_list()
    geoms[0] = shapely.box(X0, Y0, X0 + 597, Y0 + 600)  # a 3 m gap along 310116001002
    geoms[2] = shapely.Polygon([(X0, Y0 + 596), (X0 + 600, Y0 + 596), (X0 + 600, Y0 + 1150),
                                (X0, Y0 + 1200)])  # a 4 m overlap over 310116001001
    comm = comm.set_geometry(geoms)
    result = partition(comm)
    rules = sorted(i.rule for i in result.issues)
    assert rules == ["admin-gap", "admin-overlap"]
    assert_partition_invariants(result)
    total = shapely.union_all(comm.geometry.to_numpy()).area
    # The 3 m notch is filled; the closing that finds it adds nothing beyond it.
    assert result.unit_grids.area.sum() == pytest.approx(total + 3 * 600, rel=1e-4)


def test_interior_gap_where_four_communities_meet_is_absorbed():
    comm = four_communities()
    hole = shapely.Polygon([(X0 + 590, Y0 + 600), (X0 + 600, Y0 + 590), (X0 + 610, Y0 + 600),
                            (X0 + 600, Y0 + 610)])
    comm = comm.set_geometry(shapely.difference(comm.geometry.to_numpy(), hole))
    result = partition(comm)
    gaps = [i for i in result.issues if i.rule == "admin-gap"]
    assert len(gaps) == 1 and gaps[0].geometry.area == pytest.approx(200)
    assert_partition_invariants(result)
    assert result.unit_grids.area.sum() == pytest.approx(comm.area.sum() + 200, rel=1e-9)


def test_large_gap_is_refused_with_its_location():
    comm = four_communities()
    comm = comm.set_geometry([comm.geometry.iloc[0].difference(
        shapely.box(X0 + 200, Y0 + 200, X0 + 400, Y0 + 400)), *comm.geometry.iloc[1:]])
    with pytest.raises(GridkitError, match=r"gap of 40,000 m² at 121\.\d+°E 30\.\d+°N"):
        partition(comm)


def test_community_needing_over_999_grids_gets_a_raised_target():
    comm = layout([shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)])
    result = partition(comm, target_area=500)  # 2,000 grids at 500 m²
    assert len(result.unit_grids) <= 999
    assert [i.rule for i in result.issues] == ["target-raised"]
    assert_partition_invariants(result)


def test_community_smaller_than_half_the_target_is_one_grid():
    comm = layout([shapely.box(X0, Y0, X0 + 60, Y0 + 60), shapely.box(X0 + 60, Y0, X0 + 400,
                                                                       Y0 + 60)])
    grids = partition(comm).unit_grids
    assert (grids["COMMUNITY"] == "310116001001").sum() == 1


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (["310116001001", "31011600100"], "has 11 digits, needs 12"),
        (["310116001001", "310116001001"], "is used by features"),
        (["310116001001", "441800003001"], "441800 is a prefecture, not a county"),
        (["310116001001", None], "no community code"),
        (["310116001001", "31011600100A"], "characters other than digits"),
    ],
)
def test_bad_codes_are_refused(codes, message):
    comm = layout([shapely.box(X0, Y0, X0 + 300, Y0 + 300),
                   shapely.box(X0 + 300, Y0, X0 + 600, Y0 + 300)], codes)
    with pytest.raises(GridkitError, match=message):
        partition(comm)


def test_non_polygon_community_is_refused():
    comm = layout([shapely.box(X0, Y0, X0 + 300, Y0 + 300), shapely.Point(X0, Y0)])
    with pytest.raises(GridkitError, match="feature 1 is a Point"):
        partition(comm)


@pytest.mark.parametrize("lost", [shapely.Polygon(), None,
                                  shapely.LineString([(X0, Y0), (X0 + 9, Y0)])])
def test_community_without_usable_geometry_is_an_error_naming_its_code(lost):
    comm = layout([shapely.box(X0, Y0, X0 + 300, Y0 + 300), lost],
                  ["310116001001", "310116001002"])
    with pytest.raises(GridkitError, match=r"1 community has no usable polygon.*310116001002"):
        partition(comm)


def test_two_counties_are_noded_once_with_their_own_codes():
    # A development zone across a county border: 310116 on the west, 310117 on the east,
    # their shared border digitised twice with a 4 cm overlap.
    west = shapely.box(X0, Y0, X0 + 600.04, Y0 + 500)
    east = shapely.box(X0 + 600, Y0, X0 + 1100, Y0 + 500)
    comm = layout([west, east, shapely.box(X0, Y0 + 500, X0 + 1100, Y0 + 800)],
                  ["310116001001", "310117002001", "310117002002"])
    result = partition(comm)
    assert_partition_invariants(result)
    grids = result.unit_grids
    assert set(grids["BGID"].str[:6]) == {"310116", "310117"}
    assert (grids["BGID"].str[:12] == grids["COMMUNITY"]).all()
    # One coverage across the border: no gap, no overlap, the whole zone covered.
    assert shapely.coverage_is_valid(grids.geometry.to_numpy())
    assert grids.area.sum() == pytest.approx(1100 * 800, rel=1e-9)
    [overlap] = [i for i in result.issues if i.rule == "admin-overlap"]
    assert "overlap of 20.0 m² between 310116001001 and 310117002001" in overlap.message
    # The 0.04 x 500 m strip went to one county only, as reported.
    west_grids = grids[grids["COMMUNITY"] == "310116001001"]
    assert west_grids.area.sum() == pytest.approx(600.04 * 500, rel=1e-9)


def test_dongguan_community_without_county_is_partitioned():
    comm = layout([shapely.box(X0, Y0, X0 + 400, Y0 + 300)], ["441900003001"])
    grids = partition(comm).unit_grids
    assert grids["BGID"].tolist()[:2] == ["441900003001001", "441900003001002"]
    assert (grids["STREET"] == "441900003").all()


def test_conflicts_are_reported_once_with_a_meaningful_area():
    # Two communities overlapping in two pieces of equal size, and a hair-thin overlap of
    # under a square centimetre that is rounding, not a conflict.
    a = shapely.box(X0, Y0, X0 + 300, Y0 + 600)
    b = shapely.Polygon([(X0 + 300, Y0), (X0 + 600, Y0), (X0 + 600, Y0 + 600),
                         (X0 + 300, Y0 + 600), (X0 + 300, Y0 + 400), (X0 + 299.9, Y0 + 400),
                         (X0 + 299.9, Y0 + 350), (X0 + 300, Y0 + 350), (X0 + 300, Y0 + 250),
                         (X0 + 299.9, Y0 + 250), (X0 + 299.9, Y0 + 200), (X0 + 300, Y0 + 200)])
    c = shapely.box(X0, Y0 + 600, X0 + 600, Y0 + 900.0000001)  # 0.6 cm² over d
    d = shapely.box(X0, Y0 + 900, X0 + 600, Y0 + 1200)
    result = partition(layout([a, b, c, d]))
    messages = [i.message for i in result.issues if i.rule.startswith("admin-")]
    assert len(messages) == len(set(messages)) == 1, messages
    assert messages[0].startswith("overlap of 10.0 m² in 2 pieces between")
    assert not re.search(r"(?<![0-9])0\.0 m²", " ".join(messages))


def test_self_intersecting_community_is_repaired_and_reported():
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 400, Y0 + 400), (X0 + 400, Y0), (X0, Y0 + 400)])
    comm = layout([bowtie])
    result = partition(comm)
    assert [i.rule for i in result.issues] == ["invalid-geometry"]
    assert "Self-intersection" in result.issues[0].message
    assert_partition_invariants(result)


def test_area_below_matches_clipping():
    shape = shapely.Polygon([(0, 0), (40, 0), (40, 30), (20, 50), (0, 30)],
                            [[(10, 10), (20, 10), (20, 20), (10, 20)]])
    t = np.linspace(-5, 55, 25)
    x_ref = [shapely.intersection(shape, shapely.box(-99, -99, v, 99)).area for v in t]
    y_ref = [shapely.intersection(shape, shapely.box(-99, -99, 99, v)).area for v in t]
    assert np.allclose(area_below(shape, t, 0), x_ref)
    assert np.allclose(area_below(shape, t, 1), y_ref)


def test_small_piece_merges_across_the_minor_road_not_the_major_one():
    comm = layout([shapely.box(X0, Y0, X0 + 600, Y0 + 600)])
    roads = gpd.GeoDataFrame(
        {"fclass": ["primary", "residential"]},
        geometry=[shapely.LineString([(X0, Y0 + 300), (X0 + 600, Y0 + 300)]),
                  shapely.LineString([(X0 + 590, Y0 + 300), (X0 + 590, Y0 + 600)])],
        crs=4549)  # leaves a 10 x 300 m strip (3,000 m²) between them and the border
    grids = partition(comm, roads=roads).unit_grids
    strip = shapely.Point(X0 + 595, Y0 + 450)
    holder = grids[grids.contains(strip)]
    assert len(holder) == 1
    assert holder.total_bounds[1] >= Y0 + 300 - 1e-3  # it stayed north of the primary road
    assert holder.total_bounds[0] < X0 + 590  # and joined the block across the minor road
    assert holder.area.iloc[0] >= 5_000


def test_each_grid_outside_the_band_is_a_qa_row_with_its_code():
    """A planner needs the grids to fix, not a share: one grid-size-band warning per grid
    outside 0.5-2× its community's target; a small community part and a block left whole
    (already reported as block-whole) are not repeated."""
    from gridkit.partition.engine import _band_issues
    from gridkit.qa import QAIssue

    comm = gpd.GeoDataFrame(
        {"CODE": ["441900003001", "441900003002"]},
        geometry=[shapely.box(0, 0, 400, 100),
                  shapely.MultiPolygon([shapely.box(400, 0, 700, 100),
                                        shapely.box(800, 0, 830, 100)])], crs=4547)
    boxes = [(0, 40), (40, 100), (100, 400), (400, 500), (500, 700), (800, 830)]
    grids = gpd.GeoDataFrame(
        {"BGID": [f"441900003001{i:03d}" for i in (1, 2, 3)]
         + [f"441900003002{i:03d}" for i in (1, 2, 3)],
         "COMMUNITY": ["441900003001"] * 3 + ["441900003002"] * 3},
        geometry=[shapely.box(a, 0, b, 100) for a, b in boxes], crs=4547)
    whole = QAIssue("unit_grid", "441900003001", "block-whole", "warning", "whole",
                    shapely.box(100, 0, 400, 100))
    issues = _band_issues(grids, comm, {"441900003001": 10_000.0, "441900003002": 8_000.0},
                          [whole])
    # 4,000 m² (0.4×) is reported, 6,000 (0.6×) is in band, 20,000 at 002 is 2.5× its 8,000;
    # 30,000 m² is the block left whole; the 3,000 m² exclave (0.375×) is smaller than half a
    # target: it cannot be larger.
    assert [(i.key, i.rule) for i in issues] == [("441900003001001", "grid-size-band"),
                                                ("441900003002002", "grid-size-band")]
    assert "0.40×" in issues[0].message and "2.50×" in issues[1].message


@pytest.mark.parametrize(("code", "name"),
                         [("行政区划代", "行政区划名"), ("居委会代码", "居委会名称")])
def test_community_fields_under_their_dbf_names(code, name):
    """行政区划代码/行政区划名称 as a GBK DBF cuts them (10 bytes), and 居委会代码/居委会名称,
    are found without --code-field/--name-field."""
    frame = gpd.GeoDataFrame({code: ["310116001001"], name: ["东林社区"]},
                             geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100)], crs=4549)
    prepared, _ = prepare_communities(frame, frame.crs)
    assert prepared[["CODE", "NAME"]].values.tolist() == [["310116001001", "东林社区"]]


@pytest.mark.parametrize("name", ["communities", "roads", "key_areas"])
def test_an_input_without_crs_is_a_one_line_error_naming_it(name):
    """A frame built in a notebook without ``crs=``: an InputError naming it, not geopandas'
    'Cannot transform naive geometries'."""
    box = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
    frames = {"communities": gpd.GeoDataFrame({"CODE": ["310116001001"]}, geometry=[box],
                                              crs=4549),
              "roads": gpd.GeoDataFrame(geometry=[box.boundary], crs=4549),
              "key_areas": gpd.GeoDataFrame(geometry=[box], crs=4549)}
    frames[name] = frames[name].set_crs(None, allow_override=True)
    with pytest.raises(GridkitError, match=rf"^{name} has no CRS: set it with {name}\.set_crs"):
        partition(frames["communities"], frames["roads"], key_areas=frames["key_areas"])


def test_a_building_across_a_community_border_is_reported_with_both_codes():
    """Grids never cross a community border, so a building two communities share is cut
    whatever the cutting does: reported once (the community layer is what to correct), with
    each community's share; a building touching the border from one side is not."""
    comm = gpd.GeoDataFrame(
        {"CODE": ["441900003001", "441900003002"]},
        geometry=[shapely.box(X0, Y0, X0 + 150, Y0 + 100),
                  shapely.box(X0 + 150, Y0, X0 + 300, Y0 + 100)], crs=4547)
    buildings = gpd.GeoDataFrame(geometry=[
        shapely.box(X0 + 140, Y0 + 40, X0 + 160, Y0 + 60),   # 50/50 across the border
        shapely.box(X0 + 130, Y0 + 70, X0 + 150, Y0 + 80),   # touches it from the west
        shapely.box(X0 + 20, Y0 + 20, X0 + 40, Y0 + 40)], crs=4547)
    result = partition(comm, buildings=buildings, target_area=10_000)
    found = [i for i in result.issues if i.rule == "building-across-communities"]
    assert len(found) == 1
    assert "441900003001 (50%), 441900003002 (50%)" in found[0].message
    assert found[0].geometry.equals(buildings.geometry.iloc[0])
