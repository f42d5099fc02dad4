"""``gridkit census``: import component census files, check the component layer."""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.codes.catalog import national_catalog
from gridkit.components.duplicates import parse_tolerances
from gridkit.components.importer import MODES, ImportOptions
from gridkit.console import GridkitGroup, emit_json, show_progress, status_line
from gridkit.errors import CheckFailed, GridkitError
from gridkit.records.options import crs_option, header_row_option
from gridkit.records.schema import COMPONENT
from gridkit.sources.columns import parse_maps
from gridkit.staleness import warn_stale


def _catalog(path: str | None, extend: bool):
    if path is None:
        return national_catalog("component")
    from gridkit.codes.local import load_catalog

    return load_catalog(path, "component", extend=extend)


catalog_option = click.option(
    "--catalog", "catalog_path", type=click.Path(dir_okay=False),
    help="Local component catalog (CSV/XLSX, see gridkit codes list --help); replaces the "
         "national one unless --extend.")
extend_option = click.option("--extend", is_flag=True,
                             help="Add the --catalog classes to the national catalog.")
tolerance_option = click.option(
    "--dup-tolerance", "tolerances", multiple=True, metavar="M|CLASS=M",
    help="Distance under which two components of one class are reported as duplicates, "
         "metres (default 0.5); CLASS=M for one class, e.g. 0118=2. Repeatable.")
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object of figures on stdout, nothing else.")


@click.group(cls=GridkitGroup)
def census() -> None:
    """Component census (部件普查): import survey files, check the component layer.

    \b
    Examples:
        gridkit census import team1.csv team2.xlsx -o out/district.gpkg --crs gcj02
        gridkit census check out/district.gpkg
    """


@census.command("import")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="GeoPackage holding unit_grid (from gridkit partition); gets component, "
                   "component_reject, qa_issue and a gridkit_run row.")
@crs_option
@click.option("--sheet", help="XLSX sheet to read, when a workbook has several.")
@click.option("--layer", help="Layer to read, when a GeoPackage or other source has several.")
@header_row_option
@click.option("--x", "x_column", help="Column of X/longitude (default: recognised by name).")
@click.option("--y", "y_column", help="Column of Y/latitude (default: recognised by name).")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Take FIELD from COLUMN, e.g. --map OBJNAME=设施类型 --map DEPTNAME2=产权人. "
                   "Repeatable.")
@click.option("--mode", type=click.Choice(MODES), default="append", show_default=True,
              help="append: replace only the components of these files (re-importing a file "
                   "never duplicates it); replace: start the component layer afresh.")
@click.option("--allow-duplicates", is_flag=True,
              help="Import rows even when most of them are components already held from "
                   "another file (same class and position), or the file's content was "
                   "imported before under another name.")
@catalog_option
@extend_option
@tolerance_option
@json_option
def import_command(files, output, crs, sheet, layer, header_row, x_column, y_column, maps, mode,
                   allow_duplicates, catalog_path, extend, tolerances, as_json):
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
    from gridkit.components.gpkg import import_to_geopackage

    mapping = parse_maps(list(maps), COMPONENT.aliases)
    for field, column in (("X", x_column), ("Y", y_column)):
        if column:
            mapping[field] = column
    default, per_class = parse_tolerances(list(tolerances))
    options = ImportOptions(crs=crs, sheet=sheet, layer=layer, header_row=header_row,
                            maps=mapping, mode=mode,
                            catalog=_catalog(catalog_path, extend), tolerance=default,
                            class_tolerance=per_class)
    with status_line("census import", show_progress() and not as_json) as say:
        figures = import_to_geopackage(list(files), output, options, progress=say,
                                       allow_duplicates=allow_duplicates)
    if as_json:
        emit_json(figures)
        return
    for item in figures["files"]:
        click.echo(f"{item['file']}: {item['rows']:,} rows, {item['accepted']:,} accepted, "
                   f"{item['rejected']:,} rejected ({item['crs']}, {item['encoding']}"
                   + (f", header on row {item['header_row']}" if item["header_row"] > 1 else "")
                   + ")")
        if item["kept_in_extra"]:
            click.echo(f"  kept in EXTRA (no field takes them): {', '.join(item['kept_in_extra'])}")
        for cut, target in item["cut_names"].items():
            click.echo(f"  {cut} read as {target} (a Shapefile field name cut at 10 bytes)")
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
@catalog_option
@extend_option
@tolerance_option
@click.option("--sparse-ratio", type=float, default=0.25, show_default=True,
              help="Flag a class in a street when its density is below this share of the "
                   "district's.")
@click.option("--min-expected", type=float, default=20, show_default=True,
              help="Only flag a sparse class where the district's density predicts at least "
                   "this many components in the street.")
@json_option
def check_command(output, catalog_path, extend, tolerances, sparse_ratio, min_expected,
                  as_json):
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
    from gridkit.components.check import CheckOptions, check_to_geopackage

    default, per_class = parse_tolerances(list(tolerances))
    options = CheckOptions(catalog=_catalog(catalog_path, extend), tolerance=default,
                           class_tolerance=per_class, sparse_ratio=sparse_ratio,
                           min_expected=min_expected)
    if sparse_ratio <= 0 or sparse_ratio >= 1:
        raise GridkitError(f"--sparse-ratio {sparse_ratio}: give a share between 0 and 1")
    with status_line("census check", show_progress() and not as_json) as say:
        report = check_to_geopackage(output, options, progress=say)
    if as_json:
        emit_json(report)
    else:
        click.echo(f"{report['output']}: {report['components']:,} components in "
                   f"{report['unit_grids']:,} unit grids")
        for rule, item in report["by_rule"].items():
            click.echo(f"  {item['severity']:<7} {rule:<22} {item['count']:,}")
        click.echo(f"{report['errors']:,} errors, {report['warnings']:,} warnings "
                   "(layer qa_issue)")
        warn_stale(report)
    if report["errors"]:
        raise CheckFailed(f"{output}: {report['errors']} component errors (see qa_issue)")
