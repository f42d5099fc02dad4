"""What a GeoPackage export adds with SQLite after GDAL wrote the layers.

Field titles and descriptions (the OGC GeoPackage 1.3 schema extension, Annex F.9) and default QGIS
styles (the ``layer_styles`` table QGIS itself reads and writes).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gridkit.export.fields import constraint_of, field_text, titles

SCHEMA_EXTENSION = "http://www.geopackage.org/spec/#extension_schema"

# Table definitions as GeoPackage 1.3 gives them (Annex C, tables 30 and 31).
_DATA_COLUMNS = """
CREATE TABLE IF NOT EXISTS gpkg_data_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  name TEXT,
  title TEXT,
  description TEXT,
  mime_type TEXT,
  constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name)
)"""
_CONSTRAINTS = """
CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
  constraint_name TEXT NOT NULL,
  constraint_type TEXT NOT NULL,
  value TEXT,
  min NUMERIC,
  min_is_inclusive BOOLEAN,
  max NUMERIC,
  max_is_inclusive BOOLEAN,
  description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value)
)"""
_EXTENSIONS = """
CREATE TABLE IF NOT EXISTS gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
)"""
# As QGIS creates it when it saves a style into a GeoPackage.
_LAYER_STYLES = """
CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  f_table_catalog TEXT(256),
  f_table_schema TEXT(256),
  f_table_name TEXT(256),
  f_geometry_column TEXT(256),
  styleName TEXT(30),
  styleQML TEXT,
  styleSLD TEXT,
  useAsDefault BOOLEAN,
  description TEXT,
  owner TEXT(30),
  ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)"""


@dataclass(frozen=True)
class StyleRow:
    """One row of the GeoPackage ``layer_styles`` table (what QGIS reads as the default style).

    Attributes
    ----------
    table : str
        The layer.
    name : str
        The style's name.
    qml : str
        The QGIS style document.
    sld : str
        The same style as OGC SLD 1.0.
    description : str
        Shown in QGIS's style list.
    """

    table: str
    name: str
    qml: str
    sld: str
    description: str


def add_schema(path: Path, tables: dict[str, list[str]]) -> int:
    """Describe the fields of ``tables`` (name -> field names); returns the rows written."""
    used = {}
    rows = []
    for table, fields in tables.items():
        short = titles(table, fields)
        for field in fields:
            text = field_text(table, field)
            if text is None:
                continue
            constraint = constraint_of(field)
            if constraint is not None:
                used[constraint.name] = constraint
            rows.append((table, field, short[field], short[field], text.description,
                         None, constraint.name if constraint else None))
    with sqlite3.connect(path) as db:
        db.execute(_EXTENSIONS)
        db.execute(_DATA_COLUMNS)
        db.execute(_CONSTRAINTS)
        for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
            _register(db, table, "gpkg_schema", SCHEMA_EXTENSION, "read-write")
        db.executemany("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name,"
                       " title, description, mime_type, constraint_name) VALUES (?,?,?,?,?,?,?)",
                       rows)
        db.executemany(
            "INSERT OR REPLACE INTO gpkg_data_column_constraints (constraint_name, "
            "constraint_type, value, min, min_is_inclusive, max, max_is_inclusive, "
            "description) VALUES (?, 'enum', ?, NULL, NULL, NULL, NULL, ?)",
            [(c.name, value, label) for c in used.values() for value, label in c.values.items()])
    return len(rows)


def add_styles(path: Path, styles: list[StyleRow]) -> None:
    """One default style per layer in ``layer_styles``, registered as an attribute table."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    with sqlite3.connect(path) as db:
        columns = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        db.execute(_LAYER_STYLES)
        db.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                   "description, last_change) VALUES ('layer_styles', 'attributes', "
                   "'layer_styles', 'QGIS 图层样式', ?)", (stamp,))
        db.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, 'gridkit', NULL, ?)",
            [(s.table, columns.get(s.table, ""), s.name, s.qml, s.sld, s.description, stamp)
             for s in styles])


def _register(db: sqlite3.Connection, table: str, extension: str, definition: str,
              scope: str) -> None:
    # A NULL column_name makes the UNIQUE constraint miss duplicates, so look first.
    found = db.execute("SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND column_name IS "
                       "NULL AND extension_name = ?", (table, extension)).fetchone()
    if not found:
        db.execute("INSERT INTO gpkg_extensions (table_name, column_name, extension_name, "
                   "definition, scope) VALUES (?, NULL, ?, ?, ?)",
                   (table, extension, definition, scope))
