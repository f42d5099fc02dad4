"""Open a report in a local headless Chromium and look at it, for the tests and the benchmark.

Drives Chromium through the DevTools protocol on a websocket (``websocket-client``, installed
with the ``test`` and ``bench`` extras): load time, console errors, clicks through the real
input path, screenshots. Nothing is downloaded; the browser is the system's (Debian package
``chromium``). Not used by the report itself.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

# Flags this machine and CI need: no sandbox as root, no GPU, and no background traffic.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio")


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    """One headless browser with a fresh profile; use as a context manager."""

    def __init__(self, binary: str | None = None, width: int = 1400, height: int = 1000):
        import websocket  # the test/bench dependency, imported only here

        self._websocket = websocket
        binary = binary or find_chromium()
        if binary is None:
            raise RuntimeError("no chromium found: apt-get install -y chromium")
        self.profile = tempfile.mkdtemp(prefix="gridkit-chromium-")
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=60,
                                              suppress_origin=True, enable_multithread=False)
        self._id = 0
        self.events: list[dict] = []

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            if getattr(self, "ws", None) is not None:
                self.ws.close()
        finally:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise TimeoutError(method)

    def page(self, width: int = 1400, height: int = 1000) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        page = Page(self, session, target)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.send(f"{domain}.enable")
        page.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        return page


class Page:
    def __init__(self, browser: Chromium, session: str, target: str | None = None):
        self.browser = browser
        self.session = session
        self.target = target

    def close(self) -> None:
        """Close the tab (a benchmark opening a page many times keeps one browser)."""
        if self.target is not None:
            self.browser.send("Target.closeTarget", {"targetId": self.target})

    def send(self, method: str, params: dict | None = None, timeout: float = 60) -> dict:
        return self.browser.send(method, params, self.session, timeout)

    def events(self, method: str) -> list[dict]:
        return [e["params"] for e in self.browser.events
                if e.get("sessionId") == self.session and e.get("method") == method]

    def evaluate(self, expression: str, timeout: float = 60):
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True,
                                                "awaitPromise": True}, timeout)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, path: Path | str, query: str = "", timeout: float = 60) -> float:
        """Load a file and wait until the report's map is drawn; returns the seconds taken."""
        url = Path(path).resolve().as_uri() + query
        started = time.perf_counter()
        self.send("Page.navigate", {"url": url})
        deadline = started + timeout
        while time.perf_counter() < deadline:
            state = self.evaluate("window.gridkitReport ? (gridkitReport.ready ? 'ready' : "
                                  "(gridkitReport.errors.length ? 'failed' : 'loading')) : "
                                  "'loading'")
            if state == "ready":
                return time.perf_counter() - started
            if state == "failed":
                raise RuntimeError(f"the report failed: {self.errors()}")
            time.sleep(0.02)
        raise TimeoutError(f"{url} did not get ready in {timeout} s")

    def errors(self) -> list[str]:
        """Uncaught exceptions, console errors and the page's own error log."""
        found = [e["exceptionDetails"].get("exception", {}).get("description")
                 or e["exceptionDetails"].get("text")
                 for e in self.events("Runtime.exceptionThrown")]
        found += [" ".join(str(a.get("value", a.get("description", ""))) for a in e["args"])
                  for e in self.events("Runtime.consoleAPICalled") if e["type"] == "error"]
        found += [e["entry"]["text"] for e in self.events("Log.entryAdded")
                  if e["entry"]["level"] == "error"]
        page_log = self.evaluate("window.gridkitReport ? gridkitReport.errors : []") or []
        return [str(f) for f in found + page_log]

    def requests(self) -> list[str]:
        return [e["request"]["url"] for e in self.events("Network.requestWillBeSent")]

    def click(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                   "button": "left", "clickCount": 1})

    def scroll_to(self, selector: str) -> None:
        self.evaluate(f"document.querySelector({json.dumps(selector)}).scrollIntoView()")

    def screenshot(self, path: Path | str, full_page: bool = False) -> Path:
        params: dict = {"format": "png"}
        if full_page:
            metrics = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params |= {"captureBeyondViewport": True,
                       "clip": {"x": 0, "y": 0, "width": metrics["width"],
                                "height": min(metrics["height"], 16000), "scale": 1}}
        data = self.send("Page.captureScreenshot", params)["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path
