"""The census commands' reads from and writes to OUT.gpkg, kept apart from the logic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyogrio

from gridkit.components.importer import COMMAND, ImportOptions, import_census
from gridkit.components.layers import arrow_layer, read_layer
from gridkit.components.locate import UnitGrids
from gridkit.errors import GridkitError
from gridkit.io import layers_of, merge_qa, run_record, write_geopackage


def load_grids(output: Path) -> UnitGrids:
    """The unit grids of OUT.gpkg, or a one-line error telling the user to partition first."""
    if not output.exists():
        raise GridkitError(f"{output}: no such file; run `gridkit partition COMMUNITIES -o "
                           f"{output}` first to cut the unit grids components are located in")
    if "unit_grid" not in layers_of(output):
        raise GridkitError(f"{output} has no unit_grid layer; run `gridkit partition "
                           f"COMMUNITIES -o {output}` first")
    frame = pyogrio.read_dataframe(output, layer="unit_grid", use_arrow=True)
    if frame.empty:
        raise GridkitError(f"{output}: the unit_grid layer is empty; run gridkit partition again")
    return UnitGrids(frame)


def import_to_geopackage(files: list[Path], output: Path, options: ImportOptions,
                         progress: Callable[[str], None] | None = None) -> dict:
    """Import ``files`` into OUT.gpkg (atomically) and return the figures."""
    output = Path(output)
    if not files:
        raise GridkitError("no census FILE given; e.g. gridkit census import census.csv -o "
                           "out.gpkg --crs wgs84")
    grids = load_grids(output)
    result = import_census(
        files, grids, options,
        existing=read_layer(output, "component"),
        existing_rejects=read_layer(output, "component_reject"),
        progress=progress,
    )
    if progress is not None:
        progress("writing")
    parameters = {
        "crs": options.crs, "sheet": options.sheet, "layer": options.layer,
        "header_row": options.header_row,
        "map": options.maps, "mode": options.mode, "tolerance": options.tolerance,
        "class_tolerance": options.class_tolerance,
        "catalog": options.catalog.describe() if options.catalog else None,
    }
    write_geopackage(
        output,
        {
            "component": arrow_layer(result.component_reader(), grids.crs,
                                     result.geometry_type),
            "component_reject": arrow_layer(result.reject, grids.crs),
            "qa_issue": merge_qa(output, COMMAND, result.qa),
        },
        run_record(COMMAND, parameters, list(files)),
    )
    return {"output": str(output), **result.figures}
