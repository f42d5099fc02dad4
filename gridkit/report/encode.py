"""Geometry and attributes packed compactly for the page's map script.

Everything goes into one binary blob of typed arrays (little-endian, 8-byte aligned, so the
script views them in place without copying; an array equal to one already packed is packed
once and named twice) followed by a JSON document, gzipped and then
base64-encoded into the page. Shapes are simplified at 0.5 m (as a coverage, so neighbouring
grids keep sharing their edges), quantised to 0.1 m and delta-coded per ring, which gzip packs
well. Large point layers are quantised to 16 bits per axis and sorted by tile, so the script
visits only the tiles in view and can aggregate or hit-test a million points quickly.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

SHAPE_STEP = 0.1  # m: quantisation of polygon, line and point shapes
SIMPLIFY = 0.5  # m: tolerance of the simplification
POINT_BITS = 16
TILE_POINTS = 4096  # about this many points per tile of a point layer
MAX_TILES_SIDE = 256
MIN_TILE = 50.0  # m
# A text column whose plain JSON would exceed this is left out (with a note on the page):
# free text on a million components would otherwise dominate the file.
PLAIN_LIMIT = 6 << 20
_JS_TYPES = {"u1": np.uint8, "u2": np.uint16, "u4": np.uint32, "i4": np.int32,
             "f4": np.float32, "f8": np.float64}


@dataclass
class Blob:
    """Typed arrays packed one after another, each named for the manifest."""

    parts: list[bytes] = field(default_factory=list)
    size: int = 0
    arrays: dict[str, list] = field(default_factory=dict)
    # Offsets of the arrays already packed, by their bytes' digest: a column whose codes repeat
    # another's (a component's class name, class code and major class often do) is packed once.
    _packed: dict[tuple[str, bytes], int] = field(default_factory=dict, repr=False)

    def add(self, name: str, array: np.ndarray, kind: str) -> str:
        """Append ``array`` under ``name`` as little-endian ``kind``, 8-byte aligned."""
        if name in self.arrays:
            raise ValueError(f"array {name} added twice")
        data = np.ascontiguousarray(array, dtype=np.dtype(_JS_TYPES[kind]).newbyteorder("<"))
        raw = data.tobytes()
        digest = (kind, hashlib.blake2b(raw, digest_size=20).digest())
        if digest in self._packed:
            self.arrays[name] = [kind, self._packed[digest], int(data.size)]
            return name
        pad = (-self.size) % 8
        if pad:
            self.parts.append(b"\0" * pad)
            self.size += pad
        self.arrays[name] = [kind, self.size, int(data.size)]
        self._packed[digest] = self.size
        self.parts.append(raw)
        self.size += len(raw)
        return name

    def pack(self, document: dict) -> tuple[dict, str]:
        """The clear header (array directory, JSON range) and the gzipped blob in base64."""
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
        header = {"arrays": self.arrays, "json": [self.size, len(text)]}
        # Level 6 is zlib's default: level 9 saves ~1% here at twice the time.
        packed = gzip.compress(b"".join([*self.parts, text]), compresslevel=6, mtime=0)
        return header, base64.b64encode(packed).decode("ascii")


def _index_kind(count: int) -> str:
    return "u1" if count <= 0xFF else "u2" if count <= 0xFFFF else "u4"


def simplify(geoms: np.ndarray, coverage: bool) -> np.ndarray:
    """Geometries simplified at 0.5 m; a coverage stays one (no gaps open between grids)."""
    geoms = np.asarray(geoms, dtype=object)
    present = ~shapely.is_missing(geoms)
    if coverage and present.all() and len(geoms):
        kinds = set(shapely.get_type_id(geoms).tolist())
        if kinds <= {3, 6}:
            try:
                return shapely.coverage_simplify(geoms, SIMPLIFY)
            except shapely.errors.GEOSException:
                pass  # not a valid coverage after all: simplify each on its own
    out = geoms.copy()
    out[present] = shapely.simplify(geoms[present], SIMPLIFY, preserve_topology=True)
    return out


def encode_shapes(geoms: np.ndarray, origin: tuple[float, float], blob: Blob,
                  prefix: str) -> dict:
    """Any geometries (null and mixed types too) as feature → ring → vertex arrays.

    Ring kinds: 1 a polygon's exterior and 3 a hole (closing vertex dropped), 0 a line,
    2 a point.
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    parts, feature = _flatten(geoms)
    kinds = shapely.get_type_id(parts) if len(parts) else np.zeros(0, int)
    ring_geoms, ring_feature, ring_kind = [], [], []
    polys = kinds == 3
    if polys.any():
        rings, owner = shapely.get_rings(parts[polys], return_index=True)
        ring_geoms.append(rings)
        ring_feature.append(feature[polys][owner])
        # The first ring of each polygon is its exterior (1), the others holes (3).
        exterior = np.ones(len(rings), bool)
        exterior[1:] = owner[1:] != owner[:-1]
        ring_kind.append(np.where(exterior, 1, 3).astype(np.uint8))
    for type_id, kind in ((1, 0), (2, 0), (0, 2)):
        chosen = kinds == type_id
        if chosen.any():
            ring_geoms.append(parts[chosen])
            ring_feature.append(feature[chosen])
            ring_kind.append(np.full(chosen.sum(), kind, np.uint8))
    if ring_geoms:
        rings = np.concatenate(ring_geoms)
        owner = np.concatenate(ring_feature)
        rkind = np.concatenate(ring_kind)
        order = np.argsort(owner, kind="stable")
        rings, owner, rkind = rings[order], owner[order], rkind[order]
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        counts = np.bincount(ring_of, minlength=len(rings))
        # Polygon rings repeat their first vertex at the end: the script closes the path.
        last = np.cumsum(counts) - 1
        drop = np.zeros(len(coords), bool)
        closing = (rkind == 1) | (rkind == 3)
        drop[last[closing & (counts > 1)]] = True
        coords, ring_of = coords[~drop], ring_of[~drop]
        counts = np.bincount(ring_of, minlength=len(rings))
    else:
        coords = np.zeros((0, 2))
        ring_of = np.zeros(0, np.int64)
        owner = np.zeros(0, np.int64)
        rkind = np.zeros(0, np.uint8)
        counts = np.zeros(0, np.int64)
    q = np.round((coords - np.asarray(origin)) / SHAPE_STEP).astype(np.int64)
    delta = q.copy()
    if len(q):
        same = np.zeros(len(q), bool)
        same[1:] = ring_of[1:] == ring_of[:-1]
        delta[1:][same[1:]] = q[1:][same[1:]] - q[:-1][same[1:]]
    feature_start = np.searchsorted(owner, np.arange(n + 1)).astype(np.uint32)
    ring_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.uint32)
    return {
        "n": n,
        "features": blob.add(f"{prefix}.features", feature_start, "u4"),
        "rings": blob.add(f"{prefix}.rings", ring_start, "u4"),
        "kinds": blob.add(f"{prefix}.kinds", rkind, "u1"),
        "xy": blob.add(f"{prefix}.xy", delta.reshape(-1), "i4"),
    }


def _flatten(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single-part geometries and the feature each came from (collections unpacked)."""
    present = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    parts, index = shapely.get_parts(geoms[present], return_index=True)
    feature = present[index]
    while len(parts):
        multi = shapely.get_type_id(parts) >= 4
        if not multi.any():
            break
        inner, inner_index = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], inner])
        feature = np.concatenate([feature[~multi], feature[multi][inner_index]])
    keep = ~shapely.is_empty(parts) if len(parts) else np.zeros(0, bool)
    return parts[keep], feature[keep]


@dataclass
class PointEncoding:
    """A point layer as the page's map reads it.

    Attributes
    ----------
    spec : dict
        The arrays' names and the tiles, for the page's header.
    order : numpy.ndarray
        Rows of the layer in their order in the page.
    valid : int
        Rows with a position.
    """

    spec: dict
    order: np.ndarray  # rows of the layer in their order in the page
    valid: int


def encode_points(x: np.ndarray, y: np.ndarray, blob: Blob, prefix: str) -> PointEncoding:
    """Points on the map: 16-bit coordinates sorted by tile, with the tiles' start offsets.

    Points without a position are left off the map (they are still counted in the figures).
    """
    finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    xs, ys = x[finite], y[finite]
    if len(finite):
        x0, y0 = math.floor(xs.min()), math.floor(ys.min())
        span = max(xs.max() - x0, ys.max() - y0, 1.0)
    else:
        x0 = y0 = 0
        span = 1.0
    step = _nice_step(span / (2**POINT_BITS - 1))
    ix = np.minimum(np.round((xs - x0) / step), 2**POINT_BITS - 1).astype(np.int64)
    iy = np.minimum(np.round((ys - y0) / step), 2**POINT_BITS - 1).astype(np.int64)
    side = span / step
    tiles_side = int(min(MAX_TILES_SIDE, max(1, math.ceil(math.sqrt(len(finite) / TILE_POINTS)))))
    tiles_side = max(1, min(tiles_side, int(span // MIN_TILE) or 1))
    tile_size = math.ceil((side + 1) / tiles_side)
    tile = (iy // tile_size) * tiles_side + (ix // tile_size)
    order = np.argsort(tile, kind="stable")
    starts = np.searchsorted(tile[order], np.arange(tiles_side * tiles_side + 1))
    spec = {
        "n": int(len(finite)), "origin": [x0, y0], "step": step,
        "tiles": tiles_side, "tile": tile_size,
        "x": blob.add(f"{prefix}.x", ix[order], "u2"),
        "y": blob.add(f"{prefix}.y", iy[order], "u2"),
        "starts": blob.add(f"{prefix}.starts", starts, "u4"),
    }
    return PointEncoding(spec, finite[order], int(len(finite)))


def _nice_step(minimum: float) -> float:
    """The smallest of 0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, ... m that is ≥ ``minimum``."""
    for exponent in range(-1, 7):
        for mantissa in (1, 2, 2.5, 5):
            step = mantissa * 10.0**exponent
            if step >= minimum:
                return round(step, 6)
    return float(math.ceil(minimum))


def encode_column(name: str, values: pa.Array | pa.ChunkedArray | np.ndarray | list,
                  blob: Blob, prefix: str) -> dict | None:
    """One attribute column in its most compact encoding.

    Numbers, a dictionary, a code split into a dictionary head and a numeric tail, or plain JSON;
    None when it would be too large.
    """
    array = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values,
                                                                                 from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    kind = array.type
    key = f"{prefix}.{name}"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        numbers = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
        numbers = np.where(np.isnan(numbers), np.nan, numbers)
        whole = numbers[~np.isnan(numbers)]
        integral = (not pa.types.is_floating(kind) and array.null_count == 0
                    and (len(whole) == 0 or (whole.min() >= -2**31 and whole.max() < 2**31)))
        if integral:
            return {"name": name, "enc": "num", "arr": blob.add(key, numbers, "i4")}
        return {"name": name, "enc": "num", "arr": blob.add(key, numbers, "f8")}
    if not pa.types.is_string(kind) and not pa.types.is_large_string(kind):
        array = pc.cast(array, pa.string()) if not pa.types.is_binary(kind) else \
            pa.nulls(len(array), pa.string())
    encoded = pc.dictionary_encode(array)
    dictionary = encoded.dictionary.to_pylist()
    n = len(array)
    if len(dictionary) <= max(64, n // 2):
        indices = pc.fill_null(encoded.indices, len(dictionary)).to_numpy(zero_copy_only=False)
        return {"name": name, "enc": "dict", "values": [*dictionary, None],
                "arr": blob.add(key, indices, _index_kind(len(dictionary) + 1))}
    split = _split_codes(array)
    if split is not None:
        heads, head_index, tails, width = split
        return {"name": name, "enc": "split", "values": heads, "width": width,
                "arr": blob.add(key + ".h", head_index, _index_kind(len(heads) + 1)),
                "tail": blob.add(key + ".t", tails, "u4")}
    plain = array.to_pylist()
    if sum(len(v) for v in plain if v) + 3 * n > PLAIN_LIMIT:
        return None
    return {"name": name, "enc": "plain", "values": plain}


def _split_codes(array: pa.Array) -> tuple[list, np.ndarray, np.ndarray, int] | None:
    """Digit codes of one length (BGID, OBJCODE, ...) as a head dictionary and 6-digit tails."""
    present = array.drop_null()
    if len(present) == 0:
        return None
    lengths = pc.utf8_length(present)
    width = pc.min_max(lengths).as_py()
    if width["min"] != width["max"] or width["min"] < 7:
        return None
    if not pc.all(pc.match_substring_regex(present, r"^[0-9]+$")).as_py():
        return None
    length = width["min"]
    filled = pc.fill_null(array, "0" * length)
    heads = pc.utf8_slice_codeunits(filled, 0, length - 6)
    tails = pc.cast(pc.utf8_slice_codeunits(filled, length - 6, length), pa.uint32())
    encoded = pc.dictionary_encode(heads)
    values = encoded.dictionary.to_pylist()
    index = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    index[np.asarray(array.is_null().to_numpy(zero_copy_only=False))] = len(values)
    return values, index, tails.to_numpy(zero_copy_only=False), 6
