"""``gridkit export``: a click command over :func:`gridkit.export.export`, attached to the
main ``gridkit`` group by gridkit's CLI.

It turns a GridkitError into one line on stderr and its exit code itself, so it behaves the
same inside the group and on its own.
"""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.console import emit_json, one_line_errors, show_progress, status_line
from gridkit.errors import GridkitError

FORMATS = "gpkg|shp|geojson|csv|parquet"


@click.command("export")
@click.argument("output", type=click.Path(path_type=Path))
@click.argument("dest", required=False, type=click.Path(path_type=Path))
@click.option("--to", "fmt", metavar=FORMATS,
              help="Format: gpkg (one GeoPackage file, styled for QGIS, Chinese field "
                   "descriptions), shp, geojson (WGS 84), csv (with coordinates) or parquet "
                   "(GeoParquet): a folder DEST with one file per layer.")
@click.option("--layers", multiple=True, metavar="NAMES",
              help="Layers to export, comma-separated or repeated. Default: every data "
                   "layer (shp: every spatial one; --since: the ones with a feature key).")
@click.option("--encoding", help="Text encoding: shp gbk (default) or utf-8, with a .cpg; "
                                 "csv utf-8 (default, with a BOM for Excel) or gbk.")
@click.option("--since", metavar="RUN",
              help="Export only what changed since export RUN (its number from --list-runs, "
                   "'last', or its TIME): new and changed features with CHANGE=new/changed, "
                   "retired keys with CHANGE=retired.")
@click.option("--list-runs", is_flag=True,
              help="List the exports recorded in OUTPUT (what --since takes) and stop.")
@click.option("--no-record", is_flag=True,
              help="Do not record this export in OUTPUT (OUTPUT stays untouched; a later "
                   "--since cannot refer to it).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object (outputs, counts per layer, format) on stdout.")
@one_line_errors
def export(output, dest, fmt, layers, encoding, since, list_runs, no_record, as_json):
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
    from gridkit.export.handoff import ExportOptions
    from gridkit.export.handoff import export as run_export
    from gridkit.export.handoff import list_runs as recorded_runs

    if list_runs:
        report = recorded_runs(output)
        emit_json(report) if as_json else _print_runs(report)
        return
    if not fmt or dest is None:
        raise GridkitError(f"give --to FORMAT and DEST, e.g. gridkit export {output} --to gpkg "
                           f"handoff.gpkg (formats: {FORMATS.replace('|', ', ')})")
    names = [n.strip() for item in layers for n in item.split(",") if n.strip()] or None
    options = ExportOptions(fmt.lower(), dest, names, encoding, since, not no_record)
    with status_line("export", show_progress() and not as_json) as say:
        report = run_export(output, options, progress=say)
    if as_json:
        emit_json(report)
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
