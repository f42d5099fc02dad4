"""The 16-digit component code (部件标识码, OBJCODE) and the class codes inside it.

Layout (GB/T 30428.2, formerly CJ/T 214-2007): six-digit GB/T 2260 county code, two-digit
major class, two-digit minor class, six-digit serial 000001-999999. For example
3205820102048188 is county 320582 (Zhangjiagang), 01 公用设施, 02 污水井盖, serial 048188.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridkit.codes.admin import CodeError, _clean, parse_county_code
from gridkit.codes.catalog import Catalog

SERIAL_DIGITS = 6
MAX_SERIAL = 10**SERIAL_DIGITS - 1


@dataclass(frozen=True)
class ClassCode:
    """A four-digit class code: major + minor (components and events share the layout)."""

    major: str
    minor: str

    @property
    def code(self) -> str:
        return self.major + self.minor


@dataclass(frozen=True)
class ComponentCode:
    county: str
    major: str
    minor: str
    serial: str  # six digits, kept as text

    @property
    def code(self) -> str:
        return self.county + self.major + self.minor + self.serial

    @property
    def class_code(self) -> str:
        return self.major + self.minor


def _digits(text: str, n: int, what: str) -> None:
    if not text:
        raise CodeError(f"empty {what}")
    if not text.isascii() or not text.isdigit():
        raise CodeError(f"{what} {text!r} has characters other than digits")
    if len(text) != n:
        raise CodeError(f"{what} {text!r} has {len(text)} digits, needs {n}")


def parse_class_code(code: object, catalog: Catalog | None = None) -> ClassCode:
    """A four-digit class code; with ``catalog`` the class must be one of its minor classes."""
    text = _clean(code)
    what = f"{catalog.kind} class code" if catalog else "class code"
    _digits(text, 4, what)
    major, minor = text[:2], text[2:]
    if major == "00" or minor == "00":
        raise CodeError(f"{what} {text!r}: major and minor class start at 01")
    if catalog is not None:
        _check_in_catalog(text, catalog, what)
    return ClassCode(major, minor)


def _check_in_catalog(code: str, catalog: Catalog, what: str) -> None:
    if code[:2] not in catalog:
        raise CodeError(f"{what} {code!r}: major class {code[:2]} is not in {catalog.describe()}")
    if code not in catalog:
        major = catalog[code[:2]].name
        raise CodeError(
            f"{what} {code!r}: minor class {code[2:]} of {code[:2]} {major} is not in "
            f"{catalog.describe()}"
        )


def parse_component_code(code: object, catalog: Catalog | None = None) -> ComponentCode:
    """Parse a 16-digit component code; with ``catalog`` its class must be in it."""
    text = _clean(code)
    _digits(text, 16, "component code")
    try:
        county = parse_county_code(text[:6])
    except CodeError as exc:
        raise CodeError(f"component code {text!r}: {exc}") from None
    major, minor, serial = text[6:8], text[8:10], text[10:]
    if major == "00" or minor == "00":
        raise CodeError(f"component code {text!r}: class {major}{minor} is not a class code")
    if catalog is not None:
        _check_in_catalog(major + minor, catalog, f"component code {text!r}: class")
    if serial == "0" * SERIAL_DIGITS:
        raise CodeError(f"component code {text!r}: serial 000000 is not allowed")
    return ComponentCode(county, major, minor, serial)


def component_code_problem(code: object, catalog: Catalog | None = None) -> str | None:
    """Why ``code`` is not a valid component code, or None when it is."""
    try:
        parse_component_code(code, catalog)
    except CodeError as exc:
        return str(exc)
    return None


def make_component_code(
    county: str, major: str, minor: str, serial: int, catalog: Catalog | None = None
) -> str:
    """The 16-digit component code; refuses to build an invalid one."""
    if not 1 <= serial <= MAX_SERIAL:
        raise CodeError(f"component serial {serial} is outside 000001-{MAX_SERIAL}")
    text = f"{_clean(county)}{_clean(major):0>2}{_clean(minor):0>2}{serial:06d}"
    parse_component_code(text, catalog)
    return text


def parse_event_code(code: object, catalog: Catalog | None = None) -> ClassCode:
    """An event class code (EVTCODE): four digits, major + minor, as in the component classes."""
    return parse_class_code(code, catalog)


def event_code_problem(code: object, catalog: Catalog | None = None) -> str | None:
    try:
        parse_event_code(code, catalog)
    except CodeError as exc:
        return str(exc)
    return None


def make_event_code(major: str | int, minor: str | int, catalog: Catalog | None = None) -> str:
    text = f"{int(major):02d}{int(minor):02d}"
    parse_event_code(text, catalog)
    return text
