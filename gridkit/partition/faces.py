"""Faces of noded linework, their adjacency, and merging small units into neighbours.

A *face* is a polygon of the planar arrangement of all community rings, barrier lines and
cut lines, noded together once. Because every face comes out of one noding, neighbouring
faces share identical vertices, so unions of faces form an exactly valid polygonal coverage
(no slivers, no overlaps, even across community borders).
"""

from __future__ import annotations

import heapq
from collections import defaultdict

import numpy as np
import pandas as pd
import shapely

from gridkit.partition.barriers import CUT, N_RANKS

MICRO_AREA = 1e-3  # m²: faces this small outside every community are rounding artefacts
PRECISION = 1e-4  # metres: noding snap-rounds to this grid, so no face is thinner than it


def polygonize(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Faces of the arrangement of ``lines`` and the noded edges themselves.

    Noding in floating point can leave faces of 1e-20 m² where lines almost meet; noding on a
    fixed 0.1 mm grid (snap rounding) cannot, and moves nothing by more than that.
    """
    noded = node(lines)
    faces = shapely.get_parts(shapely.polygonize(noded))
    return faces[shapely.area(faces) > 0], noded


def polygonize_loose(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As :func:`polygonize`, and the *loose* edges: those that bound no face.

    Loose edges are dangles (a dead-end alley, footpath or service road entering a block,
    with one free end) and cut edges (a path crossing a block between two of its edges but
    not closing a face of its own). They are where a surveyor draws a grid boundary inside a
    block, so the cutting uses them as candidates.
    """
    noded = node(lines)
    faces, cuts, dangles, _ = shapely.polygonize_full(noded)
    faces = shapely.get_parts(faces)
    loose = np.concatenate([shapely.get_parts(cuts), shapely.get_parts(dangles)])
    loose = loose[shapely.get_type_id(loose) == 1]
    return faces[shapely.area(faces) > 0], noded, loose


def node(lines: np.ndarray) -> np.ndarray:
    """``lines`` split at every crossing, snap-rounded to :data:`PRECISION` (LineStrings)."""
    noded = shapely.get_parts(shapely.union_all(lines, grid_size=PRECISION))
    return noded[shapely.get_type_id(noded) == 1]


def locate(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the first polygon that contains each point, -1 where none does."""
    tree = shapely.STRtree(polygons)
    point_idx, poly_idx = tree.query(points, predicate="within")
    out = np.full(len(points), -1, dtype=np.int64)
    order = np.lexsort((poly_idx, point_idx))[::-1]  # the smallest index wins on ties
    out[point_idx[order]] = poly_idx[order]
    return out


def shared_edges(
    faces: np.ndarray, subset: np.ndarray, barriers: shapely.STRtree | None,
    barrier_rank: np.ndarray,
) -> pd.DataFrame:
    """Edges shared by each face in ``subset`` with any other face: a, b, length, rank.

    The rank of a shared edge is the highest rank of the barrier lines along it (CUT when it
    follows none); it is judged at the middle of each shared line part.
    """
    empty = pd.DataFrame({"a": [], "b": [], "length": [], "rank": []})
    if len(subset) == 0:
        return empty
    tree = shapely.STRtree(faces)
    i, j = tree.query(faces[subset], predicate="intersects")
    a, b = subset[i], j
    keep = a != b
    a, b = a[keep], b[keep]
    if len(a) == 0:
        return empty
    common = shapely.intersection(shapely.boundary(faces[a]), shapely.boundary(faces[b]))
    parts, which = shapely.get_parts(common, return_index=True)
    lines = np.isin(shapely.get_type_id(parts), [1, 5])
    parts, which = parts[lines], which[lines]
    length = shapely.length(parts)
    rank = np.full(len(parts), CUT, dtype=np.int64)
    if barriers is not None and len(parts):
        middle = shapely.line_interpolate_point(parts, 0.5, normalized=True)
        p, q = barriers.query(middle, predicate="dwithin", distance=1e-3)
        np.maximum.at(rank, p, barrier_rank[q])
    frame = pd.DataFrame({"a": a[which], "b": b[which], "length": length, "rank": rank})
    frame = frame[frame["length"] > 1e-9]
    return frame.groupby(["a", "b", "rank"], as_index=False)["length"].sum()


def merge_small(
    unit_of_face: np.ndarray,
    face_area: np.ndarray,
    unit_community: np.ndarray,
    min_area: np.ndarray,
    edges_for,
    *,
    max_area: np.ndarray | None = None,
) -> np.ndarray:
    """Merge units smaller than their ``min_area`` into neighbours of the same community.

    The smallest unit goes first. Its neighbour is chosen by, in order: the merged unit not
    exceeding ``max_area`` (when given); the lowest rank of the edge they share most (merge
    across cuts before minor roads, minor before major roads, roads before water); the
    longest shared edge; the lowest unit number. ``edges_for(faces)`` returns the shared
    edges of those faces. Returns the new unit of every face (numbers of surviving units).
    """
    n_units = len(unit_community)
    area = np.bincount(unit_of_face, weights=face_area, minlength=n_units)
    small = np.flatnonzero(area < min_area)
    if len(small) == 0:
        return unit_of_face
    faces = np.flatnonzero(np.isin(unit_of_face, small))
    edges = edges_for(faces)
    # An edge between two listed faces is found from both sides: count it once.
    a, b = edges["a"].to_numpy(), edges["b"].to_numpy()
    edges = edges.assign(a=np.minimum(a, b), b=np.maximum(a, b)).drop_duplicates(
        ["a", "b", "rank"])
    ua = unit_of_face[edges["a"].to_numpy()]
    ub = unit_of_face[edges["b"].to_numpy()]
    ok = (ua != ub) & (unit_community[ua] == unit_community[ub])
    neighbours: dict[int, dict[int, np.ndarray]] = defaultdict(dict)
    for u, v, rank, length in zip(ua[ok], ub[ok], edges["rank"].to_numpy()[ok],
                                  edges["length"].to_numpy()[ok], strict=True):
        for x, y in ((u, v), (v, u)):
            lengths = neighbours[x].setdefault(y, np.zeros(N_RANKS))
            lengths[rank] += length

    parent = np.arange(n_units)

    def find(u: int) -> int:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    heap = [(area[u], u) for u in small]
    heapq.heapify(heap)
    while heap:
        size, u = heapq.heappop(heap)
        if find(u) != u or size != area[u] or area[u] >= min_area[u]:
            continue
        merged: dict[int, np.ndarray] = {}
        for v, lengths in neighbours[u].items():
            root = find(v)
            if root != u:
                merged[root] = merged.get(root, 0) + lengths
        neighbours[u] = merged
        if not merged:
            continue  # an isolated piece (an island part of its community) stays as it is

        def key(v: int, u: int = u, merged: dict = merged) -> tuple:
            lengths = merged[v]
            over = max_area is not None and area[u] + area[v] > max_area[v]
            return (over, int(np.argmax(lengths)), -lengths.sum(), v)

        target = min(merged, key=key)
        parent[u] = target
        area[target] += area[u]
        for v, lengths in merged.items():
            if v != target:
                into = neighbours[target]
                into[v] = into.get(v, 0) + lengths
        neighbours[target].pop(u, None)
        if area[target] < min_area[target]:
            heapq.heappush(heap, (area[target], target))
    roots = np.array([find(u) for u in range(n_units)])
    return roots[unit_of_face]
