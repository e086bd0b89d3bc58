"""A new clerk desk catching up on a busy site's year of work, as its sync worker applies the feed.

The work: TICKETS tickets of one site (default 40,000: 160 a working day for 250 days) from
three lobby kiosks, each with 1-5 instrument lines of the demo catalogue (priced by quantity,
points, ranges with AC/DC, metres), its own customer among a few thousand organisations, taken
in, ready and picked up at two other desks, one in four rated at a kiosk (the poor ones with a
call-back phone and a follow-up, half of those closed at a desk). As the feed carries it: each
change `{"seq", "kind", "data"}` with the payload a device pushed (kiosk/domain/events.py,
written with `events.to_json` and read back as JSON), in the order of the day they happened,
about 4.3 changes a ticket.

figure: kiosk/sync/feed.py `apply_changes` on a fresh desk database (WAL, synchronous=FULL, the
demo catalogue as version 1, as a desk starts), pages of 500 (kiosk/sync/client.py
PULL_LIMIT), each page one transaction with its cursor: changes applied per second.

floor: every row the catch-up wrote (customers, tickets, lines, steps, instruments taken in,
ratings, follow-ups, device rows), written again with plain sqlite3 `executemany` into another
fresh desk database, same pragmas, in as many transactions as the catch-up had pages: what
SQLite needs to store the same rows, with no JSON, no checking, no pricing, no lookups. Rows a
second, stated as the same changes a second.

goal: the year in a few minutes (<= 180 s here) and ratio <= 8: the floor only writes rows; the desk
also reads each payload against its kind's shape, cleans its text, prices each ticket again from
its catalogue version, looks each ticket up, and applies each change in a savepoint of its own.
Before the catch-up was made fast (one catalogue load per ticket, the ORM building every
query): 238 changes/s over 10,000 tickets, ratio 156.

`python -m bench.desk_catchup [TICKETS] [--profile]`: --profile prints cProfile's 25 costliest
functions of the catch-up instead of the figure.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.common import Figure
from bench.registration import raw_connection

TICKETS = 40_000
PER_DAY = 160
PAGE = 500
GOAL_S, GOAL_RATIO = 180.0, 8.0
START = datetime(2025, 11, 3, 0, 30, tzinfo=UTC)  # a Monday, 08:30 in Beijing
# What a catch-up writes, parents before children (the floor writes them again in this order).
TABLES = ("device", "customer", "ticket", "ticket_line", "ticket_event", "intake_line", "feedback", "followup")


def _pool():
    """Instrument lines of the demo catalogue, in the shapes the fee engine prices."""
    from kiosk.domain.fees import LineRequest
    from kiosk.store.registration import InstrumentLine

    return (
        InstrumentLine(LineRequest("L-001-001", quantity=3, use="safety"), model="Y-100", serial_number="A1"),
        InstrumentLine(LineRequest("Z-002-001", quantity=1, use="trade")),
        InstrumentLine(LineRequest("C-003-001", metres=Decimal("7.5"))),
        InstrumentLine(LineRequest("D-002-002", ranges=8, ac_dc=True), manufacturer="优利德",
                       requirements="按 JJF 1587-2016 校准"),
        InstrumentLine(LineRequest("R-001-001", quantity=2, points=5), repair_if_fails=True),
        InstrumentLine(LineRequest("L-001-002", quantity=6, use="safety"), serial_number="B7"),
        InstrumentLine(LineRequest("D-002-002", ranges=5)),
    )


def _templates():
    """One priced registration per shape (1-5 lines, from different places in the pool): the
    kiosk's own `prepare` over the demo catalogue, in a scratch database."""
    from db.connection import open_database
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.registration import Registration, prepare
    from kiosk.store.tickets import CustomerDetails

    pool = _pool()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "kiosk.sqlite3")
        ensure_catalog()
        catalog, policy = load_catalog(), default_policy()
        customer = CustomerDetails("示范燃气有限公司", "91520100MA6DKJ2X4U", "贵阳市观山湖区", "李工", "13812345678")
        shapes = []
        for count in range(1, 6):
            for offset in range(len(pool)):
                lines = tuple(pool[(offset + k) % len(pool)] for k in range(count))
                shapes.append(prepare(Registration(customer, lines, urgent="72h" if offset % 4 == 0 else None,
                                                   pickup="post" if offset % 3 == 0 else "in_person"),
                                      catalog, policy))
        db.close()
    return shapes


def year(tickets: int = TICKETS, seed: int = 17) -> list[str]:
    """The site's changes, in the order they happened, as the feed's pages of PAGE (JSON text,
    as central sends them: a step's payload with its `kind` added last)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.domain import events
    from kiosk.domain.ids import ticket_number
    from kiosk.domain.ticketcode import TicketRecord, encode

    rng = random.Random(seed)
    shapes = _templates()
    kiosks = [(str(uuid.UUID(int=rng.getrandbits(128), version=4)), f"K{n}", Ed25519PrivateKey.generate())
              for n in range(1, 4)]
    desks = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(2)]
    clerks = [events.Clerk(username="wang", name="王芳"), events.Clerk(username="li", name="李娜")]

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    timed: list[tuple[datetime, int, str, str]] = []  # (when, order, kind, payload as JSON text)

    def add(at: datetime, kind: str, payload, step: str | None = None) -> None:
        data = events.to_json(payload)
        timed.append((at, len(timed), kind, data if step is None else f'{data[:-1]},"kind":"{step}"}}'))

    for i in range(tickets):
        day, slot = divmod(i, PER_DAY)
        at = START + timedelta(days=day // 5 * 7 + day % 5, minutes=slot * 3)
        kiosk_uid, prefix, key = kiosks[i % 3]
        prepared = shapes[rng.randrange(len(shapes))]
        number = ticket_number(prefix, at.date(), slot // 3 + 1)
        ticket_uid, priced = uid(), prepared.estimate
        code = encode(TicketRecord(ticket_uid, number, kiosk_uid, at, prepared.catalog.version,
                                   prepared.code_lines, priced.total_fen, urgent=prepared.registration.urgent,
                                   catalog_hash=prepared.catalog.content_hash, policy_hash=prepared.policy_hash), key)
        organisation = f"示范仪表有限公司第{rng.randrange(3000)}分公司"
        add(at, "ticket.registered", events.Registered(
            ticket=events.Ticket(uid=ticket_uid, number=number, device=kiosk_uid, created_at=at,
                                 catalog_version=prepared.catalog.version, policy=priced.policy_id,
                                 urgent=prepared.registration.urgent, pickup=prepared.registration.pickup,
                                 certificates=1, certificate_name=organisation, total_fen=priced.total_fen, code=code),
            customer=events.Customer(organisation=organisation, credit_code="91520100MA6DKJ2X4U",
                                     address=f"贵阳市观山湖区{i}号", contact="李工", phone=f"138{i:08d}"),
            lines=list(prepared.lines)))
        desk, clerk = desks[i % 2], clerks[i % 2]
        received = at + timedelta(minutes=10)
        add(received, "ticket.event", events.Received(
            event=uid(), ticket=ticket_uid, number=number, device=desk, clerk=clerk, at=received,
            total_fen=priced.total_fen, estimate=priced.to_dict(),
            lines=[events.IntakeLine(ticket_line_id=1000 + position, code=ln.code, quantity=ln.quantity,
                                     service=ln.service, use=ln.use, serial_number=ln.serial_number or "")
                   for position, ln in enumerate(prepared.lines)]), step="received")
        ready = at + timedelta(days=3, hours=2)
        add(ready, "ticket.event", events.Ready(event=uid(), ticket=ticket_uid, number=number, device=desk,
                                                clerk=clerk, at=ready), step="ready")
        picked = at + timedelta(days=6, hours=1)
        add(picked, "ticket.event", events.PickedUp(
            event=uid(), ticket=ticket_uid, number=number, device=desks[1 - i % 2], clerk=clerks[1 - i % 2],
            at=picked, certificates={str(p): f"JD-{i}-{p}" for p in range(len(prepared.lines))}), step="picked_up")
        if i % 4:
            continue
        rating = rng.choice((5, 5, 5, 4, 4, 3, 2, 1))
        rated = picked + timedelta(minutes=4)
        followup = events.FollowupOpened(uid(), (rated + timedelta(days=21)).date()) if rating <= 2 else None
        given = events.FeedbackGiven(
            feedback=uid(), device=kiosk_uid, at=rated, rating=rating,
            level=("very_dissatisfied", "dissatisfied", "basic", "satisfied", "very_satisfied")[rating - 1],
            ticket=ticket_uid, number=number, hearts=["careful"] if rating == 5 else [],
            reason="slow" if followup else None, reason_text="", comment="", callback=followup is not None,
            phone=f"139{i:08d}" if followup else None,
            steps={"received": events.StepSeen(desk, clerk.username)}, followup=followup)
        add(rated, "feedback.given", given)
        if followup and i % 8 == 0:
            closed = rated + timedelta(days=2)
            add(closed, "followup.closed", events.FollowupClosed(
                followup=followup.uid, feedback=given.feedback, device=desk, at=closed, note="已回电", clerk=clerk,
                via="desk"))
    timed.sort(key=lambda change: (change[0], change[1]))
    changes = [f'{{"seq":{1000 * n},"kind":"{kind}","data":{data}}}' for n, (_, _, kind, data) in enumerate(timed, 1)]
    return [f'{{"changes":[{",".join(changes[first:first + PAGE])}],"next":{1000 * min(first + PAGE, len(changes))}}}'
            for first in range(0, len(changes), PAGE)]


def _fresh_desk(path: Path):
    """A desk as it starts: schema, the demo catalogue (version 1), its own device row."""
    from db.connection import open_database
    from kiosk.store.catalog import ensure_catalog
    from kiosk.store.registration import ensure_device

    db = open_database(path)
    ensure_catalog()
    uid = ensure_device("DK", role="clerk").uid
    return db, uid


def catch_up(path: Path, pages: list[str]) -> tuple[float, int]:
    """Read and apply the pages as the sync worker does (kiosk/sync/client.py reads a page's
    JSON, kiosk/sync/loop.py applies it): (seconds, changes)."""
    from kiosk.sync.feed import apply_changes

    db, own = _fresh_desk(path)
    count = 0
    start = time.perf_counter()
    for n, text in enumerate(pages):
        page = json.loads(text)
        applied = apply_changes(page["changes"], page["next"], own)
        if getattr(applied, "parked", 0):
            raise RuntimeError(f"{applied.parked} change(s) parked in page {n}: the bench's changes are wrong")
        count += len(page["changes"])
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed, count


def _written(path: Path) -> list[tuple[str, list[str], list[tuple]]]:
    """The rows the catch-up wrote, by table: (table, columns, rows); the desk's own device row
    and the demo catalogue are left out (a fresh desk has them already)."""
    conn = sqlite3.connect(path)
    found = []
    for table in TABLES:
        cursor = conn.execute(f"SELECT * FROM {table} WHERE id > 1" if table == "device" else f"SELECT * FROM {table}")
        found.append((table, [d[0] for d in cursor.description], cursor.fetchall()))
    conn.close()
    return found


def floor(path: Path, written: list[tuple[str, list[str], list[tuple]]], transactions: int) -> float:
    """The same rows with plain sqlite3 executemany, in `transactions` transactions: seconds."""
    db, _ = _fresh_desk(path)
    db.close()
    stream = [(table, columns, row) for table, columns, rows in written for row in rows]
    size = -(-len(stream) // transactions)
    conn = raw_connection(path)
    start = time.perf_counter()
    for first in range(0, len(stream), size):
        chunk = stream[first:first + size]
        conn.execute("BEGIN IMMEDIATE")
        run_start = 0
        for n in range(1, len(chunk) + 1):
            if n == len(chunk) or chunk[n][0] != chunk[run_start][0]:
                table, columns = chunk[run_start][0], chunk[run_start][1]
                conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                                 [row for _, _, row in chunk[run_start:n]])
                run_start = n
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def run(tickets: int = TICKETS) -> list[Figure]:
    pages = year(tickets)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("KIOSK_DATA_DIR", tmp)
        desk = Path(tmp) / "desk.sqlite3"
        ours_s, changes = catch_up(desk, pages)
        written = _written(desk)
        floor_s = floor(Path(tmp) / "floor.sqlite3", written, len(pages))
    stored = {table: len(rows) for table, _, rows in written}
    if stored["ticket"] != tickets:
        raise RuntimeError(f"{stored['ticket']} tickets stored of {tickets}")
    ours, base = changes / ours_s, changes / floor_s
    # Changes a second: the floor is the faster, so the ratio of times (ours over the floor's) is base / ours.
    figure = Figure(f"desk catch-up: a site's year, {tickets:,} tickets, {changes:,} changes in pages of "
                    f"{PAGE} ({ours:,.0f} changes/s, the floor's {base:,.0f}; {sum(stored.values()):,} rows)",
                    ours_s, "s", f"the same rows, raw sqlite3 executemany, {len(pages)} transactions", floor_s,
                    f"<= {GOAL_S:.0f} s and ratio <= {GOAL_RATIO}", ours_s <= GOAL_S and ours_s / floor_s <= GOAL_RATIO)
    return [figure]


def profile(tickets: int) -> None:
    import cProfile
    import pstats

    pages = year(tickets)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("KIOSK_DATA_DIR", tmp)
        profiler = cProfile.Profile()
        profiler.enable()
        seconds, changes = catch_up(Path(tmp) / "desk.sqlite3", pages)
        profiler.disable()
    print(f"# {changes:,} changes in {seconds:.1f} s under the profiler")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    count = next((int(arg) for arg in sys.argv[1:] if arg.isdigit()), TICKETS)
    if "--profile" in sys.argv:
        profile(count)
    else:
        for result in run(count):
            print(result.line())
