"""``gridkit report``: the command over :func:`gridkit.report.report_geopackage`."""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.console import emit_json, error_line
from gridkit.errors import GridkitError
from gridkit.options import click_options, json_option
from gridkit.report import ReportOptions, report_geopackage


@click.command()
@click.argument("source", metavar="OUT.gpkg", type=click.Path(path_type=Path))
@click_options(ReportOptions)
@json_option()
@click.pass_context
def report(ctx: click.Context, source: Path, options: ReportOptions, as_json: bool) -> None:
    """Write one self-contained HTML page about OUT.gpkg: an interactive map (unit and
    responsibility grids, components, events, QA issues), figures and tables.

    The page opens offline in any current browser: no network, no web fonts, no map
    tiles. OUT.gpkg is only read.

    \b
    Example:
        gridkit report out/sample.gpkg -o out/report.html --png out/maps
    """
    try:
        figures = report_geopackage(source, options).figures
    except GridkitError as exc:
        click.echo(error_line(exc), err=True)
        ctx.exit(exc.exit_code)
    if as_json:
        emit_json(figures)
        return
    click.echo(f"wrote {figures['output']} ({figures['megabytes']:.1f} MB, "
               f"{figures['seconds']:.1f} s)")
    for path in figures["png"]:
        click.echo(f"wrote {path}")
