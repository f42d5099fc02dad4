"""Why a census row is rejected: one rule per kind of problem, a message per row.

A row can have several problems; it is rejected under the first rule in ``RULES`` order and
its REASON lists every problem found, so one round of corrections fixes the row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RULES = (
    "bad-row",          # a CSV record with the wrong number of cells
    "no-coordinates",   # no geometry and empty coordinate cells
    "bad-coordinates",  # not numbers, half given, outside the CRS's range
    "outside-area",     # in no unit grid of OUT.gpkg
    "unknown-class",    # no class, or a name/code not in the catalog
    "bad-objcode",      # OBJCODE not a valid 16-digit component code
    "objcode-class",    # OBJCODE coded for another class than the record's
    "objcode-county",   # OBJCODE coded for another county than the location's
    "bad-state",        # OBJSTATE not 完好/破损/丢失/占用
    "bad-date",         # ORDATE/CHDATE unparseable, impossible, out of range or out of order
    "no-serial",        # no six-digit serial left in the county/class
)
_NONE = len(RULES)


class Problems:
    """Problems of ``n`` rows: the first rule of each, and every message."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.first = np.full(n, _NONE, dtype=np.int16)
        self._notes: list[tuple[int, np.ndarray, Sequence[str]]] = []

    def add(self, rule: str, positions: np.ndarray, messages: Sequence[str] | str) -> None:
        positions = np.asarray(positions, dtype=np.int64)
        if positions.size == 0:
            return
        code = RULES.index(rule)
        if isinstance(messages, str):
            messages = [messages] * positions.size
        self.first[positions] = np.minimum(self.first[positions], code)
        self._notes.append((code, positions, messages))

    @property
    def rejected(self) -> np.ndarray:
        return self.first < _NONE

    def rule_names(self, positions: np.ndarray) -> list[str]:
        return [RULES[c] for c in self.first[positions]]

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
        codes, counts = np.unique(self.first[self.rejected], return_counts=True)
        return {RULES[c]: int(k) for c, k in zip(codes, counts, strict=True)}

    @staticmethod
    def concat(parts: list[Problems]) -> Problems:
        merged = Problems(sum(p.n for p in parts))
        offset = 0
        for part in parts:
            merged.first[offset:offset + part.n] = part.first
            merged._notes.extend((c, rows + offset, m) for c, rows, m in part._notes)
            offset += part.n
        return merged
