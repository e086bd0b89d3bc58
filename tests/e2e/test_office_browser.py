"""The back office in Debian's Chromium: its pages under their own content security policy (no
inline style, no script) still drawn with their stylesheet and bars, 1280 pixels wide, and nothing
refused; signing in through the sign-in page, as a person does (the browser's own Origin and
Sec-Fetch-Site, the cookie)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from playwright.sync_api import sync_playwright

from central.schema import open_storage
from central.server import serve_in_thread

from ..central.nodes import enrol, push
from ..central.office_users import PASSWORD, office_user
from .test_browser import CHROMIUM_FLAGS


def test_office_pages_are_drawn_with_their_stylesheet_under_the_policy(chromium, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from central.app import create_app

    monkeypatch.delenv("INSTITUTE_TIME_ZONE", raising=False)
    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    client = TestClient(create_app(storage))
    kiosk, desk = enrol(client, storage, name="大厅1号机"), enrol(client, storage, "clerk", name="1号窗口")
    at = datetime.now(UTC) - timedelta(days=2)
    for i, rating in enumerate((5, 4, 4, 2, 1)):
        reg = kiosk.registered(at=at, organisation=f"<b>单位{i}</b>")
        t = reg["payload"]["ticket"]
        push(client, kiosk, reg)
        push(client, desk, desk.step("received", t["uid"], t["number"], at=at + timedelta(hours=1)))
        push(client, kiosk, kiosk.feedback(rating, at=at + timedelta(hours=2), ticket=t["uid"], number=t["number"],
                                           phone="13812345678"))
    silent = enrol(client, storage, name="大厅2号机")  # enrolled two days ago and never synced since: an alert
    with storage.transaction() as tx:
        tx.execute("UPDATE device SET enrolled_at = ? WHERE uid = ?", ((at).isoformat(), silent.uid))
    office_user(storage, "director")

    with serve_in_thread(storage) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        # A CSP refusal is a console error; a stylesheet not found, an answer over 400 (the
        # browser's own try for /favicon.ico aside: the office has none).
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if m.type == "error" and "404" not in m.text else None)
        page.on("requestfailed", lambda request: refused.append(request.url))
        page.on("response", lambda r: refused.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
        try:
            page.goto(server.url + "/office/satisfaction")  # not signed in: the sign-in page, then back
            page.screenshot(path=str(tmp_path / "login.png"))
            page.fill("input[name=name]", "director")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(server.url + "/office/satisfaction")  # signed in, and back where it was going
            for path, shot in (("/office/tickets", "tickets.png"), ("/office", "office.png"),
                               ("/office/satisfaction", "satisfaction.png")):
                page.goto(server.url + path)
                page.screenshot(path=str(tmp_path / shot), full_page=True)
                header = page.eval_on_selector("th", "th => getComputedStyle(th).backgroundColor")
                assert header == "rgb(243, 243, 243)", path  # office.css applied
                if path == "/office":  # a name sent as markup is shown as the text it is
                    assert "<b>单位0</b>" in page.inner_text("body") and page.locator("td b").count() == 0
                    assert "大厅2号机" in page.inner_text("body")  # the alert: not synced for a day
            for path in ("/office/figures", "/office/followups", "/office/worklist", "/office/tickets"):
                page.goto(server.url + path)  # read on a 1280-pixel screen without scrolling sideways
                assert page.evaluate("document.documentElement.scrollWidth") <= 1280, path
            page.goto(server.url + "/office/satisfaction")
            bars = page.eval_on_selector_all("svg.bar rect.good",
                                             "rects => rects.map(r => r.getBoundingClientRect().width)")
            assert bars and max(bars) > 100 and all(w >= 0 for w in bars)  # drawn, the longest most of 16em
        finally:
            browser.close()
        print(f"\nscreenshots: {tmp_path / 'login.png'} {tmp_path / 'tickets.png'} {tmp_path / 'office.png'} "
              f"{tmp_path / 'satisfaction.png'}")
    storage.close()
    assert not refused, refused


LINKED = "td a[href^='/office/tickets/']"  # the tickets a page links


@contextmanager
def signed_in(storage, chromium, path: str, refused: list[str]):
    """Central served, Chromium at `path` on a 1280-pixel screen, signed in as the director: the page."""
    with serve_in_thread(storage) as server, signed_in_at(chromium, server.url, path, refused,
                                                         viewport={"width": 1280, "height": 900}) as page:
        yield page


@contextmanager
def signed_in_at(chromium, url: str, path: str, refused: list[str], **context):
    """Chromium at `path` of central at `url`, in a browser context made with `context`, signed in
    as the director (the sign-in page, then back there): the page. Console errors and answers over
    400 go to `refused` (the browser's own try for /favicon.ico aside)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        page = browser.new_context(base_url=url, **context).new_page()
        page.on("console", lambda m: refused.append(m.text) if m.type == "error" and "404" not in m.text else None)
        page.on("response", lambda r: refused.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
        try:
            page.goto(path)
            page.fill("input[name=name]", "director")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(url + path)
            yield page
        finally:
            browser.close()


def test_the_window_ratings_work_orders_are_paged_in_the_browser(chromium, tmp_path, monkeypatch):
    """/office/ratings: a page of the work orders, its 下一页 Older link followed by a click, the
    state kept, drawn under the policy and no wider than the screen."""
    from fastapi.testclient import TestClient

    from central.app import create_app

    from ..central.test_window_ratings_office import window_rating

    monkeypatch.delenv("INSTITUTE_TIME_ZONE", raising=False)
    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    client = TestClient(create_app(storage))
    kiosk, desk = enrol(client, storage, name="大厅1号机"), enrol(client, storage, "clerk", name="1号收件窗口")
    at = datetime.now(UTC) - timedelta(days=5)
    numbers = []
    for n in range(5):
        reg = kiosk.registered(at=at + timedelta(hours=n))
        t = reg["payload"]["ticket"]
        push(client, kiosk, reg)
        poor = window_rating(desk, reg, "intake", 1, at=at + timedelta(hours=n, minutes=30), reason="slow")
        push(client, desk, desk.step("received", t["uid"], t["number"], at=at + timedelta(hours=n, minutes=20)), poor)
        numbers.append(t["number"])
    office_user(storage, "director")

    refused: list[str] = []
    with signed_in(storage, chromium, "/office/ratings?state=open&size=2", refused) as page:
        shown = page.eval_on_selector_all(LINKED, "links => links.map(a => a.textContent)")
        assert shown == numbers[::-1][:2] and page.locator("a[rel=prev]").count() == 0
        page.screenshot(path=str(tmp_path / "ratings.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        page.click("a[rel=next]")
        page.wait_for_load_state()
        shown = page.eval_on_selector_all(LINKED, "links => links.map(a => a.textContent)")
        assert shown == numbers[::-1][2:4] and "state=open" in page.url
        assert page.locator("select[name=state]").input_value() == "open"
        page.click("a[rel=next]")
        page.wait_for_load_state()
        assert page.locator("a[rel=next]").count() == 0 and page.locator("a[rel=prev]").count() == 1
        page.screenshot(path=str(tmp_path / "ratings-last.png"), full_page=True)
    print(f"\nscreenshots: {tmp_path / 'ratings.png'} {tmp_path / 'ratings-last.png'}")
    storage.close()
    assert not refused, refused


def test_the_follow_ups_and_certificate_checks_are_paged_in_the_browser(chromium, tmp_path, monkeypatch):
    """/office/followups and /office/certificate-checks: keyset pages, 下一页 followed by a click with
    the size (and period) kept, the last page without one, drawn under the policy, no wider than the screen."""
    from fastapi.testclient import TestClient

    from central.app import create_app

    from ..central.test_certificate_checks import checked
    from ..central.test_trust import ticket_of

    monkeypatch.delenv("INSTITUTE_TIME_ZONE", raising=False)
    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    client = TestClient(create_app(storage))
    kiosk, desk = enrol(client, storage, name="大厅1号机"), enrol(client, storage, "clerk", name="1号收件窗口")
    push(client, kiosk, *[kiosk.feedback(1, due_on=f"2026-12-0{n}", phone="13812345678") for n in (3, 1, 5, 2, 4)])
    reg = kiosk.registered()
    push(client, kiosk, reg)
    ticket, number = ticket_of(reg)
    now = datetime.now(UTC)
    push(client, desk, *[checked(desk, ticket, number, instrument=n, code="LCZ"[n % 3] + "-001-001",
                                 outcome="returned" if n % 2 else "passed", wrong=("serial",) if n % 2 else (),
                                 at=now - timedelta(days=7 * (n // 3))) for n in range(6)])
    office_user(storage, "director")

    refused: list[str] = []
    with signed_in(storage, chromium, "/office/followups?size=2", refused) as page:
        due = "table:first-of-type tr td:first-child"
        assert [t.split()[0] for t in page.eval_on_selector_all(due, "c => c.map(td => td.innerText)")] == [
            "2026-12-01", "2026-12-02"]
        assert page.locator("a[rel=prev]").count() == 0 and "待回访 5 件" in page.inner_text("body")
        page.screenshot(path=str(tmp_path / "followups.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        page.click("a[rel=next]")
        page.wait_for_load_state()
        assert "size=2" in page.url and page.locator("a[rel=prev]").count() == 1
        page.click("a[rel=next]")
        page.wait_for_load_state()
        assert [t.split()[0] for t in page.eval_on_selector_all(due, "c => c.map(td => td.innerText)")] == [
            "2026-12-05"]
        assert page.locator("a[rel=next]").count() == 0
        page.screenshot(path=str(tmp_path / "followups-last.png"), full_page=True)

        page.goto("/office/certificate-checks?size=2")
        assert "核对 checked 6" in page.inner_text("body") and page.locator("a[rel=prev]").count() == 0
        page.screenshot(path=str(tmp_path / "checks.png"), full_page=True)
        page.click("a[rel=next]")
        page.wait_for_load_state()
        assert "size=2" in page.url and "from=" in page.url and page.locator("a[rel=prev]").count() == 1
        page.click("a[rel=next]")
        page.wait_for_load_state()
        assert page.locator("a[rel=next]").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        page.screenshot(path=str(tmp_path / "checks-last.png"), full_page=True)
    print(f"\nscreenshots: {tmp_path / 'followups.png'} {tmp_path / 'followups-last.png'} "
          f"{tmp_path / 'checks.png'} {tmp_path / 'checks-last.png'}")
    storage.close()
    assert not refused, refused
