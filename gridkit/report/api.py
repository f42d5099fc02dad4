"""``gridkit report`` as a library: :class:`ReportOptions` and :func:`report_geopackage`.

Kept light (no matplotlib, no jinja2 at import): the CLI imports it to list the command's
options; the page is built by :mod:`gridkit.report.build` when the step runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from gridkit.options import PATH, option
from gridkit.report.i18n import LANGS
from gridkit.result import StepResult

__all__ = ["ReportOptions", "ReportResult", "report_geopackage"]


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

    Examples
    --------
    >>> result = ReportResult({"output": "report.html", "bytes": 1}, page={"lang": "zh"})
    >>> result["output"], result.page["lang"], len(result.qa)
    ('report.html', 'zh', 0)
    """

    page: dict = field(default_factory=dict)


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
