"""Small inline SVG charts, drawn from numbers alone (no plotting library, no script).

Every text that reaches the SVG goes through :func:`esc`: labels are user data (class names,
street codes, rule names) and the SVG is inline HTML.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

WIDTH = 640
FONT = 12
AXIS = "#555"
GRID = "#e3e3e3"
BAR = "#4878a8"
BAND_FILL = "#dff0d8"
MARK = "#c0392b"


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def number(value: float, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:,.{digits}f}"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < top - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, text: object, anchor: str = "start", size: int = FONT,
          fill: str = "#222", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}"{extra}>{esc(text)}</text>')


def histogram(edges: Sequence[float], counts: Sequence[int], *, title: str, xlabel: str,
              ylabel: str, band: tuple[float, float] | None = None,
              band_label: str = "", mark: float | None = None, mark_label: str = "",
              fmt: Callable[[float], str] = lambda v: number(v)) -> str:
    """Bars over numeric bins, with a shaded band and a marked value."""
    left, right, top, bottom = 56, 30, 30, 44
    height = 270
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    lo, hi = float(edges[0]), float(edges[-1])
    span = hi - lo or 1.0
    ymax = max(max(counts, default=0), 1)
    ticks = nice_ticks(ymax)
    ytop = ticks[-1]

    def sx(v: float) -> float:
        return left + (v - lo) / span * plot_w

    def sy(v: float) -> float:
        return top + plot_h - v / ytop * plot_h

    body = []
    if band is not None:
        x0, x1 = sx(max(band[0], lo)), sx(min(band[1], hi))
        body.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 0):.1f}" '
                    f'height="{plot_h}" fill="{BAND_FILL}"/>')
        body.append(_text(x0 + 2, top - 8, band_label, size=11, fill="#3c763d"))
    for tick in ticks:
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{sy(tick):.1f}" '
                    f'y2="{sy(tick):.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 6, sy(tick) + 4, number(tick), "end", 11, AXIS))
    for (a, b), count in zip(zip(edges[:-1], edges[1:], strict=True), counts, strict=True):
        if count:
            body.append(f'<rect x="{sx(a) + 0.5:.1f}" y="{sy(count):.1f}" '
                        f'width="{max(sx(b) - sx(a) - 1, 0.5):.1f}" '
                        f'height="{top + plot_h - sy(count):.1f}" fill="{BAR}">'
                        f'<title>{esc(fmt(a))}–{esc(fmt(b))}: {count:,}</title></rect>')
    if mark is not None and lo <= mark <= hi:
        body.append(f'<line x1="{sx(mark):.1f}" x2="{sx(mark):.1f}" y1="{top}" '
                    f'y2="{top + plot_h}" stroke="{MARK}" stroke-dasharray="4 3"/>')
        body.append(_text(sx(mark) + 4, top - 8 if band is None else top + 12, mark_label,
                          size=11, fill=MARK, extra=' paint-order="stroke" stroke="#fff" '
                          'stroke-width="3"'))
    body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" '
                f'y2="{top + plot_h}" stroke="{AXIS}"/>')
    for tick in nice_ticks(span, 6):
        value = lo + tick
        if value <= hi + 1e-9:
            body.append(_text(sx(value), top + plot_h + 16, fmt(value), "middle", 11, AXIS))
    body.append(_text(left + plot_w / 2, height - 6, xlabel, "middle", 12, AXIS))
    body.append(_text(14, top + plot_h / 2, ylabel, "middle", 12, AXIS,
                      f' transform="rotate(-90 14 {top + plot_h / 2:.1f})"'))
    return _svg(WIDTH, height, body, title)


def columns(labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str,
            ylabel: str, colours: Sequence[str] | None = None) -> str:
    """Vertical bars over categories (counts per integer, per month, per bin)."""
    left, right, top, bottom = 56, 16, 16, 56
    height = 260
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    n = max(len(values), 1)
    ymax = max(max(values, default=0), 1)
    ticks = nice_ticks(ymax)
    ytop = ticks[-1]
    slot = plot_w / n
    body = []
    for tick in ticks:
        y = top + plot_h - tick / ytop * plot_h
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="{GRID}"/>')
        body.append(_text(left - 6, y + 4, number(tick), "end", 11, AXIS))
    every = max(1, math.ceil(n / 24))
    for k, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + k * slot
        h = value / ytop * plot_h
        colour = colours[k] if colours else BAR
        body.append(f'<rect x="{x + slot * 0.1:.1f}" y="{top + plot_h - h:.1f}" '
                    f'width="{slot * 0.8:.1f}" height="{h:.1f}" fill="{esc(colour)}">'
                    f'<title>{esc(label)}: {number(value)}</title></rect>')
        if k % every == 0:
            rotate = n > 12
            cx, cy = x + slot / 2, top + plot_h + 14
            extra = f' transform="rotate(-40 {cx:.1f} {cy:.1f})"' if rotate else ""
            body.append(_text(cx, cy, label, "end" if rotate else "middle", 11, AXIS, extra))
    body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" '
                f'y2="{top + plot_h}" stroke="{AXIS}"/>')
    body.append(_text(left + plot_w / 2, height - 4, xlabel, "middle", 12, AXIS))
    body.append(_text(14, top + plot_h / 2, ylabel, "middle", 12, AXIS,
                      f' transform="rotate(-90 14 {top + plot_h / 2:.1f})"'))
    return _svg(WIDTH, height, body, title)


def bars(rows: Sequence[tuple[str, float, str]], *, title: str, xlabel: str,
         label_width: int = 170) -> str:
    """Horizontal bars: (label, value, colour) per row, the value written at the bar's end."""
    row_h = 22
    top, bottom, right = 8, 34, 70
    height = top + bottom + row_h * max(len(rows), 1)
    plot_w = WIDTH - label_width - right
    vmax = max((v for _, v, _ in rows), default=1) or 1
    body = []
    for k, (label, value, colour) in enumerate(rows):
        y = top + k * row_h
        w = value / vmax * plot_w
        body.append(_text(label_width - 8, y + 15, _clip(label), "end", 12))
        body.append(f'<rect x="{label_width}" y="{y + 3}" width="{max(w, 0.5):.1f}" '
                    f'height="{row_h - 6}" fill="{esc(colour)}"><title>{esc(label)}: '
                    f'{number(value)}</title></rect>')
        body.append(_text(label_width + w + 4, y + 15, number(value), size=11, fill=AXIS))
    base = top + row_h * len(rows)
    body.append(f'<line x1="{label_width}" x2="{label_width}" y1="{top}" y2="{base}" '
                f'stroke="{AXIS}"/>')
    body.append(_text(label_width + plot_w / 2, height - 8, xlabel, "middle", 12, AXIS))
    return _svg(WIDTH, height, body, title)


def stacked_bars(rows: Sequence[tuple[str, Sequence[float]]],
                 series: Sequence[tuple[str, str]], *, title: str, xlabel: str,
                 label_width: int = 200) -> str:
    """Horizontal stacked bars; ``series`` is (name, colour) for each stacked part."""
    row_h = 22
    top, bottom, right = 30, 34, 60
    height = top + bottom + row_h * max(len(rows), 1)
    plot_w = WIDTH - label_width - right
    vmax = max((sum(v) for _, v in rows), default=1) or 1
    body = []
    x = label_width
    for name, colour in series:
        body.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{esc(colour)}"/>')
        body.append(_text(x + 16, 18, name, size=11))
        x += 16 + 8 * len(str(name)) + 24
    for k, (label, values) in enumerate(rows):
        y = top + k * row_h
        body.append(_text(label_width - 8, y + 15, _clip(label, 30), "end", 12))
        x = float(label_width)
        for value, (name, colour) in zip(values, series, strict=True):
            if value:
                w = value / vmax * plot_w
                body.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{max(w, 0.5):.1f}" '
                            f'height="{row_h - 6}" fill="{esc(colour)}"><title>{esc(label)} · '
                            f'{esc(name)}: {number(value)}</title></rect>')
                x += w
        body.append(_text(x + 4, y + 15, number(sum(values)), size=11, fill=AXIS))
    base = top + row_h * len(rows)
    body.append(f'<line x1="{label_width}" x2="{label_width}" y1="{top}" y2="{base}" '
                f'stroke="{AXIS}"/>')
    body.append(_text(label_width + plot_w / 2, height - 8, xlabel, "middle", 12, AXIS))
    return _svg(WIDTH, height, body, title)


def intervals(rows: Sequence[tuple[str, float | None, float | None, float | None, str]], *,
              title: str, xlabel: str, reference: float | None = None,
              reference_label: str = "", domain: tuple[float, float] | None = None,
              fmt: Callable[[float], str] = lambda v: f"{v:.0%}",
              label_width: int = 170) -> str:
    """A forest plot: (label, estimate, low, high, colour) per row against a reference line."""
    row_h = 24
    top, bottom, right = 14, 40, 60
    height = top + bottom + row_h * max(len(rows), 1)
    plot_w = WIDTH - label_width - right
    values = [v for _, e, lo, hi, _ in rows for v in (e, lo, hi) if v is not None]
    if reference is not None:
        values.append(reference)
    lo_d, hi_d = domain or (min(values, default=0), max(values, default=1))
    if hi_d - lo_d < 1e-9:
        lo_d, hi_d = lo_d - 0.05, hi_d + 0.05
    # Ticks on round values: widen the domain to whole steps so labels sit where they say.
    step = nice_ticks(hi_d - lo_d, 5)[1]
    lo_d, hi_d = math.floor(lo_d / step) * step, math.ceil(hi_d / step) * step
    tick_values = [lo_d + k * step for k in range(round((hi_d - lo_d) / step) + 1)]

    def sx(v: float) -> float:
        return label_width + (v - lo_d) / (hi_d - lo_d) * plot_w

    body = []
    for value in tick_values:
        body.append(f'<line x1="{sx(value):.1f}" x2="{sx(value):.1f}" y1="{top}" '
                    f'y2="{top + row_h * len(rows)}" stroke="{GRID}"/>')
        body.append(_text(sx(value), height - 24, fmt(value), "middle", 11, AXIS))
    if reference is not None:
        body.append(f'<line x1="{sx(reference):.1f}" x2="{sx(reference):.1f}" y1="{top - 6}" '
                    f'y2="{top + row_h * len(rows)}" stroke="{MARK}" stroke-dasharray="4 3"/>')
        body.append(_text(sx(reference) + 4, top + 4, reference_label, size=11, fill=MARK))
    for k, (label, estimate, low, high, colour) in enumerate(rows):
        y = top + k * row_h + row_h / 2
        body.append(_text(label_width - 8, y + 4, _clip(label), "end", 12))
        if low is not None and high is not None:
            body.append(f'<line x1="{sx(low):.1f}" x2="{sx(high):.1f}" y1="{y:.1f}" '
                        f'y2="{y:.1f}" stroke="{esc(colour)}" stroke-width="2"/>')
        if estimate is not None:
            tip = f"{label}: {fmt(estimate)}"
            if low is not None and high is not None:
                tip += f" ({fmt(low)}–{fmt(high)})"
            body.append(f'<circle cx="{sx(estimate):.1f}" cy="{y:.1f}" r="4" '
                        f'fill="{esc(colour)}"><title>{esc(tip)}</title></circle>')
    body.append(_text(label_width + plot_w / 2, height - 6, xlabel, "middle", 12, AXIS))
    return _svg(WIDTH, height, body, title)


def boxes(rows: Sequence[tuple[str, dict]], *, title: str, xlabel: str,
          reference: float | None = 1.0, label_width: int = 170) -> str:
    """Min–max whiskers with a quartile box and a median tick per row."""
    row_h = 24
    top, bottom, right = 10, 40, 40
    height = top + bottom + row_h * max(len(rows), 1)
    plot_w = WIDTH - label_width - right
    values = [r[key] for _, r in rows if r for key in ("min", "max")]
    lo_d = min([*values, reference or 0, 0])
    hi_d = max([*values, reference or 1, 1e-9])
    ticks = nice_ticks(hi_d - lo_d)
    hi_d = lo_d + ticks[-1]

    def sx(v: float) -> float:
        return label_width + (v - lo_d) / (hi_d - lo_d) * plot_w

    body = []
    for tick in ticks:
        value = lo_d + tick
        body.append(f'<line x1="{sx(value):.1f}" x2="{sx(value):.1f}" y1="{top}" '
                    f'y2="{top + row_h * len(rows)}" stroke="{GRID}"/>')
        body.append(_text(sx(value), height - 24, f"{value:g}", "middle", 11, AXIS))
    if reference is not None:
        body.append(f'<line x1="{sx(reference):.1f}" x2="{sx(reference):.1f}" y1="{top}" '
                    f'y2="{top + row_h * len(rows)}" stroke="{MARK}" stroke-dasharray="4 3"/>')
    for k, (label, r) in enumerate(rows):
        y = top + k * row_h + row_h / 2
        body.append(_text(label_width - 8, y + 4, _clip(label), "end", 12))
        if not r:
            continue
        tip = (f"{label}: min {r['min']:.2f}, median {r['median']:.2f}, "
               f"max {r['max']:.2f}")
        body.append(f'<g><title>{esc(tip)}</title>'
                    f'<line x1="{sx(r["min"]):.1f}" x2="{sx(r["max"]):.1f}" y1="{y:.1f}" '
                    f'y2="{y:.1f}" stroke="{AXIS}"/>'
                    f'<rect x="{sx(r["p25"]):.1f}" y="{y - 7:.1f}" '
                    f'width="{max(sx(r["p75"]) - sx(r["p25"]), 1):.1f}" height="14" '
                    f'fill="#cfe0f1" stroke="{BAR}"/>'
                    f'<line x1="{sx(r["median"]):.1f}" x2="{sx(r["median"]):.1f}" '
                    f'y1="{y - 7:.1f}" y2="{y + 7:.1f}" stroke="{BAR}" stroke-width="2"/></g>')
    body.append(_text(label_width + plot_w / 2, height - 6, xlabel, "middle", 12, AXIS))
    return _svg(WIDTH, height, body, title)


def _clip(label: object, limit: int = 22) -> str:
    text = str(label)
    return text if len(text) <= limit else text[: limit - 1] + "…"
