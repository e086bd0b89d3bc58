"""Registration commit (peewee, the real `register`) vs raw sqlite3 writing the same rows.

Both use the same file system, the same pragmas (WAL, synchronous=FULL) and one
IMMEDIATE transaction per registration; runs are interleaved so disk noise hits both.

With synchronous=FULL both sides pay one fsync per commit, and that fsync sets the ratio: a
disk that syncs in 0.3 ms and one that takes 3 ms give 2.1x and 1.4x for the same code. The
same comparison is therefore repeated with synchronous=OFF on both sides (the same
connections, switched after the FULL rounds): no fsync, so the ratio is the code's own cost
(building and signing the ticket code, the event's JSON, peewee, the inserts) over the least
Python that writes the same rows. The product itself always runs with FULL.

Part of that cost is work no registration can skip, whoever writes it: the Ed25519 signature over
the ticket code's record (about 50-80 us here, more than half the raw floor's rows; it signs the
number, minted inside the transaction) and the event's JSON. A second floor therefore does the raw
floor's rows plus that work with the same libraries (cryptography signs the same record bytes,
json writes the same event with the outbox's settings): the ratio against it is what peewee and
our own glue cost.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench.common import Figure, median, percentile

ROUNDS = 300
GOAL = 1.5


def _registration():
    from kiosk.domain.fees import LineRequest
    from kiosk.store.registration import CustomerDetails, InstrumentLine, Registration

    return Registration(
        CustomerDetails("示范燃气有限公司", "91520100MA6DKJ2X4U", "贵阳市观山湖区", "李工", "13812345678"),
        (
            InstrumentLine(LineRequest("L-001-001", quantity=3, use="safety"), model="Y-100", serial_number="A1"),
            InstrumentLine(LineRequest("Z-002-001", quantity=1, use="trade")),
            InstrumentLine(LineRequest("C-003-001", metres=Decimal("7.5"))),
        ),
        urgent="72h",
    )


PRAGMAS = ("journal_mode=wal", "synchronous=full", "foreign_keys=1", "busy_timeout=5000")
SYNC_MODES = ("full", "off")  # full: as the product runs; off: no fsync on either side, the code's own cost


def raw_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=5)
    for pragma in PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    return conn


# What a registration writes to `ticket`, the signed code included: the floor writes the same.
TICKET_COLUMNS = ("uid", "number", "device_id", "customer_id", "version_id", "policy_id", "status", "urgent",
                  "pickup", "certificates", "certificate_name", "total_fen", "quoted_lines", "estimate_json",
                  "created_at", "code")


def registration_template(db, ticket_id: int) -> dict:
    """The rows `register` wrote for one ticket: what the raw floor writes again."""
    return {
        "customer": db.execute_sql("SELECT organisation, credit_code, address, contact, phone, created_at "
                                   "FROM customer").fetchone(),
        "ticket": db.execute_sql(f"SELECT {', '.join(TICKET_COLUMNS)} FROM ticket WHERE id = ?",
                                 (ticket_id,)).fetchone(),
        "lines": db.execute_sql("SELECT * FROM ticket_line WHERE ticket_id = ?", (ticket_id,)).fetchall(),
        "event": db.execute_sql("SELECT * FROM outbox_event").fetchone(),
        "organisation": db.execute_sql("SELECT key, name, last_seen FROM organisation").fetchone(),
    }


def raw_registration(conn: sqlite3.Connection, template: dict, i: int | str) -> None:
    """The floor: one registration's rows with plain sqlite3 and pre-built values, one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO counter (name, value) VALUES ('raw', 1) "
                 "ON CONFLICT(name) DO UPDATE SET value = value + 1")
    cid = conn.execute("INSERT INTO customer (organisation, credit_code, address, contact, phone, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", template["customer"]).lastrowid
    t = template["ticket"]
    tid = conn.execute(
        f"INSERT INTO ticket ({', '.join(TICKET_COLUMNS)}) VALUES ({', '.join('?' * len(TICKET_COLUMNS))})",
        (f"raw-{i}", f"RAW-{i}", t[2], cid, *t[4:]),
    ).lastrowid
    conn.executemany(
        "INSERT INTO ticket_line (ticket_id, position, row_id, code, quantity, use, service, points, ranges, "
        "metres, ac_dc, model, serial_number, manufacturer, requirements, repair_if_fails, amount_fen, "
        "free_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(tid, *line[2:]) for line in template["lines"]],
    )
    conn.execute("INSERT INTO print_job (ticket_id, kind, state, attempts, last_error, created_at, updated_at, lang) "
                 "VALUES (?, 'ticket', 'pending', 0, NULL, ?, ?, 'zh')", (tid, t[14], t[14]))
    e = template["event"]
    conn.execute("INSERT INTO outbox_event (uid, kind, payload, created_at) VALUES (?, ?, ?, ?)",
                 (f"raw-event-{i}", e[2], e[3], e[4]))
    if template["organisation"]:  # the name the customer screen completes next time
        conn.execute("INSERT INTO organisation (key, name, seen, last_seen) VALUES (?, ?, 1, ?) "
                     "ON CONFLICT (key) DO UPDATE SET seen = seen + 1, name = excluded.name, "
                     "last_seen = max(last_seen, excluded.last_seen)", template["organisation"])
    conn.execute("COMMIT")


def essential_work(key, record: bytes, event: dict) -> None:
    """What a registration computes besides its rows: the Ed25519 signature over the code's record
    (it signs the number, minted inside the transaction) and the event's JSON (as events.to_json
    writes it)."""
    key.sign(record)
    json.dumps(event, ensure_ascii=False, sort_keys=True)


def run() -> list[Figure]:
    from db.connection import open_database
    from kiosk.domain.fees import default_policy
    from kiosk.domain.ticketcode import SIGNATURE_BYTES, from_text
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.keys import signing_key
    from kiosk.store.registration import commit, ensure_device, prepare, register

    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    db = open_database(tmp / "kiosk.sqlite3")
    ensure_catalog()
    catalog, policy, device, reg = load_catalog(), default_policy(), ensure_device("BN"), _registration()
    template = registration_template(db, register(reg, catalog, policy, device).id)
    raw = raw_connection(tmp / "kiosk.sqlite3")  # same file, same schema, same disk
    key, record = signing_key(device.uid), from_text(template["ticket"][-1])[:-SIGNATURE_BYTES]
    event = json.loads(template["event"][3])

    # Pricing and validation happen when the estimate is shown; the commit is what we measure.
    prepared = prepare(reg, catalog, policy)
    figures = []
    for sync in SYNC_MODES:
        # Both connections live in this thread: peewee's is the one `commit` writes through.
        db.execute_sql(f"PRAGMA synchronous={sync}")
        raw.execute(f"PRAGMA synchronous={sync}")
        ours, floor, essential = [], [], []
        for _ in range(ROUNDS):
            start = time.perf_counter_ns()
            commit(prepared, device)
            ours.append((time.perf_counter_ns() - start) / 1e6)
            start = time.perf_counter_ns()
            raw_registration(raw, template, f"{sync}-{len(floor)}")
            floor.append((time.perf_counter_ns() - start) / 1e6)
            start = time.perf_counter_ns()
            raw_registration(raw, template, f"{sync}-essential-{len(essential)}")
            essential_work(key, record, event)
            essential.append((time.perf_counter_ns() - start) / 1e6)
        name = f"registration commit {{}} (3 lines, WAL, synchronous={sync.upper()})"
        for label, pick in (("median", median), ("p99", lambda xs: percentile(xs, 99))):
            value, base = pick(ours), pick(floor)
            figures.append(Figure(name.format(label), value, "ms", "raw sqlite3, same rows and pragmas", base,
                                  f"ratio <= {GOAL}", value / base <= GOAL))
        value, base = median(ours), median(essential)
        figures.append(Figure(name.format("median, peewee and glue"), value, "ms",
                              "the raw floor + Ed25519 signature + the event's JSON", base, f"ratio <= {GOAL}",
                              value / base <= GOAL))
    raw.close()
    db.close()
    return figures

if __name__ == "__main__":
    for figure in run():
        print(figure.line())
