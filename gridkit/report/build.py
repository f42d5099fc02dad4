"""The report from a GeoPackage to files: read, compute, encode, assemble, write atomically."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridkit.errors import FileError, InputError, mention
from gridkit.report import figures as fig
from gridkit.report.data import ReportData, read_report_data
from gridkit.report.i18n import LANGS
from gridkit.report.mapdata import build_map
from gridkit.report.page import render

# Per-row arrays the map needs but ``--json`` must not print.
_MAP_ONLY = ("ratio", "per_grid", "major_codes", "class_codes", "street_names",
             "community_names", "street_list", "street_communities")


def compute_figures(data: ReportData, lang: str) -> dict:
    """Every figure of the report from the GeoPackage's layers.

    Parameters
    ----------
    data : gridkit.report.data.ReportData
        The layers as :func:`gridkit.report.data.read_report_data` reads them.
    lang : {"zh", "en"}
        The language of class names.

    Returns
    -------
    dict
        ``overview``, ``unit_areas``, ``responsibility``, ``points`` (components and events),
        ``qa``, ``rejects``, ``spotcheck``, ``runs`` and ``class_names``.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, shapely, tempfile
    >>> from gridkit.partition import partition
    >>> from gridkit.report.data import read_report_data
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.gpkg"
    >>> result = partition(gpd.GeoDataFrame({"CODE": ["310116001001"]}, crs=4549,
    ...     geometry=[shapely.box(624_000, 3_398_000, 624_300, 3_398_100)]))
    >>> result.communities.to_file(path, layer="community")
    >>> result.unit_grids.to_file(path, layer="unit_grid")
    >>> figures = compute_figures(read_report_data(path), "zh")
    >>> figures["overview"]["layers"]["unit_grid"]
    3
    """
    grid_index = pd.Index(data.unit_grid["BGID"].astype(str))
    overview = fig.overview(data)
    points = {}
    for name, kind, field, at in (("component", "component", "OBJCODE", 6),
                                  ("event", "event", "EVTCODE", 0)):
        result = fig.points(data, name, kind, field, at, grid_index)
        if result is not None:
            points[name] = result
    names = {kind: (fig.class_names(kind) if lang == "zh" else fig.class_names_en(kind))
             for kind in ("component", "event")}
    return {
        "overview": overview,
        "unit_areas": fig.unit_areas(data),
        "responsibility": fig.responsibility(data),
        "points": points,
        "qa": fig.qa(data),
        "rejects": fig.rejects(data),
        "spotcheck": fig.spotcheck(data),
        "runs": fig.runs(data),
        "class_names": names,
    }


def build_report(source: str | Path, output: str | Path, *, lang: str = "zh",
                 png_dir: str | Path | None = None) -> dict:
    """Write the HTML report of a gridkit GeoPackage: map, figures and QA in one offline page.

    ``source`` is only read. ``output`` is replaced only once the new page is complete.

    Parameters
    ----------
    source : str or pathlib.Path
        The GeoPackage gridkit wrote (at least ``community`` and ``unit_grid``).
    output : str or pathlib.Path
        The HTML file to write.
    lang : {"zh", "en"}, optional
        The page's language.
    png_dir : str or pathlib.Path, optional
        Also write PNG maps and charts there (for documents and slides).

    Returns
    -------
    dict
        The figures ``gridkit report --json`` prints: output, size, layers, figures, PNGs.

    Raises
    ------
    GridkitError
        When ``lang`` is unknown, ``output`` is the source or a folder, a layer is missing or
        unreadable, or the page cannot be written.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, shapely, tempfile
    >>> from gridkit.partition import partition
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> result = partition(gpd.GeoDataFrame({"CODE": ["310116001001"]}, crs=4549,
    ...     geometry=[shapely.box(624_000, 3_398_000, 624_300, 3_398_100)]))
    >>> result.communities.to_file(folder / "out.gpkg", layer="community")
    >>> result.unit_grids.to_file(folder / "out.gpkg", layer="unit_grid")
    >>> figures = build_report(folder / "out.gpkg", folder / "report.html", lang="en")
    >>> figures["layers"]["unit_grid"], (folder / "report.html").exists()
    (3, True)
    """
    started = time.perf_counter()
    check_lang(lang)
    source, output = Path(source), Path(output)
    if output.exists() and output.resolve() == source.resolve():
        raise InputError(f"{output} is the input GeoPackage: writing there would replace "
                         f"it; give the report another name, e.g. {mention(output='report.html')}",
                         parameter="output", file=output)
    if output.is_dir():
        raise InputError(f"{output} is a folder; give a file name, e.g. "
                         f"{mention(output=str(output / 'report.html'))}", parameter="output",
                         file=output)
    data = read_report_data(source)
    from gridkit.store import stale_results

    # Results whose inputs changed after them are shown, but marked (gridkit.store's rule).
    stale = [{"result": s.result, "command": s.command, "changed": s.changed}
             for s in stale_results(source)]
    rendered = render_report(data, lang, stale)
    size = write_atomic(output, rendered.html.encode("utf-8"))
    pngs = []
    if png_dir is not None:
        from gridkit.report.png import write_charts, write_maps

        pngs = write_maps(data, rendered.figures, Path(png_dir), lang)
        pngs += write_charts(rendered.drawn, Path(png_dir))
    return rendered.summary(str(output), size, pngs, started)


@dataclass
class RenderedReport:
    """A report page built in memory, and what it was built from.

    Attributes
    ----------
    html : str
        The whole page.
    lang : str
        Its language.
    figures : dict
        Every figure it shows (:func:`compute_figures`, with ``stale``).
    map_data : gridkit.report.mapdata.MapData
        The map's encoded layers.
    drawn : list
        The charts drawn into it (for PNG copies).
    """

    html: str
    lang: str
    figures: dict
    map_data: Any
    drawn: list

    def summary(self, output: str | None, size: int, pngs: list, started: float) -> dict:
        """What :func:`build_report` returns for this page written to ``output``."""
        return {
            "output": output,
            "bytes": size,
            "megabytes": round(size / 2**20, 2),
            "lang": self.lang,
            "layers": self.figures["overview"]["layers"],
            "map_omitted_fields": self.map_data.omitted,
            "png": [str(p) for p in pngs],
            "figures": _jsonable({k: v for k, v in self.figures.items()
                                  if k != "class_names"}),
            "seconds": round(time.perf_counter() - started, 2),
        }


def render_report(data: ReportData, lang: str, stale: list[dict] | None = None
                  ) -> RenderedReport:
    """The page of ``data`` (from a file or memory): figures, map and HTML, nothing written.

    ``stale``: the results whose inputs changed after them (``gridkit.store``), shown marked.
    """
    figures = compute_figures(data, lang)
    figures["stale"] = list(stale or [])
    map_data = build_map(data, figures, lang)
    drawn: list = []
    return RenderedReport(render(figures, map_data, lang, drawn), lang, figures, map_data,
                          drawn)


def check_lang(lang: str) -> None:
    """Refuse a language the report has no labels for."""
    if lang not in LANGS:
        raise InputError(f"{mention(lang=lang)}: choose one of {', '.join(LANGS)}",
                         parameter="lang")


def write_atomic(path: Path, content: bytes) -> int:
    """Write to a temporary file beside ``path`` and rename it over.

    A failed or interrupted write leaves the previous report as it was.
    """
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                             dir=directory)
    except OSError as exc:
        raise FileError(f"{path}: cannot write in {directory} ({exc.strerror}); choose "
                        "another output path", file=path) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise FileError(f"{path}: cannot write the report ({exc.strerror}); the previous "
                        "file, if any, is unchanged", file=path) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(content)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if k not in _MAP_ONLY}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value) if np.isfinite(value) else None
    return value


def json_summary(result: dict) -> dict:
    """The ``--json`` object: where the report went, how big it is, and the key figures.

    Parameters
    ----------
    result : dict
        What :func:`build_report` returned.

    Returns
    -------
    dict
        Output, size, language, counts per layer, unit and responsibility grids, points by
        major class, QA counts, the spot-check verdict, PNG files, seconds.
    """
    f = result["figures"]
    u = f["unit_areas"]
    summary = {
        "output": result["output"], "bytes": result["bytes"], "megabytes": result["megabytes"],
        "lang": result["lang"], "counts": result["layers"],
        "unit_grids": {"count": u["grids"], "target_area": u["target"],
                       "in_band": u["in_band"], "median_area": u["stats"].get("median")},
    }
    if f.get("responsibility"):
        r = f["responsibility"]
        summary["responsibility_grids"] = {"count": r["grids"], "in_band": r["in_band"]}
    for name, p in f.get("points", {}).items():
        summary[name + "s"] = {"count": p["count"], "on_map": p["on_map"],
                               "not_in_grid": p["not_in_grid"],
                               "by_major": {m["code"]: m["count"] for m in p["majors"]}}
    if f.get("qa") is not None:
        summary["qa"] = {"error": f["qa"]["error"], "warning": f["qa"]["warning"]}
    if f.get("spotcheck"):
        overall = f["spotcheck"].get("overall") or {}
        summary["spotcheck"] = {"verdict": overall.get("VERDICT"),
                                "grids": f["spotcheck"].get("grids")}
    summary["map_omitted_fields"] = result["map_omitted_fields"]
    summary["png"] = result["png"]
    summary["seconds"] = result["seconds"]
    return summary
