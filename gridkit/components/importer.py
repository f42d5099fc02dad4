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
    """The layers after an import. The component layer comes as a stream of record batches
    built on demand (a city's census never sits in memory twice); ``component_table()``
    gathers it for a notebook or a test."""

    schema: pa.Schema
    geometry_type: str
    batches: Callable[[], Iterator[pa.RecordBatch]]
    reject: pa.Table
    qa: gpd.GeoDataFrame
    figures: dict

    def component_reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.schema, self.batches())

    def component_table(self) -> pa.Table:
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
    """Import census ``files`` against ``grids``; ``existing`` is the current component layer.

    One process: a province spreads its counties over a cluster (:mod:`gridkit.project`),
    each county's import whole.
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
            "header_row": part.source.header_row,
            "columns": part.columns.fields, "kept_in_extra": part.columns.extra,
            "cut_names": part.columns.cut,
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
    """Positions along a Z-order curve: rows written in this order keep neighbours together,
    which makes GeoPackage's R-tree several times faster to build and to read."""
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
            columns[name] = new.gather(rows, lambda p, r, name=name: p.fields[name].take(r))
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


