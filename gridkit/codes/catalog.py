"""Class catalogs: the national component and event classes, and local ones built like them.

A catalog holds major classes (two-digit codes) and minor classes (four digits: major + minor).
The national catalogs ship as CSV in ``data/``; ``catalogs.toml`` beside them says where each
value comes from and how sure it is.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Literal

from gridkit.codes.normalize import normalize_name

if TYPE_CHECKING:
    from gridkit.codes.matcher import ClassMatcher

Kind = Literal["component", "event"]
KINDS: tuple[Kind, ...] = ("component", "event")
GEOMETRIES = ("point", "line", "polygon")


@dataclass(frozen=True)
class ClassEntry:
    """One major (two-digit) or minor (four-digit) class of a component or event catalog.

    Attributes
    ----------
    code : str
        ``"01"`` for a major class (大类), ``"0102"`` for a minor class (小类).
    name : str
        The Chinese class name as the standard writes it (污水井盖).
    name_en : str
        English name, when the catalog gives one.
    geometry : str
        ``point``, ``line`` or ``polygon`` (how a census surveys the class), or ``""``.
    geometry_basis : str
        Where the geometry kind comes from (the standard or a local practice).
    status : str
        The class's status in the edition followed (e.g. retired), or ``""``.
    source : str
        The standard or document the class comes from (GB/T 30428.2, a local catalog file).
    edition : str
        The edition of that source.
    note : str
        Free text: local spellings, padded codes, doubts.

    Examples
    --------
    >>> entry = national_catalog("component")["0102"]
    >>> entry.major, entry.minor, entry.name, entry.is_major
    ('01', '02', '污水井盖', False)
    """

    code: str
    name: str
    name_en: str = ""
    geometry: str = ""
    geometry_basis: str = ""
    status: str = ""
    source: str = ""
    edition: str = ""
    note: str = ""

    @property
    def major(self) -> str:
        """The two-digit major class."""
        return self.code[:2]

    @property
    def minor(self) -> str:
        """The two-digit minor class ("" for a major class)."""
        return self.code[2:4]

    @property
    def is_major(self) -> bool:
        """Whether this is a major class (two-digit code)."""
        return len(self.code) == 2

    def as_dict(self) -> dict[str, str]:
        """The entry as a plain dict (for JSON output)."""
        return asdict(self)


class Catalog:
    """One kind of classes (components or events), looked up by code or by name.

    A national catalog (:func:`national_catalog`, GB/T 30428.2 components or the event
    classes) or a local one (:func:`load_catalog`); ``code in catalog`` and
    ``catalog[code]`` work by class code, names go through :attr:`matcher`.

    Parameters
    ----------
    kind : {"component", "event"}
        What the classes classify.
    entries : iterable of ClassEntry
        The major and minor classes.
    aliases : mapping of str to str, optional
        Local spelling → four-digit class code (compared after :func:`normalize_name`);
        aliases of codes the catalog lacks are dropped.
    title : str, optional
        How messages name the catalog.
    origin : str, optional
        Where it came from (a file path or the standard).

    Examples
    --------
    >>> catalog = Catalog("component", [ClassEntry("01", "公用设施"),
    ...                                 ClassEntry("0102", "污水井盖")], title="mine")
    >>> "0102" in catalog, catalog.name_of("0102"), [e.code for e in catalog.minors("01")]
    (True, '污水井盖', ['0102'])
    """

    def __init__(
        self,
        kind: Kind,
        entries: Iterable[ClassEntry],
        *,
        aliases: Mapping[str, str] | None = None,
        title: str = "",
        origin: str = "",
    ) -> None:
        self.kind = kind
        self.title = title
        self.origin = origin
        self._entries = {entry.code: entry for entry in entries}
        # Names are compared through their normalised key, so a name is "reused" when two
        # classes normalise alike, not only when they are byte-equal.
        self.name_index = {normalize_name(e.name): e.code for e in self._entries.values()}
        self.aliases = {
            normalize_name(alias): code
            for alias, code in (aliases or {}).items()
            if code in self._entries
        }

    def __contains__(self, code: object) -> bool:
        return code in self._entries

    def __getitem__(self, code: str) -> ClassEntry:
        return self._entries[code]

    def __iter__(self) -> Iterator[ClassEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, code: str) -> ClassEntry | None:
        """The entry of ``code``, or None."""
        return self._entries.get(code)

    def majors(self) -> list[ClassEntry]:
        """The major classes, in catalog order."""
        return [e for e in self._entries.values() if e.is_major]

    def minors(self, major: str | None = None) -> list[ClassEntry]:
        """The minor classes, all or those of one ``major`` class."""
        return [
            e
            for e in self._entries.values()
            if not e.is_major and (major is None or e.major == major)
        ]

    def name_of(self, code: str) -> str | None:
        """The name of class ``code``, or None when the catalog lacks it."""
        entry = self._entries.get(code)
        return entry.name if entry else None

    def describe(self) -> str:
        """How messages name the catalog: its title, else its kind and origin."""
        return self.title or f"{self.kind} catalog {self.origin}".strip()

    def extended(self, other: Catalog) -> Catalog:
        """A catalog of these classes and ``other``'s (``other`` adds the codes this one lacks)."""
        aliases = {**self.aliases, **other.aliases}
        return Catalog(
            self.kind,
            [*self._entries.values(), *(e for e in other if e.code not in self._entries)],
            aliases=aliases,
            title=f"{self.describe()} + {other.describe()}",
            origin=other.origin,
        )

    @cached_property
    def matcher(self) -> ClassMatcher:
        """The :class:`ClassMatcher` over this catalog's minor classes, made once."""
        from gridkit.codes.matcher import ClassMatcher

        return ClassMatcher(self)


def _data(name: str) -> str:
    return files("gridkit.codes").joinpath(f"data/{name}").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def catalog_manifest() -> dict:
    """``data/catalogs.toml``: provenance of the shipped catalogs."""
    return tomllib.loads(_data("catalogs.toml"))


@lru_cache(maxsize=1)
def _aliases() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
    for row in csv.DictReader(io.StringIO(_data("aliases.csv"))):
        table[row["kind"]][row["alias"]] = row["code"]
    return table


_NOTE_SPELLING = re.compile(r"(?:calls|spells) it ([^;,.\s]+)")


def _derived_aliases(entries: list[ClassEntry]) -> dict[str, str]:
    """Spellings the catalog itself documents, as aliases.

    The local names its notes cite (``S3 calls it 自动售货亭``), and a cover's shaft (雨水井 for
    雨水井盖, as 污水井 for 污水井盖: survey teams name the manhole, not its cover).
    """
    derived: dict[str, str] = {}
    for entry in entries:
        if len(entry.code) != 4:
            continue
        for spelling in _NOTE_SPELLING.findall(entry.note or ""):
            derived[spelling] = entry.code
        if entry.name.endswith("井盖") and len(entry.name) > 2:
            derived[entry.name[:-1]] = entry.code
    return derived


@lru_cache(maxsize=2)
def national_catalog(kind: Kind = "component") -> Catalog:
    """The shipped national catalog of ``kind`` (see ``data/catalogs.toml`` for its sources).

    Components follow GB/T 30428.2 (formerly CJ/T 214-2007); events the national event classes
    of the same series. The catalog is read once per process.

    Parameters
    ----------
    kind : {"component", "event"}
        Which catalog.

    Returns
    -------
    Catalog
        Its major and minor classes, with the aliases the catalog notes document.

    Raises
    ------
    ValueError
        For another ``kind``.

    Examples
    --------
    >>> components = national_catalog("component")
    >>> components.name_of("01"), components.name_of("0102")
    ('公用设施', '污水井盖')
    """
    if kind not in KINDS:
        raise ValueError(f"catalog kind must be one of {KINDS}, not {kind!r}")
    meta = catalog_manifest()["catalog"][kind]
    rows = csv.DictReader(io.StringIO(_data(meta["file"])))
    entries = [
        ClassEntry(
            code=row["code"],
            name=row["name_zh"],
            name_en=row["name_en"],
            geometry=row["geometry"],
            geometry_basis=row["geometry_basis"],
            status=row["status"],
            source=row["source"],
            edition=row["edition"],
            note=row["note"],
        )
        for row in rows
    ]
    return Catalog(
        kind,
        entries,
        aliases={**_derived_aliases(entries), **_aliases()[kind]},
        title=f"the national {kind} catalog ({meta['standard']})",
        origin="national",
    )


@lru_cache(maxsize=1)
def province_names() -> dict[str, str]:
    """GB/T 2260 province-level codes to Chinese names."""
    rows = csv.DictReader(io.StringIO(_data("provinces.csv")))
    return {row["code"]: row["name_zh"] for row in rows}
