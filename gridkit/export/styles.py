"""How each layer should look when QGIS opens the export: what to draw, in which colours.

Grids are outlined (community boundaries heavier than unit grids), responsibility grids are
filled by density class, components and events are categorised by major class with the
catalog's names, QA issues by severity, spot-checked grids by verdict. An incremental export
colours every tracked layer by CHANGE instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow.compute as pc

from gridkit.codes import national_catalog
from gridkit.export.delta import CHANGE
from gridkit.export.fields import layer_text
from gridkit.export.layer import Layer

# Colour-blind-safe qualitative colours (ColorBrewer Set2/Dark2) for class categories.
PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
           "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#ffff99")
GREY = "#808080"


@dataclass(frozen=True)
class Category:
    """One class of a categorised style: a value, its label and colour.

    Attributes
    ----------
    value : str
        The field value.
    label : str
        The legend label.
    color : str
        ``#rrggbb``.
    """

    value: str
    label: str
    color: str


@dataclass(frozen=True)
class Style:
    """The default style of a layer, written as QML and SLD.

    Attributes
    ----------
    layer : str
        The layer.
    title : str
        Its title.
    family : {"point", "line", "polygon"}
        What it draws.
    color : str
        Fill (polygons, markers) or line colour of the single symbol, ``#rrggbb``.
    field : str, optional
        Categorised by this field, else one symbol.
    categories : tuple of Category
        The categories.
    fill : bool
        Polygons: False draws the outline only.
    """

    layer: str
    title: str
    family: str  # point, line or polygon
    color: str  # fill (polygons, markers) or line colour of the single symbol
    field: str | None = None  # categorised by this field, else one symbol
    categories: tuple[Category, ...] = ()
    fill: bool = True  # polygons: False draws the outline only
    fill_opacity: float = 1.0
    stroke: str = "#232323"
    width: float = 0.26  # outline or line width, mm
    size: float = 2.0  # marker size, mm
    marker: str = "circle"


def style_for(layer: Layer, incremental: bool = False) -> Style | None:
    """The style of ``layer``, or None when it has nothing to draw."""
    family = layer.main_family()
    if not layer.spatial or family is None:
        return None
    title = layer_text(layer.name).title
    base = {"layer": layer.name, "title": title, "family": family}
    if incremental and CHANGE in layer.fields:
        return Style(**base, color=GREY, field=CHANGE, fill_opacity=0.5, width=0.4,
                     categories=(Category("new", "新增 new", "#1a9641"),
                                 Category("changed", "变更 changed", "#fdae61"),
                                 Category("retired", "注销 retired", "#d7191c")))
    maker = _MAKERS.get(layer.name)
    return maker(layer, base) if maker else Style(**base, color=GREY, fill_opacity=0.4)


def _community(layer: Layer, base: dict) -> Style:
    return Style(**base, color="#000000", fill=False, stroke="#4d4d4d", width=0.6)


def _unit_grid(layer: Layer, base: dict) -> Style:
    return Style(**base, color="#000000", fill=False, stroke="#8c8c8c", width=0.2)


def _responsibility_grid(layer: Layer, base: dict) -> Style:
    return Style(**base, color=GREY, field="DENSITY", fill_opacity=0.45, stroke="#3d3d3d",
                 width=0.5, categories=(
                     Category("dense", "密集区 dense（10–16 个单元网格）", "#e6550d"),
                     Category("sparse", "一般区 sparse（20–30 个单元网格）", "#74c476")))


def _by_major(kind: str, marker: str):
    def make(layer: Layer, base: dict) -> Style:
        catalog = national_catalog(kind)
        names = {entry.code: entry.name for entry in catalog.majors()}
        present = set()
        if "MAJOR" in layer.fields:
            present = {v for v in pc.unique(layer.table.column("MAJOR")).to_pylist() if v}
        codes = sorted(set(names) | {str(v) for v in present})
        categories = tuple(Category(code, f"{code} {names.get(code, '本地扩展类')}",
                                    PALETTE[i % len(PALETTE)])
                           for i, code in enumerate(codes))
        return Style(**base, color=GREY, field="MAJOR", categories=categories, size=2.2,
                     marker=marker, width=0.5)
    return make


def _qa_issue(layer: Layer, base: dict) -> Style:
    return Style(**base, color=GREY, field="SEVERITY", fill_opacity=0.5, width=0.5,
                 categories=(Category("error", "错误 error", "#d7191c"),
                             Category("warning", "警告 warning", "#fdae61")))


def _spotcheck_result(layer: Layer, base: dict) -> Style:
    return Style(**base, color=GREY, field="VERDICT", fill_opacity=0.5, width=0.4,
                 categories=(Category("pass", "合格 pass", "#1a9641"),
                             Category("fail", "不合格 fail", "#d7191c")))


def _spotcheck_rework(layer: Layer, base: dict) -> Style:
    return Style(**base, color="#d7191c", marker="cross2", size=3.0)


_MAKERS = {
    "community": _community,
    "unit_grid": _unit_grid,
    "responsibility_grid": _responsibility_grid,
    "component": _by_major("component", "circle"),
    "event": _by_major("event", "triangle"),
    "qa_issue": _qa_issue,
    "spotcheck_result": _spotcheck_result,
    "spotcheck_rework": _spotcheck_rework,
}
