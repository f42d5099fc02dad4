"""Report benchmark: the 670 km² district with a million components, in a real browser.

    python benchmarks/report.py                 # build the district, report, open it
    python benchmarks/report.py --json          # the same figures as JSON
    python benchmarks/report.py --keep /tmp/b   # keep (and on later runs reuse) the files
    python benchmarks/report.py --baseline none # without the old page for comparison

Steps: partition ``benchmarks.synthetic.synthetic_communities()`` (190 communities, no
barriers) with gridkit's partition, group it into responsibility grids, add 1,000,000
synthetic component points (national classes, 16-digit codes, states, departments) inside the
unit grids, write the report, then open it in headless Chromium (Debian's ``chromium``; needs
``pip install -e ".[bench]"`` for websocket-client; the DevTools client is tests/report_browser.py)
and measure: file size, load time to the first full map (grids; components start off), a full
redraw at the whole-district and at street level, turning the components on, and a click.
Targets: ≤ 30 MB and ≤ 5 s to open.

The obvious alternative is the report this one replaced: the hand-written canvas map of commit
692f4f9 (``--baseline REV``), built from git history (``git archive``, run in a child process)
on the same GeoPackage. The two pages are opened alternately, ``--rounds`` times each in a fresh
tab of one browser, so both see the same machine load; the medians and ranges are printed.
"Ready" is the moment the DevTools client sees the page's ``gridkitReport.ready`` (the map is
drawn and the page answers a script: what a user feels as "usable"); "drawn" is the page's
own clock (``gridkitReport.readyMs``, from the start of navigation).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the tests' sampler of points inside unit grids

from test_report_support import points_in  # noqa: E402

from benchmarks.synthetic import synthetic_communities  # noqa: E402
from gridkit.codes import national_catalog  # noqa: E402
from gridkit.io import ArrowLayer, write_geopackage  # noqa: E402
from gridkit.partition import PartitionOptions, partition_geopackage  # noqa: E402
from gridkit.report import build_report  # noqa: E402
from gridkit.responsibility import group_geopackage  # noqa: E402

COMPONENTS = 1_000_000
BASELINE = "692f4f9"  # the last commit with the hand-written canvas map (issue 17 replaced it)
STATES = (["完好", "破损", "丢失", "占用"], [0.93, 0.04, 0.01, 0.02])
DEPARTMENTS = ["区建设管理委员会", "区绿化和市容管理局", "区交通委员会", "区水务局",
               "区房屋管理局", "区供电公司", "区通信管理局"]


def district(folder: Path) -> tuple[Path, dict]:
    """The partitioned and grouped district (reused when ``folder`` already has it)."""
    gpkg = folder / "district.gpkg"
    timings: dict = {}
    if gpkg.exists():
        return gpkg, {"reused": True}
    communities = folder / "communities.gpkg"
    synthetic_communities().to_file(communities, driver="GPKG")
    started = time.perf_counter()
    figures = partition_geopackage(gpkg, PartitionOptions(communities))
    timings["partition_s"] = round(time.perf_counter() - started, 1)
    timings["unit_grids"] = figures["unit_grids"]
    started = time.perf_counter()
    grouped = group_geopackage(gpkg)
    timings["group_s"] = round(time.perf_counter() - started, 1)
    timings["responsibility_grids"] = grouped["responsibility_grids"]
    return gpkg, timings


def add_components(gpkg: Path, count: int, seed: int = 0) -> float:
    """``count`` component points inside random unit grids, written as one Arrow layer."""
    import pyogrio

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    grids = pyogrio.read_dataframe(gpkg, layer="unit_grid", columns=["BGID"])
    grid, x, y = points_in(grids, count, rng)
    minors = national_catalog("component").minors()
    # Manhole covers and lamps dominate real censuses; a Zipf-like share per class.
    weights = 1 / np.arange(1, len(minors) + 1) ** 0.9
    klass = rng.choice(len(minors), count, p=weights / weights.sum())
    serial = np.zeros(count, np.int64)
    for k in range(len(minors)):
        chosen = np.flatnonzero(klass == k)
        serial[chosen] = np.arange(1, len(chosen) + 1)
    codes = np.array([m.code for m in minors])
    names = np.array([m.name for m in minors])
    objcode = np.char.add(np.char.add("310116", codes[klass]),
                          np.char.zfill(serial.astype(str), 6))
    dates = rng.integers(19_000, 20_400, count).astype("int32")
    table = pa.table({
        "OBJCODE": pa.array(objcode.astype(object), pa.string()),
        "OBJNAME": pa.array(names[klass].astype(object), pa.string()),
        "MAJOR": pa.array(np.array([c[:2] for c in codes], dtype=object)[klass]),
        "MINOR": pa.array(np.array([c[2:] for c in codes], dtype=object)[klass]),
        "DEPTNAME1": pa.array(np.array(DEPARTMENTS)[klass % len(DEPARTMENTS)].astype(object)),
        "BGID": pa.array(grids["BGID"].to_numpy()[grid].astype(object), pa.string()),
        "OBJSTATE": pa.array(rng.choice(STATES[0], count, p=STATES[1]).astype(object)),
        "ORDATE": pa.array(dates, pa.int32()).cast(pa.date32()),
        "DATASOURCE": pa.array(np.full(count, "实测", dtype=object)),
        "SRCROW": pa.array(np.arange(2, count + 2)),
        "geometry": pa.array(shapely.to_wkb(shapely.points(x, y)), pa.binary()),
    })
    crs = pyogrio.read_info(gpkg, layer="unit_grid")["crs"]
    write_geopackage(gpkg, {"component": ArrowLayer(table, crs=crs, geometry_type="Point")})
    return time.perf_counter() - started


def in_browser(html: Path, shot: Path | None) -> dict:
    from report_browser import Chromium

    with Chromium() as browser:
        page = browser.page()
        loaded = page.open(html, timeout=120)
        figures = {"load_s": round(loaded, 2),
                   "page_ready_ms": round(page.evaluate("gridkitReport.readyMs")),
                   "page_timing_ms": page.evaluate("gridkitReport.timing"),
                   "drawn_whole_district": page.evaluate("gridkitReport.drawn()")}
        figures["redraw_whole_ms"] = round(page.evaluate("gridkitReport.redraw()"), 1)
        view = page.evaluate("gridkitReport.view()")
        # Street level: 0.5 m per pixel around the centre (unit grid outlines on).
        page.evaluate(f"gridkitReport.zoomTo({view['cx']}, {view['cy']}, 0.5)")
        figures["redraw_street_ms"] = round(page.evaluate("gridkitReport.redraw()"), 1)
        figures["drawn_street"] = page.evaluate("gridkitReport.drawn()")
        # The million components, off when the page opens, turned on over the whole district.
        page.evaluate(f"gridkitReport.zoomTo({view['cx']}, {view['cy']}, {view['scale']})")
        started = time.perf_counter()
        page.evaluate("gridkitReport.setVisible('component', true).then(() => "
                      "gridkitReport.map.renderSync())")
        figures["components_on_ms"] = round((time.perf_counter() - started) * 1000)
        figures["redraw_whole_with_components_ms"] = round(
            page.evaluate("gridkitReport.redraw()"), 1)
        page.evaluate(f"gridkitReport.zoomTo({view['cx']}, {view['cy']}, 4)")
        figures["redraw_detail_ms"] = round(page.evaluate("gridkitReport.redraw()"), 1)
        x, y = page.evaluate(f"gridkitReport.toClient({view['cx']}, {view['cy']})")
        started = time.perf_counter()
        page.evaluate(f"gridkitReport.clickAt({x}, {y})")
        figures["click_ms"] = round((time.perf_counter() - started) * 1000)
        figures["click_shows"] = page.evaluate(
            "Array.from(document.querySelectorAll('#gk-info h4')).map(h => h.textContent)"
            ".slice(0, 4)")
        if shot is not None:
            page.evaluate(f"gridkitReport.setVisible('component', false).then(() => "
                          f"gridkitReport.zoomTo({view['cx']}, {view['cy']}, {view['scale']}))")
            page.scroll_to("#map")
            page.screenshot(shot)
        figures["errors"] = page.errors()
        figures["requests"] = sorted({u.split("?")[0] for u in page.requests()})
    return figures


def baseline_report(gpkg: Path, html: Path, rev: str) -> int:
    """The report of commit ``rev`` on ``gpkg``, written to ``html``; returns its bytes."""
    if html.exists():
        return html.stat().st_size
    with tempfile.TemporaryDirectory(prefix="gridkit-baseline-") as tree:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "gridkit"],
                                 check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
        script = ("import sys; from gridkit.report import build_report; "
                  "print(build_report(sys.argv[1], sys.argv[2])['bytes'])")
        subprocess.run([sys.executable, "-c", script, str(gpkg), str(html)], check=True,
                       cwd=tree, env={**os.environ, "PYTHONPATH": tree},
                       stdout=subprocess.DEVNULL)
    return html.stat().st_size


def load_times(pages: dict[str, Path], rounds: int) -> dict:
    """Each page opened ``rounds`` times, alternating: seconds until ready, as seen by the
    DevTools client and by the page's own clock."""
    from report_browser import Chromium

    seen: dict[str, list] = {name: [] for name in pages}
    drawn: dict[str, list] = {name: [] for name in pages}
    read: dict[str, list] = {name: [] for name in pages}
    with Chromium() as browser:
        for _ in range(rounds):
            for name, html in pages.items():
                page = browser.page()
                seen[name].append(page.open(html, timeout=120))
                drawn[name].append(page.evaluate("gridkitReport.readyMs") / 1000)
                # The whole page read (DOMContentLoaded): the new page draws its map before
                # the browser has read the data of the layers it does not draw at the opening.
                read[name].append(page.evaluate(
                    "new Promise((done) => { const t = () => { const n = performance"
                    ".getEntriesByType('navigation')[0]; n && n.domContentLoadedEventEnd > 0 ? "
                    "done(n.domContentLoadedEventEnd) : setTimeout(t, 20); }; t(); })") / 1000)
                page.close()

    def summary(values: list[float]) -> dict:
        return {"median": round(statistics.median(values), 2), "min": round(min(values), 2),
                "max": round(max(values), 2)}

    return {name: {"ready_s": summary(seen[name]), "drawn_s": summary(drawn[name]),
                   "read_s": summary(read[name])}
            for name in pages}


def raster_ms(html: Path, rounds: int) -> list[int]:
    """Milliseconds the browser spent rasterising canvases while ``html`` opened (a DevTools
    trace of each load: ``CanvasRenderingContext2D::FinalizeFrame`` on the page's main thread,
    until the page is ready and 0.5 s after)."""
    from report_browser import Chromium

    spent = []
    with Chromium() as browser:
        for _ in range(rounds):
            page = browser.page()
            page.send("Tracing.start", {"traceConfig": {"includedCategories": [
                "devtools.timeline", "disabled-by-default-devtools.timeline", "blink"]},
                "transferMode": "ReportEvents"})
            page.open(html, timeout=120)
            time.sleep(0.5)
            page.send("Tracing.end")
            events: list[dict] = []
            while True:
                message = json.loads(browser.ws.recv())
                if message.get("method") == "Tracing.dataCollected":
                    events += message["params"]["value"]
                elif message.get("method") == "Tracing.tracingComplete":
                    break
            events += [e for m in browser.events if m.get("method") == "Tracing.dataCollected"
                       for e in m["params"]["value"]]
            browser.events.clear()
            threads = {(e["pid"], e["tid"]) for e in events if e.get("ph") == "M"
                       and e.get("name") == "thread_name"
                       and e["args"].get("name") == "CrRendererMain"}
            spent.append(round(sum(e.get("dur", 0) for e in events
                                   if (e.get("pid"), e.get("tid")) in threads
                                   and e.get("name") == "CanvasRenderingContext2D::FinalizeFrame")
                               / 1000))
            page.close()
    return spent


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", type=Path, help="folder to keep (and reuse) the files in")
    parser.add_argument("--components", type=int, default=COMPONENTS)
    parser.add_argument("--baseline", default=BASELINE,
                        help=f"git revision of the old report to compare with (default "
                             f"{BASELINE}), or 'none'")
    parser.add_argument("--rounds", type=int, default=5, help="page loads of each report")
    parser.add_argument("--raster", type=int, default=0, metavar="N",
                        help="also trace N loads of the new page: canvas rasterising time")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="gridkit-report-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    gpkg, steps = district(folder)
    if not steps.get("reused"):
        steps["components_s"] = round(add_components(gpkg, args.components), 1)
    html = folder / "report.html"
    started = time.perf_counter()
    result = build_report(gpkg, html)
    report_s = time.perf_counter() - started
    browser = in_browser(html, folder / "report.png")
    pages = {"report": html}
    sizes = {"report": result["bytes"]}
    if args.baseline != "none":
        old = folder / f"baseline-{args.baseline}.html"
        sizes["baseline"] = baseline_report(gpkg, old, args.baseline)
        pages["baseline"] = old
    load_before = load_average()
    loads = load_times(pages, args.rounds)
    raster = raster_ms(html, args.raster) if args.raster else []
    machine_load = f"{load_before} before, {load_average()} after"
    figures = {
        "machine": f"{platform.processor() or platform.machine()}, Python "
                   f"{platform.python_version()}",
        "district": steps,
        "layers": result["layers"],
        "report_write_s": round(report_s, 1),
        "report_mb": round(result["bytes"] / 1e6, 1),
        "report_mib": result["megabytes"],
        "browser": browser,
        "bytes": sizes,
        "loads": loads,
        "raster_ms": raster,
        "load_average": machine_load,
        "targets": {"size_ok": result["bytes"] <= 30e6, "load_ok": browser["load_s"] <= 5,
                    **({"no_larger_than_baseline": sizes["report"] <= sizes["baseline"],
                        "no_slower_than_baseline": loads["report"]["ready_s"]["median"]
                        <= loads["baseline"]["ready_s"]["median"]}
                       if "baseline" in loads else {})},
        "files": str(folder),
    }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    print(f"district: {result['layers'].get('unit_grid', 0):,} unit grids, "
          f"{result['layers'].get('responsibility_grid', 0):,} responsibility grids, "
          f"{result['layers'].get('component', 0):,} components  {steps}")
    print(f"report: {figures['report_mb']} MB written in {figures['report_write_s']} s "
          f"(target ≤ 30 MB)")
    print(f"browser: ready in {browser['load_s']} s (page's own clock "
          f"{browser['page_ready_ms']} ms; target ≤ 5 s); redraw whole "
          f"{browser['redraw_whole_ms']} ms, street {browser['redraw_street_ms']} ms; "
          f"components on {browser['components_on_ms']} ms, whole redraw with them "
          f"{browser['redraw_whole_with_components_ms']} ms, detail "
          f"{browser['redraw_detail_ms']} ms; click {browser['click_ms']} ms")
    print(f"click shows: {browser['click_shows']}")
    print(f"errors: {browser['errors'] or 'none'}; requests: {browser['requests']}")
    for name, figures_of in loads.items():
        label = name if name == "report" else f"baseline {args.baseline}"
        print(f"{label}: {sizes[name]:,} B; ready (DevTools client) "
              f"{figures_of['ready_s']['median']} s median "
              f"[{figures_of['ready_s']['min']}–{figures_of['ready_s']['max']}], drawn "
              f"(page's clock) {figures_of['drawn_s']['median']} s "
              f"[{figures_of['drawn_s']['min']}–{figures_of['drawn_s']['max']}], whole page "
              f"read {figures_of['read_s']['median']} s "
              f"[{figures_of['read_s']['min']}–{figures_of['read_s']['max']}] "
              f"over {args.rounds} alternating loads")
    if raster:
        print(f"canvas rasterising while the page opens (DevTools trace): {raster} ms")
    print(f"load average: {machine_load}; machine: {figures['machine']}, {os.cpu_count()} CPUs")
    print(f"files in {folder}")


if __name__ == "__main__":
    main()
