"""Component census (部件普查): import survey files into the ``component`` layer and check it.

See ``gridkit/components/README.md`` for the column aliases, the CRS handling (GCJ-02/BD-09 and
their error), the edge rule, the modes, the reject reasons and the check rules.

In memory: :func:`import_census` and :func:`check_components`; on a GeoPackage, what
``gridkit census import``/``check`` run: :func:`import_census_geopackage` with
:class:`CensusImportOptions` and :func:`check_census_geopackage` with
:class:`CensusCheckOptions`.
"""

from gridkit.components.api import (
    CensusCheckOptions,
    CensusImportOptions,
    check_census_geopackage,
    import_census_geopackage,
)
from gridkit.components.check import CensusCheck, CheckOptions, check_components
from gridkit.components.importer import CensusImport, ImportOptions, import_census
from gridkit.components.locate import GridIndex, UnitGrids
from gridkit.records.coords import (
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

__all__ = [
    "CensusCheck",
    "CensusCheckOptions",
    "CensusImport",
    "CensusImportOptions",
    "CheckOptions",
    "GridIndex",
    "ImportOptions",
    "UnitGrids",
    "bd09_to_wgs84",
    "check_census_geopackage",
    "check_components",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "import_census",
    "import_census_geopackage",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]
