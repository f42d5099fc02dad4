"""One record importer for components and events, parameterised by a schema.

:mod:`gridkit.sources` reads a table and recognises its columns by the schema's aliases;
:class:`Positioner` reads each row's position (geometry, coordinate columns, ``--crs``
including GCJ-02, BD-09 and Baidu Mercator metres) and locates it in a unit grid;
:class:`Problems` collects each row's reject reasons under the schema's rules. The census
import (:mod:`gridkit.components`) adds codes, classes and attributes; the events import
(:mod:`gridkit.events`) adds class and time.

Examples
--------
>>> from gridkit.records import COMPONENT, EVENT
>>> COMPONENT.reject_layer, EVENT.rules[-1]
('component_reject', 'bad-time')
"""

from gridkit.records.coords import SourceCRS, bd09mc_to_bd09, parse_source_crs, to_target
from gridkit.records.position import Located, Positioner
from gridkit.records.problems import Problems
from gridkit.records.schema import COMPONENT, EVENT, RecordSchema

__all__ = [
    "COMPONENT",
    "EVENT",
    "Located",
    "Positioner",
    "Problems",
    "RecordSchema",
    "SourceCRS",
    "bd09mc_to_bd09",
    "parse_source_crs",
    "to_target",
]
