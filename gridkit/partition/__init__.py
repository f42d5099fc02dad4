"""Unit grid partition (单元网格划分)."""

from gridkit.partition.engine import Partition, partition, unit_grids

__all__ = ["Partition", "partition", "unit_grids"]
