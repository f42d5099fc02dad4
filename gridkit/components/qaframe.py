"""QA issues in bulk: many rows per rule, built from arrays rather than one object per issue."""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from gridkit.qa import QA_FIELDS


def issues_frame(parts: list[dict], crs, *, layer: str = "component") -> gpd.GeoDataFrame:
    """One qa_issue frame from parts.

    Each part is a dict with ``keys``, ``rule``, ``severity``, ``messages``, ``geometry`` (arrays
    of equal length; rule/severity may be one string) and optionally ``layer``.
    """
    columns: dict[str, list] = {name: [] for name in QA_FIELDS}
    geometries = []
    for part in parts:
        n = len(part["messages"])
        if n == 0:
            continue
        columns["LAYER"].append(np.full(n, part.get("layer", layer), dtype=object))
        columns["KEY"].append(np.asarray(part["keys"], dtype=object))
        for name, key in (("RULE", "rule"), ("SEVERITY", "severity")):
            value = part[key]
            columns[name].append(np.full(n, value, dtype=object) if isinstance(value, str)
                                 else np.asarray(value, dtype=object))
        columns["MESSAGE"].append(np.asarray(part["messages"], dtype=object))
        geometry = part.get("geometry")
        geometries.append(np.full(n, None, dtype=object) if geometry is None
                          else np.asarray(geometry, dtype=object))
    data = {name: (np.concatenate(values) if values else np.empty(0, dtype=object))
            for name, values in columns.items()}
    geometry = np.concatenate(geometries) if geometries else np.empty(0, dtype=object)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs=crs), crs=crs)
