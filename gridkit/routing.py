"""Mixed files: a census or event file holding several counties, split among them by location.

Each row is read and located by the import's own steps (:func:`gridkit.sources.tables.
read_source` and :class:`gridkit.records.position.Positioner`, with the census or events
schema: column recognition, the source CRS, GCJ-02/BD-09, swapped axes) in the county whose
area holds it: the union
of its communities as the partition prepares them, which its unit grids cover exactly (to
the partition's 0.1 mm noding grid). The rows of each county are written, as they were read,
to ``OUT_DIR/routed/<code>/<file>.csv`` and imported with that county's own files; rows
without a position or outside every county go to ``OUT_DIR/routed/unrouted/<file>.csv``
with a REASON column. Read = routed + unrouted, per file, always.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from gridkit.errors import InputError

ROUTED = "routed"
UNROUTED = "unrouted"


def route_file(path: Path, options: dict, areas: list[dict], out_dir: Path,
               step: str = "census") -> dict:
    """Split one mixed file among the counties by location. Runs on a worker.

    Parameters
    ----------
    path : Path
        A census or event file (CSV, Excel, any vector file) holding rows of several
        counties.
    options : dict
        The project's ``[census]``/``[events]`` options: ``crs``, ``sheet``, ``layer``.
    areas : list of dict
        :func:`gridkit.project.county_outline` of every county (``code``, ``crs``, ``area``).
    out_dir : Path
        The province's output folder.
    step : str
        ``"census"`` or ``"events"``: whose columns the file has.

    Returns
    -------
    dict
        ``file``, ``rows`` (read), ``by_county`` (code → rows routed), ``unrouted`` and
        ``balanced``; the routed files are ``files`` (code → path), imported with
        ``options``.

    Raises
    ------
    InputError
        The file cannot be read, has no coordinates or no CRS (one line, naming it).
    """
    from gridkit.components.locate import UnitGrids
    from gridkit.records.coords import parse_source_crs
    from gridkit.records.position import Positioner
    from gridkit.records.problems import Problems
    from gridkit.records.schema import COMPONENT, EVENT
    from gridkit.sources.columns import map_columns
    from gridkit.sources.tables import read_source

    # A county whose inputs could not be read has no area: its rows stay unrouted.
    areas = [a for a in areas if "error" not in a]
    if not areas:
        raise InputError(f"{path}: no county's communities or grids could be read to route "
                         "its rows to; fix the counties' inputs first")
    crs = {a["crs"] for a in areas}
    if len(crs) > 1:
        raise InputError(f"{path}: the counties are in different working CRSs; give each "
                         "county's [partition] the same crs to route a mixed file")
    counties = gpd.GeoDataFrame({"BGID": [a["code"] for a in areas]},
                                geometry=[a["area"] for a in areas], crs=crs.pop())
    grids = UnitGrids(counties)  # sorted by code: a row on a shared border goes to the first
    schema = EVENT if step == "events" else COMPONENT
    source = read_source(path, sheet=options.get("sheet"), layer=options.get("layer"),
                         aliases=schema.aliases)
    columns = map_columns(source.columns, {}, source=str(source.path), aliases=schema.aliases)
    positioner = Positioner(grids, parse_source_crs(options["crs"]) if options.get("crs")
                            else None)
    prepared = positioner.locate(source, columns, Problems(source.table.num_rows,
                                                           schema.rules))
    located = prepared.grid
    table = _as_text(source)
    name = Path(source.name).stem + ".csv"
    figures = {"file": source.name, "path": str(Path(path).absolute()), "rows": table.num_rows
               + len(source.bad_rows), "by_county": {}, "files": {},
               "options": {k: v for k, v in options.items() if k != "files"}}
    for k, code in enumerate(grids.bgid):
        rows = np.flatnonzero(located == k)
        figures["by_county"][code] = int(rows.size)
        if rows.size:
            target = Path(out_dir) / ROUTED / code / name
            target.parent.mkdir(parents=True, exist_ok=True)
            pacsv.write_csv(table.take(pa.array(rows)), target)
            figures["files"][code] = str(target)
    lost = np.flatnonzero(located < 0)
    reasons = np.where(np.isfinite(prepared.x[lost]), "outside every county", "no position")
    unrouted = table.take(pa.array(lost)).append_column(
        "REASON", pa.array(reasons.astype(object), pa.string()))
    if source.bad_rows:
        # The CSV records the reader could not split into the header's columns.
        bad = pa.table({c: pa.nulls(len(source.bad_rows), table.schema.field(c).type)
                        for c in table.column_names}).append_column(
            "REASON", pa.array(["bad CSV row"] * len(source.bad_rows), pa.string()))
        unrouted = pa.concat_tables([unrouted, bad])
    figures["unrouted"] = unrouted.num_rows
    if unrouted.num_rows:
        target = Path(out_dir) / ROUTED / UNROUTED / name
        target.parent.mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(unrouted, target)
        figures["unrouted_file"] = str(target)
    figures["balanced"] = figures["rows"] == sum(figures["by_county"].values()) + \
        figures["unrouted"]
    return figures


def _as_text(source) -> pa.Table:
    """The rows as they were read, with a WKT column for a vector file's geometries."""
    table = source.table
    if source.geometry is not None:
        import shapely

        table = table.append_column("WKT", pa.array(shapely.to_wkt(source.geometry),
                                                    pa.string()))
    return table
