"""Census import benchmark: gridkit against the naive geopandas path, up to Shanghai's scale.

    python benchmarks/census.py                      # 1,000,000 rows and 11,340,000 rows
    python benchmarks/census.py --rows 1000000       # one size only
    python benchmarks/census.py --json               # the same figures as JSON

The district is the synthetic 670 km² one of ``benchmarks/synthetic.py`` (190 communities),
cut by ``gridkit.partition.partition`` into ~67,000 unit grids. Census CSVs are generated from
those grids: positions uniform inside the grids (WGS-84 longitude/latitude, 7 decimals), class
names drawn from 20 common classes with survey-like spelling, 30% of the rows carrying a valid
existing OBJCODE, the usual attribute columns, a unique photo name per row and one extra column
(调查员). Each import runs in a child process (``gridkit census import`` as a user runs it,
through the real CLI) so that its peak memory (ru_maxrss) is its own.

The naive path is what a GIS analyst writes first: ``pandas.read_csv`` → GeoDataFrame →
``to_crs`` → ``geopandas.sjoin(predicate="within")`` → ``to_file`` (GeoPackage). It does less
(no codes, no checks, no rejects) and is measured at 1,000,000 rows only: its peak memory there
(about 2.3 GiB, mostly Python string objects) grows with the rows, so 11.34 million would not
fit the 12 GiB budget; the report says it was not run at that size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyproj
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import synthetic_communities  # noqa: E402

SHANGHAI = 11_340_000
# Shanghai's 16 districts (GB/T 2260): the synthetic district's streets are spread over them,
# so that, as in the city, no county/class holds more components than a six-digit serial can
# number (999,999).
COUNTIES = ["310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112",
            "310113", "310114", "310115", "310116", "310117", "310118", "310120", "310151"]
CLASSES = [  # (name as surveyors write it, weight)
    ("行道树", 30), ("路灯", 12), ("污水井盖", 8), ("雨水箅子", 8), ("雨水井盖", 6),
    ("上水井盖", 5), ("电力井盖", 4), ("通讯井盖", 4), ("燃气井盖", 2), ("垃圾箱", 3),
    ("立杆", 4), ("交通标志牌", 2), ("消防设施", 1), ("公交站亭", 0.5), ("隔离护栏", 1),
    ("井盖(污水)", 1), ("路灯 ", 1), ("电话亭", 0.3), ("绿地", 1), ("停车场", 0.3),
]
CODES = {"行道树": "0402", "路灯": "0118", "污水井盖": "0102", "雨水箅子": "0104",
         "雨水井盖": "0103", "上水井盖": "0101", "电力井盖": "0105", "通讯井盖": "0107",
         "燃气井盖": "0111", "垃圾箱": "0305"}
DEPTS = ["区绿化和市容管理局", "区建设和管理委员会", "区水务局", "区交通委员会", "供电公司"]
OWNERS = ["区路政所", "自来水公司", "排水公司", "电信公司", "燃气公司", "街道办事处"]
STATES = ["完好"] * 17 + ["破损", "丢失", "占用"]


def district_grids(workdir: Path) -> Path:
    """The synthetic district's unit grids in a GeoPackage (cached in ``workdir``)."""
    target = workdir / "district.gpkg"
    if target.exists():
        return target
    from gridkit.io import run_record, write_geopackage
    from gridkit.partition import partition

    started = time.perf_counter()
    result = partition(synthetic_communities())
    streets = sorted(set(result.communities["STREET"]))
    county = {street: COUNTIES[k % len(COUNTIES)] for k, street in enumerate(streets)}
    communities, grids = result.communities.copy(), result.unit_grids.copy()
    for frame, fields in ((communities, ("CODE", "STREET")),
                          (grids, ("BGID", "COMMUNITY", "STREET"))):
        prefix = frame["STREET"].map(county)
        for field in fields:
            frame[field] = prefix + frame[field].str[6:]
    write_geopackage(target, {"community": communities, "unit_grid": grids},
                     run_record("partition", {"benchmark": True}, []))
    print(f"district: {len(result.unit_grids):,} unit grids in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    return target


def _sampler(grids_path: Path):
    """Uniform points inside the unit grids: area-weighted triangles, barycentric sampling."""
    import pyogrio

    grids = pyogrio.read_dataframe(grids_path, layer="unit_grid")
    triangles, owner = shapely.get_parts(shapely.constrained_delaunay_triangles(
        np.asarray(grids.geometry.array)), return_index=True)
    coords = shapely.get_coordinates(triangles).reshape(-1, 4, 2)[:, :3]
    area = shapely.area(triangles)
    weights = area / area.sum()
    county = grids["BGID"].str[:6].to_numpy(dtype=object)[owner]
    return coords, weights, county, grids.crs


def generate_csv(path: Path, rows: int, grids_path: Path, seed: int = 0) -> None:
    coords, weights, counties, crs = _sampler(grids_path)
    to_lonlat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    rng = np.random.default_rng(seed)
    names = np.array([n for n, _ in CLASSES], dtype=object)
    p = np.array([w for _, w in CLASSES], float)
    p /= p.sum()
    serial: dict[str, int] = {}
    writer = None
    chunk = 1_000_000
    try:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            picked = rng.choice(len(coords), n, p=weights)
            tri = coords[picked]
            u, v = rng.random(n), rng.random(n)
            flip = u + v > 1
            u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
            xy = tri[:, 0] + u[:, None] * (tri[:, 1] - tri[:, 0]) + v[:, None] * (tri[:, 2] -
                                                                                  tri[:, 0])
            lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
            klass = names[rng.choice(len(names), n, p=p)]
            codes = np.full(n, "", dtype=object)
            coded = np.flatnonzero(rng.random(n) < 0.3)
            for k in coded:
                code = CODES.get(klass[k])
                if code:
                    group = counties[picked[k]] + code
                    serial[group] = serial.get(group, 0) + 1
                    codes[k] = f"{group}{serial[group]:06d}"
            ids = pa.array(np.arange(start, start + n))
            table = pa.table({
                "标识码": pa.array(codes, pa.string()),
                "部件名称": pa.array(klass, pa.string()),
                "经度": pc.cast(pa.array(np.round(lon, 7)), pa.string()),
                "纬度": pc.cast(pa.array(np.round(lat, 7)), pa.string()),
                "主管部门": pa.array(np.array(DEPTS, dtype=object)[rng.integers(0, len(DEPTS),
                                                                                n)]),
                "权属单位": pa.array(np.array(OWNERS, dtype=object)[rng.integers(0, len(OWNERS),
                                                                                 n)]),
                "养护单位": pa.array(np.full(n, "区市政养护公司", dtype=object)),
                "状态": pa.array(np.array(STATES, dtype=object)[rng.integers(0, len(STATES), n)]),
                "初始时间": pc.strftime(pa.array(np.datetime64("2011-03-01") + rng.integers(
                    0, 400, n).astype("timedelta64[D]")), "%Y-%m-%d"),
                "数据来源": pa.array(np.full(n, "实测", dtype=object)),
                "备注": pa.array(np.where(rng.random(n) < 0.05, "靠近路口", ""), pa.string()),
                "照片": pc.binary_join_element_wise("IMG_", pc.cast(ids, pa.string()), ".jpg", ""),
                "调查员": pa.array(np.array(["张伟", "王芳", "李娜", "刘洋"], dtype=object)[
                    rng.integers(0, 4, n)]),
            })
            if writer is None:
                writer = pacsv.CSVWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


_CHILD = r"""
import json, resource, subprocess, sys, time
from click.testing import CliRunner
from gridkit.cli import main
started = time.perf_counter()
result = CliRunner().invoke(main, sys.argv[1:], catch_exceptions=False)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
out = json.loads(result.output) if result.exit_code == 0 else {"error": result.output}
print(json.dumps({"seconds": seconds, "peak_bytes": peak, "exit": result.exit_code,
                  "figures": out}))
"""

_NAIVE = r"""
import json, resource, sys, time
import geopandas as gpd, pandas as pd, pyogrio
csv, grids_path, out = sys.argv[1:4]
started = time.perf_counter()
frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["经度"].astype(float),
                                                              frame["纬度"].astype(float)),
                          crs=4326)
grids = gpd.read_file(grids_path, layer="unit_grid")[["BGID", "geometry"]]
points = points.to_crs(grids.crs)
joined = gpd.sjoin(points, grids, how="left", predicate="within")
joined.drop(columns="index_right").to_file(out, layer="component", driver="GPKG")
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds,
                  "peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "rows": len(joined)}))
"""


def _child(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_size(rows: int, workdir: Path, grids_path: Path, naive: bool) -> dict:
    csv = workdir / f"census_{rows}.csv"
    if not csv.exists():
        started = time.perf_counter()
        generate_csv(csv, rows, grids_path)
        print(f"generated {rows:,} rows ({csv.stat().st_size / 2**20:,.0f} MiB) in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    out = workdir / f"out_{rows}.gpkg"
    shutil.copyfile(grids_path, out)
    figures = _child(_CHILD, "census", "import", str(csv), "-o", str(out), "--crs", "wgs84",
                     "--json")
    if figures["exit"] != 0:
        raise RuntimeError(figures["figures"])
    f = figures["figures"]
    result = {
        "rows": rows,
        "csv_mib": round(csv.stat().st_size / 2**20, 1),
        "gridkit_seconds": round(figures["seconds"], 1),
        "gridkit_peak_gib": round(figures["peak_bytes"] / 2**30, 2),
        "accepted": f["accepted"], "rejected": f["rejected"], "balanced": f["balanced"],
        "codes": f["codes"], "duplicates": f["duplicates"],
        "output_mib": round(out.stat().st_size / 2**20, 1),
    }
    out.unlink()
    if naive:
        naive_out = workdir / f"naive_{rows}.gpkg"
        naive_out.unlink(missing_ok=True)
        measured = _child(_NAIVE, str(csv), str(grids_path), str(naive_out))
        naive_out.unlink(missing_ok=True)
        result["naive_seconds"] = round(measured["seconds"], 1)
        result["naive_peak_gib"] = round(measured["peak_bytes"] / 2**30, 2)
        result["naive_over_gridkit"] = round(measured["seconds"] / figures["seconds"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, action="append",
                        help=f"census rows (default: 1,000,000 and {SHANGHAI:,})")
    parser.add_argument("--workdir", type=Path, help="keep generated files here (reused)")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive path")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = args.rows or [1_000_000, SHANGHAI]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gridkit-census-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        grids_path = district_grids(workdir)
        results = [run_size(n, workdir, grids_path, naive=not args.no_naive and n <= 1_000_000)
                   for n in sizes]
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()},
              "results": results}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for r in results:
        line = (f"{r['rows']:>11,} rows ({r['csv_mib']:,.0f} MiB CSV): gridkit "
                f"{r['gridkit_seconds']:.1f} s, peak {r['gridkit_peak_gib']:.2f} GiB; "
                f"{r['accepted']:,} accepted + {r['rejected']:,} rejected")
        if "naive_seconds" in r:
            line += (f"; naive {r['naive_seconds']:.1f} s, peak {r['naive_peak_gib']:.2f} GiB "
                     f"({r['naive_over_gridkit']:.1f}× slower, and it codes/checks nothing)")
        else:
            line += "; naive path not run at this size (measured at 1,000,000 rows)"
        print(line)


if __name__ == "__main__":
    main()
