"""Administrative, unit grid, component and event codes (GB/T 2260, GB/T 10114, GB/T 30428)."""

from gridkit.codes.admin import (
    CodeError,
    CommunityCode,
    community_code_problem,
    make_bgid,
    parse_bgid,
    parse_community_code,
)

__all__ = [
    "CodeError",
    "CommunityCode",
    "community_code_problem",
    "make_bgid",
    "parse_bgid",
    "parse_community_code",
]
