"""The signed ticket code: how big its QR is, and how fast a scan finds the ticket.

* QR version (error correction M) and printed size per line count 1..10. The code is Base32 behind a prefix, so
  the `qrcode` library writes it in alphanumeric mode (what an image QR and a printer that
  picks its own mode print). Floor: the same signed bytes as raw binary in byte mode (the
  smallest QR that could carry them, though no keyboard-wedge scanner could type it).
  Printed size on 58 mm paper (384 dots, 8 dots/mm): the module size the ESC/POS renderer
  picks for the native QR (`printer.raster.native_module_size`, which sizes for byte mode,
  the worst a printer may choose), times the modules of the alphanumeric version plus the
  quiet zone. Floor: the QR of the bare ticket number, printed the same way (the receipt's
  QR before signed codes). Goals: version <= 10 at 5 lines; >= 4 dots per module always.
* Scan -> ticket on screen, at a clerk desk whose database holds TICKETS tickets (3 lines
  each, real schema, built with raw sqlite3 executemany in a temporary directory): decode +
  verify (a kiosk's key, imported) + the ticket, its customer and its lines by the ticket
  uid, with peewee as the desk would. Floor: the bare indexed lookup `SELECT * FROM ticket
  WHERE uid = ?` with raw sqlite3 on the same file. Goal: median and p99 <= 5 ms. Also a
  ticket number typed by hand (no code) and decode + verify alone (floor: Ed25519 verify).

    python -m bench.ticketcode          (TICKETCODE_BENCH_TICKETS=200000 for a quicker run)
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Figure, median, percentile

TICKETS = int(os.environ.get("TICKETCODE_BENCH_TICKETS", "1000000"))
SCANS = 2000
GOAL_MS = 5.0
PAPER_DOTS = 384  # 58 mm
DOTS_PER_MM = 8
CODES = ("L-001-001", "Z-002-001", "C-003-001", "D-105-0012", "R-210-003", "L-003-002", "Y-001-001",
         "F-012-004", "S-100-001", "G-001-002")


def _record(lines: int, uid: str, number: str, device_uid: str):
    from kiosk.domain.ticketcode import SERVICES_V1, USES_V1, CodeLine, TicketRecord

    return TicketRecord(
        ticket_uid=uid, number=number, device_uid=device_uid, created_at=datetime(2026, 11, 24, 1, 41, 7, tzinfo=UTC),
        catalog_version=3, total_fen=1_234_500,
        lines=tuple(CodeLine(CODES[i % len(CODES)], 2 + i % 5, SERVICES_V1[i % 2], USES_V1[i % 5],
                             amount_fen=12_000 * (i + 1))  # as a kiosk signs them: each line's amount
                    for i in range(lines)),
        catalog_hash=bytes(32), policy_hash=bytes(32),
    )


def _version(data) -> int:
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    return code.version


def size_figures(key, device_uid: str) -> list[Figure]:
    from qrcode.util import MODE_8BIT_BYTE, QRData

    from kiosk.domain.ids import uuid7
    from kiosk.domain.ticketcode import encode, from_text
    from printer.raster import QUIET_ZONE, native_module_size

    number = "K7Q-261124-0007"
    bare_module = native_module_size(number, PAPER_DOTS)
    bare_mm = (17 + 4 * _version(number) + 2 * QUIET_ZONE) * bare_module / DOTS_PER_MM
    figures = []
    for lines in range(1, 11):
        text = encode(_record(lines, uuid7(), number, device_uid), key)
        version = _version(text)
        floor = _version(QRData(from_text(text), mode=MODE_8BIT_BYTE))
        module = native_module_size(text, PAPER_DOTS)
        modules = 17 + 4 * version
        mm = (modules + 2 * QUIET_ZONE) * module / DOTS_PER_MM
        byte_version = _version(QRData(text.encode("ascii"), mode=MODE_8BIT_BYTE))  # a printer that picks byte mode
        byte_mm = (17 + 4 * byte_version + 2 * QUIET_ZONE) * module / DOTS_PER_MM
        figures.append(Figure(
            f"ticket code, {lines} line(s): {len(text)} characters, QR version at M (alphanumeric)", version,
            "version", "the signed bytes in byte mode", floor, "<= 10" if lines == 5 else "reported",
            version <= 10 or lines != 5))
        figures.append(Figure(
            f"ticket code, {lines} line(s): printed on 58 mm, {modules} modules at {module} dots/module "
            f"(renderer's pick), quiet zone included (byte mode: version {byte_version}, {byte_mm:.1f} mm)", mm, "mm",
            "the bare number's QR, printed the same way", bare_mm, ">= 4 dots/module, <= 48 mm",
            module >= 4 and max(mm, byte_mm) <= PAPER_DOTS / DOTS_PER_MM))
    return figures


# ---- the desk database -------------------------------------------------------------------------


def _build(path: Path, kiosk_uid: str, kiosk_public: bytes) -> tuple[float, list[tuple[str, str]]]:
    """A desk database with TICKETS tickets of a kiosk: the real schema, then raw executemany.
    Returns the seconds it took and (uid, number) of every ticket."""
    from db.connection import open_database
    from db.models import Device, DeviceKey, utc_now
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.registration import ensure_device, register

    from .registration import LINE_COLUMNS, _registration, registration_template

    start = time.perf_counter()
    db = open_database(path)
    ensure_catalog()
    ensure_device("BD", role="clerk")
    kiosk = Device.create(uid=kiosk_uid, prefix="K7Q", role="kiosk", created_at=utc_now())
    DeviceKey.create(device_uid=kiosk_uid, public_key=kiosk_public, source="import", added_at=utc_now())
    template = registration_template(db, register(_registration(), load_catalog(), default_policy(),
                                                  ensure_device()).id)
    db.close()

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=delete")
    conn.execute("PRAGMA synchronous=off")
    conn.execute("PRAGMA cache_size=-262144")
    rng = random.Random(7)
    day0 = datetime(2024, 1, 1, tzinfo=UTC)
    tickets: list[tuple[str, str]] = []
    t, customer = template["ticket"], template["customer"]
    lines = template["lines"]
    batch = 50_000
    conn.execute("BEGIN")
    first_customer = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM customer").fetchone()[0]
    first_ticket = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM ticket").fetchone()[0]
    for low in range(0, TICKETS, batch):
        rows_c, rows_t, rows_l = [], [], []
        for i in range(low, min(TICKETS, low + batch)):
            created = day0 + timedelta(seconds=i * 60)  # 1,440 a day
            ms = int(created.timestamp() * 1000)
            uid = f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-7{rng.getrandbits(12):03x}-{0x8000 | rng.getrandbits(14):04x}-" \
                  f"{rng.getrandbits(48):012x}"
            number = f"K7{'AB'[i % 2]}-{created:%y%m%d}-{i // 2 % 1000 + 1:04d}"  # unique: 2 x 1000 a day
            tickets.append((uid, number))
            cid, tid = first_customer + i, first_ticket + i
            rows_c.append((cid, *customer[:-1], created.isoformat()))
            rows_t.append((tid, uid, number, kiosk.id, cid, *t[4:14], created.isoformat(), t[15]))
            rows_l += [(tid, *line) for line in lines]
        conn.executemany("INSERT INTO customer (id, organisation, credit_code, address, contact, phone, created_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", rows_c)
        conn.executemany("INSERT INTO ticket (id, uid, number, device_id, customer_id, version_id, policy_id, status, "
                         "urgent, pickup, certificates, certificate_name, total_fen, quoted_lines, estimate_json, "
                         "created_at, code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows_t)
        conn.executemany(f"INSERT INTO ticket_line (ticket_id, {', '.join(LINE_COLUMNS)}) "
                         f"VALUES (?, {', '.join('?' * len(LINE_COLUMNS))})", rows_l)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=wal")  # as the desk runs it
    conn.close()
    return time.perf_counter() - start, tickets


def scan_figures(key, kiosk_uid: str, kiosk_public: bytes) -> list[Figure]:
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-codes-"))
    try:
        return _scan_figures(tmp / "desk.sqlite3", key, kiosk_uid, kiosk_public)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # a few GB


def _scan_figures(path: Path, key, kiosk_uid: str, kiosk_public: bytes) -> list[Figure]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from db.connection import open_database
    from db.models import Customer, Ticket, TicketLine
    from kiosk.domain.ticketcode import decode, encode, from_text
    from kiosk.store.keys import keys_for

    from .registration import raw_connection

    built, tickets = _build(path, kiosk_uid, kiosk_public)
    rng = random.Random(11)
    sample = rng.sample(tickets, SCANS)
    codes = [encode(_record(3, uid, number, kiosk_uid), key) for uid, number in sample]

    db = open_database(path)
    raw = raw_connection(path)

    def on_screen(ticket: Ticket) -> tuple:
        return ticket.number, ticket.customer.organisation, list(ticket.lines.order_by(TicketLine.position))

    def by_uid(uid: str) -> Ticket:
        return Ticket.select(Ticket, Customer).join(Customer).where(Ticket.uid == uid).get()

    def by_number(number: str) -> Ticket:
        return Ticket.select(Ticket, Customer).join(Customer).where(Ticket.number == number).get()

    scan, typed, floor, floor_number, verify, verify_floor = [], [], [], [], [], []
    public = Ed25519PublicKey.from_public_bytes(kiosk_public)
    for (uid, number), code in zip(sample, codes):
        data = from_text(code)
        t0 = time.perf_counter_ns()
        shown = on_screen(by_uid(decode(code, keys_for).ticket_uid))
        t1 = time.perf_counter_ns()
        raw.execute("SELECT * FROM ticket WHERE uid = ?", (uid,)).fetchone()
        t2 = time.perf_counter_ns()
        on_screen(by_number(number))
        t3 = time.perf_counter_ns()
        raw.execute("SELECT * FROM ticket WHERE number = ?", (number,)).fetchone()
        t4 = time.perf_counter_ns()
        decode(code, keys_for)
        t5 = time.perf_counter_ns()
        public.verify(data[-64:], data[:-64])
        t6 = time.perf_counter_ns()
        assert shown[0] == number and len(shown[2]) == 3
        scan.append((t1 - t0) / 1e6)
        floor.append((t2 - t1) / 1e6)
        typed.append((t3 - t2) / 1e6)
        floor_number.append((t4 - t3) / 1e6)
        verify.append((t5 - t4) / 1e6)
        verify_floor.append((t6 - t5) / 1e6)
    raw.close()
    db.close()
    size_mb = path.stat().st_size / 1e6
    where = f"{TICKETS:,} tickets, {size_mb:,.0f} MB, built in {built:.0f} s"
    figures = []
    for label, pick in (("median", median), ("p99", lambda xs: percentile(xs, 99))):
        value = pick(scan)
        figures.append(Figure(f"scan -> ticket on screen {label} (decode + verify + ticket, customer, 3 lines; "
                              f"{where})", value, "ms", "bare indexed SELECT by uid, raw sqlite3", pick(floor),
                              f"<= {GOAL_MS:g} ms", value <= GOAL_MS))
    for label, pick in (("median", median), ("p99", lambda xs: percentile(xs, 99))):
        value = pick(typed)
        figures.append(Figure(f"typed ticket number -> ticket on screen {label} ({TICKETS:,} tickets)", value, "ms",
                              "bare indexed SELECT by number, raw sqlite3", pick(floor_number),
                              f"<= {GOAL_MS:g} ms", value <= GOAL_MS))
    figures.append(Figure("decode + verify alone, median (text -> TicketRecord, key from device_key)",
                          median(verify), "ms", "Ed25519 verify alone", median(verify_floor), "reported", True))
    return figures


def run() -> list[Figure]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.domain.ids import uuid7

    key = Ed25519PrivateKey.generate()  # the kiosk that issued the tickets; the desk imported its key
    kiosk_uid = uuid7()
    public = key.public_key().public_bytes_raw()
    return size_figures(key, kiosk_uid) + scan_figures(key, kiosk_uid, public)


if __name__ == "__main__":
    for figure in run():
        print(figure.line(), flush=True)
