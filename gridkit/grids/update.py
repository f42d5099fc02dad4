"""``gridkit partition COMMUNITIES -o OUT.gpkg --update``.

Adjust the grids a file already has (partitioned or adopted) to new community boundaries, keeping
every code that still names the same grid.

1. The communities are read, checked and their gaps and overlaps resolved as for a
   partition, in the file's CRS.
2. A community is **unchanged** when the file has its code and no land between its old and
   new outline is wider than :data:`TOLERANCE` m. Its grids stay exactly as they are: same rows,
   same BGIDs, same geometry, same RGID.
3. Changed, merged, split and new communities are cut anew by the partition (same options),
   on their land outside the kept grids. A new grid continues an old one when each holds
   more than half of the other and they are in the same community: it keeps the old code.
   Every other new grid gets a serial never used before in its community (the
   ``bgid_registry`` remembers retired codes); old codes that do not continue retire.
4. ``grid_change`` lists what happened (see :mod:`gridkit.grids.change`), components and
   events of re-cut grids are located again (``grid_relocation``), ``responsibility_grid``
   is removed (re-run ``gridkit group``: responsibility grids whose unit grids did not change
   keep their RGIDs).

When nothing changed the file is not touched at all.
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gridkit.errors import InputError
from gridkit.grids.change import (
    CHANGE_COLUMNS,
    CHANGE_LAYER,
    SAME_AREA,
    change_rows,
    match_grids,
)
from gridkit.grids.registry import (
    REGISTRY_LAYER,
    fresh_codes,
    read_registry,
    register,
    retire,
    run_number,
)
from gridkit.grids.relocate import RELOCATION_LAYER, relocate_records
from gridkit.io import layers_of, merge_qa, run_record, write_geopackage
from gridkit.partition.communities import prepare_communities, resolve_conflicts
from gridkit.partition.engine import DEFAULT_CUTTING, partition
from gridkit.qa import QAIssue, qa_frame
from gridkit.result import StepResult

TOLERANCE = 1.0  # m: a community whose outline moved less is unchanged
STALE = ("responsibility_grid",)


def update_geopackage(communities: gpd.GeoDataFrame, output: Path, *, roads=None, water=None,
                      buildings=None, parcels=None, cutting: str = DEFAULT_CUTTING,
                      key_areas=None,
                      target_area: float = 10_000,
                      code_field: str | None = None, name_field: str | None = None,
                      road_class_field: str | None = None,
                      max_conflict_area: float | None = None, parameters: dict | None = None,
                      inputs: list | None = None, progress=None, client=None) -> dict:
    """Adjust the unit grids of ``output`` to ``communities``; see the module text.

    Parameters
    ----------
    communities : GeoDataFrame
        The communities as they are now (as read; any CRS).
    output : Path
        A GeoPackage with ``unit_grid`` and ``community`` layers.
    roads, water, buildings, parcels : GeoDataFrame, optional
        Barriers, footprints and parcels for re-cutting, as for a partition.
    cutting : str
        The partition's cutting method (``fabric``, the default, or ``straight``).
    key_areas : GeoDataFrame, optional
        Key areas, as for a partition (their open land gets grids of the target).
    target_area, code_field, name_field, road_class_field, max_conflict_area
        As :func:`gridkit.partition.partition`.
    parameters : dict, optional
        Recorded in ``gridkit_run``; ``inputs`` the input files checksummed there.

    Returns
    -------
    StepResult
        ``qa``: the update's issues; ``figures``: communities unchanged/changed/new/gone,
        grids kept and re-cut, grid_change rows by kind, records re-located, and
        ``changed`` (False for a no-op).

    Raises
    ------
    InputError
        ``output`` has no unit grids, or a community needs more than 999 serials.
    """
    started = time.perf_counter()
    say = progress or (lambda _stage: None)
    present = layers_of(output)
    for layer in ("unit_grid", "community"):
        if layer not in present:
            raise InputError(f"{output} has no {layer} layer to update: run gridkit "
                             "partition (without `update=True`) or gridkit grids adopt first",
                             parameter="update")
    old = pyogrio.read_dataframe(output, layer="unit_grid", use_arrow=True)
    old_comm = pyogrio.read_dataframe(output, layer="community", use_arrow=True)
    crs = old.crs
    say("comparing communities")
    comm, issues = prepare_communities(communities, crs, code_field=code_field,
                                       name_field=name_field)
    comm, found = resolve_conflicts(comm, max_area=max_conflict_area if max_conflict_area
                                    is not None else 0.5 * target_area)
    issues += found
    before = dict(zip(old_comm["CODE"], old_comm.geometry, strict=True))
    unchanged = {code for code, geom in zip(comm["CODE"], comm.geometry, strict=True)
                 if code in before and not _moved(geom, before[code])}
    changed = [c for c in comm["CODE"] if c not in unchanged]
    gone = sorted(set(before) - set(comm["CODE"]))
    figures = {"output": str(output), "update": True,
               "communities": {"unchanged": len(unchanged),
                               "changed": sum(c in before for c in changed),
                               "new": sum(c not in before for c in changed), "gone": len(gone)},
               "changed": bool(changed or gone)}
    if not figures["changed"]:
        figures["seconds"] = round(time.perf_counter() - started, 2)
        return StepResult(figures, qa_frame(issues, crs))

    keep = old["COMMUNITY"].isin(unchanged).to_numpy()
    kept, replaced = old[keep], old[~keep]
    fresh, fresh_comm = _recut(comm[comm["CODE"].isin(changed)], kept,
                               dict(roads=roads, water=water, buildings=buildings,
                                    parcels=parcels, cutting=cutting, key_areas=key_areas,
                                    road_class_field=road_class_field,
                                    max_conflict_area=max_conflict_area),
                               target_area, crs, issues, say, client)
    run = run_number(output)
    registry = read_registry(output, old["BGID"])
    say("matching old and new grids")
    old_codes = replaced["BGID"].to_numpy(dtype=object)
    old_geoms = replaced.geometry.to_numpy()
    new_geoms = fresh.geometry.to_numpy()
    continues, overlaps = match_grids(old_codes, old_geoms,
                                      fresh["COMMUNITY"].to_numpy(dtype=object), new_geoms)
    codes = np.empty(len(fresh), dtype=object)
    for n, code in continues.items():
        codes[n] = code
    for community, members in fresh.groupby("COMMUNITY", sort=True).groups.items():
        need = [int(k) for k in np.asarray(members) if int(k) not in continues]
        for k, code in zip(need, fresh_codes(registry, community, len(need)), strict=True):
            codes[k] = code
        registry = register(registry, [codes[k] for k in need], run)
    retired = sorted(set(old_codes) - set(continues.values()))
    registry = retire(registry, retired, run)
    changes = change_rows(old_codes, old_geoms, codes, new_geoms, continues, overlaps, run,
                          crs)
    grids = _unit_grids(kept, fresh, codes, continues, replaced)
    community = _communities(old_comm, unchanged, fresh_comm)
    say("re-locating components and events")
    records, moves = relocate_records(output, grids, set(old_codes), run)
    stale = [n for n in STALE if n in present]
    gone_codes = set(retired)
    issues += [QAIssue("unit_grid", code, "grid-retired", "warning",
                       f"unit grid {code} retired by the update (run {run}); see grid_change",
                       geom) for code, geom in zip(old_codes, old_geoms, strict=True)
               if code in gone_codes]
    qa = qa_frame(issues, crs)
    layers = {
        "community": community, "unit_grid": grids,
        CHANGE_LAYER: _append(output, CHANGE_LAYER, changes),
        REGISTRY_LAYER: registry,
        RELOCATION_LAYER: _append(output, RELOCATION_LAYER, moves),
        "qa_issue": merge_qa(output, "partition --update", qa, stale=("group",)),
        **records,
    }
    write_geopackage(output, layers,
                     run_record("partition --update", parameters or {}, inputs or []),
                     drop=tuple(stale))
    kinds = changes["KIND"].value_counts()
    figures.update({
        "run": run,
        "unit_grids": int(len(grids)),
        "kept_unchanged": int(len(kept)),
        "recut": {"old": int(len(replaced)), "new": int(len(fresh))},
        "grid_change": {k: int(kinds.get(k, 0)) for k in
                        ("kept", "reshaped", "split", "merged", "retired", "new")},
        "retired": retired,
        "new_codes": sorted(set(codes) - set(continues.values())),
        "relocated": {name: int((moves["LAYER"] == name).sum())
                      for name in ("component", "event")},
        "removed_stale_layers": stale,
        "seconds": round(time.perf_counter() - started, 2),
    })
    return StepResult(figures, qa)


def _moved(now, then) -> bool:
    """Whether a community's outline moved.

    Some of the land between its two outlines is wider than TOLERANCE (a spike of no area or a
    digitising wobble is not a move).
    """
    between = shapely.symmetric_difference(now, then)
    return not shapely.is_empty(shapely.buffer(between, -TOLERANCE / 2))


def _recut(changed: gpd.GeoDataFrame, kept: gpd.GeoDataFrame, options: dict, target_area,
           crs, issues, say, client):
    """Partition the changed communities on their land outside the kept grids.

    With the partition's ``options`` (barriers, buildings, parcels, cutting).
    """
    if changed.empty:
        empty = gpd.GeoDataFrame({"BGID": [], "COMMUNITY": []}, geometry=[], crs=crs)
        return empty, None
    land = changed[["CODE", "NAME", "geometry"]].copy()
    if len(kept):
        held = shapely.union_all(kept.geometry.to_numpy())
        land.geometry = gpd.GeoSeries(shapely.difference(land.geometry.to_numpy(), held),
                                      index=land.index, crs=crs)
    land = land[~land.geometry.is_empty]
    land.attrs["source"] = "communities (changed)"
    say(f"re-cutting {len(land)} changed communities")
    result = partition(land, target_area=target_area, crs=crs, code_field="CODE",
                       name_field="NAME", progress=say, client=client, **options)
    issues += result.issues
    return result.unit_grids.reset_index(drop=True), result.communities


def _unit_grids(kept, fresh, codes, continues, replaced) -> gpd.GeoDataFrame:
    """Kept rows as they were, re-cut grids with their codes.

    A responsibility grid lives on only while none of its unit grids changed: a grid that
    continues with the same outline keeps its RGID and DENSITY, and every grid of a
    responsibility grid that lost or changed a member loses them (``gridkit group`` groups
    it again; the others keep their RGIDs there).
    """
    fresh = fresh.copy()
    fresh["BGID"] = codes
    before = replaced.set_index("BGID")
    same = {n: code for n, code in continues.items()
            if shapely.area(shapely.symmetric_difference(
                before.geometry[code], fresh.geometry.iloc[n])) < SAME_AREA}
    has_rgid = "RGID" in before
    # Responsibility grids with a member that did not continue with the same outline.
    changed = (set(before.loc[~before.index.isin(list(same.values())), "RGID"].dropna())
               if has_rgid else set())
    for column in ("RGID", "DENSITY"):
        if column in before:
            values = pd.Series([None] * len(fresh), dtype="string")
            for n, code in same.items():
                if not has_rgid or before["RGID"][code] not in changed:
                    values.iloc[n] = before[column][code]
            fresh[column] = values.to_numpy()
    if has_rgid and changed:
        kept = kept.copy()
        hit = kept["RGID"].isin(changed).to_numpy()
        for column in ("RGID", "DENSITY"):
            if column in kept:
                kept.loc[hit, column] = None
    columns = list(kept.columns)
    for column in columns:
        if column not in fresh:
            fresh[column] = None
    out = pd.concat([kept, fresh[columns]], ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry=kept.geometry.name, crs=kept.crs)
    return out.sort_values("BGID", kind="stable").reset_index(drop=True)


def _communities(old_comm, unchanged, fresh_comm) -> gpd.GeoDataFrame:
    kept = old_comm[old_comm["CODE"].isin(unchanged)]
    if fresh_comm is None:
        return kept.reset_index(drop=True)
    fresh = fresh_comm.copy()
    for column in kept.columns:
        if column not in fresh:
            fresh[column] = None
    out = pd.concat([kept, fresh[list(kept.columns)]], ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry=kept.geometry.name, crs=kept.crs)
    return out.sort_values("CODE", kind="stable").reset_index(drop=True)


def _append(path: Path, layer: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Earlier runs' rows of ``layer`` followed by this run's."""
    if layer not in layers_of(path):
        return rows
    earlier = pyogrio.read_dataframe(path, layer=layer, use_arrow=True,
                                     read_geometry=isinstance(rows, gpd.GeoDataFrame))
    if isinstance(rows, gpd.GeoDataFrame):
        earlier = earlier.to_crs(rows.crs)
        return gpd.GeoDataFrame(pd.concat([earlier, rows], ignore_index=True), crs=rows.crs)
    return pd.concat([earlier, rows], ignore_index=True)


__all__ = ["CHANGE_COLUMNS", "update_geopackage"]
