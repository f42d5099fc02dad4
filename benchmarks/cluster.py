"""A province on a Dask cluster: counties as tasks, against the same counties one after another.

    python benchmarks/cluster.py                        # 2, 4 and 8 counties of 500,000 rows
    python benchmarks/cluster.py --counties 2 --rows 100000 --json
    python benchmarks/cluster.py --row-blocks           # also: row blocks inside one county

Synthetic provinces (``benchmarks/province.py``): Shanghai's districts side by side, each
15 km² of 32 communities (~1,500 unit grids) with a main road crossing into its neighbour and
``--rows`` census rows (WGS-84). For each number of counties, ``gridkit run PROJECT`` runs
twice, each in a child process of its own: serially (no Dask: the counties one after
another, which is the sum of the single-county times) and on a ``LocalCluster`` of
``--workers`` processes. Printed: wall times, the client's peak memory (``ru_maxrss`` of
the child that holds the client) and the workers', the overhead over a perfect split, whether
every county GeoPackage is byte-identical to the serial run's, and the border check. Then a
projection to 100 million components in 30 counties on 8 and 32 workers.

``--row-blocks`` also times one county's pipeline with the census import's row blocks on
the cluster (``run_pipeline(client=...)``, issue 9's path) against the same county in one
process. (Not named distributed.py: the script's folder comes first on sys.path and would
shadow the dask package.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.province import make_province  # noqa: E402

SIDE, PER_ROW = 5_500.0, 8  # a county: 5.5 × 2.75 km, 8 × 4 communities

_RUN = r"""
import json, os, resource, sys
from datetime import UTC, datetime
from pathlib import Path
from gridkit.distributed import cluster_client
from gridkit.project import run_project

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

project, out, workers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
stamp = datetime(2026, 11, 30, tzinfo=UTC)
import time
started = time.perf_counter()
with cluster_client(workers=workers or None) as client:
    startup = time.perf_counter() - started
    summary = run_project(project, out, client=client, stamp=stamp, argv="benchmark")
    worker_peak = max(client.run(peak).values()) if client else 0
print(json.dumps({"startup": round(startup, 2), "seconds": summary["seconds"],
                  "county_seconds": [c.get("seconds") for c in summary["counties"]],
                  "county_cpu_seconds": [c.get("cpu_seconds") for c in summary["counties"]],
                  "load_average": os.getloadavg(),
                  "errors": [c["error"] for c in summary["counties"] if "error" in c],
                  "components": sum(c.get("census", {}).get("accepted", 0)
                                    for c in summary["counties"]),
                  "borders": summary["borders"], "client_peak": peak(),
                  "worker_peak": worker_peak}))
"""

_ROW_BLOCKS = r"""
import json, sys, time
from pathlib import Path
from gridkit.distributed import cluster_client
from gridkit.pipeline import load_config, run_pipeline

config, out, workers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
with cluster_client(workers=workers or None) as client:
    started = time.perf_counter()
    figures = run_pipeline(config, out, client=client)
print(json.dumps({"seconds": round(time.perf_counter() - started, 2),
                  "census_seconds": figures["census"]["seconds"],
                  "check_seconds": figures["check"].get("seconds")}))
"""


def _child(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def measure(counties: int, rows: int, workers: int, workdir: Path, serial_max: int) -> dict:
    project = workdir / f"province_{counties}x{rows}"
    if not project.exists():
        make_province(project, counties, side=SIDE, per_row=PER_ROW, rows=rows)
    serial_out, cluster_out = workdir / "serial", workdir / "cluster"
    for out in (serial_out, cluster_out):
        shutil.rmtree(out, ignore_errors=True)
    cluster = _child(_RUN, project, cluster_out, workers)
    # CPU seconds: the county's cost whatever else shares the machine's two cores.
    cpu = sum(cluster["county_cpu_seconds"])
    out = {"counties": counties, "rows_per_county": rows, "workers": workers,
           "cluster": cluster, "cpu_sum_seconds": round(cpu, 2),
           "ideal_seconds": round(cpu / workers, 2),
           "overhead_seconds": round(cluster["seconds"] - cpu / workers, 2)}
    if counties <= serial_max:
        out["serial"] = _child(_RUN, project, serial_out, 0)
        names = sorted(p.name for p in serial_out.glob("*.gpkg"))
        same = [n for n in names if _digest(serial_out / n) == _digest(cluster_out / n)]
        out["identical"] = f"{len(same)}/{len(names)}"
    return out


def row_blocks(rows: int, workers: int, workdir: Path) -> dict:
    """One county's pipeline in one process against its census row blocks on the cluster."""
    project = workdir / f"province_1x{rows}"
    if not project.exists():
        make_province(project, 1, side=SIDE, per_row=PER_ROW, rows=rows)
    config = next(project.glob("*/gridkit.toml"))
    local = _child(_ROW_BLOCKS, config, workdir / "alone.gpkg", 0)
    blocks = _child(_ROW_BLOCKS, config, workdir / "blocks.gpkg", workers)
    return {"rows": rows, "one_process": local, "row_blocks_on_cluster": blocks}


def projection(runs: list[dict], target: int = 100_000_000, counties: int = 30) -> dict:
    """``target`` components in ``counties`` counties, from the measured run with the most
    rows per county.

    A county's cost is its CPU time in the serial run (on a shared machine wall time measures
    the other users), scaled with its rows (the census import, check and writes dominate; the
    partition grows with the area, so this is conservative); counties run in waves of
    ``workers``. The serial segments (outlines, border noding, border check) and the client's
    work are seconds (README) and are left out here; so is the cluster's start-up."""
    run = max(runs, key=lambda r: (r["rows_per_county"], "serial" in r, r["counties"]))
    cpu = run.get("serial", run["cluster"])["county_cpu_seconds"]
    scale = target / counties / run["rows_per_county"]
    county = sum(cpu) / len(cpu) * scale
    peak = run.get("serial", run["cluster"])["client_peak" if "serial" in run else "worker_peak"]
    out = {"components": target, "counties": counties, "from_rows": run["rows_per_county"],
           "county_cpu_seconds": round(county),
           "client_peak_gib": round(max(r["cluster"]["client_peak"] for r in runs) / 2**30, 2),
           "worker_peak_gib": round(peak * scale / 2**30, 1),
           "one_process_seconds": round(county * counties)}
    for workers in (8, 32):
        out[f"{workers}_workers_seconds"] = round(math.ceil(counties / workers) * county)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--counties", type=int, action="append",
                        help="counties in the province (default: 2, 4 and 8; 0: none)")
    parser.add_argument("--rows", type=int, default=500_000, help="census rows per county")
    parser.add_argument("--row-blocks", action="store_true")
    parser.add_argument("--serial-max", type=int, default=8,
                        help="run the serial reference only up to this many counties")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gridkit-province-bench"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    figures: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                     "runs": []}
    for counties in [c for c in (args.counties or [2, 4, 8]) if c > 0]:
        started = time.perf_counter()
        figures["runs"].append(measure(counties, args.rows, args.workers, args.workdir,
                                       args.serial_max))
        print(json.dumps(figures["runs"][-1]), f"({time.perf_counter() - started:.0f} s)",
              file=sys.stderr, flush=True)
    if figures["runs"]:
        figures["projection"] = projection(figures["runs"])
    if args.row_blocks:
        figures["row_blocks"] = row_blocks(args.rows, args.workers, args.workdir)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=1))
        return
    print(f"{figures['machine']['cpus']} CPUs; LocalCluster of {args.workers} workers; "
          f"{args.rows:,} census rows per county")
    print("counties  serial s  cpu/2 s  cluster s  overhead s  client peak  worker peak  "
          "identical  borders")
    for r in figures["runs"]:
        s, c, b = r.get("serial", {}), r["cluster"], r["cluster"]["borders"]
        print(f"{r['counties']:>8}  {s.get('seconds', '-'):>8}  {r['ideal_seconds']:>7}  "
              f"{c['seconds']:>9}  {r['overhead_seconds']:>10}  "
              f"{c['client_peak'] / 2**30:>9.2f} G  {c['worker_peak'] / 2**30:>9.2f} G  "
              f"{r.get('identical', 'not run'):>9}  overlap {b['overlap_m2']:g} m², "
              f"gaps {b['gap_m2']:g} m², "
              f"offset {b['max_offset_m'] * 1000:.2f} mm, valid {b['valid']}")
    if "projection" in figures:
        print("projection:", json.dumps(figures["projection"]))
    if "row_blocks" in figures:
        print("row blocks inside one county:", json.dumps(figures["row_blocks"]))


if __name__ == "__main__":
    main()
