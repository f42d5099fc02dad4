"""Hand gridkit's layers to other systems: GeoPackage (styled, with Chinese field
descriptions), Shapefile, GeoJSON, CSV and GeoParquet, in full or as the changes since an
earlier export. See ``gridkit/export/README.md``."""

from gridkit.export.fingerprint import feature_hashes, key_fingerprints
from gridkit.export.handoff import ExportOptions, export, list_runs
from gridkit.export.shpnames import FIXED, shapefile_names
from gridkit.export.source import KEYS

__all__ = ["FIXED", "KEYS", "ExportOptions", "export", "feature_hashes", "key_fingerprints",
           "list_runs", "shapefile_names"]
