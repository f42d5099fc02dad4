"""Components and events re-located where their unit grid changed, each change listed.

A record of a grid kept under a new code (a recoded community) takes the new code directly.

A record is looked at again when its BGID is one of the replaced grids' codes (retired or
continuing with a new outline); it is located in the new ``unit_grid`` by the census's own
rule (:class:`gridkit.components.UnitGrids`: inside or on the edge, the smallest BGID wins on
a shared edge; lines and polygons by a point on their surface). BGID, COMMUNITY and STREET
are rewritten; every record whose BGID changed gets a row in ``grid_relocation`` (LAYER, KEY,
OLD_BGID, NEW_BGID, RUN).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gridkit.components import UnitGrids
from gridkit.io import layers_of

RECORD_KEYS = {"component": "OBJCODE", "event": "EVTID"}
RELOCATION_LAYER = "grid_relocation"


def relocate_records(path: Path, grids: gpd.GeoDataFrame, replaced: set[str],
                     run: int, recoded: dict[str, str] | None = None,
                     ) -> tuple[dict[str, gpd.GeoDataFrame], pd.DataFrame]:
    """The record layers of ``path`` with records of ``replaced`` grids located anew.

    Parameters
    ----------
    path : Path
        The GeoPackage holding ``component``/``event`` layers (those present are used).
    grids : GeoDataFrame
        The new ``unit_grid`` layer.
    replaced : set of str
        BGIDs of the grids that were re-cut (retired or reshaped).
    run : int
        The update's ``gridkit_run`` row.
    recoded : dict, optional
        Old BGID → new BGID of grids kept under a new code: their records follow the grid
        (not located again: a point on a shared edge stays in the grid it was in).

    Returns
    -------
    layers : dict
        Layer name → the rewritten layer, only for layers with a changed record.
    moves : DataFrame
        One row per record whose BGID changed.
    """
    present = set(layers_of(path)) if path.exists() else set()
    index = None
    layers, moves = {}, []
    for name, key in RECORD_KEYS.items():
        if name not in present:
            continue
        frame = pyogrio.read_dataframe(path, layer=name, use_arrow=True)
        if "BGID" not in frame or frame.empty:
            continue
        old = frame["BGID"].astype("string").fillna("")
        renamed = old.map(recoded or {}).dropna() if recoded else pd.Series(dtype=object)
        todo = np.flatnonzero(old.isin(replaced).to_numpy())
        if len(todo) == 0 and renamed.empty:
            continue
        frame = frame.copy()
        if not renamed.empty:
            at = frame.index.get_indexer(renamed.index)
            new_codes = renamed.to_numpy(dtype=object)
            for field, values in (("BGID", new_codes),
                                  ("COMMUNITY", np.array([c[:12] for c in new_codes], object)),
                                  ("STREET", np.array([c[:9] for c in new_codes], object))):
                if field in frame:
                    column = np.array(frame[field].astype(object), dtype=object)
                    column[at] = values
                    frame[field] = column
            keys = (frame[key].astype("string").fillna("").to_numpy()[at] if key in frame
                    else at.astype(str))
            moves.append(pd.DataFrame({"LAYER": name, "KEY": keys,
                                       "OLD_BGID": old.to_numpy()[at], "NEW_BGID": new_codes,
                                       "RUN": np.int64(run)}))
            layers[name] = frame
        if len(todo) == 0:
            continue
        if index is None:
            index = UnitGrids(grids)
        shapes = frame.geometry.to_numpy()[todo]
        points = np.where(shapely.get_type_id(shapes) == 0, shapes,
                          shapely.point_on_surface(shapes))
        found = index.index.locate(shapely.get_x(points), shapely.get_y(points))
        inside = found >= 0
        new = np.where(inside, index.bgid[np.maximum(found, 0)], None)
        for field, values in (("BGID", index.bgid), ("COMMUNITY", index.community),
                              ("STREET", index.street)):
            if field in frame:
                column = np.array(frame[field].astype(object), dtype=object)
                column[todo] = np.where(inside, values[np.maximum(found, 0)], None)
                frame[field] = column
        changed = old.to_numpy()[todo] != np.where(inside, new, "").astype(object)
        if changed.any():
            keys = (frame[key].astype("string").fillna("").to_numpy()[todo] if key in frame
                    else todo.astype(str))
            moves.append(pd.DataFrame({
                "LAYER": name, "KEY": keys[changed],
                "OLD_BGID": old.to_numpy()[todo][changed],
                "NEW_BGID": np.where(inside, new, "")[changed].astype(object),
                "RUN": np.int64(run)}))
            layers[name] = frame
    columns = ["LAYER", "KEY", "OLD_BGID", "NEW_BGID", "RUN"]
    table = pd.concat(moves, ignore_index=True) if moves else pd.DataFrame(columns=columns)
    return layers, table[columns]
