"""The report's charts, drawn once with matplotlib: SVG inline in the page, PNG for ``--png``.

Each function returns a :class:`matplotlib.figure.Figure` (no pyplot state). :func:`svg` keeps
text as text (``svg.fonttype = none``) so the browser draws Chinese with the machine's fonts
and the page stays small; matplotlib's SVG writer escapes every label, and math-text parsing is
off, so user text ("$", "<", "&") is drawn as written.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import matplotlib
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

_MPL = tuple(int(p) for p in re.findall(r"\d+", matplotlib.__version__)[:2])
BAR = "#4878a8"
BAND_FILL = "#dff0d8"
MARK = "#c0392b"
WIDTH = 6.4  # inches: 640 px at the page's 100 dpi
# For label widths only: the page draws text in its own CSS fonts (report.css).
FONTS = ["DejaVu Sans", "sans-serif"]


def number(value: float | None, digits: int = 0) -> str:
    """``value`` with thousands separators and ``digits`` decimals; "–" when missing.

    Examples
    --------
    >>> number(12345.678, 1)
    '12,345.7'
    >>> number(None)
    '–'
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


@cache
def _font_family() -> tuple[str, ...]:
    """The family list with a CJK font the machine has first (for label widths)."""
    from matplotlib import font_manager

    from gridkit.report.png import cjk_font

    path = cjk_font()
    if path is None:
        return tuple(FONTS)
    font_manager.fontManager.addfont(path)
    name = font_manager.FontProperties(fname=path).get_name()
    return (name, *FONTS)


@contextmanager
def style() -> Iterator[None]:
    """Matplotlib settings every chart is drawn and saved under."""
    with rc_context({"svg.fonttype": "none", "text.parse_math": False,
                     "svg.hashsalt": "gridkit", "font.family": list(_font_family()),
                     "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                     "axes.titlesize": 10, "axes.titleweight": "bold"}), \
            warnings.catch_warnings():
        # Without a CJK font matplotlib warns per glyph; the browser draws them anyway.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        yield


def svg(figure: Figure, title: str = "") -> str:
    """The figure as an inline ``<svg class="chart">`` element (no XML prolog)."""
    buffer = io.StringIO()
    with style():
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None},
                       bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r"^<svg ", '<svg class="chart" role="img" ', text, count=1)


def png(figure: Figure, path: Path, dpi: int = 150) -> Path:
    """Write the figure as a PNG (for documents)."""
    with style():
        figure.savefig(path, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return path


def _figure(height: float) -> tuple[Figure, Axes]:
    with style():
        figure = Figure(figsize=(WIDTH, height))
        return figure, figure.add_subplot()


def _clip(label: object, limit: int = 26) -> str:
    text = str(label)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def histogram(edges: Sequence[float], counts: Sequence[int], *, title: str, xlabel: str,
              ylabel: str, band: tuple[float, float] | None = None, band_label: str = "",
              mark: float | None = None, mark_label: str = "",
              fmt: Callable[[float], str] = number) -> Figure:
    """Bars over numeric bins (``len(edges) == len(counts) + 1``), a shaded band and a mark."""
    with style():
        figure, ax = _figure(2.8)
        if band is not None:
            ax.axvspan(*band, color=BAND_FILL, label=band_label, zorder=0)
        widths = [b - a for a, b in zip(edges[:-1], edges[1:], strict=True)]
        ax.bar(edges[:-1], counts, width=widths, align="edge", color=BAR, edgecolor="white",
               linewidth=0.4)
        if mark is not None:
            ax.axvline(mark, color=MARK, linewidth=1.2, linestyle="--", label=mark_label)
        ax.xaxis.set_major_formatter(lambda v, _: fmt(v))
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        if band is not None or mark is not None:
            ax.legend(frameon=False, fontsize=8)
    return figure


def columns(labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str,
            ylabel: str, colours: Sequence[str] | None = None) -> Figure:
    """One vertical bar per label."""
    with style():
        figure, ax = _figure(2.8)
        positions = range(len(labels))
        ax.bar(positions, values, color=list(colours) if colours else BAR)
        ax.set_xticks(list(positions), [_clip(v, 12) for v in labels],
                      rotation=45 if len(labels) > 12 else 0,
                      ha="right" if len(labels) > 12 else "center")
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return figure


def bars(rows: Sequence[tuple[str, float, str]], *, title: str, xlabel: str) -> Figure:
    """Horizontal bars, one (label, value, colour) per row, first row on top."""
    with style():
        figure, ax = _figure(0.8 + 0.26 * max(len(rows), 2))
        ax.barh(range(len(rows)), [r[1] for r in rows], color=[r[2] for r in rows])
        ax.set_yticks(range(len(rows)), [_clip(r[0]) for r in rows])
        ax.invert_yaxis()
        for k, row in enumerate(rows):
            ax.annotate(f"{row[1]:,}", (row[1], k), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=8)
        ax.set(title=title, xlabel=xlabel)
    return figure


def stacked_bars(rows: Sequence[tuple[str, Sequence[float]]],
                 series: Sequence[tuple[str, str]], *, title: str, xlabel: str) -> Figure:
    """Horizontal bars stacked by series (name, colour)."""
    with style():
        figure, ax = _figure(1.0 + 0.26 * max(len(rows), 2))
        left = [0.0] * len(rows)
        for k, (name, colour) in enumerate(series):
            values = [row[1][k] for row in rows]
            ax.barh(range(len(rows)), values, left=left, color=colour, label=name)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_yticks(range(len(rows)), [_clip(r[0], 34) for r in rows])
        ax.invert_yaxis()
        ax.set(title=title, xlabel=xlabel)
        ax.legend(frameon=False, fontsize=8, loc="lower right")
    return figure


def intervals(rows: Sequence[tuple[str, float | None, float | None, float | None, str]], *,
              title: str, xlabel: str, reference: float | None = None,
              reference_label: str = "") -> Figure:
    """A forest plot: (label, estimate, low, high, colour) per row against a reference line."""
    with style():
        figure, ax = _figure(0.9 + 0.26 * max(len(rows), 2))
        for k, (_, estimate, low, high, colour) in enumerate(rows):
            if low is not None and high is not None:
                ax.plot([low, high], [k, k], color=colour, linewidth=2)
            if estimate is not None:
                ax.plot([estimate], [k], "o", color=colour, markersize=4)
        if reference is not None:
            ax.axvline(reference, color=MARK, linestyle="--", linewidth=1,
                       label=reference_label)
            ax.legend(frameon=False, fontsize=8, loc="lower left")
        ax.set_yticks(range(len(rows)), [_clip(r[0], 34) for r in rows])
        ax.invert_yaxis()
        ax.set(title=title, xlabel=xlabel)
    return figure


def boxes(rows: Sequence[tuple[str, dict | None]], *, title: str, xlabel: str,
          reference: float | None = 1.0) -> Figure:
    """Min–max whiskers, a quartile box and a median per row (quantiles already computed)."""
    with style():
        figure, ax = _figure(0.9 + 0.3 * max(len(rows), 2))
        stats = [{"label": "", "whislo": q["min"], "q1": q["p25"], "med": q["median"],
                  "q3": q["p75"], "whishi": q["max"], "fliers": []} if q else
                 {"label": "", "whislo": 0, "q1": 0, "med": 0, "q3": 0, "whishi": 0,
                  "fliers": []} for _, q in rows]
        if stats:
            # matplotlib 3.10 renamed vert=False to orientation="horizontal".
            turn = {"orientation": "horizontal"} if _MPL >= (3, 10) else {"vert": False}
            ax.bxp(stats, positions=range(len(rows)), showfliers=False, patch_artist=True,
                   **turn,
                   boxprops={"facecolor": "#cfe0f1", "edgecolor": BAR},
                   medianprops={"color": MARK})
        if reference is not None:
            ax.axvline(reference, color="#888", linestyle=":", linewidth=1)
        ax.set_yticks(range(len(rows)), [_clip(r[0], 30) for r in rows])
        ax.invert_yaxis()
        ax.set(title=title, xlabel=xlabel)
    return figure
