"""Fingerprints.

A 64-bit BLAKE2b hash of each feature's attributes and geometry, and one per feature key, so that
two exports can tell which features are new, changed or gone.

A feature's bytes are its field names (sorted), then each value as text (Arrow's canonical
formatting: shortest round-trip floats, ISO dates; a NUL byte for null) and its geometry's
WKB as GDAL reads it. Provenance fields (:data:`IGNORED`) are left out: re-importing the same
census from a re-sorted file moves SRCROW but changes nothing a platform holds.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gridkit.export.layer import Layer

IGNORED = frozenset({"SRCROW", "SRCFILE"})
_FIELD_SEP, _GEOMETRY_SEP = "\x1f", b"\x1e"


def feature_hashes(layer: Layer) -> np.ndarray:
    """One signed 64-bit fingerprint per feature of ``layer``: BLAKE2b of its attributes and WKB.

    Fields are taken in name order, so reordering columns changes nothing; a change to any
    attribute or vertex changes the hash.

    Parameters
    ----------
    layer : gridkit.export.layer.Layer
        The layer (attributes as Arrow, geometry as WKB).

    Returns
    -------
    numpy.ndarray
        int64, one per feature.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa, shapely
    >>> from gridkit.export.layer import Layer, wkb_array
    >>> layer = Layer("unit_grid", pa.table({"BGID": ["310116001001001", "310116001001001"]}),
    ...               wkb_array(np.array([shapely.box(0, 0, 1, 1), shapely.box(0, 0, 1, 1)])))
    >>> hashes = feature_hashes(layer)
    >>> hashes.dtype, bool(hashes[0] == hashes[1])
    (dtype('int64'), True)
    """
    names = sorted(n for n in layer.fields if n not in IGNORED)
    header = _FIELD_SEP.join(names).encode() + _GEOMETRY_SEP
    if names:
        texts = [_as_text(layer.table.column(n)) for n in names]
        # NUL stands for a missing value, so that an empty text and no text differ.
        rows = pc.binary_join_element_wise(*texts, _FIELD_SEP, null_handling="replace",
                                           null_replacement="\x00").to_pylist()
    else:
        rows = [""] * len(layer)
    geometries = (layer.geometry.to_pylist() if layer.geometry is not None
                  else [None] * len(layer))
    out = np.empty(len(layer), dtype=np.int64)
    for i, (row, wkb) in enumerate(zip(rows, geometries, strict=True)):
        digest = hashlib.blake2b(header + row.encode() + _GEOMETRY_SEP + (wkb or b""),
                                 digest_size=8).digest()
        out[i] = int.from_bytes(digest, "little", signed=True)
    return out


def _as_text(column: pa.ChunkedArray) -> pa.Array:
    column = column.combine_chunks()
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        return pa.array([None if v is None else v.hex() for v in column.to_pylist()],
                        pa.string())
    return pc.cast(column, pa.string())


def key_fingerprints(layer: Layer, key: str) -> pd.DataFrame:
    """One row per distinct key: KEY (text, '' where missing) and HASH.

    A key held by several features (a duplicate code) is fingerprinted as the group, so any
    change to any of them marks the key changed.

    Parameters
    ----------
    layer : gridkit.export.layer.Layer
        The layer.
    key : str
        The key field: BGID, RGID, OBJCODE, ...

    Returns
    -------
    pandas.DataFrame
        KEY and HASH (int64), one row per distinct key.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from gridkit.export.layer import Layer
    >>> table = pa.table({"OBJCODE": ["3101160118000001", None, "3101160118000001"]})
    >>> key_fingerprints(Layer("component_list", table), "OBJCODE")["KEY"].tolist()
    ['', '3101160118000001']
    """
    keys = _keys(layer, key)
    frame = pd.DataFrame({"KEY": keys, "HASH": feature_hashes(layer)})
    repeated = frame["KEY"].duplicated(keep=False)
    if not repeated.any():
        return frame
    single = frame[~repeated]
    groups = frame[repeated].groupby("KEY", sort=False)["HASH"].agg(_combine)
    grouped = pd.DataFrame({"KEY": groups.index.to_numpy(dtype=object),
                            "HASH": groups.to_numpy(dtype=np.int64)})
    return pd.concat([single, grouped], ignore_index=True)


def feature_keys(layer: Layer, key: str) -> np.ndarray:
    """Each feature's key value as text (``""`` where missing)."""
    return _keys(layer, key)


def _keys(layer: Layer, key: str) -> np.ndarray:
    values = pc.cast(layer.table.column(key), pa.string()).to_pylist()
    return np.array(["" if v is None else v for v in values], dtype=object)


def _combine(hashes: pd.Series) -> int:
    raw = b"".join(int(h).to_bytes(8, "little", signed=True) for h in sorted(hashes))
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little", signed=True)
