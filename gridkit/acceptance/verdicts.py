"""The verdicts of a spot check (抽查): their words, and the verdict rows of a check.

A checked census component gets one of five verdicts; a component found in the field but not
in the census is a sixth kind of row, ``missing`` (漏查). Sheets come back from field teams in
English or Chinese, so both spellings are accepted and folded to the English keyword. Whichever
way they were obtained (a verdict sheet or a re-survey), the verdicts end as :class:`Verdicts`
rows.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

CORRECT = "correct"
WRONG_CLASS = "wrong_class"
WRONG_POSITION = "wrong_position"
WRONG_ATTRIBUTE = "wrong_attribute"
NOT_FOUND = "not_found"
MISSING = "missing"

# Order matters: it is the column order of every tally (index = code).
VERDICTS = (CORRECT, WRONG_CLASS, WRONG_POSITION, WRONG_ATTRIBUTE, NOT_FOUND, MISSING)
CHECKED = VERDICTS[:5]  # verdicts of census components (the accuracy denominator)
CODE = {v: i for i, v in enumerate(VERDICTS)}

LABELS_ZH = {
    CORRECT: "正确", WRONG_CLASS: "类别错误", WRONG_POSITION: "位置错误",
    WRONG_ATTRIBUTE: "属性错误", NOT_FOUND: "实地不存在", MISSING: "漏查",
}
EXPLAIN = {
    CORRECT: "in the field, class, position and attributes as recorded",
    WRONG_CLASS: "in the field at that place, but of another class",
    WRONG_POSITION: "in the field, but not where the census puts it",
    WRONG_ATTRIBUTE: "class and position right, an attribute (owner, state, ...) wrong",
    NOT_FOUND: "the census records it, the field does not have it",
    MISSING: "in the field, not in the census (漏查): add OBJNAME and coordinates",
}

_ALIASES = {
    CORRECT: ("correct", "ok", "right", "正确", "准确", "合格", "无误", "对", "√", "✓"),
    WRONG_CLASS: ("wrong_class", "wrongclass", "class", "类别错误", "分类错误", "类型错误",
                  "类别错", "错类"),
    WRONG_POSITION: ("wrong_position", "wrongposition", "position", "位置错误", "定位错误",
                     "位置偏差", "位置错"),
    WRONG_ATTRIBUTE: ("wrong_attribute", "wrongattribute", "attribute", "属性错误", "属性错"),
    NOT_FOUND: ("not_found", "notfound", "absent", "实地不存在", "不存在", "未找到", "查无",
                "多录", "错录"),
    MISSING: ("missing", "omitted", "omission", "漏查", "遗漏", "漏采", "缺失", "漏录"),
}


def _key(text: object) -> str:
    folded = unicodedata.normalize("NFKC", str(text)).strip().casefold()
    return folded.replace(" ", "_").replace("-", "_")


_LOOKUP = {_key(alias): verdict for verdict, aliases in _ALIASES.items() for alias in aliases}


def parse_verdict(text: object) -> str | None:
    """The verdict keyword a cell means, or None when it means none.

    Field teams write verdicts in English or Chinese (正确, 位置错误, 漏查, ...); both fold to the
    keywords of :data:`VERDICTS`.

    Parameters
    ----------
    text : object
        A VERDICT cell as read.

    Returns
    -------
    str or None
        ``correct``, ``wrong_class``, ``wrong_position``, ``wrong_attribute``, ``not_found`` or
        ``missing``.

    Examples
    --------
    >>> parse_verdict("位置错误"), parse_verdict(" OK "), parse_verdict("?")
    ('wrong_position', 'correct', None)
    """
    return _LOOKUP.get(_key(text))


def allowed() -> str:
    """The verdicts as a user reads them in an error message."""
    return ", ".join(f"{v} ({LABELS_ZH[v]})" for v in VERDICTS)


@dataclass
class Verdicts:
    """One row per checked census component and per missing one."""

    grid: np.ndarray  # index into plan.grids
    klass: np.ndarray  # 4-digit class code: the census's for checked rows, the field's for missing
    verdict: np.ndarray  # index into VERDICTS
    objcode: np.ndarray  # "" for missing rows
    objname: np.ndarray
    x: np.ndarray  # GeoPackage CRS, NaN when unknown
    y: np.ndarray
    srcrow: np.ndarray  # row in the check or re-survey file, -1 when none
    note: np.ndarray
    distance: np.ndarray  # census to field position (re-survey), NaN otherwise

    def __len__(self) -> int:
        return len(self.grid)
