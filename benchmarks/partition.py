"""Unit grid partition benchmark: quality against the common alternatives, and speed at scale.

    python benchmarks/partition.py            # both parts, prints a report
    python benchmarks/partition.py --json     # the same figures as JSON

Part 1, the bundled sample district with roads, water and buildings, measured alike for:
  - gridkit's partition;
  - a 100 m fishnet clipped to the (cleaned) communities, the common practice;
  - road blocks alone (the faces between roads, water and community borders, as momepy or
    genregion make them).
Part 2, a 670 km² district of 190 communities without barrier data (~65,000 grids), run in a
child process so that its peak memory is its own; the fishnet on the same district beside it.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import synthetic_communities  # noqa: E402
from gridkit.io import read_vector  # noqa: E402
from gridkit.partition import partition  # noqa: E402
from gridkit.partition.faces import polygonize  # noqa: E402
from gridkit.partition.metrics import fishnet, partition_figures  # noqa: E402

SAMPLES = ROOT / "data" / "samples"
TARGET = 10_000.0


def _timed(func):
    started = time.perf_counter()
    value = func()
    return value, time.perf_counter() - started


def _figures(geoms, communities_area, barriers, buildings) -> dict:
    import geopandas as gpd

    frame = gpd.GeoDataFrame(geometry=geoms)
    return partition_figures(frame, TARGET, community_area=communities_area,
                             barrier_lines=barriers, buildings=buildings)


def sample_part() -> dict:
    inputs = {name: read_vector(SAMPLES / f"{name}.gpkg", what=name)
              for name in ("communities", "roads", "water", "buildings")}
    result, seconds = _timed(lambda: partition(
        inputs["communities"], inputs["roads"], inputs["water"], inputs["buildings"], TARGET))
    comm = result.communities
    km2 = comm.area.sum() / 1e6
    barriers, buildings = result.barrier_lines, result.buildings
    area_of = dict(zip(comm["CODE"], comm.geometry.area, strict=True))
    grids = result.unit_grids
    out = {"km2": km2, "communities": len(comm), "buildings": int(len(buildings))}
    out["gridkit"] = _figures(grids.geometry.to_numpy(),
                              grids["COMMUNITY"].map(area_of).to_numpy(), barriers, buildings)
    out["gridkit"]["seconds"] = seconds
    out["gridkit"]["seconds_per_km2"] = seconds / km2

    net, seconds = _timed(lambda: fishnet(comm, np.sqrt(TARGET)))
    out["fishnet"] = _figures(net.geometry.to_numpy(), net["community_area"].to_numpy(),
                              barriers, buildings)
    out["fishnet"]["seconds"] = seconds

    def road_blocks():
        lines = np.concatenate([shapely.get_parts(shapely.boundary(comm.geometry.to_numpy())),
                                barriers])
        faces, _ = polygonize(lines)
        inside = shapely.STRtree(comm.geometry.to_numpy()).query(
            shapely.point_on_surface(faces), predicate="within")[0]
        return faces[np.unique(inside)]

    blocks, seconds = _timed(road_blocks)
    tree = shapely.STRtree(comm.geometry.to_numpy())
    b, c = tree.query(shapely.point_on_surface(blocks), predicate="within")
    out["road_blocks"] = _figures(blocks[b], shapely.area(comm.geometry.to_numpy())[c],
                                  barriers, buildings)
    out["road_blocks"]["seconds"] = seconds
    return out


def district_child() -> None:
    """Runs in a child process: partition the 670 km² district, print figures as JSON."""
    comm = synthetic_communities()
    result, seconds = _timed(lambda: partition(comm, target_area=TARGET))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    area_of = dict(zip(result.communities["CODE"], result.communities.geometry.area,
                       strict=True))
    grids = result.unit_grids
    figures = _figures(grids.geometry.to_numpy(), grids["COMMUNITY"].map(area_of).to_numpy(),
                       None, None)
    net, net_seconds = _timed(lambda: fishnet(result.communities, np.sqrt(TARGET)))
    print(json.dumps({
        "km2": comm.area.sum() / 1e6, "communities": len(comm),
        "gridkit": {**figures, "seconds": seconds, "peak_mib": peak,
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
    return (f"{name:<12} {figures['count']:>7,} {figures['in_band_share']:>8.1%} "
            f"{figures['slivers']:>8,} {figures['polsby_popper_median']:>7.3f} "
            f"{'' if on is None else f'{on:.1%}':>9} "
            f"{'' if split is None else f'{split:.2%}':>9} {figures['seconds']:>8.2f}")


def report(sample: dict, district: dict) -> None:
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{platform.python_implementation()} {platform.python_version()}")
    header = (f"{'method':<12} {'grids':>7} {'in band':>8} {'slivers':>8} {'PP med':>7} "
              f"{'on roads':>9} {'bldg split':>9} {'seconds':>8}")
    print(f"\nsample district: {sample['km2']:.1f} km², {sample['communities']} communities, "
          f"{sample['buildings']:,} buildings")
    print(header)
    for name in ("gridkit", "fishnet", "road_blocks"):
        print(_row(name, sample[name]))
    g, f = sample["gridkit"], sample["fishnet"]
    on_roads = g["boundary_on_barriers_share"] / f["boundary_on_barriers_share"]
    split = f["buildings_split"]["split_share"] / max(g["buildings_split"]["split_share"], 1e-9)
    print(f"gridkit: {g['seconds_per_km2']:.3f} s/km² with roads, water and buildings; "
          f"vs fishnet: in band ×{g['in_band_share'] / f['in_band_share']:.2f}, "
          f"boundary on roads ×{on_roads:.2f}, buildings split ÷{split:.1f}")
    print(f"\n670 km² district without barriers: {district['km2']:.0f} km², "
          f"{district['communities']} communities")
    print(header)
    for name in ("gridkit", "fishnet"):
        print(_row(name, district[name]))
    g = district["gridkit"]
    print(f"gridkit: {g['seconds']:.1f} s (target ≤ 60 s), peak {g['peak_mib']:,.0f} MiB "
          f"(target ≤ 4,096 MiB), {g['seconds_per_km2'] * 1000:.1f} ms/km²")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--district-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.district_child:
        district_child()
        return
    sample, district = sample_part(), district_part()
    if args.json:
        print(json.dumps({"sample": sample, "district": district}, indent=2))
    else:
        report(sample, district)


if __name__ == "__main__":
    main()
