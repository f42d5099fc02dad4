"""Telling the user about results whose inputs changed after them.

See :mod:`gridkit.store` for the rule: stale qa_issue rows are removed by the change, stale
layers are kept and marked.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from gridkit.errors import GridkitWarning


def stale_lines(output: str | Path, removed: dict[str, int] | None = None) -> list[str]:
    """One warning per stale derived layer of ``output`` and per command whose qa rows went.

    The qa_issue rows of those commands were removed by the last change.

    Parameters
    ----------
    output : str or Path
        The GeoPackage.
    removed : dict of str to int, optional
        qa_issue rows removed per command (``Summary.removed_qa``).

    Returns
    -------
    list of str
        The warnings, without the ``gridkit: warning:`` prefix.

    Examples
    --------
    >>> stale_lines("missing.gpkg")
    []
    """
    from gridkit.store import stale_results

    lines = [f"removed {count:,} qa_issue rows of `gridkit {command}`: the layers they were "
             f"computed from changed; run it again" for command, count in
             sorted((removed or {}).items())]
    lines += [s.message() for s in stale_results(output)
              if not s.result.startswith("qa_issue:")]
    return lines


def warn_stale(figures: dict) -> None:
    """Warn (:class:`~gridkit.errors.GridkitWarning`) each of :func:`stale_lines` for a command.

    The command's figures give ``output`` and ``removed_stale_qa``; the ``gridkit`` command
    prints the warnings as ``gridkit: warning:`` lines.
    """
    output = figures.get("output")
    if not output:
        return
    for line in stale_lines(output, figures.get("removed_stale_qa")):
        warnings.warn(line, GridkitWarning, stacklevel=2)
