"""Synthetic provinces for the county benchmarks and tests: counties side by side.

Each county is a rectangle of square communities (two streets), a main road crossing it and
running 30 m into its eastern neighbour, and a census CSV of positions uniform in the county
(WGS-84, the sample's columns). Neighbouring counties draw their shared border with different
vertices (each county densifies its rings at its own spacing), as two counties' own data do,
so that the grids of a county run alone would not match its neighbour's vertex for vertex.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyproj
import shapely

# Shanghai's districts (GB/T 2260), in the order counties are laid out west to east.
SHANGHAI = [("310101", "黄浦区"), ("310104", "徐汇区"), ("310105", "长宁区"),
            ("310106", "静安区"), ("310107", "普陀区"), ("310109", "虹口区"),
            ("310110", "杨浦区"), ("310112", "闵行区"), ("310113", "宝山区"),
            ("310114", "嘉定区"), ("310115", "浦东新区"), ("310116", "金山区"),
            ("310117", "松江区"), ("310118", "青浦区"), ("310120", "奉贤区"),
            ("310151", "崇明区")]
ORIGIN = (624_000.0, 3_398_000.0)  # EPSG:4549 metres, near 121.3°E 30.7°N
CLASSES = ["路灯", "污水井盖", "雨水箅子", "垃圾箱", "行道树", "雨水井盖", "电力井盖"]
HEADER = ["标识码", "部件名称", "经度", "纬度", "主管部门", "权属单位", "养护单位", "状态",
          "初始时间", "数据来源", "照片"]


SHEAR = 0.27  # county borders run oblique, not along the grid's axes


def sheared(geoms):
    """``geoms`` leaning east by ``SHEAR`` metres a metre north."""
    return shapely.transform(geoms, lambda xy: xy + np.c_[SHEAR * (xy[:, 1] - ORIGIN[1]),
                                                          np.zeros(len(xy))])


def county_communities(k: int, code: str, side: float, per_row: int) -> gpd.GeoDataFrame:
    """``per_row`` × ``per_row // 2`` square communities filling county ``k``, in two
    streets, their rings densified at a spacing of this county's own."""
    x0, y0 = ORIGIN
    cell = side / per_row
    shapes, codes = [], []
    for j in range(per_row // 2 or 1):
        for i in range(per_row):
            box = shapely.box(x0 + k * side + i * cell, y0 + j * cell,
                              x0 + k * side + (i + 1) * cell, y0 + (j + 1) * cell)
            shapes.append(sheared(shapely.segmentize(box, 23.0 + 7.0 * (k % 3))))
            street = 1 + (i >= per_row // 2)
            codes.append(f"{code}{street:03d}{len(codes) + 1:03d}")
    return gpd.GeoDataFrame({"CODE": codes, "NAME": [f"社区{c[-3:]}" for c in codes]},
                            geometry=shapes, crs=4549)


def county_roads(k: int, side: float, height: float) -> gpd.GeoDataFrame:
    """A main road across the county at a height of its own, 30 m into the next county."""
    x0, y0 = ORIGIN
    y = y0 + height * (0.31 + 0.07 * (k % 4))
    line = shapely.LineString([(x0 + k * side, y), (x0 + (k + 1) * side + 30, y + 9)])
    return gpd.GeoDataFrame({"CLASS": ["primary"]}, geometry=[sheared(line)], crs=4549)


def census_csv(path: Path, box: tuple[float, float, float, float], rows: int,
               seed: int) -> None:
    """``rows`` census rows at positions uniform in the (sheared) ``box`` (WGS-84,
    7 decimals)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = box
    # 1 m inside the county: a position on the border itself belongs to either side.
    x = rng.uniform(minx + 1, maxx - 1, rows)
    y = rng.uniform(miny + 1, maxy - 1, rows)
    x = x + SHEAR * (y - ORIGIN[1])
    lon, lat = pyproj.Transformer.from_crs(4549, 4326, always_xy=True).transform(x, y)
    n = np.arange(rows)
    columns = {
        "标识码": pa.nulls(rows, pa.string()),
        "部件名称": pa.array(np.array(CLASSES)[rng.integers(0, len(CLASSES), rows)]),
        "经度": pa.array(np.char.mod("%.7f", lon)),
        "纬度": pa.array(np.char.mod("%.7f", lat)),
        "主管部门": pa.array(np.full(rows, "区绿化和市容管理局")),
        "权属单位": pa.array(np.full(rows, "区路政所")),
        "养护单位": pa.array(np.full(rows, "市政养护公司")),
        "状态": pa.array(np.full(rows, "完好")),
        "初始时间": pa.array(np.full(rows, "2025-05-09")),
        "数据来源": pa.array(np.full(rows, "实测")),
        "照片": pa.array(np.char.add(f"IMG_{seed}_", n.astype(str))),
    }
    pacsv.write_csv(pa.table(columns), path)


def make_province(folder: Path, counties: int, *, side: float = 1200.0, per_row: int = 2,
                  rows: int = 300, report: bool = False) -> Path:
    """A project folder of ``counties`` Shanghai districts side by side, each a sub-folder
    ``<code>_<name>/`` with communities, roads, a census CSV and a ``gridkit.toml``.

    Parameters
    ----------
    folder : Path
        Created if missing; the project folder.
    counties : int
        1 to 16.
    side : float
        Metres: a county's width (its height is half of it per two rows of communities).
    per_row : int
        Communities along a county's width (and half as many rows).
    rows : int
        Census rows per county.
    report : bool
        Add the [group] and [report] sections.

    Returns
    -------
    Path
        ``folder``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    height = side * max(per_row // 2, 1) / per_row
    for k, (code, name) in enumerate(SHANGHAI[:counties]):
        county = folder / f"{code}_{name}"
        county.mkdir(exist_ok=True)
        communities = county_communities(k, code, side, per_row)
        communities.to_file(county / "communities.gpkg", layer="communities")
        county_roads(k, side, height).to_file(county / "roads.gpkg", layer="roads")
        x0, y0 = ORIGIN
        census_csv(county / "census.csv", (x0 + k * side, y0, x0 + (k + 1) * side, y0 + height),
                   rows, seed=k)
        extra = "[group]\n\n[report]\nlang = \"zh\"\n" if report else ""
        (county / "gridkit.toml").write_text(
            "[partition]\ncommunities = \"communities.gpkg\"\nroads = \"roads.gpkg\"\n"
            "target_area = 10000\n\n[census]\nfiles = [\"census.csv\"]\ncrs = \"wgs84\"\n\n"
            + extra, encoding="utf-8")
    return folder
