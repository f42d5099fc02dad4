"""Census coordinates: numbers from text, the CRS they are in, and the shifted web-map CRSs.

Chinese web maps and phone apps give positions in GCJ-02 (Amap/Gaode, Tencent, Google China)
or BD-09 (Baidu): WGS-84 latitude/longitude moved by a deliberate, position-dependent offset of
a few hundred metres. Neither has an EPSG code or a PROJ definition, so gridkit carries them:

- the forward WGS-84 → GCJ-02 formula is the widely published one (Krasovsky ellipsoid
  constants a = 6378245 m, e² = 0.00669342162296594323; unshifted outside the published box
  72.004-137.8347°E, 0.8293-55.8271°N);
- GCJ-02 → BD-09 is the published rotation/scale about the origin with the 0.0065°/0.006° shift;
- the inverses are iterative: x ← x + (target − forward(x)). The offset changes by at most a few
  metres per kilometre, so each step shrinks the error about five-hundredfold; a point stops
  once a step was smaller than 1e-7° (1 cm); three steps reach that. The round-trip error,
  measured over China's whole extent (tests/test_census_coords.py), is below 0.1 mm for
  GCJ-02 and 0.3 mm for BD-09: far inside the 0.5 m the census needs.

The published forward formula is a public reconstruction of the official algorithm; gridkit
reproduces it exactly and does not claim more about how well it matches the official one.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyproj

from gridkit.crs import parse_crs
from gridkit.errors import InputError, mention, parameter_name
from gridkit.sources.cells import nfkc

# Krasovsky 1940, the ellipsoid of the published GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0
_BOX = (72.004, 137.8347, 0.8293, 55.8271)  # lon min, lon max, lat min, lat max

SHIFTED = {"gcj02": "GCJ-02", "gcj-02": "GCJ-02", "gcj": "GCJ-02", "mars": "GCJ-02",
           "bd09": "BD-09", "bd-09": "BD-09", "baidu": "BD-09", "bd09ll": "BD-09",
           "bd09mc": "BD-09MC", "bd-09mc": "BD-09MC", "baidumercator": "BD-09MC"}
# Baidu Mercator metres (BD09MC) -> BD-09 degrees: the published six-band polynomial of
# Baidu's map API (MCBAND/MC2LL), per band of |y|: lon = c0 + c1|x|;
# lat = c2 + c3 d + ... + c8 d^6 with d = |y| / c9.
_MCBAND = np.array([12890594.86, 8362377.87, 5591021.0, 3481989.83, 1678043.12, 0.0])
_MC2LL = np.array([
    [1.410526172116255e-8, 8.98305509648872e-6, -1.9939833816331, 200.9824383106796,
     -187.2403703815547, 91.6087516669843, -23.38765649603339, 2.57121317296198,
     -0.03801003308653, 17337981.2],
    [-7.435856389565537e-9, 8.983055097726239e-6, -0.78625201886289, 96.32687599759846,
     -1.85204757529826, -59.36935905485877, 47.40033549296737, -16.50741931063887,
     2.28786674699375, 10260144.86],
    [-3.030883460898826e-8, 8.98305509983578e-6, 0.30071316287616, 59.74293618442277,
     7.357984074871, -25.38371002664745, 13.45380521110908, -3.29883767235584,
     0.32710905363475, 6856817.37],
    [-1.981981304930552e-8, 8.983055099779535e-6, 0.03278182852591, 40.31678527705744,
     0.65659298677277, -4.44255534477492, 0.85341911805263, 0.12923347998204,
     -0.04625736007561, 4482777.06],
    [3.09191371068437e-9, 8.983055096812155e-6, 6.995724062e-5, 23.10934304144901,
     -2.3663490511e-4, -0.6321817810242, -0.00663494467273, 0.03430082397953,
     -0.00466043876332, 2555164.4],
    [2.890871144776878e-9, 8.983055095805407e-6, -3.068298e-8, 7.47137025468032,
     -3.53937994e-6, -0.02145144861037, -1.234426596e-5, 1.0322952773e-4, -3.23890364e-6,
     826088.5],
])
_STEP_TOLERANCE_DEG = 1e-7
# A solution must map back within 1e-6° (about 0.1 m); near the edge of GCJ-02's rectangle
# a shifted point can have no WGS-84 source at all (the shift jumps to 0 at the edge).
_SOURCE_TOLERANCE_DEG = 1e-6
MAX_ITERATIONS = 12
_PARALLEL_SIZE = 200_000


def _in_box(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= _BOX[0]) & (lon <= _BOX[1]) & (lat >= _BOX[2]) & (lat <= _BOX[3])


def _offsets(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The published GCJ-02 shift (degrees of lon, lat) at WGS-84 positions."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    root = np.sqrt(np.abs(x))
    wave_x = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root + wave_x
    d_lat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root + wave_x
    d_lon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = d_lat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = d_lon * 180.0 / (_A / sqrt_magic * np.cos(rad) * pi)
    inside = _in_box(lon, lat)
    return np.where(inside, d_lon, 0.0), np.where(inside, d_lat, 0.0)


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → GCJ-02 (the published forward formula), element-wise.

    GCJ-02 is the shifted datum of Amap (高德) and Tencent maps; outside China's box the offset
    is zero, as the formula defines.

    Parameters
    ----------
    lon : array_like of float
        WGS-84 longitude, degrees east; any shape.
    lat : array_like of float
        WGS-84 latitude, degrees north; the same shape.

    Returns
    -------
    lon, lat : numpy.ndarray
        The GCJ-02 position, degrees, shifted by a few hundred metres at most.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(121.3, 30.7)
    >>> round(float(lon - 121.3) * 1e5), round(float(lat - 30.7) * 1e5)
    (444, -227)
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    d_lon, d_lat = _offsets(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (Baidu's published formula), element-wise.

    Parameters
    ----------
    lon, lat : array_like of float
        A GCJ-02 position (Amap, Tencent) in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        Baidu's BD-09 longitude and latitude.

    Examples
    --------
    >>> bd_lon, bd_lat = gcj02_to_bd09(121.3, 30.7)
    >>> [round(float(v), 5) for v in (bd_lon, bd_lat)]
    [121.30644, 30.70618]
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def wgs84_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → BD-09 (Baidu maps): GCJ-02's offset, then Baidu's, element-wise.

    Parameters
    ----------
    lon, lat : array_like of float
        GPS (WGS-84) degrees.

    Returns
    -------
    tuple of numpy.ndarray
        Where Baidu maps draw the point (BD-09 degrees).

    Examples
    --------
    >>> back = bd09_to_wgs84(*wgs84_to_bd09([121.3, 121.4], [30.7, 30.8]))
    >>> bool(abs(back[0] - [121.3, 121.4]).max() < 1e-8)
    True
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(forward, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_solve`` with the points that have no source (see :func:`has_source`) as NaN."""
    x, y = _solve(forward, lon, lat)
    fx, fy = forward(x, y)
    lost = ~((np.abs(fx - lon) < _SOURCE_TOLERANCE_DEG)
             & (np.abs(fy - lat) < _SOURCE_TOLERANCE_DEG))
    lost &= np.isfinite(lon) & np.isfinite(lat)
    return np.where(lost, np.nan, x), np.where(lost, np.nan, y)


def _solve(forward, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(p) = (lon, lat) by fixed-point steps; the offset is nearly constant."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    if lon.size >= _PARALLEL_SIZE:
        # numpy's ufuncs release the GIL: two halves on two cores.
        half = lon.size // 2
        with ThreadPoolExecutor(2) as pool:
            parts = list(pool.map(lambda s: _invert_serial(forward, lon[s], lat[s]),
                                  (slice(0, half), slice(half, None))))
        return np.concatenate([parts[0][0], parts[1][0]]), np.concatenate([parts[0][1],
                                                                           parts[1][1]])
    return _invert_serial(forward, lon, lat)


def _invert_serial(forward, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon.copy(), lat.copy()
    active = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    for _ in range(MAX_ITERATIONS):
        if active.size == 0:
            break
        fx, fy = forward(x[active], y[active])
        ex, ey = lon[active] - fx, lat[active] - fy
        x[active] += ex
        y[active] += ey
        # The step just taken shrinks an error e to about e/500, so a point whose error
        # before the step was below the threshold is now within ~1e-10° (0.01 mm).
        active = active[(np.abs(ex) >= _STEP_TOLERANCE_DEG) | (np.abs(ey) >= _STEP_TOLERANCE_DEG)]
    return x, y


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS-84 by iterating the forward formula (error < 1 mm, see module doc).

    Points no WGS-84 position maps to (the shift folds a few near the box's edge) give NaN.

    Parameters
    ----------
    lon, lat : sequence of float
        One-dimensional: an Amap or Tencent position per row, degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        GPS longitude and latitude per row.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02([121.3], [30.7]))
    >>> print(f"{lon[0]:.7f} {lat[0]:.7f}")
    121.3000000 30.7000000
    """
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS-84 by iterating the composed forward formula (error < 1 mm).

    Parameters
    ----------
    lon : array_like of float
        BD-09 longitude (Baidu maps), one-dimensional.
    lat : array_like of float
        BD-09 latitude, as many.

    Returns
    -------
    tuple of numpy.ndarray
        WGS-84 degrees, NaN where no WGS-84 position maps there.

    Examples
    --------
    >>> x, y = bd09_to_wgs84(*wgs84_to_bd09([121.3], [30.7]))
    >>> round(float(x[0]), 7), round(float(y[0]), 7)
    (121.3, 30.7)
    """
    return _invert(wgs84_to_bd09, lon, lat)


def bd09mc_to_bd09(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Baidu Mercator metres (BD09MC) → BD-09 degrees, element-wise (Baidu's band polynomials).

    Parameters
    ----------
    x, y : array_like of float
        BD09MC easting and northing, metres.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitude and latitude, degrees.

    Examples
    --------
    >>> lon, lat = bd09mc_to_bd09(12128773.43, 4040249.00)
    >>> round(float(lon), 5), round(float(lat), 5)
    (108.95344, 34.26566)
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    ay = np.abs(y)
    band = np.searchsorted(-_MCBAND, -np.where(np.isfinite(ay), ay, 0.0), side="left")
    c = _MC2LL[np.clip(band, 0, len(_MCBAND) - 1)].T
    lon = c[0] + c[1] * np.abs(x)
    d = ay / c[9]
    lat = c[2] + d * (c[3] + d * (c[4] + d * (c[5] + d * (c[6] + d * (c[7] + d * c[8])))))
    return np.copysign(lon, x), np.copysign(lat, y)


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02 by iterating Baidu's forward formula."""
    return _invert(gcj02_to_bd09, lon, lat)


@dataclass(frozen=True)
class SourceCRS:
    """The CRS of survey coordinates: a pyproj CRS, or a shifted one on top of WGS-84.

    Attributes
    ----------
    label : str
        What reports show: ``EPSG:4326``, ``GCJ-02``, ...
    crs : pyproj.CRS
        The CRS; for GCJ-02, BD-09 and BD-09MC, WGS-84 (the datum under the shift).
    shift : str, optional
        None, ``GCJ-02``, ``BD-09`` or ``BD-09MC`` (Baidu Mercator metres).

    Examples
    --------
    >>> source = parse_source_crs("gcj02")
    >>> source.label, source.shift, source.geographic
    ('GCJ-02', 'GCJ-02', True)
    """

    label: str  # what reports show: "EPSG:4326", "GCJ-02", ...
    crs: pyproj.CRS  # for GCJ-02/BD-09/BD-09MC: WGS-84, the datum under the shift
    shift: str | None = None  # None, "GCJ-02", "BD-09" or "BD-09MC" (Baidu Mercator metres)

    @property
    def geographic(self) -> bool:
        """Whether coordinates are degrees (longitude, latitude)."""
        return self.shift in ("GCJ-02", "BD-09") or (self.shift is None
                                                     and self.crs.is_geographic)


def parse_source_crs(text: str, *, option: str = "crs") -> SourceCRS:
    """The CRS a ``crs`` parameter (``--crs``) names.

    Parameters
    ----------
    text : str
        ``wgs84``, ``cgcs2000``, ``gcj02`` (Amap, Tencent), ``bd09`` (Baidu), ``bd09mc`` (Baidu
        Mercator metres), ``EPSG:n``, WKT or a PROJ string.
    option : str, optional
        The caller's parameter ``text`` came from, named in the error.

    Returns
    -------
    SourceCRS
        The CRS and its shift.

    Raises
    ------
    InputError
        ``text`` is not a CRS.

    Examples
    --------
    >>> parse_source_crs("gcj02").label
    'GCJ-02'
    >>> parse_source_crs("bd09mc").geographic
    False
    >>> try:
    ...     parse_source_crs("高德", option="area_crs")
    ... except ValueError as error:
    ...     print(error.parameter, "|", error)  # doctest: +ELLIPSIS
    area_crs | `area_crs='高德'` is not a CRS: ...
    """
    option = parameter_name(option)
    shift = SHIFTED.get(text.strip().lower())
    if shift:
        return SourceCRS(shift, pyproj.CRS.from_epsg(4326), shift)
    try:
        crs = parse_crs(text, option=option)
    except InputError:
        raise InputError(f"{mention(**{option: text})} is not a CRS: give wgs84, cgcs2000, "
                         "gcj02, bd09, bd09mc or EPSG:n (e.g. EPSG:4549)",
                         parameter=option) from None
    return from_pyproj(crs)


def from_pyproj(crs: pyproj.CRS) -> SourceCRS:
    """A :class:`SourceCRS` without a shift, labelled by its EPSG code when it has one."""
    epsg = crs.to_epsg()
    return SourceCRS(f"EPSG:{epsg}" if epsg else crs.name, crs)


@lru_cache(maxsize=16)
def _transformer(source: pyproj.CRS, target: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def to_target(x: np.ndarray, y: np.ndarray, source: SourceCRS,
              target: pyproj.CRS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Survey coordinates into the grids' CRS, undoing a GCJ-02/BD-09 shift first.

    Parameters
    ----------
    x, y : array_like of float
        Coordinates in ``source`` (degrees or metres), one per row.
    source : SourceCRS
        Their CRS.
    target : pyproj.CRS
        The output CRS (the unit grids' CRS, e.g. EPSG:4549 metres).

    Returns
    -------
    tuple of numpy.ndarray
        ``(x, y, ok)``: positions in ``target`` (NaN where not ok) and a bool per row, False
        where the input is missing or outside what the CRS allows.

    Examples
    --------
    >>> import pyproj
    >>> x, y, ok = to_target([121.3, 500.0], [30.7, 30.7], parse_source_crs("wgs84"),
    ...                      pyproj.CRS.from_epsg(4549))
    >>> round(float(x[0])), round(float(y[0])), ok.tolist()
    (624548, 3398436, [True, False])
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    if source.geographic:
        ok &= (np.abs(x) <= 180) & (np.abs(y) <= 90)
    elif source.shift == "BD-09MC":
        ok &= (np.abs(x) <= 2.004e7) & (np.abs(y) <= 2.0e7)
    x = np.where(ok, x, np.nan)
    y = np.where(ok, y, np.nan)
    if source.shift == "GCJ-02":
        x, y = gcj02_to_wgs84(x, y)
    elif source.shift == "BD-09":
        x, y = bd09_to_wgs84(x, y)
    elif source.shift == "BD-09MC":
        x, y = bd09_to_wgs84(*bd09mc_to_bd09(x, y))
    if not source.crs.equals(target):
        x, y = _transformer(source.crs, target).transform(x, y, errcheck=False)
        x, y = np.asarray(x, float), np.asarray(y, float)
    ok &= np.isfinite(x) & np.isfinite(y)
    return x, y, ok


# Decimal numbers as survey apps and spreadsheets write them; a decimal comma is not accepted
# because "121,3" in a CSV cell is more often two numbers than one.
_NUMBER = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
_DMS = re.compile(
    r"^\s*(?P<h1>[NSEW北南东西])?(?:经|纬)?\s*(?P<d>\d+(?:\.\d+)?)\s*(?:°|º|度|d|:|\s)\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:'|′|’|‘|分|m|:|\s)?\s*)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:\"|″|”|“|''|′′|’’|〃|秒|s)?\s*)?"
    r"(?P<h2>[NSEW北南东西])?(?:经|纬)?\s*$",
    re.IGNORECASE,
)


def dms_value(text: str) -> float | None:
    """Degrees from ``121°28'15.5"``, ``121度28分15.5秒``, ``N31 12 30``; None when not DMS."""
    match = _DMS.match(text)
    if not match or (match["m"] is None and match["s"] is None):
        return None
    minutes = float(match["m"] or 0)
    seconds = float(match["s"] or 0)
    if minutes >= 60 or seconds >= 60:
        return None
    value = float(match["d"]) + minutes / 60 + seconds / 3600
    hemisphere = (match["h1"] or match["h2"] or "").upper()
    return -value if hemisphere in ("S", "W", "南", "西") else value


def parse_numbers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, present) from a text column; NaN where empty or not a number.

    Clean decimals are cast by Arrow in one pass; only when some cell is not one are cells
    trimmed, matched, and the rest (degrees-minutes-seconds) parsed once per distinct text.
    """
    values = values.cast(pa.string())
    empty = pc.fill_null(pc.equal(values, ""), True)
    try:
        numbers = pc.cast(pc.if_else(empty, pa.scalar(None, pa.string()), values), pa.float64())
        present = ~empty.to_numpy(zero_copy_only=False)
        return numbers.to_numpy(zero_copy_only=False).astype(float), present
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Full-width digits, points and minus signs typed through a Chinese input method.
    values = pc.utf8_trim_whitespace(nfkc(values))
    present = pc.fill_null(pc.not_equal(values, ""), False)
    plain = pc.fill_null(pc.match_substring_regex(values, _NUMBER), False)
    cleaned = pc.if_else(plain, values, pa.scalar(None, pa.string()))
    numbers = pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False).astype(float)
    present_np = present.to_numpy(zero_copy_only=False)
    other = present_np & ~plain.to_numpy(zero_copy_only=False)
    if other.any():
        positions = np.flatnonzero(other)
        texts = pc.take(values, pa.array(positions)).to_pylist()
        parsed = {t: dms_value(t) for t in set(texts)}
        numbers[positions] = [np.nan if parsed[t] is None else parsed[t] for t in texts]
    return numbers, present_np
