"""An append to a large component layer that reads only the rows it can touch.

``census import --mode append`` replaces the components of the files it imports and keeps the
others. What the import needs from the kept ones is small and local:

* for codes: the highest OBJCODE of each county/class group the new rows fall in, and any
  kept row holding a code a new record brings (a duplicate code);
* for duplicates: the kept rows within the duplicate tolerance of a new row;
* for carried-over codes: the previous rows of the files imported again.

So the new files are read and checked once up front (cost: the new rows), those rows are
fetched through SQLite indexes and the R-tree, and the import runs on them. Only the new rows
are then written (:func:`gridkit.components.gpkg.import_to_geopackage` appends them and
deletes the replaced ones in one transaction), so the cost grows with the rows imported, not
with the layer.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio

from gridkit.components.importer import ImportOptions
from gridkit.components.layers import read_layer
from gridkit.components.locate import UnitGrids

# A window a little wider than any duplicate tolerance (metres): kept rows in it are read.
_MARGIN = 1.0
INDEXES = {"component": ("SRCFILE", "OBJCODE"), "component_reject": ("SRCFILE",)}


@dataclass
class Neighbourhood:
    """The existing rows an append needs, and how many of them are kept (not replaced)."""

    table: pa.Table | None  # rows of the re-imported files first, then kept rows
    replaced: int
    fids: np.ndarray  # fids of the kept rows in ``table``


def probe(files: list[Path], grids: UnitGrids, options: ImportOptions):
    """What the accepted rows of ``files`` (checked as the import will check them) are.

    (file names, x, y, county/class groups, OBJCODEs brought, class code per row).
    """
    from gridkit.codes.catalog import national_catalog
    from gridkit.components.prepare import TablePreparer
    from gridkit.records.coords import parse_source_crs
    from gridkit.records.schema import COMPONENT
    from gridkit.sources.tables import read_source

    catalog = options.catalog or national_catalog("component")
    crs = parse_source_crs(options.crs) if options.crs else None
    preparer = TablePreparer(grids, catalog, crs=crs, maps=options.maps)
    xs, ys, groups, codes, names, classes = [], [], set(), set(), [], []
    for path in files:
        source = read_source(path, sheet=options.sheet, layer=options.layer,
                             header_row=options.header_row, aliases=COMPONENT.aliases)
        names.append(source.name)
        part = preparer.prepare(source)
        ok = ~part.problems.rejected
        xs.append(part.x[ok])
        ys.append(part.y[ok])
        klass, grid = part.klass[ok], part.grid[ok]
        county = grids.county[grid]
        class_codes = np.asarray(preparer.class_codes, dtype=object)
        classes.append(class_codes[np.maximum(klass, 0)])
        for c, k in set(zip(county.tolist(), klass.tolist(), strict=True)):
            if c >= 0 and k >= 0:
                groups.add(f"{c:06d}{class_codes[k]}")
        codes.update(c for c in part.objcode.to_pylist() if c)
    x = np.concatenate(xs) if xs else np.empty(0)
    y = np.concatenate(ys) if ys else np.empty(0)
    classes = np.concatenate(classes) if classes else np.empty(0, object)
    return names, x, y, groups, codes, classes


def neighbourhood(output: Path, names: list[str], x: np.ndarray, y: np.ndarray,
                  groups: set[str], codes: set[str], tolerance: float) -> Neighbourhood:
    """The component rows of ``output`` an append needs to check against (see the module docstring).

    Those near the new rows at (x, y), those of the county/class ``groups`` (for serials), those
    bringing ``codes``, and those of the files ``names`` being imported again.
    """
    db = sqlite3.connect(f"file:{output}?mode=ro", uri=True)
    try:
        geometry = db.execute("SELECT column_name FROM gpkg_geometry_columns WHERE "
                              "table_name = 'component'").fetchone()[0]
        fid = next(r[1] for r in db.execute("PRAGMA table_info(component)") if r[5] == 1)
        marks = ", ".join("?" * len(names))
        replaced = [r[0] for r in db.execute(
            f'SELECT "{fid}" FROM component WHERE SRCFILE IN ({marks})', names)]
        rtree = f"rtree_component_{geometry}"
        pad = max(tolerance, 0.0) + _MARGIN
        finite = np.isfinite(x) & np.isfinite(y)
        # One join of the new rows' windows against the R-tree (CROSS JOIN: windows outside,
        # so SQLite answers each window from the index), instead of a query per row.
        db.execute("CREATE TEMP TABLE windows (minx REAL, maxx REAL, miny REAL, maxy REAL)")
        db.executemany("INSERT INTO temp.windows VALUES (?, ?, ?, ?)",
                       zip((x[finite] - pad).tolist(), (x[finite] + pad).tolist(),
                           (y[finite] - pad).tolist(), (y[finite] + pad).tolist(),
                           strict=True))
        kept: set[int] = {r[0] for r in db.execute(
            f'SELECT DISTINCT r.id FROM temp.windows AS w CROSS JOIN "{rtree}" AS r WHERE '
            "r.maxx >= w.minx AND r.minx <= w.maxx AND r.maxy >= w.miny AND r.miny <= w.maxy")}
        for group in sorted(groups):
            row = db.execute(f'SELECT "{fid}" FROM component WHERE OBJCODE >= ? AND '
                             "OBJCODE < ? ORDER BY OBJCODE DESC LIMIT 1",
                             (group, group + ":")).fetchone()
            if row:
                kept.add(row[0])
        listed = sorted(codes)
        for start in range(0, len(listed), 500):
            chunk = listed[start:start + 500]
            kept.update(r[0] for r in db.execute(
                f'SELECT "{fid}" FROM component WHERE OBJCODE IN '
                f'({", ".join("?" * len(chunk))})', chunk))
    finally:
        db.close()
    kept -= set(replaced)
    fids = np.array(sorted(kept), np.int64)
    table = _rows(output, np.array(replaced, np.int64), fid)
    kept_table = _rows(output, fids, fid)
    parts = [t for t in (table, kept_table) if t is not None and t.num_rows]
    joined = pa.concat_tables(parts, promote_options="permissive") if parts else None
    return Neighbourhood(joined, len(replaced), fids)


def _rows(output: Path, fids: np.ndarray, fid: str) -> pa.Table | None:
    if fids.size == 0:
        return None
    tables = []
    for start in range(0, fids.size, 5000):
        chunk = ",".join(str(int(f)) for f in fids[start:start + 5000])
        part = read_layer(output, "component", where=f'"{fid}" IN ({chunk})')
        if part is not None:
            tables.append(part)
    return pa.concat_tables(tables) if tables else None


def has_indexes(output: Path) -> dict[str, list[str]]:
    """The INDEXES columns of each layer that have no SQLite index yet."""
    db = sqlite3.connect(f"file:{output}?mode=ro", uri=True)
    try:
        missing = {}
        for layer, columns in INDEXES.items():
            have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = "
                                             "'index' AND tbl_name = ?", (layer,))}
            lacking = [c for c in columns if f"idx_{layer}_{c}" not in have]
            if lacking:
                missing[layer] = lacking
        return missing
    finally:
        db.close()


def rows_per_file(output: Path, layer: str) -> dict[str, int]:
    """Rows of ``layer`` per SRCFILE (empty when the layer is absent).

    Answered from the SRCFILE index (:data:`INDEXES`) when there is one.

    Examples
    --------
    >>> import tempfile
    >>> rows_per_file(Path(tempfile.mkdtemp()) / "none.gpkg", "component_reject")
    {}
    """
    if not output.exists():
        return {}
    db = sqlite3.connect(f"file:{output}?mode=ro", uri=True)
    try:
        return {f: n for f, n in db.execute(
            f'SELECT SRCFILE, COUNT(*) FROM "{layer}" GROUP BY SRCFILE') if f is not None}
    except sqlite3.OperationalError:  # no such layer
        return {}
    finally:
        db.close()


def layer_count(output: Path, layer: str) -> int:
    """Features of ``layer`` (0 when absent)."""
    try:
        info = pyogrio.read_info(output, layer=layer)
    except Exception:  # noqa: BLE001 - absent layer
        return 0
    return int(info.get("features") or 0)
