"""``gridkit events import`` as a library: :class:`EventImportOptions`, the file-level call.

On a GeoPackage, :func:`import_events_geopackage`; in memory,
:func:`~gridkit.events.import_events` (files and unit grids in, an
:class:`~gridkit.events.importer.EventImport` with ``.qa`` and ``.figures`` out).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import click
import pyogrio

from gridkit.components.gpkg import load_grids
from gridkit.errors import InputError
from gridkit.events.importer import COMMAND, EventOptions, import_events
from gridkit.io import layers_of, merge_qa, refuse_overwriting_inputs, run_record, write_geopackage
from gridkit.options import option, record
from gridkit.records.options import RecordImportOptions
from gridkit.result import StepResult

__all__ = ["EventImportOptions", "import_events_geopackage"]


@dataclass(frozen=True)
class EventImportOptions(RecordImportOptions):
    """Options of ``gridkit events import`` (and of the ``[events]`` section of ``gridkit run``).

    Parameters
    ----------
    files, crs, sheet, layer, header_row
        The files and how to read them: as :class:`~gridkit.records.options.RecordImportOptions`
        (``FILES``, ``--crs``, ``--sheet``, ``--layer``, ``--header-row``).
    map : list of str
        ``FIELD=COLUMN`` items for EVTID, EVTCODE, EVTNAME, TIME, X, Y, XY or WKT. ``--map``.
    mode : {"append", "replace"}
        ``append`` replaces only these files' events; ``replace`` all. ``--mode``.
    allow_duplicates : bool
        Import a file even when most of its case numbers (EVTID) are already held from
        another file. ``--allow-duplicates``.
    x, y : str, optional
        Columns of X/longitude and Y/latitude, as ``map`` items ``X=``/``Y=``; TOML only.

    Examples
    --------
    >>> EventImportOptions([Path("events.csv")], x="东", y="北").resolved().maps
    ('X=东', 'Y=北')
    """

    map: list[str] = option(
        factory=list, multiple=True, metavar="FIELD=COLUMN", kind=list[str],
        help="Column for EVTID, EVTCODE, EVTNAME, TIME, X, Y, XY or WKT (repeatable).")
    mode: str = option("append", type=click.Choice(["append", "replace"]), show_default=True,
                       help="append: replace only these files' events; replace: all.")
    allow_duplicates: bool = option(
        False, is_flag=True,
        help="Import a file even when most of its case numbers (EVTID) are events already "
             "held from another file.")
    x: str | None = option(None, flag=None, record=False)
    y: str | None = option(None, flag=None, record=False)

    def resolved(self) -> EventOptions:
        """The importer's settings, ``x``/``y`` folded into the column map.

        Returns
        -------
        EventOptions
            For :func:`~gridkit.events.import_events`.
        """
        maps = [*self.map, *(f"{field}={column}" for field, column in (("X", self.x),
                                                                       ("Y", self.y)) if column)]
        return EventOptions(crs=self.crs, sheet=self.sheet, layer=self.layer,
                            maps=tuple(maps), mode=self.mode, header_row=self.header_row,
                            allow_duplicates=self.allow_duplicates)


def import_events_geopackage(gpkg: str | Path, options: EventImportOptions) -> StepResult:
    """Import event records into ``gpkg``: layers ``event`` and ``event_reject``.

    Each event gets its class and its BGID/COMMUNITY/STREET by location (事件按属地); every
    row lands in ``event`` or ``event_reject`` with its reason. One transaction.

    Parameters
    ----------
    gpkg : str or pathlib.Path
        The GeoPackage ``gridkit partition`` wrote (needs ``unit_grid``).
    options : EventImportOptions
        The files and how to read them.

    Returns
    -------
    StepResult
        ``figures``: what ``gridkit events import --json`` prints (rows, accepted,
        rejected, events, files, seconds); ``qa``: the import's issues.

    Raises
    ------
    GridkitError
        No file, an unreadable file, no unit grids, ``gpkg`` among the inputs.

    Examples
    --------
    >>> result = import_events_geopackage(
    ...     "out/sample.gpkg", EventImportOptions([Path("events.csv")], crs="wgs84"))
    ... # doctest: +SKIP
    >>> result["rows"] == result["accepted"] + result["rejected"]  # doctest: +SKIP
    True
    """
    started = time.perf_counter()
    gpkg = Path(gpkg)
    files = list(options.files)
    if not files:
        raise InputError("no event file given: give at least one", parameter="files")
    refuse_overwriting_inputs(gpkg, files)
    grids = load_grids(gpkg)
    existing = (pyogrio.read_dataframe(gpkg, layer="event", use_arrow=True)
                if "event" in layers_of(gpkg) else None)
    settings = options.resolved()
    result = import_events(files, grids, settings, existing)
    qa = result.qa
    write_geopackage(
        gpkg,
        {"event": result.events, "event_reject": result.rejects,
         "qa_issue": merge_qa(gpkg, COMMAND, qa)},
        run_record(COMMAND, record(options, map=list(settings.maps)), files),
    )
    return StepResult({"output": str(gpkg), "files": [str(f) for f in files],
                       **result.figures, "seconds": round(time.perf_counter() - started, 2)},
                      qa)
