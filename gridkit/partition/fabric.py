"""Cutting a block along what is there: gaps between buildings, alleys and parcel lines.

The straight cut plan of :mod:`.cutting` divides a block into cells of equal area. Its lines
cross whatever lies in the way; in a perimeter block or a compound they cannot miss every
building. Here the plan only says *which share of the block goes to which cell*; the lines
that carry the boundary come from the block's own fabric:

0. **Cells.** One cell per target of built-up land (within :data:`YARD` of a building, or in
   a key area); open land adds none of its own but fills the block's cells up to
   :data:`PIECE_CAP` × the target on average (:func:`planned_pieces`).

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
from gridkit.partition.faces import locate, node

SPACING = 3.0  # metres between seed points along buildings and loose lines
SHRINK = 0.4  # metres: buildings sharing a wall are seeded apart, so the edge runs on it
SIDE = 0.5  # metres: each side of a loose line is its own seed, so an edge runs along it
SIMPLIFY = 0.1  # metres: tessellation edges are simplified by this (well inside SHRINK)
SNAP_BAND = (0.6, 1.6)  # an atom snaps only if every cell it changes stays in this × cell
MAX_RATIO = 2.0  # a building moved whole may not make a cell larger than this × target
SNAP_CAP = 1.8  # × target: snapping stops short of MAX_RATIO, leaving room for the leftovers
TOUCH = 1e-3  # metres: a noded edge this close to a line lies on it
SHARE = 0.01  # a building holds a face when more than this share of it lies there
YARD = 15.0  # metres around a building that count as built-up land (yards, lanes, gaps)
# × target: the largest mean cell a block is planned in (open land fills cells up to it).
# Chosen by measurement on the sample: 1.8 split 3 buildings the band left no room to move
# whole, 1.75 left one street's quiet grids one short of a responsibility grid's 20.
PIECE_CAP = 1.7
LATTICE = 10.0  # metres between the points that measure a block's open land
LATTICE_POINTS = 40_000  # the most lattice points in one block's bounding box


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


def planned_pieces(block, buildings: np.ndarray, target: float,
                   key_areas: np.ndarray | None = None) -> int:
    """How many unit grids a block is cut into.

    One per target of built-up land; open land adds no grid of its own: it is shared among
    the block's grids, as few as keep the mean cell within :data:`PIECE_CAP` × target. Land in
    a key area (重点区域: a landscape belt, a central business district) is never open land:
    it is managed densely, in grids of the target.

    The field's rule (about 10,000 m² a grid, adjusted for population and the number of
    components) gives land without buildings, where neither live, larger grids; they stay
    within the band (0.5–2× target; PIECE_CAP leaves room for a building moved whole and a
    leftover merged) and need fewer cuts across fields, parks and yards, where no line of the
    fabric runs. Built-up land is what lies within :data:`YARD` of a building,
    measured on a lattice of points every :data:`LATTICE` metres (coarser in a block larger
    than :data:`LATTICE_POINTS` of them). Only for a partition given
    a building layer: without one, no land is known to be open.

    Parameters
    ----------
    block : Polygon
        The block, metres.
    buildings : ndarray of Polygon
        Footprints touching the block.
    target : float
        The community's target unit grid area, m².
    key_areas : ndarray of Polygon, optional
        Key areas touching the block.

    Returns
    -------
    int: the number of cells, at least enough that none exceeds :data:`PIECE_CAP` × target on
    average;
    may be 1 (the block stays whole).

    Examples
    --------
    >>> import shapely
    >>> field = shapely.box(0, 0, 250, 200)  # 5 ha, no building
    >>> planned_pieces(field, np.empty(0, dtype=object), 10_000)
    3
    >>> houses = shapely.box(np.arange(0, 250, 25), 0, np.arange(15, 250, 25), 200)
    >>> planned_pieces(field, houses, 10_000)
    5
    >>> planned_pieces(field, np.empty(0, dtype=object), 10_000, [field])  # a landscape belt
    5
    """
    area = block.area
    x0, y0, x1, y1 = block.bounds
    # Coarser in a vast block (a development zone's empty plots): at most ~LATTICE_POINTS.
    step = max(LATTICE, np.sqrt((x1 - x0) * (y1 - y0) / LATTICE_POINTS))
    xs = np.arange(x0 + step / 2, x1, step)
    ys = np.arange(y0 + step / 2, y1, step)
    gx, gy = (g.ravel() for g in np.meshgrid(xs, ys))
    inside = shapely.contains_xy(block, gx, gy)
    points = shapely.points(gx[inside], gy[inside])
    open_share = 1.0
    if len(points):
        built = np.zeros(len(points), dtype=bool)
        if len(buildings):
            built[shapely.STRtree(buildings).query(points, predicate="dwithin",
                                                   distance=YARD)[0]] = True
        if key_areas is not None and len(key_areas):
            built[shapely.STRtree(key_areas).query(points, predicate="intersects")[0]] = True
        open_share = 1 - built.mean()
    return max(round(area * (1 - open_share) / target),
               int(np.ceil(area / (PIECE_CAP * target))))


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
    outlines = np.concatenate([outlines, *(
        shapely.offset_curve(np.asarray(loose, dtype=object), side) for side in (SIDE, -SIDE))])
    outlines = shapely.segmentize(outlines, SPACING)
    coords, seed = shapely.get_coordinates(outlines, return_index=True)
    if len(coords) == 0:
        return np.empty(0, dtype=object)
    # A point seeded twice (touching seeds) would have no cell of its own.
    coords, first = np.unique(np.round(coords, 3), axis=0, return_index=True)
    seed = seed[first]
    if len(np.unique(seed)) < 2:
        return np.empty(0, dtype=object)
    from scipy.spatial import Voronoi  # lazy: only the fabric cutting needs scipy

    # A ring of far points around the block closes every cell of the real points, so every
    # ridge between two real points is a finite segment.
    x0, y0, x1, y1 = block.bounds
    reach = 4 * max(x1 - x0, y1 - y0, 1.0)
    turn = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    far = np.column_stack([(x0 + x1) / 2 + reach * np.cos(turn),
                           (y0 + y1) / 2 + reach * np.sin(turn)])
    diagram = Voronoi(np.concatenate([coords, far]))
    pairs = diagram.ridge_points
    ends = np.asarray(diagram.ridge_vertices)
    # Each ridge separates two input points: the tessellation is the ridges between
    # points of different seeds.
    real = (pairs < len(coords)).all(axis=1)
    pairs, ends = pairs[real], ends[real]
    between = seed[pairs[:, 0]] != seed[pairs[:, 1]]
    ends = ends[between]
    ends = ends[(ends >= 0).all(axis=1)]  # none with the far ring; kept as a guard
    segments = diagram.vertices[ends]  # (n, 2 ends, xy)
    shapely.prepare(block)
    inside = (shapely.contains_xy(block, segments[:, 0, 0], segments[:, 0, 1])
              & shapely.contains_xy(block, segments[:, 1, 0], segments[:, 1, 1]))
    lines = shapely.linestrings(segments)
    edges = np.concatenate([lines[inside], shapely.get_parts(
        shapely.intersection(lines[~inside], block))])
    edges = edges[shapely.get_type_id(edges) == 1]
    if len(edges) == 0:
        return edges
    # Joined into lines and rid of collinear vertices: the noding then sees a few long
    # lines instead of thousands of short segments.
    merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(edges)))
    return shapely.simplify(merged, SIMPLIFY)


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
    # Among equal cuts, one beside buildings (in the yards and lanes between farmhouses, along
    # the back of a row) rather than across an empty field.
    straight = plan_cuts(block, cell_area, small, max_cell=SNAP_CAP * target, gap=YARD)
    inner = shapely.get_parts(np.asarray(faces_rings, dtype=object))
    crossed = len(small) and len(straight.lines) and len(
        shapely.STRtree(small).query(straight.lines, predicate="crosses")[0])
    if not (crossed or len(loose) or len(inner)):
        return straight
    fabric = np.concatenate([tessellation_edges(block, buildings, loose),
                             np.asarray(loose, dtype=object), inner])
    outline = shapely.get_parts(shapely.boundary(block))
    cells, _, atoms = _cells_and_atoms(block, np.concatenate([outline, fabric]),
                                           straight.lines)
    points = shapely.point_on_surface(cells)
    area = shapely.area(cells)
    labels = straight.cell_of(points)
    labels = _snap_atoms(labels, area, locate(points, atoms), len(atoms), cell_area,
                         target)
    planned = len(np.unique(labels))
    labels, kept_split = _keep_buildings(cells, labels, area, small, target)
    whole = planned > 1 and len(np.unique(labels)) == 1
    return BlockPlan(_unit_boundaries(cells, labels), cells, labels, straight, whole,
                     kept_split)


def _cells_and_atoms(block, fabric: np.ndarray, cuts: np.ndarray):
    """The cells, the noded edges and the atoms of a block, from one noding.

    *Cells* are the faces of the block cut by its fabric and the straight cuts; *atoms* the
    faces of the fabric alone.

    The atoms are polygonized from the noded edges that lie on a fabric line: an edge of the
    straight cuts alone runs inside an atom.
    """
    noded = node(np.concatenate([fabric, cuts]))
    on_fabric = np.ones(len(noded), dtype=bool)
    if len(cuts):
        middle = shapely.line_interpolate_point(noded, 0.5, normalized=True)
        on_cut = np.zeros(len(noded), dtype=bool)
        on_cut[shapely.STRtree(cuts).query(middle, predicate="dwithin",
                                           distance=TOUCH)[0]] = True
        cut_only = np.flatnonzero(on_cut)
        near_fabric = np.zeros(len(cut_only), dtype=bool)
        near_fabric[shapely.STRtree(fabric).query(middle[cut_only], predicate="dwithin",
                                                  distance=TOUCH)[0]] = True
        on_fabric[cut_only[~near_fabric]] = False

    def faces_of(edges):
        faces = shapely.get_parts(shapely.polygonize(edges))
        faces = faces[shapely.area(faces) > 0]
        return faces[shapely.within(shapely.point_on_surface(faces), block)]

    return faces_of(noded), noded, faces_of(noded[on_fabric])


def _unit_boundaries(cells, labels) -> np.ndarray:
    """The lines between units (and the block outline): the outline of each unit.

    Only these lines go into the global noding: the rest of the fabric lies inside one unit
    and would only make faces to merge again. Taken from the union of each unit's cells (a
    coverage: faces of one noding, so the union keeps their vertices), every line between two
    units is there by construction. (Judging each noded edge by a point a few centimetres to
    either side lost a few metres of it where fabric lines nearly coincide, and the global
    noding then merged the two units into one grid of 3.5× the target.)
    """
    order = np.argsort(labels, kind="stable")
    members = np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)
    units = np.array([shapely.coverage_union_all(cells[m]) for m in members], dtype=object)
    lines = shapely.line_merge(shapely.union_all(shapely.boundary(units)))
    return shapely.get_parts(lines)


def _snap_atoms(labels, area, atom, n_atoms, cell_area, target) -> np.ndarray:
    """Move each atom whole to the cell holding most of it, smallest atom first.

    Only where every cell concerned stays within SNAP_BAND × ``cell_area`` (and SNAP_CAP ×
    ``target``).
    """
    labels = labels.copy()
    n_labels = labels.max() + 1
    unit_area = np.bincount(labels, weights=area, minlength=n_labels)
    lo, hi = SNAP_BAND[0] * cell_area, min(SNAP_BAND[1] * cell_area, SNAP_CAP * target)
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
