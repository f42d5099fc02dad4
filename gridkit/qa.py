"""QA issues: what gridkit found, repaired or refused, written to the ``qa_issue`` layer."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

QA_FIELDS = ["LAYER", "KEY", "RULE", "SEVERITY", "MESSAGE"]


@dataclass
class QAIssue:
    layer: str
    key: str
    rule: str
    severity: str  # "error" or "warning"
    message: str
    geometry: BaseGeometry | None = field(default=None, repr=False)


def qa_frame(issues: list[QAIssue], crs) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "LAYER": [i.layer for i in issues],
            "KEY": [i.key for i in issues],
            "RULE": [i.rule for i in issues],
            "SEVERITY": [i.severity for i in issues],
            "MESSAGE": [i.message for i in issues],
        },
        geometry=gpd.GeoSeries([i.geometry for i in issues], crs=crs),
        crs=crs,
    )
