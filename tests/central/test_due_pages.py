"""The due list read from due_item (central/readmodels/due_item.py), a page at a time: random
histories pushed in random batches (steps twice, before their registration, registrations never
arriving, serial numbers brought back, a catalogue changing cycles between pushes, a stolen desk
voided midway) leave the rows a build gives, and the pages, walked by their links, say what the
derivation from every event said before the read model (kept below as the reference)."""

from __future__ import annotations

import csv
import io
import json
import random
import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

import central.due
from central import readmodels
from central.api.quotas import Quotas
from central.app import create_app
from central.catalog import import_catalog
from central.devices import revoke
from central.due import Cursor, due_page, due_report
from central.readmodels.due_item import latest_catalog
from central.readmodels.stored import Stored
from central.storage import as_datetime
from central.voiding import void
from kiosk.domain.clock import local, utc_now
from kiosk.domain.due import PickedUpLine, due_list
from kiosk.store.catalog import demo_csv

from .locks import until_it_waits
from .nodes import enrol, push
from .office_users import office
from .test_due_office import Counter, line

BASE = datetime(2025, 1, 6, 1, 30, tzinfo=UTC)
# Cycles 6, 6, 12, 24, none (first verification only), unknown to the catalogue.
CODES = ("L-001-001", "L-001-001", "Z-001-001", "F-004-003", "F-004-001", "X-999-999")
SERIALS = ("A1", "a1", "B7", "C3", "", "")


# ---- the derivation as it was before the read model (the reference) -----------------------------

def derived(storage, within_days: int, today: date, overdue: bool = True):
    with storage.read() as tx:
        _, fees = latest_catalog(tx)
        if not any(r.cycle_months for r in fees.values()):
            return []
        f = storage.json_field
        pickups = sorted(((t, as_datetime(at)) for t, at in tx.all(
            "SELECT ticket, MIN(created_at) FROM event WHERE kind = 'ticket.picked_up' AND ticket IS NOT NULL "
            "AND void_id IS NULL GROUP BY ticket")), key=lambda r: (r[1], r[0]))
        facts: dict[str, dict[int, tuple]] = {}
        for ticket, status, *fields in tx.all(
                f"SELECT ticket, status, COALESCE({f('payload', 'ticket', 'number')}, {f('payload', 'number')}), "
                f"{f('payload', 'customer', 'organisation')}, {f('payload', 'customer', 'contact')}, "
                f"{f('payload', 'customer', 'phone')}, {f('payload', 'lines')} FROM event "
                "WHERE ticket IS NOT NULL AND status IN (0, 1) AND void_id IS NULL ORDER BY created_at, uid"):
            facts.setdefault(ticket, {}).setdefault(status, tuple(fields))
    lines = []
    for ticket, at in pickups:
        got = facts.get(ticket, {})
        if 1 not in got:
            continue
        registered = got.get(0) or (None,) * 5
        number = registered[0] or got[1][0] or ""
        organisation, contact, phone = registered[1:4]
        for ln in json.loads(got[1][4] or "[]"):
            fee = fees.get(ln["code"])
            if fee is not None:
                lines.append(PickedUpLine(local(at).date(), number, organisation or "", contact or "", phone or "",
                                          fee.name_zh, fee.name_en, fee.unit, fee.cycle_months, ln["code"],
                                          int(ln["quantity"]), ln["service"], ln.get("serial_number") or "",
                                          bool(ln.get("refused"))))
    return due_list(lines, within_days, today, overdue=overdue)


def canonical(items) -> list:
    """The old order breaks ties of (due_on, number) by code and serial, the pages by intake line."""
    return sorted(items, key=lambda i: (i.due_on, i.number, i.code, i.serial_number, i.quantity))


def walked(storage, within: int, today: date, overdue: bool, size: int) -> list:
    """Every page from the first by its `next` links, each page's `previous` checked on the way."""
    items, start, pages = [], None, []
    while True:
        page = due_page(storage, within, today, overdue=overdue, start=start, size=size)
        assert len(page.items) <= size
        if pages:
            back = due_page(storage, within, today, overdue=overdue, start=page.previous, size=size)
            assert back.items == pages[-1]
        else:
            assert page.previous is None
        pages.append(page.items)
        items += page.items
        if page.next is None:
            assert len(items) == page.total.n
            return items
        start = page.next


def pages_agree(storage) -> None:
    for within, today, overdue in ((3660, date(2025, 1, 1), True), (30, date(2025, 8, 1), True),
                                   (60, date(2025, 9, 15), False), (400, date(2026, 6, 1), True)):
        old = derived(storage, within, today, overdue)
        new = due_report(storage, within, today, overdue=overdue).items
        assert [(i.due_on, i.number) for i in new] == [(i.due_on, i.number) for i in old]
        assert canonical(new) == canonical(old)
        assert walked(storage, within, today, overdue, 4) == new


# ---- a random history -----------------------------------------------------------------------------

def history(rng: random.Random, kiosks, desks, tickets: int) -> list[tuple]:
    said = []
    for _ in range(tickets):
        kiosk = rng.choice(kiosks)
        at = BASE + timedelta(minutes=rng.randrange(60 * 24 * 200))
        reg = kiosk.registered(at=at, organisation=rng.choice(("贵阳燃气有限公司", "遵义水务集团")),
                               phone=f"1380000{rng.randrange(10000):04d}")
        t = reg["payload"]["ticket"]
        if rng.random() < 0.85:  # else its registration never reaches central
            said.append((kiosk, reg))
        for status in ("received", "ready", "picked_up")[:rng.choice((0, 1, 3, 3, 3))]:
            for _ in range(rng.choice((1, 1, 2))):  # two desks, offline, both recorded it
                desk = rng.choice(desks)
                lines = [line(rng.choice(CODES), rng.choice(SERIALS), quantity=rng.randint(1, 3),
                              service=rng.choice(("verification", "verification", "calibration")),
                              refused=rng.random() < 0.15) for _ in range(rng.randint(0, 4))]
                step_at = at + timedelta(hours=rng.randint(-2, 24 * 40))  # may precede its registration
                said.append((desk, desk.step(status, t["uid"], t["number"], at=step_at, lines=lines)))
    return said


def cycles_changed() -> str:
    """The demo catalogue with L-001-001 verified every 3 months (was 6) and Z-001-001 every 24 (was 12)."""
    rows = list(csv.reader(io.StringIO(demo_csv())))
    column = rows[0].index("检定周期(月)")
    for row in rows[1:]:
        row[column] = {"L-001-001": "3", "Z-001-001": "24"}.get(row[0], row[column])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pushed_in_any_order_the_rows_are_a_builds_and_the_pages_say_what_the_events_say(storage, seed):
    rng = random.Random(seed)
    with TestClient(create_app(storage, Quotas.parse("off"))) as client:
        kiosks = [enrol(client, storage, name=f"大厅{n}号机") for n in (1, 2)]
        desks = [enrol(client, storage, "clerk", name=f"{n}号窗口") for n in (1, 2)]
        thief = enrol(client, storage, "clerk")
        said = history(rng, kiosks, [*desks, thief], 50)
        batches = []
        for device, event in rng.sample(said, len(said)):
            if batches and batches[-1][0] is device and len(batches[-1][1]) < rng.randint(1, 6):
                batches[-1][1].append(event)
            else:
                batches.append((device, [event]))
        batches += rng.sample(batches, len(batches) // 5)  # sent again (an acknowledgement was lost)
        half = len(batches) // 2
        since = None
        for n, (device, batch) in enumerate(batches):
            if n == 3:
                import_catalog(storage, demo_csv(), "demo.csv")
            if n == half:
                pages_agree(storage)
                import_catalog(storage, cycles_changed(), "changed.csv")
            if device is thief and since is None and rng.random() < 0.3:
                since = utc_now()  # from here on what the thief sent is void
            assert push(client, device, *batch).status_code == 200
        pages_agree(storage)
        revoke(storage, thief.uid)
        void(storage, thief.uid, since or utc_now())
        pages_agree(storage)
    pushed = readmodels.snapshot(storage)
    assert len(pushed["due_item"]) >= 5
    with storage.transaction() as tx:
        readmodels.build(tx, storage)
    assert readmodels.snapshot(storage) == pushed


# ---- the pages ------------------------------------------------------------------------------------

@pytest.fixture
def served(client, storage):
    """Seven instruments due one a week from 2026-07-06 (picked up six months before), and one
    overdue."""
    import_catalog(storage, demo_csv(), "demo.csv")
    counter = Counter(client, storage)
    numbers = [counter.serve([line("L-001-001", f"S{n}")], date(2026, 1, 6) + timedelta(weeks=n),
                             organisation=f"单位{n}", phone=f"1380000111{n}") for n in range(7)]
    late = counter.serve([line("L-001-001", "OLD")], date(2025, 6, 1), organisation="过期单位")
    return [late, *numbers]


TODAY = date(2026, 7, 1)


def test_pages_follow_their_links_both_ways(client, storage, served, monkeypatch):
    monkeypatch.setattr(central.due, "institute_today", lambda: TODAY)
    headers = office(storage)
    got = client.get("/api/v1/office/due", params={"within": "60d", "size": "3"}, headers=headers).json()
    assert [i["number"] for i in got["items"]] == served[:3] and got["items"][0]["overdue"] is True
    assert got["total"] == {"n": 8, "more": False} and got["overdue"] == {"n": 1, "more": False}
    assert got["previous"] is None and got["items"][1]["phone"] == "138****1110"
    second = client.get("/api/v1/office/due", params={"within": "60d", "size": "3", "from": got["next"]},
                        headers=headers).json()
    assert [i["number"] for i in second["items"]] == served[3:6]
    back = client.get("/api/v1/office/due", params={"within": "60d", "size": "3", "from": second["previous"]},
                      headers=headers).json()
    assert back["items"] == got["items"]
    last = client.get("/api/v1/office/due", params={"within": "60d", "size": "3", "from": second["next"]},
                      headers=headers).json()
    assert [i["number"] for i in last["items"]] == served[6:] and last["next"] is None

    page = client.get("/office/due", params={"within": "60d", "size": "3"}, headers=headers)
    assert page.status_code == 200 and "共 8 项，其中已过期 1 项" in page.text
    assert "rel='next'" in page.text and "rel='prev'" not in page.text
    shown = [n for n in served if f"/office/tickets/{n}'" in page.text]
    assert shown == served[:3]
    following = client.get("/office/due?" + page.text.split("href='/office/due?")[-1].split("'")[0].replace(
        "&amp;", "&"), headers=headers)
    assert [n for n in served if f"/office/tickets/{n}'" in following.text] == served[3:6]
    assert "rel='prev'" in following.text
    without = client.get("/api/v1/office/due", params={"within": "60d", "overdue": "0"}, headers=headers).json()
    assert [i["number"] for i in without["items"]] == served[1:] and without["next"] is None


def test_counts_stop_at_the_cap(client, storage, served, monkeypatch):
    monkeypatch.setattr(central.due, "institute_today", lambda: TODAY)
    monkeypatch.setattr(central.due, "COUNT_CAP", 5)
    page = client.get("/office/due", params={"within": "60d"}, headers=office(storage))
    assert "共 5+ 项" in page.text and "5+ due" in page.text


def test_bad_cursors_and_sizes_are_refused(client, storage):
    headers = office(storage)
    for params in ({"from": "x"}, {"from": "2026-02-30_P1_0"}, {"from": "2026-07-01_P1_x"}, {"size": "0"},
                   {"size": "501"}, {"size": "ten"}):
        assert client.get("/api/v1/office/due", params=params, headers=headers).status_code == 422
        assert client.get("/office/due", params=params, headers=headers).status_code == 422
    assert Cursor.parse("2026-07-01_P1-260601-0001_3") == Cursor("2026-07-01", "P1-260601-0001", 3)
    assert Cursor.parse(Cursor("2026-07-01", "A_B", 0).text()) == Cursor("2026-07-01", "A_B", 0)


def test_the_csv_streams_every_row_in_chunks_and_the_export_is_audited(client, storage, served, monkeypatch):
    monkeypatch.setattr(central.due, "institute_today", lambda: TODAY)
    monkeypatch.setattr(central.due, "EXPORT_CHUNK", 3)
    got = client.get("/office/due.csv", params={"within": "60d"}, headers=office(storage))
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.text)))
    assert rows[0][0] == "到期日" and [r[1] for r in rows[1:]] == served
    assert rows[2][4] == "13800001110"  # the full phone, for the staff who call
    with storage.read() as tx:
        assert tx.one("SELECT action, route, row_count FROM office_audit ORDER BY id DESC LIMIT 1") == (
            "export", "/office/due.csv", 8)


def test_a_catalogue_import_moves_the_due_dates(client, storage, served, monkeypatch):
    monkeypatch.setattr(central.due, "institute_today", lambda: TODAY)
    assert due_page(storage, 60, TODAY).items[1].due_on == date(2026, 7, 6)
    import_catalog(storage, cycles_changed(), "changed.csv")
    moved = due_page(storage, 3660, TODAY).items
    assert [(i.picked_up_on, i.due_on, i.cycle_months) for i in moved[:2]] == [
        (date(2025, 6, 1), date(2025, 9, 1), 3), (date(2026, 1, 6), date(2026, 4, 6), 3)]
    assert canonical(moved) == canonical(derived(storage, 3660, TODAY))


def test_two_pushes_picking_up_one_instrument_at_once_leave_one_row_counting(client, storage):
    """Two desks hand back the same instrument (two tickets) in two transactions at once: the
    second waits for the first's group lock, then sees its row, so only the later pickup counts
    (PostgreSQL; SQLite runs one writer at a time)."""
    if not storage.postgres:
        pytest.skip("SQLite serialises writers")
    import_catalog(storage, demo_csv(), "demo.csv")
    counter = Counter(client, storage)
    numbers = [counter.serve([line("L-001-001", "A1")], None) for _ in range(2)]  # taken in, not handed back
    with storage.read() as tx:
        tickets = [tx.one("SELECT uid FROM ticket_state WHERE number = ?", (n,))[0] for n in numbers]
    at = datetime(2026, 3, 2, 4, tzinfo=UTC)

    def picked_up(n: int, moment: datetime) -> Stored:
        return Stored(1, str(uuid.uuid4()), "ticket.picked_up", tickets[n], 3, moment, utc_now(), counter.desk.uid,
                      {"ticket": tickets[n], "number": numbers[n], "at": moment.isoformat()})

    waiting, done = {}, threading.Event()

    def second_desk():
        with storage.transaction() as tx:
            waiting["pid"] = tx.conn.info.backend_pid
            readmodels.fold(tx, storage, [picked_up(1, at + timedelta(days=1))])
        done.set()

    with storage.transaction() as tx:
        readmodels.fold(tx, storage, [picked_up(0, at)])
        other = threading.Thread(target=second_desk)
        other.start()
        until_it_waits(storage, waiting, done)
        assert not done.is_set()  # it waits for this transaction's group
    other.join(10)
    with storage.read() as tx:
        assert tx.all("SELECT number, latest FROM due_item ORDER BY number") == [(numbers[0], 0), (numbers[1], 1)]
    assert [i.number for i in due_report(storage, 3660, date(2026, 3, 1)).items] == [numbers[1]]
