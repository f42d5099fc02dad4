"""How the grids of re-cut communities relate to the grids they replace.

The ``grid_change`` layer and which codes live on.

Layer ``grid_change`` (Polygon): CHANGE_ID (RUN:OLD>NEW, the key ``gridkit export --since``
follows), OLD_BGID, NEW_BGID, AREA (m²: the overlap; a retired or new grid's own area), KIND,
RUN (the ``gridkit_run`` row of the update). Kinds:

- ``kept``: a grid that comes out the same (symmetric difference under :data:`SAME_AREA` m²),
  code kept; ``reshaped``: the same grid continuing with another outline (each holds more
  than half of the other), code kept; a many-to-many overlap is also ``reshaped``;
- ``split``: one old grid's land now in several new grids; ``merged``: several old grids'
  land in one new grid;
- ``retired``: an old code that does not continue (NEW_BGID empty, the old outline);
  ``new``: a new code (OLD_BGID empty, the new outline);
- ``recoded``: the same grid, same geometry, under a new code because its community's code
  changed on the same land (撤村建居; :func:`gridkit.grids.update.recoded_communities`).

Overlaps under :data:`MIN_OVERLAP` m² are rounding and not listed. A code continues only
within its community: when a community's code changes with its land (a merger), its grids
retire and the new ones take new codes; when only the code changes, they are ``kept`` under
the new code (OLD_BGID != NEW_BGID).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridkit.grids.audit import polygonal

KEPT, RESHAPED, SPLIT, MERGED, RETIRED, NEW = "kept", "reshaped", "split", "merged", \
    "retired", "new"
# SPEC.md's closed list of KIND values: a grid recoded with its community is ``kept`` with
# OLD_BGID != NEW_BGID, so consumers that know these six values read it unchanged.
KINDS = (KEPT, RESHAPED, SPLIT, MERGED, RETIRED, NEW)
SAME_AREA = 1.0  # m²: two outlines differing by less are the same grid
MIN_OVERLAP = 1.0  # m²
CHANGE_LAYER = "grid_change"
CHANGE_COLUMNS = ["CHANGE_ID", "OLD_BGID", "NEW_BGID", "AREA", "KIND", "RUN"]


def match_grids(old_codes: np.ndarray, old_geoms: np.ndarray, new_community: np.ndarray,
                new_geoms: np.ndarray) -> tuple[dict[int, str], pd.DataFrame]:
    """Which new grids continue an old one, and every overlap between the two sets.

    Parameters
    ----------
    old_codes, old_geoms : ndarray
        The replaced grids' BGIDs and polygons.
    new_community, new_geoms : ndarray
        The new grids' 12-digit community codes and polygons (same CRS, metres).

    Returns
    -------
    continues : dict
        New grid index → the old BGID it keeps.
    overlaps : DataFrame
        o, n (indexes), AREA (m²) and the overlap geometry, for overlaps of MIN_OVERLAP m²
        or more.
    """
    o, n = shapely.STRtree(old_geoms).query(new_geoms, predicate="intersects")[::-1]
    pieces = shapely.intersection(old_geoms[o], new_geoms[n])
    areas = shapely.area(pieces)
    big = areas >= MIN_OVERLAP
    overlaps = pd.DataFrame({"o": o[big], "n": n[big], "AREA": areas[big],
                             "geometry": pieces[big]})
    continues: dict[int, str] = {}
    old_area = shapely.area(old_geoms)
    new_area = shapely.area(new_geoms)
    for row in overlaps.itertuples(index=False):
        if (row.AREA > 0.5 * old_area[row.o] and row.AREA > 0.5 * new_area[row.n]
                and old_codes[row.o][:12] == new_community[row.n]):
            continues[int(row.n)] = old_codes[row.o]
    return continues, overlaps


def change_rows(old_codes, old_geoms, new_codes, new_geoms, continues: dict[int, str],
                overlaps: pd.DataFrame, run: int, crs) -> gpd.GeoDataFrame:
    """The ``grid_change`` rows of one update (see the module text for the kinds)."""
    old_codes = np.asarray(old_codes, dtype=object)
    new_codes = np.asarray(new_codes, dtype=object)
    out_degree = overlaps.groupby("o").size()
    in_degree = overlaps.groupby("n").size()
    rows = []
    continuing_old = set(continues.values())
    for row in overlaps.itertuples(index=False):
        old, new = old_codes[row.o], new_codes[row.n]
        if continues.get(int(row.n)) == old:
            same = shapely.area(shapely.symmetric_difference(old_geoms[row.o],
                                                             new_geoms[row.n])) < SAME_AREA
            kind = KEPT if same else RESHAPED
        elif out_degree[row.o] > 1 and in_degree[row.n] == 1:
            kind = SPLIT
        elif in_degree[row.n] > 1 and out_degree[row.o] == 1:
            kind = MERGED
        else:
            kind = RESHAPED
        rows.append((old, new, row.AREA, kind, row.geometry))
    for k in np.flatnonzero(~np.isin(old_codes, list(continuing_old))):
        rows.append((old_codes[k], "", shapely.area(old_geoms[k]), RETIRED, old_geoms[k]))
    for k in range(len(new_codes)):
        if k not in continues:
            rows.append(("", new_codes[k], shapely.area(new_geoms[k]), NEW, new_geoms[k]))
    return _frame(rows, run, crs)


def recoded_rows(grids: gpd.GeoDataFrame, renames: dict[str, str], run: int,
                 changes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``changes`` with one ``kept`` row (OLD_BGID → NEW_BGID) per renamed grid.

    Each row carries the grid's own area and outline.

    Parameters
    ----------
    grids : GeoDataFrame
        The unit grids holding the renamed ones under their new BGID.
    renames : dict
        Old BGID → new BGID.
    run : int
        The update's ``gridkit_run`` row.
    changes : GeoDataFrame
        The update's other ``grid_change`` rows (:func:`change_rows`).

    Returns
    -------
    GeoDataFrame
        All rows, ordered by OLD_BGID then NEW_BGID.
    """
    shape = dict(zip(grids["BGID"], grids.geometry, strict=True))
    rows = [(old, new, shapely.area(shape[new]), KEPT, shape[new])
            for old, new in sorted(renames.items())]
    mine = _frame(rows, run, changes.crs)
    both = gpd.GeoDataFrame(pd.concat([changes, mine], ignore_index=True), crs=changes.crs)
    order = np.lexsort((both["NEW_BGID"].to_numpy(), both["OLD_BGID"].to_numpy()))
    return both.iloc[order].reset_index(drop=True)


def _frame(rows: list[tuple], run: int, crs) -> gpd.GeoDataFrame:
    """``grid_change`` rows from (old, new, area, kind, geometry), ordered by old then new."""
    frame = gpd.GeoDataFrame(
        {"OLD_BGID": [r[0] for r in rows], "NEW_BGID": [r[1] for r in rows],
         "AREA": np.round([r[2] for r in rows], 2), "KIND": [r[3] for r in rows],
         "RUN": np.full(len(rows), run, dtype="int64")},
        geometry=[polygonal(r[4]) for r in rows], crs=crs)
    frame.insert(0, "CHANGE_ID", [f"{run}:{a}>{b}" for a, b in zip(
        frame["OLD_BGID"], frame["NEW_BGID"], strict=True)])
    order = np.lexsort((frame["NEW_BGID"].to_numpy(), frame["OLD_BGID"].to_numpy()))
    return frame.iloc[order].reset_index(drop=True)
