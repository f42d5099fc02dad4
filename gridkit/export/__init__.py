"""Hand gridkit's layers to other systems.

GeoPackage (styled, with Chinese field descriptions), Shapefile, GeoJSON, CSV and GeoParquet,
in full or as the changes since an earlier export. See ``gridkit/export/README.md``.

:func:`export_geopackage` with :class:`ExportOptions` is what ``gridkit export`` runs;
``export`` is its earlier name, kept for scripts written against it.
"""

from gridkit.export.api import ExportOptions, export_geopackage, export_layers, list_runs
from gridkit.export.fingerprint import feature_hashes, key_fingerprints
from gridkit.export.shpnames import FIXED, shapefile_names
from gridkit.export.source import KEYS

# The earlier name of export_geopackage (gridkit.export.export was also the module's name).
export = export_geopackage

__all__ = ["FIXED", "KEYS", "ExportOptions", "export", "export_geopackage", "export_layers",
           "feature_hashes", "key_fingerprints", "list_runs", "shapefile_names"]
