"""The report in headless Chromium: no console error, no network request, a screenshot per
section, sortable tables.

Chromium: `apt-get install -y chromium fonts-noto-cjk` (the test skips without it)."""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Chromium:
    """Headless Chromium driven over --remote-debugging-pipe (CDP messages, NUL-delimited)."""

    def __init__(self, binary: str, profile: Path, width: int = 1400, height: int = 1000):
        to_child, self._w = os.pipe()
        self._r, from_child = os.pipe()

        def pipes():  # in the child: Chromium reads commands on fd 3, answers on fd 4
            a, b = os.dup(to_child), os.dup(from_child)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.stderr_path = profile / "chromium.stderr"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             f"--user-data-dir={profile / 'profile'}", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
             "--enable-logging=stderr", "--v=0", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
            preexec_fn=pipes, close_fds=False)
        os.close(to_child)
        os.close(from_child)
        self._buf, self._id, self.events = b"", 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", page=True)
        self.call("Network.emulateNetworkConditions", page=True, offline=True, latency=0,
                  downloadThroughput=-1, uploadThroughput=-1)
        self.call("Emulation.setDeviceMetricsOverride", page=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def _recv(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, page: bool = False, timeout: float = 20, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if page:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._recv(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def open(self, url: str, timeout: float = 20) -> None:
        mark = len(self.events)  # events are kept for problems(); wait for this page's load
        self.call("Page.navigate", page=True, url=url)
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events[mark:]):
            self.events.append(self._recv(deadline))

    def evaluate(self, expression: str):
        r = self.call("Runtime.evaluate", page=True, expression=expression, returnByValue=True)
        assert "exceptionDetails" not in r, r["exceptionDetails"]
        return r["result"].get("value")

    def screenshot(self, path: Path, clip: dict) -> None:
        r = self.call("Page.captureScreenshot", page=True, format="png", captureBeyondViewport=True,
                      clip={**clip, "scale": 1})
        path.write_bytes(base64.b64decode(r["data"]))

    def problems(self) -> list[str]:
        """Uncaught exceptions, console errors and warnings, failed or non-local requests."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(f"uncaught: {p['exceptionDetails']}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                out.append(f"console.{p['type']}: {p.get('args')}")
            elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.append(f"log: {p['entry']}")
            elif m == "Network.loadingFailed":
                out.append(f"request failed: {p}")
            elif m == "Network.requestWillBeSent" and not p["request"]["url"].startswith(("file:", "data:", "about:")):
                out.append(f"network request: {p['request']['url']}")
        return out

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        self._stderr.close()


SECTIONS_JS = """JSON.stringify(Array.prototype.map.call(document.querySelectorAll('main > section'),
  function (s) { var r = s.getBoundingClientRect();
    return {id: s.id, x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; }))"""
SORT_JS = """(function () {
  var section = document.getElementById('rankings');
  var table = section.querySelectorAll('table.sortable')[1];          // brokers
  var th = Array.prototype.filter.call(table.tHead.rows[0].cells,
                                       function (c) { return c.textContent.trim() === '客户数'; })[0];
  var col = th.cellIndex;
  function values() { return Array.prototype.map.call(table.tBodies[0].rows,
                        function (r) { return Number(r.cells[col].getAttribute('data-v')); }); }
  th.click(); var asc = values(); th.click(); var desc = values();
  return JSON.stringify({asc: asc, desc: desc, sort: th.getAttribute('aria-sort')});
}())"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: apt-get install -y chromium fonts-noto-cjk")
def test_report_in_headless_chromium(models_report, tmp_path):
    browser = Chromium(CHROMIUM, tmp_path)
    try:
        browser.open(models_report.resolve().as_uri())
        assert browser.problems() == []
        sections = json.loads(browser.evaluate(SECTIONS_JS))
        assert [s["id"] for s in sections] == ["overview", "segments", "analysis", "rankings", "holdings",
                                                "clients", "quality"]
        shots = tmp_path / "screenshots"
        shots.mkdir()
        for s in sections:
            assert s["height"] > 100, s
            browser.screenshot(shots / f"{s['id']}.png", {k: s[k] for k in ("x", "y", "width", "height")})
        assert browser.evaluate("document.querySelectorAll('svg.chart').length") >= 8
        assert browser.evaluate("document.title").endswith("经营日报 2024-10-15")
        sort = json.loads(browser.evaluate(SORT_JS))
        assert sort["asc"] == sorted(sort["asc"]) and sort["desc"] == sorted(sort["desc"], reverse=True)
        assert sort["sort"] == "descending"
        browser.open((models_report.parent / "index.html").resolve().as_uri())
        assert browser.evaluate("document.querySelectorAll('a[href^=\"report-\"]').length") == 1
        problems = browser.problems()
    finally:
        browser.close()
    assert problems == []
    stderr = browser.stderr_path.read_text(errors="replace")
    assert "Uncaught" not in stderr and "ERR_" not in stderr, stderr[-2000:]
    for s in sections:
        png = (shots / f"{s['id']}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000


LAYOUT_JS = """JSON.stringify((function () {
  var out = {docWidth: document.documentElement.scrollWidth, viewport: innerWidth, outside: []};
  Array.prototype.forEach.call(document.querySelectorAll('svg.chart'), function (svg) {
    var box = svg.getBoundingClientRect();
    if (!box.width) { return; }   // a chart in a closed <details>
    Array.prototype.forEach.call(svg.querySelectorAll('text'), function (t) {
      var r = t.getBoundingClientRect();
      if (r.width && (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)) {
        out.outside.push((svg.getAttribute('aria-label') || '') + ': ' + t.textContent);
      }
    });
  });
  var cards = Array.prototype.map.call(document.querySelectorAll('#overview .cards')[0].children,
                                       function (c) { return Math.round(c.getBoundingClientRect().top); });
  out.cardsPerRow = cards.filter(function (t) { return t === cards[0]; }).length;
  var figs = Array.prototype.map.call(document.querySelectorAll('.grid2 > figure'),
                                      function (f) { return Math.round(f.getBoundingClientRect().left); });
  out.chartColumns = figs.filter(function (l, i) { return figs.indexOf(l) === i; }).length;
  var first = document.querySelector('#rankings .scroll tbody td');
  out.firstColumn = getComputedStyle(first).position;
  return out; }()))"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: apt-get install -y chromium fonts-noto-cjk")
@pytest.mark.parametrize("width", [1400, 420])
def test_report_layout_on_a_desktop_and_a_phone(models_report, tmp_path, width):
    """At 420 px the page is usable: nothing wider than the screen (tables scroll in their box
    under a fixed first column), one chart per row, two KPI cards per row, every chart label
    inside its chart. The screenshots stay in tmp_path for a person to look at."""
    browser = Chromium(CHROMIUM, tmp_path, width=width)
    try:
        browser.open(models_report.resolve().as_uri())
        layout = json.loads(browser.evaluate(LAYOUT_JS))
        height = browser.evaluate("document.documentElement.scrollHeight")
        browser.screenshot(tmp_path / f"report-{width}.png", {"x": 0, "y": 0, "width": width, "height": min(height, 6000)})
        problems = browser.problems()
    finally:
        browser.close()
    assert problems == []
    assert layout["docWidth"] <= layout["viewport"], layout
    assert layout["outside"] == []
    if width == 420:
        assert (layout["cardsPerRow"], layout["chartColumns"], layout["firstColumn"]) == (2, 1, "sticky")
    else:
        assert layout["cardsPerRow"] > 2 and layout["chartColumns"] == 2 and layout["firstColumn"] != "sticky"
