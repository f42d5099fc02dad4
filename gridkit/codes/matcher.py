"""Which catalog class a loosely written name means.

A census can hold millions of rows but only a few hundred distinct class names, so matching
is done once per distinct name (cached) and spread back over the rows.

Order of attempts: a bare class code (``0102``); the normalised name; the alias table; the
bracketed or separated parts in another order (``井盖(污水)`` → ``污水井盖``); one part alone
(``公用设施-污水井盖`` → ``污水井盖``). Near misses are never accepted: ``雨水井盖`` and
``污水井盖`` differ by one character, so a fuzzy score only feeds the suggestions.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gridkit.codes.admin import CodeError
from gridkit.codes.catalog import Catalog
from gridkit.codes.normalize import name_segments, normalize_name

_CODE_PREFIX = re.compile(r"^(\d{4})(\D.*)?$")


@dataclass(frozen=True)
class Match:
    """The class a name was matched to, and how.

    Attributes
    ----------
    code : str
        The four-digit minor class code.
    name : str
        The class name in the catalog.
    how : str
        How it matched: ``code``, ``exact``, ``normalized``, ``alias``, ``reordered``, ``part``
        or ``code+name``.

    Examples
    --------
    >>> from gridkit.codes import match_class, national_catalog
    >>> match_class("污水井盖", national_catalog("component"))
    Match(code='0102', name='污水井盖', how='exact')
    """

    code: str
    name: str
    how: str  # code, exact, normalized, alias, reordered, part, code+name

    @property
    def major(self) -> str:
        """The two-digit major class."""
        return self.code[:2]

    @property
    def minor(self) -> str:
        """The two-digit minor class."""
        return self.code[2:]


@dataclass(frozen=True)
class NoMatch:
    """A name no class of the catalog matches.

    Attributes
    ----------
    name : str
        The name as given.
    reason : str
        Why it matched nothing (empty, unknown, a major class only, ...).
    suggestions : tuple of str
        The closest classes, best first, as ``"0102 污水井盖"``.

    Examples
    --------
    >>> NoMatch("井盖", "no class is named '井盖'", ("0102 污水井盖",)).message()
    "no class is named '井盖'; closest: 0102 污水井盖"
    """

    name: str
    reason: str
    suggestions: tuple[str, ...] = field(default_factory=tuple)

    def message(self) -> str:
        """The reason with the suggestions, as an import's reject message says it."""
        if not self.suggestions:
            return self.reason
        return f"{self.reason}; closest: {', '.join(self.suggestions)}"


class UnknownClass(CodeError):
    """A name that names no class; ``suggestions`` holds the closest catalog classes.

    Parameters
    ----------
    result : NoMatch
        The failed match; kept as ``result``.

    Examples
    --------
    >>> from gridkit.codes import match_class, national_catalog
    >>> try:
    ...     match_class("", national_catalog("component"))
    ... except UnknownClass as exc:
    ...     exc.suggestions
    ()
    """

    def __init__(self, result: NoMatch) -> None:
        super().__init__(result.message())
        self.result = result
        self.suggestions = result.suggestions


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def _similarity(a: str, b: str) -> float:
    """Best of sequence similarity and character-bigram Dice: one catches edits, one reorderings."""
    seq = difflib.SequenceMatcher(None, a, b).ratio()
    ga, gb = _bigrams(a), _bigrams(b)
    dice = 2 * len(ga & gb) / (len(ga) + len(gb))
    return max(seq, dice)


class ClassMatcher:
    """Matches names against one catalog's minor classes, remembering every answer.

    Tries, in order: a leading four-digit code, the exact name, the normalised name
    (:func:`normalize_name`: traditional characters, full-width forms, spaces), the catalog's
    aliases, the name's characters reordered, a class name contained in it.

    Parameters
    ----------
    catalog : Catalog
        The classes to match against (its minor classes only).
    suggestions : int, optional
        How many closest classes a failed match suggests.

    Examples
    --------
    >>> from gridkit.codes import national_catalog
    >>> matcher = ClassMatcher(national_catalog("component"))
    >>> matcher.match(" 汚水井蓋 ").code
    '0102'
    >>> matcher.match_many(["污水井盖", "污水井盖"])["code"].tolist()
    ['0102', '0102']
    """

    def __init__(self, catalog: Catalog, *, suggestions: int = 3) -> None:
        self.catalog = catalog
        self.n_suggestions = suggestions
        self._cache: dict[str, Match | NoMatch] = {}
        minors = {e.code for e in catalog.minors()}
        self._names = {key: code for key, code in catalog.name_index.items() if code in minors}
        self._majors = {key: code for key, code in catalog.name_index.items() if code not in minors}
        self._aliases = {key: code for key, code in catalog.aliases.items() if code in minors}

    def match(self, name: object) -> Match | NoMatch:
        """The class ``name`` means (:class:`Match`), or why none (:class:`NoMatch`)."""
        raw = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
        hit = self._cache.get(raw)
        if hit is None:
            hit = self._cache[raw] = self._match(raw)
        return hit

    def _lookup(self, key: str) -> tuple[str, str] | None:
        if key in self._names:
            return self._names[key], "normalized"
        if key in self._aliases:
            return self._aliases[key], "alias"
        return None

    def _found(self, code: str, how: str) -> Match:
        return Match(code, self.catalog[code].name, how)

    def _match(self, raw: str) -> Match | NoMatch:
        key = normalize_name(raw)
        if not key:
            return NoMatch(raw, "no class name")
        coded = _CODE_PREFIX.match(key)
        if coded:
            return self._match_code(raw, coded.group(1), coded.group(2))
        if key in self._majors:
            code = self._majors[key]
            return NoMatch(raw, f"{raw.strip()!r} is major class {code}; name its minor class")
        found = self._lookup(key)
        if found:
            code, how = found
            exact = how == "normalized" and raw == self.catalog[code].name
            return self._found(code, "exact" if exact else how)
        plain, bracketed = name_segments(raw)
        # 井盖（污水） and 井盖-污水: the qualifier written after the noun goes first.
        for candidate in ("".join(bracketed + plain), "".join(reversed(plain + bracketed))):
            found = self._lookup(candidate)
            if found and candidate != key:
                return self._found(found[0], "reordered")
        parts = {self._lookup(part) for part in plain + bracketed}
        codes = {found[0] for found in parts if found is not None}
        if len(codes) == 1:
            return self._found(codes.pop(), "part")
        if len(codes) > 1:
            names = ", ".join(f"{c} {self.catalog[c].name}" for c in sorted(codes))
            return NoMatch(raw, f"{raw.strip()!r} names more than one class ({names})")
        return NoMatch(raw, f"{raw.strip()!r} is not {_a(self.catalog.kind)} class in "
                       f"{self.catalog.describe()}", self.suggest(key))

    def _match_code(self, raw: str, code: str, rest: str | None) -> Match | NoMatch:
        if code not in self.catalog or self.catalog[code].is_major:
            return NoMatch(raw, f"{code} is not {_a(self.catalog.kind)} class code in "
                           f"{self.catalog.describe()}")
        if not rest:
            return self._found(code, "code")
        named = self._lookup(rest)
        if named and named[0] != code:
            return NoMatch(raw, f"code {code} ({self.catalog[code].name}) and name "
                           f"{self.catalog[named[0]].name} disagree")
        return self._found(code, "code+name" if named else "code")

    def suggest(self, key: str) -> tuple[str, ...]:
        """The closest classes to a normalised name, best first, as ``"0102 污水井盖"``."""
        scores: dict[str, float] = {}
        for candidate, code in [*self._names.items(), *self._aliases.items()]:
            score = _similarity(key, candidate)
            if score > scores.get(code, 0.0):
                scores[code] = score
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return tuple(
            f"{code} {self.catalog[code].name}"
            for code, score in best[: self.n_suggestions]
            if score >= 0.3
        )

    def match_many(self, names: Iterable[object]) -> pd.DataFrame:
        """Match a column of names: one row per input, columns code, name, how, reason.

        Work is done once per distinct value, so a 10-million-row census costs about as much
        as its few hundred distinct names plus one factorisation.
        """
        values = names if isinstance(names, pd.Series) else pd.Series(list(names), dtype=object)
        index = values.index
        codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
        results = [self.match(u) for u in uniques]
        missing = self.match(None)
        table = pd.DataFrame(
            {
                "code": [r.code if isinstance(r, Match) else None for r in results] + [None],
                "name": [r.name if isinstance(r, Match) else None for r in results] + [None],
                "how": [r.how if isinstance(r, Match) else None for r in results] + [None],
                "reason": [r.message() if isinstance(r, NoMatch) else None for r in results]
                + [missing.message() if isinstance(missing, NoMatch) else None],
            }
        )
        # -1 (missing) takes the last row, the answer for an empty name.
        taken = table.iloc[np.where(codes < 0, len(results), codes)]
        return taken.set_axis(index)


def match_class(name: object, catalog: Catalog) -> Match:
    """The minor class ``name`` means in ``catalog``.

    Parameters
    ----------
    name : object
        A class name as surveyed (Chinese, traditional or full-width forms, a leading code).
    catalog : Catalog
        The classes to match against.

    Returns
    -------
    Match
        The class code and name, and how the name matched.

    Raises
    ------
    UnknownClass
        When nothing matches; its ``suggestions`` name the closest classes.

    Examples
    --------
    >>> from gridkit.codes import national_catalog
    >>> match_class("0102 污水井盖", national_catalog("component")).code
    '0102'
    """
    result = catalog.matcher.match(name)
    if isinstance(result, NoMatch):
        raise UnknownClass(result)
    return result
