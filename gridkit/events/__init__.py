"""Events (事件): import of event records, located by territory (事件按属地)."""

from gridkit.events.importer import EventOptions, import_events

__all__ = ["EventOptions", "import_events"]
