"""Shared material for the report tests (no tests here): the bundled sample district as
``gridkit run`` writes it, and a copy with synthetic components, events, spot-check and
reject layers whose names carry markup, quotes and ampersands."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from conftest import copy_of, invoke, sample_grouped, scratch_folder

from gridkit.codes import national_catalog
from gridkit.io import write_geopackage

# User data that must come out as text: markup, both quotes, an ampersand, an event handler.
EVIL = '<script>alert("x")</script><img src=x onerror="window.__xss=1"> & \'q\''
COMPONENTS = 25_000  # above the map's 20,000 detail limit: the whole view groups them
EVENTS = 600


def report(*args) -> subprocess.CompletedProcess:
    """``gridkit report ARGS`` as a user runs it, in this process (tests/test_cli_process.py
    runs ``python -m gridkit.report`` itself)."""
    return invoke(["report", *args])


@cache
def _sample() -> Path:
    folder = scratch_folder("gridkit-report-tests-")
    # `gridkit run` of the sample's partition and grouping, made once per test run
    return copy_of(sample_grouped(), folder, "sample.gpkg")


def sample_gpkg(folder: Path) -> Path:
    """A fresh copy of the sample district: community, unit_grid, responsibility_grid,
    qa_issue, gridkit_run."""
    target = folder / "sample.gpkg"
    shutil.copyfile(_sample(), target)
    return target


def points_in(grids: gpd.GeoDataFrame, count: int, rng) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """(grid index, x, y) of ``count`` random points, each inside its unit grid."""
    geoms = grids.geometry.to_numpy()
    grid = rng.integers(0, len(geoms), count)
    bounds = shapely.bounds(geoms)
    x, y = np.empty(count), np.empty(count)
    todo = np.arange(count)
    while len(todo):
        g = grid[todo]
        cx = rng.uniform(bounds[g, 0], bounds[g, 2])
        cy = rng.uniform(bounds[g, 1], bounds[g, 3])
        inside = shapely.contains_xy(geoms[g], cx, cy)
        x[todo[inside]], y[todo[inside]] = cx[inside], cy[inside]
        todo = todo[~inside]
    return grid, x, y


@cache
def _full() -> Path:
    path = _sample().parent / "full.gpkg"
    shutil.copyfile(_sample(), path)
    rng = np.random.default_rng(7)
    grids = pyogrio.read_dataframe(path, layer="unit_grid")
    community = pyogrio.read_dataframe(path, layer="community")
    community.loc[0, "NAME"] = EVIL
    minors = national_catalog("component").minors()
    grid, x, y = points_in(grids, COMPONENTS, rng)
    klass = rng.integers(0, len(minors), COMPONENTS)
    components = gpd.GeoDataFrame({
        "OBJCODE": [f"310116{minors[k].code}{s:06d}" for s, k in enumerate(klass, 1)],
        "OBJNAME": [minors[k].name for k in klass],
        "MAJOR": [minors[k].major for k in klass],
        "MINOR": [minors[k].minor for k in klass],
        "DEPTNAME1": rng.choice(["区建设管理委员会", "区绿化和市容管理局"], COMPONENTS),
        "BGID": grids["BGID"].to_numpy()[grid],
        "OBJSTATE": rng.choice(["完好", "破损", "丢失"], COMPONENTS, p=[0.9, 0.07, 0.03]),
        "ORDATE": pd.Timestamp("2026-03-01").date(),
        "SRCROW": np.arange(2, COMPONENTS + 2),
    }, geometry=shapely.points(x, y), crs=grids.crs)
    components.loc[0, "OBJNAME"] = EVIL
    events_catalog = national_catalog("event").minors()
    grid, x, y = points_in(grids, EVENTS, rng)
    klass = rng.integers(0, len(events_catalog), EVENTS)
    days = rng.integers(0, 150, EVENTS)
    events = gpd.GeoDataFrame({
        "EVTID": [f"E2026{k:06d}" for k in range(1, EVENTS + 1)],
        "EVTCODE": [events_catalog[k].code for k in klass],
        "EVTNAME": [events_catalog[k].name for k in klass],
        "MAJOR": [events_catalog[k].major for k in klass],
        "MINOR": [events_catalog[k].minor for k in klass],
        "BGID": grids["BGID"].to_numpy()[grid],
        "STREET": grids["STREET"].to_numpy()[grid],
        "COMMUNITY": grids["COMMUNITY"].to_numpy()[grid],
        "TIME": [f"{pd.Timestamp('2026-01-01') + pd.Timedelta(days=int(d)):%Y-%m-%d} 09:30:00"
                 for d in days],
    }, geometry=shapely.points(x, y), crs=grids.crs)
    sampled = rng.choice(len(grids), 10, replace=False)
    checked = rng.integers(20, 60, 10)
    correct = checked - rng.integers(0, 4, 10)
    accuracy = correct / checked
    spot = gpd.GeoDataFrame({
        "BGID": grids["BGID"].to_numpy()[sampled], "CHECKED": checked, "CORRECT": correct,
        "ACCURACY": accuracy, "ACC_LOW": np.maximum(accuracy - 0.08, 0),
        "ACC_HIGH": np.minimum(accuracy + 0.03, 1),
        "VERDICT": np.where(accuracy >= 0.96, "pass", "fail"), "NOTE": EVIL,
    }, geometry=grids.geometry.to_numpy()[sampled], crs=grids.crs)
    summary = pd.DataFrame({
        "LEVEL": ["overall", "street", "street"], "KEY": ["", "310116001", "310116101"],
        "NAME": ["", "", EVIL], "ACCURACY": [0.971, 0.955, 0.98],
        "ACC_LOW": [0.962, 0.93, 0.965], "ACC_HIGH": [0.978, 0.972, 0.99],
        "VERDICT": ["pass", "fail", "pass"]})
    rejects = pd.DataFrame({"SRCFILE": "census.csv", "SRCROW": np.arange(8),
                            "RULE": ["bad-coordinates"] * 5 + ["class-unknown"] * 3,
                            "REASON": ["x out of range"] * 5 + [EVIL] * 3, "RAW": "{}"})
    # QA issues may have no geometry, or a point one.
    qa = pyogrio.read_dataframe(path, layer="qa_issue")
    extra = gpd.GeoDataFrame({
        "LAYER": ["component", "component"], "KEY": ["3101160101000001", "row 9"],
        "RULE": ["objcode-class", "bad-coordinates"], "SEVERITY": ["error", "error"],
        "MESSAGE": [EVIL, "no position"], "COMMAND": ["census check", "census import"],
    }, geometry=[shapely.Point(x[0], y[0]), None], crs=qa.crs)
    qa = gpd.GeoDataFrame(pd.concat([qa, extra], ignore_index=True), crs=qa.crs)
    write_geopackage(path, {"community": community, "component": components, "qa_issue": qa,
                            "event": events, "spotcheck_result": spot,
                            "spotcheck_summary": summary, "component_reject": rejects})
    return path


def full_gpkg(folder: Path) -> Path:
    """The sample with components, events, spot-check results and rejects added."""
    target = folder / "full.gpkg"
    shutil.copyfile(_full(), target)
    return target


def minimal_gpkg(folder: Path) -> Path:
    """Only what a partition alone writes: community and unit_grid."""
    source = _sample()
    target = folder / "minimal.gpkg"
    write_geopackage(target, {name: pyogrio.read_dataframe(source, layer=name)
                              for name in ("community", "unit_grid")})
    return target
