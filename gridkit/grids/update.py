"""``gridkit partition COMMUNITIES -o OUT.gpkg --update``.

Adjust the grids a file already has (partitioned or adopted) to new community boundaries, keeping
every code that still names the same grid.

1. The communities are read, checked and their gaps and overlaps resolved as for a
   partition, in the file's CRS.
2. A community is **unchanged** when the file has its code and no land between its old and
   new outline is wider than :data:`TOLERANCE` m. Its grids stay exactly as they are: same rows,
   same BGIDs, same geometry, same RGID. A community is **recoded** when its code is new, a
   code the file holds is gone, and the two outlines are the same by that rule (撤村建居: village
   310116101212 becomes residents' committee 310116101003 on the same land; a district
   renumbered). Its grids keep their geometry and take codes of the new community
   (:func:`recode_grids`); the old codes retire.
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
    KINDS,
    SAME_AREA,
    change_rows,
    match_grids,
    recoded_rows,
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
    recoded = recoded_communities(comm, old_comm)
    changed = [c for c in comm["CODE"] if c not in unchanged and c not in recoded.values()]
    gone = sorted(set(before) - set(comm["CODE"]) - set(recoded))
    figures = {"output": str(output), "update": True,
               "communities": {"unchanged": len(unchanged),
                               "changed": sum(c in before for c in changed),
                               "new": sum(c not in before for c in changed), "gone": len(gone),
                               "recoded": len(recoded)},
               "changed": bool(changed or gone or recoded)}
    if not figures["changed"]:
        figures["seconds"] = round(time.perf_counter() - started, 2)
        return StepResult(figures, qa_frame(issues, crs))

    keep = old["COMMUNITY"].isin(unchanged).to_numpy()
    renamed = old["COMMUNITY"].isin(recoded).to_numpy()
    kept, replaced = old[keep | renamed], old[~keep & ~renamed]
    fresh, fresh_comm = _recut(comm[comm["CODE"].isin(changed)], kept,
                               dict(roads=roads, water=water, buildings=buildings,
                                    parcels=parcels, cutting=cutting,
                                    road_class_field=road_class_field,
                                    max_conflict_area=max_conflict_area),
                               target_area, crs, issues, say, client)
    run = run_number(output)
    registry = read_registry(output, old["BGID"])
    kept, registry, renames = recode_grids(kept, recoded, registry, run)
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
    if renames:
        changes = recoded_rows(kept, renames, run, changes)
    grids = _unit_grids(kept, fresh, codes, continues, replaced)
    community = _communities(old_comm, unchanged, fresh_comm, recoded, comm)
    say("re-locating components and events")
    records, moves = relocate_records(output, grids, set(old_codes), run, recoded=renames)
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
        "kept_unchanged": int(len(kept) - len(renames)),
        "recoded": {"communities": dict(sorted(recoded.items())), "grids": len(renames)},
        "recut": {"old": int(len(replaced)), "new": int(len(fresh))},
        "grid_change": {k: int(kinds.get(k, 0)) for k in KINDS},
        "retired": sorted(retired + list(renames)),
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


def recoded_communities(communities: gpd.GeoDataFrame,
                        held: gpd.GeoDataFrame) -> dict[str, str]:
    """Communities whose code changed on the same land: old code → new code.

    A new code (not in ``held``) is the old one renamed when exactly one gone code (held, not
    in ``communities``) has the same outline by the rule of unchanged communities: no land
    between the two outlines wider than :data:`TOLERANCE` m. A strip at most that wide keeps
    the old grids fitting the new outline as they fit the old one; a community whose land moved
    more is re-cut (its grids retire, as before).

    Parameters
    ----------
    communities : GeoDataFrame
        The communities now: CODE and polygons, in the file's CRS (metres).
    held : GeoDataFrame
        The file's ``community`` layer: CODE and polygons, same CRS.

    Returns
    -------
    dict
        12-digit old code → 12-digit new code, one entry per recoded community.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> land = shapely.box(0, 0, 500, 500)
    >>> then = gpd.GeoDataFrame({"CODE": ["310116101212"]}, geometry=[land], crs=4549)
    >>> now = gpd.GeoDataFrame({"CODE": ["310116101003"]},
    ...                        geometry=[shapely.box(0, 0, 500, 500.4)], crs=4549)
    >>> recoded_communities(now, then)
    {'310116101212': '310116101003'}
    """
    held_codes = held["CODE"].to_numpy(dtype=object)
    now_codes = communities["CODE"].to_numpy(dtype=object)
    gone = np.flatnonzero(~np.isin(held_codes, now_codes))
    new = np.flatnonzero(~np.isin(now_codes, held_codes))
    if not len(gone) or not len(new):
        return {}
    old_geoms = held.geometry.to_numpy()[gone]
    new_geoms = communities.geometry.to_numpy()[new]
    o, n = shapely.STRtree(old_geoms).query(new_geoms, predicate="intersects")[::-1]
    same = [(int(a), int(b)) for a, b in zip(o, n, strict=True)
            if not _moved(new_geoms[b], old_geoms[a])]
    # Only a one-to-one match is a renaming; anything else is a change of land.
    old_hits = pd.Series([a for a, _ in same]).value_counts()
    new_hits = pd.Series([b for _, b in same]).value_counts()
    return {held_codes[gone[a]]: now_codes[new[b]] for a, b in same
            if old_hits[a] == 1 and new_hits[b] == 1}


def recode_grids(kept: gpd.GeoDataFrame, recoded: dict[str, str], registry: pd.DataFrame,
                 run: int) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict[str, str]]:
    """The kept grids with the grids of recoded communities under their new community's code.

    Each grid keeps its row and geometry. Its new BGID is the new community code followed by
    its old serial (310116101212084 → 310116101003084) when none of the community's codes so
    made was used before, else by serials the new community never used, in the old codes'
    order; the old codes retire and never come back.
    COMMUNITY and STREET follow the new code. A grid whose street changed loses RGID and
    DENSITY, with every grid of its responsibility grid (an RGID names one street); in the same
    street they stay, so ``gridkit group`` keeps the RGIDs.

    Parameters
    ----------
    kept : GeoDataFrame
        The ``unit_grid`` rows kept by the update (BGID, COMMUNITY, STREET, ...).
    recoded : dict
        Old → new 12-digit community code (:func:`recoded_communities`).
    registry : DataFrame
        The ``bgid_registry`` (:func:`gridkit.grids.registry.read_registry`).
    run : int
        The update's ``gridkit_run`` row.

    Returns
    -------
    kept : GeoDataFrame
        The rows recoded in place.
    registry : DataFrame
        New codes active, old codes retired, in ``run``.
    renames : dict
        Old BGID → new BGID for every recoded grid.
    """
    if not recoded:
        return kept, registry, {}
    kept = kept.copy()
    codes = kept["BGID"].astype(str).to_numpy(dtype=object)
    hit = np.flatnonzero(kept["COMMUNITY"].isin(recoded).to_numpy())
    renames: dict[str, str] = {}
    used = set(registry["BGID"])
    for old_community, community in sorted(recoded.items()):
        olds = sorted(c for c in codes[hit] if c[:12] == old_community)
        same_serials = [community + c[12:] for c in olds]
        news = same_serials if used.isdisjoint(same_serials) else \
            fresh_codes(registry, community, len(olds))
        registry = register(registry, news, run)
        renames.update(zip(olds, news, strict=True))
    registry = retire(registry, list(renames), run)
    new_codes = np.array([renames[c] for c in codes[hit]], dtype=object)
    moved_street = np.array([a[:9] != b[:9] for a, b in zip(codes[hit], new_codes,
                                                            strict=True)], dtype=bool)
    if "RGID" in kept and moved_street.any():
        broken = set(kept["RGID"].iloc[hit[moved_street]].dropna())
        lose = kept["RGID"].isin(broken).to_numpy()
        for column in ("RGID", "DENSITY"):
            if column in kept:
                kept.loc[lose, column] = None
    position = kept.columns.get_loc
    kept.iloc[hit, position("BGID")] = new_codes
    kept.iloc[hit, position("COMMUNITY")] = [c[:12] for c in new_codes]
    if "STREET" in kept:
        kept.iloc[hit, position("STREET")] = [c[:9] for c in new_codes]
    return kept, registry, renames


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


def _communities(old_comm, unchanged, fresh_comm, recoded, now) -> gpd.GeoDataFrame:
    """Unchanged communities' rows as they were, recoded ones renamed, re-cut ones anew."""
    kept = old_comm[old_comm["CODE"].isin(unchanged) | old_comm["CODE"].isin(recoded)].copy()
    if recoded:
        names = dict(zip(now["CODE"], now["NAME"], strict=True)) if "NAME" in now else {}
        renamed = kept["CODE"].isin(recoded).to_numpy()
        new = kept.loc[renamed, "CODE"].map(recoded)
        kept.loc[renamed, "CODE"] = new
        if "NAME" in kept:
            kept.loc[renamed, "NAME"] = new.map(names).fillna(kept.loc[renamed, "NAME"])
        if "STREET" in kept:
            kept.loc[renamed, "STREET"] = new.str[:9]
    if fresh_comm is None:
        return kept.sort_values("CODE", kind="stable").reset_index(drop=True)
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
