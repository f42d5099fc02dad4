"""Chinese titles and descriptions of layers and fields (``data/fields.toml``)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class FieldText:
    """The Chinese title and description of a field or layer (GeoPackage metadata, QGIS aliases).

    Attributes
    ----------
    title : str
        Short title, e.g. ``单元网格编码``.
    description : str
        One sentence, with the standard the field follows.
    """

    title: str
    description: str


@dataclass(frozen=True)
class Constraint:
    """A value list (GeoPackage data column constraint), e.g. OBJSTATE's 完好/破损/丢失/占用.

    Attributes
    ----------
    name : str
        The constraint's name.
    fields : tuple of str
        The fields it applies to.
    values : dict of str to str
        Value → its description.
    """

    name: str
    fields: tuple[str, ...]
    values: dict[str, str]  # value -> its description


@cache
def _data() -> dict:
    return tomllib.loads(files("gridkit.export").joinpath("data/fields.toml").read_text("utf-8"))


def field_text(layer: str, field: str) -> FieldText | None:
    """The title and description of ``field`` in ``layer`` (layer-specific first), or None."""
    data = _data()
    entry = data.get("layers", {}).get(layer, {}).get("fields", {}).get(field) \
        or data["fields"].get(field)
    return FieldText(*entry) if entry else None


def layer_text(layer: str) -> FieldText:
    """The title and description of ``layer`` (its name when unknown)."""
    entry = _data().get("layers", {}).get(layer, {})
    return FieldText(entry.get("title", layer), entry.get("description", ""))


def constraints() -> list[Constraint]:
    """Every value list the export declares."""
    return [Constraint(name, tuple(c["fields"]), dict(c["values"]))
            for name, c in _data().get("constraints", {}).items()]


def constraint_of(field: str) -> Constraint | None:
    """The value list ``field`` takes its values from, or None."""
    return next((c for c in constraints() if field in c.fields), None)


def titles(layer: str, fields: list[str]) -> dict[str, str]:
    """A unique title per field of ``layer`` (the field name where none is known)."""
    seen: set[str] = set()
    result = {}
    for name in fields:
        text = field_text(layer, name)
        title = text.title if text else name
        # gpkg_data_columns wants (table, name) unique: a clash keeps the field name visible.
        if title in seen:
            title = f"{title}（{name}）"
        seen.add(title)
        result[name] = title
    return result
