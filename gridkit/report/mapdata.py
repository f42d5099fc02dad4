"""The interactive map's data: which layers, in which order and style, with which fields.

Produces the JSON document and binary blob (see :mod:`gridkit.report.encode`) that the page's
script decodes. Layers are listed bottom to top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from gridkit.report import palette
from gridkit.report.data import ReportData
from gridkit.report.encode import (
    SHAPE_STEP,
    Blob,
    encode_column,
    encode_points,
    encode_shapes,
    simplify,
)
from gridkit.report.i18n import map_strings, rule_label, strings

# Fields a point layer always keeps on the map; the others only up to FULL_DETAIL rows, so
# that a million components stay within the page's size budget.
CORE_FIELDS = {
    "component": ("OBJCODE", "OBJNAME", "MAJOR", "MINOR", "BGID", "OBJSTATE", "DEPTNAME1",
                  "DEPTNAME2", "DEPTNAME3", "ORDATE", "CHDATE", "DATASOURCE"),
    "event": ("EVTID", "EVTCODE", "EVTNAME", "MAJOR", "MINOR", "BGID", "STREET", "COMMUNITY",
              "TIME"),
}
FULL_DETAIL = 200_000
# Map labels in the machine's CJK fonts, as the page's CSS (no web fonts offline).
FONT = ('"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC", '
        '"WenQuanYi Micro Hei", sans-serif')
COVERAGES = {"community", "unit_grid", "responsibility_grid", "spotcheck_result"}
# Layers drawn only from near zooms: their data comes after the map's script in the page (the
# map is drawn while the browser still reads them) and is inflated as it arrives. Point layers
# (off when the page opens) come last and are inflated only when first turned on or searched.
NEAR_ZOOM = {"unit_grid", "context_building"}
# The parts of a layer's spec that come with its data (the rest is in the opening document:
# what the layer list, the styles and the search need before the data).
DETAIL = ("geom", "columns", "label", "ratio", "cls")
# The partition's inputs drawn under the grids: water, buildings, roads (bottom to top).
CONTEXT: dict[str, dict[str, Any]] = {
    "context_water": {"fill": {"colour": "#a9d3f5"}, "opacity": 0.8, "stroke": "#6fa8dc",
                      "width": 0.8},
    "context_building": {"fill": {"colour": "#d4cfc9"}, "opacity": 0.9, "stroke": "#b8b0a8",
                         "width": 0.4},
    "context_road": {"stroke": "#b5b5b5", "width": 1.2, "key": "NAME"},
}


@dataclass
class MapData:
    """The map's data as the page embeds it.

    Attributes
    ----------
    header : dict
        The streams (``name``, ``arrays`` and their offsets, ``json`` range, ``eager``), the
        opening one first.
    payloads : list of str
        Base64 of each stream's gzipped binary blob, in the header's order.
    omitted : dict of str to list of str
        Fields left out of the map per layer (too large).
    selftest : dict, optional
        Values the page checks it decoded right.
    """

    header: dict
    payloads: list[str]  # base64 of each stream's gzipped blob
    omitted: dict[str, list[str]] = field(default_factory=dict)
    selftest: dict | None = None


def build_map(data: ReportData, figures: dict, lang: str) -> MapData:
    """Encode the layers for the page's map: grids, responsibility grids, points, QA, spot check."""
    grids = data.unit_grid
    minx, miny, maxx, maxy = grids.total_bounds
    origin = (float(np.floor(minx)), float(np.floor(miny)))
    opening = Blob()
    # A blob of its own for each layer whose data comes after the map's script.
    own: dict[str, Blob] = {}
    words = strings(lang)
    layers, omitted = [], {}

    def shape_layer(name: str, frame: gpd.GeoDataFrame, extra: dict | None = None,
                    **style) -> dict:
        blob = own.setdefault(name, Blob()) if name in NEAR_ZOOM else opening
        geoms = simplify(frame.geometry.to_numpy(), coverage=name in COVERAGES)
        spec = {"id": name, "kind": "shape", "title": words.get(f"layer_{name}", name),
                "n": len(frame),
                "geom": encode_shapes(geoms, origin, blob, name), **style}
        if style.get("labels"):
            # Where names go; other layers find a feature's middle from its geometry.
            spec["label"] = _label_points(frame.geometry.to_numpy(), origin, blob, name)
        columns = [c for c in frame.columns if c != frame.geometry.name]
        spec["columns"], dropped = _columns(frame[columns], extra or {}, blob, name)
        if dropped:
            omitted[name] = dropped
        layers.append(spec)
        return spec

    # What the partition cut along, under everything else.
    for name, style in CONTEXT.items():
        context = data.shapes.get(name)
        if context is not None and not context.empty:
            shape_layer(name, context, visible=True, **style)
    resp = data.shapes.get("responsibility_grid")
    if resp is not None and not resp.empty:
        bands = sorted(resp.get("BAND", pd.Series(dtype=str)).dropna().astype(str).unique())
        density: dict[str, str] = {}
        if "BAND" in resp and "DENSITY" in resp:
            for band, dens in zip(resp["BAND"].astype(str), resp["DENSITY"].astype(str),
                                  strict=True):
                density.setdefault(band, dens)
        shape_layer("responsibility_grid", resp, visible=True, key="RGID",
                    fill={"by": "BAND", "colours": palette.band_colours(bands, density)},
                    stroke="#2f4f6f", width=1.6)
    extra = {}
    if "component" in figures.get("points", {}):
        extra["COMPONENTS"] = figures["points"]["component"]["per_grid"]
    if "event" in figures.get("points", {}):
        extra["EVENTS"] = figures["points"]["event"]["per_grid"]
    unit = shape_layer("unit_grid", grids, extra, visible=True, key="BGID",
                       stroke="#6b7b8c", width=0.6, lod=True)
    ratio = np.nan_to_num(figures["unit_areas"]["ratio"], nan=1.0)
    unit["ratio"] = own["unit_grid"].add("unit_grid.ratio", ratio, "f4")
    # The communities' outlines stay 2 px wide at every zoom (the others are 1 px while unit
    # grids are too small to outline: map.js).
    shape_layer("community", data.community, visible=True, key="CODE", stroke="#222222",
                width=2.0, keepWidth=True, labels="NAME")
    spot = data.shapes.get("spotcheck_result")
    if spot is not None and not spot.empty:
        fill = ({"by": "VERDICT", "colours": palette.VERDICT} if "VERDICT" in spot
                else {"colour": "#9467bd"})
        shape_layer("spotcheck_result", spot, visible=True, key="BGID", fill=fill,
                    stroke="#4b0082", width=1.5)
    qa = data.shapes.get("qa_issue")
    rules: dict[str, str] = {}
    if qa is not None and not qa.empty:
        # The click panel names a rule in words (the registry's label in the page's language).
        for rule in qa.get("RULE", pd.Series(dtype=str)).dropna().astype(str).unique():
            if rule_label(rule, lang) != rule:
                rules[rule] = rule_label(rule, lang)
        # Errors in the error colour, warnings in the warning colour: outline, fill and marker.
        shape_layer("qa_issue", qa, visible=True, key="RULE",
                    fill={"by": "SEVERITY", "colours": palette.SEVERITY}, opacity=0.25,
                    strokeBy={"by": "SEVERITY", "colours": palette.SEVERITY},
                    stroke=palette.OTHER, width=2.0)
    for name in ("event", "component"):
        layer = data.points.get(name)
        if layer is None:
            continue
        point_figures = figures["points"][name]
        own[name] = Blob()
        spec, dropped = _point_layer(name, layer, point_figures, own[name], words, lang)
        if dropped:
            omitted[name] = dropped
        layers.append(spec)
    # Each deferred layer's detail goes into its stream's document; the opening document keeps
    # its title, style, classes and field names.
    later = []
    for spec in layers:
        if spec["id"] in own:
            detail = {k: spec.pop(k) for k in DETAIL if k in spec}
            spec["stream"] = spec["id"]
            spec["fields"] = [c["name"] for c in detail["columns"]]
            later.append((spec["id"], spec["kind"] == "shape", detail))
    first = grids.geometry.iloc[0]
    inside = shapely.point_on_surface(first)
    selftest = {"bgid": str(grids["BGID"].iloc[0]), "x": inside.x, "y": inside.y}
    document = {
        "origin": list(origin), "step": SHAPE_STEP, "crs": data.crs.to_string(),
        "extent": [float(minx), float(miny), float(maxx), float(maxy)],
        "lang": lang, "strings": map_strings(lang), "layers": layers,
        "communities": data.community_names, "streets": data.street_names,
        "gridSize": float(np.sqrt(np.nanmedian(grids.geometry.area.to_numpy()))),
        # Community names show once a community is about 50 px wide.
        "labelResolution": float(np.sqrt(np.nanmedian(data.community.geometry.area)) / 50),
        "font": FONT,
        "classNames": {k: figures["class_names"][k] for k in figures["class_names"]},
        "selftest": selftest, "omitted": omitted, "ruleLabels": rules,
        "values": {v: words[v] for v in ("dense", "sparse", "pass", "fail", "empty", "error",
                                         "warning")},
    }
    streams, payloads = [], []
    # Unit grids first (near zooms need them soonest), buildings, then the points (on demand).
    rank = ["unit_grid", "context_building", "event", "component"]
    for name, eager, detail in [("map", True, document),
                                *sorted(later, key=lambda stream: rank.index(stream[0]))]:
        header, payload = (opening if name == "map" else own[name]).pack(
            detail if name == "map" else {"layer": detail})
        streams.append({"name": name, **header, "eager": eager})
        payloads.append(payload)
    header = {"streams": streams, "noStream": words["map.no_js_decompress"]}
    return MapData(header, payloads, omitted, selftest)


def _label_points(geoms: np.ndarray, origin, blob: Blob, name: str) -> dict:
    """A point inside each feature, for labels, markers and "zoom to" (NaN when missing)."""
    geoms = np.asarray(geoms, dtype=object)
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    if present.any():
        points = shapely.point_on_surface(geoms[present])
        x[present], y[present] = shapely.get_x(points), shapely.get_y(points)
    qx = np.where(np.isfinite(x), np.round((x - origin[0]) / SHAPE_STEP), -2**31)
    qy = np.where(np.isfinite(y), np.round((y - origin[1]) / SHAPE_STEP), -2**31)
    return {"x": blob.add(f"{name}.lx", qx, "i4"), "y": blob.add(f"{name}.ly", qy, "i4")}


def _columns(frame, extra: dict, blob: Blob, prefix: str) -> tuple[list[dict], list[str]]:
    out, dropped = [], []
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind == "M":
            values = values.dt.strftime("%Y-%m-%d %H:%M:%S").str.replace(" 00:00:00", "")
        array = pa.array(values.to_numpy(dtype=object) if values.dtype == object
                         else values, from_pandas=True)
        spec = encode_column(str(column), array, blob, prefix)
        (out.append(spec) if spec else dropped.append(str(column)))
    for column, values in extra.items():
        spec = encode_column(column, pa.array(np.asarray(values)), blob, prefix)
        (out.append(spec) if spec else dropped.append(column))
    return out, dropped


def _point_layer(name: str, layer, figures: dict, blob: Blob, words: dict, lang: str):
    encoded = encode_points(layer.x, layer.y, blob, name)
    order = encoded.order
    majors = [m["code"] for m in figures["majors"]]
    classes = [{"code": code, "name": _class_label(m, words, lang), "count": m["count"],
                "colour": palette.class_colour(code, majors)}
               for code, m in zip(majors, figures["majors"], strict=True)]
    index = {c["code"]: k for k, c in enumerate(classes)}
    major = figures["major_codes"][order]
    cls = _index_of(major, index, len(classes))
    # Off when the page opens: a planner starts from the grids; points are one click away.
    spec = {"id": name, "kind": "points", "title": words[f"layer_{name}"], "visible": False,
            "n": int(encoded.valid),
            "geom": encoded.spec, "classes": classes,
            "cls": blob.add(f"{name}.cls", np.minimum(cls, 255), "u1"),
            "key": "OBJCODE" if name == "component" else "EVTID",
            "shape": "square" if name == "component" else "diamond"}
    table = layer.table
    keep = [c for c in table.column_names
            if len(layer) <= FULL_DETAIL or c in CORE_FIELDS.get(name, ())]
    dropped = [c for c in table.column_names if c not in keep]
    picked = table.select(keep).take(pa.array(order))
    columns = []
    classes_full = figures["class_codes"][order]
    if not {"MAJOR", "MINOR"} <= set(keep):
        # The class code when the layer has no MAJOR/MINOR fields to show it (1 byte a row).
        columns.append(encode_column("CLASS", pa.array(classes_full, pa.string()), blob, name))
    for column in keep:
        array = picked.column(column)
        if pa.types.is_date(array.type) or pa.types.is_timestamp(array.type):
            array = array.cast(pa.string())
        spec_column = encode_column(column, array, blob, name)
        (columns.append(spec_column) if spec_column else dropped.append(column))
    spec["columns"] = columns
    return spec, dropped


def _index_of(values: np.ndarray, index: dict[str, int], missing: int) -> np.ndarray:
    encoded = pa.array(values, pa.string()).dictionary_encode()
    lookup = np.array([index.get(v, missing) for v in encoded.dictionary.to_pylist()] +
                      [missing], dtype=np.int64)
    codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return lookup[codes]


def _class_label(entry: dict, words: dict, lang: str) -> str:
    name = entry["name"] if lang == "zh" else (entry.get("name_en") or entry["name"])
    return f"{entry['code']} {name}".strip() if entry["code"] else words["other"]
