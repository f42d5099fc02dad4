"""QA issues: what gridkit found, repaired or refused, written to the ``qa_issue`` layer."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

QA_FIELDS = ["LAYER", "KEY", "RULE", "SEVERITY", "MESSAGE"]


@dataclass
class QAIssue:
    """One quality problem found by a command: a row of the ``qa_issue`` layer.

    Attributes
    ----------
    layer : str
        The layer the feature is in (``unit_grid``, ``component``, ...).
    key : str
        The feature's code (BGID, OBJCODE, community CODE) or id.
    rule : str
        The rule broken (kebab-case id, e.g. ``size-band``).
    severity : {"error", "warning"}
        Errors fail a check; warnings are shown.
    message : str
        What is wrong and the fix, in one line.
    geometry : shapely.Geometry, optional
        Where, in the layer's CRS.

    Examples
    --------
    >>> issue = QAIssue("unit_grid", "310116001001001", "size-band", "warning", "too small")
    >>> qa_frame([issue], 4549)[["KEY", "SEVERITY"]].values.tolist()
    [['310116001001001', 'warning']]
    """

    layer: str
    key: str
    rule: str
    severity: str  # "error" or "warning"
    message: str
    geometry: BaseGeometry | None = field(default=None, repr=False)


def qa_frame(issues: list[QAIssue], crs) -> gpd.GeoDataFrame:
    """The ``qa_issue`` layer of ``issues``: LAYER, KEY, RULE, SEVERITY, MESSAGE and geometry.

    Parameters
    ----------
    issues : list of QAIssue
        The issues.
    crs : pyproj.CRS or int or str
        The CRS of their geometries.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per issue.
    """
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
