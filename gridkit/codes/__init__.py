"""Administrative, unit grid, component and event codes (GB/T 2260, GB/T 10114, GB/T 30428).

See ``gridkit/codes/README.md`` for the standard editions followed and what is uncertain.
"""

from gridkit.codes.admin import (
    CodeError,
    CommunityCode,
    community_code_problem,
    make_bgid,
    parse_bgid,
    parse_community_code,
    parse_county_code,
    parse_street_code,
)
from gridkit.codes.catalog import Catalog, ClassEntry, national_catalog
from gridkit.codes.check import CheckReport, check_file, check_table
from gridkit.codes.component import (
    ClassCode,
    ComponentCode,
    component_code_problem,
    event_code_problem,
    make_component_code,
    make_event_code,
    parse_class_code,
    parse_component_code,
    parse_event_code,
)
from gridkit.codes.explain import Explanation, explain_code
from gridkit.codes.local import CatalogError, load_catalog
from gridkit.codes.matcher import ClassMatcher, Match, NoMatch, UnknownClass, match_class
from gridkit.codes.normalize import normalize_name
from gridkit.codes.serials import Allocation, Conflict, allocate_serials

__all__ = [
    "Allocation",
    "Catalog",
    "CatalogError",
    "CheckReport",
    "ClassCode",
    "ClassEntry",
    "ClassMatcher",
    "CodeError",
    "CommunityCode",
    "ComponentCode",
    "Conflict",
    "Explanation",
    "Match",
    "NoMatch",
    "UnknownClass",
    "allocate_serials",
    "check_file",
    "check_table",
    "community_code_problem",
    "component_code_problem",
    "event_code_problem",
    "explain_code",
    "load_catalog",
    "make_bgid",
    "make_component_code",
    "make_event_code",
    "match_class",
    "national_catalog",
    "normalize_name",
    "parse_bgid",
    "parse_class_code",
    "parse_community_code",
    "parse_component_code",
    "parse_county_code",
    "parse_event_code",
    "parse_street_code",
]
