"""Shared material for the census tests (no tests here): a small partitioned district and
census rows placed in its unit grids."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pyogrio
import pyproj
from conftest import four_communities, invoke, scratch_folder

from gridkit.io import run_record, write_geopackage
from gridkit.partition import partition

HEADER = ["标识码", "部件名称", "经度", "纬度", "主管部门", "权属单位", "养护单位", "状态",
          "初始时间", "变更时间", "数据来源", "备注", "照片", "调查员"]
CLASSES = ["路灯", "污水井盖", "雨水箅子", "垃圾箱", "行道树"]


@cache
def _template() -> Path:
    folder = scratch_folder("gridkit-census-tests-")
    path = folder / "district.gpkg"
    result = partition(four_communities())
    write_geopackage(path, {"community": result.communities, "unit_grid": result.unit_grids},
                     run_record("partition", {}, []))
    return path


def district(folder: Path, name: str = "out.gpkg") -> Path:
    """A fresh copy of the partitioned sample district (EPSG:4549) in ``folder``."""
    target = folder / name
    shutil.copyfile(_template(), target)
    return target


@cache
def grid_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lon, lat, BGID) of one point inside each unit grid, in WGS-84."""
    grids = pyogrio.read_dataframe(_template(), layer="unit_grid").sort_values("BGID")
    inner = grids.geometry.representative_point()
    lon, lat = pyproj.Transformer.from_crs(4549, 4326, always_xy=True).transform(
        inner.x.to_numpy(), inner.y.to_numpy())
    return np.asarray(lon), np.asarray(lat), grids["BGID"].to_numpy()


def good_rows(n: int, *, offset: int = 0) -> list[list[str]]:
    """``n`` valid census rows (WGS-84), each in a different unit grid."""
    lon, lat, _ = grid_points()
    rows = []
    for k in range(offset, offset + n):
        g = k % len(lon)
        rows.append(["", CLASSES[k % len(CLASSES)], f"{lon[g]:.8f}", f"{lat[g]:.8f}",
                     "区绿化市容局", "区路政所", "市政养护公司", "完好", "2012-03-05", "",
                     "实测", "", f"IMG_{k}.jpg", "张三"])
    return rows


def gridkit(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return invoke(args, cwd=cwd)
