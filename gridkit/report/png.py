"""Static PNG maps for documents (``gridkit report --png DIR``), drawn with matplotlib.

Labels are Chinese or English like the page. Chinese needs a CJK font on the machine (Noto
CJK, Microsoft YaHei, PingFang, ...); without one the maps fall back to English labels rather
than print empty boxes, and the command says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from gridkit.errors import FileError, GridkitWarning, mention
from gridkit.report import palette
from gridkit.report.data import ReportData
from gridkit.report.i18n import strings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CJK_NAMES = ("Noto Sans CJK", "Source Han Sans", "Microsoft YaHei", "PingFang", "SimHei",
             "Heiti", "WenQuanYi", "Hiragino Sans GB", "Noto Sans SC", "SimSun")
CJK_FILES = ("C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/simhei.ttf",
             "/System/Library/Fonts/PingFang.ttc", "/System/Library/Fonts/STHeiti Light.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
MAX_SCATTER = 300_000  # points drawn per map; more only blacken the page
DPI = 150


def cjk_font() -> str | None:
    """A font file with Chinese glyphs, or None."""
    from matplotlib import font_manager

    for entry in font_manager.fontManager.ttflist:
        if any(name in entry.name for name in CJK_NAMES):
            return entry.fname
    if shutil.which("fc-list"):
        try:
            listed = subprocess.run(["fc-list", ":lang=zh", "file", "style"],
                                    capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            listed = ""
        files = [line.split(":")[0] for line in listed.splitlines() if line.strip()]
        files.sort(key=lambda f: ("Sans" not in f, "Bold" in f, f))
        if files:
            return files[0]
    return next((f for f in CJK_FILES if Path(f).exists()), None)


def write_maps(data: ReportData, figures: dict, directory: Path, lang: str) -> list[Path]:
    """Write the report's maps as PNG files in ``directory``; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileError(f"{mention(png_dir=str(directory))}: cannot create the folder "
                        f"({exc.strerror}); choose another", parameter="png_dir",
                        file=directory) from None
    font = None
    # Community names are Chinese in English maps too: the CJK font serves both languages.
    path = cjk_font()
    if path is None and lang == "zh":
        lang = "en"  # no Chinese glyphs here: English beats rows of empty boxes
        warnings.warn("no Chinese font found for the PNG maps; they use English labels "
                      "(install fonts-noto-cjk)", GridkitWarning, stacklevel=2)
    elif path is not None:
        font_manager.fontManager.addfont(path)
        font = font_manager.FontProperties(fname=path)
    maps = Maps(data, figures, strings(lang), lang, font)
    written = []
    for name, draw in maps.available():
        written.append(_save(draw(), directory / f"{name}.png"))
    return written


def write_charts(drawn: list, directory: Path) -> list[Path]:
    """The page's charts as ``chart_01.png``, ...

    (the same matplotlib figures the page inlines as SVG), written atomically like the maps.

    Parameters
    ----------
    drawn : list of matplotlib.figure.Figure
        The charts in page order.
    directory : Path
        The ``--png`` folder (already created by :func:`write_maps`).

    Returns
    -------
    list of Path
        The files written.
    """
    from gridkit.report.charts import png

    written = []
    for k, chart in enumerate(drawn, 1):
        path = directory / f"chart_{k:02d}.png"
        handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png",
                                             dir=directory)
        os.close(handle)
        try:
            png(chart, Path(temporary), dpi=DPI)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise FileError(f"{path}: cannot write the chart ({exc.strerror})",
                            file=path) from None
        written.append(path)
    return written


def _save(figure, path: Path) -> Path:
    import matplotlib.pyplot as plt

    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png",
                                         dir=path.parent)
    os.close(handle)
    try:
        figure.savefig(temporary, dpi=DPI, bbox_inches="tight", facecolor="white")
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise FileError(f"{path}: cannot write the map ({exc.strerror})", file=path) from None
    finally:
        plt.close(figure)
    return path


def _rings(geoms: np.ndarray) -> list[np.ndarray]:
    """Every ring and line of ``geoms`` as an (n, 2) array, for matplotlib collections."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    parts = shapely.get_parts(geoms)
    kinds = shapely.get_type_id(parts)
    rings = np.concatenate([shapely.get_rings(parts[kinds == 3]),
                            parts[np.isin(kinds, (1, 2))]])
    coords, index = shapely.get_coordinates(rings, return_index=True)
    cuts = np.flatnonzero(np.diff(index)) + 1
    return np.split(coords, cuts) if len(coords) else []


class Maps:
    """One method per map; each returns a matplotlib figure."""

    def __init__(self, data: ReportData, figures: dict, words: dict, lang: str, font):
        self.data, self.figures, self.w, self.lang, self.font = data, figures, words, lang, font
        self.extent = data.unit_grid.total_bounds

    def available(self) -> list[tuple[str, Callable[[], Figure]]]:
        """The maps this file has data for, as (name, draw function)."""
        maps = [("overview", self.overview), ("unit_area", self.unit_area)]
        if "component" in self.data.points:
            maps.append(("components", lambda: self.points("component")))
        if "event" in self.data.points:
            maps.append(("events", lambda: self.points("event")))
        qa = self.data.shapes.get("qa_issue")
        if qa is not None and not qa.empty:
            maps.append(("qa", self.qa))
        if self.data.shapes.get("spotcheck_result") is not None:
            maps.append(("spotcheck", self.spotcheck))
        return maps

    # -- pieces -------------------------------------------------------------------------------
    def _figure(self, title: str):
        import matplotlib.pyplot as plt

        x0, y0, x1, y1 = self.extent
        aspect = (y1 - y0) / max(x1 - x0, 1)
        width = 10.0
        figure, ax = plt.subplots(figsize=(width, min(max(width * aspect, 5), 14) + 0.8))
        ax.set_aspect("equal")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_axis_off()
        ax.set_title(title, fontproperties=self.font, fontsize=15)
        self._scale_bar(ax)
        ax.annotate(f"{self.data.crs.to_string()} · gridkit", (1, 0), xycoords="axes fraction",
                    ha="right", va="top", fontsize=8, color="#555")
        return figure, ax

    def _scale_bar(self, ax) -> None:
        x0, y0, x1, _ = self.extent
        target = (x1 - x0) / 5
        power = 10 ** np.floor(np.log10(target))
        length = max(m * power for m in (1, 2, 5) if m * power <= target)
        ax.plot([x0, x0 + length], [y0, y0], color="#222", linewidth=3, solid_capstyle="butt")
        label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
        ax.annotate(label, (x0 + length / 2, y0), xytext=(0, 4), textcoords="offset points",
                    ha="center", fontsize=9)

    def _fill(self, ax, geoms, colours, alpha: float = 1.0) -> None:
        from matplotlib.collections import PolyCollection

        geoms = np.asarray(geoms, dtype=object)
        colours = np.asarray(colours, dtype=object)
        present = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
        parts, owner = shapely.get_parts(geoms[present], return_index=True)
        polygons = shapely.get_type_id(parts) == 3
        # Holes are not cut out of fills: unit grids have none, and outlines show them.
        exteriors = _rings(shapely.get_exterior_ring(parts[polygons]))
        fills = colours[present[owner[polygons]]]
        ax.add_collection(PolyCollection(exteriors, facecolors=list(fills), edgecolors="none",
                                         alpha=alpha))

    def _outline(self, ax, geoms, colour: str, width: float) -> None:
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(_rings(geoms), colors=colour, linewidths=width))

    def _base(self, ax, grids: bool = True) -> None:
        if grids:
            self._outline(ax, self.data.unit_grid.geometry.to_numpy(), "#9aa5b1", 0.2)
        self._outline(ax, self.data.community.geometry.to_numpy(), "#222222", 0.9)

    def _labels(self, ax) -> None:
        community = self.data.community
        if len(community) > 120:
            return
        points = shapely.point_on_surface(community.geometry.to_numpy())
        names = community["NAME"].fillna("").astype(str)
        for point, name, code in zip(points, names, community["CODE"].astype(str),
                                     strict=True):
            if self.font is None and not name.isascii():
                name = code  # no Chinese glyphs on this machine: the code, not empty boxes
            if name and point is not None:
                ax.annotate(name, (point.x, point.y), ha="center", va="center", fontsize=7,
                            fontproperties=self.font, color="#1d2731",
                            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                                  "alpha": 0.6})

    def _legend(self, ax, items: list[tuple[str, str]], title: str = "") -> None:
        from matplotlib.patches import Patch

        if not items:
            return
        handles = [Patch(facecolor=colour, edgecolor="#444", label=label)
                   for colour, label in items]
        legend = ax.legend(handles=handles, loc="lower right", fontsize=8, title=title,
                           prop=self.font, framealpha=0.9)
        if self.font is not None:
            legend.get_title().set_fontproperties(self.font)

    # -- maps ---------------------------------------------------------------------------------
    def overview(self):
        """Unit grids coloured by responsibility grid band."""
        w = self.w
        figure, ax = self._figure(f"{w['layer_unit_grid']} · {w['layer_responsibility_grid']}")
        resp = self.data.shapes.get("responsibility_grid")
        if resp is not None and not resp.empty and "BAND" in resp:
            bands = sorted(resp["BAND"].dropna().astype(str).unique())
            density = dict(zip(resp["BAND"].astype(str),
                               resp.get("DENSITY", resp["BAND"]).astype(str), strict=True))
            colours = palette.band_colours(bands, density)
            self._fill(ax, resp.geometry.to_numpy(),
                       [colours.get(str(b), palette.OTHER) for b in resp["BAND"]], 0.6)
            self._base(ax)
            self._outline(ax, resp.geometry.to_numpy(), "#2f4f6f", 0.6)
            self._legend(ax, [(colours[b], f"{w['band']} {b} ({w.get(density[b], density[b])})")
                              for b in bands], w["layer_responsibility_grid"])
        else:
            self._base(ax)
        self._labels(ax)
        return figure

    def unit_area(self):
        """Unit grids coloured by area against their target."""
        w = self.w
        figure, ax = self._figure(f"{w['sec_unit_area']} · {w['map.colour_area']}")
        ratio = self.figures["unit_areas"]["ratio"]
        breaks = [0.5, 0.75, 1.25, 2.0]
        colours = ["#d7301f", "#fdae6b", "#c7e9c0", "#6baed6", "#756bb1"]
        classes = np.searchsorted(breaks, np.nan_to_num(ratio, nan=1.0), side="right")
        self._fill(ax, self.data.unit_grid.geometry.to_numpy(),
                   [colours[k] for k in classes])
        self._base(ax)
        labels = ["< 0.5×", "0.5–0.75×", "0.75–1.25×", "1.25–2×", "> 2×"]
        self._legend(ax, list(zip(colours, labels, strict=True)),
                     f"{w['area_m2']} / {w['target_area']}")
        return figure

    def points(self, name: str):
        """Points of layer ``name`` coloured by major class."""
        w = self.w
        layer = self.data.points[name]
        p = self.figures["points"][name]
        figure, ax = self._figure(f"{w['layer_' + name]} · {p['count']:,}")
        self._base(ax, grids=len(self.data.unit_grid) < 20_000)
        finite = np.flatnonzero(np.isfinite(layer.x) & np.isfinite(layer.y))
        if len(finite) > MAX_SCATTER:
            finite = np.sort(np.random.default_rng(0).choice(finite, MAX_SCATTER, replace=False))
        majors = [m["code"] for m in p["majors"]]
        codes = p["major_codes"][finite]
        size = 8 if len(finite) < 10_000 else 3 if len(finite) < 100_000 else 0.5
        items = []
        for entry in p["majors"]:
            chosen = codes == entry["code"]
            colour = palette.class_colour(entry["code"], majors)
            ax.scatter(layer.x[finite][chosen], layer.y[finite][chosen], s=size, c=colour,
                       marker="s" if name == "component" else "D", linewidths=0)
            label = entry["name"] if self.lang == "zh" else entry.get("name_en") or entry["name"]
            items.append((colour, f"{entry['code']} {label} ({entry['count']:,})"))
        self._legend(ax, items, w["major_class"])
        return figure

    def qa(self):
        """QA issues coloured by severity."""
        w = self.w
        qa = self.data.shapes["qa_issue"]
        figure, ax = self._figure(f"{w['layer_qa_issue']} · {len(qa):,}")
        self._base(ax)
        severity = qa.get("SEVERITY")
        items = []
        for level, colour in palette.SEVERITY.items():
            chosen = (severity == level).to_numpy() if severity is not None else \
                np.zeros(len(qa), bool)
            geoms = qa.geometry.to_numpy()[chosen]
            geoms = geoms[~shapely.is_missing(geoms)]
            if not len(geoms):
                continue
            self._outline(ax, geoms, colour, 1.2)
            points = shapely.point_on_surface(geoms)
            ax.scatter(shapely.get_x(points), shapely.get_y(points), s=30, c=colour,
                       marker="^", edgecolors="white", linewidths=0.6)
            items.append((colour, f"{w[level]} ({int(chosen.sum()):,})"))
        self._legend(ax, items, w["severity"])
        return figure

    def spotcheck(self):
        """Spot-checked grids coloured by verdict."""
        w = self.w
        spot = self.data.shapes["spotcheck_result"]
        figure, ax = self._figure(w["layer_spotcheck_result"])
        self._base(ax)
        verdict = spot["VERDICT"].astype(str) if "VERDICT" in spot else None
        colours = [palette.VERDICT.get(v, "#9467bd") for v in verdict] if verdict is not None \
            else ["#9467bd"] * len(spot)
        self._fill(ax, spot.geometry.to_numpy(), colours, 0.8)
        self._outline(ax, spot.geometry.to_numpy(), "#4b0082", 0.8)
        if verdict is not None:
            self._legend(ax, [(palette.VERDICT.get(v, "#9467bd"), f"{w.get(v, v)} ({n:,})")
                              for v, n in verdict.value_counts().items()], w["verdict"])
        return figure
