"""Single process against a local Dask cluster, in the same run, on the 670 km² district.

    python benchmarks/cluster.py              # LocalCluster of 2 workers; census 11.34M rows
    python benchmarks/cluster.py --workers 4 --rows 1000000 --rows 11340000 --json
    python benchmarks/cluster.py --rows 0     # partition and grouping only

Runs the partition (190 communities, ~65,000 unit grids, no barrier data) and the grouping
of its grids, first in this process, then with the per-street work on the cluster, checks
that both give the same grids, and prints the time of each stage. Then the census import
(the CSVs of ``benchmarks/census.py``, generated once into ``--workdir``) and check of each
``--rows`` size, each path in a child process of its own (``ru_maxrss`` of the client and of
the workers), checks that both write the same layers, and projects the import of 100 million
components from the measured stages. The cluster's start-up is timed apart: a long-lived
cluster (``--scheduler``) pays it once. (Not named distributed.py: the script's folder comes
first on sys.path and would shadow the dask package.)
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


def _task_breakdown(tasks: list[dict]) -> dict:
    """Where the cluster's time went: seconds of computing, transferring and (de)serialising
    summed over the tasks, and the wall time from the first task's start to the last's end."""
    actions: dict[str, float] = {}
    starts, stops = [], []
    for task in tasks:
        for part in task.get("startstops", ()):
            actions[part["action"]] = actions.get(part["action"], 0.0) + part["stop"] - \
                part["start"]
            starts.append(part["start"])
            stops.append(part["stop"])
    return {"tasks": len(tasks), **{k: round(v, 2) for k, v in sorted(actions.items())},
            "span": round(max(stops) - min(starts), 2) if starts else 0.0}


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
        from dask.distributed import get_task_stream

        with get_task_stream(client) as stream:
            remote_group, remote_group_s = _timed(lambda: group(local.unit_grids,
                                                                client=client))
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
                  "identical": identical_group, "cluster_tasks": _task_breakdown(stream.data)},
    }


_IMPORT = r"""
import json, resource, shutil, sys, time
from contextlib import nullcontext
from pathlib import Path
from dask.distributed import get_task_stream
from benchmarks.cluster import _task_breakdown as breakdown
from gridkit.components.check import CheckOptions, check_to_geopackage
from gridkit.components.gpkg import import_to_geopackage
from gridkit.components.importer import ImportOptions
from gridkit.distributed import cluster_client

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def main():
    csv, grids, out, workers = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    shutil.copyfile(grids, out)
    marks = []
    say = lambda stage: marks.append((stage.split()[0], time.perf_counter()))
    started = time.perf_counter()
    tasks = {}
    with cluster_client(workers=workers or None) as client:
        startup = time.perf_counter() - started
        marks.append(("start", time.perf_counter()))
        with (get_task_stream(client) if client else nullcontext()) as stream:
            figures = import_to_geopackage([csv], out, ImportOptions(crs="wgs84"),
                                           progress=say, client=client)
        tasks["import"] = breakdown(stream.data) if client else {}
        marks.append(("census-check", time.perf_counter()))
        with (get_task_stream(client) if client else nullcontext()) as stream:
            report = check_to_geopackage(out, CheckOptions(), client=client)
        tasks["check"] = breakdown(stream.data) if client else {}
        marks.append(("end", time.perf_counter()))
        worker_peak = max(client.run(peak).values()) if client else 0
    stages = {}
    for (name, t0), (_, t1) in zip(marks, marks[1:]):
        stages[name] = round(stages.get(name, 0.0) + t1 - t0, 2)
    stages.pop("start", None)
    print(json.dumps({"startup": round(startup, 2) if workers else 0.0, "stages": stages,
                      "accepted": figures["accepted"], "rejected": figures["rejected"],
                      "codes": figures["codes"], "issues": report["errors"] + report["warnings"],
                      "client_peak": peak(), "worker_peak": worker_peak, "tasks": tasks}))

if __name__ == "__main__":
    main()
"""


def _same_layers(a: Path, b: Path) -> bool:
    import pyogrio

    for layer in ("component", "component_reject", "component_coverage"):
        # Compared batch by batch: two copies of an 11-million-row layer would not fit.
        options = {"layer": layer, "batch_size": 1 << 20, "use_pyarrow": True}
        with pyogrio.open_arrow(a, **options) as (_, left), \
                pyogrio.open_arrow(b, **options) as (_, right):
            for x, y in zip(left, right, strict=True):
                if not x.equals(y):
                    return False
    return True


def census(workers: int, sizes: list[int], workdir: Path) -> list[dict]:
    from benchmarks.census import _child, district_grids, generate_csv

    workdir.mkdir(parents=True, exist_ok=True)
    grids = district_grids(workdir)
    results = []
    for rows in sizes:
        csv = workdir / f"census_{rows}.csv"
        if not csv.exists():
            generate_csv(csv, rows, grids)
        local_out, remote_out = workdir / "local.gpkg", workdir / "cluster.gpkg"
        local = _child(_IMPORT, str(csv), str(grids), str(local_out), "0")
        remote = _child(_IMPORT, str(csv), str(grids), str(remote_out), str(workers))
        same = _same_layers(local_out, remote_out)
        local_out.unlink()
        remote_out.unlink()
        results.append({"rows": rows, "local": local, "cluster": remote, "identical": same})
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    return results


def projection(run: dict, workers: int, target: int = 100_000_000) -> dict:
    """The import of ``target`` rows, from the stages of one measured size, every stage
    growing with the rows. The client's stages (reading, coding, duplicates, writing the
    GeoPackage) are taken from the single-process run; the row checks cost what they cost
    there, divided by the workers, plus the overhead the cluster run showed over a perfect
    split (shipping blocks and results, on this machine also sharing its cores); the client's
    memory grows with the rows, a worker's only with ``--block-rows``."""
    scale = target / run["rows"]
    local, remote = run["local"]["stages"], run["cluster"]["stages"]
    client_part = sum(v for k, v in local.items() if k not in ("checking", "census-check"))
    checks = local["checking"]
    overhead = max(0.0, remote["checking"] - checks / workers)
    out = {"rows": target,
           "single_process_seconds": round((client_part + checks) * scale),
           "client_peak_gib": round(run["cluster"]["client_peak"] * scale / 2**30, 1),
           "worker_peak_gib": round(run["cluster"]["worker_peak"] / 2**30, 2),
           "client_bound_seconds": round(client_part * scale)}
    for w in sorted({workers, 8, 32}):
        out[f"{w}_workers_seconds"] = [round((client_part + checks / w) * scale),
                                       round((client_part + checks / w + overhead) * scale)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", type=int, action="append",
                        help="census rows to import (default 11,340,000; 0 for none)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gridkit-cluster-bench"),
                        help="census CSVs are generated here once and reused")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(args.workers)
    print(json.dumps(figures), file=sys.stderr, flush=True)
    sizes = [r for r in (args.rows or [11_340_000]) if r > 0]
    figures["census"] = census(args.workers, sizes, args.workdir)
    if figures["census"]:
        figures["projection"] = projection(figures["census"][-1], args.workers)
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
          f"identical {g['identical']}; on the cluster: {g['cluster_tasks']}")
    for run in figures["census"]:
        a, b = run["local"], run["cluster"]
        print(f"census import + check, {run['rows']:,} rows: local {sum(a['stages'].values()):.1f}"
              f" s (peak {a['client_peak'] / 2**30:.2f} GiB), cluster "
              f"{sum(b['stages'].values()):.1f} s (client peak {b['client_peak'] / 2**30:.2f} "
              f"GiB, worker peak {b['worker_peak'] / 2**30:.2f} GiB, start-up {b['startup']} s)"
              f", identical {run['identical']}")
        for stage in a["stages"]:
            print(f"  {stage:<13} {a['stages'][stage]:>7} s   {b['stages'].get(stage, 0.0):>7} s")
    if "projection" in figures:
        print("projection:", json.dumps(figures["projection"]))


if __name__ == "__main__":
    main()
