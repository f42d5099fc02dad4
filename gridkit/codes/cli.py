"""``gridkit codes``: browse the class catalogs, explain a code, check the codes of a file."""

from __future__ import annotations

import click

from gridkit.codes.catalog import Catalog, Kind, national_catalog
from gridkit.codes.check import check_file
from gridkit.codes.explain import explain_code
from gridkit.codes.local import load_catalog
from gridkit.console import GridkitGroup, emit_json
from gridkit.errors import CheckFailed, GridkitError
from gridkit.options import catalog_options, json_option


def _catalogs(path: str | None, extend: bool) -> tuple[Catalog, Catalog]:
    """(components, events): national, or replaced/extended by the file's classes of each kind."""
    if path is None:
        return national_catalog("component"), national_catalog("event")
    return tuple(_one(path, kind, extend) for kind in ("component", "event"))  # type: ignore


def _one(path: str, kind: Kind, extend: bool) -> Catalog:
    try:
        return load_catalog(path, kind, extend=extend)
    except GridkitError as exc:
        # A file holding only component classes leaves the national event catalog in force.
        if "no event classes" in str(exc) and kind == "event":
            return national_catalog("event")
        if "no component classes" in str(exc) and kind == "component":
            return national_catalog("component")
        raise




@click.group(cls=GridkitGroup)
def codes() -> None:
    """Component and event class catalogs, and every code gridkit writes.

    \b
    Examples:
        gridkit codes list
        gridkit codes show 3205820102048188
        gridkit codes check census.gpkg
    """


@codes.command("list")
@click.option("--events", is_flag=True, help="The event catalog instead of the component one.")
@catalog_options
@json_option()
def list_classes(events: bool, catalog_path: str | None, extend: bool, as_json: bool) -> None:
    """List the major and minor classes of a catalog.

    \b
    Examples:
        gridkit codes list
        gridkit codes list --events --json
        gridkit codes list --catalog shanghai_classes.xlsx
    """
    components, event_catalog = _catalogs(catalog_path, extend)
    catalog = event_catalog if events else components
    if as_json:
        emit_json({
            "kind": catalog.kind,
            "catalog": catalog.describe(),
            "majors": len(catalog.majors()),
            "classes": len(catalog.minors()),
            "entries": [entry.as_dict() for entry in catalog],
        })
        return
    click.echo(f"{catalog.describe()}: {len(catalog.majors())} major classes, "
               f"{len(catalog.minors())} classes")
    for entry in catalog:
        indent = "" if entry.is_major else "  "
        flags = " ".join(x for x in (entry.geometry, entry.status) if x and x != "established")
        english = f"  {entry.name_en}" if entry.name_en else ""
        click.echo(f"{indent}{entry.code}  {entry.name}{english}" + (f"  [{flags}]" if flags
                                                                     else ""))


@codes.command("show")
@click.argument("code")
@catalog_options
@json_option()
def show(code: str, catalog_path: str | None, extend: bool, as_json: bool) -> None:
    """Explain a code: its kind (from its length), parts, class names and what is wrong.

    Exit 0 when the code is valid, 1 when it is not.

    \b
    Examples:
        gridkit codes show 3205820102048188    (component: county, class, serial)
        gridkit codes show 320582110152102     (unit grid BGID)
        gridkit codes show 0102                (class code, component and event)
    """
    components, events = _catalogs(catalog_path, extend)
    ex = explain_code(code, components=components, events=events)
    if as_json:
        emit_json(ex.as_dict())
    else:
        verdict = "valid" if ex.valid else "INVALID"
        click.echo(f"{ex.code}: {ex.kind} code, {verdict}")
        for part in ex.parts:
            click.echo(f"  {part['part']:<16} {part['value']:<8} {part['meaning']}")
        for note in ex.notes:
            click.echo(f"  note: {note}")
        for problem in ex.problems:
            click.echo(f"  problem: {problem}")
    if not ex.valid:
        # The explanation above already says what is wrong; only the exit code is left.
        click.get_current_context().exit(CheckFailed.exit_code)


@codes.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--layer", help="Layer or sheet to check (default: every one with code columns).")
@catalog_options
@click.option("--max-issues", default=1000, show_default=True,
              help="Issues listed per layer (0 = all); counts always cover every row.")
@json_option()
def codes_check(file: str, layer: str | None, catalog_path: str | None, extend: bool,
                max_issues: int, as_json: bool) -> None:
    """Check every code column of FILE row by row, and the codes against each other.

    FILE is any GDAL vector source, or a CSV/XLSX table (read as text: leading zeros kept).
    Recognised columns: OBJCODE (标识码, 部件编码), BGID (网格编码), CODE, COMMUNITY
    (社区代码), STREET (街道代码), EVTCODE (事件编码), checked also against MAJOR/MINOR,
    RGID and OBJNAME. Exit 0 when clean, 1 when any error is found, 2 when FILE is unreadable.

    \b
    Examples:
        gridkit codes check out.gpkg
        gridkit codes check census.xlsx --layer 部件 --json
        gridkit codes check census.csv --catalog city_classes.csv --extend
    """
    components, events = _catalogs(catalog_path, extend)
    report = check_file(file, layer=layer, components=components, events=events)
    if as_json:
        emit_json(report.as_dict(max_issues))
    else:
        for part in report.layers:
            cols = ", ".join(f"{c} ({k})" for c, k in part.columns.items())
            click.echo(f"{part.name}: {part.rows} rows; {cols}; "
                       f"{part.errors} errors, {part.warnings} warnings")
            shown = part.issues if max_issues <= 0 else part.issues.head(max_issues)
            for issue in shown.itertuples():
                click.echo(f"  {issue.row} {issue.column} {issue.value!r}: {issue.severity}: "
                           f"{issue.message}")
            if len(shown) < len(part.issues):
                click.echo(f"  ... {len(part.issues) - len(shown)} more (--max-issues 0 shows all)")
        click.echo(f"{report.source}: {'clean' if report.clean else 'not clean'} "
                   f"({report.errors} errors, {report.warnings} warnings)")
    if not report.clean:
        raise CheckFailed(f"{file}: {report.errors} code errors")
