"""The unit grids a city already has: audit, adopt and adjust them, keeping their codes."""

from gridkit.grids.adopt import adopt_to_geopackage, check_grids, read_inputs
from gridkit.grids.audit import Audit, audit_grids
from gridkit.grids.fields import GridLayer, find_code_field, grid_layer

__all__ = ["Audit", "GridLayer", "adopt_to_geopackage", "audit_grids", "check_grids",
           "find_code_field", "grid_layer", "read_inputs"]
