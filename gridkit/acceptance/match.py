"""One-to-one matching of census components to an independent re-survey of the same grids.

Three passes, each an optimal assignment on what the previous ones left:

1. same class within ``tolerance``            -> correct
2. another class within ``tolerance``         -> wrong_class
3. same class within ``search``               -> wrong_position

A component at the right place under another class is the same object misclassified, which
is stronger evidence than a same-class object up to ``search`` away, so pass 2 comes first.

Census components left over are ``not_found``; re-surveyed ones left over are ``missing``.
Each pass maximises the number of pairs, then minimises their total distance: pairs within
reach form a bipartite graph, each connected piece of it is solved with the Hungarian method
(scipy's linear_sum_assignment) where a non-pair costs more than all pairs of the piece
together. Pieces are small (a few components around one place), so this scales with the
number of components. Matching runs across grid borders, so a component on a border and its
re-survey a metre over the line are still one component.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gridkit.acceptance.verdicts import CODE, CORRECT, NOT_FOUND, WRONG_CLASS, WRONG_POSITION

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

DEFAULT_TOLERANCE = 5.0
DEFAULT_SEARCH = 20.0


@dataclass
class Matching:
    """One-to-one pairs of census components and re-surveyed field points, and the verdicts.

    Attributes
    ----------
    verdict : numpy.ndarray
        Per census component, index into :data:`VERDICTS`.
    partner : numpy.ndarray
        The matched field point, -1 when none.
    distance : numpy.ndarray
        To the partner, metres; NaN when none.
    field_partner : numpy.ndarray
        Per field point, the matched census component, -1 when none (then ``missing``).

    Examples
    --------
    >>> found = match([[0, 0]], ["0118"], [[3, 4]], ["0118"])
    >>> found.verdict.tolist(), found.distance.tolist()
    ([0], [5.0])
    """

    verdict: np.ndarray  # per census component, index into VERDICTS
    partner: np.ndarray  # matched field point, -1 when none
    distance: np.ndarray  # to the partner, NaN when none
    field_partner: np.ndarray  # per field point: matched census component, -1 when none


def match(census_xy: np.ndarray, census_class: np.ndarray, field_xy: np.ndarray,
          field_class: np.ndarray, *, tolerance: float = DEFAULT_TOLERANCE,
          search: float = DEFAULT_SEARCH) -> Matching:
    """Match census components to re-surveyed field points, one to one (see the module doc).

    Parameters
    ----------
    census_xy : array_like of float, shape (n, 2)
        Census component positions, metres (a projected CRS).
    census_class : array_like, shape (n,)
        Their classes (any labels, e.g. four-digit class codes).
    field_xy : array_like of float, shape (m, 2)
        Re-surveyed positions, metres, in the same CRS.
    field_class : array_like, shape (m,)
        Their classes.
    tolerance : float, optional
        Metres within which a point is the component (correct, or wrong class).
    search : float, optional
        Metres within which a same-class point is the component misplaced (wrong position).

    Returns
    -------
    Matching
        Verdict, partner and distance per census component; partner per field point.

    Examples
    --------
    >>> from gridkit.acceptance import VERDICTS
    >>> m = match([[0, 0], [10, 0], [50, 50]], ["0118", "0102", "0305"],
    ...           [[0.5, 0], [10, 1], [100, 100]], ["0118", "0103", "0305"])
    >>> [VERDICTS[v] for v in m.verdict], m.field_partner.tolist()
    (['correct', 'wrong_class', 'not_found'], [0, 1, -1])
    """
    census_xy = np.asarray(census_xy, dtype=float).reshape(-1, 2)
    field_xy = np.asarray(field_xy, dtype=float).reshape(-1, 2)
    census_class = np.asarray(census_class)
    field_class = np.asarray(field_class)
    n, m = len(census_xy), len(field_xy)
    verdict = np.full(n, CODE[NOT_FOUND], dtype=np.int64)
    partner = np.full(n, -1, dtype=np.int64)
    distance = np.full(n, np.nan)
    field_partner = np.full(m, -1, dtype=np.int64)
    if n == 0 or m == 0:
        return Matching(verdict, partner, distance, field_partner)
    from scipy.spatial import cKDTree  # lazy: scipy costs seconds at CLI start-up

    census_tree, field_tree = cKDTree(census_xy), cKDTree(field_xy)
    passes = ((CORRECT, tolerance, True), (WRONG_CLASS, tolerance, False),
              (WRONG_POSITION, max(search, tolerance), True))
    for name, reach, same in passes:
        a, b, d = _pairs(census_tree, field_tree, reach)
        keep = (partner[a] < 0) & (field_partner[b] < 0)
        keep &= (census_class[a] == field_class[b]) if same else \
            (census_class[a] != field_class[b])
        a, b, d = a[keep], b[keep], d[keep]
        chosen_a, chosen_b, chosen_d = assign(a, b, d)
        verdict[chosen_a] = CODE[name]
        partner[chosen_a] = chosen_b
        distance[chosen_a] = chosen_d
        field_partner[chosen_b] = chosen_a
    return Matching(verdict, partner, distance, field_partner)


def _pairs(census_tree: cKDTree, field_tree: cKDTree, reach: float):
    """All (census, field, distance) pairs within ``reach`` (zero distances included)."""
    found = census_tree.sparse_distance_matrix(field_tree, reach, output_type="ndarray")
    return found["i"].astype(np.int64), found["j"].astype(np.int64), found["v"].astype(float)


def assign(a: np.ndarray, b: np.ndarray, d: np.ndarray):
    """Maximum-cardinality, minimum-distance one-to-one choice among candidate pairs."""
    if a.size == 0:
        return a, b, d
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows, row_of = np.unique(a, return_inverse=True)
    cols, col_of = np.unique(b, return_inverse=True)
    nr, nc = len(rows), len(cols)
    graph = coo_matrix((np.ones(a.size), (row_of, nr + col_of)), shape=(nr + nc, nr + nc))
    _, label = connected_components(graph, directed=False)
    piece = label[row_of]
    order = np.argsort(piece, kind="stable")
    bounds = np.flatnonzero(np.diff(piece[order])) + 1
    chosen: list[np.ndarray] = []
    for edges in np.split(order, bounds):
        if edges.size == 1:
            chosen.append(edges)
            continue
        r_local, r_of = np.unique(row_of[edges], return_inverse=True)
        c_local, c_of = np.unique(col_of[edges], return_inverse=True)
        big = float(d[edges].sum()) + 1.0
        cost = np.full((len(r_local), len(c_local)), big)
        slot = np.full((len(r_local), len(c_local)), -1, dtype=np.int64)
        cost[r_of, c_of] = d[edges]
        slot[r_of, c_of] = edges
        ri, ci = linear_sum_assignment(cost)
        taken = slot[ri, ci]
        chosen.append(taken[taken >= 0])
    picked = np.concatenate(chosen) if chosen else np.empty(0, np.int64)
    return a[picked], b[picked], d[picked]
