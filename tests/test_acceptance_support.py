"""Shared material for the acceptance tests (no tests here): a partitioned, grouped district
with a synthetic component census, and helpers to fill verdict sheets."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from conftest import X0, Y0, four_communities, scratch_folder

from gridkit.io import run_record, write_geopackage
from gridkit.partition import partition
from gridkit.responsibility import group

# Classes of the national catalog used by the synthetic census: code -> name.
CLASSES = {"0102": "污水井盖", "0103": "雨水井盖", "0104": "雨水箅子", "0201": "停车场"}


def census_components(grids: gpd.GeoDataFrame, per_grid: int | np.ndarray,
                      seed: int = 0) -> gpd.GeoDataFrame:
    """``per_grid`` components in each unit grid at random points inside it, coded."""
    rng = np.random.default_rng(seed)
    counts = np.broadcast_to(np.asarray(per_grid), (len(grids),))
    codes = list(CLASSES)
    rows = {"OBJCODE": [], "OBJNAME": [], "MAJOR": [], "MINOR": [], "BGID": []}
    points = []
    serial = 0
    for geom, bgid, n in zip(grids.geometry, grids["BGID"], counts, strict=True):
        x0, y0, x1, y1 = geom.bounds
        placed = 0
        while placed < n:
            xs = rng.uniform(x0, x1, 4 * n + 4)
            ys = rng.uniform(y0, y1, 4 * n + 4)
            inside = shapely.contains_xy(geom, xs, ys)
            for x, y in zip(xs[inside], ys[inside], strict=True):
                if placed == n:
                    break
                code = codes[int(rng.integers(len(codes)))]
                serial += 1
                rows["OBJCODE"].append(f"310116{code}{serial:06d}")
                rows["OBJNAME"].append(CLASSES[code])
                rows["MAJOR"].append(code[:2])
                rows["MINOR"].append(code[2:])
                rows["BGID"].append(bgid)
                points.append(shapely.Point(x, y))
                placed += 1
    frame = gpd.GeoDataFrame(rows, geometry=points, crs=grids.crs)
    frame["OBJSTATE"] = "完好"
    frame["DEPTNAME1"] = "区绿化市容局"
    frame["SRCROW"] = np.arange(2, len(frame) + 2)
    return frame


@cache
def _template(per_grid: int) -> Path:
    folder = scratch_folder("gridkit-acceptance-tests-")
    path = folder / "district.gpkg"
    result = partition(four_communities())
    # The south-west community is a key area, so its grids are dense: four strata in all.
    key = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 600, Y0 + 600)], crs=4549)
    grids = group(result.unit_grids, key).unit_grids
    write_geopackage(path, {"community": result.communities, "unit_grid": grids,
                            "component": census_components(grids, per_grid)},
                     run_record("partition", {}, []))
    return path


def district(folder: Path, per_grid: int = 8, name: str = "out.gpkg") -> Path:
    """A fresh copy of the grouped district (152 grids in 2 streets, dense and sparse,
    EPSG:4549) with ``per_grid`` components in every grid."""
    target = folder / name
    shutil.copyfile(_template(per_grid), target)
    return target


def fill_verdicts(checklist: pd.DataFrame, wrong: dict[str, int] | None = None,
                  seed: int = 0) -> pd.DataFrame:
    """The checklist with every VERDICT filled: ``wrong`` {verdict: count} placed at random,
    the rest correct."""
    rng = np.random.default_rng(seed)
    filled = checklist.copy()
    filled["VERDICT"] = "correct"
    order = rng.permutation(len(filled))
    start = 0
    for verdict, count in (wrong or {}).items():
        filled.loc[filled.index[order[start:start + count]], "VERDICT"] = verdict
        start += count
    return filled


def box_district(folder: Path, grids: int = 100, per_grid: int = 40,
                 name: str = "boxes.gpkg") -> Path:
    """``grids`` 100 m squares in one street and one density class, ``per_grid`` components
    each: a one-stratum frame, so a sample is self-weighting and the arithmetic exact."""
    boxes = [shapely.box(X0 + 100 * (k % 10), Y0 + 100 * (k // 10), X0 + 100 * (k % 10) + 100,
                         Y0 + 100 * (k // 10) + 100) for k in range(grids)]
    frame = gpd.GeoDataFrame({
        "BGID": [f"310116001001{k + 1:03d}" for k in range(grids)],
        "COMMUNITY": "310116001001", "STREET": "310116001", "AREA": 10_000.0,
        "RGID": "3101160010001", "DENSITY": "sparse"}, geometry=boxes, crs=4549)
    path = folder / name
    write_geopackage(path, {"unit_grid": frame,
                            "component": census_components(frame, per_grid, seed=1)},
                     run_record("partition", {}, []))
    return path
