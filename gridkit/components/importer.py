"""``census import``: census files → the ``component`` and ``component_reject`` layers.

Steps: read each file (:mod:`read`), map its columns and check every row against the unit grids
and the catalog (:mod:`prepare`), then over all files at once: carry codes over from an earlier
import of the same file and allocate serials (:mod:`coding`), report duplicates
(:mod:`duplicates`) and build the layers (here and :mod:`rejects`). Rows in = accepted +
rejected, always.

**Modes.** A component remembers its file in SRCFILE (the file name, ``name:layer`` for one
layer or sheet of several). ``append`` (the default) replaces the components and rejects of
the files being imported and keeps those of every other file, so importing a file again, fixed
or not, never duplicates it. ``replace`` empties both layers first. In both modes a record
without an OBJCODE that matches a component of the previous import of its file (same class,
same position to the centimetre) gets that component's code back, so codes that other systems
already use stay stable across re-imports. New codes never reuse a serial still held by a kept
component.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gridkit.codes.catalog import Catalog, national_catalog
from gridkit.components.coding import (
    CodeAllocation,
    allocate_codes,
    reuse_codes,
    split_existing,
)
from gridkit.components.duplicates import DEFAULT_TOLERANCE, duplicate_issues
from gridkit.components.layers import (
    GEOMETRY,
    component_schema,
    conform,
    geometry_kind,
    geometry_wkb,
    wkb_points,
)
from gridkit.components.locate import UnitGrids
from gridkit.components.prepare import Prepared, TablePreparer
from gridkit.components.rejects import reject_table
from gridkit.errors import InputError, mention
from gridkit.records.schema import COMPONENT
from gridkit.sources.tables import read_source

MODES = ("append", "replace")
COMMAND = "census import"


@dataclass
class ImportOptions:
    """Options of the census import (``gridkit census import``).

    Parameters
    ----------
    crs : str, optional
        ``--crs``: the CRS of coordinate columns, and of a vector file's geometries over its own:
        ``wgs84``, ``cgcs2000``, ``gcj02``, ``bd09``, ``bd09mc``, ``EPSG:n`` (see
        :func:`gridkit.records.parse_source_crs`).
    sheet : str, optional
        The sheet of a workbook (default: the first).
    layer : str, optional
        The layer of a multi-layer vector source.
    maps : dict of str to str
        Field → column (``--map OBJNAME=设施类型``) where the column names are not recognised.
    mode : {"append", "replace"}
        ``append`` replaces only these files' components; ``replace`` the whole layer.
    catalog : Catalog, optional
        The component classes (default: the national GB/T 30428.2 catalog).
    tolerance : float
        Metres within which two components of the same class are duplicates.
    class_tolerance : dict of str to float
        Per-class tolerance (four-digit class code → metres), e.g. wider for trees.
    header_row : int, optional
        The 1-based CSV/XLSX row of the column names; found when None.

    Examples
    --------
    >>> ImportOptions(crs="gcj02", maps={"OBJNAME": "设施类型"}).mode
    'append'
    """

    crs: str | None = None
    sheet: str | None = None
    layer: str | None = None
    maps: dict[str, str] = field(default_factory=dict)
    mode: str = "append"
    catalog: Catalog | None = None
    tolerance: float = DEFAULT_TOLERANCE
    class_tolerance: dict[str, float] = field(default_factory=dict)
    header_row: int | None = None  # CSV/XLSX row of the column names; found when None


_BATCH = 1 << 19


@dataclass
class CensusImport:
    r"""The layers after a census import: components, rejects, QA and figures.

    The component layer comes as a stream of record batches built on demand (a city's census
    never sits in memory twice); :meth:`component_table` gathers it for a notebook or a test.
    Rows are conserved: accepted + rejected = read, per file (``figures["balanced"]``).

    Attributes
    ----------
    schema : pyarrow.Schema
        The component layer's columns (OBJCODE, OBJNAME, MAJOR, MINOR, DEPTNAME1-3, BGID,
        OBJSTATE, ORDATE, ..., SRCFILE, SRCROW, geometry as WKB).
    geometry_type : str
        The layer's geometry type (``Point``, or ``Unknown`` with lines and polygons).
    batches : callable
        Returns a fresh iterator of the component layer's record batches.
    reject : pyarrow.Table
        The rejected rows: SRCFILE, SRCROW, RULE, REASON (every problem and its fix), RAW.
    qa : geopandas.GeoDataFrame
        The import's QA issues (duplicates), ``qa_issue`` columns.
    figures : dict
        Counts per file (rows, accepted, rejected), rejects by rule, codes kept and allocated,
        duplicates.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, tempfile, shapely
    >>> x, y = 624_000, 3_398_000  # EPSG:4549 metres
    >>> grids = UnitGrids(gpd.GeoDataFrame({"BGID": ["310116001001001"]},
    ...                   geometry=[shapely.box(x, y, x + 100, y + 100)], crs=4549))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "census.csv"
    >>> _ = path.write_text("部件名称,X,Y\n污水井盖,624050,3398050\n", encoding="utf-8")
    >>> done = import_census([path], grids, ImportOptions(crs="EPSG:4549"))
    >>> done.component_table().column("OBJCODE").to_pylist(), done.reject.num_rows
    (['3101160102000001'], 0)
    """

    schema: pa.Schema
    geometry_type: str
    batches: Callable[[], Iterator[pa.RecordBatch]]
    reject: pa.Table
    qa: gpd.GeoDataFrame
    figures: dict

    def component_reader(self) -> pa.RecordBatchReader:
        """The component layer as a record batch reader, for streaming writes."""
        return pa.RecordBatchReader.from_batches(self.schema, self.batches())

    def component_table(self) -> pa.Table:
        """The whole component layer as one Arrow table."""
        return pa.Table.from_batches(list(self.batches()), schema=self.schema)


def _say(progress: Callable[[str], None] | None, stage: str) -> None:
    if progress is not None:
        progress(stage)


def import_census(
    files: list[str | Path],
    grids: UnitGrids,
    options: ImportOptions | None = None,
    *,
    existing: pa.Table | None = None,
    existing_rejects: pa.Table | None = None,
    progress: Callable[[str], None] | None = None,
) -> CensusImport:
    r"""Import component census (部件普查) files against the unit grids.

    Each row is read (CSV in any Chinese encoding, XLSX, Shapefile, GeoPackage), its columns
    recognised by their Chinese or English names, its position read in the given CRS (GCJ-02 and
    BD-09 undone) and located in a unit grid (on a shared edge, the smallest BGID wins), its
    class matched in the catalog, its OBJCODE kept or allocated (GB/T 30428.2 serials, stable on
    re-import), its attributes checked; rows with a problem go to the reject table with every
    reason and its fix, never silently dropped. One process: a province spreads its counties
    over a cluster (:mod:`gridkit.project`), each county's import whole.

    Parameters
    ----------
    files : list of str or pathlib.Path
        The survey files; their names must differ (components remember their file by name).
    grids : UnitGrids
        The unit grids (their CRS is the output CRS).
    options : ImportOptions, optional
        CRS, sheet, column maps, mode, catalog and tolerances.
    existing : pyarrow.Table, optional
        The current component layer: its codes are kept and never handed out again; with
        ``mode="append"`` its components from other files stay.
    existing_rejects : pyarrow.Table, optional
        The current reject table, kept for the files not imported again.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    CensusImport
        Components, rejects, QA issues and figures.

    Raises
    ------
    GridkitError
        When the mode is unknown, two files share a name, a file cannot be read, or positions
        have no CRS.

    Examples
    --------
    >>> import geopandas as gpd, pathlib, tempfile, shapely
    >>> x, y = 624_000, 3_398_000  # EPSG:4549 metres
    >>> grids = UnitGrids(gpd.GeoDataFrame(
    ...     {"BGID": ["310116001001001", "310116001001002"]},
    ...     geometry=[shapely.box(x, y, x + 100, y + 100),
    ...               shapely.box(x + 100, y, x + 200, y + 100)],
    ...     crs=4549))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "census.csv"
    >>> _ = path.write_text("部件名称,X,Y\n污水井盖,624050,3398050\n路灯,624150,3398050\n"
    ...                     "路灯,625000,3398050\n", encoding="utf-8")
    >>> done = import_census([path], grids, ImportOptions(crs="EPSG:4549"))
    >>> done.component_table().select(["OBJCODE", "BGID"]).to_pylist()
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'OBJCODE': '3101160102000001', 'BGID': '310116001001001'},
     {'OBJCODE': '3101160118000001', 'BGID': '310116001001002'}]
    >>> done.figures["rows"], done.figures["accepted"], done.figures["rejected"]
    (3, 2, 1)
    """
    from gridkit.records.coords import parse_source_crs

    started = time.perf_counter()
    options = options or ImportOptions()
    if options.mode not in MODES:
        raise InputError(f"{mention(mode=options.mode)}: use append or replace",
                         parameter="mode")
    catalog = options.catalog or national_catalog("component")
    crs = parse_source_crs(options.crs) if options.crs else None
    preparer = TablePreparer(grids, catalog, crs=crs, maps=options.maps)
    prepared: list[Prepared] = []
    names: dict[str, Path] = {}
    for path in files:
        _say(progress, f"reading {Path(path).name}")
        source = read_source(path, sheet=options.sheet, layer=options.layer,
                             header_row=options.header_row, aliases=COMPONENT.aliases)
        if source.name in names:
            raise InputError(f"{path}: a file named {source.name} is already in this import "
                             f"({names[source.name]}); components remember their file by "
                             "name, so rename one")
        names[source.name] = Path(path)
        _say(progress, f"checking {source.name}")
        prepared.append(preparer.prepare(source))

    _say(progress, "coding")
    accepted = _accepted(prepared)
    old_kept, old_replaced = split_existing(existing, set(names), options.mode)
    reused = reuse_codes(accepted, old_replaced, preparer)
    allocation = allocate_codes(accepted, grids, preparer, old_kept)
    output = _Output(accepted, allocation, preparer, grids, old_kept)

    _say(progress, "duplicates")
    qa = output.duplicates(catalog, options.tolerance, options.class_tolerance)
    rejects = reject_table(prepared, existing_rejects, set(names), options.mode)

    by_file: dict[str, dict] = {}
    rules: dict[str, int] = {}
    rows_in = 0
    for part in prepared:
        rejected = int(part.problems.rejected.sum()) + len(part.source.bad_rows)
        rows = part.n + len(part.source.bad_rows)
        rows_in += rows
        counts = part.problems.counts()
        if part.source.bad_rows:
            counts["bad-row"] = counts.get("bad-row", 0) + len(part.source.bad_rows)
        for rule, count in counts.items():
            rules[rule] = rules.get(rule, 0) + count
        figures = by_file.setdefault(part.source.name, {
            "file": part.source.name, "path": str(part.source.path),
            "encoding": part.source.encoding, "crs": part.crs,
            "header_row": part.source.header_row, "srcrow": part.source.numbering,
            "columns": part.columns.fields, "kept_in_extra": part.columns.extra,
            "cut_names": part.columns.cut, "ambiguous_cut_names": part.columns.ambiguous,
            "damaged": [{"row": r, "field": f, "problem": w}
                        for r, f, w in part.source.damaged[:20]],
            "damaged_cells": len(part.source.damaged),
            "changed_values": [],
            "rows": 0, "accepted": 0, "rejected": 0,
        })
        figures["changed_values"].extend(part.changes)
        figures["rows"] += rows
        figures["accepted"] += rows - rejected
        figures["rejected"] += rejected
    files_figures = list(by_file.values())
    accepted = sum(f["accepted"] for f in files_figures)
    rejected = sum(f["rejected"] for f in files_figures)
    severities = qa["SEVERITY"].value_counts().to_dict() if len(qa) else {}
    figures = {
        "mode": options.mode,
        "crs": grids.crs.to_string(),
        "files": files_figures,
        "rows": rows_in,
        "accepted": accepted,
        "rejected": rejected,
        "balanced": rows_in == accepted + rejected,
        "rejects_by_rule": dict(sorted(rules.items())),
        "codes": {"kept": allocation.kept, "allocated": allocation.allocated,
                  "reused": reused, "duplicate": allocation.duplicates},
        "duplicates": {rule: int((qa["RULE"] == rule).sum()) for rule in
                       ("duplicate-position", "duplicate-objcode")},
        "qa": {"error": int(severities.get("error", 0)),
               "warning": int(severities.get("warning", 0))},
        "replaced": 0 if old_replaced is None else old_replaced.num_rows,
        "components": output.rows,
        "rejects": rejects.num_rows,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return CensusImport(output.schema, output.geometry_type, output.batches, rejects, qa,
                        figures)


# -- the accepted rows -------------------------------------------------------------------------

@dataclass
class Accepted:
    """The rows of every table that passed the row checks, numbered 0..n-1 table after table.

    Numbers and positions are gathered into arrays; text columns stay in their tables and are
    taken on demand, batch by batch, so a census is never copied whole.
    """

    prepared: list[Prepared]
    bounds: np.ndarray  # first accepted row of each table, and the total at the end
    local: np.ndarray  # row of each accepted row in its own table
    table: np.ndarray  # which table
    x: np.ndarray
    y: np.ndarray
    klass: np.ndarray
    grid: np.ndarray
    srcrow: np.ndarray
    code_in: pa.Array  # the record's code, or one carried over ("" for none)

    def __len__(self) -> int:
        return len(self.x)

    def gather(self, rows: np.ndarray,
               fetch: Callable[[Prepared, pa.Array], pa.Array]) -> pa.Array:
        """``fetch(table, its rows)`` for accepted ``rows`` (any order), as one column."""
        if len(self.prepared) == 1:
            return fetch(self.prepared[0], pa.array(self.local[rows], pa.int64()))
        tables = self.table[rows]
        order = np.argsort(tables, kind="stable")
        parts = []
        for t in np.unique(tables):
            mine = order[tables[order] == t]
            parts.append(fetch(self.prepared[t], pa.array(self.local[rows[mine]], pa.int64())))
        joined = pa.concat_arrays(parts) if len(parts) > 1 else parts[0]
        back = np.empty_like(order)
        back[order] = np.arange(order.size)
        return joined.take(pa.array(back))


def _accepted(prepared: list[Prepared]) -> Accepted:
    keeps = [np.flatnonzero(~p.problems.rejected) for p in prepared]
    sizes = [k.size for k in keeps]
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def cat(get, dtype) -> np.ndarray:
        if not prepared:
            return np.empty(0, dtype)
        return np.concatenate([np.asarray(get(p))[k] for p, k in zip(prepared, keeps,
                                                                      strict=True)]).astype(dtype)

    accepted = Accepted(
        prepared=prepared, bounds=bounds,
        local=cat(lambda p: np.arange(p.n), np.int64),
        table=np.repeat(np.arange(len(prepared)), sizes).astype(np.int32),
        x=cat(lambda p: p.x, float), y=cat(lambda p: p.y, float),
        klass=cat(lambda p: p.klass, np.int32), grid=cat(lambda p: p.grid, np.int64),
        srcrow=cat(lambda p: p.source.rows, np.int64),
        code_in=pa.array([], pa.string()),
    )
    accepted.code_in = accepted.gather(np.arange(len(accepted)), lambda p, r: p.objcode.take(r))
    return accepted


def _morton_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Positions along a Z-order curve.

    Rows written in this order keep neighbours together, which makes GeoPackage's R-tree several
    times faster to build and to read.
    """
    if len(x) == 0:
        return np.empty(0, np.int64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = (v | (v << 8)) & 0x00FF00FF
        v = (v | (v << 4)) & 0x0F0F0F0F
        v = (v | (v << 2)) & 0x33333333
        return (v | (v << 1)) & 0x55555555

    def scaled(v: np.ndarray) -> np.ndarray:
        span = max(float(v.max() - v.min()), 1e-9)
        return ((v - v.min()) / span * 65535).astype(np.uint64)

    return np.argsort(spread(scaled(x)) | (spread(scaled(y)) << np.uint64(1)), kind="stable")


# -- the component layer -----------------------------------------------------------------------

class _Output:
    """The component layer after the import: the kept old rows, then the new ones."""

    def __init__(self, new: Accepted, allocation: CodeAllocation, preparer: TablePreparer,
                 grids: UnitGrids, old: pa.Table | None) -> None:
        self.new = new
        self.preparer = preparer
        self.grids = grids
        keep = np.ones(len(new), bool)
        keep[allocation.rejected] = False
        self.final = np.flatnonzero(keep)
        self.order = _morton_order(new.x[self.final], new.y[self.final])
        codes = allocation.codes[self.final]
        self.codes = pc.cast(pa.array(codes, pa.int64(), mask=codes < 0), pa.string())
        self.old = conform(old, component_schema()) if old is not None else None
        self.schema = self.old.schema if self.old is not None else component_schema()
        self.rows = len(self.final) + (self.old.num_rows if self.old is not None else 0)
        kinds = set()
        if self.old is not None:
            kinds.add(geometry_kind(self.old.column(GEOMETRY)))
        shaped = any(p.shapes is not None for p in new.prepared)
        kinds.add("Unknown" if shaped else "Point")
        self.geometry_type = kinds.pop() if len(kinds) == 1 else "Unknown"
        codes_list = preparer.class_codes
        self._names = pa.array([preparer.catalog.name_of(c) for c in codes_list], pa.string())
        self._majors = pa.array([c[:2] for c in codes_list], pa.string())
        self._minors = pa.array([c[2:] for c in codes_list], pa.string())
        self._classes = pa.array(codes_list, pa.string())
        self._files = pa.array([p.source.name for p in new.prepared], pa.string())

    def batches(self) -> Iterator[pa.RecordBatch]:
        if self.old is not None:
            yield from self.old.to_batches(max_chunksize=_BATCH)
        starts = range(0, len(self.final), _BATCH)
        # The next batch is built on the other core while GDAL writes this one (Arrow
        # kernels and GDAL both release the GIL).
        with ThreadPoolExecutor(1) as pool:
            pending = None
            for start in starts:
                job = pool.submit(self._batch, start, min(start + _BATCH, len(self.final)))
                if pending is not None:
                    yield pending.result()
                pending = job
            if pending is not None:
                yield pending.result()

    def _batch(self, start: int, stop: int) -> pa.RecordBatch:
        new, grids = self.new, self.grids
        positions = self.order[start:stop]
        rows = self.final[positions]
        klass = pa.array(new.klass[rows])
        grid = pa.array(new.grid[rows])
        columns = {
            "OBJCODE": self.codes.take(pa.array(positions)),
            "OBJNAME": pc.take(self._names, klass),
            "MAJOR": pc.take(self._majors, klass),
            "MINOR": pc.take(self._minors, klass),
            "BGID": pc.take(grids.bgid_arrow, grid),
            "SRCROW": pa.array(new.srcrow[rows], pa.int64()),
            "COMMUNITY": pc.take(grids.community_arrow, grid),
            "STREET": pc.take(grids.street_arrow, grid),
            "SRCFILE": pc.take(self._files, pa.array(new.table[rows])),
            "EXTRA": new.gather(rows, lambda p, r: p.extra(r)),
        }
        for name in new.prepared[0].fields:
            columns[name] = new.gather(rows, partial(_take_field, name))
        shapes = None
        if any(p.shapes is not None for p in new.prepared):
            shapes = np.array([new.prepared[new.table[r]].shapes[new.local[r]]
                               if new.prepared[new.table[r]].shapes is not None else None
                               for r in rows], dtype=object)
        columns[GEOMETRY] = geometry_wkb(new.x[rows], new.y[rows], shapes)
        n = len(rows)
        arrays = [columns[f.name] if f.name in columns else pa.nulls(n, f.type)
                  for f in self.schema]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def duplicates(self, catalog: Catalog, tolerance: float,
                   class_tolerance: dict[str, float]) -> gpd.GeoDataFrame:
        """Duplicate positions and codes over the whole layer (old kept rows and new ones)."""
        new, rows, old = self.new, self.final, self.old
        x, y = new.x[rows], new.y[rows]
        classes = pc.take(self._classes, pa.array(new.klass[rows]))
        codes = self.codes
        files = pc.take(self._files, pa.array(new.table[rows]))
        srcrows = new.srcrow[rows]
        if old is not None and old.num_rows:
            ox, oy = wkb_points(old.column(GEOMETRY).combine_chunks())
            x, y = np.concatenate([ox, x]), np.concatenate([oy, y])
            old_classes = pc.binary_join_element_wise(
                pc.fill_null(old.column("MAJOR"), ""), pc.fill_null(old.column("MINOR"), ""),
                "").combine_chunks()
            classes = pa.concat_arrays([old_classes, classes])
            codes = pa.concat_arrays([old.column("OBJCODE").combine_chunks(), codes])
            files = pa.concat_arrays([old.column("SRCFILE").combine_chunks(), files])
            srcrows = np.concatenate([
                pc.fill_null(old.column("SRCROW"), -1).to_numpy(zero_copy_only=False),
                srcrows])
        return duplicate_issues(x, y, classes, codes, files, srcrows, self.grids.crs, catalog,
                                tolerance, class_tolerance)


def _take_field(name: str, prepared: Prepared, rows: pa.Array) -> pa.Array:
    """Field ``name`` of ``prepared`` for ``rows`` (what :meth:`Accepted.gather` takes)."""
    return prepared.fields[name].take(rows)
