"""What every step returns: its figures and its QA issues."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

from gridkit.qa import QACollector, QAIssue, qa_frame

__all__ = ["StepResult", "empty_qa"]


def empty_qa(crs: Any = None) -> gpd.GeoDataFrame:
    """A ``qa_issue`` frame with no rows.

    Parameters
    ----------
    crs : pyproj.CRS or str, optional
        Its CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns LAYER, KEY, RULE, SEVERITY, MESSAGE and geometry.
    """
    return QACollector().frame(crs)


@dataclass
class StepResult(Mapping):
    """The outcome of one step: the figures ``--json`` prints and the QA issues found.

    A result reads as its figures (``result["unit_grids"]`` is
    ``result.figures["unit_grids"]``), so that code written against the figures dict of
    earlier gridkit versions keeps working.

    Parameters
    ----------
    figures : dict
        The step's figures: counts, shares, paths, seconds; exactly what the command's
        ``--json`` prints.
    qa : geopandas.GeoDataFrame
        The QA issues this step found (columns of the ``qa_issue`` layer: LAYER, KEY, RULE,
        SEVERITY, MESSAGE, geometry in the working CRS).

    Examples
    --------
    >>> result = StepResult({"unit_grids": 12}, empty_qa())
    >>> result["unit_grids"], len(result.qa)
    (12, 0)
    """

    figures: dict
    qa: gpd.GeoDataFrame = field(default_factory=empty_qa, repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.figures[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.figures)

    def __len__(self) -> int:
        return len(self.figures)


class IssuesAsQA:
    """Mixin of the in-memory results that keep their QA issues as a list.

    The result's ``issues`` (a list of :class:`~gridkit.qa.QAIssue`) read as a ``qa_issue``
    frame in the CRS of the frame named by the class attribute ``qa_crs_from``.
    """

    issues: list[QAIssue]
    qa_crs_from = ""

    @property
    def qa(self) -> gpd.GeoDataFrame:
        """The issues as a ``qa_issue`` frame (LAYER, KEY, RULE, SEVERITY, MESSAGE)."""
        return qa_frame(self.issues, getattr(self, self.qa_crs_from).crs)
