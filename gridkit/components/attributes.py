"""Component attribute values: the OBJSTATE and DATASOURCE enumerations, and dates.

A census column holds millions of cells but few distinct values, so every value is interpreted
once (Arrow dictionary encoding) and the answer spread back over the rows.

- OBJSTATE (状态) is one of 完好 / 破损 / 丢失 / 占用 (intact / damaged / lost / occupied);
  common synonyms (良好, 损坏, 缺失, 被占用, English words) are written as the canonical word.
  Anything else is a reject at import.
- DATASOURCE (数据来源) is one of 实测 / 地形图 / 调绘 / 其它; synonyms are folded the same way,
  other text is kept as given and reported by ``census check``: teams write their method in
  many ways (RTK, 外业采集) and that is no reason to lose a component.
- ORDATE/CHDATE are written as dates (GeoPackage DATE): ``2012-03-05``, ``2012/3/5``,
  ``2012.03.05``, ``20120305``, ``2012年3月5日``, each optionally followed by a time of day,
  which is dropped. An impossible date (2月30日), a year before 1900, a date after today, a bare
  year or month, and CHDATE before ORDATE are rejects.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gridkit.records.clock import in_china_time, split_offset

OBJSTATES = ("完好", "破损", "丢失", "占用")
DATASOURCES = ("实测", "地形图", "调绘", "其它")

_STATE_SYNONYMS = {
    "完好": ("完好", "良好", "好", "正常", "完整", "intact", "good", "ok", "normal"),
    "破损": ("破损", "损坏", "损毁", "破坏", "坏", "破", "damaged", "broken"),
    "丢失": ("丢失", "缺失", "遗失", "丢", "缺", "lost", "missing"),
    "占用": ("占用", "被占用", "占压", "occupied"),
}
_SOURCE_SYNONYMS = {
    "实测": ("实测", "实地测量", "测量", "外业实测", "surveyed", "survey", "measured"),
    "地形图": ("地形图", "地形图采集", "topographicmap", "topographic", "topomap"),
    "调绘": ("调绘", "外业调绘", "fieldsketched", "sketched"),
    "其它": ("其它", "其他", "other", "others"),
}
EARLIEST = dt.date(1900, 1, 1)


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


_STATE = {_key(s): canon for canon, syns in _STATE_SYNONYMS.items() for s in syns}
_SOURCE = {_key(s): canon for canon, syns in _SOURCE_SYNONYMS.items() for s in syns}


def canonical_state(text: str) -> str | None:
    """The canonical OBJSTATE for ``text``, or None when it is not one."""
    return _STATE.get(_key(text))


def canonical_source(text: str) -> str | None:
    """The DATASOURCE value (实测/地形图/调绘/其它) a survey's spelling means, or None."""
    return _SOURCE.get(_key(text))


def factorize(values: pa.Array) -> tuple[list, np.ndarray]:
    """(distinct values, index of each row's value) of a text column."""
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False)


def per_value(values: pa.Array, interpret: Callable[[str], object]) -> tuple[list, np.ndarray]:
    """``interpret`` applied once per distinct value: (answers, index of each row's answer)."""
    uniques, index = factorize(values)
    return [interpret(u) for u in uniques], index


# -- dates ---------------------------------------------------------------------------------

_TIME = r"(?:[ T]+(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d+)?秒?)?分?)?"
_DATE_PATTERNS = [
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?" + _TIME + r"$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?$"),
]


def parse_date(text: str, today: dt.date | None = None) -> dt.date | str:
    """A date, or why ``text`` is not a usable one.

    A date-time with a UTC offset is read on China Standard Time first
    (:mod:`gridkit.records.clock`, as event times): ``2025-05-11T20:30:00Z`` is 12 May.

    Examples
    --------
    >>> parse_date("2012年3月5日")
    datetime.date(2012, 3, 5)
    >>> parse_date("2025-05-11T20:30:00Z"), parse_date("2025-05-11T20:30:00+08:00")
    (datetime.date(2025, 5, 12), datetime.date(2025, 5, 11))
    """
    text = unicodedata.normalize("NFKC", text).strip()
    moment, offset = split_offset(text)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(moment)
        if match:
            year, month, day, hour, minute, second = (int(g) if g else 0
                                                      for g in match.groups())
            try:
                value = in_china_time(dt.datetime(year, month, day, hour, minute, second),
                                      offset).date()
            except ValueError:
                return f"{text!r} is not a calendar date"
            if value < EARLIEST:
                return f"{text!r} is before 1900"
            if value > (today or dt.date.today()) + dt.timedelta(days=1):
                return f"{text!r} is in the future"
            return value
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        from gridkit.sources.cells import serial_text

        moment = serial_text(text)
        if moment is not None:
            return (f"{text!r} looks like an Excel day number ({moment:%Y-%m-%d}); write the "
                    f"date itself, e.g. {moment:%Y-%m-%d}")
    if re.fullmatch(r"\d{4}([-/.年]\d{1,2}月?)?", text):
        return f"{text!r} has no day; write the full date, e.g. 2012-03-05"
    return f"{text!r} is not a date; write e.g. 2012-03-05"


def parse_dates(values: pa.Array) -> tuple[pa.Array, np.ndarray, list[str | None]]:
    """(date32 column, index of each row's problem or -1, problems) for a text column."""
    answers, index = per_value(values, lambda t: None if not t.strip() else parse_date(t))
    days = np.array([(a - dt.date(1970, 1, 1)).days if isinstance(a, dt.date) else 0
                     for a in answers] + [0], dtype=np.int32)
    valid = np.array([isinstance(a, dt.date) for a in answers] + [False])
    problems = [a if isinstance(a, str) else None for a in answers]
    safe = np.where(index < 0, len(answers), index)
    dates = pa.array(days[safe], pa.int32(), mask=~valid[safe]).cast(pa.date32())
    problem_index = np.array([i if isinstance(a, str) else -1 for i, a in enumerate(answers)]
                             + [-1], dtype=np.int64)[safe]
    return dates, problem_index, problems
