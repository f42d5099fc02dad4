"""Events (事件): import of event records, located by territory (事件按属地).

In memory, :func:`import_events`; on a GeoPackage, :func:`import_events_geopackage` with
:class:`EventImportOptions` (what ``gridkit events import`` runs).
"""

from gridkit.events.api import EventImportOptions, import_events_geopackage
from gridkit.events.importer import EventOptions, import_events

__all__ = ["EventImportOptions", "EventOptions", "import_events", "import_events_geopackage"]
