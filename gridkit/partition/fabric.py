"""Cutting a block along what is there: gaps between buildings, alleys and parcel lines.

The straight cut plan of :mod:`.cutting` divides a block into cells of equal area. Its lines
cross whatever lies in the way; in a perimeter block or a compound they cannot miss every
building. Here the plan only says *which share of the block goes to which cell*; the lines
that carry the boundary come from the block's own fabric:

1. **Atoms.** The block is cut by its *fabric*: the edges of the faces it was merged from
   (parcel lines, compound walls, minor roads), the loose lines inside it (dead-end alleys,
   footpaths, service roads) and the edges of a morphological tessellation: every building
   (shrunk by :data:`SHRINK`) and each side of every loose line is a seed, and each point of
   the block belongs to its nearest seed (a Voronoi diagram of points every :data:`SPACING`
   metres along the seeds, as momepy's enclosed tessellation does). Tessellation edges run
   midway through the gaps between buildings and, past the end of a dead-end alley, straight
   on from it.
2. **Snapping.** Each atom, smallest first, goes whole to the plan cell holding most of it,
   if every cell it takes area from or gives area to stays within :data:`SNAP_BAND` of the
   cell area; otherwise the straight plan lines cut it (open space: a park, a yard).
3. **Buildings.** A building (smaller than the target) still cut by a plan line goes whole to
   the cell holding most of it, unless that cell would exceed the band's upper end (2× the
   target). When this leaves the whole block in one cell, every cut would split a building
   (one ring building): the block stays whole and is reported.

Everything is computed on the block alone, so blocks are planned independently (and on a
Dask cluster, per street); the global noding of :mod:`.engine` then finds the same faces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gridkit.partition.cutting import CutPlan, plan_cuts
from gridkit.partition.faces import locate, polygonize

SPACING = 3.0  # metres between seed points along buildings and loose lines
SHRINK = 0.4  # metres: buildings sharing a wall are seeded apart, so the edge runs on it
SIDE = 0.5  # metres: each side of a loose line is its own seed, so an edge runs along it
SNAP_BAND = (0.6, 1.6)  # an atom snaps only if every cell it changes stays in this × cell
MAX_RATIO = 2.0  # a building moved whole may not make a cell larger than this × target
SIDE_PROBE = 0.05  # metres: how far to either side of a line its units are looked up
SHARE = 0.01  # a building holds a face when more than this share of it lies there


@dataclass
class BlockPlan:
    """Cut lines of one block and the unit of each point inside it.

    ``lines`` are the plan's straight cuts plus the fabric lines (tessellation edges, loose
    lines); ``cells`` the faces they make in the block, ``labels`` the unit of each face.
    ``whole`` is True when the plan asked for several cells but no cut avoided a building.
    """

    lines: np.ndarray
    cells: np.ndarray
    labels: np.ndarray
    straight: CutPlan
    whole: bool = False
    kept_split: int = 0  # buildings left cut because moving them would break the band

    def cell_of(self, points: np.ndarray) -> np.ndarray:
        """The unit number (within the block) of each point inside the block.

        Parameters
        ----------
        points : ndarray of Point
            Points inside the block (e.g. the point on surface of each global face).

        Returns
        -------
        ndarray of int64, one unit number per point.
        """
        which = locate(points, self.cells)
        out = self.straight.cell_of(points)  # a rounding sliver off every local face
        found = which >= 0
        out[found] = self.labels[which[found]]
        return out


def tessellation_edges(block, buildings: np.ndarray, loose: np.ndarray) -> np.ndarray:
    """Edges of the morphological tessellation of ``block`` (LineStrings, metres).

    Parameters
    ----------
    block : Polygon
        The block to tessellate.
    buildings : ndarray of Polygon
        Footprints in or touching the block; each is one seed.
    loose : ndarray of LineString
        Loose lines (dangles, cut edges) inside the block; each side is one seed.

    Returns
    -------
    ndarray of LineString: the Voronoi edges between points of different seeds, clipped to
    the block; empty with fewer than two seeds.

    Examples
    --------
    >>> import shapely
    >>> block = shapely.box(0, 0, 100, 50)
    >>> edges = tessellation_edges(block, shapely.box([10, 60], 10, [40, 90], 40), [])
    >>> round(float(shapely.length(edges).sum()))
    50
    """
    coords, seed = [], []
    clipped = shapely.intersection(np.asarray(buildings, dtype=object), block)
    shrunk = shapely.buffer(clipped, -SHRINK)
    thin = shapely.is_empty(shrunk)
    shrunk[thin] = shapely.point_on_surface(clipped[thin])
    outlines = np.where(thin, shrunk, shapely.boundary(shrunk))
    for k, geom in enumerate(outlines):
        if not shapely.is_empty(geom):
            xy = shapely.get_coordinates(shapely.segmentize(geom, SPACING))
            coords.append(xy)
            seed.append(np.full(len(xy), k))
    n = len(outlines)
    for line in loose:
        for side in (SIDE, -SIDE):
            xy = shapely.get_coordinates(shapely.segmentize(
                shapely.offset_curve(line, side), SPACING))
            coords.append(xy)
            seed.append(np.full(len(xy), n))
            n += 1
    if len(coords) == 0:
        return np.empty(0, dtype=object)
    coords, seed = np.concatenate(coords), np.concatenate(seed)
    # A point seeded twice (touching seeds) would have no cell of its own.
    coords, first = np.unique(np.round(coords, 3), axis=0, return_index=True)
    seed = seed[first]
    if len(np.unique(seed)) < 2:
        return np.empty(0, dtype=object)
    edges = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(coords), extend_to=shapely.envelope(block), only_edges=True))
    # The two points nearest to the middle of a Voronoi edge are the two it separates: keep
    # the edges between different seeds, the edges of the tessellation.
    middle = shapely.get_coordinates(shapely.line_interpolate_point(edges, 0.5,
                                                                    normalized=True))
    from scipy.spatial import cKDTree  # lazy: only the opt-in fabric cutting needs scipy

    _, nearest = cKDTree(coords).query(middle, k=2)
    edges = edges[seed[nearest[:, 0]] != seed[nearest[:, 1]]]
    edges = shapely.get_parts(shapely.intersection(edges, block))
    return edges[shapely.get_type_id(edges) == 1]


def plan_block(block, faces_rings: np.ndarray, cell_area: float, target: float,
               buildings: np.ndarray, loose: np.ndarray) -> CutPlan | BlockPlan:
    """Cut plan for one block that follows its fabric (see the module notes).

    Parameters
    ----------
    block : Polygon
        The block (the union of its faces).
    faces_rings : ndarray of LineString/MultiLineString
        Boundaries of the faces the block was merged from (parcel lines, merged roads);
        empty for a block of one face.
    cell_area : float
        The area of each planned cell, m².
    target : float
        The community's target unit grid area, m².
    buildings : ndarray of Polygon
        Footprints touching the block (all sizes; those under ``target`` are kept whole).
    loose : ndarray of LineString
        Loose lines inside the block (dead-end alleys, footpaths, service roads).

    Returns
    -------
    The straight :class:`~.cutting.CutPlan` when the block has no fabric to follow (no loose
    lines, one face and no building its straight cuts would cross), else a
    :class:`BlockPlan` whose lines are only the boundaries between its units.
    """
    small = buildings[shapely.area(buildings) < target] if len(buildings) else buildings
    straight = plan_cuts(block, cell_area, small)
    inner = shapely.get_parts(np.asarray(faces_rings, dtype=object))
    crossed = len(small) and len(straight.lines) and len(
        shapely.STRtree(small).query(straight.lines, predicate="crosses")[0])
    if not (crossed or len(loose) or len(inner)):
        return straight
    fabric = np.concatenate([tessellation_edges(block, buildings, loose),
                             np.asarray(loose, dtype=object), inner])
    outline = shapely.get_parts(shapely.boundary(block))
    atoms, _ = _faces_in(block, np.concatenate([outline, fabric]))
    cells, edges = _faces_in(block, np.concatenate([outline, fabric, straight.lines]))
    points = shapely.point_on_surface(cells)
    area = shapely.area(cells)
    labels = straight.cell_of(points)
    labels = _snap_atoms(labels, area, locate(points, atoms), len(atoms), cell_area)
    planned = len(np.unique(labels))
    labels, kept_split = _keep_buildings(cells, labels, area, small, target)
    whole = planned > 1 and len(np.unique(labels)) == 1
    return BlockPlan(_unit_boundaries(edges, cells, labels), cells, labels, straight, whole,
                     kept_split)


def _faces_in(block, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    faces, noded = polygonize(lines)
    inside = shapely.within(shapely.point_on_surface(faces), block)
    return faces[inside], noded


def _unit_boundaries(edges, cells, labels) -> np.ndarray:
    """The noded edges with different units on their two sides.

    Each edge is judged by two points a few centimetres to either side of its middle. Only
    these edges go into the global noding: the rest of the fabric lies inside one unit and
    would only make faces to merge again.
    """
    length = shapely.length(edges)
    probe = np.minimum(SIDE_PROBE, length / 4)
    middle = shapely.get_coordinates(shapely.line_interpolate_point(edges, 0.5 * length))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(edges, 0.5 * length
                                                                   + probe))
    tangent = ahead - middle
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    normal *= (probe / np.maximum(np.hypot(normal[:, 0], normal[:, 1]), 1e-12))[:, None]
    sides = []
    for sign in (1, -1):
        which = locate(shapely.points(middle + sign * normal), cells)
        sides.append(np.where(which >= 0, labels[np.maximum(which, 0)], -1))
    # Dropped only when both sides are surely the same unit: an edge kept for nothing makes
    # a face that is labelled like its neighbour, an edge lost would merge two units.
    keep = (sides[0] != sides[1]) | (sides[0] < 0) | (length < 1e-3)
    return edges[keep]


def _snap_atoms(labels, area, atom, n_atoms, cell_area) -> np.ndarray:
    """Move each atom whole to the cell holding most of it, smallest atom first.

    Only where every cell concerned stays within SNAP_BAND × ``cell_area``.
    """
    labels = labels.copy()
    n_labels = labels.max() + 1
    unit_area = np.bincount(labels, weights=area, minlength=n_labels)
    lo, hi = SNAP_BAND[0] * cell_area, SNAP_BAND[1] * cell_area
    atom_area = np.bincount(atom[atom >= 0], weights=area[atom >= 0], minlength=n_atoms)
    by_atom = np.argsort(atom, kind="stable")
    starts = np.searchsorted(atom[by_atom], np.arange(n_atoms + 1))
    for a in np.argsort(atom_area, kind="stable"):
        members = by_atom[starts[a]:starts[a + 1]]
        if len(members) == 0:
            continue
        share = np.bincount(labels[members], weights=area[members], minlength=n_labels)
        if np.count_nonzero(share) < 2:
            continue
        into = int(np.argmax(share))
        after = unit_area - share
        after[into] += share.sum()
        changed = share > 0
        if np.all((after[changed] >= lo) & (after[changed] <= hi)):
            labels[members] = into
            unit_area = after
    return labels


def _keep_buildings(cells, labels, area, buildings, target) -> tuple[np.ndarray, int]:
    """Give every face holding part of a building the unit holding most of it.

    Not when that unit would exceed MAX_RATIO × target. Returns the labels and the buildings
    left cut.
    """
    if len(buildings) == 0:
        return labels, 0
    labels = labels.copy()
    n_labels = labels.max() + 1
    unit_area = np.bincount(labels, weights=area, minlength=n_labels)
    b, c = shapely.STRtree(cells).query(buildings, predicate="intersects")
    if len(b) == 0:
        return labels, 0
    held = shapely.area(shapely.intersection(buildings[b], cells[c]))
    visible = held > SHARE * shapely.area(buildings)[b]
    b, c, held = b[visible], c[visible], held[visible]
    kept_split = 0
    # Largest buildings first: they decide most of the area moved.
    for k in np.argsort(-shapely.area(buildings), kind="stable"):
        mine = c[b == k]
        if len(np.unique(labels[mine])) < 2:
            continue
        share = np.bincount(labels[mine], weights=held[b == k], minlength=n_labels)
        into = int(np.argmax(share))
        moving = mine[labels[mine] != into]
        gain = area[moving].sum()
        if unit_area[into] + gain > MAX_RATIO * target:
            kept_split += 1
            continue
        np.subtract.at(unit_area, labels[moving], area[moving])
        unit_area[into] += gain
        labels[moving] = into
    return labels, kept_split
