"""Where an export goes.

Checking DEST before any work, and writing to a temporary sibling that takes DEST's place only when
complete, so a failed export leaves the previous one.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from gridkit.errors import InputError, mention
from gridkit.io import replace_folder
from gridkit.store import parent_folder

MANIFEST = "gridkit_export.json"  # in a folder export
MANIFEST_TABLE = "gridkit_export"  # in a GeoPackage export
Kind = Literal["file", "folder"]
_FILE_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".csv", ".parquet", ".geoparquet"}


def check_dest(dest: Path, kind: Kind, fmt: str, source: Path) -> None:
    """Refuse a DEST the format cannot use, or one holding anything but an earlier gridkit export.

    An earlier gridkit export is all an export ever replaces.
    """
    if dest.resolve() == source.resolve() or source.resolve().is_relative_to(dest.resolve()):
        raise InputError(f"{dest}: it is (or holds) the source {source}; writing there would "
                         "destroy it; choose another DEST")
    if kind == "file":
        _check_file(dest, fmt)
    else:
        _check_folder(dest, fmt)


def _check_file(dest: Path, fmt: str) -> None:
    if dest.is_dir():
        raise InputError(f"{dest} is a folder; {mention(format=fmt)} writes one GeoPackage: "
                         f"give a file path such as {dest / 'handoff.gpkg'}")
    if dest.suffix.lower() != ".gpkg":
        raise InputError(f"{dest}: {mention(format=fmt)} writes a GeoPackage; give a DEST "
                         "ending in .gpkg")
    if dest.exists() and not _is_export_geopackage(dest):
        raise InputError(f"{dest} exists and is not an earlier gridkit export; choose a new "
                         "path or remove it first")


def _is_export_geopackage(path: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            names = {row[0] for row in db.execute(
                "SELECT table_name FROM gpkg_contents WHERE table_name = ?", (MANIFEST_TABLE,))}
        return MANIFEST_TABLE in names
    except sqlite3.DatabaseError:
        return False


def _check_folder(dest: Path, fmt: str) -> None:
    if dest.is_file():
        raise InputError(f"{dest} is a file; {mention(format=fmt)} writes a folder with one "
                         "file per layer: give a folder path")
    if not dest.exists() and dest.suffix.lower() in _FILE_SUFFIXES:
        raise InputError(f"{dest}: {mention(format=fmt)} writes a folder with one file per "
                         f"layer; give a folder path (e.g. {dest.with_suffix('')})")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / MANIFEST).is_file():
        raise InputError(f"{dest} holds other files and no {MANIFEST} of an earlier export; "
                         "choose a new or empty folder")


@contextmanager
def staged(dest: Path, kind: Kind) -> Iterator[Path]:
    """A temporary path beside ``dest`` to write into; it replaces ``dest`` on success."""
    parent = parent_folder(dest)
    if kind == "file":
        handle, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".gpkg", dir=parent)
        os.close(handle)
        temporary = Path(name)
        temporary.unlink()  # GDAL creates the file itself
        try:
            yield temporary
            os.replace(temporary, dest)
        finally:
            temporary.unlink(missing_ok=True)
        return
    temporary = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=parent))
    try:
        yield temporary
        replace_folder(temporary, dest)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
