"""The unit grid partition: communities (and barriers) in, coded unit grids out.

Steps, each deterministic:

1. normalise every input to the working CRS and repair geometries (reported);
2. resolve gaps and overlaps between communities (see :mod:`.communities`);
3. node community rings and barrier lines once and polygonize them into *faces*;
4. merge faces below half the target into a neighbour of the same community, across the
   weakest barrier available, giving *blocks*;
5. cut blocks of 1.5× the target or more into compact cells along their fabric: gaps
   between buildings, dead-end alleys and paths, parcel lines (see :mod:`.fabric` and
   :mod:`.cutting`), node again with the cut lines, and merge cells below half the target
   into a neighbour (preferring one that stays within 2× the target);
6. dissolve each unit's faces into one polygon and give it its BGID (see :mod:`.coding`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridkit.crs import require_crs, working_crs
from gridkit.distributed import map_ordered
from gridkit.errors import GridkitError, InputError, mention
from gridkit.geometry import skipped_features
from gridkit.partition.barriers import (
    prepare_barriers,
    prepare_buildings,
    prepare_key_areas,
    water_areas,
)
from gridkit.partition.bgids import MAX_GRIDS, assign_bgids
from gridkit.partition.communities import prepare_communities, resolve_conflicts
from gridkit.partition.counties import county_figures, room_of_grids
from gridkit.partition.cutting import plan_cuts
from gridkit.partition.fabric import BlockPlan, plan_block, planned_pieces
from gridkit.partition.faces import (
    MICRO_AREA,
    PRECISION,
    locate,
    merge_small,
    polygonize,
    polygonize_loose,
    shared_edges,
)
from gridkit.partition.metrics import partition_figures, shared_buildings
from gridkit.qa import QAIssue, qa_frame

MIN_RATIO, MAX_RATIO = 0.5, 2.0  # the band of unit grid areas, as multiples of the target
SPLIT_RATIO = 1.5  # blocks this large (× target) are cut; smaller ones stay whole
CUTTINGS = ("straight", "fabric")  # how large blocks are cut; see README "How unit grids are cut"
DEFAULT_CUTTING = "fabric"
PLANNED_GRIDS = 900  # a community planned for more grids than this gets a larger target
MIN_TARGET, MAX_TARGET = 100, 10_000_000  # m²: a unit grid between a courtyard and 10 km²

Progress = Callable[[str], None]


@dataclass
class Partition:
    """Everything a partition produced: what :func:`partition` returns.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        The communities as cleaned and resolved: CODE, NAME, STREET, AREA (m²).
    unit_grids : geopandas.GeoDataFrame
        The unit grids: BGID, COMMUNITY, STREET, AREA (m²), RGID, DENSITY.
    issues : list of QAIssue
        What was repaired, skipped or refused.
    crs : pyproj.CRS
        The projected metric CRS worked in.
    barrier_lines : numpy.ndarray of shapely geometries, optional
        Roads, water and parcel lines in ``crs``, for measuring the result.
    buildings : numpy.ndarray of shapely geometries, optional
        Building footprints in ``crs``.
    water : numpy.ndarray of shapely geometries, optional
        Water bodies given as polygons, in ``crs``: a grid boundary inside one is on water.
    target_area : float
        The unit grid area aimed for, m².

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> x, y = 624_000, 3_398_000  # EPSG:4549 metres, near 121.3°E 30.7°N
    >>> communities = gpd.GeoDataFrame({"CODE": ["310116001001"], "NAME": ["东林居委会"]},
    ...                                geometry=[shapely.box(x, y, x + 200, y + 100)], crs=4549)
    >>> result = partition(communities)
    >>> result.unit_grids["BGID"].tolist(), len(result.qa)
    (['310116001001001', '310116001001002'], 0)
    """

    communities: gpd.GeoDataFrame
    unit_grids: gpd.GeoDataFrame
    issues: list[QAIssue] = field(default_factory=list)
    crs: pyproj.CRS | None = None
    barrier_lines: np.ndarray | None = None  # in ``crs``, for measuring the result
    buildings: np.ndarray | None = None
    target_area: float = 10_000
    water: np.ndarray | None = None

    @property
    def qa(self) -> gpd.GeoDataFrame:
        """The issues as a ``qa_issue`` frame (LAYER, KEY, RULE, SEVERITY, MESSAGE)."""
        return qa_frame(self.issues, self.crs)

    @cached_property
    def figures(self) -> dict:
        """Counts, sizes and shapes of the grids: ``gridkit partition --json`` without file figures.

        The file's figures are the output, its layers and the seconds taken.
        """
        grids, target = self.unit_grids, self.target_area
        figures = partition_figures(grids, target,
                                    community_area=room_of_grids(grids, self.communities),
                                    barrier_lines=self.barrier_lines, buildings=self.buildings,
                                    water=self.water)
        severities = [i.severity for i in self.issues]
        rules: dict[str, int] = {}
        for issue in self.issues:
            rules[issue.rule] = rules.get(issue.rule, 0) + 1
        return {
            "crs": self.crs.to_string() if self.crs is not None else None,
            "target_area": target,
            "communities": int(len(self.communities)),
            "streets": int(self.communities["STREET"].nunique()),
            "unit_grids": int(len(grids)),
            **{k: v for k, v in figures.items() if k != "count"},
            "counties": county_figures(grids, self.communities, target),
            "skipped_features": skipped_features(self.issues),
            "qa": {"error": severities.count("error"), "warning": severities.count("warning"),
                   "by_rule": rules},
        }


def unit_grids(communities: gpd.GeoDataFrame, *args: Any, **options: Any) -> gpd.GeoDataFrame:
    """Cut communities into coded unit grids (单元网格); see :func:`partition` for the options.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        Residents' committees and villages with a 12-digit code field, any CRS.
    *args, **options
        The other arguments of :func:`partition`: ``roads``, ``water``, ``buildings``,
        ``target_area`` (m²), ``parcels``, then its keyword options.

    Returns
    -------
    geopandas.GeoDataFrame
        BGID, COMMUNITY, STREET, AREA, RGID and DENSITY (and BLDG_AREA when buildings are
        given) in the working CRS; the QA issues are in ``.attrs["qa_issues"]``.

    Raises
    ------
    GridkitError
        As :func:`partition`.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> x, y = 624_000, 3_398_000  # EPSG:4549 metres
    >>> communities = gpd.GeoDataFrame({"CODE": ["310116001001"]},
    ...                                geometry=[shapely.box(x, y, x + 300, y + 100)], crs=4549)
    >>> grids = unit_grids(communities)
    >>> len(grids), grids.crs.to_epsg(), grids.attrs["qa_issues"]
    (3, 4549, [])
    """
    result = partition(communities, *args, **options)
    grids = result.unit_grids
    grids.attrs["qa_issues"] = result.issues
    return grids


def partition(
    communities: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    target_area: float = 10_000,
    parcels: gpd.GeoDataFrame | None = None,
    *,
    crs: pyproj.CRS | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    road_class_field: str | None = None,
    max_conflict_area: float | None = None,
    progress: Progress | None = None,
    client: object | None = None,
    borders: np.ndarray | None = None,
    cutting: str = DEFAULT_CUTTING,
    key_areas: gpd.GeoDataFrame | None = None,
) -> Partition:
    """Partition communities into unit grids (万米单元网格, GB/T 30428.1).

    Each grid lies in exactly one community, grids cover the communities without gaps or
    overlaps, follow roads, water and parcel edges where given, avoid cutting buildings, and
    stay within 0.5-2× ``target_area`` where the community allows; each gets a 15-digit BGID
    (community code + serial, numbered in rows from the north-west). The steps are listed in
    the module doc; the result is deterministic.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        Residents' committees and villages (居委会/村), polygons in any CRS, with a 12-digit
        community code field (CODE/代码/社区代码) and optionally a name (NAME/名称).
    roads : geopandas.GeoDataFrame, optional
        Road centre lines (LineString), any CRS, optionally with a class field
        (CLASS/fclass/highway/道路等级): major roads are preferred barriers.
    water : geopandas.GeoDataFrame, optional
        Rivers and water bodies (lines or polygons), any CRS.
    buildings : geopandas.GeoDataFrame, optional
        Building footprints (polygons), any CRS: cuts avoid them and each grid records its
        footprint area (BLDG_AREA, m²), the default grouping workload.
    target_area : float, optional
        The unit grid area aimed at, m² (10,000 m² = one hectare, the usual unit grid);
        100-10,000,000.
    parcels : geopandas.GeoDataFrame, optional
        Compound (小区/单位) and cadastral plot polygons (or wall lines) whose edges grids follow
        where the size band allows.
    crs : pyproj.CRS, optional
        A projected metric CRS to work in (default: the CGCS2000 3-degree Gauss-Krüger zone of
        the data, e.g. EPSG:4549 at 120°E).
    code_field : str, optional
        The communities' code field, when not found by its common names.
    name_field : str, optional
        The communities' name field.
    road_class_field : str, optional
        The roads' class field.
    max_conflict_area : float, optional
        The largest gap or overlap between communities resolved by rule, m² (default: half of
        ``target_area``); larger ones are reported, not resolved.
    progress : callable, optional
        Called with the name of each stage as it starts (for a status line).
    client : dask.distributed.Client, optional
        Plan the cuts per street on this cluster (see :mod:`gridkit.distributed`); the result is
        the same.
    borders : numpy.ndarray, optional
        County border lines noded once for a whole province
        (:func:`gridkit.project.node_borders`), so that neighbouring counties' grids share every
        border vertex.
    cutting : {"fabric", "straight"}, optional
        ``"fabric"`` (the default) cuts large blocks along the gaps between buildings, dead-end
        alleys and paths and parcel lines, and gives open land larger grids (see :mod:`.fabric`);
        ``"straight"`` cuts them in rows and cells of equal area, each cut slid to miss buildings.
    key_areas : geopandas.GeoDataFrame, optional
        Key areas (重点区域: demonstration areas, central business districts, main landscape
        belts), polygons in any CRS, as ``gridkit group --key-areas`` takes them: managed
        densely, their open land gets grids of the target, not the larger grids of open land
        elsewhere (the fabric cutting with buildings).

    Returns
    -------
    Partition
        Communities as resolved, unit grids and QA issues, all in the working CRS.

    Raises
    ------
    InputError
        A ``ValueError`` naming the parameter: ``target_area`` or ``cutting`` out of range,
        communities without a valid code field, an input without a CRS, a community needing
        over 999 grids.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> x, y = 624_000, 3_398_000  # EPSG:4549 metres, near 121.3°E 30.7°N
    >>> communities = gpd.GeoDataFrame(
    ...     {"CODE": ["310116001001", "310116001002"]},
    ...     geometry=[shapely.box(x, y, x + 200, y + 100),
    ...               shapely.box(x + 200, y, x + 400, y + 150)], crs=4549)
    >>> result = partition(communities, target_area=10_000)
    >>> result.unit_grids.groupby("COMMUNITY").size().to_dict()
    {'310116001001': 2, '310116001002': 4}
    >>> round(result.unit_grids.area.sum()) == round(communities.area.sum())
    True
    """
    if not MIN_TARGET <= target_area <= MAX_TARGET:
        raise InputError(
            f"`target_area={target_area:g}` m² is outside {MIN_TARGET:,}-{MAX_TARGET:,} "
            "m²; it is in square metres: 10000 is one hectare, the usual unit grid",
            parameter="target_area")
    if cutting not in CUTTINGS:
        raise InputError(f"{mention(cutting=cutting)} is not one of {', '.join(CUTTINGS)}",
                         parameter="cutting")
    require_crs(communities=communities, roads=roads, water=water, buildings=buildings,
                parcels=parcels, key_areas=key_areas)
    say = progress or (lambda _stage: None)
    work = working_crs([communities], crs)
    say("checking communities")
    comm, issues = prepare_communities(communities, work, code_field=code_field,
                                       name_field=name_field)
    comm, found = resolve_conflicts(
        comm, max_area=max_conflict_area if max_conflict_area is not None else 0.5 * target_area)
    issues += found
    barriers, found = prepare_barriers(roads, water, work, road_class_field=road_class_field,
                                       parcels=parcels)
    issues += found
    footprints, found = prepare_buildings(buildings, work)
    issues += found
    keys, found = prepare_key_areas(key_areas, work)
    issues += found

    areas = comm.geometry.area.to_numpy()
    targets = np.maximum(target_area, areas / PLANNED_GRIDS)
    for _ in range(3):
        grids, cut_issues = _cut(comm, barriers, footprints, targets, say, client, borders,
                                 cutting, keys)
        counts = grids["COMMUNITY"].value_counts()
        over = counts[counts > MAX_GRIDS]
        if over.empty:
            break
        for code, count in over.items():
            k = int(np.flatnonzero(comm["CODE"].to_numpy() == code)[0])
            targets[k] *= count / (MAX_GRIDS * 0.95)
    else:
        raise InputError(f"communities {', '.join(over.index)} still need over {MAX_GRIDS} "
                         f"unit grids; raise {mention('target_area')}",
                         parameter="target_area")
    for k in np.flatnonzero(targets > target_area).tolist():
        issues.append(QAIssue(
            "community", comm["CODE"].iloc[k], "target-raised", "warning",
            f"community {comm['CODE'].iloc[k]} ({areas[k] / 1e6:,.2f} km²) would need over "
            f"{MAX_GRIDS} unit grids; its target area was raised to {targets[k]:,.0f} m²"))
    issues += cut_issues
    target_of = dict(zip(comm["CODE"], targets, strict=True))
    grids, comm = _finish(grids, comm, targets)
    issues += _band_issues(grids, comm, target_of, cut_issues)
    issues += _border_buildings(comm, footprints)
    if len(footprints):
        # The responsibility grouping falls back on it for workload when no census exists.
        grids.insert(len(grids.columns) - 1, "BLDG_AREA", _covered_area(grids, footprints))
    grids.attrs["target_area"] = target_area
    return Partition(comm, grids, issues, work, barriers.geometry.to_numpy(), footprints,
                     target_area, water_areas(water, work))


def _covered_area(grids: gpd.GeoDataFrame, footprints: np.ndarray) -> np.ndarray:
    geoms = grids.geometry.to_numpy()
    g, b = shapely.STRtree(footprints).query(geoms, predicate="intersects")
    pieces = shapely.area(shapely.intersection(geoms[g], footprints[b]))
    return np.round(np.bincount(g, weights=pieces, minlength=len(geoms)), 2)


def _community_lines(comm: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame):
    rings = shapely.get_parts(shapely.boundary(comm.geometry.to_numpy()))
    if barriers.empty:
        return rings, None, np.empty(0, dtype=np.int64)
    district = shapely.union_all(comm.geometry.to_numpy())
    shapely.prepare(district)
    lines = barriers.geometry.to_numpy()
    ranks = barriers["RANK"].to_numpy()
    near = shapely.intersects(district, lines)
    clipped = shapely.intersection(lines[near], district)
    parts, index = shapely.get_parts(clipped, return_index=True)
    linear = np.isin(shapely.get_type_id(parts), [1, 2])
    parts, ranks = parts[linear], ranks[near][index[linear]]
    return np.concatenate([rings, parts]), shapely.STRtree(parts), ranks


def _label_faces(faces, comm_geoms):
    """Community of each face; rounding slivers between communities get -2, outside -1."""
    community = locate(shapely.point_on_surface(faces), comm_geoms)
    micro = (community < 0) & (shapely.area(faces) < MICRO_AREA)
    community[micro] = -2
    return community


def _adopt_micro(faces, community, edges_for):
    """Give rounding slivers the community of the neighbour they share most edge with."""
    micro = np.flatnonzero(community == -2)
    if len(micro) == 0:
        return community
    edges = edges_for(micro)
    edges = edges[community[edges["b"].to_numpy()] >= 0]
    best = edges.sort_values(["a", "length"], ascending=[True, False]).drop_duplicates("a")
    community = community.copy()
    community[best["a"].to_numpy()] = community[best["b"].to_numpy()]
    community[community == -2] = -1
    return community


def _merge(faces, community, unit_of_face, targets, edges_for, *, cap: bool):
    inside = community >= 0
    faces, community, unit_of_face = faces[inside], community[inside], unit_of_face[inside]
    _, unit_of_face = np.unique(unit_of_face, return_inverse=True)
    n_units = unit_of_face.max() + 1
    unit_community = np.zeros(n_units, dtype=np.int64)
    unit_community[unit_of_face] = community
    target = targets[unit_community]
    merged = merge_small(unit_of_face, shapely.area(faces), unit_community,
                         MIN_RATIO * target, lambda sub: edges_for(faces, sub),
                         max_area=MAX_RATIO * target if cap else None)
    _, merged = np.unique(merged, return_inverse=True)
    return faces, community, merged


def _dissolve(faces, unit_of_face) -> np.ndarray:
    order = np.argsort(unit_of_face, kind="stable")
    bounds = np.flatnonzero(np.diff(unit_of_face[order])) + 1
    out = []
    for members in np.split(order, bounds):
        if len(members) == 1:
            out.append(faces[members[0]])
        else:
            out.append(shapely.coverage_union_all(faces[members]))
    return np.array(out, dtype=object)


def _split_disconnected(faces, unit_of_face, shapes):
    """Units whose faces meet only at corners become one unit per connected part."""
    multi = np.flatnonzero(shapely.get_type_id(shapes) == 6)
    if len(multi) == 0:
        return unit_of_face
    unit_of_face = unit_of_face.copy()
    next_unit = unit_of_face.max() + 1
    points = shapely.point_on_surface(faces)
    for u in multi:
        members = np.flatnonzero(unit_of_face == u)
        parts = shapely.get_parts(shapes[u])
        which = locate(points[members], parts)
        for k in range(1, len(parts)):
            unit_of_face[members[which == k]] = next_unit
            next_unit += 1
    return unit_of_face


def _plan_blocks(faces, block, community, targets, footprints, streets, loose, client=None,
                 cutting=DEFAULT_CUTTING, keys=None) -> dict:
    """A cut plan for every block of at least SPLIT_RATIO × its community's target.

    Plans are independent of each other, so with a Dask ``client`` they are made per street
    on the cluster; the inputs and the planner are the same, so the plans are too.
    """
    block_area = np.bincount(block, weights=shapely.area(faces))
    block_community = np.zeros(len(block_area), dtype=np.int64)
    block_community[block] = community
    big = np.flatnonzero(block_area >= SPLIT_RATIO * targets[block_community])
    building_tree = shapely.STRtree(footprints) if len(footprints) else None
    loose_tree = shapely.STRtree(loose) if len(loose) else None
    key_tree = shapely.STRtree(keys) if keys is not None and len(keys) else None
    order = np.argsort(block, kind="stable")
    starts = np.searchsorted(block[order], np.arange(len(block_area) + 1))
    jobs: list[tuple] = []
    for b in big:
        members = faces[order[starts[b]:starts[b + 1]]]
        shape = shapely.coverage_union_all(members)
        target = targets[block_community[b]]
        if cutting == "straight":
            pieces = max(2, round(block_area[b] / target))
            near = footprints[building_tree.query(shape)] if building_tree else footprints
            near = near[shapely.area(near) < target] if len(near) else near
            jobs.append((int(b), shape, None, block_area[b] / pieces, target, near, None))
            continue
        near = footprints[building_tree.query(shape, predicate="intersects")
                          ] if building_tree else footprints
        # Without a building layer no land is known to be open: one grid per target.
        pieces = (planned_pieces(shape, near, target, keys[key_tree.query(
                      shape, predicate="intersects")] if key_tree else None)
                  if len(footprints) else max(2, round(block_area[b] / target)))
        if pieces < 2:
            continue  # mostly open land within the band: one unit grid
        inside = loose[loose_tree.query(shape, predicate="intersects")
                       ] if loose_tree else loose
        if len(inside):
            inside = shapely.get_parts(shapely.intersection(inside, shape))
            inside = inside[shapely.get_type_id(inside) == 1]
        rings = shapely.boundary(members) if len(members) > 1 else np.empty(0, dtype=object)
        jobs.append((int(b), shape, rings, block_area[b] / pieces, target, near, inside))
    if client is None:
        return _plan_street(jobs)
    by_street: dict[str, list] = {}
    for job in jobs:
        by_street.setdefault(streets[block_community[job[0]]], []).append(job)
    plans = {}
    for street_plans in map_ordered(client, _plan_street, list(by_street.values())):
        plans.update(street_plans)
    return {b: plans[b] for b, *_ in jobs}


def _plan_street(jobs: list) -> dict:
    return {b: plan_cuts(shape, cell, near) if rings is None
            else plan_block(shape, rings, cell, target, near, inside)
            for b, shape, rings, cell, target, near, inside in jobs}


def _cells(faces, community, block, noded, plans, edges_for):
    """Faces of the linework with the cut lines added, labelled by block and cell."""
    cells, _ = polygonize(np.concatenate([noded, *(p.lines for p in plans.values())]))
    points = shapely.point_on_surface(cells)
    parent = locate(points, faces)
    found = parent >= 0
    cell_community = np.where(found, community[np.maximum(parent, 0)], -2)
    cell_community[~found & (shapely.area(cells) >= MICRO_AREA)] = -1
    cell_community = _adopt_micro(cells, cell_community, lambda sub: edges_for(cells, sub))
    cell_block = np.where(found, block[np.maximum(parent, 0)], -1)
    label = np.zeros(len(cells), dtype=np.int64)
    for b, plan in plans.items():
        mine = np.flatnonzero(cell_block == b)
        if len(mine):
            label[mine] = plan.cell_of(points[mine]) + 1
    # Slivers adopted from outside every face are units of their own until merged.
    alone = np.where(found, 0, np.arange(len(cells)) + 1)
    unit = pd.factorize(pd.MultiIndex.from_arrays([cell_block, label, alone]))[0]
    return cells, cell_community, unit


def _cut(comm, barriers, footprints, targets, say, client=None, borders=None,
         cutting=DEFAULT_CUTTING, keys=None):
    lines, barrier_tree, barrier_ranks = _community_lines(comm, barriers)
    if borders is not None and len(borders):
        # They lie on community rings: they add vertices (a neighbour's, a road crossing on
        # the other side), not faces.
        lines = np.concatenate([lines, borders])

    def edges_for(faces, subset):
        return shared_edges(faces, subset, barrier_tree, barrier_ranks)

    say("noding communities and barriers")
    if barriers.empty or cutting == "straight":
        faces, noded = polygonize(lines)
        loose = np.empty(0, dtype=object)
    else:
        faces, noded, loose = polygonize_loose(lines)
    community = _label_faces(faces, comm.geometry.to_numpy())
    community = _adopt_micro(faces, community, lambda sub: edges_for(faces, sub))
    say("merging small blocks")
    faces, community, unit = _merge(faces, community, np.arange(len(faces)), targets,
                                    edges_for, cap=False)
    say("planning cuts")
    streets = comm["CODE"].str[:9].to_numpy()
    plans = _plan_blocks(faces, unit, community, targets, footprints, streets, loose, client,
                         cutting, keys)
    issues = _block_issues(plans, comm, community, unit, targets)
    if plans:
        say(f"cutting {len(plans)} large blocks")
        faces, community, unit = _cells(faces, community, unit, noded, plans, edges_for)
    say("merging small cells")
    keep = community >= 0
    kept = pd.factorize(unit[keep])[0]
    kept = _split_disconnected(faces[keep], kept, _dissolve(faces[keep], kept))
    unit = np.full(len(faces), -1, dtype=np.int64)
    unit[keep] = kept
    faces, community, unit = _merge(faces, community, unit, targets, edges_for, cap=True)
    say("dissolving unit grids")
    # On the noding's own grid: a union of faces can leave a spike or notch thinner than
    # that grid where two edges nearly coincide (one sample grid carried a 0.7 m spike
    # 0.02 mm wide); snapping removes it on both neighbours alike and moves nothing else.
    shapes = shapely.set_precision(_dissolve(faces, unit), PRECISION)
    unit_community = np.zeros(len(shapes), dtype=np.int64)
    unit_community[unit] = community
    codes = comm["CODE"].to_numpy()
    return gpd.GeoDataFrame(
        {"COMMUNITY": codes[unit_community], "TARGET": targets[unit_community]},
        geometry=shapes, crs=comm.crs), issues


def _block_issues(plans: dict, comm, community, block, targets) -> list[QAIssue]:
    """Blocks left whole, or with buildings left cut, because of the size band."""
    issues = []
    codes = comm["CODE"].to_numpy()
    for b, plan in plans.items():
        if not isinstance(plan, BlockPlan) or not (plan.whole or plan.kept_split):
            continue
        k = community[np.flatnonzero(block == b)[0]]
        shape = shapely.coverage_union_all(plan.cells)
        area = shape.area
        if plan.whole:
            issues.append(QAIssue(
                "unit_grid", codes[k], "block-whole", "warning",
                f"community {codes[k]}: a block of {area:,.0f} m² "
                f"({area / targets[k]:.1f}× the target) stays one unit grid: every cut "
                "would split a building; split it by hand along a wall if needed", shape))
        if plan.kept_split:
            issues.append(QAIssue(
                "unit_grid", codes[k], "building-split", "warning",
                f"community {codes[k]}: {plan.kept_split} building(s) in a block of "
                f"{area:,.0f} m² are cut by a grid boundary: keeping them whole would make a "
                f"grid larger than {MAX_RATIO:g}× the target", shape))
    return issues


def _band_issues(grids: gpd.GeoDataFrame, comm: gpd.GeoDataFrame, target_of: dict,
                 cut_issues: list[QAIssue]) -> list[QAIssue]:
    """One ``grid-size-band`` warning per unit grid outside 0.5-2× its community's target.

    The planner finds each grid to split or merge by hand, instead of a share in the figures.
    Left out: grids of a community part smaller than half the target (they cannot be larger)
    and blocks already reported whole (``block-whole``: every cut would split a building).
    """
    target = grids["COMMUNITY"].map(target_of).to_numpy(dtype=float)
    ratio = grids.geometry.area.to_numpy() / target
    outside = ((ratio < MIN_RATIO) | (ratio > MAX_RATIO)) & \
        (room_of_grids(grids, comm) >= 0.5 * target)
    whole = [i.geometry for i in cut_issues if i.rule == "block-whole"]
    issues = []
    for k in np.flatnonzero(outside).tolist():
        shape = grids.geometry.iloc[k]
        if any(shapely.intersection(shape, w).area >= 0.99 * shape.area for w in whole):
            continue
        code = grids["BGID"].iloc[k]
        issues.append(QAIssue(
            "unit_grid", code, "grid-size-band", "warning",
            f"unit grid {code}: {shape.area:,.0f} m² is {ratio[k]:.2f}× the target "
            f"{target[k]:,.0f} m², outside {MIN_RATIO:g}–{MAX_RATIO:g}×; split or merge it by hand",
            shape))
    return issues


def _border_buildings(comm: gpd.GeoDataFrame, footprints: np.ndarray) -> list[QAIssue]:
    """One ``building-across-communities`` warning per building that two communities share.

    A grid never crosses a community border (DOMAIN.md rule 2), so such a building is cut
    whatever the cutting does: the community layer, not the grids, is what to correct. Each
    community holding over 1% of the footprint counts, as in the buildings-split figure.
    """
    if not len(footprints):
        return []
    b, c, share = shared_buildings(footprints, comm.geometry.to_numpy())
    if not len(b):
        return []
    codes = comm["CODE"].to_numpy()
    issues = []
    buildings, first = np.unique(b, return_index=True)
    for k, start, end in zip(buildings.tolist(), first, [*first[1:], len(b)], strict=True):
        parts = ", ".join(f"{codes[c[i]]} ({share[i]:.0%})" for i in range(start, end))
        area = shapely.area(footprints[k])
        issues.append(QAIssue(
            "community", str(codes[c[start]]), "building-across-communities", "warning",
            f"a building of {area:,.0f} m² lies in communities {parts}: its unit grids follow "
            "the community border through it; correct the border if the building belongs to "
            "one of them", footprints[k]))
    return issues


def _finish(grids: gpd.GeoDataFrame, comm: gpd.GeoDataFrame, targets: np.ndarray):
    """BGIDs, fields and the community layer as the union of its grids."""
    bad = grids.geom_type != "Polygon"
    if bad.any():
        raise GridkitError(  # a bug, not a user mistake: say where it happened
            f"internal error: {int(bad.sum())} unit grids of community "
            f"{grids.loc[bad, 'COMMUNITY'].iloc[0]} are not single polygons; please report it")
    # Canonical ring start and orientation: the same grids come out whatever the input order.
    grids.geometry = shapely.normalize(grids.geometry.to_numpy())
    grids = assign_bgids(grids, comm, targets)
    grids["STREET"] = grids["COMMUNITY"].str[:9]
    grids["AREA"] = grids.geometry.area.round(2)
    grids["RGID"] = pd.Series([None] * len(grids), dtype="string")
    grids["DENSITY"] = pd.Series([None] * len(grids), dtype="string")
    grids = grids[["BGID", "COMMUNITY", "STREET", "AREA", "RGID", "DENSITY", "geometry"]]
    by_community = grids.groupby("COMMUNITY", sort=True)
    shapes = {code: shapely.coverage_union_all(g.geometry.to_numpy()) for code, g in by_community}
    units = by_community.size()
    comm = comm.copy()
    comm["UNITS"] = comm["CODE"].map(units).fillna(0).astype("int64")
    comm["TARGET"] = np.round(targets, 0)
    comm.geometry = gpd.GeoSeries(shapely.normalize([shapes.get(c, g) for c, g in zip(
        comm["CODE"], comm.geometry, strict=True)]), crs=comm.crs)
    comm["AREA"] = comm.geometry.area.round(2)
    comm = comm[["CODE", "NAME", "STREET", "AREA", "UNITS", "TARGET", "geometry"]]
    return grids.reset_index(drop=True), comm
