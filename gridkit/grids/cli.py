"""``gridkit grids check`` and ``gridkit grids adopt``: a city's existing unit grids."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from gridkit.console import emit_json
from gridkit.errors import CheckFailed, GridkitError
from gridkit.grids.adopt import adopt_to_geopackage, check_grids, read_inputs, unit_grid_frame
from gridkit.grids.repair import REPAIR_AREA


def _input_options(function):
    for option in reversed([
        click.argument("grids", type=click.Path(path_type=Path)),
        click.option("--layer", help="Layer of GRIDS, when the file has several."),
        click.option("--code-field", help="Field of the 15-digit grid codes (default: BGID, "
                                          "网格编码, 单元网格编码, DYWGBM, WGBM, ...)."),
        click.option("--communities", type=click.Path(path_type=Path),
                     help="Community polygons (12-digit CODE): check each grid's prefix and "
                          "that it lies in one community; gaps are measured against them."),
        click.option("--communities-layer", help="Layer of --communities."),
        click.option("--target-area", type=float, default=10_000, show_default=True,
                     help="The city's unit grid area, m² (slivers, size band)."),
        click.option("--crs", help="CRS of inputs that have none, e.g. EPSG:4549."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
    ]):
        function = option(function)
    return function


@click.group()
def grids() -> None:
    """The unit grids a city already has: audit and adopt them, keeping their codes.

    \b
    Example:
        gridkit grids check city_grids.shp --communities communities.gpkg
        gridkit grids adopt city_grids.shp -o out/district.gpkg --communities c.gpkg
    """


@grids.command("check")
@_input_options
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write the HTML report (with its QA section) to this file.")
def grids_check(grids, layer, code_field, communities, communities_layer, target_area, crs,
                as_json, output):
    """Audit a unit grid layer against GB/T 30428.1: codes, communities, gaps, overlaps,
    slivers, size band, multi-part and invalid geometry, serial gaps. Exit 1 on errors.

    \b
    Example:
        gridkit grids check grids.shp --communities communities.gpkg -o audit.html
    """
    inputs = read_inputs(grids, layer=layer, code_field=code_field, communities=communities,
                         communities_layer=communities_layer, crs=crs)
    audit = check_grids(inputs, target_area=target_area)
    figures = dict(audit.figures)
    if output is not None:
        figures["report"] = _report(audit, inputs, output)
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


def _report(audit, inputs, output: Path) -> str:
    """The report page of the audit: grids, communities and the QA layer in a scratch
    GeoPackage, drawn by ``gridkit report``."""
    from gridkit.grids.adopt import _community_layer
    from gridkit.io import write_geopackage
    from gridkit.qa import qa_frame
    from gridkit.report.build import build_report

    frame = audit.grids[audit.grids["VALID"]]
    codes = [c if c else f"#{f}" for c, f in zip(frame["CODE"], frame["FID"], strict=True)]
    layer = unit_grid_frame(codes, frame.geometry.to_numpy(), frame.crs)
    with tempfile.TemporaryDirectory(prefix="gridkit-audit-") as folder:
        scratch = Path(folder) / "audit.gpkg"
        valid = layer[layer["COMMUNITY"].str.fullmatch(r"\d{12}")]
        write_geopackage(scratch, {
            "community": _community_layer(valid, inputs.communities, 10_000),
            "unit_grid": layer,
            "qa_issue": qa_frame(audit.issues, inputs.crs).assign(COMMAND="grids check"),
        })
        return build_report(scratch, output)["output"]


@grids.command()
@_input_options
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="GeoPackage to write (unit_grid, community, qa_issue, bgid_registry).")
@click.option("--repair", is_flag=True,
              help="Fix what is safe: invalid rings, gaps and overlaps up to --repair-area, "
                   "slivers (merged into a neighbour, code retired); each repair reported.")
@click.option("--repair-area", type=float, default=REPAIR_AREA, show_default=True,
              help="Largest gap or overlap --repair resolves, m².")
@click.option("--recode", is_flag=True,
              help="Give every grid a new code in gridkit's order (old one in SRCCODE).")
@click.option("--area", type=click.Path(path_type=Path),
              help="Managed area polygons: adopt only the grids inside it.")
def adopt(grids, layer, code_field, communities, communities_layer, target_area, crs,
          as_json, output, repair, repair_area, recode, area):
    """Write a city's unit grids to OUTPUT as unit_grid, keeping their codes.

    Then group, census import, events import, census sample/accuracy, export and report
    work on them as on partitioned grids.

    \b
    Example:
        gridkit grids adopt grids.shp -o out/district.gpkg --communities c.gpkg --repair
    """
    if not repair_area > 0:
        raise GridkitError(f"--repair-area {repair_area:g}: give an area above 0 m²")
    inputs = read_inputs(grids, layer=layer, code_field=code_field, communities=communities,
                         communities_layer=communities_layer, area=area, crs=crs)
    figures = adopt_to_geopackage(
        inputs, output, target_area=target_area, repair=repair, repair_area=repair_area,
        recode=recode, parameters={"layer": layer, "communities_layer": communities_layer})
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
    click.echo(f"communities: {comm['unchanged']} unchanged, {comm['changed']} changed, "
               f"{comm['new']} new, {comm['gone']} gone")
    if not figures["changed"]:
        click.echo(f"nothing changed; {figures['output']} left as it was")
        return
    recut = figures["recut"]
    click.echo(f"unit grids: {figures['kept_unchanged']:,} kept as they were, "
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
