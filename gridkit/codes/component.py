"""The 16-digit component code (部件标识码, OBJCODE) and the class codes inside it.

Layout (GB/T 30428.2, formerly CJ/T 214-2007): six-digit GB/T 2260 county code, two-digit
major class, two-digit minor class, six-digit serial 000001-999999. For example
3205820102048188 is county 320582 (Zhangjiagang), 01 公用设施, 02 污水井盖, serial 048188.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridkit.codes.admin import CodeError, _clean, parse_county_code, problem_of
from gridkit.codes.catalog import Catalog

SERIAL_DIGITS = 6
MAX_SERIAL = 10**SERIAL_DIGITS - 1


@dataclass(frozen=True)
class ClassCode:
    """A four-digit class code: major + minor (components and events share the layout).

    Attributes
    ----------
    major : str
        Two-digit major class (大类), 01-99.
    minor : str
        Two-digit minor class (小类) within the major class, 01-99.

    Examples
    --------
    >>> parse_class_code("0102").code
    '0102'
    """

    major: str
    minor: str

    @property
    def code(self) -> str:
        """The four digits, major + minor."""
        return self.major + self.minor


@dataclass(frozen=True)
class ComponentCode:
    """A 16-digit component code (部件标识码, OBJCODE, GB/T 30428.2) split into its parts.

    Attributes
    ----------
    county : str
        Six-digit GB/T 2260 county code.
    major : str
        Two-digit major class (大类).
    minor : str
        Two-digit minor class (小类).
    serial : str
        Six-digit serial 000001-999999, kept as text.

    Examples
    --------
    >>> code = parse_component_code("3205820102048188")
    >>> code.county, code.class_code, code.serial
    ('320582', '0102', '048188')
    """

    county: str
    major: str
    minor: str
    serial: str  # six digits, kept as text

    @property
    def code(self) -> str:
        """The whole 16-digit code."""
        return self.county + self.major + self.minor + self.serial

    @property
    def class_code(self) -> str:
        """The four-digit class code, major + minor."""
        return self.major + self.minor


def _digits(text: str, n: int, what: str) -> None:
    if not text:
        raise CodeError(f"empty {what}")
    if not text.isascii() or not text.isdigit():
        raise CodeError(f"{what} {text!r} has characters other than digits")
    if len(text) != n:
        raise CodeError(f"{what} {text!r} has {len(text)} digits, needs {n}")


def parse_class_code(code: object, catalog: Catalog | None = None) -> ClassCode:
    """Check a four-digit class code, optionally against a catalog.

    Parameters
    ----------
    code : object
        The code as read.
    catalog : Catalog, optional
        When given, the class must be one of its minor classes (e.g. :func:`national_catalog`).

    Returns
    -------
    ClassCode
        The major and minor class.

    Raises
    ------
    CodeError
        When the code is not four digits, a part is 00, or the class is not in ``catalog``.

    Examples
    --------
    >>> from gridkit.codes import national_catalog
    >>> parse_class_code("0102", national_catalog("component"))
    ClassCode(major='01', minor='02')
    """
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
    """Split and check a 16-digit component code (GB/T 30428.2).

    Parameters
    ----------
    code : object
        The code as read; a spreadsheet float ``3205820102048188.0`` is accepted.
    catalog : Catalog, optional
        When given, the code's class must be one of its minor classes.

    Returns
    -------
    ComponentCode
        County, major, minor and serial.

    Raises
    ------
    CodeError
        When the code is not 16 digits, its county is not a GB/T 2260 county code, its class is
        00 or not in ``catalog``, or its serial is 000000.

    Examples
    --------
    >>> parse_component_code("3205820102048188")
    ComponentCode(county='320582', major='01', minor='02', serial='048188')
    """
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
    """Why ``code`` is not a valid component code, or None when it is.

    Parameters
    ----------
    code : object
        The code as read.
    catalog : Catalog, optional
        When given, the code's class must be one of its minor classes.

    Returns
    -------
    str or None
        What :func:`parse_component_code` would raise, as text; None for a valid code.

    Examples
    --------
    >>> component_code_problem("3205820102000000")
    "component code '3205820102000000': serial 000000 is not allowed"
    """
    return problem_of(parse_component_code)(code, catalog)


def make_component_code(
    county: str, major: str, minor: str, serial: int, catalog: Catalog | None = None
) -> str:
    """Build a 16-digit component code; an invalid one is never built.

    Parameters
    ----------
    county : str
        Six-digit GB/T 2260 county code.
    major : str
        Major class, zero-padded to two digits.
    minor : str
        Minor class, zero-padded to two digits.
    serial : int
        Serial 1-999999.
    catalog : Catalog, optional
        When given, the class must be one of its minor classes.

    Returns
    -------
    str
        The code.

    Raises
    ------
    CodeError
        When the serial is outside 000001-999999 or the code does not parse.

    Examples
    --------
    >>> make_component_code("320582", "1", "2", 48188)
    '3205820102048188'
    """
    if not 1 <= serial <= MAX_SERIAL:
        raise CodeError(f"component serial {serial} is outside 000001-{MAX_SERIAL}")
    text = f"{_clean(county)}{_clean(major):0>2}{_clean(minor):0>2}{serial:06d}"
    parse_component_code(text, catalog)
    return text


def parse_event_code(code: object, catalog: Catalog | None = None) -> ClassCode:
    """Check an event class code (EVTCODE): four digits, major + minor, as in the component classes.

    Parameters
    ----------
    code : object
        The code as read.
    catalog : Catalog, optional
        When given, the class must be one of its minor classes (e.g. the national event catalog).

    Returns
    -------
    ClassCode
        EVTCODE's two parts (event major class 01 市容环境, ..., and its minor class).

    Raises
    ------
    CodeError
        As :func:`parse_class_code` (the message says "event class code" with a catalog).

    Examples
    --------
    >>> parse_event_code("0101")
    ClassCode(major='01', minor='01')
    """
    return parse_class_code(code, catalog)


def event_code_problem(code: object, catalog: Catalog | None = None) -> str | None:
    """Why ``code`` is not a valid event class code, or None when it is.

    Parameters
    ----------
    code : object
        The code as read.
    catalog : Catalog, optional
        When given, the class must be one of its minor classes.

    Returns
    -------
    str or None
        None for a valid class code, else why not (a :class:`CodeError` message).

    Examples
    --------
    >>> event_code_problem("0100")
    "class code '0100': major and minor class start at 01"
    """
    return problem_of(parse_event_code)(code, catalog)


def make_event_code(major: str | int, minor: str | int, catalog: Catalog | None = None) -> str:
    """Build a four-digit event class code; an invalid one is never built.

    Parameters
    ----------
    major : str or int
        Major class, 1-99.
    minor : str or int
        Minor class, 1-99.
    catalog : Catalog, optional
        When given, the class must be one of its minor classes.

    Returns
    -------
    str
        The code, zero-padded.

    Raises
    ------
    CodeError
        When a part is 0 or the class is not in ``catalog``.

    Examples
    --------
    >>> make_event_code(1, 2)
    '0102'
    """
    text = f"{int(major):02d}{int(minor):02d}"
    parse_event_code(text, catalog)
    return text
