"""What the partition keeps of its inputs beside the grids: names and context layers.

* Street/town and district names given with the communities (``STREET_NAME``,
  ``COUNTY_NAME`` or their Chinese/pinyin aliases) are carried onto the ``community`` layer,
  so reports and exports can show names beside codes.
* The roads, water and buildings the grids were cut along are stored as ``context_road``,
  ``context_water`` and ``context_building`` (in the output CRS, attributes as given), so a
  report can draw them under the grids without the original files.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyproj
import shapely

from gridkit.partition.communities import (
    CODE_ALIASES,
    NAME_ALIASES,
    community_code_text,
    find_field,
)
from gridkit.sources.columns import map_columns

STREET_NAME_ALIASES = ["STREET_NAME", "STREETNAME", "街道名称", "所属街道名称", "街道（乡镇）名称",
                       "乡镇（街道）名称", "所属街道", "街道", "乡镇街道", "街镇名称", "乡镇名称",
                       "所属街镇", "所属乡镇", "JDMC", "XZMC"]
COUNTY_NAME_ALIASES = ["COUNTY_NAME", "DISTRICT_NAME", "区县名称", "所属区县名称", "所属区县",
                       "区县", "QXMC"]
CONTEXT_LAYERS = ("context_road", "context_water", "context_building")
_POLYGONS = {"Polygon", "MultiPolygon"}
_USABLE = {"building": _POLYGONS, "line": _POLYGONS | {"LineString", "MultiLineString"}}


def with_input_names(communities: gpd.GeoDataFrame, source: gpd.GeoDataFrame,
                     code_field: str | None = None) -> gpd.GeoDataFrame:
    """The partition's communities with the street and county names of the input.

    ``STREET_NAME`` and ``COUNTY_NAME`` are joined by the 12-digit ``CODE`` from ``source``
    when it has such fields.

    Parameters
    ----------
    communities : GeoDataFrame
        The partition's community layer, with ``CODE``.
    source : GeoDataFrame
        The communities as read from the user's file.
    code_field : str, optional
        The input's code field, when named with ``--code-field``.

    Returns
    -------
    GeoDataFrame
        A copy with the name columns added (left as is when the input had none).

    Examples
    --------
    >>> import geopandas as gpd
    >>> out = gpd.GeoDataFrame({"CODE": ["310116001001"]}, geometry=[None])
    >>> raw = gpd.GeoDataFrame({"CODE": [310116001001], "STREET_NAME": ["东林街道"]},
    ...                        geometry=[None])
    >>> with_input_names(out, raw)["STREET_NAME"].tolist()
    ['东林街道']
    """
    code = find_field(source, code_field, CODE_ALIASES, what="communities",
                      option="code_field")
    out = communities.copy()
    if code is None:
        return out
    codes = source[code].map(community_code_text)
    found = _name_columns(source)
    for target in ("STREET_NAME", "COUNTY_NAME"):
        column = found.get(target)
        if column is None or target in out or column == code:
            continue
        names = pd.Series(source[column].astype("string").fillna("").str.strip().to_numpy(),
                          index=codes.to_numpy())
        names = names[~names.index.duplicated()]
        out[target] = out["CODE"].map(names).fillna("").astype(str)
    return out


def _name_columns(source: gpd.GeoDataFrame) -> dict[str, str]:
    """STREET_NAME/COUNTY_NAME → the column of ``source`` holding it.

    The census reader's column matching: width, brackets and Shapefile-cut names (所属街道名称
    kept as 所属街道名 in a GBK DBF) are recognised.
    """
    return map_columns([str(c) for c in source.columns if c != source.geometry.name],
                       aliases={"STREET_NAME": tuple(STREET_NAME_ALIASES),
                                "COUNTY_NAME": tuple(COUNTY_NAME_ALIASES)}).fields


def community_columns(source: gpd.GeoDataFrame, code_field: str | None = None,
                      name_field: str | None = None) -> dict:
    """Which columns of the communities file the ``community`` layer carries, and the rest.

    Nothing is dropped without a mention: every column is either used (CODE, NAME,
    STREET_NAME, COUNTY_NAME, matched as :func:`with_input_names` and the partition match
    them, DBF-cut names included) or listed as ignored in the partition's figures.

    Parameters
    ----------
    source : GeoDataFrame
        The communities as read from the user's file.
    code_field, name_field : str, optional
        The fields named with ``--code-field``/``--name-field``.

    Returns
    -------
    dict
        ``used`` (field → column) and ``ignored`` (the other columns, in file order).

    Examples
    --------
    >>> import geopandas as gpd
    >>> raw = gpd.GeoDataFrame({"社区代码": ["310116001001"], "名称": ["东林"],
    ...                         "所属街道名": ["东林街道"], "SHAPE_Area": [1.0]}, geometry=[None])
    >>> found = community_columns(raw)
    >>> found["used"]["STREET_NAME"], found["ignored"]
    ('所属街道名', ['SHAPE_Area'])
    """
    used = {}
    for target, aliases, wanted, option in (
            ("CODE", CODE_ALIASES, code_field, "code_field"),
            ("NAME", NAME_ALIASES, name_field, "name_field")):
        column = find_field(source, wanted, aliases, what="communities", option=option)
        if column is not None:
            used[target] = column
    for target, column in _name_columns(source).items():
        if column not in used.values():
            used[target] = column
    ignored = [str(c) for c in source.columns
               if c != source.geometry.name and str(c) not in used.values()]
    return {"used": used, "ignored": ignored}


def context_layers(crs: pyproj.CRS, **frames: gpd.GeoDataFrame | None
                   ) -> dict[str, gpd.GeoDataFrame]:
    """``context_road``/``context_water``/``context_building`` from the inputs given.

    Parameters
    ----------
    crs : pyproj.CRS
        The output's projected CRS.
    **frames : GeoDataFrame or None
        ``road=``, ``water=``, ``building=``: the inputs as read (None when not given).

    Returns
    -------
    dict
        Layer name to GeoDataFrame in ``crs``. Only the features the partition could use are
        kept: lines and polygons of roads and water, polygons of buildings (stray points,
        collections and empty geometries were skipped and reported by the partition).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> roads = gpd.GeoDataFrame({"NAME": ["江南路"]},
    ...                          geometry=[shapely.LineString([(0, 0), (10, 0)])], crs=4549)
    >>> list(context_layers(roads.crs, road=roads, water=None))
    ['context_road']
    """
    out = {}
    for kind, frame in frames.items():
        if frame is None or frame.empty:
            continue
        usable = _USABLE["building" if kind == "building" else "line"]
        # shapely's test, not GeoSeries.notna(): that warns on stderr about empty geometries.
        geometry = frame.geometry.to_numpy()
        frame = frame[~shapely.is_missing(geometry) & ~shapely.is_empty(geometry)
                      & frame.geometry.geom_type.isin(usable).to_numpy()]
        if frame.empty:
            continue
        # 2D like the grids (the partition reported the dropped Z once): GDAL would warn
        # about Z values in a layer declared 2D.
        frame = frame.set_geometry(shapely.force_2d(frame.geometry.to_numpy()), crs=frame.crs)
        if frame.crs is not None and frame.crs != crs:
            frame = frame.to_crs(crs)
        out[f"context_{kind}"] = gpd.GeoDataFrame(frame.reset_index(drop=True), crs=crs)
    return out
