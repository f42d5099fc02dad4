"""Turning class names as survey teams type them into comparable keys.

Rules, in order: Unicode NFKC (full-width letters, digits, brackets and spaces become
half-width), traditional and variant characters to simplified ones (``data/variants.csv``),
case folding, and finally only letters and digits are kept: spaces, punctuation, symbols and
brackets of every width disappear. Bracketed parts and parts split by separators are also kept
apart so that ``井盖(污水)`` and ``公用设施-污水井盖`` can be tried in another order.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from functools import lru_cache
from importlib.resources import files

# Opening/closing pairs left after NFKC (which already folds the full-width ASCII ones).
_OPEN = "([{【〔〖「『〈《⟨<"
_CLOSE = ")]}】〕〗」』〉》⟩>"
# Separators that join a class name to a qualifier: 公用设施-污水井盖, 污水井盖/破损.
_SEPARATORS = "-_/\\|,;:>、，；：·—–~"


@lru_cache(maxsize=1)
def _variant_table() -> dict[int, str]:
    text = files("gridkit.codes").joinpath("data/variants.csv").read_text(encoding="utf-8")
    return {ord(row["variant"]): row["standard"] for row in csv.DictReader(io.StringIO(text))}


# Whole-word spellings the character table cannot hold: 它 is not 他 elsewhere, but 其它 is
# 其他 (其它街面秩序问题, 其它设施).
_WORDS = (("其它", "其他"),)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    for variant, standard in _WORDS:
        text = text.replace(variant, standard)
    return text.translate(_variant_table()).casefold()


def _keep(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def normalize_name(name: object) -> str:
    """The comparison key of a class name: ``' 汚水井蓋 '`` and ``'污水井盖'`` give the same.

    NFKC, traditional and variant characters to simplified (``data/variants.csv``), case
    folding, then only letters and digits kept (see the module doc).

    Parameters
    ----------
    name : object
        A class name as typed; None gives ``""``.

    Returns
    -------
    str
        The key.

    Examples
    --------
    >>> normalize_name(" 汚水井蓋 ") == normalize_name("污水井盖")
    True
    >>> normalize_name("ＬＥＤ 路灯（新）")
    'led路灯新'
    """
    if name is None:
        return ""
    return _keep(_fold(str(name)))


def name_segments(name: object) -> tuple[list[str], list[str]]:
    """(plain parts, bracketed parts) of a name, each already normalised, empties dropped.

    ``井盖（污水）`` gives (["井盖"], ["污水"]); ``公用设施-污水井盖`` gives
    (["公用设施", "污水井盖"], []).
    """
    if name is None:
        return [], []
    text = _fold(str(name))
    plain: list[str] = []
    bracketed: list[str] = []
    current: list[str] = []
    depth = 0

    def flush() -> None:
        key = _keep("".join(current))
        if key:
            (bracketed if depth else plain).append(key)
        current.clear()

    for ch in text:
        if ch in _OPEN:
            flush()
            depth += 1
        elif ch in _CLOSE:
            flush()
            depth = max(depth - 1, 0)
        elif ch in _SEPARATORS or ch.isspace():
            flush()
        else:
            current.append(ch)
    flush()
    return plain, bracketed
