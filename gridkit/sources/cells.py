"""Cells as people type them: full-width text, Excel numbers and Excel serial dates.

Vectorised over Arrow columns; the rare odd cells are interpreted once per distinct text.

- **Full-width text.** Chinese input methods type ``１２１．３``, ``，``, ``－`` and the
  ideographic space; NFKC folds them to ASCII before a number, code or date is parsed.
- **Excel numbers.** Excel keeps 15 significant digits: a 16-digit component code typed as a
  number arrives with its last digit replaced by 0, and a CSV saved from Excel may hold
  ``3.10116E+15``. Such a cell is never taken as a code (:func:`code_number_problem` says why
  and how to re-enter it); a short number (class code ``102`` for ``0102``) is padded only
  where the field's width makes it unambiguous.
- **Excel serial dates.** A date cell that Excel stored as a number holds the days since
  1899-12-30 (45789 = 2025-05-12, 45789.5 = noon).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
#: Serial days of 1900-01-01 and 2100-01-01: numbers a date column can mean.
SERIAL_RANGE = (2.0, 73051.0)
_SCIENTIFIC = re.compile(r"^[-+]?\d(\.\d+)?[eE]\+?\d+$")
_ASCII = re.compile(r"^[\x00-\x7f]*$")


def nfkc(values: pa.Array) -> pa.Array:
    """Fold a text column: NFKC where a cell is not plain ASCII, other cells untouched.

    Full-width digits, points, commas, minus signs and the ideographic space become their ASCII
    forms, so ``１２１．３`` reads as 121.3; nulls stay null.

    Parameters
    ----------
    values : pyarrow.Array
        One column of a table (cast to string).

    Returns
    -------
    pyarrow.Array
        The folded strings, same length.

    Examples
    --------
    >>> import pyarrow as pa
    >>> nfkc(pa.array(["１２１．３", "30.7", None])).to_pylist()
    ['121.3', '30.7', None]
    """
    values = values.cast(pa.string())
    odd = ~pc.fill_null(pc.match_substring_regex(values, _ASCII.pattern), True).to_numpy(
        zero_copy_only=False)
    if not odd.any():
        return values
    positions = np.flatnonzero(odd)
    texts = pc.take(values, pa.array(positions)).to_pylist()
    folded = {t: _fold(t) for t in set(texts)}
    patch = np.empty(len(values), dtype=object)
    patch[positions] = [folded[t] for t in texts]
    return pc.if_else(pa.array(odd), pa.array(patch, pa.string()), values)


_EXTRA_FOLD = str.maketrans({"−": "-", "－": "-", "—": "-", "–": "-", "﹣": "-", "。": ".",
                             "．": ".", "，": ",", "\u3000": " "})


def _fold(text: str | None) -> str | None:
    if text is None:
        return None
    return unicodedata.normalize("NFKC", text).translate(_EXTRA_FOLD)


def fold_text(text: str) -> str:
    """One cell folded as :func:`nfkc` folds a column.

    Parameters
    ----------
    text : str
        A cell.

    Returns
    -------
    str
        NFKC with the Chinese dashes, points and commas made ASCII.

    Examples
    --------
    >>> fold_text("３０。７")
    '30.7'
    """
    return _fold(text) or ""


def is_scientific(text: str) -> bool:
    """True for ``3.10116E+15``: a number as Excel writes a long one into a CSV."""
    return bool(_SCIENTIFIC.match(text.strip()))


def code_number_problem(text: str, was_number: bool, width: int, what: str = "code") -> str:
    """Why a code cell that was (or looks like) a number cannot be trusted; "" when it can.

    Parameters
    ----------
    text : str
        The cell as read (digits, or Excel's scientific notation).
    was_number : bool
        The source stored the cell as a number (an XLSX numeric cell, a CSV cell in
        scientific notation).
    width : int
        Digits the code has (16 for OBJCODE, 15 for BGID, 4 for a class code).
    what : str
        The code's name in the message.

    Returns
    -------
    str
        The problem and its fix, or "" when the cell is usable as it is.

    Examples
    --------
    >>> code_number_problem("3.10116E+15", True, 16)[:40]
    "'3.10116E+15' is Excel's scientific nota"
    >>> code_number_problem("0102", True, 4)
    ''
    """
    text = text.strip()
    if is_scientific(text):
        return (f"{text!r} is Excel's scientific notation of a number: Excel keeps 15 "
                f"significant digits, so the {what}'s last digits are lost; format the column "
                "as text and re-enter the codes")
    if was_number and text.isdigit() and len(text) > 15:
        return (f"the cell was a number ({text}), and Excel keeps only 15 significant "
                f"digits: the {what}'s last digit is lost (…0123 and …0127 both become …0120); "
                f"format the column as text and re-enter the {what}")
    return ""


def pad_number(text: str, width: int) -> str | None:
    """A code that lost its leading zeros as a number, padded back to ``width`` digits.

    None when padding would be a guess (not digits, or two or more digits missing).
    """
    if text.isdigit() and len(text) == width - 1:
        return text.zfill(width)
    return None


def excel_serial(value: float) -> dt.datetime | None:
    """The date and time of an Excel serial day number; None outside 1900-2100.

    Parameters
    ----------
    value : float
        Days since 1899-12-30 (Excel's 1900 date system), the fraction the time of day.

    Returns
    -------
    datetime.datetime or None
        The naive local date and time.

    Examples
    --------
    >>> excel_serial(45789)
    datetime.datetime(2025, 5, 12, 0, 0)
    >>> excel_serial(45789.5)
    datetime.datetime(2025, 5, 12, 12, 0)
    """
    if not (SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]):
        return None
    moment = EXCEL_EPOCH + dt.timedelta(days=float(value))
    # Round to the second: a float day number carries sub-second noise.
    return (moment + dt.timedelta(microseconds=500_000)).replace(microsecond=0)


def serial_text(text: str) -> dt.datetime | None:
    """``excel_serial`` of a cell's text when it is a plain number, else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return excel_serial(value)
