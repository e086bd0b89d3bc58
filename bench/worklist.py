"""The clerk desk's work list (在办清单, kiosk/store/worklist.py) over a busy institute's counter:
5,000 tickets in the lab and 5,000 waiting for pickup (bench/memory.py's four shapes of registration,
taken in whole), plus 5,000 already picked up that the list must skip, in SQLite on disk (WAL).

figure: `work_list()`, median of 5 calls, from the open database (the desk's DB thread).
floor: the same values read with raw sqlite3 in three statements (tickets with their customer
and the estimate's two figures, their received/ready events, their instruments taken in), no
conversion, no ordering, no arithmetic.
goal: ratio <= 4 and under 0.5 s, so F12 answers at once even on a counter that never
cleared its backlog.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.common import Figure, median

IN_LAB = READY = PICKED_UP = 5000
RUNS = 5


def seed(path: Path) -> None:
    from bench.memory import registration
    from db.connection import database_proxy, open_database
    from db.models import utc_now
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import mark_ready, pick_up, receive
    from kiosk.store.registration import ensure_device, register

    db = open_database(path)
    ensure_catalog()
    catalog, policy, device = load_catalog(), default_policy(), ensure_device("BW")
    clerk = add_clerk("bench", "测试", "2468")
    start = utc_now() - timedelta(days=60)
    with database_proxy.atomic():  # one transaction: the seed, not the list, is not measured
        for i in range(IN_LAB + READY + PICKED_UP):
            ticket = register(registration(i), catalog, policy, device)  # four shapes, a quarter urgent
            at = start + timedelta(minutes=i)
            receive(ticket.id, clerk, device, now=at)
            if i >= IN_LAB:
                mark_ready(ticket.id, clerk, device, now=at + timedelta(days=5))
            if i >= IN_LAB + READY:
                pick_up(ticket.id, clerk, device, now=at + timedelta(days=6))
    db.close()


def floor(path: Path) -> float:
    conn = sqlite3.connect(path)
    start = time.perf_counter()
    tickets = conn.execute("SELECT t.id, t.number, t.status, t.created_at, json_extract(t.estimate_json, "
                           "'$.turnaround_days'), json_extract(t.estimate_json, '$.urgent_hours'), c.organisation, "
                           "c.contact, c.phone FROM ticket t JOIN customer c ON c.id = t.customer_id "
                           "WHERE t.status IN ('received', 'ready')").fetchall()
    events = conn.execute("SELECT e.id, e.ticket_id, e.kind, e.created_at FROM ticket_event e JOIN ticket t "
                          "ON t.id = e.ticket_id WHERE t.status IN ('received', 'ready') "
                          "AND e.kind IN ('received', 'ready')").fetchall()
    lines = conn.execute("SELECT l.event_id, SUM(CASE WHEN l.refused THEN 0 ELSE l.quantity END) FROM intake_line l "
                         "JOIN ticket_event e ON e.id = l.event_id JOIN ticket t ON t.id = e.ticket_id "
                         "WHERE t.status IN ('received', 'ready') GROUP BY l.event_id").fetchall()
    elapsed = time.perf_counter() - start
    conn.close()
    assert len(tickets) == IN_LAB + READY and events and lines
    return elapsed


def run() -> list[Figure]:
    from db.connection import open_database
    from kiosk.store.worklist import work_list

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("KIOSK_DATA_DIR", tmp)
        path = Path(tmp) / "kiosk.sqlite3"
        seed(path)
        floors = [floor(path) for _ in range(RUNS)]
        db = open_database(path)
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            found = work_list()
            times.append(time.perf_counter() - start)
        db.close()
    assert len(found.items) == IN_LAB + READY, len(found.items)
    value, base = median(times) * 1000, median(floors) * 1000
    return [Figure(f"work list of {IN_LAB:,} in the lab + {READY:,} waiting ({PICKED_UP:,} picked up skipped), "
                   f"median of {RUNS}", value, "ms", "raw sqlite3, the same values, 3 statements", base,
                   "ratio <= 4 and <= 500 ms", value / base <= 4 and value <= 500)]


if __name__ == "__main__":
    for figure in run():
        print(figure.line())
