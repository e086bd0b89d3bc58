"""The back office as a manager reads it (issue 20, its pages looked at in Chromium): words where a
person expects words, and a sentence where a chart has nothing to draw."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .nodes import enrol, push
from .office_users import office
from .test_figures import serve_three

ROW = re.compile(r"<tr><td>(.*?)</td><td>(.*?)</td>")


def test_the_overview_names_each_devices_role_in_words_not_its_code(client, storage):
    kiosk, desk = enrol(client, storage, name="大厅1号机"), enrol(client, storage, "clerk", name="1号收件窗口")
    push(client, kiosk, kiosk.registered())
    silent = enrol(client, storage, "clerk", name="2号收件窗口")  # enrolled two days ago, never synced: an alert
    with storage.transaction() as tx:
        tx.execute("UPDATE device SET enrolled_at = ? WHERE uid = ?",
                   ((datetime.now(UTC) - timedelta(days=2)).isoformat(), silent.uid))
    html = client.get("/office", headers=office(storage, "director")).text
    roles = {}
    for name, role in ROW.findall(html):
        roles.setdefault(name, []).append(role)
    # the devices table, and the alert of the one not synced
    assert roles["大厅1号机"] == ["登记机 Kiosk"] and roles["1号收件窗口"] == ["受理窗口 Counter"]
    assert roles["2号收件窗口"] == ["受理窗口 Counter", "受理窗口 Counter"]
    assert "<td>kiosk</td>" not in html and "<td>clerk</td>" not in html
    assert desk.uid not in html


ALL_ZERO = "所选期间均为 0 · All zero in the periods shown"


def test_a_chart_with_nothing_to_draw_says_so(client, storage):
    serve_three(client, storage)
    auditor = office(storage, "auditor")
    drawn = client.get("/office/figures?by=week&from=2026-11-16&to=2026-12-06", headers=auditor).text
    assert drawn.count("<svg class='chart'") == 5 and ALL_ZERO not in drawn  # every chart has bars
    empty = client.get("/office/figures?by=week&from=2026-10-05&to=2026-10-25", headers=auditor).text
    assert empty.count("<svg class='chart'") == 5 and empty.count(ALL_ZERO) == 5  # three weeks before any ticket


def test_the_follow_ups_name_the_device_a_rating_was_given_at_as_a_device(client, storage):
    """A poor rating is given at the lobby kiosk or at a counter's window pad (受理柜台): the column
    says 评价终端 Device, not Kiosk over a counter's name."""
    kiosk = enrol(client, storage, name="大厅1号机")
    push(client, kiosk, kiosk.feedback(1, phone="13812345678"))
    html = client.get("/office/followups", headers=office(storage, "clerk")).text
    assert "<th>评价终端 Device</th>" in html and "Kiosk</th>" not in html and "<td>大厅1号机</td>" in html


def test_the_audit_log_names_each_page_as_the_navigation_does_beside_its_route(client, storage):
    kiosk = enrol(client, storage, name="大厅1号机")
    reg = kiosk.registered()
    push(client, kiosk, reg)
    number = reg["payload"]["ticket"]["number"]
    director = office(storage, "director")
    for path in ("/office/tickets", f"/office/tickets/{number}", "/office/due.csv"):
        assert client.get(path, headers=director).status_code == 200, path
    html = client.get("/office/audit", headers=director).text
    cells = re.findall(r"<td>([^<]*)<br><span class='zone'>([^<]*)</span></td>", html)
    assert ("受理单 · Tickets", "/office/tickets") in cells
    assert ("受理单 · Ticket", f"/office/tickets/{number}") in cells
    assert ("周检到期 · Verification due", "/office/due.csv") in cells
