"""The back office's work list (在办清单): open tickets from every desk's pushed steps, the
promise the kiosk printed (carried in the registration), the desk's rule for late and
overdue; on SQLite and PostgreSQL, as JSON, a page and a CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

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
    following = re.search(r"href='/office/worklist\?after=([A-Za-z0-9_-]+)&amp;size=3' rel='next'", first)
    assert "第 1 / 2 页" in first and following and pages[0]["next"] and pages[1]["next"] is None
    assert d not in first and "rel='prev'" not in first
    by_cursor = client.get("/office/worklist", params={"size": 3, "after": following[1]}, headers=headers).text
    assert "第 2 / 2 页" in by_cursor and d in by_cursor and a not in by_cursor and "rel='next'" not in by_cursor
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


def test_certificates_returned_for_correction_are_lab_work_again_with_their_own_promise(client, storage,
                                                                                        monkeypatch):
    """Issue 23: a ticket whose certificate went back to the lab at dispatch is listed as lab work
    with the corrected one's promise (late once it has passed), whatever its status, until it is
    re-checked or the customer takes it as it is; pages in the list's order; the JSON, page and CSV
    say so. A return whose event names no promise gets central's setting (CENTRAL_CORRECTION_DAYS)."""
    from central.worklist import work_page

    from .test_certificate_checks import checked, taken

    kiosk, desk = enrol(client, storage, name="大厅1号机"), enrol(client, storage, "clerk", name="1号窗口")

    def ticket(registered, received, ready=None, *, promise):
        reg = kiosk.registered(at=local(registered), promise=promise)
        t = reg["payload"]["ticket"]
        steps = [desk.step("received", t["uid"], t["number"], at=local(received),
                           lines=[line("L-001-001", quantity=2)])]
        if ready:
            steps.append(desk.step("ready", t["uid"], t["number"], at=local(ready)))
        assert push(client, kiosk, reg).status_code == 200 and push(client, desk, *steps).status_code == 200
        return t["uid"], t["number"]

    def back(t, at, *, instrument=0, promised_on=None, **kw):
        e = checked(desk, *t, instrument=instrument, outcome="returned", wrong=("serial",), at=local(at), **kw)
        if promised_on is None:
            del e["payload"]["promised_on"]
        else:
            e["payload"]["promised_on"] = promised_on
        assert push(client, desk, e).status_code == 200
        return e

    late = ticket("2026-11-16T09:00", "2026-11-16T09:30", promise={"ready_on": "2026-11-23"})
    soon = ticket("2026-11-24T09:00", "2026-11-24T09:30", promise={"ready_on": "2026-12-04"})
    waiting = ticket("2026-11-02T09:00", "2026-11-02T09:30", "2026-11-20T15:00", promise={"ready_on": "2026-11-10"})
    lapsed = ticket("2026-11-03T09:00", "2026-11-03T09:30", "2026-11-18T15:00", promise={"ready_on": "2026-11-10"})
    again = ticket("2026-11-04T09:00", "2026-11-04T09:30", "2026-11-19T15:00", promise={"ready_on": "2026-11-12"})
    kept = ticket("2026-11-05T09:00", "2026-11-05T09:30", "2026-11-19T16:00", promise={"ready_on": "2026-11-12"})
    numbers = [t[1] for t in (late, soon, waiting, lapsed, again, kept)]
    before = work_list(storage, now=NOW)
    assert sorted(i.number for i in before.items) == sorted(numbers) and not any(i.returned for i in before.items)

    back(waiting, "2026-11-24T10:00", promised_on="2026-11-26")  # ready, back in the lab: promised Thursday
    back(lapsed, "2026-11-20T10:00", promised_on="2026-11-24")  # its promise has passed: late lab work
    monkeypatch.setenv("CENTRAL_CORRECTION_DAYS", "3")
    back(soon, "2026-11-25T09:00")  # no promise in the event: central's 3 working days (Thu, Fri, Mon)
    first = back(again, "2026-11-21T09:00", promised_on="2026-11-23")
    assert push(client, desk, checked(desk, *again, at=local("2026-11-24T09:00"),
                                      recheck_of=first["payload"]["check"])).status_code == 200  # re-checked: done
    returned = back(kept, "2026-11-21T09:00", promised_on="2026-11-23")
    assert push(client, desk, taken(desk, returned)).status_code == 200  # the customer took it as it is

    got = work_list(storage, now=NOW)
    by = {i.number: i for i in got.items}
    assert (by[lapsed[1]].returned, by[lapsed[1]].corrected_by, by[lapsed[1]].late) == (1, date(2026, 11, 24), True)
    assert (by[waiting[1]].returned, by[waiting[1]].corrected_by, by[waiting[1]].late) == (1, date(2026, 11, 26),
                                                                                          False)
    assert (by[waiting[1]].status, by[soon[1]].corrected_by) == ("ready", date(2026, 11, 30))
    assert by[again[1]].returned == 0 and by[kept[1]].returned == 0
    order = [i.number for i in got.items]
    # late lab work by promise: the 23rd's, then the correction promised the 24th; then the late pickups;
    # then lab work by promise: the correction promised the 26th, then the one of the 30th.
    assert order[:2] == [late[1], lapsed[1]] and order.index(waiting[1]) < order.index(soon[1])
    assert (got.in_lab, got.in_lab_late, got.waiting, got.waiting_overdue) == (2, 1, 4, 1)

    for size in (1, 2, 3, 4, 6, 7):  # pages, one after another, are the list, with its counts
        pages = [work_page(storage, 1, size, now=NOW)]
        while len(pages) < pages[0].pages:
            pages.append(work_page(storage, len(pages) + 1, size, now=NOW))
        assert [i for p in pages for i in p.items] == got.items, size
        assert (pages[-1].in_lab, pages[-1].in_lab_late, pages[-1].waiting, pages[-1].waiting_overdue) == (
            2, 1, 4, 1)
        keyed = [work_page(storage, 1, size, now=NOW)]  # and by their `next` keysets: the same pages
        while keyed[-1].next is not None:
            keyed.append(work_page(storage, size=size, after=keyed[-1].next))
        assert [p.items for p in keyed] == [p.items for p in pages], size

    headers = office(storage)
    data = client.get("/api/v1/office/worklist", headers=headers).json()
    assert {i["number"]: (i["returned"], i["corrected_by"]) for i in data["items"]}[waiting[1]] == (1, "2026-11-26")
    page = client.get("/office/worklist", headers=headers).text
    assert "退回更正 returned for correction (1) · 待取 ready" in page and "更正承诺 corrected by 2026-11-26" in page
    rows = list(csv.DictReader(io.StringIO(client.get("/office/worklist.csv", headers=headers).text)))
    assert {r["number"]: r["corrected_by"] for r in rows}[lapsed[1]] == "2026-11-24"
