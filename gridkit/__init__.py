"""gridkit: urban grid management (网格化城市管理).

Library first, command line second: every ``gridkit`` command wraps a function that a
notebook user can call directly, e.g. :func:`gridkit.partition.unit_grids`.
"""

__version__ = "0.1.0"
