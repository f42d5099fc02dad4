"""A :class:`~gridkit.export.styles.Style` as OGC SLD 1.0 (``styleSLD``).

For GeoServer and other non-QGIS readers of the ``layer_styles`` table.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gridkit.export.styles import Style

SLD = "http://www.opengis.net/sld"
OGC = "http://www.opengis.net/ogc"
_PIXEL_MM = 0.28  # the SLD "standardized rendering pixel"
_MARKS = {"circle": "circle", "triangle": "triangle", "square": "square", "cross2": "x"}


def sld(style: Style) -> str:
    """The SLD 1.0 document of ``style``: one rule per category (or one symbol), as text."""
    ET.register_namespace("", SLD)
    ET.register_namespace("ogc", OGC)
    root = ET.Element(f"{{{SLD}}}StyledLayerDescriptor", version="1.0.0")
    named = _sub(root, "NamedLayer")
    _sub(named, "Name").text = style.layer
    user = _sub(named, "UserStyle")
    _sub(user, "Name").text = style.layer
    _sub(user, "Title").text = style.title
    feature_style = _sub(user, "FeatureTypeStyle")
    if style.field:
        for category in style.categories:
            rule = _rule(feature_style, category.value, category.label)
            condition = ET.SubElement(ET.SubElement(rule, f"{{{OGC}}}Filter"),
                                      f"{{{OGC}}}PropertyIsEqualTo")
            ET.SubElement(condition, f"{{{OGC}}}PropertyName").text = style.field
            ET.SubElement(condition, f"{{{OGC}}}Literal").text = category.value
            rule.append(_symbolizer(style, category.color))
        rule = _rule(feature_style, "other", "其他 other")
        _sub(rule, "ElseFilter")
        rule.append(_symbolizer(style, style.color))
    else:
        rule = _rule(feature_style, style.layer, style.title)
        rule.append(_symbolizer(style, style.color))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _sub(parent: ET.Element, tag: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{SLD}}}{tag}")


def _rule(parent: ET.Element, name: str, title: str) -> ET.Element:
    rule = _sub(parent, "Rule")
    _sub(rule, "Name").text = name
    _sub(rule, "Title").text = title
    return rule


def _css(parent: ET.Element, name: str, value: str) -> None:
    parameter = _sub(parent, "CssParameter")
    parameter.set("name", name)
    parameter.text = value


def _symbolizer(style: Style, color: str) -> ET.Element:
    width = f"{style.width / _PIXEL_MM:.1f}"
    if style.family == "polygon":
        element = ET.Element(f"{{{SLD}}}PolygonSymbolizer")
        if style.fill:
            fill = _sub(element, "Fill")
            _css(fill, "fill", color)
            _css(fill, "fill-opacity", f"{style.fill_opacity:g}")
        stroke = _sub(element, "Stroke")
        _css(stroke, "stroke", style.stroke if not style.field else color)
        _css(stroke, "stroke-width", width)
        return element
    if style.family == "line":
        element = ET.Element(f"{{{SLD}}}LineSymbolizer")
        stroke = _sub(element, "Stroke")
        _css(stroke, "stroke", color)
        _css(stroke, "stroke-width", width)
        return element
    element = ET.Element(f"{{{SLD}}}PointSymbolizer")
    mark = _sub(_sub(element, "Graphic"), "Mark")
    _sub(mark, "WellKnownName").text = _MARKS.get(style.marker, "circle")
    _css(_sub(mark, "Fill"), "fill", color)
    stroke = _sub(mark, "Stroke")
    _css(stroke, "stroke", "#232323")
    _css(stroke, "stroke-width", "0.7")
    _sub(element.find(f"{{{SLD}}}Graphic"), "Size").text = f"{style.size / _PIXEL_MM:.0f}"
    return element
