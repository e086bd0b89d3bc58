"""统计 · Figures in Debian's Chromium: the charts are drawn in the page (inline SVG under the
office's content security policy, nothing loaded from elsewhere), bars of the right heights, the
periods under them readable."""

from __future__ import annotations

from itertools import pairwise

from playwright.sync_api import sync_playwright

from central.schema import open_storage
from central.server import serve_in_thread

from ..central.office_users import PASSWORD, office_user
from ..central.test_figures import serve_three
from .test_browser import CHROMIUM_FLAGS

# Per chart: the [left, right] of each period mark under it, as drawn, and the chart's right edge.
MARKS = ("svgs => svgs.map(s => [[...s.querySelectorAll('text.period')].map(t => {"
         "const r = t.getBoundingClientRect(); return [r.left, r.right]; }), s.getBoundingClientRect().right])")


def test_the_figures_page_draws_its_charts(chromium, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from central.app import create_app

    monkeypatch.delenv("INSTITUTE_TIME_ZONE", raising=False)
    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    serve_three(TestClient(create_app(storage)), storage)
    office_user(storage, "auditor")
    shot = tmp_path / "figures.png"
    with serve_in_thread(storage) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if m.type == "error" and "404" not in m.text else None)
        page.on("requestfailed", lambda request: refused.append(request.url))
        page.on("response", lambda r: refused.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
        try:
            wanted = "/office/figures?by=week&from=2026-11-16&to=2026-12-06"
            page.goto(server.url + wanted)
            page.fill("input[name=name]", "auditor")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(server.url + wanted)
            page.screenshot(path=str(shot), full_page=True)
            charts = page.eval_on_selector_all("svg.chart", "svgs => svgs.map(s => s.getBoundingClientRect().width)")
            assert len(charts) == 5 and min(charts) > 300  # drawn, at a readable size
            # The daily chart: three days with one ticket each, every bar of one ticket the same full height.
            heights = page.eval_on_selector_all("svg.chart[aria-label^='每日受理'] rect.series",
                                                "rs => rs.map(r => r.getBoundingClientRect().height)")
            tall = [h for h in heights if h > 0]
            assert len(heights) == 21 and len(tall) == 3 and max(tall) - min(tall) < 0.5 and min(tall) > 50
            fill = page.eval_on_selector("svg.chart rect.series", "r => getComputedStyle(r).fill")
            assert fill == "rgb(58, 110, 165)"  # office.css applied
            # Twelve weeks: every chart's period marks readable, none running into the next or off the chart.
            page.goto(server.url + "/office/figures?by=week&from=2026-09-14&to=2026-12-06")
            for marks, right in page.eval_on_selector_all("svg.chart", MARKS):
                assert len(marks) >= 3, marks
                assert all(a[1] <= b[0] for a, b in pairwise(marks)) and marks[-1][1] <= right, (marks, right)
        finally:
            browser.close()
        print(f"\nscreenshot: {shot}")
    storage.close()
    assert not refused, refused
