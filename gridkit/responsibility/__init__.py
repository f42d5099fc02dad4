"""Responsibility grids (责任网格): unit grids grouped by the density rule."""

from gridkit.responsibility.engine import Grouping, group

__all__ = ["Grouping", "group"]
