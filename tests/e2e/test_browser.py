"""Browser kiosk mode, end to end: the real `kiosk serve`, Debian's Chromium driven by
Playwright (never `playwright install`: its browser download does not work here), one
registration tapped through on the touch screen, the ticket on the page and in the database.

What textual-serve renders: an xterm.js terminal drawn on a canvas (WebGL, else 2D canvas), so
there is no text in the DOM to wait for. The test reads xterm.js's own screen buffer instead
(what the canvas shows, cell by cell): textual.js keeps its Terminal private, so the test
serves the page a copy of textual.js that also hands it to `window.kioskTerminal`. Every wait
is for a condition on that screen; nothing sleeps a guessed time.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

# As root on a machine whose network is closed: no sandbox (root), no GPU, and none of
# Chromium's own background connections (refused here, many at a time) or first-run work.
# Playwright gives the browser a new, empty profile (--user-data-dir) of its own.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

TICKET_NUMBER = re.compile(r"\b[A-Z0-9]{1,4}-\d{6}-\d{4}\b")
TIMEOUT_MS = 20_000
NEEDLE = "this.terminal.open(e)"  # in textual-serve 1.1.3's textual.js, once

# Where `text` is on the terminal's screen: its cells, and the middle of them in page pixels
# (a wide character is one cell of width 2 followed by one of width 0); with a `marker`, only on a
# row that also shows the marker (a key of the on-screen keyboard: its row by a word key on it).
FIND = """([text, marker]) => {
  const term = window.kioskTerminal;
  if (!term || !term.element) return null;
  const buffer = term.buffer.active;
  const box = term.element.querySelector(".xterm-screen").getBoundingClientRect();
  const cw = box.width / term.cols, ch = box.height / term.rows;
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    if (!line) continue;
    let row = "", starts = [], ends = [];
    for (let x = 0; x < line.length; x++) {
      const cell = line.getCell(x);
      const width = cell.getWidth();
      if (width === 0) continue;
      const chars = cell.getChars() || " ";
      for (let i = 0; i < chars.length; i++) { starts.push(x); ends.push(x + width); }
      row += chars;
    }
    if (marker && row.indexOf(marker) < 0) continue;
    const at = row.indexOf(text);
    if (at >= 0) {
      const x0 = starts[at], x1 = ends[at + text.length - 1];
      return {x: x0, end: x1, y: y, cols: term.cols, cw: cw,
              px: box.left + (x0 + x1) / 2 * cw, py: box.top + (y + 0.5) * ch};
    }
  }
  return null;
}"""

SCREEN = """() => {
  const term = window.kioskTerminal;
  if (!term) return "";
  const buffer = term.buffer.active, rows = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""


@dataclass
class Served:
    url: str
    database: Path
    log: Path
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    """`kiosk serve` on a free port, with this test's data directory and database (preview printer)."""
    port, database, log = free_port(), tmp_path / "kiosk.sqlite3", tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if k not in ("LINES", "COLUMNS", "TEXTUAL_ALLOW_SIGNALS")}
    env |= {"TEXTUAL_ANIMATIONS": "none", "KIOSK_DATA_DIR": str(tmp_path / "data")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "--db", str(database), "serve", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:  # until the server answers (or has died)
            if process.poll() is not None:
                pytest.fail(f"kiosk serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"kiosk serve did not answer on {url}:\n{log.read_text()}")
                time.sleep(0.05)  # polling a condition: the port is open
        yield Served(url, database, log, process)
    finally:
        process.send_signal(signal.SIGINT)  # textual-serve stops on SIGINT/SIGTERM
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        try:  # any app process of ours still there: its own session, started above
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def expose_terminal(route) -> None:
    response = route.fetch()
    body = response.text().replace(NEEDLE, NEEDLE + ",window.kioskTerminal=this.terminal", 1)
    route.fulfill(response=response, body=body)


def where(page: Page, text: str, marker: str = "") -> dict:
    """Wait until `text` is on the screen (on a row showing `marker`, if given); its position."""
    return page.wait_for_function(FIND, arg=[text, marker], timeout=TIMEOUT_MS).json_value()


def gone(page: Page, text: str) -> None:
    page.wait_for_function(f"(text) => !({FIND})([text, ''])", arg=text, timeout=TIMEOUT_MS)


def tap(page: Page, text: str, *, cells_right: int = 0, marker: str = "") -> None:
    """A finger on `text` (or that many cells to its right, e.g. the field beside a label)."""
    spot = where(page, text, marker)
    page.touchscreen.tap(spot["px"] + cells_right * spot["cw"], spot["py"])


def type_into(page: Page, text: str) -> None:
    """Type as the panel's keyboard or input method would, then wait until the screen shows it."""
    page.keyboard.type(text)
    where(page, text)


@contextmanager
def kiosk_page(chromium: Path, served, tmp_path: Path) -> Iterator[Page]:
    """A touch-screen page of `kiosk serve` in Chromium, xterm.js exposed; on a failure the
    screen, the page's errors and the server's log are printed and a screenshot kept; a
    script error on the page fails the test."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, has_touch=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.route("**/static/js/textual.js", expose_terminal)
        try:
            page.goto(served.url)
            yield page
        except Exception:
            page.screenshot(path=str(tmp_path / "failed.png"))
            print("screen:\n" + page.evaluate(SCREEN), "\npage errors:", errors,
                  "\nserver log:\n" + served.log.read_text(errors="replace"), file=sys.stderr)
            raise
        finally:
            browser.close()
    assert not errors, errors


def test_a_registration_tapped_through_in_chromium(chromium, served, tmp_path):
    import textual_serve

    textual_js = Path(textual_serve.__file__).parent / "static" / "js" / "textual.js"
    assert textual_js.read_text("utf-8").count(NEEDLE) == 1, (
        "textual-serve's textual.js changed: update NEEDLE, where the test finds xterm.js's Terminal")
    shot = tmp_path / "ticket.png"
    started = time.monotonic()
    with kiosk_page(chromium, served, tmp_path) as page:
        # The app fills the page: the language button is at the right edge of the first row
        # (the web driver takes its first size from COLUMNS, which `kiosk run` must keep).
        language = where(page, "English")
        assert language["y"] == 0 and language["cols"] - language["end"] < 4, language
        tap(page, "送检登记")  # the welcome screen, drawn
        where(page, "统一社会信用代码")  # the customer's form

        tap(page, "单位全称")  # the organisation's field, by its placeholder
        type_into(page, "示范燃气有限公司")
        tap(page, "联系人", cells_right=16)  # no placeholder: the field right of its label
        type_into(page, "李工")
        tap(page, "手机或座机")
        type_into(page, "13812345678")
        tap(page, "下一步")

        where(page, "输入仪器名称")  # the instruments: the search field has focus
        type_into(page, "ylb")
        tap(page, "一般压力表")  # the first variant found
        where(page, "出厂编号")  # its line editor
        tap(page, "加入")
        gone(page, "出厂编号")
        tap(page, "下一步")

        tap(page, "查看费用")  # options as they are
        tap(page, "确认登记")  # the estimate
        where(page, "您的受理号")
        screen = page.evaluate(SCREEN)
        page.screenshot(path=str(shot))
    elapsed = time.monotonic() - started

    shown = TICKET_NUMBER.findall(screen)
    connection = sqlite3.connect(f"file:{served.database}?mode=ro", uri=True, timeout=5)
    try:
        stored = [number for (number,) in connection.execute("SELECT number FROM ticket")]
    finally:
        connection.close()
    assert len(stored) == 1, stored
    assert stored[0] in shown, f"{stored[0]} not on the page:\n{screen}"
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    print(f"\nregistered {stored[0]} in the browser in {elapsed:.1f} s; screenshot: {shot}")


def test_a_page_from_another_site_cannot_start_the_kiosk(served):
    """No authentication on the port, so at least no cross-site websocket: a page from
    elsewhere open in a browser on this machine must not drive the kiosk."""
    import http.client

    connection = http.client.HTTPConnection(served.url.split("/")[2], timeout=10)
    try:
        connection.request("GET", "/ws", headers={
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "http://example.com"})
        assert connection.getresponse().status == 403
    finally:
        connection.close()
