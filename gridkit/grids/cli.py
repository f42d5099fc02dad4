"""``gridkit grids check`` and ``gridkit grids adopt``: a city's existing unit grids."""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.console import GridkitGroup, emit_json
from gridkit.errors import CheckFailed
from gridkit.grids import GridsAdoptOptions, GridsCheckOptions, adopt_geopackage, check_grids_file
from gridkit.options import click_options, json_option


@click.group(cls=GridkitGroup)
def grids() -> None:
    """The unit grids a city already has: audit and adopt them, keeping their codes.

    \b
    Example:
        gridkit grids check city_grids.shp --communities communities.gpkg
        gridkit grids adopt city_grids.shp -o out/district.gpkg --communities c.gpkg
    """


@grids.command("check")
@click_options(GridsCheckOptions)
@json_option()
def grids_check(options: GridsCheckOptions, as_json: bool) -> None:
    """Audit a unit grid layer against GB/T 30428.1: codes, communities, gaps, overlaps,
    slivers, size band, multi-part and invalid geometry, serial gaps. Exit 1 on errors.

    \b
    Example:
        gridkit grids check grids.shp --communities communities.gpkg -o audit.html
    """
    result, audit = check_grids_file(options)
    figures = result.figures
    if as_json:
        emit_json(figures)
    else:
        click.echo(f"{figures['unit_grids']:,} unit grids in {figures['communities']} "
                   f"communities (codes from field {figures['code_field']})")
        for rule, count in figures["by_rule"].items():
            click.echo(f"  {rule:<28} {count:>6}")
        for issue in [i for i in audit.issues if i.severity == "error"][:20]:
            click.echo(f"error: {issue.message}")
        click.echo(f"{figures['errors']} errors, {figures['warnings']} warnings")
    if audit.errors:
        # The figures are already printed; exit 1 without a second message.
        raise click.exceptions.Exit(CheckFailed.exit_code)


@grids.command()
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="GeoPackage to write (unit_grid, community, qa_issue, bgid_registry).")
@click_options(GridsAdoptOptions)
@json_option()
def adopt(output: Path, options: GridsAdoptOptions, as_json: bool) -> None:
    """Write a city's unit grids to OUTPUT as unit_grid, keeping their codes.

    Then group, census import, events import, census sample/accuracy, export and report
    work on them as on partitioned grids.

    \b
    Example:
        gridkit grids adopt grids.shp -o out/district.gpkg --communities c.gpkg --repair
    """
    figures = adopt_geopackage(output, options).figures
    if as_json:
        emit_json(figures)
        return
    click.echo(f"adopted {figures['unit_grids']:,} of {figures['read']:,} unit grids "
               f"(codes from {figures['code_field']}) in {figures['communities']} communities")
    for rule, count in figures["repairs"].items():
        click.echo(f"  {rule:<24} {count:>6}")
    click.echo(f"audit: {figures['errors']} errors, {figures['warnings']} warnings (qa_issue)")
    click.echo(f"wrote {figures['output']}")


def print_update_summary(figures: dict) -> None:
    """What ``gridkit partition --update`` did, on the terminal."""
    comm = figures["communities"]
    recoded = f", {comm['recoded']} recoded (same land, new code)" if comm.get("recoded") \
        else ""
    click.echo(f"communities: {comm['unchanged']} unchanged, {comm['changed']} changed, "
               f"{comm['new']} new, {comm['gone']} gone{recoded}")
    if not figures["changed"]:
        click.echo(f"nothing changed; {figures['output']} left as it was")
        return
    recut = figures["recut"]
    renamed = figures["recoded"]
    kept_recoded = (f", {renamed['grids']:,} kept under new codes ("
                    + ", ".join(f"{a} → {b}" for a, b in renamed["communities"].items())
                    + ")") if renamed["grids"] else ""
    click.echo(f"unit grids: {figures['kept_unchanged']:,} kept as they were{kept_recoded}, "
               f"{recut['old']:,} re-cut into {recut['new']:,}")
    click.echo("grid_change: " + ", ".join(f"{count} {kind}" for kind, count
                                           in figures["grid_change"].items()))
    moved = figures["relocated"]
    click.echo(f"re-located: {moved['component']:,} components, {moved['event']:,} events "
               "(grid_relocation)")
    if figures["removed_stale_layers"]:
        click.echo("removed responsibility_grid: re-run gridkit group (RGIDs of unchanged "
                   "responsibility grids are kept)")
    click.echo(f"wrote {figures['output']}")
