"""``gridkit events import``: the command over :func:`gridkit.events.import_events_geopackage`."""

from __future__ import annotations

from pathlib import Path

import click

from gridkit.console import GridkitGroup, emit_json
from gridkit.events import EventImportOptions, import_events_geopackage
from gridkit.options import click_options, json_option
from gridkit.sources.columns import column_notes


@click.group(cls=GridkitGroup)
def events() -> None:
    """Events (事件): import event records, located by territory (事件按属地)."""


@events.command("import")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="The GeoPackage gridkit partition wrote (needs unit_grid).")
@click_options(EventImportOptions)
@json_option()
def import_command(output: Path, options: EventImportOptions, as_json: bool) -> None:
    """Import event records (CSV, XLSX, Shapefile, GeoPackage, GeoJSON) into OUTPUT.

    Each event gets its class (EVTCODE from a code column or the name matched against the
    event catalog) and BGID/COMMUNITY/STREET by location; every row lands in `event` or
    `event_reject` with its reason.

    \b
    Examples:
        gridkit events import data/samples/events.csv -o out/sample.gpkg --crs wgs84
        gridkit events import drawn_on_amap.geojson -o out/sample.gpkg --crs gcj02
    """
    figures = import_events_geopackage(output, options).figures
    if as_json:
        emit_json(figures)
        return
    for item in figures["files"]:
        click.echo(f"{item['file']}: {item['crs']}, {item['encoding']}"
                   + (f", header on row {item['header_row']}" if item["header_row"] > 1 else ""))
        for line in column_notes(item):
            click.echo(line)
    click.echo(f"{figures['rows']:,} rows read: {figures['accepted']:,} events, "
               f"{figures['rejected']:,} rejected (layer event_reject); "
               f"{figures['events']:,} events in {figures['output']}")
