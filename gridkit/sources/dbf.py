"""DBF text decoded by the weight of the evidence (Shapefile attribute tables).

The DBF format stores bytes and says nothing reliable about their encoding: a .cpg file may
name it (ArcGIS writes one; many tools do not), byte 29 (the language driver id) may say
"code page 936", and field names are cut at 10 bytes, often in the middle of a character.
The table arrives here byte for byte (read as Latin-1) and is decoded once per distinct value:

- with a .cpg, in the encoding it names; when most non-ASCII values are not text in it (a
  .cpg saying UTF-8 over GBK values) the read stops with one line naming the .cpg and the fix;
- without one, in UTF-8 when at least as many non-ASCII values are UTF-8 as are not, else in
  GB18030 (the superset of GBK, what Chinese ArcGIS and SuperMap write);
- a name or value whose last character was cut in the middle loses the broken bytes; such a
  value, and a value that is not text in the chosen encoding at all, is listed (row, field) in
  the import's figures, never silently turned into mojibake.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gridkit.errors import InputError

_DBF_CHINESE_LDIDS = {0x4D, 0x7A}  # 936 GBK, and 0x7A which ArcGIS also writes for 936
_CPG_NAMES = {"65001": "utf-8", "utf8": "utf-8", "936": "gb18030", "cp936": "gb18030",
              "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030", "54936": "gb18030",
              "ansi 936": "gb18030"}
_SHOWN = 5


def cpg_encoding(path: Path) -> tuple[Path, str] | None:
    """(.cpg file, Python codec name) of a Shapefile, or None without a usable .cpg."""
    for cpg in (path.with_suffix(".cpg"), path.with_suffix(".CPG")):
        if cpg.exists():
            text = cpg.read_text(encoding="ascii", errors="ignore").strip().lower()
            name = _CPG_NAMES.get(text, text)
            try:
                return cpg, codecs.lookup(name).name
            except LookupError:
                raise InputError(f"{cpg}: {text!r} is not an encoding; write UTF-8 or GBK in "
                                 "it (or delete it)", file=cpg) from None
    return None


def _raw(value: str) -> bytes:
    return value.encode("latin-1")


def _decode(raw: bytes, encoding: str) -> tuple[str, str]:
    """(text, what was wrong): a broken last character dropped; undecodable bytes replaced."""
    try:
        return raw.decode(encoding), ""
    except UnicodeDecodeError as exc:
        if exc.end == len(raw) and exc.start >= len(raw) - 3:
            return raw[: exc.start].decode(encoding, errors="replace"), "cut"
        return raw.decode(encoding, errors="replace"), "bad"


def _valid(raw: bytes, encoding: str) -> bool:
    text, problem = _decode(raw, encoding)
    return problem != "bad"


def decode_dbf(path: Path, dbf: Path, fields: list[str], columns: dict[str, pa.ChunkedArray],
               rows: np.ndarray) -> tuple[str, list[str], dict, list[tuple[int, str, str]]]:
    """Decode a DBF read as Latin-1: (encoding used, field names, columns, damaged cells).

    Parameters
    ----------
    path : Path
        The Shapefile (for the .cpg and messages).
    dbf : Path
        Its DBF (for the language driver byte).
    fields : list of str
        Field names as read (Latin-1).
    columns : dict of str to Arrow column
        The fields' columns as read; text columns are decoded, others kept.
    rows : ndarray of int, shape (n,)
        Feature ids, to name damaged cells.

    Returns
    -------
    tuple
        (encoding label, decoded names, decoded columns keyed by the original names,
        [(row, original field name, what)] of damaged cells).

    Raises
    ------
    InputError
        A .cpg names an encoding most of the values are not in.
    """
    text_fields = [f for f in fields if pa.types.is_string(columns[f].type)
                   or pa.types.is_large_string(columns[f].type)]
    uniques: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
    non_ascii: list[bytes] = []
    for name in text_fields:
        encoded = pc.dictionary_encode(columns[name].combine_chunks())
        values = encoded.dictionary.to_pylist()
        odd = np.array([any(ord(ch) > 127 for ch in v) for v in values], bool)
        index = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        uniques[name] = (values, index.astype(np.int64), odd)
        non_ascii.extend(_raw(v) for v, o in zip(values, odd, strict=True) if o)
    non_ascii.extend(_raw(f) for f in fields if any(ord(ch) > 127 for ch in f))
    utf8 = sum(_valid(v, "utf-8") for v in non_ascii)
    declared = cpg_encoding(path)
    if declared is not None:
        cpg, encoding = declared
        fits = sum(_valid(v, encoding) for v in non_ascii)
        wrong_way = encoding != "utf-8" and non_ascii and utf8 == len(non_ascii) and any(
            any(ord(ch) > 127 for ch in v.decode("utf-8", "ignore")) for v in non_ascii)
        if non_ascii and (fits * 2 < len(non_ascii) or wrong_way):
            other = "GBK" if encoding == "utf-8" else "UTF-8"
            example = next((v for v in non_ascii if not _valid(v, encoding)), non_ascii[0])
            shown = example.decode("gb18030" if other == "GBK" else "utf-8", "replace")
            wrong = len(non_ascii) if wrong_way else len(non_ascii) - fits
            raise InputError(
                f"{cpg} says {encoding.upper()}, but {wrong} of {len(non_ascii)} non-ASCII "
                f"names and values are not {encoding.upper()} text "
                f"(they read as {other}, e.g. {shown!r}); write {other} in {cpg.name} (or delete "
                "it and gridkit decides from the values)", file=cpg)
        label = f"{encoding.upper()} (.cpg)"
    else:
        raw = dbf.read_bytes()[:32]
        chinese_ldid = len(raw) > 29 and raw[29] in _DBF_CHINESE_LDIDS
        if non_ascii and utf8 * 2 >= len(non_ascii) and not (chinese_ldid
                                                                and utf8 < len(non_ascii)):
            encoding = "utf-8"
        elif non_ascii or chinese_ldid:
            encoding = "gb18030"
        else:
            encoding = "utf-8"
        label = (f"{encoding.upper()} (no .cpg: {utf8} of {len(non_ascii)} non-ASCII names and "
                 "values are UTF-8)")
    names = [_decode(_raw(f), encoding)[0] for f in fields]
    decoded = dict(columns)
    damaged: list[tuple[int, str, str]] = []
    for name in text_fields:
        values, index, odd = uniques[name]
        out = list(values)
        broken: dict[int, str] = {}
        for i in np.flatnonzero(odd):
            out[i], problem = _decode(_raw(values[i]), encoding)
            if problem:
                broken[int(i)] = problem
        safe = np.where(index < 0, len(out), index)
        array = pa.array(out + [None], pa.string()).take(pa.array(safe))
        decoded[name] = pc.if_else(pa.array(index >= 0), array, pa.scalar(None, pa.string()))
        if broken:
            field = names[fields.index(name)]
            for position in np.flatnonzero(np.isin(safe, list(broken))):
                what = broken[int(safe[position])]
                damaged.append((int(rows[position]), name,
                                "the value was cut in the middle of a character (the broken "
                                "bytes were dropped)" if what == "cut" else
                                f"the value is not {encoding.upper()} text (bad bytes shown as "
                                f"\ufffd); re-type {field} in the source"))
    return label, names, decoded, damaged
