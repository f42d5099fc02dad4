"""Generate the sample district's component census and event records (deterministic).

    python data/samples/make_census.py

Writes, beside this file:
- ``census.csv``: about 55,000 components as a survey team's phone app exports them: GBK
  (Excel in China saves CSV that way), Chinese column names, positions in GCJ-02 (the shifted
  coordinates of Chinese web maps and phone apps), loosely written class names, and a few
  hundred broken rows of every kind `gridkit census import` must reject (see BROKEN), plus
  near-duplicates it must report;
- ``events.csv``: about 6,000 event records (UTF-8 with BOM), WGS-84 positions, a few broken.

Components sit where they stand in a city: manhole covers, gully grates, lamps and street trees
along road edges (offset from the centre line by the carriageway's half width), bins and
shelters along the bigger roads, others near buildings. Events cluster where people are:
around buildings and the CBD. Reads the sample's communities, roads, buildings and key areas.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from gridkit.components.coords import wgs84_to_gcj02

HERE = Path(__file__).resolve().parent
WORK_CRS = 4549
SEED = 20061218
COUNTY = "310116"

# (code, names used in the field for it, share of the census, where it stands)
CLASSES = [
    ("0101", ["上水井盖", "自来水井盖", "给水井盖"], 0.07, "kerb"),
    ("0102", ["污水井盖", "井盖(污水)", "污水检查井盖", "汚水井蓋", " 污水井盖 "], 0.09, "kerb"),
    ("0103", ["雨水井盖", "井盖（雨水）"], 0.08, "kerb"),
    ("0104", ["雨水箅子", "雨水篦子", "雨篦子"], 0.12, "kerb"),
    ("0105", ["电力井盖"], 0.04, "kerb"),
    ("0107", ["通讯井盖", "通信井盖"], 0.04, "kerb"),
    ("0111", ["燃气井盖"], 0.02, "kerb"),
    ("0113", ["消防设施", "消火栓"], 0.02, "kerb"),
    ("0117", ["立杆"], 0.03, "verge"),
    ("0118", ["路灯"], 0.13, "verge"),
    ("0136", ["监控电子眼"], 0.01, "verge"),
    ("0203", ["公交站亭"], 0.005, "major"),
    ("0209", ["交通标志牌"], 0.03, "verge"),
    ("0211", ["交通护栏"], 0.01, "major"),
    ("0213", ["路名牌"], 0.01, "verge"),
    ("0301", ["公共厕所"], 0.002, "building"),
    ("0305", ["垃圾箱", "果皮箱"], 0.05, "verge"),
    ("0307", ["广告牌匾"], 0.03, "building"),
    ("0402", ["行道树"], 0.18, "verge"),
    ("0403", ["护树设施"], 0.02, "verge"),
    ("0407", ["街头坐椅"], 0.01, "building"),
    ("0501", ["宣传栏"], 0.005, "building"),
    ("0604", ["水域护栏"], 0.008, "building"),
]
OFFSET = {"trunk": 15, "primary": 12, "secondary": 9, "tertiary": 6, "residential": 4,
          "service": 3, "track": 2.5}
DEPARTMENTS = [("310116-001", "区城市管理局"), ("310116-002", "区水务局"),
               ("310116-003", "区绿化和市容管理局"), ("310116-004", "区建设和管理委员会"),
               ("310116-005", "区公安分局"), ("310116-006", "供电公司金山分公司")]
EVENTS = [("0102", ["暴露垃圾"], 0.16), ("0104", ["道路不洁"], 0.06),
          ("0201", ["非法小广告", "小广告"], 0.14), ("0501", ["无照经营游商", "流动摊贩"], 0.10),
          ("0504", ["店外经营", "出店经营"], 0.12), ("0505", ["机动车乱停放", "乱停车"], 0.16),
          ("0506", ["非机动车乱停放"], 0.08), ("0507", ["乱堆物堆料"], 0.06),
          ("0302", ["工地扬尘"], 0.03), ("0404", ["下水道堵塞或破损"], 0.03),
          ("0110", ["道路破损"], 0.03), ("0511", ["沿街晾挂"], 0.03)]
TOTAL_COMPONENTS = 55_000
TOTAL_EVENTS = 6_000
# Broken rows of each kind (a census import must reject every one, and nothing else).
BROKEN = {"no coordinates": 60, "unparseable coordinates": 40, "outside the district": 50,
          "unknown class": 60, "invalid state": 40, "invalid date": 40,
          "code from another county": 25, "code of another class": 25}
NEAR_DUPLICATES = 120  # the same class surveyed twice, 0.1-0.4 m apart: reported, kept


def read(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(HERE / f"{name}.gpkg").to_crs(WORK_CRS)


def along_roads(roads: gpd.GeoDataFrame, n: int, rng, classes: set[str] | None,
                side_offset: float) -> np.ndarray:
    """``n`` points at random stations along road edges, offset to either side."""
    if classes:
        roads = roads[roads["CLASS"].isin(classes)]
    lines = roads.geometry.to_numpy()
    lengths = shapely.length(lines)
    which = rng.choice(len(lines), size=n, p=lengths / lengths.sum())
    at = rng.uniform(0.02, 0.98, n)
    here = shapely.line_interpolate_point(lines[which], at, normalized=True)
    ahead = shapely.line_interpolate_point(lines[which], np.minimum(at + 0.005, 1),
                                           normalized=True)
    xy, xy2 = shapely.get_coordinates(here), shapely.get_coordinates(ahead)
    direction = xy2 - xy
    norm = np.hypot(*direction.T)
    norm[norm == 0] = 1
    normal = np.column_stack([-direction[:, 1], direction[:, 0]]) / norm[:, None]
    offset = np.array([OFFSET.get(c, 4) for c in roads["CLASS"].to_numpy()[which]])
    side = rng.choice([-1.0, 1.0], n)
    return xy + normal * (side * (offset + side_offset + rng.uniform(0, 1.5, n)))[:, None]


def near_buildings(buildings: gpd.GeoDataFrame, n: int, rng) -> np.ndarray:
    geoms = buildings.geometry.to_numpy()
    which = rng.choice(len(geoms), size=n)
    centre = shapely.get_coordinates(shapely.centroid(geoms[which]))
    bounds = shapely.bounds(geoms[which])
    reach = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) / 2 + 4
    angle = rng.uniform(0, 2 * np.pi, n)
    return centre + np.column_stack([np.cos(angle), np.sin(angle)]) * reach[:, None]


def inside(points: np.ndarray, district) -> np.ndarray:
    return shapely.contains_xy(district, points[:, 0], points[:, 1])


def to_gcj02(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lonlat = gpd.GeoSeries(shapely.points(points), crs=WORK_CRS).to_crs(4326)
    return wgs84_to_gcj02(lonlat.x.to_numpy(), lonlat.y.to_numpy())


def components(rng) -> list[dict]:
    roads, buildings = read("roads"), read("buildings")
    district = shapely.union_all(read("communities").geometry.to_numpy())
    shapely.prepare(district)
    rows = []
    for code, names, share, where in CLASSES:
        n = int(round(share * TOTAL_COMPONENTS))
        if where == "kerb":
            points = along_roads(roads, n, rng, None, -2.0)
        elif where == "verge":
            points = along_roads(roads, n, rng, None, 1.0)
        elif where == "major":
            points = along_roads(roads, n, rng, {"trunk", "primary", "secondary"}, 1.5)
        else:
            points = near_buildings(buildings, n, rng)
        points = points[inside(points, district)]
        for x, y in points:
            rows.append({"code": code, "name": str(rng.choice(names)), "x": x, "y": y})
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def census_rows(rng) -> list[dict]:
    found = components(rng)
    lon, lat = to_gcj02(np.array([[r["x"], r["y"]] for r in found]))
    serial: dict[str, int] = {}
    out = []
    for i, (row, x, y) in enumerate(zip(found, lon, lat, strict=True)):
        dept = DEPARTMENTS[int(rng.integers(len(DEPARTMENTS)))]
        owner = DEPARTMENTS[int(rng.integers(len(DEPARTMENTS)))]
        # A third of the records were coded in an earlier survey and keep their codes.
        objcode = ""
        if rng.random() < 0.33:
            serial[row["code"]] = serial.get(row["code"], 0) + 1
            objcode = f"{COUNTY}{row['code']}{serial[row['code']]:06d}"
        month, day = int(rng.integers(3, 10)), int(rng.integers(1, 29))
        out.append({
            "标识码": objcode, "部件名称": row["name"], "经度": f"{x:.7f}", "纬度": f"{y:.7f}",
            "主管部门": dept[1], "权属单位": owner[1], "养护单位": dept[1],
            "状态": rng.choice(["完好", "完好", "完好", "完好", "破损", "占用", "丢失"],
                             p=[0.3, 0.3, 0.2, 0.12, 0.05, 0.02, 0.01]),
            "初始时间": f"2025-{month:02d}-{day:02d}", "数据来源": "实测",
            "备注": "", "照片": f"IMG_{20250000 + i:08d}.jpg", "采集人": f"普查{i % 17 + 1}组",
        })
    return out


def break_rows(rows: list[dict], rng) -> None:
    """Spoil rows in place, one kind each, leaving a note in 备注 of what was done."""
    victims = iter(rng.permutation(len(rows)))
    for kind, count in BROKEN.items():
        for _ in range(count):
            row = rows[int(next(victims))]
            row["备注"] = f"样例错误：{kind}"
            if kind == "no coordinates":
                row["经度"] = row["纬度"] = ""
            elif kind == "unparseable coordinates":
                row["经度"] = row["经度"][:6] + "度"
            elif kind == "outside the district":
                row["经度"] = f"{float(row['经度']) + 0.2:.7f}"
            elif kind == "unknown class":
                row["部件名称"] = rng.choice(["井盖盖子", "灯", "大石头", "不明设施"])
            elif kind == "invalid state":
                row["状态"] = rng.choice(["坏了", "一般", "待定"])
            elif kind == "invalid date":
                row["初始时间"] = rng.choice(["2025-13-45", "去年", "2025/02/30"])
            elif kind == "code from another county":
                row["标识码"] = f"320582{_class_code(row)}{int(rng.integers(1, 999999)):06d}"
            elif kind == "code of another class":
                other = "0118" if _class_code(row) != "0118" else "0402"
                row["标识码"] = f"{COUNTY}{other}{int(rng.integers(900000, 999999)):06d}"


def _class_code(row: dict) -> str:
    name = row["部件名称"].strip()
    for code, names, _, _ in CLASSES:
        if name in (n.strip() for n in names):
            return code
    return "0118"


def add_near_duplicates(rows: list[dict], rng) -> None:
    clean = [r for r in rows if not r["备注"]]
    for k in rng.choice(len(clean), size=NEAR_DUPLICATES, replace=False):
        twin = dict(clean[int(k)])
        shift = rng.uniform(1e-6, 4e-6)  # about 0.1-0.4 m
        twin["经度"] = f"{float(twin['经度']) + shift:.7f}"
        twin["标识码"] = ""
        twin["备注"] = "样例：重复采集"
        rows.append(twin)


def event_rows(rng) -> list[dict]:
    buildings = read("buildings")
    district = shapely.union_all(read("communities").geometry.to_numpy())
    keys = read("key_areas")
    # Busier where people are: near buildings, and twice as often in the CBD.
    points = near_buildings(buildings, int(TOTAL_EVENTS * 1.3), rng)
    in_cbd = shapely.contains_xy(shapely.union_all(keys.geometry.to_numpy()), points[:, 0],
                                 points[:, 1])
    keep = inside(points, district) & (in_cbd | (rng.random(len(points)) < 0.7))
    points = points[keep][:TOTAL_EVENTS]
    lonlat = gpd.GeoSeries(shapely.points(points), crs=WORK_CRS).to_crs(4326)
    codes = [c for c, _, _ in EVENTS]
    shares = np.array([s for _, _, s in EVENTS])
    picks = rng.choice(len(EVENTS), size=len(points), p=shares / shares.sum())
    out = []
    for i, (pick, lon, lat) in enumerate(zip(picks, lonlat.x, lonlat.y, strict=True)):
        day = int(rng.integers(0, 365))
        hour, minute = int(rng.integers(7, 21)), int(rng.integers(0, 60))
        month, mday = 1 + day // 31 % 12, 1 + day % 28
        out.append({"案件编号": f"2025{i + 1:06d}", "事件类型": rng.choice(EVENTS[pick][1]),
                    "小类代码": codes[pick],
                    "上报时间": f"2025-{month:02d}-{mday:02d} {hour:02d}:{minute:02d}",
                    "经度": f"{lon:.7f}", "纬度": f"{lat:.7f}", "问题描述": "",
                    "来源": rng.choice(["监督员上报", "市民热线", "视频巡查"])})
    for k in rng.choice(len(out), size=30, replace=False):
        kind = ["no coordinates", "unknown type", "invalid time"][int(k) % 3]
        out[int(k)]["问题描述"] = f"样例错误：{kind}"
        if kind == "no coordinates":
            out[int(k)]["经度"] = out[int(k)]["纬度"] = ""
        elif kind == "unknown type":
            out[int(k)]["事件类型"], out[int(k)]["小类代码"] = "其他情况啊", ""
        else:
            out[int(k)]["上报时间"] = "昨天下午"
    return out


def write_csv(path: Path, rows: list[dict], encoding: str) -> None:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows = census_rows(rng)
    break_rows(rows, rng)
    add_near_duplicates(rows, rng)
    write_csv(HERE / "census.csv", rows, "gbk")
    events = event_rows(rng)
    write_csv(HERE / "events.csv", events, "utf-8-sig")
    print(f"census.csv: {len(rows):,} rows ({sum(BROKEN.values())} broken, "
          f"{NEAR_DUPLICATES} near-duplicates); events.csv: {len(events):,} rows (30 broken)")


if __name__ == "__main__":
    main()
