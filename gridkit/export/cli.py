"""``gridkit export``: a click command over :func:`gridkit.export.export`, attached to the
main ``gridkit`` group by gridkit's CLI.

It turns a GridkitError into one line on stderr and its exit code itself, so it behaves the
same inside the group and on its own.
"""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.console import emit_json, one_line_errors, step_figures
from gridkit.export import ExportOptions, export_geopackage, list_runs
from gridkit.options import click_options, json_option


@click.command("export")
@click.argument("output", type=click.Path(path_type=Path))
@click_options(ExportOptions)
@click.option("--list-runs", "runs", is_flag=True,
              help="List the exports recorded in OUTPUT (what --since takes) and stop.")
@json_option("outputs, counts per layer, format")
@one_line_errors
def export(output: Path, options: ExportOptions, runs: bool, as_json: bool) -> None:
    """Hand the layers of OUTPUT (a gridkit GeoPackage) to other systems.

    Writes DEST in one format; a failed export leaves an earlier DEST as it was. Every
    export records a fingerprint of each community, unit grid, responsibility grid,
    component and event in OUTPUT, so that a later --since RUN hands over only the changes
    (see gridkit/export/README.md).

    \b
    Examples:
        gridkit export out/district.gpkg --to gpkg handoff/district.gpkg
        gridkit export out/district.gpkg --to shp handoff/shp --encoding gbk
        gridkit export out/district.gpkg --to geojson handoff/web --layers unit_grid,component
        gridkit export out/district.gpkg --list-runs
        gridkit export out/district.gpkg --to gpkg handoff/changes.gpkg --since last
    """
    if runs:
        report = list_runs(output)
        emit_json(report) if as_json else _print_runs(report)
        return
    report = step_figures("export", export_geopackage, as_json, output, options)
    if as_json:
        return
    for warning in report["warnings"]:
        click.echo(f"gridkit: warning: {warning}", err=True)
    _print_summary(report)


def _print_summary(report: dict) -> None:
    since = report["since"]
    head = f"changes since export run {since['run']}" if since else "full export"
    click.echo(f"{report['dest']} ({report['format']}, {head}):")
    for name, layer in report["layers"].items():
        line = f"  {name:<22} {layer['features']:>9,} features"
        if since:
            line += (f"  ({layer['new'] or 0:,} new, {layer['changed'] or 0:,} changed, "
                     f"{layer['retired'] or 0:,} retired)")
        click.echo(line)
    if report["run"] is not None:
        click.echo(f"recorded as export run {report['run']} in {report['source']}: hand over "
                   f"what changes next with --since {report['run']}")


def _print_runs(report: dict) -> None:
    if not report["runs"]:
        click.echo(f"{report['source']}: no export recorded yet")
        return
    click.echo(f"{'RUN':>4}  {'TIME':<25}  {'FORMAT':<7}  {'SINCE':>5}  DEST / LAYERS")
    for run in report["runs"]:
        layers = ", ".join(f"{name} {layer['features']:,}"
                           for name, layer in run["layers"].items())
        since = "-" if run["since"] is None else str(run["since"])
        click.echo(f"{run['run']:>4}  {run['time']:<25}  {run['format']:<7}  {since:>5}  "
                   f"{run['dest']}")
        click.echo(f"{'':>47}{layers}")
