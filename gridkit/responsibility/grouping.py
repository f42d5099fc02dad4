"""Grouping the unit grids of one connected region into contiguous responsibility grids.

A *region* is a connected set of unit grids of one street and one density class. It gets
``k`` groups, the count whose sizes best fit the band (see :func:`group_count`), and is cut by
recursive bisection: part A of a split is grown from one end of the region (along its
principal axis; for a single group, outward from that end) until it holds its share of the
workload within the size bounds that leave both parts feasible; pieces of the rest that the
growth cut off join A, so both parts stay connected. Then boundary grids move between
neighbouring groups, first to bring sizes into the band, then to even out workload (a move
from a heavier to a lighter group lowers the sum of squared workloads when the grid's
workload is less than their difference), never disconnecting a group and never moving a grid
to a group whose centre is farther from it than its own group's (which keeps shapes compact).
"""

from __future__ import annotations

import heapq

import numpy as np

PASSES = 12
REACH = 1.0  # a balancing move may not take a grid farther than this × its old centre distance


def connected_parts(nodes: np.ndarray, neighbours: list[np.ndarray]) -> list[np.ndarray]:
    """Connected parts of ``nodes`` (sorted node numbers) through the adjacency.

    Each part is sorted; parts come in the order of their first node.

    ``neighbours[u]`` lists the nodes adjacent to ``u`` (symmetric: v in neighbours[u] when u
    in neighbours[v]); only edges between two of ``nodes`` count.
    """
    from scipy.sparse import csr_matrix  # lazy: scipy costs seconds at CLI start-up
    from scipy.sparse.csgraph import connected_components

    nodes = np.asarray(nodes, dtype=np.int64)
    if nodes.size == 0:
        return []
    lists = [neighbours[u] for u in nodes.tolist()]
    source = np.repeat(np.arange(nodes.size), [len(v) for v in lists])
    target = np.concatenate(lists).astype(np.int64, copy=False)
    at = np.minimum(np.searchsorted(nodes, target), nodes.size - 1)
    inside = nodes[at] == target
    indptr = np.zeros(nodes.size + 1, dtype=np.int32)
    np.cumsum(np.bincount(source[inside], minlength=nodes.size), out=indptr[1:])
    # Built as CSR directly: each scipy.sparse conversion costs more than a small part's
    # whole search, and grouping asks for thousands of them.
    graph = csr_matrix((np.ones(int(inside.sum())), at[inside].astype(np.int32), indptr),
                       shape=(nodes.size, nodes.size))
    # The adjacency is symmetric, so its strong components are its connected parts; the
    # strong search reads the CSR as given, where the undirected one transposes it first.
    count, label = connected_components(graph, directed=True, connection="strong")
    # Number the parts in the order of their first node; a stable sort keeps each part's
    # nodes sorted.
    first = np.full(count, nodes.size)
    np.minimum.at(first, label, np.arange(nodes.size))
    rank = np.empty(count, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(count)
    label = rank[label]
    order = np.argsort(label, kind="stable")
    return np.split(nodes[order], np.cumsum(np.bincount(label, minlength=count))[:-1])


def group_count(n: int, lo: int, hi: int) -> int:
    """How many groups of ``lo``..``hi`` grids a region of ``n`` grids gets.

    The feasible count nearest n / mid-band; when none is feasible (n below the band, or
    between two counts), the count whose most even split misses the band by the fewest grids.
    """
    mid = (lo + hi) / 2
    feasible = [k for k in range(max(1, -(-n // hi)), n // lo + 1)]
    if feasible:
        return min(feasible, key=lambda k: (abs(n / k - mid), k))

    def miss(k: int) -> int:
        small, extra = divmod(n, k)
        sizes = [small + 1] * extra + [small] * (k - extra)
        return sum(max(0, lo - s) + max(0, s - hi) for s in sizes)

    candidates = {max(1, n // hi), max(1, -(-n // hi)), max(1, n // lo)}
    return min(candidates, key=lambda k: (miss(k), abs(n / k - mid), k))


class Region:
    """One region's grids with what the grouping needs to know about them."""

    def __init__(self, nodes: np.ndarray, xy: np.ndarray, workload: np.ndarray,
                 neighbours: list[np.ndarray]):
        self.nodes = np.asarray(nodes)
        self.xy = xy
        self.w = workload
        self.neighbours = neighbours

    def _connected_parts(self, members: set[int]) -> list[set[int]]:
        nodes = np.fromiter(sorted(members), dtype=np.int64, count=len(members))
        return [set(part.tolist()) for part in connected_parts(nodes, self.neighbours)]

    def _grow(self, members: list[int], k_part: int, size_range: tuple[int, int],
              target: float) -> set[int]:
        pts = self.xy[members]
        centre = pts.mean(axis=0)
        if len(members) > 2:
            _, vectors = np.linalg.eigh(np.cov((pts - centre).T))
            axis = vectors[:, -1]
        else:
            axis = np.array([1.0, 0.0])
        along = (pts - centre) @ axis
        seed_at = int(np.lexsort((members, along))[0])
        seed = members[seed_at]
        if k_part > 1:
            priority = dict(zip(members, along, strict=True))
        else:
            priority = dict(zip(members, np.hypot(*(pts - pts[seed_at]).T), strict=True))
        available = set(members)
        low, high = size_range
        part: set[int] = set()
        load = 0.0
        heap = [(priority[seed], seed)]
        queued = {seed}
        while heap and len(part) < high:
            _, v = heapq.heappop(heap)
            if len(part) >= low and abs(load + self.w[v] - target) > abs(load - target):
                break
            part.add(v)
            load += self.w[v]
            for u in self.neighbours[v]:
                if u in available and u not in queued:
                    queued.add(u)
                    heapq.heappush(heap, (priority[u], u))
        rest = available - part
        if rest:
            pieces = sorted(self._connected_parts(rest), key=lambda p: (-len(p), min(p)))
            for piece in pieces[1:]:
                part |= piece
        return part

    def split(self, members: list[int], k: int, lo: int, hi: int) -> list[set[int]]:
        """Split ``members`` into ``k`` contiguous groups of ``lo``-``hi`` grids by halving.

        Each half grows from the far end of the region until it holds its share of the workload.
        """
        if k <= 1 or len(members) <= 1:
            return [set(members)]
        k_a = k // 2
        k_b = k - k_a
        n = len(members)
        low = max(k_a * lo, n - k_b * hi, 1)
        high = min(k_a * hi, n - k_b * lo, n - 1)
        if low > high:
            low = high = max(1, min(n - 1, round(n * k_a / k)))
        target = float(self.w[members].sum()) * k_a / k
        part = self._grow(members, k_a, (low, high), target)
        rest = sorted(set(members) - part)
        if not rest:
            return [part]
        return (self.split(sorted(part), k_a, lo, hi) + self.split(rest, k_b, lo, hi))

    def refine(self, groups: list[set[int]], lo: int, hi: int) -> list[set[int]]:
        """Even out workload by moving boundary grids between neighbouring groups.

        Each move keeps both groups contiguous and within ``lo``-``hi`` grids.
        """
        owner = {v: g for g, members in enumerate(groups) for v in members}
        load = [float(self.w[list(m)].sum()) for m in groups]
        size = [len(m) for m in groups]
        xy_sum = [self.xy[list(m)].sum(axis=0) for m in groups]

        def centre(g: int) -> np.ndarray:
            return xy_sum[g] / size[g]

        def stays_connected(g: int, v: int) -> bool:
            rest = groups[g] - {v}
            return bool(rest) and len(self._connected_parts(rest)) == 1

        def move(v: int, source: int, dest: int) -> None:
            groups[source].discard(v)
            groups[dest].add(v)
            owner[v] = dest
            load[source] -= self.w[v]
            load[dest] += self.w[v]
            size[source] -= 1
            size[dest] += 1
            xy_sum[source] = xy_sum[source] - self.xy[v]
            xy_sum[dest] = xy_sum[dest] + self.xy[v]

        def near_enough(v: int, source: int, dest: int) -> bool:
            d_dest = np.hypot(*(self.xy[v] - centre(dest)))
            d_source = np.hypot(*(self.xy[v] - centre(source)))
            return d_dest <= REACH * d_source + 1e-9

        for _ in range(PASSES):
            moved = False
            for v in sorted(owner):
                source = owner[v]
                for u in self.neighbours[v]:
                    dest = owner.get(int(u))
                    if dest is None or dest == source:
                        continue
                    fixes_size = (size[source] > hi and size[dest] < hi) or (
                        size[dest] < lo and size[source] > lo)
                    balances = (lo <= size[source] - 1 and size[dest] + 1 <= hi
                                and self.w[v] < load[source] - load[dest] - 1e-12)
                    if not (fixes_size or balances):
                        continue
                    if not fixes_size and not near_enough(v, source, dest):
                        continue
                    if not stays_connected(source, v):
                        continue
                    move(v, source, dest)
                    moved = True
                    break
            if not moved:
                break
        return [g for g in groups if g]


def balanced_counts(sizes: list[int], loads: list[float], lo: int, hi: int) -> list[int]:
    """Group counts for the regions of one street and class, balancing workload.

    Each region first gets :func:`group_count`; where more than one count fits the band,
    it takes the one that brings its workload per group nearest the class's, so busy
    regions get smaller groups and quiet ones larger.
    """
    counts = [group_count(n, lo, hi) for n in sizes]
    per_group = sum(loads) / max(1, sum(counts))
    if per_group <= 0:
        return counts
    for i, (n, load) in enumerate(zip(sizes, loads, strict=True)):
        k_min, k_max = max(1, -(-n // hi)), n // lo
        if k_min <= k_max:
            counts[i] = int(np.clip(round(load / per_group), k_min, k_max))
    return counts


def group_region(nodes: np.ndarray, xy: np.ndarray, workload: np.ndarray,
                 neighbours: list[np.ndarray], lo: int, hi: int,
                 k: int | None = None) -> list[list[int]]:
    """Groups (lists of node numbers) for one connected region, ``k`` of them if given."""
    region = Region(nodes, xy, workload, neighbours)
    members = sorted(int(v) for v in nodes)
    k = k or group_count(len(members), lo, hi)
    groups = region.split(members, k, lo, hi)
    groups = region.refine(groups, lo, hi)
    return [sorted(g) for g in groups]
