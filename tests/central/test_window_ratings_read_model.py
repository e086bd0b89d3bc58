"""The back office's window ratings (central/ratings_export.py window_report) summed in SQL from
the rating read model (schema 23: central/readmodels/rating.py `window`), and its work orders
opened from the followup read model, say what reading every `feedback.given` of the period from
the events and grouping them in Python said (kept below, as it was): random histories of pads'
ratings (with and without 工号, steps, counter or ticket), lobby ratings, pickups before and after
the completion's rating, appeals, call-backs and closes, and a stolen desk voided midway, pushed
in random order and batches. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import uuid
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from bench.rewind import back_to
from central import ratings_export, readmodels, schema
from central.api.quotas import Quotas
from central.app import create_app
from central.devices import revoke
from central.readmodels import rating
from central.satisfaction import group_dict
from central.voiding import void
from central.words import ARRIVAL
from central.work_orders import PAGE_SIZE, Cursor, Orders
from kiosk.domain import events
from kiosk.domain.clock import local, start_of, utc_now
from kiosk.domain.ratings_export import window_groups

from .nodes import enrol, push
from .nodes import event as made
from .test_read_models import BASE, CLERKS, appeals, batches, rows_equal_after_rebuild

LEVELS = ("very_dissatisfied", "dissatisfied", "basic", "satisfied", "very_satisfied")


def from_events(storage, first: date | None, last: date | None) -> dict:
    """window_report's totals, groups and work orders as central derived them before schema 23:
    every rating of the period read from the events (central/ratings_export.py `ratings`),
    grouped in Python."""
    found = ratings_export.ratings(storage, first, last)
    groups = window_groups(ratings_export._counter(rated, name) for rated, name in found)
    window = [rated for rated, _ in found if rated.channel == "window"]
    return {"count": len(window), "set_aside": sum(1 for r in window if r.appeal == "upheld"),
            **{view: [group_dict(g) for g in rows] for view, rows in groups.items()},
            "work_orders": work_orders_from_events(storage, first, last)}


def work_orders_from_events(storage, first: date | None, last: date | None) -> list[dict]:
    """The work orders as central/ratings_export.py read them before they were paged: every rating,
    call and close since the period's start read from the events; in the pages' order
    (central/work_orders.py: newest rating first, by local day, time and the rating's key)."""
    where, params = ["e.void_id IS NULL", "e.kind IN ('feedback.given', 'followup.called', 'followup.closed')"], []
    if first is not None:
        where.append("e.created_at >= ?")
        params.append(storage.timestamp(start_of(first) - ratings_export.PAD))
    with storage.read() as tx:
        rows = tx.all(f"SELECT e.uid, e.kind, {storage.json_text('e.payload')} FROM event e "
                      f"WHERE {' AND '.join(where)} ORDER BY {ARRIVAL}", params)
    orders: dict[str, dict] = {}
    places: dict[str, tuple] = {}
    for uid, kind, text in rows:
        p = json.loads(text) if isinstance(text, str) else text
        if kind == "feedback.given":
            opened = p.get("followup")
            if not p.get("stage") or not isinstance(opened, dict) or opened.get("uid") in orders:
                continue
            day = local(datetime.fromisoformat(p["at"])).date()
            if (first is not None and day < first) or (last is not None and day > last):
                continue
            orders[opened["uid"]] = {"followup": opened["uid"], "feedback": p.get("feedback"),
                                     "number": p.get("number"), "stage": p.get("stage"),
                                     "staff_number": p.get("staff_number"), "rating": p.get("rating"),
                                     "reason": p.get("reason"), "given_at": p.get("at"),
                                     "due_on": opened.get("due_on"), "callback_by": opened.get("callback_by"),
                                     "calls": [], "closed_at": None, "note": None, "fix": None, "closed_by": None}
            given = datetime.fromisoformat(p["at"])
            places[opened["uid"]] = (day.isoformat(), given, f"{p['ticket']}|{p['stage']}" if p.get("ticket") else uid)
        elif p.get("followup") in orders:
            order = orders[p["followup"]]
            clerk = (p.get("clerk") or {}).get("name") or (p.get("clerk") or {}).get("username")
            if kind == "followup.called":
                order["calls"].append({"at": p.get("at"), "reached": bool(p.get("reached")), "note": p.get("note"),
                                       "by": clerk})
            elif order["closed_at"] is None:
                order.update(closed_at=p.get("at"), note=p.get("note"), fix=p.get("fix"), closed_by=clerk)
    return sorted(orders.values(), key=lambda o: places[o["followup"]], reverse=True)


def every_page(storage, first: date | None, last: date | None, state: str | None = None, size: int = 3) -> list[dict]:
    """The work orders of every page, following `next` from the first; and, back from the last
    page by `previous`, the same pages."""
    pages, asked = [], Orders(state=state, size=size)
    while True:
        report = ratings_export.window_report(storage, first, last, asked)
        pages.append(report["work_orders"])
        assert len(report["work_orders"]) <= size
        if not report["next"]:
            break
        asked = Orders(state=state, size=size, after=Cursor.parse(report["next"])[0])
    backwards = [pages[-1]]
    while report["previous"]:
        before = Cursor.parse(report["previous"])[0]
        report = ratings_export.window_report(storage, first, last, Orders(state=state, size=size, before=before))
        backwards.insert(0, report["work_orders"])
    assert backwards == pages or pages == [[]]
    return [order for page in pages for order in page]


def periods() -> list[tuple[date | None, date | None]]:
    start = local(BASE).date()
    return [(None, None), (date(2000, 1, 1), None), (start + timedelta(days=3), start + timedelta(days=26)),
            (start + timedelta(days=10), start + timedelta(days=10)), (None, start + timedelta(days=40))]


def reports_agree(storage) -> None:
    for first, last in periods():
        report = ratings_export.window_report(storage, first, last)
        expected = from_events(storage, first, last)
        orders = expected.pop("work_orders")
        assert {key: report[key] for key in expected} == expected, (first, last)
        assert report["work_orders"] == orders[:PAGE_SIZE], (first, last)
        assert every_page(storage, first, last) == orders, (first, last)
        for state, closed in (("open", False), ("closed", True)):
            assert every_page(storage, first, last, state, size=2) == [
                o for o in orders if (o["closed_at"] is not None) == closed], (first, last, state)


def pad_rating(rng: random.Random, desk, ticket: dict | None, stage: str, at) -> dict:
    """As kiosk/store/window_ratings.py rate() pushes it, with what a pad may leave out."""
    rating = rng.randint(1, 5)
    steps = rng.choice([{}, {}, {"received": events.StepSeen(device=desk.uid, clerk=rng.choice(CLERKS)[0])},
                        {"picked_up": events.StepSeen(device=desk.uid, clerk=rng.choice(CLERKS)[0])},
                        {"picked_up": events.StepSeen(device=desk.uid)}])
    given = events.FeedbackGiven(
        feedback=str(uuid.uuid4()), device=desk.uid, at=at, rating=rating, level=LEVELS[rating - 1],
        ticket=ticket["uid"] if ticket else None, number=ticket["number"] if ticket else None,
        reason="slow" if rating <= 2 else None, steps=steps,
        followup=events.FollowupOpened(str(uuid.uuid4()), (at + timedelta(days=7)).date(), at + timedelta(hours=48))
        if rating <= 2 else None, stage=stage, clerk="wang", staff_number=rng.choice([None, "GZ0107", "GZ0201"]),
        counter=rng.choice([None, "1", "3"]))
    return made("feedback.given", at, json.loads(events.to_json(given)))


def history(rng: random.Random, kiosks, desks, tickets: int) -> list[tuple]:
    """(device, event): tickets registered, received and picked up by random clerks, each stage
    rated at most once at a window (一次一评), some rated in the lobby too, a few pads' ratings
    without a ticket; appeals against some."""
    said = []
    for _ in range(tickets):
        kiosk = rng.choice(kiosks)
        at = BASE + timedelta(minutes=rng.randrange(60 * 24 * 30))
        reg = kiosk.registered(at=at)
        t = reg["payload"]["ticket"]
        said.append((kiosk, reg))
        for status, after in (("received", timedelta(hours=1)), ("picked_up", timedelta(days=rng.randint(2, 9)))):
            if rng.random() < 0.8:
                desk, (clerk, name) = rng.choice(desks), rng.choice(CLERKS)
                said.append((desk, desk.step(status, t["uid"], t["number"], at=at + after, clerk=clerk,
                                             clerk_name=name)))
        for stage in ("intake", "completion"):
            if rng.random() < 0.7:
                rated = at + timedelta(days=rng.choice((0, 1, 5, 9)), minutes=rng.randint(0, 300))
                said.append(((desk := rng.choice(desks)), pad_rating(rng, desk, t, stage, rated)))
        if rng.random() < 0.3:
            rater = rng.choice(kiosks)
            said.append((rater, rater.feedback(rng.randint(1, 5), at=at + timedelta(days=3), ticket=t["uid"],
                                               number=t["number"])))
    for _ in range(max(1, tickets // 8)):
        desk = rng.choice(desks)
        said.append((desk, pad_rating(rng, desk, None, rng.choice(("intake", "completion")),
                                      BASE + timedelta(days=rng.randint(1, 40)))))
    return said + appeals(rng, desks, [e for _, e in said if e["kind"] == "feedback.given"])


def called_back(rng: random.Random, desks, given: list[dict]) -> list[tuple]:
    """(desk, event): call-backs (reached or not) and closes (some twice, at two desks: the first
    to arrive counts) of some poor ratings' work orders, after their ratings reached central."""
    said = []
    for rated in given:
        p = rated["payload"]
        if not p.get("followup") or rng.random() < 0.3:
            continue
        at = datetime.fromisoformat(p["at"]) + timedelta(hours=rng.randint(1, 30))
        for _ in range(rng.randint(0, 2)):
            desk = rng.choice(desks)
            said.append((desk, made("followup.called", at, json.loads(events.to_json(events.FollowupCalled(
                call=str(uuid.uuid4()), followup=p["followup"]["uid"], feedback=p["feedback"], device=desk.uid, at=at,
                reached=rng.random() < 0.5, note=rng.choice(("", "已致歉")),
                clerk=events.Clerk(username="wang", name="王芳")))))))
        for _ in range(rng.choice((0, 1, 1, 2))):
            desk = rng.choice(desks)
            said.append((desk, desk.closed(rated, at=at + timedelta(hours=rng.randint(1, 9)),
                                           note=rng.choice(("已回电", "已整改")))))
    return rng.sample(said, len(said))


@pytest.mark.parametrize("seed", range(3))
def test_a_period_is_read_as_whole_weeks_and_the_days_left_each_day_once(seed):
    """The week view's ranges (rating.weeks): every day of the period in one of them, by its Monday
    (span 4) or its own date (span 1), none outside it, at most two day ranges."""
    rng = random.Random(seed)
    every = [date(2025, 12, 1) + timedelta(days=n) for n in range(130)]
    for _ in range(80):
        a, b = (date(2026, 1, 1) + timedelta(days=rng.randrange(60)) for _ in range(2))
        first, last = rng.choice((None, a)), rng.choice((None, b, a))
        ranges = rating.weeks(first, last)
        for day in every:
            key = {1: day.isoformat(), rating.WEEK: rating.monday(day.isoformat())}
            times = sum(low <= key[span] <= high for span, low, high in ranges)
            assert times == ((first or day) <= day <= (last or day)), (first, last, day, ranges)
        assert sum(span == 1 for span, *_ in ranges) <= 2


@pytest.mark.parametrize("seed", range(3))
def test_the_window_report_from_the_read_model_is_the_one_from_the_events(storage, seed):
    rng = random.Random(seed)
    with TestClient(create_app(storage, Quotas.parse("off"))) as client:
        kiosks = [enrol(client, storage, name="大厅1号机")]
        desks = [enrol(client, storage, "clerk", name=f"{n}号窗口") for n in (1, 2)]
        thief = enrol(client, storage, "clerk", name="被盗窗口")
        said = history(rng, kiosks, [*desks, thief], 40)
        planned = batches(rng, said)
        stolen_at = rng.randrange(len(planned) // 2, len(planned))
        since = None
        for n, (device, batch) in enumerate(planned):
            if n == stolen_at:
                since = utc_now()  # from here on what the stolen desk sent is void
            got = push(client, device, *batch)
            assert got.status_code == 200, got.text
        for device, call in called_back(rng, desks, [e for _, e in said if e["kind"] == "feedback.given"]):
            got = push(client, device, call)
            assert got.status_code == 200, got.text
        reports_agree(storage)
        revoke(storage, thief.uid)
        void(storage, thief.uid, since)
        reports_agree(storage)
    whole = every_page(storage, None, None)
    assert ratings_export.window_report(storage, None, None)["count"] > 10 and any(o["calls"] for o in whole) and \
        any(o["closed_at"] for o in whole) and len(whole) > 3  # more than one page of 3
    pushed = rows_equal_after_rebuild(storage)
    unstepped, set_aside = (rating.TABLE.columns.index(column) for column in ("unstepped", "set_aside"))
    assert any(row[unstepped] for row in pushed["rating"])  # some pads' ratings named no step
    assert any(row[set_aside] for row in pushed["rating"])  # some set aside by an upheld appeal
    assert {kind for _, _, kind, *_ in pushed["rating_sum"]} >= set(rating.WINDOW_KINDS)
    reports_agree(storage)


def test_a_version_22_central_gets_the_window_ratings_by_the_upgrade(client, storage):
    """Schema 23: the ratings stored before it get what the window report groups by (stage,
    counter, desk, 工号) from their events, in the upgrade's transaction."""
    rng = random.Random(7)
    desks = [enrol(client, storage, "clerk", name=f"{n}号窗口") for n in (1, 2)]
    for device, batch in batches(rng, history(rng, [enrol(client, storage)], desks, 12)):
        assert push(client, device, *batch).status_code == 200
    built, expected = readmodels.snapshot(storage), from_events(storage, None, None)
    assert expected["count"] > 5 and expected["clerk"]
    back_to(storage, 22)
    assert schema.ensure_schema(storage) == schema.SCHEMA_VERSION
    assert readmodels.snapshot(storage) == built
    report = ratings_export.window_report(storage, None, None)
    assert {key: report[key] for key in expected} == expected


def test_a_version_23_central_gets_the_window_sums_by_the_upgrade(client, storage):
    """Schema 24: the window groups' sums built from the ratings stored before (and their appeals:
    set aside by any upheld one), in the upgrade's transaction; `last_upheld` left unused (0)."""
    rng = random.Random(11)
    desks = [enrol(client, storage, "clerk", name=f"{n}号窗口") for n in (1, 2)]
    for device, batch in batches(rng, history(rng, [enrol(client, storage)], desks, 16)):
        assert push(client, device, *batch).status_code == 200
    built, expected = readmodels.snapshot(storage), from_events(storage, None, None)
    assert expected["count"] > 5 and expected["clerk"] and expected["set_aside"]
    assert {kind for _, _, kind, *_ in built["rating_sum"]} >= set(rating.WINDOW_KINDS)
    back_to(storage, 23)
    with storage.transaction() as tx:  # as central 23 left them: no window sums, its latest appeal upheld marked
        tx.execute("DELETE FROM rating_sum WHERE kind IN ('w_stage', 'w_counter', 'w_clerk')")
        tx.execute("UPDATE rating SET last_upheld = set_aside")
    assert schema.ensure_schema(storage) == schema.SCHEMA_VERSION >= 24
    assert readmodels.snapshot(storage) == built
    report = ratings_export.window_report(storage, None, None)
    assert {key: report[key] for key in expected} == expected


def as_central_23_left_it(storage) -> None:
    back_to(storage, 23)
    with storage.transaction() as tx:  # as central 23 left them: no window sums, its latest appeal upheld marked
        tx.execute("DELETE FROM rating_sum WHERE kind IN ('w_stage', 'w_counter', 'w_clerk')")
        tx.execute("UPDATE rating SET last_upheld = set_aside")


def test_a_large_version_23_central_gets_the_window_sums_by_chunks_after_start_up_the_office_saying_so(
        client, storage, monkeypatch):
    """Schema 24's sums no longer built inside the upgrade (pushes waited: 47 s at 100 k tickets):
    a central of more than backfill.INLINE_RATINGS ratings gets them by the backfill's `window`
    chunks after start-up, the office answering 503 "being built" (zh and en) meanwhile, pushes
    folding in between; the rows in the end those a build from the events gives, and without
    pushes the very rows schema 24's one-transaction build (readmodels.build_24) gave."""
    from central import backfill

    from .office_users import office

    rng = random.Random(13)
    desks = [enrol(client, storage, "clerk", name=f"{n}号窗口") for n in (1, 2)]
    planned = batches(rng, history(rng, [enrol(client, storage)], desks, 16))
    early, late = planned[:len(planned) * 2 // 3], planned[len(planned) * 2 // 3:]
    for device, batch in early:
        assert push(client, device, *batch).status_code == 200
    built = readmodels.snapshot(storage)
    as_central_23_left_it(storage)
    monkeypatch.setattr(backfill, "INLINE_RATINGS", 0)
    assert schema.ensure_schema(storage) == schema.SCHEMA_VERSION
    due = backfill.pending(storage)
    assert due is not None and due.phase == "window" and due.events_total == len(built["rating"]) > 5
    with TestClient(create_app(storage, Quotas.parse("off"))) as fresh:  # one that never saw them whole
        director = office(storage, "director")
        page = fresh.get("/office/ratings", headers=director)
        assert page.status_code == 503 and page.headers["retry-after"] == "30"
        assert f"评价 0/{due.events_total}" in page.text and f"(0 of {due.events_total} ratings)" in page.text
        answer = fresh.get("/api/v1/office/ratings", headers=director)
        assert answer.status_code == 503 and answer.json()["error"] == "building"
        assert f"0 of {due.events_total} ratings" in answer.json()["detail"]
        assert fresh.post("/public/progress", data={"number": "X", "tail": "1234"}).status_code != 503
        steps = 0
        while True:  # a chunk, then a device's push, in turns
            with storage.transaction() as tx:
                progress = backfill.step(tx, storage, event_size=3)
            steps += 1
            if late:
                device, batch = late.pop()
                assert push(fresh, device, *batch).status_code == 200
            if progress is None:
                break
        assert steps > due.events_total // 3
        for device, batch in late:
            assert push(fresh, device, *batch).status_code == 200
    with TestClient(create_app(storage, Quotas.parse("off"))) as after:
        assert after.get("/office/ratings", headers=office(storage, "director")).status_code == 200
    whole = rows_equal_after_rebuild(storage)
    reports_agree(storage)

    as_central_23_left_it(storage)  # again, no push meanwhile: the chunks give build_24's rows
    assert schema.ensure_schema(storage) == schema.SCHEMA_VERSION and backfill.pending(storage) is not None
    assert backfill.run(storage, event_size=4).chunks > 2 and backfill.pending(storage) is None
    assert readmodels.snapshot(storage) == whole
    as_central_23_left_it(storage)
    with storage.transaction() as tx:  # schema 24 as released: its statements, then its build in one go
        for statement in schema.UPGRADES[24]:
            tx.execute(statement.format(**schema.TYPES[storage.dialect]))
        readmodels.build_24(tx, storage)
    with storage.read() as tx:  # (ticket_state has 24's columns now: the ratings' tables compared)
        assert (rating.TABLE.snapshot(tx), rating.sums_snapshot(tx)) == (whole["rating"], whole["rating_sum"])


def test_in_the_window_phase_only_the_window_report_says_being_built_the_rest_is_served(tmp_path, monkeypatch):
    """While schema 24's window sums are built (the backfill's `window` phase: every other row is
    whole), `kiosk central serve` answers 503 "being built, N of M" (zh and en) only for what
    reads them, /office/ratings and its JSON; the office's home and summary, the ticket list, a
    ticket's page, the due list, the work list, the satisfaction figures and the ratings' export
    answer as always."""
    import http.client
    import os
    import subprocess
    import sys
    import threading

    from central import backfill
    from central.schema import open_storage

    from .office_users import office
    from .test_backfill import ROOT
    from .test_http import free_port
    from .test_window_ratings_office import ALL_TIME

    path = tmp_path / "central.sqlite3"
    storage = open_storage(f"sqlite:///{path}")
    try:
        rng = random.Random(17)
        with TestClient(create_app(storage, Quotas.parse("off"))) as client:
            desks = [enrol(client, storage, "clerk", name=f"{n}号窗口") for n in (1, 2)]
            for device, batch in batches(rng, history(rng, [enrol(client, storage)], desks, 16)):
                assert push(client, device, *batch).status_code == 200
        as_central_23_left_it(storage)
        monkeypatch.setattr(backfill, "INLINE_RATINGS", 0)
        assert schema.ensure_schema(storage) == schema.SCHEMA_VERSION
        due = backfill.pending(storage)
        assert due is not None and due.phase == "window" and due.events_total > 5
        with storage.read() as tx:
            number = tx.one("SELECT number FROM ticket_state ORDER BY number LIMIT 1")[0]
        director, exported = office(storage, "director"), ratings_export.exported(storage, None, None)
    finally:
        storage.close()
    port = free_port()
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "central", "serve", "--serves", "office", "--db",
                             str(path), "--port", str(port), "--log-level", "info"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:  # uvicorn says when it listens: no polling
            if "Uvicorn running on" in line:
                break
        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def get(target: str) -> tuple[int, str]:
            conn.request("GET", target, headers=director)
            answer = conn.getresponse()
            return answer.status, answer.read().decode()

        status, page = get(f"/office/ratings?{ALL_TIME}")
        assert status == 503 and f"评价 0/{due.events_total}" in page and f"(0 of {due.events_total} ratings)" in page
        status, body = get("/api/v1/office/ratings")
        assert status == 503 and json.loads(body)["error"] == "building"
        assert f"0 of {due.events_total} ratings" in json.loads(body)["detail"]
        for target in ("/office", "/api/v1/office/summary", "/office/tickets", f"/office/tickets?q={number}",
                       f"/office/tickets/{number}", f"/api/v1/office/tickets/{number}", "/office/due?within=30d",
                       "/office/worklist", f"/office/satisfaction?{ALL_TIME}", "/office/figures?by=month"):
            status, page = get(target)
            assert status == 200 and "being built" not in page, (target, status, page[:300])
        assert number in get(f"/office/tickets/{number}")[1]
        status, text = get("/office/ratings/export.csv")  # the ratings' rows: whole
        assert status == 200 and len(text.splitlines()) - 1 == len(exported) > 5
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
