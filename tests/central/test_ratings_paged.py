"""Issue 20 for the window ratings (central/appeals.py page, central/ratings_export.py streamed):
the appeals on /office/ratings and its JSON in keyset pages, newest filed first, none twice or
missing (ties of the filing time too), each decision shown as before; each role sees what it may;
the provincial export (CSV, JSON) streamed, a chunk of ratings at a time, the same bytes as the
whole was."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import timedelta

from central import appeals, ratings_export
from central.appeals import listed
from kiosk.domain import events
from kiosk.domain import ratings_export as shape

from .nodes import T0, enrol, event, push
from .office_users import office
from .test_window_ratings_office import ALL_TIME, served, window_rating

FILED = 62  # more than a page (appeals.PAGE_SIZE), so three pages


def _appeal(desk, poor: dict, at, *, uid: str | None = None, created=None) -> dict:
    filed = event("rating.appealed", at, json.loads(events.to_json(events.RatingAppealed(
        appeal=uid or str(uuid.uuid4()), feedback=poor["payload"]["feedback"], device=desk.uid, at=at,
        reason="顾客误触", clerk=events.Clerk(username="wang", name="王芳")))))
    if created is not None:
        filed["created_at"] = created.isoformat()
    return filed


def _decided(desk, filed: dict, decision: str) -> dict:
    at = T0 + timedelta(days=3)
    return event("appeal.decided", at, {
        "appeal": filed["payload"]["appeal"], "feedback": filed["payload"]["feedback"], "device": desk.uid,
        "at": at.isoformat(), "decision": decision, "reason": "监控", "supervisor": {"username": "zhao",
                                                                                     "name": "赵主任"}, "via": "desk"})


def _filed_many(client, storage):
    """FILED appeals of one poor rating, filed a minute apart but for runs of five filed at the
    same moment (ties of created_at); every third decided; one appeal's filing pushed twice (a
    second event, the same appeal uid): listed once. The filings, oldest first."""
    _, desk, reg = served(client, storage)
    poor = window_rating(desk, reg, "intake", 1, at=T0 + timedelta(hours=2), reason="slow")
    assert push(client, desk, poor).status_code == 200
    filings = [_appeal(desk, poor, T0 + timedelta(hours=3, minutes=n - n % 5)) for n in range(FILED)]
    assert push(client, desk, *filings).status_code == 200
    decisions = [_decided(desk, f, "upheld" if n % 2 else "rejected") for n, f in enumerate(filings) if n % 3 == 0]
    again = _appeal(desk, poor, T0 + timedelta(days=2), uid=filings[10]["payload"]["appeal"])
    assert push(client, desk, *decisions, again).status_code == 200
    return desk, filings


def test_the_appeals_come_in_pages_newest_first_none_twice_or_missing(client, storage):
    _, filings = _filed_many(client, storage)
    headers = office(storage, "clerk")
    every = {a["appeal"]: a for a in listed(storage)}  # every appeal folded, as the page was before
    assert len(every) == FILED

    report = client.get(f"/api/v1/office/ratings?{ALL_TIME}&appeals_state=all", headers=headers).json()
    assert (report["appeals_count"], report["appeals_more"], report["appeals_previous"]) == (FILED, False, None)
    pages = [report["appeals"]]
    while report["appeals_next"]:
        report = client.get(f"/api/v1/office/ratings?{ALL_TIME}&appeals_state=all&appeals={report['appeals_next']}",
                            headers=headers).json()
        pages.append(report["appeals"])
    assert [len(p) for p in pages] == [50, 12]
    seen = [a["appeal"] for p in pages for a in p]
    assert sorted(seen) == sorted(every) and len(set(seen)) == FILED  # none twice, none missing
    # Newest filed first; a run filed at the same moment in one order, the one the pages keep.
    assert [a["at"] for p in pages for a in p] == sorted((a["at"] for a in every.values()), reverse=True)
    assert [a for p in pages for a in p] == [every[uid] for uid in seen]  # each with its decision, as before
    assert sum(1 for uid in seen if every[uid]["decision"] == "upheld") == 10
    back = client.get(f"/api/v1/office/ratings?{ALL_TIME}&appeals_state=all&appeals={report['appeals_previous']}",
                      headers=headers).json()
    assert back["appeals"] == pages[0] and back["appeals_previous"] is None  # and back again, the same page

    decided = [f for n, f in enumerate(filings) if n % 3 == 0]  # the page shows a decision as it did
    page = client.get(f"/office/ratings?{ALL_TIME}&appeals_state=all", headers=headers)
    assert f"申诉 {FILED} 件" in page.text and "更早的申诉 Older appeals" in page.text
    assert "较新的申诉 Newer appeals" not in page.text
    older = re.search(r"<a href='(/office/ratings\?[^']+)#appeals'>更早的申诉", page.text).group(1)
    older = older.replace("&amp;", "&")
    assert "from=2000-01-01" in older and "appeals_state=all" in older  # the period and the state kept
    last = client.get(older, headers=headers).text
    assert "较新的申诉 Newer appeals" in last and "更早的申诉 Older appeals" not in last
    assert last.count("申诉不成立 Rejected：监控") + last.count("申诉成立 Upheld：监控") == sum(
        1 for f in decided if f["payload"]["appeal"] in {a["appeal"] for a in pages[1]})


def test_each_role_sees_the_appeals_it_may(client, storage):
    """Every office role lists the appeals (no customer's data in them); only a director gets the
    form to decide one; an auditor sees the work orders without their notes, no ticket linked."""
    _, desk, reg = served(client, storage)
    poor = window_rating(desk, reg, "intake", 1, at=T0 + timedelta(hours=2), reason="slow")
    filed = _appeal(desk, poor, T0 + timedelta(hours=3))
    closed = desk.closed(poor, at=T0 + timedelta(days=1), note="已致歉，客户张三满意")
    assert push(client, desk, poor, filed, closed).status_code == 200
    number = reg["payload"]["ticket"]["number"]
    for role, decides, personal in (("director", True, True), ("clerk", False, True), ("auditor", False, False)):
        page = client.get(f"/office/ratings?{ALL_TIME}", headers=office(storage, role))
        assert page.status_code == 200 and "申诉 1 件" in page.text and "顾客误触" in page.text, role
        decide_form, waiting_cell = ">审核 Decide</button>" in page.text, ">待审核 Waiting</td>" in page.text
        assert decide_form is decides and waiting_cell is not decides, role
        assert ("客户张三" in page.text) is personal, role  # a close's note: personal data
        assert (f"<a href='/office/tickets/{number}'>" in page.text) is personal, role
        report = client.get(f"/api/v1/office/ratings?{ALL_TIME}", headers=office(storage, role)).json()
        assert [a["appeal"] for a in report["appeals"]] == [filed["payload"]["appeal"]], role
        assert (report["work_orders"][0]["note"] is not None) is personal, role
    auditor = office(storage, "auditor")
    for bad in ("n1.x", "p123", "x1.2", "n1.0"):
        got = client.get(f"/api/v1/office/ratings?appeals={bad}", headers=auditor)
        assert got.status_code == 422 and got.json()["detail"].startswith("appeals"), bad
        page = client.get(f"/office/ratings?appeals={bad}", headers=auditor)
        assert page.status_code == 422 and "appeals" in page.text, bad


def _appeal_rows(html: str) -> list[list[str]]:
    """The appeals table's rows, each its cells' markup (the header left out)."""
    table = re.search(r"<h2 id='appeals'>.*?(<table>.*?</table>)", html, re.DOTALL).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)[1:]
    return [re.findall(r"<td>(.*?)</td>", row, re.DOTALL) for row in rows]


def test_an_appeal_names_the_ticket_the_stage_and_the_rating_not_the_rating_s_uid(client, storage):
    """A supervisor judges an appeal by what was rated: the ticket's number (linked to its page for
    a role that may see personal data, as the work orders' numbers are; an auditor reads it
    unlinked), 匿名 for an anonymous rating, the stage as the work orders name it (the lobby
    kiosk's rating has none), the level as the satisfaction pages word it; the JSON has them as
    keys beside the rating's uid. A rating central does not count is shown as unknown."""
    kiosk, desk, reg = served(client, storage)
    ticket = reg["payload"]["ticket"]
    number = ticket["number"]
    intake = window_rating(desk, reg, "intake", 1, at=T0 + timedelta(hours=2), reason="slow")
    completion = window_rating(desk, reg, "completion", 2, at=T0 + timedelta(hours=2, minutes=5), reason="attitude")
    anonymous = kiosk.feedback(2, at=T0 + timedelta(hours=2, minutes=10))
    lobby = kiosk.feedback(4, at=T0 + timedelta(hours=2, minutes=15), ticket=ticket["uid"], number=number)
    unknown = {"payload": {"feedback": str(uuid.uuid4())}}  # a rating central has not received
    assert push(client, desk, intake, completion).status_code == 200
    assert push(client, kiosk, anonymous, lobby).status_code == 200
    rated = (intake, completion, anonymous, lobby, unknown)
    filed = [_appeal(desk, r, T0 + timedelta(hours=3, minutes=n)) for n, r in enumerate(rated)]
    assert push(client, desk, *filed).status_code == 200

    link = f"<a href='/office/tickets/{number}'>{number}</a>"
    words = [("受理 Intake", "1 · 非常不满意 Very dissatisfied"), ("办结 Completion", "2 · 不满意 Dissatisfied"),
             ("自助终端 Lobby kiosk", "2 · 不满意 Dissatisfied"), ("自助终端 Lobby kiosk", "4 · 满意 Satisfied"),
             ("—", "—")]
    for role, personal in (("director", True), ("clerk", True), ("auditor", False)):
        headers = office(storage, role)
        page = client.get(f"/office/ratings?{ALL_TIME}", headers=headers).text
        rows = _appeal_rows(page)  # waiting: the oldest filed first
        shown = link if personal else number
        assert [row[1:4] for row in rows] == [
            [shown, *words[0]], [shown, *words[1]], ["匿名 · anonymous", *words[2]], [shown, *words[3]],
            ["—", *words[4]]], role
        assert ("/office/tickets/" in page) is personal, role  # an auditor: no ticket's page linked
        assert not any(r["payload"]["feedback"] in page for r in rated), role  # no rating uid shown
        report = client.get(f"/api/v1/office/ratings?{ALL_TIME}", headers=headers).json()
        assert [(a["number"], a["stage"], a["rating"], a["level"]) for a in report["appeals"]] == [
            (number, "intake", 1, "very_dissatisfied"), (number, "completion", 2, "dissatisfied"),
            (None, None, 2, "dissatisfied"), (number, None, 4, "satisfied"), (None, None, None, None)], role
        assert [(a["appeal"], a["feedback"], a["reason"], a["by"]) for a in report["appeals"]] == [
            (f["payload"]["appeal"], f["payload"]["feedback"], "顾客误触", "王芳") for f in filed], role
    director = office(storage, "director")
    decided = client.post(f"/api/v1/office/appeals/{filed[0]['payload']['appeal']}/decide",
                          json={"decision": "rejected", "reason": "监控显示正常"}, headers=director)
    assert decided.status_code == 200 and (decided.json()["number"], decided.json()["stage"]) == (number, "intake")


def test_the_appeals_ratings_are_read_by_key_in_one_statement(storage):
    """A page's ratings (appeals.rated) are one statement by `rating_feedback` and ticket_state's
    key, whatever the number of ratings stored (the planner told to avoid scans, as it would at
    scale)."""
    said: list[tuple[str, tuple]] = []
    found = [{"feedback": f"0193aaaa-0000-7000-8000-0000000000{n:02}"} for n in range(appeals.PAGE_SIZE)]
    with storage.transaction() as tx:
        run = tx.all
        tx.all = lambda sql, params=(): said.append((sql, tuple(params))) or run(sql, params)
        appeals.rated(tx, storage, found)
        tx.all = run
        assert all(a["number"] is a["stage"] is a["rating"] is a["level"] is None for a in found)
        if storage.postgres:
            tx.execute("SET LOCAL enable_seqscan = off")
        explain = "EXPLAIN" if storage.postgres else "EXPLAIN QUERY PLAN"
        [(sql, params)] = said
        plan = " ".join(str(row[-1]) for row in tx.all(f"{explain} {sql}", params))
        assert "rating_feedback" in plan and "Seq Scan" not in plan and not re.search(r"\bSCAN [rs]\b", plan), plan
        keyed = ("Index Scan using ticket_state_pkey", "Index Cond: (uid = r.ticket)") if storage.postgres else (
            "SEARCH s USING INDEX",)
        assert all(part in plan for part in keyed), plan  # each row's ticket by its key, not a join over the table


def _tickets(client, kiosk, desk, n: int) -> list[dict]:
    """`n` more tickets registered at the kiosk and received at the desk (each rated once per stage)."""
    regs = [kiosk.registered() for _ in range(n)]
    received = [desk.step("received", r["payload"]["ticket"]["uid"], r["payload"]["ticket"]["number"],
                          at=T0 + timedelta(hours=1)) for r in regs]
    assert push(client, kiosk, *regs).status_code == 200 and push(client, desk, *received).status_code == 200
    return regs


def _rated_many(client, storage):
    """Window and lobby ratings of 13 tickets over ten days (one each of a ticket's intake and
    completion), some stored (created_at) up to a day before or after their own time (`at`: a
    device's clock), two given at the same moment, two stored twice, a lobby rating with no steps
    (central's clerk), an anonymous one, one appeal upheld, one waiting, one rejected."""
    kiosk, desk, reg = served(client, storage)
    regs = [reg, *_tickets(client, kiosk, desk, 12)]
    ticket = reg["payload"]["ticket"]
    given = []
    for n in range(24):
        at = T0 + timedelta(hours=10 * n)
        rated = window_rating(desk, regs[n // 2], ("intake", "completion")[n % 2], 1 + n % 5, at=at, reason="slow",
                              counter="=SUM(A1)" if n == 3 else "3")
        rated["created_at"] = (at + timedelta(hours=(-20, 0, 20)[n % 3])).isoformat()
        given.append(rated)
    tie = window_rating(desk, regs[12], "intake", 4, at=T0 + timedelta(hours=50))  # given[5]'s moment
    assert push(client, desk, *given, tie).status_code == 200
    lobby = kiosk.feedback(2, at=T0 + timedelta(days=4), ticket=ticket["uid"], number=ticket["number"],
                           phone="13812345678")
    lobby["payload"]["steps"] = {}
    anonymous = kiosk.feedback(5, at=T0 + timedelta(days=3, hours=1))
    assert push(client, kiosk, lobby, anonymous).status_code == 200
    again = [given[n] | {"uid": str(uuid.uuid4())} for n in (4, 20)]  # a rating stored twice: exported once
    again[1]["created_at"] = (T0 + timedelta(hours=200)).isoformat()
    assert push(client, desk, *again).status_code == 200
    with storage.read() as tx:
        assert tx.one("SELECT count(*) FROM event WHERE kind = 'feedback.given'")[0] == 24 + 1 + 2 + 2
    upheld, rejected = _appeal(desk, given[0], T0 + timedelta(hours=1)), _appeal(desk, given[7], T0)
    assert push(client, desk, upheld, _decided(desk, upheld, "upheld"), _appeal(desk, given[1], T0), rejected,
                _decided(desk, rejected, "rejected")).status_code == 200


def test_the_export_streams_the_same_ratings_a_chunk_at_a_time(client, storage):
    _rated_many(client, storage)
    department = ratings_export.department(storage)
    for first, last in ((None, None), ((T0 + timedelta(days=2)).date(), (T0 + timedelta(days=6)).date())):
        whole = ratings_export.exported(storage, first, last)  # read from the events at once, as the export was
        pieces = list(ratings_export.streamed(storage, first, last, chunk=3))
        assert [r for piece in pieces for r in piece] == whole
        if first is None:  # handed over a chunk at a time, a tie in one piece
            assert len(pieces) >= 8 and max(len(p) for p in pieces) == 4 and len(whole) == 27
            assert [r.appeal for r in whole[:2]] == ["upheld", "waiting"]
            assert [r.appeal for r in whole].count("rejected") == 1  # its appeal read with its piece
        text = b"".join(ratings_export.csv_chunks(storage, first, last, department, chunk=3)).decode()
        assert text == shape.to_csv(whole, department)
        assert "'=SUM(A1)" in text or first is not None  # a formula neutralised still
        data = b"".join(ratings_export.json_chunks(storage, first, last, department, chunk=3)).decode()
        assert data == shape.to_json(whole, department)
    empty = b"".join(ratings_export.json_chunks(storage, T0.date() - timedelta(days=30),
                                                T0.date() - timedelta(days=29), department)).decode()
    assert empty == shape.to_json([], department) and json.loads(empty)["ratings"] == []

    headers = office(storage, "auditor")  # the export is no one's personal data: every role
    got = client.get("/office/ratings/export.csv", headers=headers)
    assert got.status_code == 200 and got.headers["content-type"] == "text/csv; charset=utf-8"
    assert "content-length" not in got.headers  # streamed (chunked), not built whole first
    assert got.headers["content-disposition"].startswith('attachment; filename="ratings-')
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert len(rows) == 27 and "13812345678" not in got.text and "王芳" not in got.text
    got = client.get("/office/ratings/export.json?from=2026-11-26", headers=headers)
    assert got.status_code == 200 and "content-length" not in got.headers
    assert got.json()["ratings"] and all(r["rated_at"] >= "2026-11-26" for r in got.json()["ratings"])
    assert client.get("/office/ratings/export.csv?from=2026-11-30&to=2026-11-01", headers=headers).status_code == 422


def test_the_export_is_in_time_order_each_rating_once_however_late_or_often_stored(client, storage):
    """A rating stored days after its time (a device offline, or its clock behind) comes out in
    its place, not when it was stored; a rating stored twice days apart (a second event of it:
    a ticket's at the window, an anonymous one in the lobby) comes out once, its first."""
    kiosk, desk, reg = served(client, storage)
    regs = [reg, *_tickets(client, kiosk, desk, 8)]
    on_time = [window_rating(desk, regs[n], "intake", 5, at=T0 + timedelta(days=n, hours=2)) for n in range(1, 7)]
    assert push(client, desk, *on_time).status_code == 200
    late = window_rating(desk, regs[7], "intake", 3, at=T0 + timedelta(hours=3))
    late["created_at"] = (T0 + timedelta(days=5)).isoformat()  # stored five days after its time
    twice = window_rating(desk, regs[8], "completion", 4, at=T0 + timedelta(hours=4))
    anonymous = kiosk.feedback(1, at=T0 + timedelta(hours=5))
    assert push(client, desk, late, twice).status_code == 200 and push(client, kiosk, anonymous).status_code == 200
    again = [twice | {"uid": str(uuid.uuid4()), "created_at": (T0 + timedelta(days=6)).isoformat()},
             anonymous | {"uid": str(uuid.uuid4()), "created_at": (T0 + timedelta(days=7)).isoformat()}]
    assert push(client, desk, again[0]).status_code == 200 and push(client, kiosk, again[1]).status_code == 200

    expected = [r["payload"]["feedback"] for r in (late, twice, anonymous, *on_time)]
    for chunk in (1, 2, 1000):
        found = [r.uid for piece in ratings_export.streamed(storage, None, None, chunk=chunk) for r in piece]
        assert found == expected, chunk
    rows = list(csv.DictReader(io.StringIO(client.get("/office/ratings/export.csv",
                                                      headers=office(storage, "auditor")).text)))
    assert [row["id"] for row in rows] == expected
    assert [row["rated_at"] for row in rows] == sorted(row["rated_at"] for row in rows)


def test_the_export_s_period_is_of_local_days_in_the_institute_s_zone(client, storage):
    """from..to are the institute's local days (here UTC-8, not central's UTC nor the default
    +08:00): a rating at the first day's local midnight is in, a second before it out; the last
    day's last second in, its next midnight out; a rating stored days after its time is in."""
    from kiosk.domain.clock import set_zone, start_of, zone

    was = zone().key
    set_zone("America/Los_Angeles")
    try:
        kiosk = enrol(client, storage)
        first, last = (T0 + timedelta(days=2)).date(), (T0 + timedelta(days=4)).date()
        starts, ends = start_of(first), start_of(last + timedelta(days=1))
        moments = (starts - timedelta(seconds=1), starts, starts + timedelta(days=1), ends - timedelta(seconds=1), ends)
        rated = [kiosk.feedback(4, at=at) for at in moments]
        rated[2]["created_at"] = (ends + timedelta(days=5)).isoformat()  # stored late: in its day still
        assert push(client, kiosk, *rated).status_code == 200
        inside = [r["payload"]["feedback"] for r in rated[1:4]]
        assert [r.uid for p in ratings_export.streamed(storage, first, last) for r in p] == inside
        got = client.get(f"/office/ratings/export.json?from={first}&to={last}", headers=office(storage, "auditor"))
        shown = got.json()["ratings"]
        assert [r["id"] for r in shown] == inside
        assert [r["rated_at"][-15:] for r in shown] == ["T00:00:00-08:00", "T00:00:00-08:00", "T23:59:59-08:00"]
    finally:
        set_zone(was)


def test_an_appeal_page_link_reads_one_page(storage):
    """The link round-trips, and an empty central has one empty page."""
    found = appeals.page(storage)
    assert (found.appeals, found.next, found.previous, found.count, found.more) == ([], None, None, 0, False)
    place = appeals.Cursor(T0, 12)
    text = place.link(True)
    assert re.fullmatch(appeals.PAGE_LINK, text) and appeals.Cursor.parse(text) == (place, True)
