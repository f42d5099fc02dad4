"""``gridkit report`` as a library: options, the page in memory, the page of a GeoPackage.

:class:`ReportOptions`; :func:`report_html` builds the page's HTML from layers in memory;
:func:`report_geopackage` writes the page of a GeoPackage to an HTML file.

Kept light (no matplotlib, no jinja2 at import): the CLI imports it to list the command's
options; the page is built by :mod:`gridkit.report.build` when the step runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gridkit.options import PATH, option
from gridkit.report.i18n import LANGS
from gridkit.result import StepResult

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    import pyarrow as pa

__all__ = ["ReportOptions", "ReportResult", "report_geopackage", "report_html"]


@dataclass(frozen=True)
class ReportOptions:
    """Options of ``gridkit report`` (and of the ``[report]`` section of ``gridkit run``).

    Parameters
    ----------
    output : pathlib.Path, optional
        The HTML file to write (default: the GeoPackage's name with ``.html``). ``-o``.
    lang : {"zh", "en"}
        Language of the labels. ``--lang``; TOML ``lang``.
    png : pathlib.Path, optional
        Also write static PNG maps for documents into this folder. ``--png``.

    Examples
    --------
    >>> ReportOptions(lang="en").lang
    'en'
    """

    output: Path | None = option(None, flag=("-o", "--output"), type=PATH, toml=False,
                                 help="The HTML file to write (default: OUT.gpkg with .html).")
    lang: str = option("zh", type=click.Choice(LANGS), show_default=True,
                       help="Language of the labels: zh (中文) or en.")
    png: Path | None = option(None, type=PATH, metavar="DIR", toml=False,
                              help="Also write static PNG maps for documents into DIR.")


@dataclass
class ReportResult(StepResult):
    """A written report: :class:`~gridkit.result.StepResult` plus what the page holds.

    Parameters
    ----------
    figures : dict
        What ``gridkit report --json`` prints: output, bytes, counts, key figures.
    qa : geopandas.GeoDataFrame
        Empty: a report finds no issues (it shows those of the GeoPackage).
    page : dict
        Everything the page was built from: output, bytes, lang, layers, png, and
        ``figures`` (every figure the page shows, JSON-ready).
    html : str
        The page itself, from :func:`report_html` (empty once written to a file).

    Examples
    --------
    >>> result = ReportResult({"output": "report.html", "bytes": 1}, page={"lang": "zh"})
    >>> result["output"], result.page["lang"], len(result.qa)
    ('report.html', 'zh', 0)
    """

    page: dict = field(default_factory=dict)
    html: str = field(default="", repr=False)


def report_html(layers: dict[str, gpd.GeoDataFrame | pd.DataFrame | pa.Table],
                options: ReportOptions | None = None, *, name: str = "memory") -> ReportResult:
    """The HTML report of layers held in memory: map, figures and QA in one offline page.

    The page :func:`report_geopackage` writes for a GeoPackage holding these layers (less
    the "stale results" box, which needs the GeoPackage's bookkeeping); nothing is written.

    Parameters
    ----------
    layers : dict
        Layer name as in a gridkit GeoPackage → its frame: ``community`` and ``unit_grid``
        (GeoDataFrames, a projected metric CRS) are required; ``responsibility_grid``,
        ``qa_issue``, ``spotcheck_result``, ``context_*`` (GeoDataFrames), ``component``
        and ``event`` (GeoDataFrames, or Arrow tables with WKB ``geometry`` in the unit
        grids' CRS as the imports return them), ``component_reject``, ``event_reject``,
        ``gridkit_run`` and ``spotcheck_summary`` (tables) are shown when given.
    options : ReportOptions, optional
        The language (``output`` and ``png`` are for files and not used).
    name : str
        What the page calls its source.

    Returns
    -------
    ReportResult
        ``html`` the page; ``figures`` as ``gridkit report --json`` prints them (``output``
        None, ``bytes`` the page's UTF-8 size); ``page`` every figure it shows.

    Raises
    ------
    GridkitError
        An unknown language; no community or unit_grid layer; unit grids without BGID or
        not in a projected CRS.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from gridkit.partition import partition
    >>> cut = partition(gpd.GeoDataFrame({"CODE": ["310116001001"]}, crs=4549,
    ...     geometry=[shapely.box(624_000, 3_398_000, 624_300, 3_398_100)]))
    >>> page = report_html({"community": cut.communities, "unit_grid": cut.unit_grids,
    ...                     "qa_issue": cut.qa}, ReportOptions(lang="en"))
    >>> page.page["layers"]["unit_grid"], page.html.startswith("<!DOCTYPE html>")
    (3, True)
    """
    from gridkit.report.build import check_lang, json_summary, render_report
    from gridkit.report.data import report_data

    started = time.perf_counter()
    options = options or ReportOptions()
    check_lang(options.lang)
    rendered = render_report(report_data(layers, name), options.lang)
    html = rendered.html
    page = rendered.summary(None, len(html.encode("utf-8")), [], started)
    return ReportResult(json_summary(page), page=page, html=html)


def report_geopackage(gpkg: str | Path, options: ReportOptions | None = None) -> ReportResult:
    """Write one self-contained HTML page about ``gpkg`` (and PNG maps when asked).

    ``gpkg`` is only read; the page is replaced only once the new one is complete.

    Parameters
    ----------
    gpkg : str or pathlib.Path
        A gridkit GeoPackage.
    options : ReportOptions, optional
        Where to write, the language, PNG maps.

    Returns
    -------
    ReportResult
        ``figures`` as ``--json`` prints them; ``page`` all the page's figures.

    Raises
    ------
    GridkitError
        An unknown language, an output that is the input or a folder, an unreadable
        GeoPackage.

    Examples
    --------
    >>> result = report_geopackage("out/sample.gpkg", ReportOptions(lang="en"))
    ... # doctest: +SKIP
    >>> result["output"]  # doctest: +SKIP
    'out/sample.html'
    """
    # lazy: matplotlib and jinja2 cost every other command's start-up
    from gridkit.report.build import build_report, json_summary

    options = options or ReportOptions()
    gpkg = Path(gpkg)
    output = options.output if options.output is not None else gpkg.with_suffix(".html")
    page = build_report(gpkg, output, lang=options.lang, png_dir=options.png)
    return ReportResult(json_summary(page), page=page)
