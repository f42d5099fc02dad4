"""``gridkit census``: import component census files, check the component layer."""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.components import (
    CensusCheckOptions,
    CensusImportOptions,
    check_census_geopackage,
    import_census_geopackage,
)
from gridkit.console import GridkitGroup, step_figures
from gridkit.errors import CheckFailed
from gridkit.options import click_options, json_option
from gridkit.sources.columns import column_notes
from gridkit.staleness import warn_stale


@click.group(cls=GridkitGroup)
def census() -> None:
    """Component census (部件普查): import survey files, check the component layer.

    \b
    Examples:
        gridkit census import team1.csv team2.xlsx -o out/district.gpkg --crs gcj02
        gridkit census check out/district.gpkg
    """


@census.command("import")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="GeoPackage holding unit_grid (from gridkit partition); gets component, "
                   "component_reject, qa_issue and a gridkit_run row.")
@click_options(CensusImportOptions)
@json_option()
def import_command(output: Path, options: CensusImportOptions, as_json: bool) -> None:
    """Import component census FILES (CSV, XLSX, Shapefile, GeoPackage, GeoJSON) into OUT.

    Every row is accepted into the component layer (located in its unit grid, classed, coded)
    or rejected into component_reject with the reason; rows in = accepted + rejected.
    Duplicates are reported in qa_issue, never dropped. Columns are recognised by Chinese and
    English names (标识码, 部件名称, 经度/纬度, 主管部门, 权属单位, 状态, ...); other columns
    are kept in EXTRA.

    \b
    Examples:
        gridkit census import 井盖普查.csv -o out/district.gpkg --crs gcj02
        gridkit census import survey.xlsx --sheet 部件 -o out/district.gpkg --crs wgs84 \\
            --map OBJNAME=设施类型 --json
        gridkit census import lamps.shp -o out/district.gpkg --mode replace
    """
    figures = step_figures("census import", import_census_geopackage, as_json, output, options)
    if as_json:
        return
    for item in figures["files"]:
        click.echo(f"{item['file']}: {item['rows']:,} rows, {item['accepted']:,} accepted, "
                   f"{item['rejected']:,} rejected ({item['crs']}, {item['encoding']}"
                   + (f", header on row {item['header_row']}" if item["header_row"] > 1 else "")
                   + ")")
        for line in column_notes(item):
            click.echo(line)
        if item["damaged_cells"]:
            first = item["damaged"][0]
            click.echo(f"  {item['damaged_cells']:,} damaged cells, e.g. row {first['row']} "
                       f"{first['field']}: {first['problem']}")
    rules = ", ".join(f"{rule} {count:,}" for rule, count in figures["rejects_by_rule"].items())
    codes = figures["codes"]
    click.echo(f"{figures['rows']:,} rows = {figures['accepted']:,} accepted + "
               f"{figures['rejected']:,} rejected" + (f" ({rules})" if rules else ""))
    click.echo(f"codes: {codes['kept']:,} kept, {codes['allocated']:,} allocated, "
               f"{codes['reused']:,} carried over, {codes['duplicate']:,} shared")
    dup = figures["duplicates"]
    click.echo(f"duplicates: {dup['duplicate-position']:,} by position, "
               f"{dup['duplicate-objcode']:,} by OBJCODE (layer qa_issue)")
    click.echo(f"{figures['output']}: {figures['components']:,} components, "
               f"{figures['rejects']:,} rejects, {figures['seconds']:.1f} s")
    warn_stale(figures)


@census.command("check")
@click.argument("output", type=click.Path(path_type=Path))
@click_options(CensusCheckOptions)
@json_option()
def check_command(output: Path, options: CensusCheckOptions, as_json: bool) -> None:
    """Check the component layer of OUTPUT: coding, attributes and coverage.

    Coding: every OBJCODE valid, unique and consistent with its class and the county of its
    unit grid; every component inside its BGID. Attributes: required fields filled, OBJSTATE and
    DATASOURCE from their lists, dates valid and in order. Coverage: components per unit grid
    and class (layer component_coverage), grids with none, and classes far sparser in a street
    than in the district (a sign of omissions, 漏查). Issues go to qa_issue. Exit 0 when no
    errors, 1 when there are errors, 2 when OUTPUT cannot be read.

    \b
    Examples:
        gridkit census check out/district.gpkg
        gridkit census check out/district.gpkg --json --dup-tolerance 0118=2
    """
    report = step_figures("census check", check_census_geopackage, as_json, output, options)
    if not as_json:
        click.echo(f"{report['output']}: {report['components']:,} components in "
                   f"{report['unit_grids']:,} unit grids")
        for rule, item in report["by_rule"].items():
            click.echo(f"  {item['severity']:<7} {rule:<22} {item['count']:,}")
        click.echo(f"{report['errors']:,} errors, {report['warnings']:,} warnings "
                   "(layer qa_issue)")
        warn_stale(report)
    if report["errors"]:
        raise CheckFailed(f"{output}: {report['errors']} component errors (see qa_issue)")
