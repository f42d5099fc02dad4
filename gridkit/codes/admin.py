"""Community (12-digit) and unit grid (15-digit BGID) codes.

A community code is the GB/T 2260 six-digit county code (for the prefecture-level cities
without counties, 东莞 441900, 中山 442000 and 儋州 460400, the city's own code, as the national
statistical division codes have it), the GB/T 10114 three-digit
street/town code and the three-digit residents'/villagers' committee code, as the national
statistical division codes (统计用区划代码) lay them out:

- street/town digit 1: 0 街道 street, 1 镇 town, 2-3 乡 township, 4-5 similar township-level
  units (development zones, state farms);
- committee 001-199 居委会 residents' committee, 200-399 村委会 villagers' committee,
  400-599 similar units.

A unit grid code (GB/T 30428.1) is the community code followed by a three-digit serial
001-999.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# GB/T 2260 province-level prefixes (first two digits of any county code).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

# Prefecture-level cities that have no districts or counties: the national statistical
# division codes list their towns/streets directly under the city's own code, which so
# stands where a county code does (e.g. 441900003001: 东莞, 东城街道 003, committee 001).
PREFECTURES_AS_COUNTIES = {
    "441900": "东莞市 Dongguan",
    "442000": "中山市 Zhongshan",
    "460400": "儋州市 Danzhou",
}

STREET_KINDS = {
    "0": "street",
    "1": "town",
    "2": "township",
    "3": "township",
    "4": "township-level unit",
    "5": "township-level unit",
}


class CodeError(ValueError):
    """A code that does not parse; the message says which part is wrong.

    A :class:`ValueError`, so callers that catch bad values in general catch it too.

    Examples
    --------
    >>> try:
    ...     parse_county_code("3101")
    ... except CodeError as exc:
    ...     print(exc)
    county code '3101' must be 6 digits
    """


def problem_of(parse: Callable[..., object]) -> Callable[..., str | None]:
    """A parser turned into a check: its :class:`CodeError` message, or None when it parses.

    Parameters
    ----------
    parse : callable
        A code parser that raises :class:`CodeError` (e.g. :func:`parse_county_code`).

    Returns
    -------
    callable
        ``problem(value, *args) -> str | None``; ``args`` go to ``parse`` after the value.

    Examples
    --------
    >>> problem_of(parse_county_code)("3101")
    "county code '3101' must be 6 digits"
    """
    def problem(value: Any, *args: Any) -> str | None:
        try:
            parse(value, *args)
        except CodeError as exc:
            return str(exc)
        return None

    return problem


@dataclass(frozen=True)
class CommunityCode:
    """A 12-digit community (社区/村) code split into its three parts.

    Attributes
    ----------
    county : str
        The six-digit GB/T 2260 county code (or the city's code for 东莞, 中山, 儋州).
    street : str
        The three-digit GB/T 10114 street/town part: first digit 0 街道, 1 镇, 2-3 乡,
        4-5 township-level units.
    committee : str
        The three-digit committee part: 001-199 居委会, 200-399 村委会, 400-599 similar units.

    Examples
    --------
    >>> community = parse_community_code("310116101203")
    >>> community.street_code, community.street_kind, community.committee_kind
    ('310116101', 'town', 'villagers')
    """

    county: str
    street: str  # the 3-digit GB/T 10114 part
    committee: str

    @property
    def code(self) -> str:
        """The whole 12-digit code."""
        return self.county + self.street + self.committee

    @property
    def street_code(self) -> str:
        """The 9-digit street/town code (county + street)."""
        return self.county + self.street

    @property
    def street_kind(self) -> str:
        """What the street/town part is: street, town, township or township-level unit."""
        return STREET_KINDS[self.street[0]]

    @property
    def committee_kind(self) -> str:
        """Whether the committee is a residents', villagers' or similar committee."""
        n = int(self.committee)
        if n < 200:
            return "residents"
        if n < 400:
            return "villagers"
        return "similar"


def _clean(code: object) -> str:
    text = "" if code is None else str(code).strip()
    # Spreadsheets turn codes into floats; "310116001001.0" is still the code a user meant.
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


def parse_community_code(code: object) -> CommunityCode:
    """Split and check a 12-digit community code (统计用区划代码 layout).

    Parameters
    ----------
    code : object
        The code as read: text, an integer, or a spreadsheet float such as
        ``310116001001.0``; surrounding spaces are ignored.

    Returns
    -------
    CommunityCode
        The county, street/town and committee parts.

    Raises
    ------
    CodeError
        When the code is empty, not 12 ASCII digits, or a part is not a valid GB/T 2260 county,
        GB/T 10114 street/town or committee (001-599) code; the message names the part.

    Examples
    --------
    >>> parse_community_code("310116001001")
    CommunityCode(county='310116', street='001', committee='001')
    >>> parse_community_code(310116001001.0).code
    '310116001001'
    """
    text = _clean(code)
    if not text:
        raise CodeError("empty community code")
    if not text.isascii() or not text.isdigit():
        raise CodeError(f"community code {text!r} has characters other than digits")
    if len(text) != 12:
        raise CodeError(f"community code {text!r} has {len(text)} digits, needs 12")
    county, street, committee = text[:6], text[6:9], text[9:]
    problem = _county_problem(county)
    if problem:
        raise CodeError(f"community code {text!r}: {problem}")
    if street == "000" or street[0] not in STREET_KINDS:
        raise CodeError(f"community code {text!r}: {street} is not a GB/T 10114 street/town code")
    if committee == "000" or int(committee) >= 600:
        raise CodeError(f"community code {text!r}: {committee} is not a committee code (001-599)")
    return CommunityCode(county, street, committee)


def community_code_problem(code: object) -> str | None:
    """Why ``code`` is not a valid community code, or None when it is.

    Parameters
    ----------
    code : object
        The code as read (see :func:`parse_community_code`).

    Returns
    -------
    str or None
        The message :func:`parse_community_code` raises with, None when the code is valid.

    Examples
    --------
    >>> community_code_problem("310116001001") is None
    True
    >>> community_code_problem("310116000001")
    "community code '310116000001': 000 is not a GB/T 10114 street/town code"
    """
    try:
        parse_community_code(code)
    except CodeError as exc:
        return str(exc)
    return None


def make_bgid(community: str, serial: int) -> str:
    """The 15-digit unit grid code (BGID, GB/T 30428.1): community code + three-digit serial.

    Parameters
    ----------
    community : str
        A valid 12-digit community code.
    serial : int
        The grid's serial in its community, 1-999.

    Returns
    -------
    str
        The BGID.

    Raises
    ------
    CodeError
        When the community code is invalid or the serial is outside 001-999; an invalid code is
        never built.

    Examples
    --------
    >>> make_bgid("310116001001", 7)
    '310116001001007'
    """
    parse_community_code(community)
    if not 1 <= serial <= 999:
        raise CodeError(f"unit grid serial {serial} is outside 001-999")
    return f"{community}{serial:03d}"


def parse_bgid(code: object) -> tuple[CommunityCode, int]:
    """Split and check a 15-digit unit grid code (BGID, GB/T 30428.1).

    Parameters
    ----------
    code : object
        The code as read; a spreadsheet float such as ``310116001001007.0`` is accepted.

    Returns
    -------
    tuple of (CommunityCode, int)
        The community the grid belongs to and its serial (1-999).

    Raises
    ------
    CodeError
        When the code is not 15 digits, the serial is 000 or the community part is invalid.

    Examples
    --------
    >>> community, serial = parse_bgid("310116001001007")
    >>> community.code, serial
    ('310116001001', 7)
    """
    text = _clean(code)
    if len(text) != 15 or not text.isascii() or not text.isdigit():
        raise CodeError(f"unit grid code {text!r} must be 15 digits")
    serial = int(text[12:])
    if serial == 0:
        raise CodeError(f"unit grid code {text!r}: serial 000 is not allowed")
    return parse_community_code(text[:12]), serial


def parse_county_code(code: object) -> str:
    """The GB/T 2260 six-digit county code, checked for shape and province.

    Province (``xx0000``) and prefecture (``xxxx00``) codes are refused, except the three
    prefecture-level cities without counties (东莞 441900, 中山 442000, 儋州 460400), whose own
    code stands where a county code does.

    Parameters
    ----------
    code : object
        Six digits, as text or as a number (``310116``).

    Returns
    -------
    str
        The six digits.

    Raises
    ------
    CodeError
        When the code is not six digits, its province is not a GB/T 2260 province, or it is a
        province or prefecture code.

    Examples
    --------
    >>> parse_county_code(310116)
    '310116'
    >>> parse_county_code("441900")
    '441900'
    """
    text = _clean(code)
    if len(text) != 6 or not text.isascii() or not text.isdigit():
        raise CodeError(f"county code {text!r} must be 6 digits")
    problem = _county_problem(text)
    if problem:
        raise CodeError(f"county code {text!r}: {problem}")
    return text


def _county_problem(county: str) -> str | None:
    """Why six digits are not a county-level code, or None when they are one."""
    if county[:2] not in PROVINCES:
        return f"{county[:2]} is not a GB/T 2260 province"
    if county[2:] == "0000":
        return f"{county} is a province, not a county"
    if county[4:] == "00" and county not in PREFECTURES_AS_COUNTIES:
        listed = ", ".join(f"{c} {n.split()[0]}" for c, n in PREFECTURES_AS_COUNTIES.items())
        return (f"{county} is a prefecture, not a county (ends in 00; only the cities without "
                f"counties, {listed}, stand as counties)")
    return None


def county_name_note(county: str) -> str | None:
    """For a prefecture-level city standing as a county, what it is; else None.

    Parameters
    ----------
    county : str
        A six-digit county-level code.

    Returns
    -------
    str or None

    Examples
    --------
    >>> county_name_note("441900")
    '东莞市 Dongguan: a prefecture-level city without counties, its code used as the county'
    """
    name = PREFECTURES_AS_COUNTIES.get(county)
    if name is None:
        return None
    return f"{name}: a prefecture-level city without counties, its code used as the county"


def parse_street_code(code: object) -> tuple[str, str]:
    """Split and check a nine-digit street/town code (GB/T 2260 + GB/T 10114).

    Parameters
    ----------
    code : object
        Nine digits as read from a table.

    Returns
    -------
    tuple of (str, str)
        The six-digit county code and the three-digit street/town part.

    Raises
    ------
    CodeError
        When the code is not nine digits, or its county or street/town part is invalid.

    Examples
    --------
    >>> parse_street_code("310116101")
    ('310116', '101')
    """
    text = _clean(code)
    if len(text) != 9 or not text.isascii() or not text.isdigit():
        raise CodeError(f"street code {text!r} must be 9 digits")
    county = parse_county_code(text[:6])
    street = text[6:]
    if street == "000" or street[0] not in STREET_KINDS:
        raise CodeError(f"street code {text!r}: {street} is not a GB/T 10114 street/town code")
    return county, street
