"""The census components of the sampled grids, as the accuracy figures need them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
import shapely

from gridkit.acceptance.frame import read_components, require_layers
from gridkit.acceptance.plan import Plan


@dataclass
class Census:
    objcode: np.ndarray  # text
    objname: np.ndarray
    klass: np.ndarray  # 4-digit class code (MAJOR + MINOR), "" when unknown
    grid: np.ndarray  # index into plan.grids
    x: np.ndarray  # a point on the component, in the GeoPackage CRS
    y: np.ndarray
    crs: pyproj.CRS
    source: Path

    def __len__(self) -> int:
        return len(self.objcode)


def read_census(output: Path, plan: Plan) -> Census:
    """The components of OUT.gpkg lying in the plan's grids (by their BGID)."""
    require_layers(output, command="accuracy")
    frame = read_components(output, plan.bgids, ["OBJCODE", "OBJNAME", "MAJOR", "MINOR",
                                                 "BGID"])
    position = {b: i for i, b in enumerate(plan.bgids)}
    objcode = frame["OBJCODE"].fillna("").astype(str).to_numpy(dtype=object)
    major = frame["MAJOR"].fillna("").astype(str).str.zfill(2)
    minor = frame["MINOR"].fillna("").astype(str).str.zfill(2)
    klass = (major + minor).where(major.str.fullmatch(r"\d{2}") & minor.str.fullmatch(r"\d{2}"),
                                  "")
    # A code carries its class too (digits 7-10), for censuses without MAJOR/MINOR.
    from_code = frame["OBJCODE"].fillna("").astype(str).str.slice(6, 10)
    klass = klass.where(klass != "", from_code.where(from_code.str.fullmatch(r"\d{4}"), ""))
    geoms = np.asarray(frame.geometry.array, dtype=object)
    points = shapely.point_on_surface(geoms) if len(geoms) else geoms
    return Census(
        objcode=objcode,
        objname=frame["OBJNAME"].fillna("").astype(str).to_numpy(dtype=object),
        klass=klass.to_numpy(dtype=object),
        grid=frame["BGID"].astype(str).map(position).to_numpy(np.int64),
        x=shapely.get_x(points) if len(geoms) else np.empty(0),
        y=shapely.get_y(points) if len(geoms) else np.empty(0),
        crs=frame.crs or plan.grids.crs,
        source=output,
    )
