"""The GeoPackage as a database: every command's changes in one SQLite transaction.

A GeoPackage is an SQLite file, and SQLite commits atomically: a command that fails, is
interrupted (Ctrl-C, SIGTERM) or killed (SIGKILL, power loss) leaves the file as it was, and a
killed one's journal is rolled back by the next open. So gridkit changes its GeoPackages in
place, and a command costs what it adds or changes, not what the file holds.

How a write goes (measured choice, see benchmarks/README.md "GeoPackage store"):

1. The rows a command writes are encoded by GDAL (``pyogrio.write_arrow`` /
   ``write_dataframe``) into a *stage* GeoPackage beside the target
   (``.NAME.gridkit-stage-PID.gpkg``), so the geometry blobs, column types, ``gpkg_*`` rows
   and R-tree are exactly GDAL's.
2. One SQLite transaction (``BEGIN IMMEDIATE`` … ``COMMIT``) on the target applies every
   operation: a layer replaced (dropped, then created from the stage's own DDL), rows appended
   (fids shifted past the layer's last one, R-tree rows copied, ``gpkg_ogr_contents`` and the
   extent in ``gpkg_contents`` updated), rows deleted, layers dropped, the ``gridkit_run``
   record appended and the bookkeeping below updated.
3. The stage file is removed, whatever happened.

When the target does not exist yet, the stage *is* the new file: it is completed and renamed
into place (one ``os.replace``), so there is never a half-made output either.

Bookkeeping: one JSON document in the standard ``gpkg_metadata`` table (``md_standard_uri``
``urn:gridkit:store-state:1``; no layer for GDAL, ignored by other tools) holding

``layers``
    per layer, its ``version`` (how many transactions changed it) and the ``gridkit_run`` fid
    (``run``) and time of the last one;
``derived``
    per derived result (a layer such as ``component_coverage``, or the ``qa_issue`` rows of one
    command, keyed ``qa_issue:COMMAND``): the command and run that made it and the versions of
    the layers it was computed from (``inputs``).

The rule for stale results: when a transaction changes a layer, the ``qa_issue`` rows of every
command computed from it are **removed** in the same transaction (they name features that may
be gone; the command is named in the summary so it can be run again), while derived *layers*
are **kept and marked stale**: :func:`stale_results` lists them, commands warn, and the report
marks them.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from gridkit.errors import FileError, GridkitError, InputError

_GDAL_WRITE_ERRORS = (DataSourceError, DataLayerError, FieldError, GeometryError)
RUN_LAYER = "gridkit_run"
STATE_URI = "urn:gridkit:store-state:1"
QA_LAYER = "qa_issue"
STAGE_MARK = ".gridkit-stage-"
# What each derived result is computed from. A result is stale when one of these layers
# changed after it; qa_issue rows (keyed qa_issue:COMMAND) are removed then, layers marked.
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "component": ("unit_grid",),
    "component_reject": ("unit_grid",),
    "event": ("unit_grid",),
    "event_reject": ("unit_grid",),
    "responsibility_grid": ("unit_grid", "component", "event"),
    "component_coverage": ("component", "unit_grid"),
    "spotcheck_plan": ("component", "unit_grid"),
    "spotcheck_stratum": ("component", "unit_grid"),
    "spotcheck_checklist": ("component", "unit_grid"),
    "spotcheck_result": ("component",),
    "spotcheck_summary": ("component",),
    "spotcheck_rework": ("component",),
    "qa_issue:census import": ("component",),
    "qa_issue:events import": ("event",),
    "qa_issue:census check": ("component", "unit_grid"),
    "qa_issue:group": ("unit_grid",),
}
# Layers a command rewrites without changing their features (group adds RGID to each unit
# grid): results built on them stay current.
ANNOTATES: dict[str, set[str]] = {"group": {"unit_grid"}}
# The GeoPackage metadata tables that hold rows about a layer (by table_name).
_META = ("gpkg_contents", "gpkg_geometry_columns", "gpkg_extensions", "gpkg_ogr_contents",
         "gpkg_data_columns", "gpkg_metadata_reference")


@dataclass
class _Operation:
    kind: str  # "replace", "append", "delete", "drop", "index"
    layer: str
    where: str | None = None
    params: tuple = ()


@dataclass
class Summary:
    """What a committed transaction did: layers changed and stale results it removed."""

    changed: list[str] = field(default_factory=list)
    removed_qa: dict[str, int] = field(default_factory=dict)  # command -> rows removed
    run: int | None = None


class Transaction:
    """The changes of one command to one GeoPackage, applied together or not at all.

    Create it with :func:`transaction`; the methods only *stage* the changes, the commit at
    the end of the ``with`` block applies them.

    Parameters
    ----------
    path : Path
        The GeoPackage (created if absent).
    command : str
        The command making the changes (``"census import"``, ...), recorded with them.
    """

    def __init__(self, path: Path, command: str) -> None:
        self.path = Path(path)
        self.command = command
        self.operations: list[_Operation] = []
        self.derivations: dict[str, tuple[str, ...]] = {}
        self.run: pd.DataFrame | None = None
        self.summary = Summary()
        self._stage: Path | None = None
        self._staged: set[str] = set()

    # -- staging -------------------------------------------------------------------------

    def replace_layer(self, name: str, frame) -> None:
        """Replace layer ``name`` (its table, index and metadata) with ``frame``.

        Parameters
        ----------
        name : str
            The layer.
        frame : GeoDataFrame, DataFrame or gridkit.io.ArrowLayer
            Its new rows.
        """
        self._stage_rows(name, frame)
        self.operations.append(_Operation("replace", name))

    def append_rows(self, name: str, frame) -> None:
        """Add the rows of ``frame`` to layer ``name`` (creating it when absent).

        Columns the layer lacks are added to it.
        """
        self._stage_rows(name, frame)
        self.operations.append(_Operation("append", name))

    def delete_rows(self, name: str, where: str, params: tuple = ()) -> None:
        """Delete the rows of layer ``name`` matching the SQL condition ``where``.

        ``?`` placeholders in ``where`` take ``params``; nothing happens when the layer is absent.
        """
        self.operations.append(_Operation("delete", name, where, tuple(params)))

    def drop_layer(self, name: str) -> None:
        """Remove layer ``name`` with its spatial index and metadata rows (if present)."""
        self.operations.append(_Operation("drop", name))

    def replace_qa(self, command: str, frame, stale: tuple[str, ...] = ()) -> None:
        """Replace the ``qa_issue`` rows of ``command`` by ``frame``, keeping other commands' rows.

        The rows of the ``stale`` commands, whose results ``command`` invalidates, go too.
        """
        commands = (command, *stale)
        marks = ", ".join("?" * len(commands))
        self.delete_rows(QA_LAYER, f'"COMMAND" IN ({marks})', commands)
        for other in stale:
            self.derivations.pop(f"{QA_LAYER}:{other}", None)
        # Text columns even when empty (pandas would make them float, GDAL then REAL).
        text = {c: object for c in ("LAYER", "KEY", "RULE", "SEVERITY", "MESSAGE") if c in frame}
        self.append_rows(QA_LAYER, frame.astype(text).assign(COMMAND=command))
        key = f"{QA_LAYER}:{command}"
        self.derivations[key] = DERIVED_FROM.get(key, ())

    def ensure_index(self, layer: str, column: str) -> None:
        """Create the SQLite index ``idx_LAYER_COLUMN`` when the layer and column exist.

        It lets a later command find rows without reading the layer; an existing index is kept.
        """
        self.operations.append(_Operation("index", layer, column))

    def derive(self, result: str, inputs: tuple[str, ...]) -> None:
        """Record that ``result`` was computed from the ``inputs`` layers this transaction leaves.

        ``result`` is a layer, or ``qa_issue:COMMAND``.
        """
        self.derivations[result] = tuple(inputs)

    def _derive_known(self) -> None:
        """Derivations the graph knows (DERIVED_FROM) of the layers and qa rows written here."""
        for op in self.operations:
            if op.kind in ("replace", "append") and op.layer in DERIVED_FROM:
                self.derivations.setdefault(op.layer, DERIVED_FROM[op.layer])

    def record_run(self, run: pd.DataFrame) -> None:
        """Append the ``gridkit_run`` row of this command."""
        self.run = run

    def _stage_rows(self, name: str, frame) -> None:
        from gridkit import io  # looked up at each call: tests inject failures there

        if name in self._staged:
            raise ValueError(f"layer {name} staged twice in one transaction")
        if self._stage is None:
            self._stage = _stage_path(self.path)
        io.write_layer(self._stage, name, frame)
        self._staged.add(name)

    # -- commit --------------------------------------------------------------------------

    def commit(self) -> Summary:
        """Apply every operation in one SQLite transaction (or a rename); a failure keeps all."""
        if not self.path.exists():
            return self._create()
        db = _connect(self.path)
        try:
            db.execute("BEGIN IMMEDIATE")
            if self._stage is not None:
                db.execute("ATTACH DATABASE ? AS stage", (str(self._stage),))
                if self._rewrite_is_cheaper(db):
                    return self._rewrite(db)
            self._apply(db, new_file=False)
            with signals_held():
                db.execute("COMMIT")
                COMMITTED.append(self.path)
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()
        return self.summary

    def _rewrite_is_cheaper(self, db: sqlite3.Connection) -> bool:
        """Whether the layers replaced whole hold more rows than everything else the file holds.

        Then the stage (where GDAL wrote them) becomes the new file, the other layers copied into
        it, instead of copying the big layers into the file (a first import of a million components
        into a file of unit grids).
        """
        replaced = {op.layer for op in self.operations if op.kind == "replace"}
        if not replaced:
            return False
        staged = sum(db.execute(f"SELECT COUNT(*) FROM stage.{_q(layer)}").fetchone()[0]
                     for layer in replaced)
        carried = 0
        for (layer,) in db.execute("SELECT table_name FROM main.gpkg_contents").fetchall():
            if layer not in replaced and layer in _schema_tables(db, "main"):
                carried += db.execute(f"SELECT COUNT(*) FROM main.{_q(layer)}").fetchone()[0]
        return staged > carried

    def _rewrite(self, db: sqlite3.Connection) -> Summary:
        """Build the new file in the stage and rename it over the old one.

        ``db`` is the old file in a transaction that only reads, the stage attached.
        """
        dropped = {op.layer for op in self.operations if op.kind == "drop"}
        # Appends become replacements: the stage gets the kept rows first.
        for layer in {op.layer for op in self.operations if op.kind == "append"}:
            if layer in _schema_tables(db, "main"):
                deletes = [op for op in self.operations
                           if op.kind == "delete" and op.layer == layer]
                _prepend_existing(db, layer, deletes)
        staged = {op.layer for op in self.operations if op.kind in ("replace", "append")}
        carry = [layer for (layer,) in db.execute(
            "SELECT table_name FROM main.gpkg_contents ORDER BY rowid").fetchall()
            if layer not in staged | dropped and layer in _schema_tables(db, "main")]
        deletes = [op for op in self.operations
                   if op.kind == "delete" and op.layer not in staged]
        # Only the stage was written (the kept rows of appended layers): keep that, the old
        # file was only read. A rollback here would lose the rows kept for the appends.
        db.execute("COMMIT")
        new = _connect(self._stage)
        try:
            new.execute("BEGIN IMMEDIATE")
            # The old file is attached under the name the copy reads from.
            new.execute("ATTACH DATABASE ? AS stage", (str(self.path),))
            for layer in carry:
                _copy_new(new, layer)
            state = _load_state(new, "stage")
            if state["layers"] or state["derived"]:
                _save_state(new, state)
            changed = [op.layer for op in self.operations if op.kind in ("replace", "append")]
            changed += [op.layer for op in self.operations if op.kind == "drop"]
            for op in deletes:
                if _apply_operation(new, op):
                    changed.append(op.layer)
            self._finish(new, list(dict.fromkeys(changed)))
            new.execute("COMMIT")
        finally:
            new.close()
        return self._publish_stage()

    def _publish_stage(self) -> Summary:
        """Rename the finished stage over the output, with Ctrl-C and SIGTERM held."""
        from gridkit.io import publish_mode

        publish_mode(self._stage, self.path)
        with signals_held():
            os.replace(self._stage, self.path)
            COMMITTED.append(self.path)
        self._stage = None
        return self.summary

    def _create(self) -> Summary:
        """A new file: the stage holds the rows already; finish it and rename it in."""
        if self._stage is None or not self._stage.exists():
            return self.summary  # nothing to write: no file either
        db = _connect(self._stage)
        try:
            db.execute("BEGIN IMMEDIATE")
            self._apply(db, new_file=True)
            db.execute("COMMIT")
        finally:
            db.close()
        return self._publish_stage()

    def _apply(self, db: sqlite3.Connection, new_file: bool) -> None:
        changed: list[str] = []
        for op in self.operations:
            if op.kind == "index":
                continue
            if new_file:
                # The stage is the file: staged layers are in place, nothing else exists.
                if op.kind in ("replace", "append") and op.layer not in changed:
                    changed.append(op.layer)
                continue
            if _apply_operation(db, op) and op.layer not in changed:
                changed.append(op.layer)
        self._finish(db, changed)

    def _finish(self, db: sqlite3.Connection, changed: list[str]) -> None:
        """The run row, the indexes asked for and the bookkeeping, after the layers."""
        for op in self.operations:
            if op.kind == "index":
                _index(db, op.layer, op.where)
        run_fid = None
        if self.run is not None:
            run_fid = _append_run(db, self.run)
        self.summary.run = run_fid
        self.summary.changed = changed
        self._derive_known()
        annotated = ANNOTATES.get(self.command, set())
        self.summary.removed_qa = _update_state(
            db, [c for c in changed if c not in annotated], run_fid, self.derivations,
            self.command)

    def discard(self) -> None:
        """Remove the stage file (always, after commit or failure)."""
        if self._stage is not None:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(str(self._stage) + suffix).unlink(missing_ok=True)
            self._stage = None


COMMITTED: list[Path] = []  # the files this process committed to, for the interrupt line


@contextmanager
def transaction(path: str | Path, command: str) -> Iterator[Transaction]:
    """Stage a command's changes to the GeoPackage ``path`` and apply them at once.

    Parameters
    ----------
    path : str or Path
        The GeoPackage to change (created when absent; must end in ``.gpkg``).
    command : str
        The command, recorded in the bookkeeping tables.

    Yields
    ------
    Transaction
        Stage changes on it; they are committed when the block ends without an exception,
        and none of them is applied otherwise.

    Raises
    ------
    FileError
        When ``path`` is not a GeoPackage, or cannot be written.

    Examples
    --------
    >>> with transaction("out.gpkg", "census check") as tx:  # doctest: +SKIP
    ...     tx.replace_qa("census check", issues)
    ...     tx.replace_layer("component_coverage", coverage)
    ...     tx.derive("component_coverage", ("component", "unit_grid"))
    """
    path = Path(path)
    _check_target(path)
    tx = Transaction(path, command)
    try:
        yield tx
        tx.commit()
    except GridkitError:  # the command's own (a FileError is an OSError too): as it is
        raise
    except sqlite3.DatabaseError as exc:
        raise FileError(f"{path}: SQLite could not write it ({exc}); the file is as it "
                        "was before the command", file=path) from None
    except (OSError, *_GDAL_WRITE_ERRORS) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise FileError(f"{path}: cannot write ({reason}); the file is as it was before "
                        "the command", file=path) from None
    finally:
        tx.discard()


def parent_folder(path: Path) -> Path:
    """The folder ``path`` is to be written in, created when missing.

    Parameters
    ----------
    path : pathlib.Path
        A file or folder about to be written.

    Returns
    -------
    pathlib.Path
        Its parent folder (``.`` for a bare name).

    Raises
    ------
    FileError
        When the folder cannot be created; names ``path`` and the folder.
    """
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileError(f"{path}: cannot create folder {directory} ({exc.strerror})",
                        file=path) from None
    return directory


def _check_target(path: Path) -> None:
    if path.suffix.lower() != ".gpkg":
        raise InputError(f"{path}: the output must be a GeoPackage (.gpkg)", parameter="output",
                         file=path)
    parent_folder(path)
    remove_orphan_stages(path)
    if path.exists() and not is_geopackage(path):
        raise FileError(f"{path}: the output exists but is not a GeoPackage; choose "
                        "another output path", file=path)


def is_geopackage(path: Path) -> bool:
    """Whether ``path`` is an SQLite file with the GeoPackage tables.

    A hot journal left by a killed command is rolled back by this first open.
    """
    try:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return False
        db = sqlite3.connect(path)
        try:
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        finally:
            db.close()
    except (OSError, sqlite3.DatabaseError):
        return False
    return "gpkg_contents" in names


def created_by_gridkit(path: str | Path) -> bool:
    """Whether ``path`` is a GeoPackage gridkit made (it holds a ``gridkit_run`` table)."""
    path = Path(path)
    if path.suffix.lower() != ".gpkg" or not path.exists() or not is_geopackage(path):
        return False
    return RUN_LAYER in _tables_of(path)


def _tables_of(path: Path) -> set[str]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        db.close()


def _stage_path(target: Path) -> Path:
    directory = target.parent if str(target.parent) else Path(".")
    handle, name = tempfile.mkstemp(prefix=f".{target.name}{STAGE_MARK}{os.getpid()}-",
                                    suffix=".gpkg", dir=directory)
    os.close(handle)
    os.unlink(name)  # GDAL creates it
    return Path(name)


def remove_orphan_stages(target: Path) -> list[Path]:
    """Remove stage files of ``target`` left by a killed gridkit (its process gone)."""
    directory = target.parent if str(target.parent) else Path(".")
    removed = []
    for stage in directory.glob(f".{target.name}{STAGE_MARK}*"):
        try:
            pid = int(stage.name[len(f".{target.name}{STAGE_MARK}"):].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and process_alive(pid):
            continue
        stage.unlink(missing_ok=True)
        removed.append(stage)
    return removed


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (its stage or staging folder is then not orphaned)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def signals_held():
    """Hold SIGINT/SIGTERM while a commit's last step runs.

    It is quick, and finishing it is what keeps the output whole; they are delivered right after.
    """
    blocked = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# -- SQLite ------------------------------------------------------------------------------

def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    # The R-tree triggers GDAL writes call these; gridkit's bulk paths bypass the triggers,
    # but a delete or an update by another writer's triggers may still need them.
    db.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)
    for name, index in (("ST_MinX", 0), ("ST_MinY", 1), ("ST_MaxX", 2), ("ST_MaxY", 3)):
        db.create_function(name, 1, lambda blob, i=index: _envelope(blob)[i],
                           deterministic=True)
    db.execute("PRAGMA cache_size = -262144")  # 256 MiB: the R-tree updates live in it
    return db


def _gpkg_wkb(blob: bytes) -> bytes:
    flags = blob[3]
    sizes = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
    return blob[8 + sizes.get((flags >> 1) & 7, 0):]


def _st_is_empty(blob) -> int | None:
    if blob is None:
        return None
    return int(bool(blob[3] & 0x10))


def _envelope(blob) -> tuple[float, float, float, float]:
    import shapely

    if blob is None:
        return (None, None, None, None)
    flags = blob[3]
    order = "<" if flags & 1 else ">"
    if (flags >> 1) & 7:
        minx, maxx, miny, maxy = struct.unpack(order + "4d", blob[8:40])
        return (minx, miny, maxx, maxy)
    return tuple(shapely.from_wkb(_gpkg_wkb(blob)).bounds)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _schema_tables(db: sqlite3.Connection, schema: str) -> set[str]:
    return {r[0] for r in db.execute(f"SELECT name FROM {schema}.sqlite_master "
                                     "WHERE type = 'table'")}


def _geometry_column(db: sqlite3.Connection, schema: str, layer: str) -> str | None:
    if "gpkg_geometry_columns" not in _schema_tables(db, schema):
        return None
    row = db.execute(f"SELECT column_name FROM {schema}.gpkg_geometry_columns "
                     "WHERE table_name = ?", (layer,)).fetchone()
    return row[0] if row else None


def _fid_column(db: sqlite3.Connection, schema: str, layer: str) -> str:
    for row in db.execute(f"PRAGMA {schema}.table_info({_q(layer)})"):
        if row[5] == 1:
            return row[1]
    return "rowid"


def _apply_operation(db: sqlite3.Connection, op: _Operation) -> bool:
    """Apply one operation; True when it changed the layer."""
    main = _schema_tables(db, "main")
    if op.kind == "drop":
        if op.layer not in main:
            return False
        _drop(db, op.layer)
        return True
    if op.kind == "delete":
        if op.layer not in main:
            return False
        try:
            cursor = db.execute(f"DELETE FROM main.{_q(op.layer)} WHERE {op.where}", op.params)
        except sqlite3.OperationalError as exc:
            if "no such column" in str(exc):
                return False  # a layer from before that column: none of its rows match
            raise
        return cursor.rowcount > 0
    if op.kind == "append" and op.layer in main:
        if not db.execute(f"SELECT EXISTS (SELECT 1 FROM stage.{_q(op.layer)})").fetchone()[0]:
            # No rows to add (an append whose every row was rejected): the layer, and so
            # every result computed from it, stays as it was.
            return False
        clash = _type_clash(db, op.layer)
        if not clash:
            _append(db, op.layer)
            return True
        if clash == "rows":
            _prepend_existing(db, op.layer)
    if op.layer in main:
        _drop(db, op.layer)
    _copy_new(db, op.layer)
    return True


_NUMERIC = ("INT", "REAL", "FLOA", "DOUB", "NUMERIC", "BOOL", "DATE")


def _type_clash(db: sqlite3.Connection, layer: str) -> str | None:
    """Whether staged rows cannot simply be added.

    None when they can; "empty" when the layer holds no rows (its column types may be GDAL's guess
    for an empty frame: take the staged ones); "rows" when a numeric column would receive text
    (rewrite the layer).
    """
    if db.execute(f"SELECT NOT EXISTS (SELECT 1 FROM main.{_q(layer)})").fetchone()[0]:
        return "empty"
    ours = {r[1]: (r[2] or "").upper() for r in db.execute(f"PRAGMA main.table_info({_q(layer)})")}
    theirs = {r[1]: (r[2] or "").upper()
              for r in db.execute(f"PRAGMA stage.table_info({_q(layer)})")}
    for name, kind in theirs.items():
        mine = ours.get(name, "")
        if kind.startswith("TEXT") and mine.startswith(_NUMERIC):
            return "rows"
    return None


def _prepend_existing(db: sqlite3.Connection, layer: str,
                      deletes: list[_Operation] = ()) -> None:
    """Put the layer's rows (but those the ``deletes`` remove) into the stage before the new ones.

    When a column's type must change, or the whole file is rewritten.
    """
    ours = [r[1] for r in db.execute(f"PRAGMA main.table_info({_q(layer)})")]
    fid, stage_fid = _fid_column(db, "main", layer), _fid_column(db, "stage", layer)
    geometry = _geometry_column(db, "main", layer)
    stage_geometry = _geometry_column(db, "stage", layer)
    staged = {r[1] for r in db.execute(f"PRAGMA stage.table_info({_q(layer)})")}
    pairs = [(stage_geometry if c == geometry else c, c) for c in ours
             if c != fid and (stage_geometry if c == geometry else c) in staged]
    shift = db.execute(f"SELECT COALESCE(MAX({_q(fid)}), 0) FROM main.{_q(layer)}").fetchone()[0]
    # Two passes (negative first) so that no shifted fid meets one not yet shifted.
    db.execute(f"UPDATE stage.{_q(layer)} SET {_q(stage_fid)} = -{_q(stage_fid)}")
    db.execute(f"UPDATE stage.{_q(layer)} SET {_q(stage_fid)} = {shift} - {_q(stage_fid)}")
    targets = ", ".join([_q(stage_fid)] + [_q(t) for t, _ in pairs])
    sources = ", ".join([_q(fid)] + [_q(s) for _, s in pairs])
    keep, params = "1", []
    have = {r[1] for r in db.execute(f"PRAGMA main.table_info({_q(layer)})")}
    for op in deletes:
        if all(f'"{c}"' not in op.where or c in have for c in ("COMMAND", "SRCFILE")):
            keep += f" AND NOT ({op.where})"
            params += list(op.params)
    db.execute(f"INSERT INTO stage.{_q(layer)} ({targets}) SELECT {sources} "
               f"FROM main.{_q(layer)} WHERE {keep}", params)


def _index(db: sqlite3.Connection, layer: str, column: str) -> None:
    if layer not in _schema_tables(db, "main"):
        return
    if column not in {r[1] for r in db.execute(f"PRAGMA main.table_info({_q(layer)})")}:
        return
    db.execute(f"CREATE INDEX IF NOT EXISTS main.{_q(f'idx_{layer}_{column}')} "
               f"ON {_q(layer)} ({_q(column)})")


def _drop(db: sqlite3.Connection, layer: str) -> None:
    """Everything the GeoPackage standard says a layer is.

    Table, R-tree, triggers, rows in the gpkg_* tables. The freed pages are reused by later writes
    (no VACUUM, which would rewrite the whole file).
    """
    geometry = _geometry_column(db, "main", layer)
    if geometry is not None:
        db.execute(f"DROP TABLE IF EXISTS main.{_q(f'rtree_{layer}_{geometry}')}")
    db.execute(f"DROP TABLE IF EXISTS main.{_q(layer)}")
    main = _schema_tables(db, "main")
    for table in _META:
        if table in main:
            db.execute(f"DELETE FROM main.{table} WHERE table_name = ?", (layer,))


def _copy_new(db: sqlite3.Connection, layer: str) -> None:
    """Create ``layer`` in main from the stage: its DDL, rows, R-tree, metadata rows."""
    main = _schema_tables(db, "main")
    for table in ("gpkg_spatial_ref_sys", *_META):
        if table not in main and table in _schema_tables(db, "stage"):
            sql = db.execute("SELECT sql FROM stage.sqlite_master WHERE name = ?",
                             (table,)).fetchone()[0]
            db.execute(sql)
    geometry = _geometry_column(db, "stage", layer)
    rtree = f"rtree_{layer}_{geometry}" if geometry else None
    entries = db.execute("SELECT type, name, sql FROM stage.sqlite_master WHERE sql IS NOT NULL "
                         "AND (name = ? OR name = ? OR tbl_name = ?)",
                         (layer, rtree, layer)).fetchall()
    for kind, name, sql in entries:
        if kind == "table" and (name == layer or name == rtree):
            db.execute(sql)
    db.execute(f"INSERT INTO main.{_q(layer)} SELECT * FROM stage.{_q(layer)}")
    if rtree and rtree in _schema_tables(db, "stage"):
        db.execute(f"INSERT INTO main.{_q(rtree)} SELECT * FROM stage.{_q(rtree)}")
    for kind, _name, sql in entries:
        if kind in ("index", "trigger"):
            db.execute(sql)
    _copy_srs(db, layer)
    for table in _META:
        if table in _schema_tables(db, "stage") and table in _schema_tables(db, "main"):
            db.execute(f"INSERT INTO main.{table} SELECT * FROM stage.{table} "
                       "WHERE table_name = ?", (layer,))


def _copy_srs(db: sqlite3.Connection, layer: str) -> None:
    row = db.execute("SELECT srs_id FROM stage.gpkg_contents WHERE table_name = ?",
                     (layer,)).fetchone()
    if not row or row[0] is None:
        return
    srs = row[0]
    theirs = db.execute("SELECT * FROM stage.gpkg_spatial_ref_sys WHERE srs_id = ?",
                        (srs,)).fetchone()
    ours = db.execute("SELECT * FROM main.gpkg_spatial_ref_sys WHERE srs_id = ?",
                      (srs,)).fetchone()
    if theirs is None or ours == theirs:
        return
    if ours is None:
        db.execute(f"INSERT INTO main.gpkg_spatial_ref_sys VALUES "
                   f"({', '.join('?' * len(theirs))})", theirs)
        return
    # The same id means another CRS here (GDAL numbers custom ones from 100000 per file):
    # reuse an equal definition or give this one a free id.
    same = db.execute("SELECT srs_id FROM main.gpkg_spatial_ref_sys WHERE definition = ?",
                      (theirs[4],)).fetchone()
    new = same[0] if same else db.execute(
        "SELECT MAX(MAX(srs_id) + 1, 100000) FROM main.gpkg_spatial_ref_sys").fetchone()[0]
    if not same:
        db.execute(f"INSERT INTO main.gpkg_spatial_ref_sys VALUES "
                   f"({', '.join('?' * len(theirs))})", (theirs[0], new, *theirs[2:]))
    db.execute("UPDATE stage.gpkg_contents SET srs_id = ? WHERE table_name = ?", (new, layer))
    db.execute("UPDATE stage.gpkg_geometry_columns SET srs_id = ? WHERE table_name = ?",
               (new, layer))


def _append(db: sqlite3.Connection, layer: str) -> None:
    """Add the staged rows to an existing layer.

    Fids after its last one, the R-tree rows copied (its insert trigger set aside meanwhile: it
    would compute each box in Python), the feature count and the extent updated.
    """
    columns = {r[1]: r[2] for r in db.execute(f"PRAGMA main.table_info({_q(layer)})")}
    staged = {r[1]: r[2] for r in db.execute(f"PRAGMA stage.table_info({_q(layer)})")}
    fid, stage_fid = _fid_column(db, "main", layer), _fid_column(db, "stage", layer)
    geometry = _geometry_column(db, "main", layer)
    stage_geometry = _geometry_column(db, "stage", layer)
    pairs = []
    for name, kind in staged.items():
        if name == stage_fid:
            continue
        target = geometry if name == stage_geometry and geometry else name
        if target not in columns:
            db.execute(f"ALTER TABLE main.{_q(layer)} ADD COLUMN {_q(target)} {kind}")
            columns[target] = kind
        pairs.append((target, name))
    offset = db.execute(f"SELECT COALESCE(MAX({_q(fid)}), 0) FROM main.{_q(layer)}") \
        .fetchone()[0]
    count = db.execute(f"SELECT COUNT(*) FROM stage.{_q(layer)}").fetchone()[0]
    # The insert triggers (R-tree box, feature count) are set aside and redone in bulk.
    triggers = [(name, sql) for name, sql in db.execute(
        "SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
        (layer,)) if "AFTER INSERT" in " ".join(sql.upper().split())]
    for name, _sql in triggers:
        db.execute(f"DROP TRIGGER main.{_q(name)}")
    targets = ", ".join([_q(fid)] + [_q(t) for t, _ in pairs])
    sources = ", ".join([f"{_q(stage_fid)} + {offset}"] + [_q(s) for _, s in pairs])
    db.execute(f"INSERT INTO main.{_q(layer)} ({targets}) SELECT {sources} "
               f"FROM stage.{_q(layer)}")
    if geometry and stage_geometry:
        main_rtree, stage_rtree = f"rtree_{layer}_{geometry}", f"rtree_{layer}_{stage_geometry}"
        if main_rtree in _schema_tables(db, "main") and \
                stage_rtree in _schema_tables(db, "stage"):
            db.execute(f"INSERT INTO main.{_q(main_rtree)} SELECT id + {offset}, minx, maxx, "
                       f"miny, maxy FROM stage.{_q(stage_rtree)}")
        _widen(db, layer)
    for _name, sql in triggers:
        db.execute(sql)
    if "gpkg_ogr_contents" in _schema_tables(db, "main"):
        db.execute("UPDATE main.gpkg_ogr_contents SET feature_count = feature_count + ? "
                   "WHERE lower(table_name) = lower(?) AND feature_count IS NOT NULL",
                   (count, layer))
    db.execute("UPDATE main.gpkg_contents SET last_change = ? WHERE table_name = ?",
               (_last_change(), layer))


def _widen(db: sqlite3.Connection, layer: str) -> None:
    """The layer's extent and geometry type after an append."""
    db.execute(
        "UPDATE main.gpkg_contents SET "
        "min_x = MIN(COALESCE(min_x, s.a), s.a), min_y = MIN(COALESCE(min_y, s.b), s.b), "
        "max_x = MAX(COALESCE(max_x, s.c), s.c), max_y = MAX(COALESCE(max_y, s.d), s.d) "
        "FROM (SELECT min_x AS a, min_y AS b, max_x AS c, max_y AS d FROM stage.gpkg_contents "
        "WHERE table_name = ? AND min_x IS NOT NULL) AS s WHERE table_name = ?",
        (layer, layer))
    ours = db.execute("SELECT geometry_type_name FROM main.gpkg_geometry_columns "
                      "WHERE table_name = ?", (layer,)).fetchone()
    theirs = db.execute("SELECT geometry_type_name FROM stage.gpkg_geometry_columns "
                        "WHERE table_name = ?", (layer,)).fetchone()
    if ours and theirs and ours[0] != theirs[0]:
        db.execute("UPDATE main.gpkg_geometry_columns SET geometry_type_name = 'GEOMETRY' "
                   "WHERE table_name = ?", (layer,))


def _append_run(db: sqlite3.Connection, run: pd.DataFrame) -> int:
    """Append the run row (a plain attribute table) and return its fid."""
    columns = list(run.columns)
    tables = _schema_tables(db, "main")
    if RUN_LAYER not in tables:
        _create_attribute_table(db, RUN_LAYER, columns)
    else:
        have = {r[1] for r in db.execute(f"PRAGMA main.table_info({RUN_LAYER})")}
        for column in columns:
            if column not in have:
                db.execute(f"ALTER TABLE main.{RUN_LAYER} ADD COLUMN {_q(column)} TEXT")
    fid = None
    for row in run.astype(object).where(run.notna(), None).itertuples(index=False):
        cursor = db.execute(
            f"INSERT INTO main.{RUN_LAYER} ({', '.join(_q(c) for c in columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})", tuple(row))
        fid = cursor.lastrowid
    return fid


def _create_attribute_table(db: sqlite3.Connection, name: str, columns: list[str],
                            extra: str = "") -> None:
    """A GeoPackage attribute table (listed by GDAL as a layer without geometry)."""
    body = ", ".join(f"{_q(c)} TEXT" for c in columns)
    db.execute(f"CREATE TABLE main.{_q(name)} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"
               f", {body}{extra})")
    db.execute("INSERT INTO main.gpkg_contents (table_name, data_type, identifier, "
               "last_change) VALUES (?, 'attributes', ?, ?)", (name, name, _last_change()))


_METADATA_DDL = (
    "CREATE TABLE main.gpkg_metadata (id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL, "
    "md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL, "
    "mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '')"
)
_EXTENSIONS_DDL = (
    "CREATE TABLE main.gpkg_extensions (table_name TEXT, column_name TEXT, extension_name "
    "TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE "
    "(table_name, column_name, extension_name))"
)


def _load_state(db: sqlite3.Connection, schema: str = "main") -> dict:
    """The bookkeeping document.

    ``{"layers": {LAYER: {version, run, time}}, "derived": {RESULT: {command, run, time,
    inputs}}}``. It lives in the GeoPackage's standard ``gpkg_metadata`` table (one JSON row,
    referenced by nothing, so GDAL shows no layer for it and other tools ignore it).
    """
    if "gpkg_metadata" not in _schema_tables(db, schema):
        return {"layers": {}, "derived": {}}
    row = db.execute(f"SELECT metadata FROM {schema}.gpkg_metadata WHERE md_standard_uri = ? "
                     "ORDER BY id DESC LIMIT 1", (STATE_URI,)).fetchone()
    state = json.loads(row[0]) if row else {}
    state.setdefault("layers", {})
    state.setdefault("derived", {})
    return state


def _save_state(db: sqlite3.Connection, state: dict) -> None:
    tables = _schema_tables(db, "main")
    if "gpkg_metadata" not in tables:
        db.execute(_METADATA_DDL)
        if "gpkg_extensions" not in tables:
            db.execute(_EXTENSIONS_DDL)
        db.execute("INSERT OR IGNORE INTO main.gpkg_extensions VALUES ('gpkg_metadata', NULL, "
                   "'gpkg_metadata', 'http://www.geopackage.org/spec120/#extension_metadata', "
                   "'read-write')")
    text = json.dumps(state, ensure_ascii=False, sort_keys=True)
    if db.execute("UPDATE main.gpkg_metadata SET metadata = ? WHERE md_standard_uri = ?",
                  (text, STATE_URI)).rowcount == 0:
        db.execute("INSERT INTO main.gpkg_metadata (md_scope, md_standard_uri, mime_type, "
                   "metadata) VALUES ('dataset', ?, 'application/json', ?)", (STATE_URI, text))


def _run_time() -> datetime:
    # The run's time when fixed (a province run, gridkit.io.stamped_run), else now.
    from gridkit.io import run_time

    return run_time().astimezone(UTC)


def _last_change() -> str:
    """``gpkg_contents.last_change`` as the GeoPackage writes it (milliseconds, Z)."""
    stamp = _run_time()
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _now() -> str:
    return _run_time().isoformat(timespec="seconds")


def _update_state(db: sqlite3.Connection, changed: list[str], run: int | None,
                  derivations: dict[str, tuple[str, ...]], command: str) -> dict[str, int]:
    """Bump the versions of the ``changed`` layers and remove the qa rows computed from them.

    This transaction's own qa rows stay, and its derivations are recorded. Returns the qa rows
    removed per command.
    """
    if not changed and not derivations:
        return {}
    state = _load_state(db)
    layers, derived = state["layers"], state["derived"]
    now = _now()
    for layer in changed:
        entry = layers.setdefault(layer, {"version": 0})
        entry.update(version=entry["version"] + 1, run=run, time=now)
    removed: dict[str, int] = {}
    main = _schema_tables(db, "main")
    for result in [r for r in derived if r.startswith(f"{QA_LAYER}:")]:
        if result in derivations or not set(derived[result]["inputs"]) & set(changed):
            continue
        command_of = result.split(":", 1)[1]
        if QA_LAYER in main:
            try:
                rows = db.execute(f"DELETE FROM main.{QA_LAYER} WHERE COMMAND = ?",
                                  (command_of,)).rowcount
            except sqlite3.OperationalError:
                rows = 0  # a qa_issue layer from before COMMAND existed
            if rows > 0:
                removed[command_of] = rows
        del derived[result]
    for result, inputs in derivations.items():
        derived[result] = {"command": command, "run": run, "time": now,
                           "inputs": {k: layers.get(k, {}).get("version", 0) for k in inputs}}
    _save_state(db, state)
    return removed


# -- reading the bookkeeping -----------------------------------------------------------------

@dataclass
class StaleResult:
    """A derived result whose inputs changed after it was computed."""

    result: str
    command: str
    changed: list[str]

    def message(self) -> str:
        """One line telling the user which result is stale and the command to run again."""
        return (f"{self.result} is stale: {', '.join(self.changed)} changed after "
                f"`gridkit {self.command}` made it; run it again")


def stale_results(path: str | Path) -> list[StaleResult]:
    """Derived results of ``path`` whose input layers changed since they were computed.

    Parameters
    ----------
    path : str or Path
        A GeoPackage written by gridkit.

    Returns
    -------
    list of StaleResult
        Empty when every result is current, or the file has no bookkeeping.

    Examples
    --------
    >>> [s.result for s in stale_results("out.gpkg")]  # doctest: +SKIP
    ['component_coverage']
    """
    state = read_state(path)
    present = set(state.get("tables", ()))
    stale = []
    for result, entry in sorted(state["derived"].items()):
        if result.split(":", 1)[0] not in present:
            continue
        changed = sorted(k for k, v in entry["inputs"].items()
                         if state["layers"].get(k, {}).get("version", 0) != v)
        if changed:
            stale.append(StaleResult(result, entry["command"], changed))
    return stale


def read_state(path: str | Path) -> dict:
    """The bookkeeping document of ``path`` (see :func:`_load_state`) with ``tables`` present.

    Empty for a file gridkit has not written.
    """
    path = Path(path)
    empty = {"layers": {}, "derived": {}, "tables": []}
    if not path.exists() or not is_geopackage(path):
        return empty
    db = sqlite3.connect(path)
    try:
        state = _load_state(db)
        state["tables"] = sorted(_schema_tables(db, "main"))
        return state
    finally:
        db.close()


def layer_versions(path: str | Path) -> dict[str, int]:
    """The version of each layer of ``path`` (how many commands changed it)."""
    return {k: v["version"] for k, v in read_state(path)["layers"].items()}
