"""Where the sample's internal grid boundary lies off the fabric, by kind of place.

    python benchmarks/partition_breakdown.py               # the sample as gridkit.toml cuts it
    python benchmarks/partition_breakdown.py --no-key-areas

Partitions the bundled sample (fabric cutting, roads, water, buildings and, by default, its key
areas) and splits the boundary points the metric samples (every 2 m, district outline excluded;
``gridkit/partition/metrics.py``) that are not on the fabric into: community borders against
cuts gridkit chose; urban streets, the town's residents' committees and its villages (村, codes
2xx); inside a water polygon; with a building within 15 m / 40 m.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gridkit.io import read_vector  # noqa: E402
from gridkit.partition import metrics, partition  # noqa: E402

SAMPLES = ROOT / "data" / "samples"


def _hits(points: np.ndarray, geoms: np.ndarray, predicate: str, distance=None) -> np.ndarray:
    found = np.zeros(len(points), dtype=bool)
    if len(geoms):
        found[shapely.STRtree(geoms).query(points, predicate=predicate,
                                           distance=distance)[0]] = True
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-key-areas", action="store_true")
    args = parser.parse_args()
    names = ("communities", "roads", "water", "buildings", "key_areas")
    inputs = {name: read_vector(SAMPLES / f"{name}.gpkg", what=name) for name in names}
    cpu = time.process_time()
    result = partition(inputs["communities"], inputs["roads"], inputs["water"],
                       inputs["buildings"],
                       key_areas=None if args.no_key_areas else inputs["key_areas"])
    figures = result.figures
    print(f"{figures['unit_grids']:,} grids, {figures['in_band_share']:.1%} in band, "
          f"{figures['slivers']} slivers, PP {figures['polsby_popper_median']:.3f}, "
          f"{figures['boundary_on_fabric_share']:.2%} on fabric, "
          f"{figures['buildings_split']['split']} buildings split; "
          f"{time.process_time() - cpu:.1f} CPU s")
    points = metrics._internal_points(result.unit_grids.geometry.to_numpy())
    water = result.water if result.water is not None else np.empty(0, dtype=object)
    inside = _hits(points, water, "intersects")
    on = (metrics._near_lines(points, result.barrier_lines)
          | metrics._in_gaps(points, result.buildings))
    comm = result.communities
    border = _hits(points, shapely.boundary(comm.geometry.to_numpy()), "dwithin", 0.05)
    which = np.full(len(points), -1)
    p, c = shapely.STRtree(comm.geometry.to_numpy()).query(points, predicate="dwithin",
                                                             distance=0.05)
    which[p] = c
    codes = comm["CODE"].to_numpy()
    kinds = np.array(["street" if code[6] == "0" else "village" if code[9] == "2"
                      else "town committee" for code in codes])
    kind = np.where(which >= 0, kinds[np.maximum(which, 0)], "?")
    near15 = _hits(points, result.buildings, "dwithin", 15.0)
    near40 = _hits(points, result.buildings, "dwithin", 40.0)
    off = ~(on | inside)
    n = len(points)
    print(f"{n:,} boundary points; on fabric {(~off).mean():.2%} "
          f"(without counting the inside of water: {on.mean():.2%})")
    print(f"{'off the fabric':<44} {'points':>8} {'of off':>7} {'of all':>7}")

    def row(label: str, mask: np.ndarray) -> None:
        print(f"{label:<44} {mask.sum():>8,} {mask.sum() / off.sum():>7.1%} "
              f"{mask.sum() / n:>7.2%}")

    row("all", off)
    row("community borders", off & border)
    row("cuts gridkit chose", off & ~border)
    row("(before the metric fix) borders inside water", ~on & border & inside)
    for name in ("street", "town committee", "village"):
        row(f"in {name} communities", off & (kind == name))
        print(f"    {name}: {(kind == name).mean():.1%} of the boundary, "
              f"{(~off[kind == name]).mean():.1%} of it on fabric")
    row("a building within 15 m", off & near15)
    row("no building within 15 m", off & ~near15)
    row("no building within 40 m", off & ~near40)


if __name__ == "__main__":
    main()
