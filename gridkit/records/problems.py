"""Why a record is rejected: one rule per kind of problem, a message per row.

A row can have several problems; it is rejected under the first rule in ``RULES`` order and
its REASON lists every problem found, so one round of corrections fixes the row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gridkit.qa import UnknownRule, registered
from gridkit.records.schema import COMPONENT_RULES

RULES = COMPONENT_RULES  # the census import's rules, for callers that list them


class Problems:
    """The reject reasons of ``n`` rows: the first rule of each (in ``rules`` order), every message.

    Parameters
    ----------
    n : int
        Number of rows.
    rules : tuple of str, optional
        The schema's reject rules, in the order a row's first problem is chosen.

    Examples
    --------
    >>> from gridkit.records import COMPONENT
    >>> problems = Problems(3, COMPONENT.rules)
    >>> problems.add("outside-area", [2], "outside the managed area")
    >>> problems.add("bad-coordinates", [2], "X is not a number")
    >>> problems.rejected.tolist(), problems.rule_names([2]), problems.counts()
    ([False, False, True], ['bad-coordinates'], {'bad-coordinates': 1})
    """

    def __init__(self, n: int, rules: tuple[str, ...] = COMPONENT_RULES) -> None:
        for rule in rules:
            registered(rule)  # reject reasons are QA rules: one name at import and at check
        self.n = n
        self.rules = rules
        self._none = len(rules)
        self.first = np.full(n, self._none, dtype=np.int16)
        self._notes: list[tuple[int, np.ndarray, Sequence[str]]] = []

    def add(self, rule: str, positions: np.ndarray, messages: Sequence[str] | str) -> None:
        """Record problem ``rule`` of the rows at ``positions``, one message each (or one for all).

        Raises
        ------
        UnknownRule
            ``rule`` is not one of this import's reject rules.
        """
        positions = np.asarray(positions, dtype=np.int64)
        if positions.size == 0:
            return
        if rule not in self.rules:
            raise UnknownRule(f"reject rule {rule!r} is not one of this import's "
                              f"({', '.join(self.rules)})")
        code = self.rules.index(rule)
        if isinstance(messages, str):
            messages = [messages] * positions.size
        self.first[positions] = np.minimum(self.first[positions], code)
        self._notes.append((code, positions, messages))

    @property
    def rejected(self) -> np.ndarray:
        """Bool per row: the row has a problem."""
        return self.first < self._none

    def rule_names(self, positions: np.ndarray) -> list[str]:
        """The first rule of each row in ``positions``."""
        return [self.rules[c] for c in self.first[positions]]

    def reasons(self, positions: np.ndarray) -> list[str]:
        """Every message of each row in ``positions``, in rule order, joined by '; '."""
        wanted = {int(p): i for i, p in enumerate(positions)}
        found: list[list[tuple[int, str]]] = [[] for _ in positions]
        for code, rows, messages in self._notes:
            for row, message in zip(rows.tolist(), messages, strict=True):
                slot = wanted.get(row)
                if slot is not None:
                    found[slot].append((code, message))
        return ["; ".join(m for _, m in sorted(items, key=lambda item: item[0]))
                for items in found]

    def counts(self) -> dict[str, int]:
        """Rejected rows per first rule."""
        codes, counts = np.unique(self.first[self.rejected], return_counts=True)
        return {self.rules[c]: int(k) for c, k in zip(codes, counts, strict=True)}

    @staticmethod
    def concat(parts: list[Problems]) -> Problems:
        """One :class:`Problems` of ``parts`` one after the other (the row numbers shifted)."""
        merged = Problems(sum(p.n for p in parts), parts[0].rules if parts else COMPONENT_RULES)
        offset = 0
        for part in parts:
            merged.first[offset:offset + part.n] = part.first
            merged._notes.extend((c, rows + offset, m) for c, rows, m in part._notes)
            offset += part.n
        return merged
