"""The back office on a phone (390 x 844, Debian's Chromium as a mobile browser) and its charts on
a desk's screen (issue 20, its pages looked at): laid out at the phone's own width, not a
980-pixel page shrunk to unreadable type; the page never wider than the screen, a wide table or
the daily chart scrolling sideways in its own box; the period charts all drawn the same size."""

from __future__ import annotations

from central.schema import open_storage
from central.server import serve_in_thread

from ..central.office_users import office_user
from ..central.test_figures import serve_three
from .test_office_browser import signed_in_at

# Each table: [its own scrolling width, the width it shows, its overflow-x].
TABLES = "ts => ts.map(t => [t.scrollWidth, t.clientWidth, getComputedStyle(t).overflowX])"
WEEKS = "/office/figures?by=week&from=2026-09-14&to=2026-12-06"


def test_the_office_on_a_phone_is_laid_out_at_its_width(chromium, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from central.app import create_app

    monkeypatch.delenv("INSTITUTE_TIME_ZONE", raising=False)
    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    serve_three(TestClient(create_app(storage)), storage)
    office_user(storage, "director")
    refused: list[str] = []
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    with serve_in_thread(storage) as server, signed_in_at(chromium, server.url, "/office", refused, **phone) as page:
        for path in ("/office", "/office/tickets", "/office/followups", "/office/worklist", WEEKS):
            page.goto(path)
            page.screenshot(path=str(tmp_path / f"phone{path.split('?')[0].replace('/', '-')}.png"), full_page=True)
            # the layout at the phone's width (a page without a viewport is laid out 980 pixels wide)
            assert page.evaluate("window.innerWidth") == 390, path
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path  # no sideways page
        page.goto("/office/tickets")
        tables = page.eval_on_selector_all("table", TABLES)
        assert tables and all(overflow == "auto" for _, _, overflow in tables)
        wide, shown, _ = tables[0]  # eight columns: wider than the phone, scrolled within its box
        assert wide > shown and shown <= 390 - 2 * 24
        # the ticket number and its registration time whole, each on one line (not a character a line)
        heights = page.eval_on_selector_all("table tr:nth-child(2) td", "tds => tds.map(td => td.clientHeight)")
        number = page.eval_on_selector("td a[href^='/office/tickets/']", "a => a.getBoundingClientRect().height")
        assert number < 30 and min(heights) < 70, (number, heights)
        page.goto(WEEKS)
        daily = page.eval_on_selector("svg.chart[aria-label^='每日受理']", "s => s.getBoundingClientRect().width")
        box = page.eval_on_selector(".wide-chart", "b => [b.scrollWidth, b.clientWidth]")
        assert daily >= 600 and box[0] > box[1]  # drawn at a readable size, scrolled within its box
    print(f"\nscreenshots: {tmp_path}/phone-*.png")
    storage.close()
    assert not refused, refused


def test_the_period_charts_are_drawn_the_same_size(chromium, tmp_path, monkeypatch):
    """Four period charts three abreast on a 1366-pixel screen: the fourth, alone on its row, no
    larger than the others (nor its type)."""
    from fastapi.testclient import TestClient

    from central.app import create_app

    monkeypatch.delenv("INSTITUTE_TIME_ZONE", raising=False)
    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    serve_three(TestClient(create_app(storage)), storage)
    office_user(storage, "director")
    refused: list[str] = []
    desk = {"viewport": {"width": 1366, "height": 768}}
    with serve_in_thread(storage) as server, signed_in_at(chromium, server.url, WEEKS, refused, **desk) as page:
        page.screenshot(path=str(tmp_path / "figures.png"), full_page=True)
        widths = page.eval_on_selector_all(".charts svg.chart", "s => s.map(c => c.getBoundingClientRect().width)")
        assert len(widths) == 4 and max(widths) - min(widths) < 1 and min(widths) > 300, widths
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    print(f"\nscreenshot: {tmp_path / 'figures.png'}")
    storage.close()
    assert not refused, refused
