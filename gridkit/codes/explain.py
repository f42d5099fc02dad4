"""Explain any code gridkit writes: its kind (from length and shape), parts and faults."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from gridkit.codes.admin import (
    STREET_KINDS,
    CodeError,
    _clean,
    county_name_note,
    parse_bgid,
    parse_community_code,
    parse_county_code,
    parse_street_code,
)
from gridkit.codes.catalog import Catalog, national_catalog, province_names
from gridkit.codes.component import parse_class_code, parse_component_code

# Length of the digits → what gridkit calls a code of that length.
KIND_BY_LENGTH = {
    2: "major class",
    4: "class",
    6: "county",
    9: "street",
    12: "community",
    15: "unit grid",
    16: "component",
}
_SEPARATORS = re.compile(r"[\s\-_.·/]")


@dataclass
class Explanation:
    """What a code is, part by part, and what is wrong with it (``gridkit codes explain``).

    Attributes
    ----------
    input : str
        The text as given.
    code : str
        The digits after separators (spaces, dashes, dots) were removed.
    kind : str
        What the length says it is: major class, class, county, street, community, unit grid
        or component.
    valid : bool
        Whether every part is valid.
    parts : list of dict
        One ``{"part", "value", "meaning"}`` per part, in order.
    problems : list of str
        What is wrong, one line each.
    notes : list of str
        Remarks that are not faults (e.g. a city standing as a county).

    Examples
    --------
    >>> explanation = explain_code("310116-001-001")
    >>> explanation.kind, explanation.valid, [p["value"] for p in explanation.parts]
    ('community', True, ['310116', '001', '001'])
    """

    input: str
    code: str
    kind: str
    valid: bool = True
    parts: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def part(self, name: str, value: str, meaning: str) -> None:
        """Add one part: its name, digits and meaning."""
        self.parts.append({"part": name, "value": value, "meaning": meaning})

    def fail(self, problem: str) -> None:
        """Mark the code invalid for ``problem``."""
        self.valid = False
        self.problems.append(problem)

    def as_dict(self) -> dict:
        """The explanation as a plain dict (``--json``)."""
        return asdict(self)


def _county_meaning(county: str) -> str:
    province = province_names().get(county[:2], "unknown province")
    note = county_name_note(county)
    if note:
        return f"{note}, in {province} ({county[:2]})"
    return f"GB/T 2260 county in {province} ({county[:2]})"


def _explain_county(ex: Explanation, county: str) -> None:
    ex.part("county", county, _county_meaning(county))


def _explain_street(ex: Explanation, street: str) -> None:
    kind = STREET_KINDS.get(street[0], "unknown kind")
    ex.part("street", street, f"GB/T 10114 street/town code, first digit {street[0]} = {kind}")


def _explain_committee(ex: Explanation, committee: str) -> None:
    n = int(committee)
    kind = "residents'" if n < 200 else "villagers'" if n < 400 else "similar"
    ex.part("committee", committee, f"{kind} committee (居/村委会)")


def _explain_class(ex: Explanation, code: str, catalogs: list[Catalog], *, strict: bool) -> None:
    """Parts of a two- or four-digit class code, read against every catalog given."""
    known = False
    for catalog in catalogs:
        major = catalog.get(code[:2])
        minor = catalog.get(code) if len(code) == 4 else None
        label = catalog.kind
        if major:
            ex.part(f"{label} major", code[:2], major.name + (f" ({major.name_en})"
                                                              if major.name_en else ""))
        if minor:
            text = minor.name + (f" ({minor.name_en})" if minor.name_en else "")
            if minor.status and minor.status != "established":
                text += f" [{minor.status}]"
            ex.part(f"{label} minor", code[2:], text)
        if (len(code) == 2 and major) or minor:
            known = True
    if not known:
        where = " or ".join(c.describe() for c in catalogs)
        if strict:
            ex.fail(f"class {code} is not in {where}")
        else:
            ex.notes.append(f"class {code} is not in {where}")


def explain_code(
    code: object,
    *,
    components: Catalog | None = None,
    events: Catalog | None = None,
) -> Explanation:
    """What ``code`` is and whether it is valid; the kind is told by its length.

    Parameters
    ----------
    code : object
        Any code gridkit writes or reads: 2/4-digit classes, 6-digit county, 9-digit street/town,
        12-digit community, 15-digit unit grid (BGID), 16-digit component (OBJCODE); spaces,
        dashes and dots between the parts are ignored.
    components : Catalog, optional
        The component classes to check a class against (default: the national catalog).
    events : Catalog, optional
        The event classes (default: the national catalog).

    Returns
    -------
    Explanation
        Kind, parts with their meaning, and problems.

    Examples
    --------
    >>> explanation = explain_code("3205820102048188")
    >>> explanation.kind, explanation.valid
    ('component', True)
    >>> explain_code("1234567").valid
    False
    """
    raw = "" if code is None else str(code)
    components = components or national_catalog("component")
    events = events or national_catalog("event")
    text = _clean(raw)
    squeezed = _SEPARATORS.sub("", text)
    ex = Explanation(raw, squeezed, KIND_BY_LENGTH.get(len(squeezed), "unknown"))
    if not squeezed:
        ex.fail("empty code")
        return ex
    if squeezed != text:
        ex.notes.append(f"written with separators; the code is {squeezed}")
    if not squeezed.isascii() or not squeezed.isdigit():
        bad = "".join(sorted({ch for ch in squeezed if not (ch.isascii() and ch.isdigit())}))
        ex.fail(f"has characters other than digits: {bad!r}")
        return ex
    if ex.kind == "unknown":
        lengths = ", ".join(f"{n} ({kind})" for n, kind in KIND_BY_LENGTH.items())
        ex.fail(f"{len(squeezed)} digits: gridkit codes have {lengths} digits")
        return ex
    try:
        _explain_kind(ex, squeezed, components, events)
    except CodeError as exc:
        ex.fail(str(exc))
    return ex


def _explain_kind(ex: Explanation, code: str, components: Catalog, events: Catalog) -> None:
    if ex.kind in ("major class", "class"):
        if ex.kind == "class":
            parse_class_code(code)
        _explain_class(ex, code, [components, events], strict=True)
    elif ex.kind == "county":
        _explain_county(ex, parse_county_code(code))
    elif ex.kind == "street":
        county, street = parse_street_code(code)
        _explain_county(ex, county)
        _explain_street(ex, street)
    elif ex.kind == "community":
        community = parse_community_code(code)
        _explain_county(ex, community.county)
        _explain_street(ex, community.street)
        _explain_committee(ex, community.committee)
    elif ex.kind == "unit grid":
        community, serial = parse_bgid(code)
        _explain_county(ex, community.county)
        _explain_street(ex, community.street)
        _explain_committee(ex, community.committee)
        ex.part("serial", code[12:], f"unit grid {serial} of community {community.code}")
    elif ex.kind == "component":
        parsed = parse_component_code(code)
        _explain_county(ex, parsed.county)
        _explain_class(ex, parsed.class_code, [components], strict=True)
        ex.part("serial", parsed.serial, f"component {int(parsed.serial)} of class "
                f"{parsed.class_code} in county {parsed.county}")
