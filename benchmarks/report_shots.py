"""Screenshots of the report on the sample district, in Chinese and English, and what they show.

    python benchmarks/report_shots.py                    # PNGs in /tmp/report-shots
    python benchmarks/report_shots.py --out DIR

The district is the report tests' full sample (tests/test_report_support.py: the sample's
partition and grouping with 25,000 components, 600 events, spot-check results, import rejects
and QA issues), with the tests' hostile strings (a ``<script>`` community name and the like)
put back to ordinary text. For each language the page is opened in headless Chromium
(tests/report_browser.py) and captured: the top (title, overview), the map as it opens, a
click on a unit grid, a QA error on the map, the charts, the QA and spot-check sections, and the
whole page. What each shows (title, visible layers, the click panel, table headings) is printed
as JSON beside the file names.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import pyogrio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from report_browser import Chromium  # noqa: E402
from test_report_support import EVIL, full_gpkg, sample_gpkg  # noqa: E402

from gridkit.io import write_geopackage  # noqa: E402
from gridkit.report import build_report  # noqa: E402

# What the tests' hostile strings become, by layer and field.
ORDINARY = {("component", "OBJNAME"): "井盖", ("spotcheck_result", "NOTE"): "",
            ("component_reject", "REASON"): "部件小类不在目录中",
            ("qa_issue", "MESSAGE"): "部件编码的小类与 MINOR 不符"}


def ordinary_sample(folder: Path) -> Path:
    """The full sample with each hostile string replaced (community names from the sample)."""
    gpkg = full_gpkg(folder)
    community = pyogrio.read_dataframe(sample_gpkg(folder / "plain"), layer="community",
                                       read_geometry=False)
    names = community.set_index("CODE")["NAME"]
    streets = community.drop_duplicates("STREET").set_index("STREET")["STREET_NAME"]
    layers = {}
    for layer in ("community", "component", "spotcheck_result", "spotcheck_summary",
                  "component_reject", "qa_issue"):
        frame = pyogrio.read_dataframe(gpkg, layer=layer)
        for column in frame.columns:
            hostile = frame[column].astype(str) == EVIL
            if not hostile.any():
                continue
            if layer == "community":
                frame.loc[hostile, column] = frame.loc[hostile, "CODE"].map(names)
            elif layer == "spotcheck_summary":
                frame.loc[hostile, column] = frame.loc[hostile, "KEY"].map(streets)
            else:
                frame.loc[hostile, column] = ORDINARY[(layer, column)]
        layers[layer] = frame
    write_geopackage(gpkg, layers)
    return gpkg


SHOWS = {
    "title": "document.title",
    "h1": "document.querySelector('h1').textContent",
    "nav": "Array.from(document.querySelectorAll('nav a')).map(a => a.textContent)",
    "cards": "document.getElementById('gk-cards')?.innerText",
    "visible": "gridkitReport.visible()",
    "drawn": "gridkitReport.drawn()",
    "layer_panel": "document.getElementById('gk-layers').innerText",
}


def section_text(anchor: str, lines: int = 14) -> str:
    return (f"document.getElementById('{anchor}')?.innerText.split('\\n')"
            f".filter(Boolean).slice(0, {lines})")


def click_at(page, at: tuple[float, float], metres_per_pixel: float) -> str:
    """Zoom to a map position, click it, scroll the map into view; the click panel's text."""
    page.evaluate(f"gridkitReport.zoomTo({at[0]}, {at[1]}, {metres_per_pixel})")
    x, y = page.evaluate(f"gridkitReport.toClient({at[0]}, {at[1]})")
    page.evaluate(f"gridkitReport.clickAt({x}, {y})")
    page.scroll_to("#map")
    return page.evaluate("document.getElementById('gk-info').innerText")


def capture(page, out: Path, lang: str, error_at: tuple[float, float] | None) -> dict:
    shows: dict = {name: page.evaluate(js) for name, js in SHOWS.items()}
    files = {}
    files["top"] = page.screenshot(out / f"{lang}-1-top.png")
    page.scroll_to("#map")
    files["map"] = page.screenshot(out / f"{lang}-2-map.png")
    # A unit grid clicked at street level: its codes, explained, with the names beside them.
    view = page.evaluate("gridkitReport.view()")
    shows["click"] = click_at(page, (view["cx"], view["cy"]), 1.5)
    files["click"] = page.screenshot(out / f"{lang}-3-click.png")
    # A QA error on the map, in its error colour, clicked.
    if error_at is not None:
        shows["qa_click"] = click_at(page, error_at, 1)
        files["qa_map"] = page.screenshot(out / f"{lang}-4-qa-map.png")
    for number, anchor in ((5, "unit-areas"), (6, "component"), (7, "qa"), (8, "spotcheck")):
        if page.evaluate(f"!!document.getElementById('{anchor}')"):
            page.scroll_to(f"#{anchor}")
            files[anchor] = page.screenshot(out / f"{lang}-{number}-{anchor}.png")
            shows[anchor] = page.evaluate(section_text(anchor))
    page.evaluate("window.scrollTo(0, 0)")
    files["page"] = page.screenshot(out / f"{lang}-9-page.png", full_page=True)
    shows["errors"] = page.errors()
    return {"files": {k: str(v) for k, v in files.items()}, "shows": shows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/report-shots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gridkit-shots-") as tmp:
        folder = Path(tmp)
        (folder / "plain").mkdir()
        gpkg = ordinary_sample(folder)
        qa = pyogrio.read_dataframe(gpkg, layer="qa_issue")
        errors = qa[(qa["SEVERITY"] == "error") & qa.geometry.notna()]
        error_at = None
        if len(errors):
            point = errors.geometry.iloc[0].representative_point()
            error_at = (point.x, point.y)
        result = {}
        with Chromium() as browser:
            for lang in ("zh", "en"):
                html = args.out / f"report-{lang}.html"
                build_report(gpkg, html, lang=lang)
                page = browser.page()
                page.open(html)
                result[lang] = capture(page, args.out, lang, error_at)
                page.close()
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
