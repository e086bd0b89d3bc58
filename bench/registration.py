"""Registration commit (peewee, the real `commit` of a prepared registration) vs raw sqlite3
writing the same rows.

Both use the same file system, the same pragmas (WAL, synchronous=FULL, foreign keys, busy
timeout) and one IMMEDIATE transaction per registration; runs are interleaved so disk noise hits
both. Each writes its own database file: the floor's is a copy (VACUUM INTO) of ours after one
registration, so the same schema, indexes and rows. (With both writing one file, each commit
threw the other connection's page cache away, some 0.05 ms a round that the product, where one
connection writes, never pays, and that made the second floor below look cheaper than it is.)

The floor (`raw_registration`), in one BEGIN IMMEDIATE ... COMMIT, with values built before the clock
starts (copied from the rows `register` wrote): bumps a counter and reads it back (RETURNING: the
number is on the ticket); inserts the customer, the ticket (its 16 columns, the signed code text
included), its 3 lines in one executemany, the print job and the outbox event (its JSON text as
stored), and upserts the organisation name: the same 8 statements `commit` runs, no SELECT. The
event's text is a new str each round (`fresh_event`): a registration's always is, and sqlite3 encodes
a new str to UTF-8 where it reuses the encoding of one bound before (the floor paid 3-4 us less than the
product must for the same row, some 3% of it, until this was seen).

With synchronous=FULL both sides pay one fsync per commit, and that fsync sets the ratio: a
disk that syncs in 0.3 ms and one that takes 3 ms give 2.1x and 1.4x for the same code. The
same comparison is therefore repeated with synchronous=OFF on both sides (the same
connections, switched after the FULL rounds): no fsync, so the ratio is the code's own cost
(building and signing the ticket code, the event's JSON, peewee, the inserts) over the least
Python that writes the same rows. The product itself always runs with FULL.

Part of that cost is work no registration can skip, whoever writes it: the Ed25519 signature over
the ticket code's record (some 17 us here, 257 k instructions by libsodium, half the raw floor's whole
user-space work; it signs the number, minted inside the transaction) and the JSON of the event's
ticket, which carries the number and the code. A second floor therefore does the raw floor's rows
plus that work with libraries only (`essential_work`: libsodium, the quickest signer we know and the
one the product signs with, signs the same record bytes, and `_setup` checks it writes the code's
signature; msgspec writes the same ticket JSON into the rest of the event's text, byte for byte what the
outbox stores): the ratio against it is what peewee and our own glue cost. The rest of the event
(customer, lines) is known before the number, and its text is built before the clock starts, as
`prepare` builds ours before the transaction (this floor encoded the whole event until that was
seen: some 3 us it charged itself that a commit does not pay). Neither floor builds the record,
mints ids or dates anything: that is our code, measured.

Counted, steady on a loaded machine: `python -m bench.registration --instructions [N]` runs each
side N rounds (default 200) with synchronous=OFF in a child under valgrind and counts its
instructions per registration (less a child that only sets up): the figure to compare two versions
of the code with. It counts user-space work only: the kernel's part of the writes, in both wall
figures, is not in it, so its ratio reads higher than the wall time's.

Where it stands (2 cores, shared), since ticket codes are signed by libsodium (PyNaCl) instead of
cryptography's OpenSSL (the same bytes: Ed25519 is deterministic): synchronous=OFF 1.74-1.76x the
raw floor (old code in the same interleaved runs, load average 0.8: 1.85-1.89x; earlier 1.82-1.95x),
1.41-1.47x the floor with signature and JSON (which now signs with libsodium too, so it is cheaper
and the ratio did not move: 1.44-1.47x old); the commit's median fell from 0.31 to 0.28-0.30 ms.
Counted: 959 k instructions against 490-494 k (1.94-1.96x; 1,168 k and 2.36x before) and 758-763 k
(1.26x). (Those runs had the RegisteredTicket a plain dataclass, 10 k fewer; it stays frozen: 1 % is
not worth a value the UI and the tests could change after it is stored.) The goal of 1.5x the raw
floor is not met, in wall time or counted, and cannot be with the code's output unchanged: the raw
floor plus the signature alone is some 750 k instructions, 1.52x. The rest, some 200 k, is our glue,
each piece now small and already made cheap once (counted with a fixed hash seed): the code's base32
text 42 k, the ticket's JSON 43 k (11 k of it the time's isoformat), the record 28 k (its number 11
k, uid 6 k, time 4 k), two uuids 24 k, the rows' time text 15 k, clock, zone and day 11 k, the
device row's three fields 4 k, the RegisteredTicket 13 k, the transaction's own 4 k. With no glue at
all the wall ratio would be the second floor's over the raw one, 1.17-1.21x in those runs (its
signature's tables warm, where ours signs after the writes).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
from nacl.bindings import crypto_sign, crypto_sign_seed_keypair

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
# ... and to `ticket_line`, named (schema upgrades append columns: `SELECT *` would follow them blindly).
LINE_COLUMNS = ("position", "row_id", "code", "quantity", "use", "service", "points", "ranges", "metres", "ac_dc",
                "extra_data", "model", "serial_number", "manufacturer", "requirements", "repair_if_fails",
                "amount_fen", "free_reason")


def registration_template(db, ticket_id: int) -> dict:
    """The rows `register` wrote for one ticket: what the raw floor writes again."""
    return {
        "customer": db.execute_sql("SELECT organisation, credit_code, address, contact, phone, created_at "
                                   "FROM customer").fetchone(),
        "ticket": db.execute_sql(f"SELECT {', '.join(TICKET_COLUMNS)} FROM ticket WHERE id = ?",
                                 (ticket_id,)).fetchone(),
        "lines": db.execute_sql(f"SELECT {', '.join(LINE_COLUMNS)} FROM ticket_line WHERE ticket_id = ? "
                                "ORDER BY position", (ticket_id,)).fetchall(),
        "event": db.execute_sql("SELECT * FROM outbox_event").fetchone(),
        "organisation": db.execute_sql("SELECT key, name, last_seen FROM organisation").fetchone(),
    }


def fresh_event(template: dict) -> dict:
    """`template` with its event's text a new str object, made before the clock starts: sqlite3 binds
    a str as UTF-8, and CPython keeps that encoding in the str once made, so a floor binding the same
    str each round would encode it once, where every registration writes a new event text and pays
    its encoding (3-4 us here for its 1,800 characters, Chinese among them)."""
    e = template["event"]
    return {**template, "event": (*e[:3], e[3][:-1] + e[3][-1], *e[4:])}


def raw_registration(conn: sqlite3.Connection, template: dict, i: int | str) -> None:
    """The floor: one registration's rows with plain sqlite3 and pre-built values, one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO counter (name, value) VALUES ('raw', 1) "  # the number is read: it is on the ticket
                 "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value").fetchone()
    cid = conn.execute("INSERT INTO customer (organisation, credit_code, address, contact, phone, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", template["customer"]).lastrowid
    t = template["ticket"]
    tid = conn.execute(
        f"INSERT INTO ticket ({', '.join(TICKET_COLUMNS)}) VALUES ({', '.join('?' * len(TICKET_COLUMNS))})",
        (f"raw-{i}", f"RAW-{i}", t[2], cid, *t[4:]),
    ).lastrowid
    conn.executemany(
        f"INSERT INTO ticket_line (ticket_id, {', '.join(LINE_COLUMNS)}) "
        f"VALUES (?, {', '.join('?' * len(LINE_COLUMNS))})",
        [(tid, *line) for line in template["lines"]],
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


def essential_work(secret: bytes, record: bytes, rest: str, ticket: dict) -> str:
    """What a registration computes besides its rows: the Ed25519 signature over the code's record
    (it signs the number, minted inside the transaction), by libsodium (PyNaCl's binding, `secret` its
    64-byte key: the quickest we know, some 260 k instructions against OpenSSL's 460 k), and the
    event's text, `rest` (its other fields' JSON, less the closing brace) with the ticket's JSON, the
    bytes events.to_json writes (json's, keys sorted, ", " and ": " between items), by the quickest
    library way to them: msgspec, sorted, then `format(indent=0)` (json.dumps writes them three times
    slower)."""
    crypto_sign(record, secret)
    return f'{rest}, "ticket": {msgspec.json.format(msgspec.json.encode(ticket, order="sorted"), indent=0).decode()}}}'


class _Setup(NamedTuple):
    db: Any  # peewee's database: `commit` writes through its connection
    raw: sqlite3.Connection  # the floors', on their own copy of the file
    template: dict
    prepared: Any
    device: Any
    key: bytes  # libsodium's 64-byte secret key: the device's seed and public key
    record: bytes
    rest: str
    ticket: dict


def _setup(tmp: Path) -> _Setup:
    """A database in `tmp` with one registration, its rows as the floors' template, the floors' copy
    of the file, and the registration prepared: what both the timed and the counted runs start from."""
    from db.connection import open_database
    from kiosk.domain.fees import default_policy
    from kiosk.domain.ticketcode import SIGNATURE_BYTES, from_text
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.keys import signing_key
    from kiosk.store.registration import ensure_device, prepare, register

    db = open_database(tmp / "kiosk.sqlite3")
    ensure_catalog()
    catalog, policy, device, reg = load_catalog(), default_policy(), ensure_device("BN"), _registration()
    template = registration_template(db, register(reg, catalog, policy, device).id)
    # The floor writes its own copy of this file (same schema, indexes and rows, same disk): with both
    # writing one file, each commit threw the other connection's page cache away (SQLite drops it when
    # another connection wrote), some 0.05 ms a round neither pays in the product, where one connection writes.
    db.execute_sql("VACUUM INTO ?", (str(tmp / "floor.sqlite3"),))
    raw = raw_connection(tmp / "floor.sqlite3")
    signed = from_text(template["ticket"][-1])
    record = signed[:-SIGNATURE_BYTES]
    key = crypto_sign_seed_keypair(signing_key(device.uid).private_bytes_raw())[1]
    assert crypto_sign(record, key)[:SIGNATURE_BYTES] == signed[-SIGNATURE_BYTES:]  # the signature the code carries
    text = template["event"][3]
    ticket = json.loads(text)["ticket"]
    rest = text[:text.rindex(', "ticket": ')]  # "ticket" sorts last
    assert essential_work(key, record, rest, ticket) == text
    # Pricing and validation happen when the estimate is shown; the commit is what we measure.
    return _Setup(db, raw, template, prepare(reg, catalog, policy), device, key, record, rest, ticket)


def _set_sync(s: _Setup, sync: str) -> None:
    # Both connections live in this thread: peewee's is the one `commit` writes through.
    s.db.execute_sql(f"PRAGMA synchronous={sync}")
    s.raw.execute(f"PRAGMA synchronous={sync}")


def run() -> list[Figure]:
    from kiosk.store.registration import commit

    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    s = _setup(tmp)
    figures = []
    for sync in SYNC_MODES:
        _set_sync(s, sync)
        ours: list[float] = []
        floor: list[float] = []
        essential: list[float] = []
        for _ in range(ROUNDS):
            start = time.perf_counter_ns()
            commit(s.prepared, s.device)
            ours.append((time.perf_counter_ns() - start) / 1e6)
            fresh = fresh_event(s.template)
            start = time.perf_counter_ns()
            raw_registration(s.raw, fresh, f"{sync}-{len(floor)}")
            floor.append((time.perf_counter_ns() - start) / 1e6)
            fresh = fresh_event(s.template)
            start = time.perf_counter_ns()
            raw_registration(s.raw, fresh, f"{sync}-essential-{len(essential)}")
            essential_work(s.key, s.record, s.rest, s.ticket)
            essential.append((time.perf_counter_ns() - start) / 1e6)
        name = f"registration commit {{}} (3 lines, WAL, synchronous={sync.upper()})"
        for label, pick in (("median", median), ("p99", lambda xs: percentile(xs, 99))):
            value, base = pick(ours), pick(floor)
            figures.append(Figure(name.format(label), value, "ms", "raw sqlite3, same rows and pragmas", base,
                                  f"ratio <= {GOAL}", value / base <= GOAL))
        value, base = median(ours), median(essential)
        figures.append(Figure(name.format("median, peewee and glue"), value, "ms",
                              "the raw floor + Ed25519 signature + the ticket's JSON", base, f"ratio <= {GOAL}",
                              value / base <= GOAL))
    s.raw.close()
    s.db.close()
    shutil.rmtree(tmp, ignore_errors=True)  # both databases: some 30 MB a run
    return figures


# ---- counted: `python -m bench.registration --instructions` ------------------------------------------

COUNTED = ("none", "ours", "floor", "essential")  # what a counted child does after the warm-up
WARM_UP = 50


def _counted_child(what: str, rounds: int, tmp: Path) -> None:
    """One child under valgrind: the setup, a warm-up of every side, then `rounds` of `what` alone
    ("none": nothing, the baseline the others' counts are taken from), all with synchronous=OFF."""
    from kiosk.store.registration import commit

    s = _setup(tmp)
    _set_sync(s, "off")
    for i in range(WARM_UP):
        commit(s.prepared, s.device)
        raw_registration(s.raw, fresh_event(s.template), f"warm-{i}")
        raw_registration(s.raw, fresh_event(s.template), f"warm-essential-{i}")
        essential_work(s.key, s.record, s.rest, s.ticket)
    fresh = [fresh_event(s.template) for _ in range(rounds)]  # made in every child, counted in none
    if what == "ours":
        for _ in range(rounds):
            commit(s.prepared, s.device)
    elif what in ("floor", "essential"):
        for i, event in enumerate(fresh):
            raw_registration(s.raw, event, i)
            if what == "essential":
                essential_work(s.key, s.record, s.rest, s.ticket)
    s.raw.close()
    s.db.close()


def _instructions(what: str, rounds: int, tmp: Path) -> int:
    tmp.mkdir()
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           sys.executable, "-m", "bench.registration", "--child", what, str(rounds), str(tmp)],
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=900,
                          check=False)
    counted = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if counted is None or done.returncode != 0:
        raise RuntimeError(f"counted child {what} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return int(counted.group(1).replace(",", ""))


def instruction_counts(rounds: int = 200) -> list[Figure]:
    """Instructions per registration with synchronous=OFF, ours against both floors: each side's
    child counted under valgrind (cachegrind, no cache simulation; some 20 s a child), less a child
    that does the same setup and warm-up and no round. The count moves by well under 1 % from run
    to run whatever else the machine does, where the wall time moves by 10 %; it counts user-space
    work only (the kernel's part of the writes, in both wall figures, is not in it)."""
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-instructions-"))
    try:
        counts = {what: _instructions(what, rounds, tmp / what) for what in COUNTED}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ours, floor, essential = ((counts[what] - counts["none"]) / rounds / 1e3 for what in COUNTED[1:])
    name = f"registration commit, instructions per registration over {rounds} (3 lines, WAL, synchronous=OFF)"
    return [Figure(name, ours, "k instr", "raw sqlite3, same rows and pragmas", floor, f"ratio <= {GOAL}",
                   ours / floor <= GOAL),
            Figure(name + ", peewee and glue", ours, "k instr", "the raw floor + Ed25519 signature + the ticket's JSON",
                   essential, f"ratio <= {GOAL}", ours / essential <= GOAL)]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _counted_child(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    elif "--instructions" in sys.argv[1:]:
        for figure in instruction_counts(int(sys.argv[-1]) if sys.argv[-1].isdigit() else 200):
            print(figure.line())
    else:
        for figure in run():
            print(figure.line())
