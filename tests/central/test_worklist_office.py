"""The back office's work list (在办清单): open tickets from every desk's pushed steps, the
promise the kiosk printed (carried in the registration), the desk's rule for late and
overdue; on SQLite and PostgreSQL, as JSON, a page and a CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from central.worklist import work_list
from kiosk.domain.clock import zone

from .nodes import enrol, push
from .test_due_office import line
from .test_feedback_office import office


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone())


NOW = local("2026-11-25T10:00")


def test_late_work_first_then_overdue_pickups_from_every_desk(client, storage):
    kiosk = enrol(client, storage, name="大厅1号机")
    desks = [enrol(client, storage, "clerk", name=f"{n}号窗口") for n in (1, 2)]

    def ticket(registered, received=None, ready=(), picked_up=None, *, promise=None, lines=None, **customer):
        reg = kiosk.registered(at=local(registered), promise=promise, **customer)
        t = reg["payload"]["ticket"]
        assert push(client, kiosk, reg).status_code == 200
        steps = []
        if received:
            steps.append((desks[0], desks[0].step("received", t["uid"], t["number"], at=local(received),
                                                  lines=lines or [line("L-001-001", quantity=3)])))
        for desk, at in zip(desks, ready, strict=False):  # two desks, offline, both marked it ready
            steps.append((desk, desk.step("ready", t["uid"], t["number"], at=local(at))))
        if picked_up:
            steps.append((desks[0], desks[0].step("picked_up", t["uid"], t["number"], at=local(picked_up))))
        for desk, step in steps:
            assert push(client, desk, step).status_code == 200, step
        return t["number"]

    a = ticket("2026-11-16T09:00", "2026-11-16T09:30", promise={"ready_on": "2026-11-23"},
               lines=[line("L-001-001", quantity=2), line("C-003-001", quantity=1, refused=True)])
    b = ticket("2026-11-24T08:00", "2026-11-24T08:00", promise={"ready_on": "2026-12-01", "urgent_hours": 24},
               organisation="<b>医院</b>", phone="0851-86543210")
    c = ticket("2026-10-08T09:00", "2026-10-08T09:10", ("2026-10-22T15:00", "2026-10-20T15:00"),
               promise={"ready_on": "2026-10-15"})
    d = ticket("2026-11-24T11:00", "2026-11-24T11:05")  # from a kiosk before promises were sent
    ticket("2026-11-02T09:00", "2026-11-02T09:30", ("2026-11-06T15:00",), "2026-11-09T10:00")  # collected
    ticket("2026-11-25T09:00")  # registered only

    got = work_list(storage, now=NOW)
    assert [i.number for i in got.items] == [a, b, c, d]
    by = {i.number: i for i in got.items}
    assert (by[a].late, by[a].instruments, by[a].status) == (True, 2, "received")  # the refused tape not counted
    assert by[b].late and by[b].urgent_by == local("2026-11-25T08:00")
    assert (by[c].status, by[c].waiting_days, by[c].late) == ("ready", 36, True)  # the earliest "ready" counts
    assert (by[d].late, by[d].due) == (False, None)
    assert (got.in_lab, got.in_lab_late, got.waiting, got.waiting_overdue) == (3, 2, 1, 1)

    headers = office(storage)
    data = client.get("/api/v1/office/worklist", headers=headers).json()  # the wall clock's now
    assert {i["number"] for i in data["items"]} == {a, b, c, d} and data["pickup_days"] == 30
    assert data["items"][0]["number"] == a and data["items"][0]["late"]  # late on any day after 23 November
    assert data["items"][0]["phone"] == "138****5678"  # masked here; in full in the CSV
    rows = list(csv.DictReader(io.StringIO(client.get("/office/worklist.csv", headers=headers).text)))
    assert {r["number"]: r["phone"] for r in rows}[b] == "0851-86543210"
    page = client.get("/office/worklist", params={"days": 1}, headers=headers).text
    assert "&lt;b&gt;医院&lt;/b&gt;" in page and "<b>医院</b>" not in page
    assert "超过 1 天未取 1" in page and "超期 overdue" in page
    assert "/office/worklist" in client.get("/office", headers=headers).text

    # A page at a time, in the list's order; the counts are the whole list's, the CSV all of it.
    pages = [client.get("/api/v1/office/worklist", params={"size": 3, "page": n}, headers=headers).json()
             for n in (1, 2, 3)]
    assert [[i["number"] for i in p["items"]] for p in pages] == [[a, b, c], [d], []]
    assert {p["pages"] for p in pages} == {2} and pages[1]["in_lab"] == 3 and pages[1]["waiting"] == 1
    first = client.get("/office/worklist", params={"size": 3}, headers=headers).text
    assert "第 1 / 2 页" in first and "href='/office/worklist?days=30&amp;page=2&amp;size=3'" in first
    assert d not in first and "rel='prev'" not in first
    second = client.get("/office/worklist", params={"size": 3, "page": 2}, headers=headers).text
    assert d in second and a not in second and "rel='next'" not in second and "page=1" in second
    assert len(rows) == 4


def test_the_work_list_needs_a_signed_in_user_and_a_sane_period(client, storage):
    for path in ("/api/v1/office/worklist", "/office/worklist", "/office/worklist.csv"):
        assert client.get(path, follow_redirects=False).status_code == (401 if path.startswith("/api/") else 303)
        for days in ("0", "366", "x", "3\x85", "３0", " 30", "30.0", "+30"):  # ASCII digits only
            assert client.get(path, params={"days": days}, headers=office(storage)).status_code == 422
    for path in ("/api/v1/office/worklist", "/office/worklist"):
        for name, value in (("page", "0"), ("page", "x"), ("size", "0"), ("size", "501"), ("size", "５0")):
            assert client.get(path, params={name: value}, headers=office(storage)).status_code == 422, (name, value)
