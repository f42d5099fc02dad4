"""Shared material for the export tests (no tests here): the bundled sample district with
synthetic component and event layers in Chinese, and readers that bring every format back
to comparable values."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import shutil
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from conftest import copy_of, sample_grouped, scratch_folder

from gridkit.codes import national_catalog
from gridkit.io import ArrowLayer, write_geopackage

DEPARTMENTS = [("0012", "区绿化和市容管理局"), ("0007", "区建设和管理委员会"),
               ("0101", "上海市电力公司金山供电所")]
STATES = ["完好", "破损", "丢失", "占用"]
NOTES = ["井盖松动，需更换", None, "", "位于“人民路”交叉口（东南角）", "雨后积水 0.5 米"]


@cache
def _template() -> Path:
    folder = scratch_folder("gridkit-export-tests-")
    path = folder / "district.gpkg"
    # The sample's partition and grouping: community, unit_grid, ..., gridkit_run.
    copy_of(sample_grouped(), folder, path.name)
    grids = pyogrio.read_dataframe(path, layer="unit_grid").sort_values("BGID")
    write_geopackage(path, {"component": component_layer(grids), "event": event_layer(grids)})
    return path


def district(folder: Path, name: str = "out.gpkg") -> Path:
    """A fresh copy of the sample district with components and events, in ``folder``."""
    target = folder / name
    shutil.copyfile(_template(), target)
    return target


def component_layer(grids, count: int = 240) -> ArrowLayer:
    """Components in every 7th grid: points, one line and one polygon (classes the catalog
    draws as such), codes with leading zeros, dates, gaps, Chinese text."""
    minors = [e for e in national_catalog("component").minors() if e.geometry == "point"]
    rng = np.random.default_rng(7)
    rows, shapes = [], []
    for k in range(count):
        grid = grids.iloc[(k * 7) % len(grids)]
        entry = minors[k % len(minors)]
        inner = grid.geometry.representative_point()
        code, name = DEPARTMENTS[k % len(DEPARTMENTS)]
        rows.append({
            "OBJCODE": f"310116{entry.code}{k + 1:06d}", "OBJNAME": entry.name,
            "MAJOR": entry.major, "MINOR": entry.minor,
            "DEPTCODE1": code, "DEPTNAME1": name, "DEPTCODE2": None, "DEPTNAME2": "区路政所",
            "DEPTCODE3": "000" + str(k % 5), "DEPTNAME3": "市政养护公司",
            "BGID": grid["BGID"], "OBJSTATE": STATES[k % 4],
            "ORDATE": dt.date(2012, 3, 5) + dt.timedelta(days=k),
            "CHDATE": None if k % 3 else dt.date(2024, 1, 1) + dt.timedelta(days=k),
            "DATASOURCE": "实测", "NOTE": NOTES[k % len(NOTES)],
            "PICTURE": f"IMG_{k:04d}.jpg", "SRCROW": k + 2,
            "COMMUNITY": grid["COMMUNITY"], "STREET": grid["STREET"],
        })
        x, y = inner.x + rng.uniform(-0.5, 0.5), inner.y + rng.uniform(-0.5, 0.5)
        shapes.append(shapely.Point(x, y))
    # A guardrail (0211, a line) and a footbridge (0205, a polygon): the census stores
    # linear and areal classes with their own geometry.
    for k, (minor, shape) in enumerate((("0211", "line"), ("0205", "polygon"))):
        base = shapes[k]
        rows[k] |= {"OBJCODE": f"310116{minor}{k + 1:06d}", "MAJOR": "02", "MINOR": minor[2:],
                    "OBJNAME": national_catalog("component")[minor].name}
        shapes[k] = (shapely.LineString([(base.x, base.y), (base.x + 30, base.y + 4)])
                     if shape == "line" else shapely.box(base.x, base.y, base.x + 6, base.y + 25))
    types = {"ORDATE": pa.date32(), "CHDATE": pa.date32(), "SRCROW": pa.int64()}
    table = pa.table({name: pa.array([r[name] for r in rows], types.get(name, pa.string()))
                      for name in rows[0]})
    table = table.append_column("geometry", pa.array(shapely.to_wkb(shapes).tolist(),
                                                     pa.binary()))
    return ArrowLayer(table, str(grids.crs.to_string()), "Unknown")


def event_layer(grids, count: int = 120) -> ArrowLayer:
    events = national_catalog("event").minors()
    rows, shapes = [], []
    for k in range(count):
        grid = grids.iloc[(k * 11 + 3) % len(grids)]
        entry = events[k % len(events)]
        rows.append({
            "EVTID": f"{20240501000000 + k:014d}", "EVTCODE": entry.code,
            "EVTNAME": entry.name, "MAJOR": entry.major, "MINOR": entry.minor,
            "BGID": grid["BGID"], "STREET": grid["STREET"], "COMMUNITY": grid["COMMUNITY"],
            "TIME": dt.datetime(2024, 5, 1, 8, 30) + dt.timedelta(hours=7 * k),
            "SRCROW": k + 2,
        })
        shapes.append(grid.geometry.representative_point())
    types = {"TIME": pa.timestamp("ms"), "SRCROW": pa.int64()}
    table = pa.table({name: pa.array([r[name] for r in rows], types.get(name, pa.string()))
                      for name in rows[0]})
    table = table.append_column("geometry", pa.array(shapely.to_wkb(shapes).tolist(),
                                                     pa.binary()))
    return ArrowLayer(table, str(grids.crs.to_string()), "Point")


def source_rows(path: Path, layer: str) -> tuple[list[dict], np.ndarray, str | None]:
    """(rows, shapely geometries, CRS) of a layer of OUT.gpkg, as Arrow reads them."""
    meta, table = pyogrio.read_arrow(path, layer=layer)
    geometry = meta.get("geometry_name") or "wkb_geometry"
    shapes = None
    if meta.get("geometry_type") is not None and geometry in table.column_names:
        shapes = shapely.from_wkb(np.asarray(table.column(geometry).to_pylist(), dtype=object))
        table = table.drop_columns([geometry])
    return table.to_pylist(), shapes, meta.get("crs")


_ISO = re.compile(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)(\.0+)?(Z|[+-]\d\d:?\d\d)?$")


def canon(value, *, empty_is_null: bool = False):
    """A value in a comparable form: dates and date-times as ISO text, numbers as float,
    text as it is (codes keep their zeros), missing values as None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "isoformat") and hasattr(value, "hour"):
        if value != value:  # NaT
            return None
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        if value == "" and empty_is_null:
            return None
        match = _ISO.match(value)
        if match:
            return match.group(1).replace(" ", "T")
        if value[:1] in "{[":
            # GeoJSON embeds JSON text (PARAMETERS, RAW, ...) as a JSON value: same content,
            # other whitespace.
            try:
                return json.dumps(json.loads(value), sort_keys=True, ensure_ascii=False)
            except ValueError:
                return value
        return value
    return value


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    return a == b


def assert_rows_equal(expected: list[dict], actual: list[dict], fields: list[str],
                      *, empty_is_null: bool = False, where: str = "") -> None:
    assert len(expected) == len(actual), f"{where}: {len(actual)} rows, expected {len(expected)}"
    for number, (want, got) in enumerate(zip(expected, actual, strict=True)):
        for field in fields:
            a = canon(want.get(field), empty_is_null=empty_is_null)
            b = canon(got.get(field), empty_is_null=empty_is_null)
            assert same(a, b), f"{where} row {number} field {field}: {b!r} != {a!r}"


def edit_layer(path: Path, name: str, edit) -> None:
    """Rewrite one layer of ``path`` through ``edit(frame, shapes) -> (frame, shapes)``, the
    frame Arrow-backed so that every field keeps its type (as a gridkit command would)."""
    import pandas as pd

    from gridkit.export.source import _date_times

    # Times as stored (local, zone-less), as gridkit's own readers give them: read_arrow
    # alone would call them UTC and write them back with a zone.
    meta, table = pyogrio.read_arrow(path, layer=name, datetime_as_string=True)
    table = _date_times(table, meta)
    column = meta["geometry_name"] or "wkb_geometry"
    shapes = shapely.from_wkb(np.asarray(table.column(column).to_pylist(), dtype=object))
    frame = table.drop_columns([column]).to_pandas(types_mapper=pd.ArrowDtype)
    frame, shapes = edit(frame, list(shapes))
    out = pa.Table.from_pandas(frame, preserve_index=False)
    out = out.append_column("geometry", pa.array(shapely.to_wkb(shapes).tolist(), pa.binary()))
    write_geopackage(path, {name: ArrowLayer(out, meta["crs"], meta["geometry_type"])})
