"""The read models (central/readmodels/) on SQLite and PostgreSQL: random histories pushed
through the real push path (random order, random batches, repeats, a step before its
registration, two desks recording one step, ratings twice, a stolen
kiosk and desk voided midway) leave the rows that building them from the events gives; and the
office's answers read from them are what the derivations from the whole history (kept below,
as they were before the read models) say."""

from __future__ import annotations

import json
import random
import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from bench.rewind import back_to
from central import readmodels
from central.api.quotas import Quotas
from central.app import create_app
from central.cli import main as cli_main
from central.devices import revoke
from central.office import RECENT, mask_phone, summary
from central.readmodels import rating
from central.readmodels.rating import pieces
from central.readmodels.stored import Stored
from central.satisfaction import exported, group_dict, ratings, report
from central.schema import SCHEMA_VERSION, ensure_schema
from central.storage import as_datetime, ts
from central.tickets import Fact, derive
from central.voiding import void
from central.words import ARRIVAL, STATUSES
from central.worklist import work_list, work_page
from kiosk.domain.clock import local, utc_now
from kiosk.domain.satisfaction import (
    Rating,
    by_clerk,
    by_counter,
    by_heart,
    by_week,
    distinct_labels,
    monday,
    overall,
)
from kiosk.domain.worklist import assess, ordered

from .locks import until_it_waits
from .nodes import enrol, push
from .nodes import event as made
from .test_due_office import line

BASE = datetime(2026, 6, 1, 1, 30, tzinfo=UTC)  # histories end well before today: no time is ahead of central's
NOW = datetime(2026, 9, 20, 2, 0, tzinfo=UTC)
ORGANISATIONS = ("贵阳燃气有限公司", "遵义水务集团", "安顺人民医院")
CLERKS = (("wang", "王芳"), ("li", "李静"), ("zhang", "张敏"))
INSTRUMENT_CODES, SERIALS = ("L-001-001", "Z-002-001"), ("", "A7", "a7", "B12")


# ---- the derivations as they were before the read models (the reference) ------------------------

def derived_counts(storage) -> dict[str, int]:
    found = dict.fromkeys(STATUSES, 0)
    with storage.read() as tx:
        for status, n in tx.all("SELECT cur.status, COUNT(*) FROM (SELECT ticket, MAX(status) AS status "
                                "FROM event WHERE ticket IS NOT NULL AND void_id IS NULL GROUP BY ticket) cur "
                                "GROUP BY cur.status"):
            found[STATUSES[status]] = n
    return found


def _facts(storage) -> dict[str, tuple[list[Fact], dict | None, int | None]]:
    """Every ticket's facts in force, oldest first, its first registration's payload and the
    first intake's total (central/tickets.py _facts as it was)."""
    found: dict[str, tuple[list[Fact], dict | None, int | None]] = {}
    with storage.read() as tx:
        rows = tx.all(f"SELECT e.ticket, e.uid, e.status, e.created_at, d.uid, {storage.json_text('e.payload')} "
                      "FROM event e LEFT JOIN device d ON d.id = e.device_id WHERE e.ticket IS NOT NULL "
                      "AND e.void_id IS NULL ORDER BY e.created_at, e.uid")
    for ticket, uid, status, created, device, payload in rows:
        data = json.loads(payload)
        number = data["ticket"]["number"] if status == 0 else data["number"]
        facts, registered, taken_in = found.setdefault(ticket, ([], None, None))
        facts.append(Fact(STATUSES[status], as_datetime(created), device, uid, number))
        if status == 0 and registered is None:
            found[ticket] = (facts, data, taken_in)
        elif status == 1 and taken_in is None:
            found[ticket] = (facts, registered, data.get("total_fen"))
    return found


def derived_recent(storage) -> dict[str, list[dict]]:
    """The overview's latest tickets of each status, as office._ticket gave them."""
    recent: dict[str, list[tuple]] = {status: [] for status in STATUSES}
    for uid, (facts, registration, taken_in) in _facts(storage).items():
        now = derive(facts)
        customer = (registration or {}).get("customer") or {}
        recent[now.status].append((now.since, uid, {
            "uid": uid, "number": now.number, "status_at": ts(now.since), "organisation": customer.get("organisation"),
            "phone": mask_phone(customer.get("phone")),
            "total_fen": ((registration or {}).get("ticket") or {}).get("total_fen"), "taken_in_fen": taken_in}))
    return {status: [view for *_, view in sorted(rows, key=lambda r: (-r[0].timestamp(), r[1]))[:RECENT]]
            for status, rows in recent.items()}


def derived_work_list(storage, now: datetime, pickup_days: int = 30):
    f = storage.json_field
    with storage.read() as tx:
        rows = tx.all(
            f"SELECT ticket, status, created_at, "
            f"COALESCE({f('payload', 'ticket', 'number')}, {f('payload', 'number')}), "
            f"{f('payload', 'customer', 'organisation')}, {f('payload', 'customer', 'contact')}, "
            f"{f('payload', 'customer', 'phone')}, {f('payload', 'ticket', 'ready_on')}, "
            f"{f('payload', 'ticket', 'urgent_hours')}, {f('payload', 'lines')} FROM event "
            "WHERE ticket IN (SELECT ticket FROM event WHERE ticket IS NOT NULL AND void_id IS NULL GROUP BY ticket "
            "HAVING MAX(status) IN (1, 2)) AND status IN (0, 1, 2) AND void_id IS NULL ORDER BY created_at, uid")
    facts: dict[str, dict[int, tuple]] = {}
    for ticket, status, at, *fields in rows:
        facts.setdefault(ticket, {}).setdefault(status, (as_datetime(at), *fields))
    items = []
    for ticket, steps in facts.items():
        if 1 not in steps:
            continue
        status = {1: "received", 2: "ready"}[max(s for s in steps if s in (1, 2))]
        registered = steps.get(0)
        received_at, number = steps[1][0], (registered or steps[1])[1] or ""
        customer = tuple(x or "" for x in registered[2:5]) if registered else ("", "", "")
        ready_on = date.fromisoformat(registered[5]) if registered and registered[5] else None
        hours = int(registered[6]) if registered and registered[6] else None
        urgent_by = local(received_at + timedelta(hours=hours)) if hours else None
        lines = [ln for ln in json.loads(steps[1][7] or "[]") if not ln.get("refused")]
        items.append(assess(ticket, number, status, customer, sum(int(ln["quantity"]) for ln in lines), received_at,
                            steps[2][0] if 2 in steps else None, urgent_by, ready_on, local(now), pickup_days,
                            tuple(sorted({str(ln.get("service")) for ln in lines}))))
    return ordered(items, pickup_days)


def _served(steps: dict, known: dict) -> tuple[str | None, str | None, str | None]:
    """(device uid, clerk's username, clerk's name) credited with a rating: picked up, else
    received; each step as the payload says, completed by what central knows of it (the rule
    central/readmodels/rating.py COUNTER and CLERK say in SQL)."""
    device = username = name = None
    for step in ("picked_up", "received"):
        said = steps.get(step) if isinstance(steps.get(step), dict) else {}
        seen = known.get(step) or {}
        device = device or said.get("device") or seen.get("device")
        if username is None and (said.get("clerk") or seen.get("clerk")):
            username = said.get("clerk") or seen.get("clerk")
            name = seen.get("name") if seen.get("clerk") == username else None
    return device, username, name


def derived_set_aside(tx, storage) -> set[str]:
    """The ratings (feedback uids) an upheld appeal set aside, from the appeals' events in force:
    each appeal uid's first `rating.appealed` to arrive, then its first `appeal.decided`."""
    appeals: dict[str, dict] = {}
    for kind, text in tx.all(f"SELECT e.kind, {storage.json_text('e.payload')} FROM event e WHERE e.kind IN "
                             f"('rating.appealed', 'appeal.decided') AND e.void_id IS NULL ORDER BY {ARRIVAL}"):
        p = json.loads(text) if isinstance(text, str) else text
        if kind == "rating.appealed":
            appeals.setdefault(p["appeal"], {"feedback": p["feedback"], "decision": None})
        elif p["appeal"] in appeals and appeals[p["appeal"]]["decision"] is None:
            appeals[p["appeal"]]["decision"] = p["decision"]
    return {a["feedback"] for a in appeals.values() if a["decision"] == "upheld"}


def derived_ratings(storage, start: date | None = None, end: date | None = None) -> list[Rating]:
    with storage.read() as tx:
        aside = derived_set_aside(tx, storage)
        names = dict(tx.all("SELECT uid, name FROM device"))
        rows = tx.all(f"SELECT {storage.json_text('e.payload')} FROM event e "
                      f"WHERE e.kind = 'feedback.given' AND e.void_id IS NULL ORDER BY {ARRIVAL}")
        steps_seen: dict[str, dict[str, dict]] = {}
        for ticket, status, device, username, name in tx.all(
                f"SELECT e.ticket, e.status, d.uid, {storage.json_field('e.payload', 'clerk', 'username')}, "
                f"{storage.json_field('e.payload', 'clerk', 'name')} FROM event e LEFT JOIN device d "
                "ON d.id = e.device_id WHERE e.status IN (1, 3) AND e.void_id IS NULL ORDER BY e.created_at, e.uid"):
            steps_seen.setdefault(ticket, {}).setdefault({1: "received", 3: "picked_up"}[status],
                                                         {"device": device, "clerk": username, "name": name})
    given, seen = [], set()
    for (payload,) in rows:
        data = json.loads(payload)
        ticket = data.get("ticket")
        if ticket:
            if ticket in seen:
                continue
            seen.add(ticket)
        day = local(as_datetime(data["at"])).date()
        if (start and day < start) or (end and day > end) or data["feedback"] in aside:  # counted once, set aside
            continue
        given.append((as_datetime(data["at"]), int(data["rating"]), data, ticket))
    served = [_served(data.get("steps") or {}, steps_seen.get(ticket, {}) if ticket else {})
              for _, _, data, ticket in given]
    clerks = distinct_labels({username: name or username for _, username, name in served if username})
    counters = distinct_labels({device: names.get(device) or device for device, *_ in served if device},
                               short=lambda uid: uid[-8:])
    return [Rating(at, rating, tuple(data.get("hearts") or ()), counters.get(device), clerks.get(username),
                   data.get("number") if ticket else None, data.get("reason"))
            for (at, rating, data, ticket), (device, username, _) in zip(given, served)]


# ---- a random history ---------------------------------------------------------------------------

def history(rng: random.Random, kiosks, desks, tickets: int) -> list[tuple]:
    """(device, event) for `tickets` tickets: registrations (some never arriving, some sent
    twice as repeats), steps from any desk (some twice, some before their registration), ratings
    (some twice, some anonymous)."""
    said = []
    for _ in range(tickets):
        kiosk = rng.choice(kiosks)
        at = BASE + timedelta(minutes=rng.randrange(60 * 24 * 30))
        promise = rng.choice([None, {"ready_on": (at + timedelta(days=7)).date().isoformat()},
                              {"ready_on": (at + timedelta(days=5)).date().isoformat(), "urgent_hours": 24}])
        reg = kiosk.registered(at=at, promise=promise, organisation=rng.choice(ORGANISATIONS),
                               phone=f"1380000{rng.randrange(10000):04d}")
        t = reg["payload"]["ticket"]
        if rng.random() < 0.85:  # else its registration never reaches central
            said.append((kiosk, reg))
        for status in STATUSES[1:1 + rng.randint(0, 3)]:
            for _ in range(rng.choice((1, 1, 1, 2))):  # two desks, offline, both recorded it
                desk, (clerk, name) = rng.choice(desks), rng.choice(CLERKS)
                # Few instruments, brought back on several tickets (one serial in two cases, or none):
                # which ticket's row of an instrument counts on the due list depends on every pickup.
                lines = [line(rng.choice(INSTRUMENT_CODES), rng.choice(SERIALS), quantity=rng.randint(1, 4),
                              refused=rng.random() < 0.2) for _ in range(rng.randint(0, 3))]
                step_at = at + timedelta(hours=rng.randint(-2, 24 * 40))  # may precede its registration
                said.append((desk, desk.step(status, t["uid"], t["number"], at=step_at, clerk=clerk,
                                             clerk_name=name, lines=lines)))
        for _ in range(rng.choice((0, 0, 1, 2))):
            rater = rng.choice(kiosks)
            steps = rng.choice([None, {"received": {"device": rng.choice(desks).uid, "clerk": "zhao"}}])
            said.append((rater, rater.feedback(rng.randint(1, 5), at=at + timedelta(days=rng.randint(1, 50)),
                                               ticket=t["uid"], number=t["number"], steps=steps,
                                               hearts=tuple(rng.sample(("warm", "careful", "patient"), 2)))))
    for _ in range(max(1, tickets // 10)):
        rater = rng.choice(kiosks)
        said.append((rater, rater.feedback(rng.randint(1, 5), at=BASE + timedelta(days=rng.randint(1, 60)))))
    said += appeals(rng, desks, [e for _, e in said if e["kind"] == "feedback.given"])
    return said


def appeals(rng: random.Random, desks, ratings: list[dict]) -> list[tuple]:
    """(desk, event): appeals against some ratings (schema 19: an upheld one sets its rating aside),
    some decided, some twice (upheld at one desk, rejected at another: the first to arrive decides),
    some appealed again, some decisions arriving before their appeal."""
    said = []
    for given in rng.sample(ratings, len(ratings) * 2 // 3):
        p = given["payload"]
        at = as_datetime(p["at"]) + timedelta(hours=1)
        for _ in range(rng.choice((1, 1, 2))):
            appeal, desk = str(uuid.uuid4()), rng.choice(desks)
            said.append((desk, made("rating.appealed", at, {
                "appeal": appeal, "feedback": p["feedback"], "device": desk.uid, "at": at.isoformat(),
                "reason": "顾客误触", "clerk": {"username": "wang", "name": "王芳"}})))
            for decision in rng.sample(("upheld", "rejected", "upheld"), rng.choice((0, 1, 1, 1, 2))):
                judge = rng.choice(desks)
                said.append((judge, made("appeal.decided", at + timedelta(hours=rng.randint(1, 9)), {
                    "appeal": appeal, "feedback": p["feedback"], "device": judge.uid, "at": at.isoformat(),
                    "decision": decision, "reason": "监控", "supervisor": {"username": "zhao", "name": "赵主任"},
                    "via": "desk"})))
    return said


def batches(rng: random.Random, said: list[tuple]) -> list[tuple]:
    """(device, events) in random order and random sizes, one device a batch, with repeats."""
    by_device: dict = {}
    for device, event in rng.sample(said, len(said)):
        by_device.setdefault(device.uid, (device, []))[1].append(event)
    out = []
    for device, events in by_device.values():
        while events:
            size = rng.randint(1, 8)
            batch, events = events[:size], events[size:]
            if rng.random() < 0.2:
                batch = [*batch, rng.choice(batch)]  # the same event twice in one batch
            out.append((device, batch))
    rng.shuffle(out)
    for device, batch in rng.sample(out, len(out) // 4):  # sent again later (its acknowledgement was lost)
        out.append((device, batch))
    return out


def pages_read_as_index_ranges_are_the_list(storage, now: datetime, pickup_days: int) -> None:
    """central/worklist.py work_page: its pages, one after another, are work_list in its order,
    with its counts, whatever the page size."""
    whole = work_list(storage, now=now, pickup_days=pickup_days)
    for size in (1, 3, 500):
        pages = [work_page(storage, 1, size, now=now, pickup_days=pickup_days)]
        while len(pages) < pages[0].pages:
            pages.append(work_page(storage, len(pages) + 1, size, now=now, pickup_days=pickup_days))
        assert [item for p in pages for item in p.items] == whole.items
        first = pages[0]
        assert (first.in_lab, first.in_lab_late, first.waiting, first.waiting_overdue) == (
            whole.in_lab, whole.in_lab_late, whole.waiting, whole.waiting_overdue)
    assert work_page(storage, 10_000, 3, now=now, pickup_days=pickup_days).items == []


def rows_equal_after_rebuild(storage) -> dict:
    pushed = readmodels.snapshot(storage)
    with storage.transaction() as tx:
        readmodels.build(tx, storage)
    assert readmodels.snapshot(storage) == pushed
    indexes = _indexes(storage)
    with storage.transaction() as tx:  # the bench's load: indexes dropped, made again at the end
        readmodels.build(tx, storage, bulk=True)
    assert readmodels.snapshot(storage) == pushed
    assert _indexes(storage) == indexes
    if storage.postgres:  # the bench's load on two cores: two processes, each over half the tickets
        with storage.transaction() as tx:  # rows a build leaves alone stay stale: the parallel one must redo them
            tx.execute("UPDATE ticket_state SET status = 0, phone = 'stale'")
            tx.execute("UPDATE due_item SET latest = 1")
            tx.execute("UPDATE figure_day SET tickets = tickets + 7")
        readmodels.build_parallel(storage, workers=2)
        assert readmodels.snapshot(storage) == pushed
        assert _indexes(storage) == indexes
    return pushed


def _indexes(storage) -> list[tuple]:
    """Every index of the read models' tables as defined (PostgreSQL; SQLite's build has no bulk mode)."""
    if not storage.postgres:
        return []
    with storage.read() as tx:
        return tx.all("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                      "AND tablename = ANY(?) ORDER BY indexname", (list(readmodels.BUILT),))


def pages_agree(storage) -> None:
    found = summary(storage)["tickets"]
    assert found["counts"] == derived_counts(storage)
    assert found["recent"] == derived_recent(storage)
    for now in (NOW, NOW + timedelta(days=60)):
        assert work_list(storage, now=now) == derived_work_list(storage, now)
        assert work_list(storage, now=now, pickup_days=3) == derived_work_list(storage, now, 3)
        for days in (3, 30):
            pages_read_as_index_ranges_are_the_list(storage, now, days)
    assert ratings(storage) == derived_ratings(storage)
    start, end = date(2026, 6, 20), date(2026, 7, 10)
    assert ratings(storage, start, end) == derived_ratings(storage, start, end)
    for first, last in ((None, None), (start, end)):  # the CSV's chunks: the same ratings, oldest first
        by_time = sorted(derived_ratings(storage, first, last), key=lambda r: r.given_at)
        assert [r for chunk in exported(storage, first, last) for r in chunk] == by_time
    for first, last in SATISFACTION_PERIODS:  # schema 20: the figures' sums say what the ratings one by one say
        assert report(storage, first, last, SATISFACTION_TODAY).figures() == figures_one_by_one(
            derived_ratings(storage, first, last), first, last, SATISFACTION_TODAY)


SATISFACTION_TODAY = date(2026, 8, 10)
SATISFACTION_PERIODS = ((None, None), (date(2026, 6, 20), date(2026, 7, 10)), (date(2026, 6, 1), date(2026, 7, 31)),
                        (date(2026, 5, 15), date(2026, 8, 2)), (date(2026, 1, 1), date(2026, 12, 31)),
                        (date(2025, 12, 20), None), (None, date(2026, 7, 1)))


def figures_one_by_one(given: list[Rating], first: date | None, last: date | None, today: date) -> dict:
    """central/satisfaction.py Report.figures() from the ratings one by one, as a desk counts them."""
    return {"from": first and first.isoformat(), "to": last and last.isoformat(), "today": today.isoformat(),
            "overall": group_dict(overall(given)),
            "weeks": [group_dict(g) | {"monday": monday(g.key).isoformat()} for g in by_week(given, 12, last or today)],
            "counters": [group_dict(g) for g in by_counter(given)], "clerks": [group_dict(g) for g in by_clerk(given)],
            "hearts": [group_dict(g) for g in by_heart(given)]}


@pytest.mark.parametrize("seed", range(5))
def test_a_period_is_read_as_whole_years_months_and_the_days_left_each_day_once(seed):
    rng = random.Random(seed)
    every = [date(1998, 1, 1) + timedelta(days=n) for n in range(365 * 7)]
    for _ in range(60):
        a, b = (date(1999, 1, 1) + timedelta(days=rng.randrange(365 * 4)) for _ in range(2))
        first, last = rng.choice((None, a)), rng.choice((None, b))
        ranges = pieces(first, last)
        for day in every:  # every day of the period once, none outside it (checked over 1998-2004)
            text = day.isoformat()
            times = sum(low <= text[:{1: 10, 2: 7, 3: 4}[span]] <= high for span, low, high in ranges)
            assert times == ((first or day) <= day <= (last or day)), (first, last, day, ranges)
        assert sum(span == 1 for span, *_ in ranges) <= 4 and sum(span == 2 for span, *_ in ranges) <= 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pushed_in_any_order_the_rows_are_the_ones_a_build_gives_and_the_pages_say_what_the_events_say(storage,
                                                                                                        seed):
    rng = random.Random(seed)
    with TestClient(create_app(storage, Quotas.parse("off"))) as client:
        kiosks = [enrol(client, storage, name=f"大厅{n}号机") for n in (1, 2)]
        desks = [enrol(client, storage, "clerk", name=f"{n}号窗口") for n in (1, 2)]
        thief_kiosk, thief_desk = enrol(client, storage, name="被盗一体机"), enrol(client, storage, "clerk")
        said = history(rng, [*kiosks, thief_kiosk], [*desks, thief_desk], 30)
        planned = batches(rng, said)
        thieves = {thief_kiosk.uid, thief_desk.uid}
        stolen = [b for b in planned if b[0].uid in thieves]
        honest = [b for b in planned if b[0].uid not in thieves]
        first = honest[:len(honest) // 2] + stolen
        rng.shuffle(first)
        sent, news = set(), []  # the thieves' batches bringing an event central has not had yet
        for n, (device, batch) in enumerate(first):
            if device.uid in thieves and {e["uid"] for e in batch} - sent:
                news.append(n)
            sent |= {e["uid"] for e in batch}
        stolen_from, since = rng.choice(news), None
        for n, (device, batch) in enumerate(first):
            if n == stolen_from:
                since = utc_now()  # from here on what the thieves sent is void
            got = push(client, device, *batch)
            assert got.status_code == 200, got.text
        pages_agree(storage)
        for thief in (thief_kiosk, thief_desk):
            revoke(storage, thief.uid)
        voided = [void(storage, thief.uid, since) for thief in (thief_kiosk, thief_desk)]
        assert sum(len(v.events) for v in voided if v) > 0
        pages_agree(storage)
        for device, batch in honest[len(honest) // 2:]:
            got = push(client, device, *batch)
            assert got.status_code == 200, got.text
    pushed = rows_equal_after_rebuild(storage)
    assert len(pushed["ticket_state"]) > 10 and len(pushed["rating"]) > 3
    set_aside = [row[-1] for row in pushed["rating"]]
    assert 0 < sum(set_aside) < len(set_aside)  # schema 19: some ratings set aside, not all
    assert {facet for facet, *_ in pushed["ticket_facet"]} == {"counter", "clerk", "field"}  # schema 12
    pages_agree(storage)


def test_an_older_central_gets_them_built_by_the_upgrade(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = kiosk.registered(at=BASE)
    t = reg["payload"]["ticket"]
    assert push(client, kiosk, reg, kiosk.feedback(4, at=BASE + timedelta(days=2), ticket=t["uid"],
                                                    number=t["number"])).status_code == 200
    assert push(client, desk, desk.step("received", t["uid"], t["number"], at=BASE + timedelta(hours=1),
                                        lines=[line("L-001-001")])).status_code == 200
    built = readmodels.snapshot(storage)
    back_to(storage, 5)  # as schema 5 had it: no read models
    assert ensure_schema(storage) == SCHEMA_VERSION
    assert readmodels.snapshot(storage) == built
    assert summary(storage)["tickets"]["counts"] == {"registered": 0, "received": 1, "ready": 0, "picked_up": 0}
    pages_agree(storage)


def test_two_pushes_making_one_tickets_row_at_once_both_count(storage):
    """Two desks' first steps of one ticket in two transactions at once: the second waits for
    the first's row and merges into it (PostgreSQL; SQLite runs one writer at a time)."""
    if not storage.postgres:
        pytest.skip("SQLite serialises writers")
    ticket, at = "0193aaaa-0000-7000-8000-0000000000aa", BASE + timedelta(hours=1)

    def step(status: int, uid: str, moment: datetime) -> Stored:
        return Stored(1, uid, f"ticket.{STATUSES[status]}", ticket, status, moment, utc_now(), "desk",
                      {"ticket": ticket, "number": "P1-260601-0001", "at": moment.isoformat(), "lines": []})

    waiting, done = {}, threading.Event()

    def second_desk():
        with storage.transaction() as tx:
            waiting["pid"] = tx.conn.info.backend_pid
            readmodels.fold(tx, storage, [step(2, "0193aaaa-0000-7000-8000-0000000000b2", at + timedelta(hours=5))])
        done.set()

    with storage.transaction() as tx:
        readmodels.fold(tx, storage, [step(1, "0193aaaa-0000-7000-8000-0000000000b1", at)])
        other = threading.Thread(target=second_desk)
        other.start()
        until_it_waits(storage, waiting, done)
        assert not done.is_set()  # it waits for this transaction's row
    other.join(10)
    rows = readmodels.snapshot(storage)
    assert [(r[1], as_datetime(r[2])) for r in rows["ticket_state"]] == [(2, at + timedelta(hours=5))]
    assert rows["office_count"] == [(0, 0), (1, 0), (2, 1), (3, 0)]


def test_two_kiosks_rating_one_ticket_at_once_count_it_once_in_the_sums(storage):
    """Schema 20: two pushes at once bring a rating of one ticket; the second to commit arrived
    first, so its rating replaces the first's row (it waits for it): the sums hold the second
    one's only, as the sums built from the rows do (PostgreSQL; SQLite runs one writer at a time)."""
    if not storage.postgres:
        pytest.skip("SQLite serialises writers")
    ticket, at, now = "0193aaaa-0000-7000-8000-0000000000aa", BASE + timedelta(days=1), utc_now()

    def given(uid: str, stars: int, hearts: tuple[str, ...], received: datetime) -> Stored:
        return Stored(1, uid, "feedback.given", None, None, at, received, "kiosk",
                      {"ticket": ticket, "number": "P1-260601-0001", "at": at.isoformat(), "rating": stars,
                       "hearts": list(hearts), "feedback": uid})

    waiting, done = {}, threading.Event()

    def earlier_arrival():
        with storage.transaction() as tx:
            waiting["pid"] = tx.conn.info.backend_pid
            readmodels.fold(tx, storage, [given("0193aaaa-0000-7000-8000-0000000000b2", 2, ("careful",), now)])
        done.set()

    with storage.transaction() as tx:
        readmodels.fold(tx, storage, [given("0193aaaa-0000-7000-8000-0000000000b1", 5, ("warm",),
                                            now + timedelta(seconds=1))])
        other = threading.Thread(target=earlier_arrival)
        other.start()
        until_it_waits(storage, waiting, done)
        assert not done.is_set()  # it waits for this transaction's row
    other.join(10)
    pushed = readmodels.snapshot(storage)
    assert [row[5] for row in pushed["rating"]] == [2]
    assert {(kind, k1, stars, n) for span, _, kind, k1, _, stars, n in pushed["rating_sum"] if span == 1} == {
        ("all", "", 2, 1), ("counter", "", 2, 1), ("clerk", "", 2, 1), ("heart", "careful", 2, 1)}
    with storage.transaction() as tx:
        rating.build_sums(tx, storage)
    assert readmodels.snapshot(storage)["rating_sum"] == pushed["rating_sum"]


def test_a_sum_taken_to_zero_is_removed_by_its_key_not_by_a_scan_of_its_periods(storage):
    """A rating set aside takes its cells down: those left at 0 are removed, found by rating_sum's
    primary key (a push's cost, however many years of sums are stored); a row at 0 of a cell not
    taken from, or a cell still counted, stays."""
    cells = [(1, "2026-06-01", "all", "", "", 5), (1, "2026-06-01", "clerk", "wang", "", 5),
             (3, "2026", "all", "", "", 5)]
    with storage.transaction() as tx:
        storage.bulk_insert(tx, "rating_sum", (*rating.SUM_KEY, "n"), [[*cells[0], 0], [*cells[1], 0], [*cells[2], 2]])
        tx.execute(*rating.emptied(storage, [cells[0], cells[2]]))
        assert tx.all("SELECT kind, n FROM rating_sum ORDER BY span, kind") == [("clerk", 0), ("all", 2)]
        sql, params = rating.emptied(storage, cells)
        if storage.postgres:
            tx.execute("SET LOCAL enable_seqscan = off")  # a small table: would the planner have an index at all
            plan = "\n".join(row[0] for row in tx.all(f"EXPLAIN {sql}", params))
            assert "rating_sum_pkey" in plan and "Seq Scan on rating_sum" not in plan, plan
        else:
            plan = " ".join(str(row[-1]) for row in tx.all(f"EXPLAIN QUERY PLAN {sql}", params))
            assert "SCAN rating_sum" not in plan and "INDEX sqlite_autoindex_rating_sum_1" in plan, plan


def test_the_command_makes_them_again(client, storage, capsys):
    kiosk = enrol(client, storage)
    assert push(client, kiosk, kiosk.registered(at=BASE), kiosk.feedback(5, at=BASE)).status_code == 200
    built = readmodels.snapshot(storage)
    with storage.transaction() as tx:  # as if a rule had been wrong
        tx.execute("DELETE FROM ticket_state")
    assert cli_main(["rebuild-read-models", "--database-url", storage.url], None) == 0
    assert readmodels.snapshot(storage) == built
    assert "单据 1，评价 1" in capsys.readouterr().out
