"""Check the generated sample: ``python data/samples/check_sample.py [--rerun]``.

Reads the GeoPackages back, works in EPSG:4549 metres and prints the figures the sample
promises (see README.md). Exits non-zero when a promise is broken. With --rerun it also
regenerates the sample into a temporary copy and compares the features.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from shapely import STRtree

HERE = Path(__file__).resolve().parent
FILES = {
    "communities.gpkg": "community",
    "roads.gpkg": "road",
    "water.gpkg": "water",
    "buildings.gpkg": "building",
    "key_areas.gpkg": "key_area",
}
METRIC = "EPSG:4549"
failures: list[str] = []


def expect(ok: bool, message: str) -> None:
    print(("  ok   " if ok else "  FAIL ") + message)
    if not ok:
        failures.append(message)


def read(folder: Path, file: str) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(folder / file, layer=FILES[file])
    return frame


def check_communities(com: gpd.GeoDataFrame) -> None:
    print("communities")
    codes = com["CODE"]
    expect(25 <= len(com) <= 40, f"{len(com)} communities")
    expect(codes.str.fullmatch(r"310116\d{6}").all() and codes.is_unique, "codes valid, unique")
    expect(bool(com.geometry.is_valid.all()), "all polygons valid")
    expect(set(com.geom_type) == {"Polygon"}, "all single Polygons")
    ha = com.area / 1e4
    village = codes.str[9] == "2"
    urban_ha, village_ha = ha[~village], ha[village]
    for street, group in com.groupby(codes.str[6:9]):
        kinds = group["CODE"].str[9].eq("2")
        print(
            f"    street/town {street} {group['STREET_NAME'].iloc[0]}: "
            f"{(~kinds).sum()} committees, {kinds.sum()} villages"
        )
    expect(
        urban_ha.between(5, 40).all(),
        f"committees {urban_ha.min():.1f}-{urban_ha.max():.1f} ha (5-40)",
    )
    expect(
        village_ha.between(50, 500).all(),
        f"villages {village_ha.min():.1f}-{village_ha.max():.1f} ha (50-500)",
    )
    union = shapely.union_all(com.geometry.values)
    holes = [h for p in shapely.get_parts(union) for h in p.interiors]
    hole_areas = [shapely.Polygon(h).area for h in holes]
    expect(
        union.geom_type == "Polygon" and len(holes) == 1,
        f"union: {union.geom_type}, {len(holes)} interior gap(s), areas "
        f"{[round(a) for a in hole_areas]} m2",
    )
    tree = STRtree(com.geometry.values)
    left, right = tree.query(com.geometry.values, predicate="intersects")
    overlaps = []
    for a, b in zip(left, right, strict=True):
        if a < b:
            area = com.geometry.iloc[a].intersection(com.geometry.iloc[b]).area
            if area > 0:
                overlaps.append((codes.iloc[a], codes.iloc[b], round(area)))
    expect(len(overlaps) == 1, f"overlapping pairs: {overlaps}")
    gap_ok = len(hole_areas) == 1 and 200 <= hole_areas[0] <= 1500
    expect(gap_ok, "gap area a few hundred to 1,500 m2")
    expect(len(overlaps) == 1 and 500 <= overlaps[0][2] <= 2000, "overlap area 500-2,000 m2")


def check_buildings(bld, roads, water, com) -> None:
    print("buildings")
    shapes = bld.geometry.values
    print(f"    {len(bld)} buildings; USE {bld['USE'].value_counts().to_dict()}")
    expect(8000 <= len(bld) <= 25000, "8,000-25,000 buildings")
    expect(bool(bld.geometry.is_valid.all()), "all valid")
    river = water[water["KIND"] == "river"].geometry.values
    canals = water[water["KIND"] == "canal"].geometry.values
    borders = com.geometry.boundary.values
    for label, others in (
        ("road centre lines", roads.geometry.values),
        ("river polygon", river),
        ("canal lines", canals),
        ("community borders", borders),
    ):
        hits, _ = STRtree(others).query(shapes, predicate="intersects")
        expect(len(hits) == 0, f"{len(np.unique(hits))} buildings touch {label}")
    left, right = STRtree(shapes).query(shapes, predicate="intersects")
    pairs = int((left != right).sum()) // 2
    expect(pairs == 0, f"{pairs} building pairs touch")
    near = []
    for cls, setback in (
        ("trunk", 15),
        ("primary", 15),
        ("secondary", 10),
        ("tertiary", 7),
        ("residential", 5),
        ("service", 5),
        ("track", 5),
    ):
        lines = roads[roads["CLASS"] == cls].geometry.values
        hits, _ = STRtree(lines).query(shapes, predicate="dwithin", distance=setback - 0.01)
        near.append(f"{cls} {len(np.unique(hits))}")
    expect(all(n.endswith(" 0") for n in near), "setbacks kept: " + ", ".join(near))


def check_roads(roads, water, com) -> None:
    print("roads")
    km = roads.assign(km=roads.length / 1000).groupby("CLASS")["km"].agg(["count", "sum"])
    print(
        "    " + ", ".join(f"{c} {int(r['count'])} / {r['sum']:.1f} km" for c, r in km.iterrows())
    )
    lines = list(roads.geometry.values)
    lines += [g.exterior if g.geom_type == "Polygon" else g for g in water.geometry.values]
    lines += list(com.geometry.boundary.values)
    noded = shapely.union_all(lines)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    urban = shapely.union_all(com[com["CODE"].str[6] == "0"].geometry.values)
    points = shapely.point_on_surface(faces)
    inside = faces[shapely.contains(urban, points)]
    ha = shapely.area(inside) / 1e4
    bins = [0, 0.01, 0.5, 1, 2, 3, 5, 100]
    counts, _ = np.histogram(ha, bins)
    share = ((ha >= 0.5) & (ha <= 3)).mean()
    print(
        f"    urban blocks: {len(ha)}, median {np.median(ha):.2f} ha; "
        + ", ".join(f"{a}-{b} ha: {n}" for a, b, n in zip(bins[:-1], bins[1:], counts, strict=True))
    )
    expect(share >= 0.6, f"{share:.0%} of urban blocks are 0.5-3 ha")
    tiny = int((shapely.area(faces) < 1.0).sum())
    expect(tiny == 0, f"{tiny} faces under 1 m2 in the whole network (noding slivers)")
    ends = shapely.points(
        np.concatenate(
            [shapely.get_coordinates(shapely.boundary(g)) for g in roads.geometry.values]
        )
    )
    tree = STRtree(lines)
    near, _ = tree.query(ends, predicate="dwithin", distance=0.01)
    on, _ = tree.query(ends, predicate="intersects")
    unsnapped = len(set(near.tolist()) - set(on.tolist()))
    expect(unsnapped == 0, f"{unsnapped} road ends within 1 cm of a line but not on it")
    network = list(roads.geometry.values) + list(water.geometry.values)
    network = [g.exterior if g.geom_type == "Polygon" else g for g in network]
    left, right = STRtree(network).query(network, predicate="intersects")
    loose = 0
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a < b:
            shared = {tuple(c) for c in shapely.get_coordinates(network[a])}
            shared &= {tuple(c) for c in shapely.get_coordinates(network[b])}
            points = shapely.get_coordinates(network[a].intersection(network[b]))
            loose += sum(tuple(p) not in shared for p in points)
    expect(loose == 0, f"{loose} road/water crossings that are not a shared vertex")


def check_key_areas(keys) -> None:
    print("key areas")
    for _, row in keys.iterrows():
        print(f"    {row['KIND']} {row['NAME']}: {row.geometry.area / 1e4:.1f} ha")
    cbd = keys[keys["KIND"] == "cbd"].area.iloc[0] / 1e4
    expect(50 <= cbd <= 150, "CBD 50-150 ha")


def compare(a: Path, b: Path) -> None:
    print("determinism")
    for file, layer in FILES.items():
        fa = pyogrio.read_dataframe(a / file, layer=layer)
        fb = pyogrio.read_dataframe(b / file, layer=layer)
        same = (
            len(fa) == len(fb)
            and fa.drop(columns="geometry").equals(fb.drop(columns="geometry"))
            and bool(np.all(shapely.equals_exact(fa.geometry.values, fb.geometry.values, 0)))
        )
        expect(same, f"{file}: identical features on a second run ({len(fa)})")


def main() -> None:
    frames = {f: read(HERE, f).to_crs(METRIC) for f in FILES}
    for file in FILES:
        info = pyogrio.read_info(HERE / file, layer=FILES[file])
        print(
            f"{file}: {info['features']} features, {info['geometry_type']}, {info['crs']}, "
            f"{(HERE / file).stat().st_size / 1e6:.2f} MB"
        )
        expect(info["crs"] == "EPSG:4490", f"{file} in EPSG:4490")
    water = frames["water.gpkg"]
    print(f"    water geometry types: {water.geom_type.value_counts().to_dict()}")
    total = sum((HERE / f).stat().st_size for f in FILES) / 1e6
    expect(total < 8, f"total {total:.2f} MB")
    com = frames["communities.gpkg"]
    check_communities(com)
    check_buildings(frames["buildings.gpkg"], frames["roads.gpkg"], water, com)
    check_roads(frames["roads.gpkg"], water, com)
    check_key_areas(frames["key_areas.gpkg"])
    if "--rerun" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp)
            shutil.copy(HERE / "make_sample.py", copy)
            subprocess.run([sys.executable, str(copy / "make_sample.py")], check=True)
            compare(HERE, copy)
    print("FAILED: " + "; ".join(failures) if failures else "all checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
