"""Times written with a UTC offset, read on the clock of the city's platforms.

Components' dates (ORDATE, CHDATE) and events' times are kept as China Standard Time (UTC+8,
no daylight saving), the clock of the supervision and command platforms. A value written
with another offset (an API's or a GeoPackage's UTC ``Z``, ``+00:00``, ``-05:00``) is
converted; the importer logs each such value as ``time-zone`` in ``changed_values``. A value
with ``+08:00`` or without an offset is read as written.
"""

from __future__ import annotations

import datetime as dt
import re

CHINA_TIME = dt.timezone(dt.timedelta(hours=8))
# An offset counts only after a time of day: "2025-05-12" ends in "-12", which is a day.
_WITH_OFFSET = re.compile(
    r"^(?P<moment>.*\d{1,2}\s*[:时]\s*\d{1,2}(?:\s*[:分]\s*\d{1,2}(?:\.\d+)?秒?)?分?)"
    r"\s*(?P<offset>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)


def split_offset(text: str) -> tuple[str, dt.timedelta | None]:
    """``text`` without its trailing UTC offset, and the offset (None when it has none).

    Parameters
    ----------
    text : str
        A date-time as written (already NFKC-folded: ASCII digits and signs).

    Returns
    -------
    moment : str
        The text before the offset (``text`` itself when there is none).
    offset : datetime.timedelta or None
        East of UTC positive: ``Z`` is 0, ``+08:00`` is 8 hours.

    Examples
    --------
    >>> split_offset("2025-05-12T00:30:00Z")
    ('2025-05-12T00:30:00', datetime.timedelta(0))
    >>> split_offset("2025-05-12 20:30+0800")[1]
    datetime.timedelta(seconds=28800)
    >>> split_offset("2025-05-12")
    ('2025-05-12', None)
    """
    match = _WITH_OFFSET.match(text.strip())
    if not match:
        return text, None
    offset = match["offset"].upper()
    if offset in ("Z", "UTC", "GMT"):
        return match["moment"], dt.timedelta(0)
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
    return match["moment"], sign * dt.timedelta(minutes=minutes)


def in_china_time(moment: dt.datetime, offset: dt.timedelta | None) -> dt.datetime:
    """``moment``, written at ``offset`` from UTC, on China Standard Time (naive).

    Parameters
    ----------
    moment : datetime.datetime
        The wall-clock time as written (naive).
    offset : datetime.timedelta or None
        Its offset from UTC; None means China Standard Time already.

    Returns
    -------
    datetime.datetime
        Naive, UTC+8.

    Examples
    --------
    >>> in_china_time(dt.datetime(2025, 5, 11, 20, 30), dt.timedelta(0))
    datetime.datetime(2025, 5, 12, 4, 30)
    """
    if offset is None:
        return moment
    return moment.replace(tzinfo=dt.timezone(offset)).astimezone(CHINA_TIME) \
        .replace(tzinfo=None)


def converts(text: str) -> bool:
    """Whether ``text`` carries an offset other than China's, so reading it changes the clock.

    Examples
    --------
    >>> converts("2025-05-12T00:30:00Z"), converts("2025-05-12T08:30:00+08:00")
    (True, False)
    """
    offset = split_offset(text)[1]
    return offset is not None and offset != dt.timedelta(hours=8)
