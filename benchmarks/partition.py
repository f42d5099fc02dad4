"""Unit grid partition benchmark: quality against the common alternatives, and speed at scale.

    python benchmarks/partition.py            # every part, prints a report
    python benchmarks/partition.py --json     # the same figures as JSON
    python benchmarks/partition.py --scene bubenec --scene shenzhen   # some scenes only

Part 1, real and sample fabric, every method measured alike (gridkit/partition/metrics.py):
  - gridkit's partition, with ``cutting="fabric"`` (the default) and ``cutting="straight"``;
  - a fishnet of √target squares (100 m at 1 ha) clipped to the (cleaned) communities;
  - road blocks alone (the faces between roads, water and community borders);
  - momepy's enclosed tessellation (one cell per building inside each road block), where
    momepy is installed and the scene has buildings.
Scenes: the bundled sample district (roads, water, buildings); momepy's Bubeneč (a real
Prague perimeter-block quarter: streets, 144 buildings, 407 cadastral plots as parcels; two
test communities split along a street) at 1 ha and at 0.4 ha, the target at which every
perimeter block must be cut; the OpenStreetMap roads of Shenzhen Futian (superblocks; four
test communities of whole road faces), roads only.
Part 2, a 670 km² district of 190 communities without barrier data (~65,000 grids), with the
default cutting, run in a child process so that its peak memory is its own; the fishnet on the
same district beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import synthetic_communities  # noqa: E402
from gridkit.io import read_vector  # noqa: E402
from gridkit.partition import partition  # noqa: E402
from gridkit.partition.barriers import prepare_barriers  # noqa: E402
from gridkit.partition.faces import polygonize  # noqa: E402
from gridkit.partition.metrics import fishnet, partition_figures  # noqa: E402

SAMPLES = ROOT / "data" / "samples"
# ../shared/data/real beside the checkout (a worktree one level deeper finds it too).
SHENZHEN = next((p for p in (folder / "shared" / "data" / "real" /
                             "shenzhen_futian_osm_roads.gpkg" for folder in ROOT.parents[:2])
                 if p.exists()), ROOT.parent / "shared" / "data" / "real")
TARGET = 10_000.0
METHODS = ("straight", "fabric", "fishnet", "road_blocks", "tessellation")


def _timed(func):
    started = time.perf_counter()
    value = func()
    return value, time.perf_counter() - started


def _cpu_timed(func):
    """Value, wall seconds and CPU seconds of this process (the CPU is shared: wall time
    grows with other work on the machine, CPU time much less)."""
    cpu = time.process_time()
    value, seconds = _timed(func)
    return value, seconds, time.process_time() - cpu


def _figures(geoms, communities_area, barriers, buildings, target=TARGET, water=None) -> dict:
    frame = gpd.GeoDataFrame(geometry=geoms)
    return partition_figures(frame, target, community_area=communities_area,
                             barrier_lines=barriers, buildings=buildings, water=water)


def sample_scene() -> dict:
    inputs = {name: read_vector(SAMPLES / f"{name}.gpkg", what=name)
              for name in ("communities", "roads", "water", "buildings")}
    return {"name": "sample district", "target": TARGET, "crs": None, "parcels": None,
            **inputs}


def _bubenec(target: float) -> dict | None:
    try:
        import momepy
    except ImportError:
        return None
    path = momepy.datasets.get_path("bubenec")
    utm = pyproj.CRS("EPSG:32633")  # metres; EPSG:3857 would inflate areas by 2.4 here
    layers = {name: gpd.read_file(path, layer=name).to_crs(utm)
              for name in ("buildings", "streets", "plots", "tessellation")}
    streets = layers["streets"].geometry.to_numpy()
    # The quarter: its plots and streets, holes filled.
    quarter = shapely.union_all(np.concatenate([layers["plots"].geometry.to_numpy(),
                                                shapely.buffer(streets, 6.0)]))
    quarter = shapely.Polygon(max(shapely.get_parts(quarter), key=shapely.area).exterior)
    faces, _ = polygonize(np.concatenate([streets, [quarter.exterior]]))
    faces = faces[shapely.within(shapely.point_on_surface(faces), quarter)]
    # Two communities of whole street blocks: west and east of the median block.
    x = shapely.get_coordinates(shapely.centroid(faces))[:, 0]
    west = x < np.median(x)
    comm = gpd.GeoDataFrame(
        {"CODE": ["110105001001", "110105001002"], "NAME": ["west", "east"]},
        geometry=[shapely.coverage_union_all(faces[west]),
                  shapely.coverage_union_all(faces[~west])], crs=utm)
    return {"name": f"Bubeneč at {target:,.0f} m²", "target": target, "crs": utm,
            "communities": comm, "roads": layers["streets"], "water": None,
            "buildings": layers["buildings"], "parcels": layers["plots"],
            "tessellation": layers["tessellation"]}


def shenzhen_scene() -> dict | None:
    if not SHENZHEN.exists():
        return None
    roads = read_vector(SHENZHEN, what="roads")
    metric = roads.estimate_utm_crs()
    lines = roads.to_crs(metric).geometry.to_numpy()
    faces, _ = polygonize(lines)
    faces = faces[shapely.area(faces) < 500_000]  # no open-ended outer pieces
    xy = shapely.get_coordinates(shapely.centroid(faces))
    quadrant = (xy[:, 0] > np.median(xy[:, 0])) * 2 + (xy[:, 1] > np.median(xy[:, 1]))
    shapes = [shapely.coverage_union_all(faces[quadrant == q]) for q in range(4)]
    # A piece of a quadrant cut off from the rest joins the quadrant it borders most, so that
    # every community is one piece of land; pieces the street graph leaves apart from all
    # (a few faces beyond a gap in the OSM extract) are left out.
    parts = [(q, p) for q in range(4) for p in shapely.get_parts(shapes[q])]
    main = {q: max((p for r, p in parts if r == q), key=shapely.area) for q in range(4)}
    groups: dict[int, list] = {q: [] for q in range(4)}
    for q, part in parts:
        if part is not main[q]:
            shared = [shapely.length(shapely.intersection(shapely.boundary(part),
                                                          shapely.boundary(main[r])))
                      for r in range(4)]
            if max(shared) == 0:
                continue
            q = int(np.argmax(shared))
        groups[q].append(part)
    comm = gpd.GeoDataFrame(
        {"CODE": [f"4403040010{q + 1:02d}" for q in range(4)],
         "NAME": [f"quadrant {q + 1}" for q in range(4)]},
        geometry=[shapely.union_all(groups[q]) for q in range(4)],
        crs=metric).to_crs(roads.crs)
    return {"name": "Shenzhen Futian OSM roads", "target": TARGET, "crs": None,
            "communities": comm, "roads": roads, "water": None, "buildings": None,
            "parcels": None}


def _tessellation(scene, comm, buildings, blocks) -> np.ndarray | None:
    """momepy's enclosed tessellation inside the road blocks (or the bundled one)."""
    if buildings is None or not len(buildings):
        return None
    if "tessellation" in scene:
        cells = scene["tessellation"].to_crs(comm.crs).geometry.to_numpy()
    else:
        import momepy

        frame = gpd.GeoDataFrame(geometry=buildings, crs=comm.crs)
        enclosures = gpd.GeoDataFrame(geometry=blocks, crs=comm.crs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cells = momepy.enclosed_tessellation(frame, enclosures, n_jobs=1
                                                 ).geometry.to_numpy()
    cells = shapely.get_parts(shapely.intersection(
        cells, shapely.union_all(comm.geometry.to_numpy())))
    return cells[shapely.get_type_id(cells) == 3]


def scene_part(scene: dict) -> dict:
    target = scene["target"]
    out: dict = {"scene": scene["name"], "target": target}
    results = {}
    for cutting in ("straight", "fabric"):
        results[cutting] = _cpu_timed(lambda cutting=cutting: partition(
            scene["communities"], scene["roads"], scene["water"], scene["buildings"], target,
            scene["parcels"], crs=scene["crs"], cutting=cutting))
    result = results["straight"][0]
    comm = result.communities
    km2 = comm.area.sum() / 1e6
    barriers, buildings, water = result.barrier_lines, result.buildings, result.water
    buildings = buildings if len(buildings) else None
    area_of = dict(zip(comm["CODE"], comm.geometry.area, strict=True))
    out.update({"km2": km2, "communities": len(comm),
                "buildings": 0 if buildings is None else int(len(buildings)),
                "parcels": scene["parcels"] is not None})
    for cutting, (result, seconds, cpu) in results.items():
        grids = result.unit_grids
        out[cutting] = _figures(grids.geometry.to_numpy(),
                                grids["COMMUNITY"].map(area_of).to_numpy(), barriers,
                                buildings, target, water)
        out[cutting].update(seconds=seconds, seconds_per_km2=seconds / km2, cpu_seconds=cpu,
                            cpu_seconds_per_km2=cpu / km2,
                            qa={rule: sum(i.rule == rule for i in result.issues)
                                for rule in ("block-whole", "building-split")})

    net, seconds = _timed(lambda: fishnet(comm, np.sqrt(target)))
    out["fishnet"] = _figures(net.geometry.to_numpy(), net["community_area"].to_numpy(),
                              barriers, buildings, target, water)
    out["fishnet"]["seconds"] = seconds

    roads_water, _ = prepare_barriers(scene["roads"], scene["water"], comm.crs)

    def road_blocks():
        lines = np.concatenate([shapely.get_parts(shapely.boundary(comm.geometry.to_numpy())),
                                roads_water.geometry.to_numpy()])
        faces, _ = polygonize(lines)
        inside = shapely.STRtree(comm.geometry.to_numpy()).query(
            shapely.point_on_surface(faces), predicate="within")[0]
        return faces[np.unique(inside)]

    blocks, seconds = _timed(road_blocks)
    tree = shapely.STRtree(comm.geometry.to_numpy())
    b, c = tree.query(shapely.point_on_surface(blocks), predicate="within")
    out["road_blocks"] = _figures(blocks[b], shapely.area(comm.geometry.to_numpy())[c],
                                  barriers, buildings, target, water)
    out["road_blocks"]["seconds"] = seconds
    try:
        cells, seconds = _timed(lambda: _tessellation(scene, comm, buildings, blocks))
    except ImportError:
        cells = None
    if cells is not None:
        b, c = tree.query(shapely.point_on_surface(cells), predicate="within")
        out["tessellation"] = _figures(cells[b], shapely.area(comm.geometry.to_numpy())[c],
                                       barriers, buildings, target, water)
        out["tessellation"]["seconds"] = seconds
    return out


SCENES = {
    "sample": sample_scene,
    "bubenec": lambda: _bubenec(TARGET),
    "bubenec-small": lambda: _bubenec(4_000.0),
    "shenzhen": shenzhen_scene,
}


def district_child() -> None:
    """Runs in a child process: partition the 670 km² district, print figures as JSON."""
    comm = synthetic_communities()
    result, seconds, cpu = _cpu_timed(lambda: partition(comm, target_area=TARGET))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    area_of = dict(zip(result.communities["CODE"], result.communities.geometry.area,
                       strict=True))
    grids = result.unit_grids
    figures = _figures(grids.geometry.to_numpy(), grids["COMMUNITY"].map(area_of).to_numpy(),
                       None, None)
    net, net_seconds = _timed(lambda: fishnet(result.communities, np.sqrt(TARGET)))
    print(json.dumps({
        "km2": comm.area.sum() / 1e6, "communities": len(comm),
        "gridkit": {**figures, "seconds": seconds, "cpu_seconds": cpu, "peak_mib": peak,
                    "seconds_per_km2": seconds / (comm.area.sum() / 1e6)},
        "fishnet": {**_figures(net.geometry.to_numpy(), net["community_area"].to_numpy(),
                               None, None), "seconds": net_seconds},
    }))


def district_part() -> dict:
    done = subprocess.run([sys.executable, __file__, "--district-child"], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def _row(name, figures) -> str:
    split = figures.get("buildings_split", {}).get("split_share")
    on = figures.get("boundary_on_barriers_share")
    fabric = figures.get("boundary_on_fabric_share")
    band = figures["in_band_share"]
    return (f"{name:<12} {figures['count']:>7,} {'' if band is None else f'{band:.1%}':>8} "
            f"{figures['slivers']:>8,} {figures['polsby_popper_median']:>7.3f} "
            f"{'' if on is None else f'{on:.1%}':>9} "
            f"{'' if fabric is None else f'{fabric:.1%}':>9} "
            f"{'' if split is None else f'{split:.2%}':>9} {figures['seconds']:>8.2f}")


HEADER = (f"{'method':<12} {'grids':>7} {'in band':>8} {'slivers':>8} {'PP med':>7} "
          f"{'on lines':>9} {'on fabric':>9} {'bldg split':>9} {'seconds':>8}")


def report(scenes: list[dict], district: dict | None) -> None:
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{platform.python_implementation()} {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared)")
    for scene in scenes:
        print(f"\n{scene['scene']}: {scene['km2']:.2f} km², {scene['communities']} "
              f"communities, {scene['buildings']:,} buildings"
              f"{', parcels' if scene['parcels'] else ''}; target {scene['target']:,.0f} m²")
        print(HEADER)
        for name in METHODS:
            if name in scene:
                print(_row(name, scene[name]))
        for cutting in ("straight", "fabric"):
            g = scene[cutting]
            print(f"gridkit {cutting}: {g['seconds_per_km2']:.3f} s/km² "
                  f"({g['cpu_seconds']:.2f} s CPU, {g['cpu_seconds_per_km2']:.3f} CPU s/km²); "
                  f"QA {g['qa']}")
    if district is None:
        return
    print(f"\n670 km² district without barriers: {district['km2']:.0f} km², "
          f"{district['communities']} communities")
    print(HEADER)
    for name in ("gridkit", "fishnet"):
        print(_row(name, district[name]))
    g = district["gridkit"]
    print(f"gridkit: {g['seconds']:.1f} s ({g['cpu_seconds']:.1f} s CPU; target ≤ 60 s), "
          f"peak {g['peak_mib']:,.0f} MiB "
          f"(target ≤ 4,096 MiB), {g['seconds_per_km2'] * 1000:.1f} ms/km²")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--scene", action="append", choices=[*SCENES, "district"],
                        help="run only these parts (repeatable; default: all)")
    parser.add_argument("--district-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.district_child:
        district_child()
        return
    wanted = args.scene or [*SCENES, "district"]
    scenes = []
    for name in wanted:
        if name == "district":
            continue
        scene = SCENES[name]()
        if scene is None:
            print(f"skipped {name}: its data is not here (momepy, ../shared/data/real)",
                  file=sys.stderr)
            continue
        scenes.append(scene_part(scene))
    district = district_part() if "district" in wanted else None
    if args.json:
        print(json.dumps({"scenes": scenes, "district": district}, indent=2))
    else:
        report(scenes, district)


if __name__ == "__main__":
    main()
