"""Which map library for the report: deck.gl (WebGL) against OpenLayers (2D canvas) in headless
Chromium without a GPU (software WebGL, SwiftShader), as CI and a server see the page.

    npm install --prefix /tmp/deck deck.gl@9.4.0         # deck.gl is not vendored: fetch it
    python benchmarks/report_renderers.py --deck /tmp/deck/node_modules/deck.gl/dist.min.js

Draws the same scenes with both: 2,000 closed outlines of 11 vertices (22,000 segments, like
unit grid outlines at street level) and 100,000 points, three redraws each, and prints the
median milliseconds per redraw. OpenLayers is the vendored build the report ships
(gridkit/report/static/vendor); its points go through an image layer as in the report.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the DevTools client the report tests use

from report_browser import Chromium  # noqa: E402

sys.path.insert(0, str(ROOT))
from gridkit.report.page import LIBRARY  # noqa: E402

SCENE = """
const n = 2000, rings = [];
for (let i = 0; i < n; i++) {
  const cx = (i % 45) * 100, cy = Math.floor(i / 45) * 100, ring = [];
  for (let k = 0; k <= 10; k++) {
    const a = k / 10 * 2 * Math.PI;
    ring.push([cx + 40 * Math.cos(a), cy + 40 * Math.sin(a)]);
  }
  rings.push(ring);
}
const points = new Float64Array(200000).map(() => Math.random() * 4500);
"""

DECK = """
const {Deck, OrthographicView, PathLayer, ScatterplotLayer} = deck;
const layer = (kind) => kind === 'lines'
  ? new PathLayer({id: 'l', data: rings, getPath: (d) => d, getWidth: 1, widthUnits: 'pixels',
                   getColor: [0, 0, 0, 255]})
  : new ScatterplotLayer({id: 's', data: {length: 100000, attributes: {getPosition:
      {value: new Float32Array(points), size: 2}}}, getRadius: 2, radiusUnits: 'pixels',
      getFillColor: [0, 0, 200, 255]});
const map = new Deck({parent: document.getElementById('box'),
  views: new OrthographicView({flipY: false}), initialViewState: {target: [2250, 2250, 0],
  zoom: -2.2}, layers: []});
window.prepare = (kind) => new Promise((done) => {
  map.setProps({layers: [layer(kind)], onAfterRender: () => done()});
});
window.draw = () => {
  const t = performance.now();
  map.redraw('bench');
  const gl = map.device.gl;
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  return performance.now() - t;
};
"""

OPENLAYERS = """
const source = new ol.source.Vector({features: rings.map((r) =>
  new ol.Feature(new ol.geom.Polygon([r])))});
const lines = new ol.layer.Vector({source, style: new ol.style.Style({stroke:
  new ol.style.Stroke({color: '#000', width: 1})})});
const canvas = document.createElement('canvas');
const dots = new ol.layer.Image({source: new ol.source.ImageCanvas({ratio: 1,
  canvasFunction(extent, resolution, ratio, size) {
    const [w, h] = size.map(Math.round);
    canvas.width = w; canvas.height = h;
    const c = canvas.getContext('2d'), img = c.createImageData(w, h);
    const px = new Uint32Array(img.data.buffer), s = ratio / resolution;
    for (let i = 0; i < 100000; i++) {
      const x = Math.round((points[2 * i] - extent[0]) * s);
      const y = Math.round((extent[3] - points[2 * i + 1]) * s);
      if (x >= 0 && y >= 0 && x < w && y < h) px[y * w + x] = 0xffc80000;
    }
    c.putImageData(img, 0, 0);
    return canvas;
  }})});
const map = new ol.Map({target: 'box', layers: [], controls: [], view: new ol.View({
  projection: new ol.proj.Projection({code: 'M', units: 'm'}), center: [2250, 2250],
  resolution: 4.6})});
window.prepare = (kind) => {
  map.setLayers([kind === 'lines' ? lines : dots]);
  map.renderSync();
};
window.draw = (kind) => {
  (kind === 'lines' ? source : dots.getSource()).changed();
  const t = performance.now();
  map.renderSync();
  return performance.now() - t;
};
"""


def page(folder: Path, name: str, library: Path, glue: str) -> Path:
    html = folder / f"{name}.html"
    html.write_text(
        '<!DOCTYPE html><html><body><div id="box" style="width:1100px;height:700px;'
        f'position:relative"></div><script src="{library.resolve().as_uri()}"></script>'
        f"<script>{SCENE}{glue}window.ready = true;</script></body></html>", encoding="utf-8")
    return html


def measure(browser: Chromium, html: Path) -> dict:
    tab = browser.page()
    tab.send("Page.navigate", {"url": html.as_uri()})
    deadline = time.monotonic() + 120
    while not tab.evaluate("window.ready === true"):
        if time.monotonic() > deadline:
            raise TimeoutError(html)
        time.sleep(0.05)
    out = {}
    for kind in ("lines", "points"):
        tab.evaluate(f"prepare('{kind}')", timeout=600)  # first draw: set-up, shaders
        times = [tab.evaluate(f"draw('{kind}')", timeout=600) for _ in range(3)]
        out[kind] = round(statistics.median(times))
    out["errors"] = tab.errors()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deck", type=Path, required=True, help="deck.gl's dist.min.js")
    args = parser.parse_args()
    vendored = ROOT / "gridkit/report/static/vendor" / LIBRARY
    with tempfile.TemporaryDirectory() as folder, Chromium() as browser:
        browser.ws.settimeout(900)  # software WebGL frames can take minutes on a busy machine
        results = {
            "deck.gl (WebGL)": measure(browser, page(Path(folder), "deck", args.deck, DECK)),
            f"OpenLayers {vendored.stem[3:]} (canvas)": measure(
                browser, page(Path(folder), "ol", vendored, OPENLAYERS)),
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
