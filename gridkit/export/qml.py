"""A :class:`~gridkit.export.styles.Style` as a QGIS style document (QML) with Chinese aliases.

Symbol properties are written both as ``<Option type="Map">`` (QGIS 3.26 and later) and as
``<prop>`` elements (what QGIS 3.0–3.24 read), so every QGIS 3 opens the style.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gridkit.export.styles import Category, Style

QGIS_VERSION = "3.28.0-Firenze"
_SYMBOL_TYPE = {"point": "marker", "line": "line", "polygon": "fill"}


def qml(style: Style | None, aliases: dict[str, str]) -> str:
    """The style document; with no ``style`` (an attribute table) only the aliases."""
    categories = "Symbology|Fields" if style is not None else "Fields"
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories=categories)
    if style is None:
        _aliases(root, aliases)
        return _document(root)
    if style.field:
        renderer = ET.SubElement(root, "renderer-v2", type="categorizedSymbol",
                                 attr=style.field, **_renderer_flags())
        categories = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        everything = (*style.categories, Category("", "其他 other", style.color))
        for number, category in enumerate(everything):
            # The empty value is QGIS's "all other values" category.
            ET.SubElement(categories, "category", symbol=str(number), value=category.value,
                          label=category.label, render="true", type="string")
            symbols.append(_symbol(style, category.color, str(number)))
        source = ET.SubElement(renderer, "source-symbol")
        source.append(_symbol(style, style.color, "0"))
    else:
        renderer = ET.SubElement(root, "renderer-v2", type="singleSymbol", **_renderer_flags())
        symbols = ET.SubElement(renderer, "symbols")
        symbols.append(_symbol(style, style.color, "0"))
    _aliases(root, aliases)
    ET.SubElement(root, "layerGeometryType").text = {"point": "0", "line": "1",
                                                     "polygon": "2"}[style.family]
    return _document(root)


def _aliases(root: ET.Element, aliases: dict[str, str]) -> None:
    names = ET.SubElement(root, "aliases")
    for index, (field, alias) in enumerate(aliases.items()):
        ET.SubElement(names, "alias", field=field, index=str(index), name=alias)


def _document(root: ET.Element) -> str:
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def _renderer_flags() -> dict[str, str]:
    return {"symbollevels": "0", "enableorderby": "0", "forceraster": "0",
            "referencescale": "-1"}


def _symbol(style: Style, color: str, name: str) -> ET.Element:
    symbol = ET.Element("symbol", type=_SYMBOL_TYPE[style.family], name=name, alpha="1",
                        clip_to_extent="1", force_rhr="0")
    layer_class, options = _symbol_layer(style, color)
    layer = ET.SubElement(symbol, "layer", {"class": layer_class, "enabled": "1",
                                            "locked": "0", "pass": "0"})
    option_map = ET.SubElement(layer, "Option", type="Map")
    for key, value in options.items():
        ET.SubElement(option_map, "Option", type="QString", name=key, value=value)
    for key, value in options.items():
        ET.SubElement(layer, "prop", k=key, v=value)
    return symbol


def _symbol_layer(style: Style, color: str) -> tuple[str, dict[str, str]]:
    if style.family == "polygon":
        fill = _rgba(color, style.fill_opacity if style.fill else 0.0)
        return "SimpleFill", {
            "color": fill, "style": "solid" if style.fill else "no",
            "outline_color": _rgba(style.stroke if not style.field else _darker(color)),
            "outline_style": "solid", "outline_width": f"{style.width:g}",
            "outline_width_unit": "MM", "joinstyle": "bevel", "offset": "0,0",
            "offset_unit": "MM"}
    if style.family == "line":
        return "SimpleLine", {
            "line_color": _rgba(color), "line_style": "solid",
            "line_width": f"{max(style.width, 0.4):g}", "line_width_unit": "MM",
            "capstyle": "round", "joinstyle": "round", "offset": "0", "offset_unit": "MM"}
    return "SimpleMarker", {
        "name": style.marker, "color": _rgba(color), "outline_color": _rgba("#232323"),
        "outline_style": "solid", "outline_width": "0.2", "outline_width_unit": "MM",
        "size": f"{style.size:g}", "size_unit": "MM", "angle": "0", "offset": "0,0",
        "offset_unit": "MM", "scale_method": "diameter"}


def _rgba(color: str, opacity: float = 1.0) -> str:
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"{red},{green},{blue},{round(opacity * 255)}"


def _darker(color: str) -> str:
    red, green, blue = (int(int(color[i:i + 2], 16) * 0.6) for i in (1, 3, 5))
    return f"#{red:02x}{green:02x}{blue:02x}"
