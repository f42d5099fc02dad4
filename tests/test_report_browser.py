"""The report in a real browser: headless Chromium (Debian's package) driven over the DevTools
protocol (tests/report_browser.py). It must load without errors or network requests, draw the
map (OpenLayers, unpacked from the page) and the figures, open on the grids with points off,
show a grid's codes and names when clicked, and keep user text as text.

No test installs anything: without Chromium these tests skip and say what to install
(``.ci/run`` installs it for CI)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyogrio
import pytest
import shapely
from test_report_support import COMPONENTS, EVIL, full_gpkg

pytest.importorskip("websocket", reason="websocket-client comes with the test extra")

from report_browser import Chromium, find_chromium  # noqa: E402

from gridkit.report import build_report  # noqa: E402

INSTALL = "apt-get install -y chromium fonts-noto-cjk"


@pytest.fixture(scope="session")
def chromium() -> str:
    """The system's Chromium; the tests skip (naming the install command) without one."""
    found = find_chromium()
    if found is None:
        pytest.skip(f"no Chromium on this machine: {INSTALL} (as root; .ci/run does it)")
    return found


@pytest.fixture(scope="module")
def pages(tmp_path_factory, chromium):
    folder = tmp_path_factory.mktemp("browser")
    gpkg = full_gpkg(folder)
    for lang in ("zh", "en"):
        build_report(gpkg, folder / f"{lang}.html", lang=lang)
    with Chromium(chromium) as browser:
        yield {"browser": browser, "folder": folder, "gpkg": gpkg}


def info_headings(page, timeout: float = 5) -> list[list[str]]:
    """The headings of the click panel, once OpenLayers has told a click from a double click."""
    script = ("Array.from(document.querySelectorAll('#gk-info h4'))"
              ".map(h => [h.dataset.layer || '', h.dataset.key || '', h.textContent])")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        headings = page.evaluate(script)
        if headings:
            return headings
        time.sleep(0.05)
    return []


def test_page_loads_offline_and_opens_on_the_grids(pages):
    page = pages["browser"].page()
    seconds = page.open(pages["folder"] / "zh.html")
    assert seconds < 20
    assert page.errors() == []
    html = (pages["folder"] / "zh.html").resolve().as_uri()
    requests = page.requests()
    # The page itself, and the worker that unpacks the map data, from a blob: URL; nothing else.
    assert requests[0] == html and len(requests) == 2 and requests[1].startswith("blob:")
    assert page.evaluate("gridkitUnpack.where") == "worker"
    assert page.evaluate("gridkitReport.painted()") > 0.2
    drawn = page.evaluate("gridkitReport.drawn()")
    assert drawn["responsibility_grid"] == 71 and drawn["community"] == 34
    assert drawn["unit_grid"] == 1491 and drawn["context_road"] > 500
    assert "component" not in drawn and "event" not in drawn  # points start off
    # Buildings from street level on: not even made into features before.
    assert "context_building" not in drawn
    assert "context_building" not in page.evaluate("gridkitReport.loaded()")
    view = page.evaluate("gridkitReport.view()")
    page.evaluate(f"gridkitReport.zoomTo({view['cx']}, {view['cy']}, 2)")
    buildings = pyogrio.read_info(pages["gpkg"], layer="context_building")["features"]
    assert page.evaluate("gridkitReport.drawn()")["context_building"] == buildings
    visible = page.evaluate("gridkitReport.visible()")
    assert visible["component"] is False and visible["unit_grid"] is True
    cards = page.evaluate("document.getElementById('gk-cards').innerText")
    assert "1,491" in cards and f"{COMPONENTS:,}" in cards
    charts = page.evaluate("""Object.fromEntries(['unit-areas', 'responsibility', 'component',
        'event', 'qa', 'spotcheck'].map(id => [id,
        document.querySelectorAll('#' + id + ' svg.chart').length]))""")
    assert all(count >= 1 for count in charts.values()), charts


def test_a_click_on_a_grid_shows_its_codes_with_names(pages):
    grids = pyogrio.read_dataframe(pages["gpkg"], layer="unit_grid")
    community = pyogrio.read_dataframe(pages["gpkg"], layer="community", read_geometry=False)
    k = 900
    bgid = grids["BGID"].iloc[k]
    row = community[community["CODE"] == bgid[:12]].iloc[0]
    inside = shapely.point_on_surface(grids.geometry.iloc[k])
    page = pages["browser"].page()
    page.open(pages["folder"] / "zh.html")
    page.scroll_to("#map")
    page.evaluate(f"gridkitReport.zoomTo({inside.x}, {inside.y}, 2)")
    x, y = page.evaluate(f"gridkitReport.toClient({inside.x}, {inside.y})")
    page.click(x, y)
    headings = info_headings(page)
    unit = [h for h in headings if h[0] == "unit_grid"]
    assert unit and unit[0][1] == bgid and bgid in unit[0][2]
    layers = [h[0] for h in headings]
    assert layers.index("unit_grid") < layers.index("responsibility_grid") \
        < layers.index("community")
    info = page.evaluate("document.getElementById('gk-info').innerText")
    assert grids["RGID"].iloc[k] in info  # the responsibility grid under it, too
    # Names beside codes: the community's and the street's, in the fields and the BGID.
    assert f"{bgid[:12]} {row['NAME']}" in info
    assert f"{bgid[:9]} {row['STREET_NAME']}" in info
    assert page.errors() == []


def test_components_turned_on_are_drawn_and_clicked(pages):
    components = pyogrio.read_dataframe(pages["gpkg"], layer="component")
    target = components.iloc[123]
    page = pages["browser"].page()
    page.open(pages["folder"] / "zh.html")
    page.scroll_to("#map")
    page.evaluate("document.querySelector('#gk-layers input[data-layer=component]').click()")
    assert page.evaluate("gridkitReport.drawn().then(d => d.component)") == COMPONENTS
    px, py = target.geometry.x, target.geometry.y
    page.evaluate(f"gridkitReport.zoomTo({px}, {py}, 0.2)")
    x, y = page.evaluate(f"gridkitReport.toClient({px}, {py})")
    page.click(x, y)
    nearest = [h for h in info_headings(page) if h[0] == "component"]
    assert nearest and nearest[0][1] == target["OBJCODE"]
    assert all(len(h[1]) == 16 for h in nearest)
    info = page.evaluate("document.getElementById('gk-info').innerText")
    assert "310116" in info and target["OBJNAME"] in info
    assert page.errors() == []


def test_a_click_on_a_qa_issue_names_its_rule(pages):
    """The rule in words in the page's language, its id in small type beside it."""
    qa = pyogrio.read_dataframe(pages["gpkg"], layer="qa_issue")
    issue = qa[qa["RULE"] == "objcode-class"].iloc[0]
    page = pages["browser"].page()
    page.open(pages["folder"] / "zh.html")
    at = issue.geometry
    page.evaluate(f"gridkitReport.zoomTo({at.x}, {at.y}, 0.5)")
    x, y = page.evaluate(f"gridkitReport.toClient({at.x}, {at.y})")
    page.evaluate(f"gridkitReport.clickAt({x}, {y})")
    # Under the point, the issue on the component (and the district's issues drawn as areas).
    heading = page.evaluate("""(() => { const h = document.querySelector(
        '#gk-info h4[data-layer=qa_issue][data-key=objcode-class]'); return h && [h.textContent,
        h.querySelector('small.rule-id').textContent, Array.from(h.nextElementSibling
        .querySelectorAll('dt')).find((dt) => dt.textContent === 'RULE')
        .nextElementSibling.textContent]; })()""")
    assert heading[:2] == ["质检问题: 标识码与部件类别不符 objcode-class", "objcode-class"], heading
    rule = heading[2]
    assert rule == "标识码与部件类别不符 objcode-class"
    assert page.errors() == []


def test_user_text_stays_text_in_the_page(pages):
    page = pages["browser"].page()
    page.open(pages["folder"] / "zh.html")
    assert page.evaluate("gridkitReport.find('310116001001')")  # the community named EVIL
    info = page.evaluate("document.getElementById('gk-info').innerText")
    assert EVIL in info
    assert page.evaluate("window.__xss === undefined")
    # The page's own: header, five pieces of data (opening layers, unit grids, buildings,
    # events, components) each with the script handing it on, the map library with its glue.
    assert page.evaluate("document.scripts.length") == 2 + 2 * 5
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.errors() == []


def test_selftest_hook(pages):
    page = pages["browser"].page()
    page.open(pages["folder"] / "zh.html", "?selftest")
    result = json.loads(page.evaluate("document.getElementById('gk-selftest').textContent"))
    assert result["ok"], result


def test_english_page(pages):
    page = pages["browser"].page()
    page.open(pages["folder"] / "en.html")
    assert page.errors() == []
    text = page.evaluate("document.body.innerText")
    assert "Unit grid areas" in text and "Components" in text
    layers = page.evaluate("document.getElementById('gk-layers').innerText")
    assert "Unit grids (1,491)" in layers
    assert "public facilities" in layers and "Buildings (context)" in layers


def test_unit_grid_colouring_and_screenshot(pages):
    page = pages["browser"].page()
    page.open(pages["folder"] / "zh.html")
    page.evaluate("gridkitReport.setUnitColour('COMPONENTS')")
    assert page.evaluate("gridkitReport.redraw()") < 10_000
    assert page.evaluate("gridkitReport.drawn().then(d => d.unit_grid)") == 1491
    legend = page.evaluate("document.getElementById('gk-layers').innerText")
    assert "≥ 50" in legend and "1–4" in legend
    page.scroll_to("#map")
    shot = page.screenshot(Path(pages["folder"]) / "components.png")
    assert shot.stat().st_size > 50_000
    assert page.errors() == []


@pytest.mark.parametrize("worker", [True, False], ids=["worker", "no-worker"])
def test_data_in_pieces_unpacks_with_or_without_a_worker(pages, monkeypatch, worker):
    """A large page's data comes in pieces fed to a worker as the page is read (a 1 M
    component page has ten); without workers the page inflates them itself, to the same map."""
    from gridkit.report import page as page_module

    monkeypatch.setattr(page_module, "PIECE", 4096)
    html = pages["folder"] / "pieces.html"
    if not html.exists():
        build_report(pages["gpkg"], html, lang="zh")
    text = html.read_text(encoding="utf-8")
    count = text.count('type="application/octet-stream"')
    assert count > 5
    # Header, the pieces, a feeding script after each piece, the glue.
    assert text.count("<script") == 2 * count + 2
    page = pages["browser"].page()
    if not worker:
        page.send("Page.addScriptToEvaluateOnNewDocument",
                  {"source": "delete window.Worker; window.Worker = undefined;"})
    page.open(html)
    assert page.errors() == []
    assert page.evaluate("gridkitUnpack.where") == ("worker" if worker else "page")
    drawn = page.evaluate("gridkitReport.drawn()")
    for layer in ("responsibility_grid", "community", "unit_grid"):
        assert drawn[layer] == pyogrio.read_info(pages["gpkg"], layer=layer)["features"]
    assert page.evaluate("gridkitReport.find('310116001001')")
    assert EVIL in page.evaluate("document.getElementById('gk-info').innerText")
