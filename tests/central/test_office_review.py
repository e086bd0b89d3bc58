"""What an outside review of the back office found (issue 20): the audit log read as a person reads
it; a stylesheet a browser fetches again when it changes, keeping ticket numbers whole; a refusal
that names the role, its page with the viewer's links; the window ratings' work-order notes
(personal data: retention erases them) kept from an auditor, and their page of the last 12 weeks
unless asked (as satisfaction's), not of every year stored; the due list's overdue word."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import timedelta

from kiosk.domain import events
from kiosk.domain.clock import today, utc_now

from .nodes import T0, event, push
from .office_users import office, sign_in
from .test_office_safety import served as picked_up
from .test_window_ratings_office import ALL_TIME, served, window_rating

SCRIPT = "<script>alert(1)</script>"


def test_the_audit_log_shows_each_query_as_typed_and_escaped(client, storage):
    clerk = office(storage, "clerk")
    for asked in ("13812345678", "示范燃气", SCRIPT):
        assert client.get("/office/tickets", params={"q": asked}, headers=clerk).status_code == 200
    page = client.get("/office/audit", headers=office(storage, "director")).text
    assert "<td>q=*******5678</td>" in page  # the phone masked, not %2A%2A%2A...
    assert "<td>q=示范燃气</td>" in page  # not %E7%A4%BA...
    assert "q=&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert "%E7%A4%BA" not in page and "%2A" not in page
    exported = client.get("/office/audit.csv", headers=office(storage, "director")).text
    assert "q=%E7%A4%BA%E8%8C%83%E7%87%83%E6%B0%94" in exported  # the file keeps the query exactly as asked


def test_pages_link_the_stylesheet_by_its_content_which_keeps_ticket_numbers_whole(client, storage):
    page = client.get("/office", headers=office(storage)).text
    link = re.search(r"<link rel='stylesheet' href='(/office/office\.css\?v=([0-9a-f]{12}))'>", page)
    assert link, page[:400]
    css = client.get(link.group(1))
    assert css.status_code == 200 and css.headers["cache-control"] == "max-age=86400"
    assert hashlib.sha256(css.content).hexdigest()[:12] == link.group(2)  # a new CSS: a new address
    # K005-211218-0013, not K005- / 211218- / 0013 on three lines of a narrow column
    assert "td a[href^='/office/tickets/']{white-space:nowrap}" in css.text


def test_a_refusal_names_the_role_and_its_page_keeps_the_way_on(client, storage):
    got = client.get("/api/v1/office/tickets", headers=office(storage, "auditor"))
    assert got.status_code == 403
    assert got.json() == {"detail": "the role auditor may not see or do this", "error": "forbidden"}
    assert sign_in(client, "auditor").status_code == 303  # a browser: its cookie
    page = client.get("/office/tickets")
    assert page.status_code == 403 and "Your role may not see this page" in page.text
    # the auditor's own pages and the sign-out, as on every page: not stranded on the refusal
    assert "<a href='/office/figures'>" in page.text and "<a href='/office/tickets'>" not in page.text
    assert "action='/office/logout'" in page.text


def test_work_order_notes_are_for_clerks_and_directors_and_each_view_is_audited(client, storage):
    _, desk, reg = served(client, storage)
    poor = window_rating(desk, reg, "intake", 1, at=T0 + timedelta(hours=1), reason="slow")
    call = event("followup.called", T0 + timedelta(hours=3), json.loads(events.to_json(events.FollowupCalled(
        call=str(uuid.uuid4()), followup=poor["payload"]["followup"]["uid"], feedback=poor["payload"]["feedback"],
        device=desk.uid, at=T0 + timedelta(hours=3), reached=True, note="张三先生说下午再来",
        clerk=events.Clerk(username="wang", name="王芳")))))
    closed = desk.closed(poor, at=T0 + timedelta(days=1), note="已向张三先生致歉")
    assert push(client, desk, poor, call, closed).status_code == 200
    with storage.transaction() as tx:
        tx.execute("DELETE FROM office_audit")
    for role in ("auditor", "clerk", "director"):
        headers = office(storage, role)
        [order] = client.get(f"/api/v1/office/ratings?{ALL_TIME}", headers=headers).json()["work_orders"]
        page = client.get(f"/office/ratings?{ALL_TIME}", headers=headers).text
        notes = [order["note"], *(c["note"] for c in order["calls"])]
        number = reg["payload"]["ticket"]["number"]
        if role == "auditor":  # the order, its deadline and its call-back, without what was said
            assert notes == [None, None] and order["closed_at"] and order["calls"][0]["reached"] is True
            assert "张三" not in page and "已接通 reached" in page
            assert f"<td>{number}</td>" in page  # not a link to a page the auditor may not open
        else:
            assert notes == ["已向张三先生致歉", "张三先生说下午再来"] and "张三先生说下午再来" in page
            assert f"<td><a href='/office/tickets/{number}'>{number}</a></td>" in page  # linked, as every list
    with storage.read() as tx:
        audited = [tuple(row) for row in tx.all("SELECT who, action, route, row_count FROM office_audit")]
    assert sorted(audited) == sorted((role, "view", route, 1) for role in ("clerk", "director")
                                     for route in ("/api/v1/office/ratings", "/office/ratings"))


def test_the_window_ratings_are_of_the_last_12_weeks_unless_asked(client, storage):
    _, desk, reg = served(client, storage)
    weeks_ago, this_week = utc_now() - timedelta(weeks=13), utc_now() - timedelta(hours=1)
    assert push(client, desk, window_rating(desk, reg, "intake", 5, at=weeks_ago),
                window_rating(desk, reg, "completion", 4, at=this_week)).status_code == 200
    headers = office(storage, "auditor")
    shown = client.get("/api/v1/office/ratings", headers=headers).json()
    assert shown["count"] == 1 and shown["to"] == today().isoformat()
    assert client.get(f"/api/v1/office/ratings?{ALL_TIME}", headers=headers).json()["count"] == 2
    page = client.get("/office/ratings", headers=headers).text
    first = shown["from"]
    assert f"name='from' value='{first}'" in page and f"name='to' value='{today().isoformat()}'" in page
    assert f"/office/ratings/export.csv?from={first}&amp;to={today().isoformat()}" in page  # the period shown
    assert "/office/ratings?from=2000-01-01" in page  # 全部时间 · All time


def test_an_overdue_instrument_says_so_on_a_line_of_its_own(client, storage):
    """The due list's 11 columns fit a 1280-pixel screen with the ticket number whole."""
    picked_up(client, storage, ("示范燃气有限公司",), picked_up=today() - timedelta(days=400))
    page = client.get("/office/due", params={"within": "3660d"}, headers=office(storage, "clerk")).text
    assert re.search(r"<td>\d{4}-\d\d-\d\d<br><span class='mark'>已过期 overdue</span></td>", page)


def test_a_malformed_office_address_is_a_page_and_the_api_keeps_its_422(client, storage):
    clerk = office(storage, "clerk")
    page = client.get("/office/tickets/k001-<b>-1", headers=clerk)
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "This value in the address is not valid: number" in page.text and "<b>" not in page.text
    assert "href='/office'" in page.text  # the way back
    api = client.get("/api/v1/office/tickets/k001-x", headers=clerk)
    assert api.status_code == 422 and api.json()["detail"][0]["loc"] == ["path", "number"]
    assert client.get("/office/tickets/k001-x", follow_redirects=False).status_code == 303  # signing in first
