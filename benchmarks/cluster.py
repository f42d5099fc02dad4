"""Single process against a local Dask cluster, in the same run, on the 670 km² district.

    python benchmarks/cluster.py              # LocalCluster of 2 workers
    python benchmarks/cluster.py --workers 4 --json

Runs the partition (190 communities, ~65,000 unit grids, no barrier data) and the grouping
of its grids, first in this process, then with the per-street work on the cluster, checks
that both give the same grids, and prints the time of each stage. The cluster's start-up is
timed apart: a long-lived cluster (``--scheduler``) pays it once. (Not named distributed.py:
the script's folder comes first on sys.path and would shadow the dask package.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import synthetic_communities  # noqa: E402
from gridkit.distributed import cluster_client  # noqa: E402
from gridkit.partition import partition  # noqa: E402
from gridkit.responsibility.engine import group  # noqa: E402

TARGET = 10_000.0


def _staged(run):
    """Run ``run(progress)``; seconds per progress stage and in all."""
    marks = [("start", time.perf_counter())]
    # "cutting 412 large blocks" and the like: one stage whatever the number.
    result = run(lambda stage: marks.append((" ".join(w for w in stage.split() if not w.isdigit()),
                                             time.perf_counter())))
    marks.append(("end", time.perf_counter()))
    stages: dict[str, float] = {}
    for (name, t0), (_, t1) in zip(marks, marks[1:], strict=False):
        stages[name] = round(stages.get(name, 0.0) + t1 - t0, 2)
    return result, stages, round(marks[-1][1] - marks[0][1], 2)


def _timed(run):
    started = time.perf_counter()
    result = run()
    return result, round(time.perf_counter() - started, 2)


def measure(workers: int) -> dict:
    comm = synthetic_communities()
    local, local_stages, local_s = _staged(lambda say: partition(comm, target_area=TARGET,
                                                                 progress=say))
    local_group, local_group_s = _timed(lambda: group(local.unit_grids))
    started = time.perf_counter()
    with cluster_client(workers=workers) as client:
        startup = round(time.perf_counter() - started, 2)
        remote, remote_stages, remote_s = _staged(
            lambda say: partition(comm, target_area=TARGET, progress=say, client=client))
        remote_group, remote_group_s = _timed(lambda: group(local.unit_grids, client=client))
    a, b = local.unit_grids, remote.unit_grids
    identical = (list(a["BGID"]) == list(b["BGID"]) and bool(shapely.equals_exact(
        a.geometry.to_numpy(), b.geometry.to_numpy(), 0).all()))
    ra, rb = local_group.responsibility_grids, remote_group.responsibility_grids
    identical_group = (list(ra["RGID"]) == list(rb["RGID"]) and bool(shapely.equals_exact(
        ra.geometry.to_numpy(), rb.geometry.to_numpy(), 0).all()))
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "district": {"km2": round(comm.area.sum() / 1e6, 1), "communities": len(comm),
                     "streets": int(comm["CODE"].str[:9].nunique()),
                     "unit_grids": len(a), "responsibility_grids": len(ra)},
        "workers": workers,
        "cluster_startup_seconds": startup,
        "partition": {"local_seconds": local_s, "cluster_seconds": remote_s,
                      "local_stages": local_stages, "cluster_stages": remote_stages,
                      "identical": identical},
        "group": {"local_seconds": local_group_s, "cluster_seconds": remote_group_s,
                  "identical": identical_group},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(args.workers)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=1))
        return
    d, p, g = figures["district"], figures["partition"], figures["group"]
    print(f"{d['km2']} km², {d['communities']} communities, {d['streets']} streets, "
          f"{d['unit_grids']:,} unit grids, {d['responsibility_grids']:,} responsibility grids; "
          f"{figures['machine']['cpus']} CPUs, LocalCluster of {figures['workers']} workers "
          f"(start-up {figures['cluster_startup_seconds']} s)")
    print(f"partition  local {p['local_seconds']:>7} s   cluster {p['cluster_seconds']:>7} s   "
          f"identical {p['identical']}")
    for stage in p["local_stages"]:
        print(f"  {stage:<10} {p['local_stages'][stage]:>7} s   "
              f"{p['cluster_stages'].get(stage, 0.0):>7} s")
    print(f"group      local {g['local_seconds']:>7} s   cluster {g['cluster_seconds']:>7} s   "
          f"identical {g['identical']}")


if __name__ == "__main__":
    main()
