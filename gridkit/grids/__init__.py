"""The unit grids a city already has: audit, adopt and adjust them, keeping their codes.

In memory, :func:`check_grids` (an :class:`Audit` with ``.qa`` and ``.figures``); from files,
:func:`check_grids_file` with :class:`GridsCheckOptions` and :func:`adopt_geopackage` with
:class:`GridsAdoptOptions` (what ``gridkit grids check``/``adopt`` run).
"""

from gridkit.grids.adopt import adopt_to_geopackage, check_grids, read_inputs
from gridkit.grids.api import (
    GridsAdoptOptions,
    GridsCheckOptions,
    adopt_geopackage,
    check_grids_file,
)
from gridkit.grids.audit import Audit, audit_grids
from gridkit.grids.fields import GridLayer, find_code_field, grid_layer

__all__ = ["Audit", "GridLayer", "GridsAdoptOptions", "GridsCheckOptions", "adopt_geopackage",
           "adopt_to_geopackage", "audit_grids", "check_grids", "check_grids_file",
           "find_code_field", "grid_layer", "read_inputs"]
