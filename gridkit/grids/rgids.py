"""RGIDs that live on.

After grids were adjusted (``partition --update``), a responsibility grid that holds exactly the
unit grids it held before keeps its RGID.

``gridkit group`` numbers responsibility grids afresh in a spatial order; this step then
gives every new responsibility grid whose set of unit grids equals the set that carries one
RGID in the file now (after an update, grids of a responsibility grid that lost or changed a
member carry none) that RGID. The others keep their new RGID unless it names a kept or an
earlier responsibility grid of the file, in which case they take the next serial above every
RGID their street has used.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd


def keep_rgids(previous: pd.DataFrame, grouping):
    """``grouping`` with the RGIDs of unchanged responsibility grids taken from ``previous``.

    ``grouping`` is a :class:`gridkit.responsibility.engine.Grouping`.

    Parameters
    ----------
    previous : DataFrame
        The ``unit_grid`` rows as the file held them before grouping: BGID and RGID.
    grouping : Grouping
        The new grouping.

    Returns
    -------
    grouping : Grouping
        With RGIDs remapped in both layers and in the QA issues.
    kept : int
        How many responsibility grids kept their RGID.

    Examples
    --------
    >>> result, kept = keep_rgids(old_grids[["BGID", "RGID"]], result)  # doctest: +SKIP
    """
    if "RGID" not in previous or previous["RGID"].isna().all():
        return grouping, 0
    old = previous.dropna(subset=["RGID"])
    old_sets = {rgid: frozenset(members) for rgid, members in
                old.groupby("RGID")["BGID"]}
    by_set = {members: rgid for rgid, members in old_sets.items()}
    units = grouping.unit_grids
    new_sets = {rgid: frozenset(members) for rgid, members in units.groupby("RGID")["BGID"]}
    mapping = {new: by_set[members] for new, members in new_sets.items() if members in by_set}
    taken = set(mapping.values()) | set(old_sets)
    top: dict[str, int] = {}
    for rgid in taken | set(new_sets):
        top[rgid[:9]] = max(top.get(rgid[:9], 0), int(rgid[9:]))
    for new in sorted(new_sets):
        if new in mapping:
            continue
        if new in taken:
            street = new[:9]
            top[street] += 1
            mapping[new] = f"{street}{top[street]:04d}"
        else:
            mapping[new] = new
    if all(k == v for k, v in mapping.items()):
        return grouping, len(set(mapping.values()) & set(old_sets))
    resp = grouping.responsibility_grids.copy()
    resp["RGID"] = resp["RGID"].map(mapping)
    units = units.copy()
    units["RGID"] = units["RGID"].map(mapping)
    issues = []
    for issue in grouping.issues:
        if issue.key in mapping:
            issue = replace(issue, key=mapping[issue.key],
                            message=issue.message.replace(issue.key, mapping[issue.key]))
        issues.append(issue)
    order = np.argsort(resp["RGID"].to_numpy(), kind="stable")
    kept = sum(mapping[n] == by_set.get(m) for n, m in new_sets.items())
    return replace(grouping, responsibility_grids=resp.iloc[order].reset_index(drop=True),
                   unit_grids=units, issues=issues), kept
