"""GeoPackage store benchmark: appending to a million-component GeoPackage costs what it adds.

    python benchmarks/store.py                         # 1,000,000 held; append 100, 10k, 100k
    python benchmarks/store.py --held 200000 --json    # smaller, as JSON
    python benchmarks/store.py --workdir /tmp/gk       # keep (and reuse) the generated files

The district is the synthetic one of ``benchmarks/census.py`` (~67,000 unit grids); the census
files come from its generator (different seeds, so other positions). Steps, each in a child
process timing only the library call (``import_to_geopackage`` / ``check_to_geopackage``, as the
CLI runs them), on a fresh copy of the base file:

1. the full import of HELD rows into the district (the base file; ``--mode append`` into a file
   without components writes the layer whole);
2. ``census import --mode append`` of 100, 10,000 and 100,000 new rows into the base;
3. ``census check`` after the 100-row append.

The obvious alternative is the whole-file rewrite gridkit did before the store (copy the file,
write every layer, swap it in): its floor is copying the base file, printed beside, and the
issue measured 16.6 s for a 100-row append at this size.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.census import district_grids, generate_csv  # noqa: E402

_IMPORT = r"""
import json, resource, sys, time
from pathlib import Path
from gridkit.components.gpkg import import_to_geopackage
from gridkit.components.importer import ImportOptions
stages, started = [], time.perf_counter()
say = lambda s: stages.append((s, round(time.perf_counter() - started, 2)))
figures = import_to_geopackage([Path(sys.argv[1])], Path(sys.argv[2]),
                               ImportOptions(crs="wgs84"), progress=say)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "stages": stages,
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "components": figures["components"], "accepted": figures["accepted"],
                  "incremental": figures.get("incremental")}))
"""

_CHECK = r"""
import json, resource, sys, time
from pathlib import Path
from gridkit.components.check import CheckOptions, check_to_geopackage
started = time.perf_counter()
report = check_to_geopackage(Path(sys.argv[1]), CheckOptions())
print(json.dumps({"seconds": time.perf_counter() - started,
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "errors": report["errors"], "warnings": report["warnings"]}))
"""


def _child(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _csv(workdir: Path, rows: int, seed: int, grids: Path) -> Path:
    path = workdir / f"census_{rows}_s{seed}.csv"
    if not path.exists():
        generate_csv(path, rows, grids, seed=seed)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--held", type=int, default=1_000_000, help="components held")
    parser.add_argument("--append", type=int, action="append",
                        help="rows appended (default 100, 10000, 100000)")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = args.append or [100, 10_000, 100_000]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gridkit-store-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        grids = district_grids(workdir)
        base = workdir / f"base_{args.held}.gpkg"
        full_csv = _csv(workdir, args.held, 0, grids)
        shutil.copyfile(grids, workdir / "full.gpkg")
        full = _child(_IMPORT, str(full_csv), str(workdir / "full.gpkg"))
        shutil.move(workdir / "full.gpkg", base)
        started = time.perf_counter()
        shutil.copyfile(base, workdir / "copy.gpkg")
        copy_seconds = time.perf_counter() - started
        (workdir / "copy.gpkg").unlink()
        results = []
        for k, rows in enumerate(sizes):
            work = workdir / "work.gpkg"
            shutil.copyfile(base, work)
            added = _child(_IMPORT, str(_csv(workdir, rows, 10 + k, grids)), str(work))
            entry = {"rows": rows, "seconds": round(added["seconds"], 2),
                     "share_of_full": round(added["seconds"] / full["seconds"], 4),
                     "stages": added["stages"], "components": added["components"],
                     "rows_read": (added["incremental"] or {}).get("rows_read"),
                     "peak_gib": round(added["peak"] / 2**30, 2)}
            if k == 0:
                check = _child(_CHECK, str(work))
                entry["check_seconds"] = round(check["seconds"], 2)
            results.append(entry)
            work.unlink()
        full_check = _child(_CHECK, str(base))
        file_mib = round(base.stat().st_size / 2**20, 1)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report = {"held": full["components"], "full_import_seconds": round(full["seconds"], 2),
              "full_check_seconds": round(full_check["seconds"], 2),
              "file_copy_seconds": round(copy_seconds, 2),
              "file_mib": file_mib,
              "appends": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"full import of {report['held']:,} components: {report['full_import_seconds']:.1f} s"
          f"; census check: {report['full_check_seconds']:.1f} s; copying the file (the floor "
          f"of the old whole-file rewrite): {report['file_copy_seconds']:.1f} s")
    for r in results:
        line = (f"append {r['rows']:>7,} rows: {r['seconds']:6.2f} s = {r['share_of_full']:.1%} "
                f"of the full import; {r['rows_read'] or 0:,} held rows read")
        if "check_seconds" in r:
            line += f"; census check after it {r['check_seconds']:.1f} s"
        print(line)


if __name__ == "__main__":
    main()
