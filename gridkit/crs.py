"""Coordinate reference systems: parse what users type, choose the working CRS.

gridkit works and writes in one projected metric CRS: by default the CGCS2000 3-degree
Gauss-Krüger zone (EPSG:4534-4554, central meridians 75°E-135°E) whose central meridian is
nearest to the data.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pyproj

from gridkit.errors import GridkitWarning, InputError, mention, parameter_name

CGCS2000_GEOGRAPHIC = pyproj.CRS.from_epsg(4490)

ALIASES = {
    "wgs84": "EPSG:4326",
    "wgs-84": "EPSG:4326",
    "cgcs2000": "EPSG:4490",
}


def parse_crs(text: str, *, option: str = "crs") -> pyproj.CRS:
    """A CRS from 'EPSG:4549', '4549', 'wgs84', 'cgcs2000', WKT or a PROJ string.

    Parameters
    ----------
    text : str
        What the user gave.
    option : str
        The caller's parameter ``text`` came from, named in the error.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    InputError
        ``text`` is not a CRS (``parameter`` is ``option``).

    Examples
    --------
    >>> parse_crs("cgcs2000").to_epsg()
    4490
    >>> try:
    ...     parse_crs("EPSG:99999")
    ... except ValueError as error:
    ...     print(error.parameter, "|", error)  # doctest: +ELLIPSIS
    crs | `crs='EPSG:99999'` is not a CRS: ...
    """
    option = parameter_name(option)
    key = text.strip().lower()
    value = ALIASES.get(key, text.strip())
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError:
        raise InputError(
            f"{mention(**{option: text})} is not a CRS: give EPSG:n (e.g. EPSG:4549), wgs84 "
            "or cgcs2000", parameter=option) from None


def gauss_kruger_zone(longitude: float) -> pyproj.CRS:
    """The CGCS2000 3-degree Gauss-Krüger CRS (no zone prefix) for a longitude."""
    central = 3 * round(longitude / 3)
    if not 75 <= central <= 135:
        raise InputError(
            f"the data lies at longitude {longitude:.2f}°, outside the CGCS2000 3-degree zones "
            f"(75°E-135°E); name a projected CRS with {mention('crs')}", parameter="crs")
    return pyproj.CRS.from_epsg(4534 + (central - 75) // 3)


def data_longitude(frames: list[gpd.GeoDataFrame]) -> float:
    """Longitude of the centre of the combined extent of the frames."""
    centres = []
    for frame in frames:
        if frame is None or frame.empty:
            continue
        xmin, ymin, xmax, ymax = frame.to_crs(CGCS2000_GEOGRAPHIC).total_bounds
        centres.append(((xmin + xmax) / 2, (ymin + ymax) / 2))
    if not centres:
        raise InputError("no features to place: every input layer is empty")
    return float(np.mean([c[0] for c in centres]))


def require_crs(**frames: gpd.GeoDataFrame | None) -> None:
    """Refuse an input frame without a CRS, before geopandas refuses to reproject it.

    The commands read files with ``--crs`` for those without one; a frame built in a notebook
    (``GeoDataFrame(geometry=...)`` without ``crs=``) has none to go by.

    Parameters
    ----------
    **frames : geopandas.GeoDataFrame or None
        The inputs by their parameter names (``roads=roads``); None is skipped.

    Raises
    ------
    InputError
        Naming the first frame without a CRS (and its file, when read from one) and the fix.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> try:
    ...     require_crs(roads=None, key_areas=gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))
    ... except InputError as error:
    ...     print(str(error)[:56])
    key_areas has no CRS: set it with key_areas.set_crs(...)
    """
    for name, frame in frames.items():
        if frame is not None and frame.crs is None:
            source = frame.attrs.get("source")
            raise InputError(
                f"{source + ' (' + name + ')' if source else name} has no CRS: set it with "
                f"{name}.set_crs(...), e.g. 'EPSG:4490' for CGCS2000 longitude/latitude",
                parameter=name, file=source)


def working_crs(frames: list[gpd.GeoDataFrame], override: pyproj.CRS | None = None) -> pyproj.CRS:
    """The projected metric CRS to work in: a projected override, else the GK zone."""
    if override is not None and override.is_projected:
        unit = override.axis_info[0].unit_name if override.axis_info else "metre"
        if unit not in ("metre", "meter"):
            raise InputError(f"{mention(crs=override.to_string())} is in {unit}; gridkit needs "
                             "metres", parameter="crs")
        return override
    zone = gauss_kruger_zone(data_longitude(frames))
    _say_reprojected(frames, zone)
    return zone


def _say_reprojected(frames: list[gpd.GeoDataFrame], zone: pyproj.CRS) -> None:
    """Warn once when projected input is written in another CRS.

    A city's grids in EPSG:4528 (the zone number before the easting) come out in EPSG:4549,
    40,000 km apart in x for a platform that does not reproject.
    """
    for frame in frames:
        given = None if frame is None else frame.crs
        if given is None or not given.is_projected or _same(given, zone):
            continue
        name = given.to_string()
        warnings.warn(
            f"the input is in {name} ({given.name}); gridkit works and writes in "
            f"{zone.to_string()} ({zone.name}), the CGCS2000 3-degree zone of the data; give "
            f"{mention(crs=name)} to keep the input's CRS", GridkitWarning, stacklevel=3)
        return


def _same(given: pyproj.CRS, zone: pyproj.CRS) -> bool:
    return given == zone or given.to_epsg(min_confidence=70) == zone.to_epsg()
