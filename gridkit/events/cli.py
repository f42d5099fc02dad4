"""``gridkit events import``: the command over :func:`gridkit.events.import_events`."""

from __future__ import annotations

import time
from pathlib import Path

import click
import pyogrio

from gridkit.components.gpkg import load_grids
from gridkit.console import GridkitGroup, emit_json
from gridkit.errors import InputError
from gridkit.events.importer import COMMAND, EventOptions, import_events
from gridkit.io import (
    layers_of,
    merge_qa,
    refuse_overwriting_inputs,
    run_record,
    write_geopackage,
)
from gridkit.qa import qa_frame
from gridkit.records.options import crs_option, header_row_option


def import_events_to_geopackage(files: list[Path], output: Path,
                                options: EventOptions) -> dict:
    started = time.perf_counter()
    output = Path(output)
    if not files:
        raise InputError("no event file given: give at least one", parameter="files")
    refuse_overwriting_inputs(output, list(files))
    grids = load_grids(output)
    existing = (pyogrio.read_dataframe(output, layer="event", use_arrow=True)
                if "event" in layers_of(output) else None)
    result = import_events(files, grids, options, existing)
    parameters = {"crs": options.crs, "sheet": options.sheet, "layer": options.layer,
                  "header_row": options.header_row, "map": list(options.maps),
                  "mode": options.mode}
    write_geopackage(
        output,
        {"event": result.events, "event_reject": result.rejects,
         "qa_issue": merge_qa(output, COMMAND, qa_frame(result.issues, grids.crs))},
        run_record(COMMAND, parameters, list(files)),
    )
    return {"output": str(output), "files": [str(f) for f in files], **result.figures,
            "seconds": round(time.perf_counter() - started, 2)}


@click.group(cls=GridkitGroup)
def events() -> None:
    """Events (事件): import event records, located by territory (事件按属地)."""


@events.command("import")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="The GeoPackage gridkit partition wrote (needs unit_grid).")
@crs_option
@click.option("--sheet", help="XLSX sheet, when the workbook has several.")
@click.option("--layer", help="Layer of a multi-layer vector file.")
@header_row_option
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Column for EVTID, EVTCODE, EVTNAME, TIME, X, Y, XY or WKT (repeatable).")
@click.option("--mode", type=click.Choice(["append", "replace"]), default="append",
              show_default=True, help="append: replace only these files' events; replace: all.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of figures.")
def import_command(files, output, crs, sheet, layer, header_row, maps, mode, as_json):
    """Import event records (CSV, XLSX, Shapefile, GeoPackage, GeoJSON) into OUTPUT.

    Each event gets its class (EVTCODE from a code column or the name matched against the
    event catalog) and BGID/COMMUNITY/STREET by location; every row lands in `event` or
    `event_reject` with its reason.

    \b
    Examples:
        gridkit events import data/samples/events.csv -o out/sample.gpkg --crs wgs84
        gridkit events import drawn_on_amap.geojson -o out/sample.gpkg --crs gcj02
    """
    figures = import_events_to_geopackage(
        list(files), output,
        EventOptions(crs=crs, sheet=sheet, layer=layer, maps=tuple(maps), mode=mode,
                     header_row=header_row))
    if as_json:
        emit_json(figures)
        return
    for item in figures["files"]:
        click.echo(f"{item['file']}: {item['crs']}, {item['encoding']}"
                   + (f", header on row {item['header_row']}" if item["header_row"] > 1 else ""))
        if item["kept_in_extra"]:
            click.echo(f"  kept in EXTRA (no field takes them): {', '.join(item['kept_in_extra'])}")
        for change in item["changed_values"]:
            click.echo(f"  {change['field']} {change['from']} -> {change['to']} "
                       f"({change['rule']}, {change['rows']:,} rows)")
    click.echo(f"{figures['rows']:,} rows read: {figures['accepted']:,} events, "
               f"{figures['rejected']:,} rejected (layer event_reject); "
               f"{figures['events']:,} events in {figures['output']}")
