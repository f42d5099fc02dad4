"""Barriers that unit grid boundaries follow: road centre lines, water edges, parcel lines.

Each barrier line gets a rank that says how much a grid should avoid spanning it:
0 none (a cut gridkit made), 1 parcel line (compound wall, cadastral plot), 2 minor road,
3 major road, 4 water. Small pieces are merged across the lowest rank available.

Road classes are read from a class field (OSM ``highway``/``fclass`` values and the Chinese
road grades 快速路/主干路/次干路/支路); roads without a recognised class count as minor. A class
written as a list (``['primary', 'trunk']``, as OSMnx exports merged ways) takes its highest
member. Road *polygons* (carriageway surfaces) contribute their outlines, as water and parcel
polygons do.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gridkit.geometry import LINEAR, POLYGONAL, clean_geometries
from gridkit.partition.communities import find_field
from gridkit.qa import QAIssue

CUT, PARCEL, MINOR, MAJOR, WATER = 0, 1, 2, 3, 4
N_RANKS = 5

MAJOR_CLASSES = {
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "expressway", "arterial",
    "高速公路", "快速路", "主干路", "主干道", "次干路", "次干道", "国道", "省道",
}
CLASS_ALIASES = ["CLASS", "FCLASS", "HIGHWAY", "ROADCLASS", "RCLASS", "KIND", "TYPE", "等级",
                 "道路等级", "道路类型"]


def _is_major(classes: pd.Series) -> np.ndarray:
    """Whether each road class is a major road.

    A class list such as ``"['primary', 'trunk']"`` is major when any member is.
    """
    listed = classes.str.startswith("[").fillna(False)
    major = np.array(classes.isin(MAJOR_CLASSES), dtype=bool)
    for i in np.flatnonzero(listed.to_numpy()):
        members = re.findall(r"[^\s'\"\[\],]+", classes.iloc[i])
        major[i] = any(m in MAJOR_CLASSES for m in members)
    return major


def _lines(frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Line parts of every feature (polygon outlines for polygons), with their row numbers."""
    geoms = frame.geometry.to_numpy()
    polygonal = np.isin(frame.geom_type.to_numpy(), list(POLYGONAL))
    geoms = np.where(polygonal, shapely.boundary(geoms), geoms)
    parts, index = shapely.get_parts(geoms, return_index=True)
    keep = np.isin(shapely.get_type_id(parts), [1, 2])  # LineString, LinearRing
    return parts[keep], index[keep]


def prepare_barriers(
    roads: gpd.GeoDataFrame | None,
    water: gpd.GeoDataFrame | None,
    crs: pyproj.CRS,
    *,
    road_class_field: str | None = None,
    parcels: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, list[QAIssue]]:
    """All barrier lines in ``crs`` with their KIND (road/water/parcel) and RANK.

    Parameters
    ----------
    roads, water : GeoDataFrame or None
        Lines or polygons (polygons give their outlines).
    crs : pyproj.CRS
        The working CRS (metres).
    road_class_field : str, optional
        The road class field; found by common names when not given.
    parcels : GeoDataFrame or None
        Compound (小区/单位) and cadastral plot polygons, or wall lines: their edges are
        candidate unit grid boundaries of the lowest rank above a cut.

    Returns
    -------
    GeoDataFrame of LineStrings with KIND and RANK, and the QA issues of the cleaning.

    Examples
    --------
    >>> lines, issues = prepare_barriers(roads, None, crs, parcels=plots)  # doctest: +SKIP
    """
    frames, issues = [], []
    allowed = LINEAR | POLYGONAL
    if roads is not None:
        cleaned, found = clean_geometries(roads, what="roads", allowed=allowed, layer="road")
        issues += found
        cleaned = cleaned.to_crs(crs)
        field = find_field(cleaned, road_class_field, CLASS_ALIASES, what="roads",
                           option="road_class_field")
        classes = (cleaned[field].astype("string").fillna("").str.strip().str.lower()
                   if field else pd.Series("", index=cleaned.index))
        ranks = np.where(_is_major(classes), MAJOR, MINOR)
        lines, index = _lines(cleaned)
        frames.append(gpd.GeoDataFrame({"KIND": "road", "RANK": ranks[index]},
                                        geometry=lines, crs=crs))
    if water is not None:
        cleaned, found = clean_geometries(water, what="water", allowed=allowed, layer="water")
        issues += found
        lines, _ = _lines(cleaned.to_crs(crs))
        frames.append(gpd.GeoDataFrame({"KIND": np.full(len(lines), "water"),
                                        "RANK": np.full(len(lines), WATER)},
                                       geometry=lines, crs=crs))
    if parcels is not None:
        cleaned, found = clean_geometries(parcels, what="parcels", allowed=allowed,
                                          layer="parcel")
        issues += found
        lines, _ = _lines(cleaned.to_crs(crs))
        frames.append(gpd.GeoDataFrame({"KIND": np.full(len(lines), "parcel"),
                                        "RANK": np.full(len(lines), PARCEL)},
                                       geometry=lines, crs=crs))
    if not frames:
        return gpd.GeoDataFrame({"KIND": [], "RANK": []}, geometry=[], crs=crs), issues
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs), issues


def water_areas(water: gpd.GeoDataFrame | None, crs: pyproj.CRS) -> np.ndarray:
    """The water bodies given as areas (rivers, lakes), as polygons in ``crs``.

    For measuring: a grid boundary inside one lies on water
    (:func:`gridkit.partition.metrics.boundary_on_fabric`). Their outlines are barrier lines
    (:func:`prepare_barriers`, which reports what the cleaning changed; not reported again).

    Parameters
    ----------
    water : GeoDataFrame or None
        Rivers and water bodies, lines or polygons, any CRS.
    crs : pyproj.CRS
        The working CRS (metres).

    Returns
    -------
    ndarray of Polygon: the polygon parts (empty without water polygons).

    Examples
    --------
    >>> import shapely
    >>> river = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 500, 30),
    ...                                    shapely.LineString([(0, 50), (500, 50)])], crs=4549)
    >>> [round(a) for a in shapely.area(water_areas(river, river.crs))]
    [15000]
    """
    if water is None:
        return np.empty(0, dtype=object)
    polygons = water[np.isin(water.geom_type.to_numpy(), list(POLYGONAL))]
    if polygons.empty:
        return np.empty(0, dtype=object)
    cleaned, _ = clean_geometries(polygons, what="water", allowed=POLYGONAL, layer="water")
    parts = shapely.get_parts(cleaned.to_crs(crs).geometry.to_numpy())
    return parts[shapely.get_type_id(parts) == 3]


def _polygons(frame: gpd.GeoDataFrame | None, crs: pyproj.CRS, what: str,
              layer: str) -> tuple[np.ndarray, list[QAIssue]]:
    if frame is None:
        return np.empty(0, dtype=object), []
    cleaned, issues = clean_geometries(frame, what=what, allowed=POLYGONAL, layer=layer)
    geoms = shapely.get_parts(cleaned.to_crs(crs).geometry.to_numpy())
    return geoms, issues


def prepare_buildings(
    buildings: gpd.GeoDataFrame | None, crs: pyproj.CRS
) -> tuple[np.ndarray, list[QAIssue]]:
    """Building footprints in ``crs`` as an array of polygons."""
    return _polygons(buildings, crs, "buildings", "building")


def prepare_key_areas(
    key_areas: gpd.GeoDataFrame | None, crs: pyproj.CRS
) -> tuple[np.ndarray, list[QAIssue]]:
    """Key areas (重点区域) in ``crs`` as an array of polygons, and the cleaning's issues."""
    return _polygons(key_areas, crs, "key areas", "key_area")
