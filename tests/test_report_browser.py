"""The report in a real browser: headless Chromium (Debian's package) driven over the DevTools
protocol. It must load without errors or network requests, draw the map and the figures,
show a grid's BGID when clicked, keep user text as text, and work without the browser's own
gzip (the fallback decoder)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pyogrio
import pytest
import shapely
from test_report_support import COMPONENTS, EVIL, full_gpkg, report

pytest.importorskip("websocket", reason="websocket-client comes with the test extra")

from gridkit.report.browser import Chromium, find_chromium  # noqa: E402


@pytest.fixture(scope="session")
def chromium() -> str:
    """The system's Chromium; installed from Debian (with CJK fonts) when missing."""
    found = find_chromium()
    if found is None:
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            pytest.skip("no chromium, and no root apt-get to install it")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-qq"],
                        ["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"]):
            done = subprocess.run(command, capture_output=True, text=True, env=env,
                                  timeout=900)
            assert done.returncode == 0, done.stderr[-2000:]
        found = find_chromium()
    assert found is not None
    return found


@pytest.fixture(scope="module")
def pages(tmp_path_factory, chromium):
    folder = tmp_path_factory.mktemp("browser")
    gpkg = full_gpkg(folder)
    for lang in ("zh", "en"):
        done = report(gpkg, "-o", folder / f"{lang}.html", "--lang", lang)
        assert done.returncode == 0, done.stderr
    with Chromium(chromium) as browser:
        yield {"browser": browser, "folder": folder, "gpkg": gpkg}


def test_page_loads_offline_draws_the_map_and_figures(pages):
    page = pages["browser"].page()
    seconds = page.open(pages["folder"] / "zh.html")
    assert seconds < 10
    assert page.errors() == []
    assert page.requests() == [(pages["folder"] / "zh.html").resolve().as_uri()]
    # The canvas holds a map: many pixels differ from the background.
    painted = page.evaluate("""(() => {
        const c = document.getElementById('gk-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            const off = Math.abs(d[i] - 251) + Math.abs(d[i + 1] - 251) + Math.abs(d[i + 2] - 248);
            if (off > 30) n++;
        }
        return n / (d.length / 4);
    })()""")
    assert painted > 0.2
    drawn = page.evaluate("gridkitReport.drawn")
    assert drawn["responsibility_grid"] == 83 and drawn["community"] == 34
    assert drawn["component"]["mode"] == "grouped"
    assert drawn["component"]["drawn"] == COMPONENTS
    cards = page.evaluate("document.getElementById('gk-cards').innerText")
    assert "1,806" in cards and f"{COMPONENTS:,}" in cards
    charts = page.evaluate("""Object.fromEntries(['unit-areas', 'responsibility', 'component',
        'event', 'qa', 'spotcheck'].map(id => [id,
        document.querySelectorAll('#' + id + ' svg.chart').length]))""")
    assert all(count >= 1 for count in charts.values()), charts
    page.screenshot(pages["folder"] / "map.png")


def test_a_click_on_a_grid_shows_its_bgid(pages):
    grids = pyogrio.read_dataframe(pages["gpkg"], layer="unit_grid")
    k = 900
    bgid = grids["BGID"].iloc[k]
    inside = shapely.point_on_surface(grids.geometry.iloc[k])
    page = pages["browser"].page()
    page.open(pages["folder"] / "zh.html")
    page.scroll_to("#map")
    page.evaluate(f"gridkitReport.zoomTo({inside.x}, {inside.y}, 2)")
    x, y = page.evaluate(f"gridkitReport.toClient({inside.x}, {inside.y})")
    page.click(x, y)
    heading = page.evaluate("(() => { const h = document.querySelector("
                            "'#gk-info h4[data-layer=\"unit_grid\"]');"
                            " return h && [h.dataset.key, h.textContent]; })()")
    assert heading is not None and heading[0] == bgid and bgid in heading[1]
    info = page.evaluate("document.getElementById('gk-info').innerText")
    assert grids["RGID"].iloc[k] in info  # the responsibility grid under it, too
    # Zoomed in this far, components are single points and the nearest come with the click.
    assert page.evaluate("gridkitReport.drawn.component.mode") == "detail"
    assert page.errors() == []


def test_a_click_on_a_group_lists_it_and_the_nearest_components(pages):
    page = pages["browser"].page()
    page.open(pages["folder"] / "zh.html")
    page.scroll_to("#map")  # the whole canvas in the viewport, where clicks land
    x, y, n = page.evaluate("""(() => {
        const b = gridkitReport.layers.component.bins.list
            .reduce((a, c) => c.n > a.n ? c : a);
        const o = gridkitReport.origin;
        return [...gridkitReport.toClient(b.x + o[0], b.y + o[1]), b.n];
    })()""")
    page.click(x, y)
    headings = page.evaluate("Array.from(document.querySelectorAll('#gk-info h4'))"
                             ".map(h => [h.dataset.layer || '', h.textContent])")
    assert f"{n:,}" in headings[0][1]  # the group and its size come first
    nearest = [h for h in headings if h[0] == "component"]
    assert len(nearest) == 5 and all(len(h[1].split(": ")[1][:16]) == 16 for h in nearest)
    assert page.errors() == []


def test_user_text_stays_text_in_the_page(pages):
    page = pages["browser"].page()
    page.open(pages["folder"] / "zh.html")
    page.evaluate("gridkitReport.find('310116001001')")  # the community named EVIL
    info = page.evaluate("document.getElementById('gk-info').innerText")
    assert EVIL in info
    assert page.evaluate("window.__xss === undefined")
    assert page.evaluate("document.scripts.length") == 3
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.errors() == []


def test_selftest_hook_and_the_fallback_decoder(pages):
    page = pages["browser"].page()
    for query in ("?selftest", "?noStream&selftest"):
        page.open(pages["folder"] / "zh.html", query)
        result = json.loads(page.evaluate("document.getElementById('gk-selftest').textContent"))
        assert result["ok"], result


def test_english_page(pages):
    page = pages["browser"].page()
    page.open(pages["folder"] / "en.html")
    assert page.errors() == []
    text = page.evaluate("document.body.innerText")
    assert "Unit grid areas" in text and "Components" in text
    layers = page.evaluate("document.getElementById('gk-layers').innerText")
    assert "Unit grids (1,806)" in layers
    assert "public facilities" in layers


def test_unit_grid_colouring_and_screenshot(pages):
    page = pages["browser"].page()
    page.open(pages["folder"] / "zh.html")
    page.evaluate("gridkitReport.setUnitColour('COMPONENTS')")
    page.evaluate("gridkitReport.redraw()")
    assert page.evaluate("gridkitReport.drawn.unit_grid_fill") == 1806
    legend = page.evaluate("document.getElementById('gk-layers').innerText")
    assert "0" in legend
    page.scroll_to("#map")
    shot = page.screenshot(Path(pages["folder"]) / "components.png")
    assert shot.stat().st_size > 50_000
    assert page.errors() == []
