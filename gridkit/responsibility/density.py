"""Density class of each unit grid (疏密相间): ``dense`` or ``sparse``.

A grid is dense when more than half of its area lies in a key area (demonstration areas,
central business districts, main landscape belts: the ``--key-areas`` polygons), or when its
workload per m² is at least ``threshold`` times the district's median workload per m²
(default 2: twice as busy as the typical grid). Workload measured as plain area makes every
grid equally busy, so then only key areas make grids dense.
"""

from __future__ import annotations

import numpy as np
import shapely

DENSE, SPARSE = "dense", "sparse"
KEY_SHARE = 0.5
DEFAULT_THRESHOLD = 2.0


def key_area_share(grids: np.ndarray, key_areas: np.ndarray) -> np.ndarray:
    """Share of each grid's area inside the (union of the) key areas."""
    if len(key_areas) == 0:
        return np.zeros(len(grids))
    keys = shapely.get_parts(shapely.union_all(key_areas))
    tree = shapely.STRtree(keys)
    g, k = tree.query(grids, predicate="intersects")
    inside = np.bincount(g, weights=shapely.area(shapely.intersection(grids[g], keys[k])),
                         minlength=len(grids))
    return inside / shapely.area(grids)


def density_classes(grids: np.ndarray, workload: np.ndarray, key_areas: np.ndarray,
                    threshold: float = DEFAULT_THRESHOLD) -> tuple[np.ndarray, dict]:
    """``dense``/``sparse`` per grid, and why (counts by reason)."""
    share = key_area_share(grids, key_areas)
    in_key = share > KEY_SHARE
    per_m2 = workload / shapely.area(grids)
    median = float(np.median(per_m2)) if len(per_m2) else 0.0
    busy = per_m2 >= threshold * median if median > 0 else np.zeros(len(grids), bool)
    dense = in_key | busy
    return np.where(dense, DENSE, SPARSE), {
        "key_area": int(in_key.sum()), "workload": int((busy & ~in_key).sum()),
        "median_workload_per_m2": median, "threshold": threshold,
    }
