"""Unit grid partition (单元网格划分).

In memory, :func:`partition` (communities and barriers in, a :class:`Partition` with ``.qa``
and ``.figures`` out); from files to a GeoPackage, :func:`partition_geopackage` with
:class:`PartitionOptions` (what ``gridkit partition`` runs).
"""

from gridkit.partition.api import PartitionOptions, partition_geopackage
from gridkit.partition.engine import Partition, partition, unit_grids

__all__ = ["Partition", "PartitionOptions", "partition", "partition_geopackage", "unit_grids"]
