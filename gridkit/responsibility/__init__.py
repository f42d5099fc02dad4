"""Responsibility grids (责任网格): unit grids grouped by the density rule.

In memory, :func:`group` (unit grids in, a :class:`Grouping` with ``.qa`` and ``.figures``
out); on a GeoPackage, :func:`group_geopackage` with :class:`GroupOptions` (what
``gridkit group`` runs).
"""

from gridkit.responsibility.api import GroupOptions, group_geopackage
from gridkit.responsibility.engine import Grouping, group

__all__ = ["GroupOptions", "Grouping", "group", "group_geopackage"]
