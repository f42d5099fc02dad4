"""A city's unit grid layer as gridkit reads it.

The code field found by the names cities give it, the codes as text, and a code field stored as a
number flagged.

Cities name the field BGID, 网格编码, 单元网格编码, DYWGBM (单元网格编码 in pinyin initials),
WGBM, … . A Shapefile cuts field names at 10 bytes: 单元网格编码 becomes 单元网格编 in GBK and
单元网 (plus half a character) in UTF-8, so a field name also matches when it is the start of
a known name at least three characters long (a replacement character left by a cut inside a
character is ignored).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from gridkit.errors import InputError, mention

GRID_CODE_ALIASES = ["BGID", "网格编码", "单元网格编码", "单元网格代码", "网格代码", "单元网格号",
                     "网格编号", "单元网格编号", "DYWGBM", "DYWGDM", "WGBM", "WGDM", "WGBH",
                     "GRIDCODE", "GRID_CODE", "GRID_ID", "GRIDID", "BG_ID", "CELLCODE"]
MIN_PREFIX = 3  # characters of a cut field name that must match the start of a known name


@dataclass
class GridLayer:
    """The unit grids read from a city's file, before any check.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        The source's feature ids as index, CODE (text, ``""`` when missing) and the geometry.
    source : str
        The file (and layer) read.
    code_field : str
        The source field the codes came from.
    numeric : bool
        The codes were stored as numbers (an Excel/ArcGIS double or integer: leading zeros and
        digits may be lost).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> layer = grid_layer(gpd.GeoDataFrame({"网格编码": [310116001001001.0]},
    ...                                     geometry=[shapely.box(0, 0, 100, 100)], crs=4549))
    >>> layer.code_field, layer.numeric, layer.frame["CODE"].tolist()
    ('网格编码', True, ['310116001001001'])
    """

    frame: gpd.GeoDataFrame
    source: str
    code_field: str
    numeric: bool


def find_code_field(frame: pd.DataFrame, wanted: str | None = None) -> str:
    """The field holding unit grid codes: ``wanted``, else the first recognised name.

    Parameters
    ----------
    frame : DataFrame
        The grid layer as read, one row per grid.
    wanted : str, optional
        The field holding the codes (case-insensitive), when not recognised by its name.

    Returns
    -------
    str
        The column name as it is in ``frame``.

    Raises
    ------
    InputError
        When ``wanted`` is not a field, or no field has a recognised name.

    Examples
    --------
    >>> import pandas as pd
    >>> find_code_field(pd.DataFrame({"单元网格编": ["320582110152102"]}))
    '单元网格编'
    """
    source = frame.attrs.get("source", "unit grids")
    geometry = getattr(frame, "_geometry_column_name", None)
    columns = {str(c).strip().upper(): c for c in frame.columns if c != geometry}
    if wanted is not None:
        if wanted.strip().upper() not in columns:
            raise InputError(f"{source} (unit grids) has no field {wanted!r}; its fields are: "
                             f"{', '.join(map(str, columns.values()))}", parameter="code_field",
                             file=source, field=wanted)
        return columns[wanted.strip().upper()]
    for alias in GRID_CODE_ALIASES:
        if alias.upper() in columns:
            return columns[alias.upper()]
    for name, column in columns.items():
        stem = name.replace("\ufffd", "").rstrip()
        if len(stem) >= MIN_PREFIX and any(a.upper().startswith(stem)
                                           for a in GRID_CODE_ALIASES):
            return column
    raise InputError(
        f"{source} (unit grids): no unit grid code field (looked for "
        f"{', '.join(GRID_CODE_ALIASES[:6])}, ... and their Shapefile cuts); its fields are: "
        f"{', '.join(map(str, columns.values())) or 'none'}; name it with "
        f"{mention('code_field')}", parameter="code_field", file=source)


def code_text(values: pd.Series) -> tuple[pd.Series, bool]:
    """Codes as text and whether the field held numbers.

    A number is written back as the integer it holds (320582110152102.0 →
    '320582110152102'); whether that is the code the city meant cannot be known, which is
    why the caller flags the field.
    """
    numeric = pd.api.types.is_numeric_dtype(values.dtype)
    if numeric:
        def as_text(value) -> str:
            if value is None or (isinstance(value, float) and not np.isfinite(value)):
                return ""
            return str(int(value)) if float(value).is_integer() else repr(float(value))
        return values.map(as_text).astype(object), True
    text = values.astype("string").fillna("").str.strip()
    # Full-width digits typed with a Chinese input method are the same digits.
    text = text.str.translate({0xFF10 + k: ord("0") + k for k in range(10)})
    return text.astype(object), False


def grid_layer(frame: gpd.GeoDataFrame, code_field: str | None = None) -> GridLayer:
    """Wrap a read grid layer: find the code field and turn codes into text.

    Parameters
    ----------
    frame : GeoDataFrame
        One feature per unit grid, as :func:`gridkit.io.read_vector` returns it.
    code_field : str, optional
        The code field's name when it is not recognised.

    Returns
    -------
    GridLayer

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> frame = gpd.GeoDataFrame({"BGID": ["310116001001001"]},
    ...                          geometry=[shapely.box(0, 0, 100, 100)], crs=4549)
    >>> grid_layer(frame).frame["CODE"].tolist()
    ['310116001001001']
    """
    field = find_code_field(frame, code_field)
    codes, numeric = code_text(frame[field])
    out = gpd.GeoDataFrame({"CODE": codes.to_numpy()}, geometry=frame.geometry.to_numpy(),
                           crs=frame.crs, index=frame.index)
    return GridLayer(out, str(frame.attrs.get("source", "unit grids")), str(field), numeric)
