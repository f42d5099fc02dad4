"""Shapefile field names: at most 10 bytes in the DBF's encoding, unique within a layer.

The rule, applied to a layer's fields in their order:

1. a name that fits in 10 bytes (in the chosen encoding: a Chinese character takes 2 bytes in
   GBK and 3 in UTF-8) is kept;
2. a longer gridkit name is shortened by the fixed table :data:`FIXED`;
3. any other longer name is cut to the longest run of whole characters that fits;
4. names are compared ignoring case (DBF readers do); a name that clashes with one already
   taken gets a suffix ``_1``, ``_2``, ... in place of as many trailing characters as needed
   to stay within 10 bytes. Names kept by step 1 or 2 are taken first, so only shortened
   names ever get a suffix.

The same fields in the same order always give the same names. The export writes the table it
used beside the files (``field_names.csv``).
"""

from __future__ import annotations

LIMIT = 10

# gridkit's own names longer than 10 bytes, and the short forms every export uses for them.
FIXED = {
    "WRONG_CLASS": "WRONG_CLS",
    "WRONG_POSITION": "WRONG_POS",
    "WRONG_ATTRIBUTE": "WRONG_ATTR",
    "COMPLETENESS": "COMPLETE",
    "STRATUM_GRIDS": "STRAT_GRID",
    "STRATUM_SAMPLE": "STRAT_SAMP",
    "SAMPLE_COMPONENTS": "SAMPLE_CMP",
    "MEAN_COMPONENTS": "MEAN_CMP",
}


def byte_length(text: str, encoding: str) -> int:
    """Bytes ``text`` takes in ``encoding``."""
    return len(text.encode(encoding))


def cut(text: str, limit: int, encoding: str) -> str:
    """The longest prefix of whole characters of ``text`` within ``limit`` bytes."""
    out = ""
    for char in text:
        if byte_length(out + char, encoding) > limit:
            break
        out += char
    return out


def shapefile_names(fields: list[str], encoding: str = "gbk") -> dict[str, str]:
    """Map each field name to its Shapefile name (see the module docstring for the rule).

    Parameters
    ----------
    fields : list of str
        A layer's field names, in order.
    encoding : str, optional
        The DBF's encoding (``gbk``: two bytes per Chinese character; ``utf-8``: three).

    Returns
    -------
    dict of str to str
        Field → name of at most 10 bytes, unique ignoring case.

    Examples
    --------
    >>> shapefile_names(["BGID", "WRONG_POSITION", "主管部门名称", "主管部门名称2"])
    ... # doctest: +NORMALIZE_WHITESPACE
    {'BGID': 'BGID', 'WRONG_POSITION': 'WRONG_POS', '主管部门名称': '主管部门名',
     '主管部门名称2': '主管部门_1'}
    """
    result: dict[str, str] = {}
    taken: set[str] = set()
    pending: list[tuple[str, str]] = []
    for name in fields:
        fits = byte_length(name, encoding) <= LIMIT
        short = name if fits else FIXED.get(name)
        if short is not None and short.lower() not in taken:
            result[name] = short
            taken.add(short.lower())
        else:
            pending.append((name, short or cut(name, LIMIT, encoding)))
    for name, base in pending:
        candidate, number = base, 0
        while not candidate or candidate.lower() in taken:
            number += 1
            suffix = f"_{number}"
            candidate = cut(base, LIMIT - len(suffix), encoding) + suffix
        result[name] = candidate
        taken.add(candidate.lower())
    return {name: result[name] for name in fields}
