"""Drain 100,000 queued events into central on PostgreSQL, over real HTTP, vs the floor.

central: `kiosk central serve` in its own process (uvicorn, one worker) on a fresh schema;
one device pushes its queue in batches of 500 over one keep-alive connection, as the kiosk's
sync worker does. Every event is validated, stored once, folded into its ticket's status and
published to the change feed, one transaction per batch.

floor: the same rows `INSERT ... ON CONFLICT (uid) DO NOTHING` straight into PostgreSQL, 500
per transaction, from this process, into a table shaped like central's `event`: no HTTP, no
JSON parsing, no validation, no feed. The two run interleaved, batch by batch.

The queue's events are JSON already (the outbox stores them so); building a request body is
joining them, as a device does.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.common import Figure

EVENTS = int(os.environ.get("BENCH_SYNC_EVENTS", "100000"))
BATCH = 500
GOAL = 0.5
PG_URL = os.environ.get("CENTRAL_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 11, 1, 1, 30, tzinfo=UTC)


def pg_problem() -> str | None:
    try:
        import fastapi  # noqa: F401
        import psycopg
        import uvicorn  # noqa: F401
    except ImportError as e:
        return f"needs the central extra ({e.name}): pip install -e '.[central]'"
    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        return f"PostgreSQL at {PG_URL} is unreachable: {str(e).strip().splitlines()[0]}"
    return None


class Schema:
    """A fresh schema for one run, dropped afterwards; `url` selects it."""

    def __enter__(self):
        import psycopg

        self.name = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {self.name}")
        from urllib.parse import quote

        self.url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options={quote(f'-csearch_path={self.name}')}"
        return self

    def __exit__(self, *exc):
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {self.name} CASCADE")


def events(device_uid: str, prefix: str, count: int = EVENTS) -> list[dict]:
    """ticket.registered events as kiosk/store/registration.py writes them: ~1.5 KB each."""
    out = []
    for i in range(count):
        at = T0 + timedelta(days=i // 5000, seconds=i % 5000 * 7)
        organisation = f"示范燃气有限公司第{i % 977}分公司"
        out.append({"uid": str(uuid.uuid4()), "kind": "ticket.registered", "created_at": at.isoformat(), "payload": {
            "ticket": {"uid": str(uuid.uuid4()), "number": f"{prefix}-{at:%y%m%d}-{i % 5000 + 1:04d}",
                       "device": device_uid, "created_at": at.isoformat(), "catalog_version": 1,
                       "policy": "demo-2026", "urgent": None if i % 5 else "72h", "pickup": "in_person",
                       "certificates": 1, "certificate_name": organisation, "total_fen": 12000 + i % 300,
                       "code": "JL" + uuid.uuid4().hex.upper() * 10},
            "customer": {"organisation": organisation, "credit_code": "91520100MA6DKJ2X4U",
                         "address": "贵阳市观山湖区长岭北路", "contact": "李工", "phone": f"138{i:08d}"},
            "lines": [{"position": n, "code": code, "quantity": 1 + i % 4, "use": "safety", "service": "verification",
                       "points": None, "ranges": None, "metres": None, "ac_dc": False, "model": "Y-100",
                       "serial_number": f"A{i}-{n}", "manufacturer": "", "requirements": "",
                       "repair_if_fails": False, "amount_fen": 3000 * n, "free_reason": None}
                      for n, code in enumerate(("L-001-001", "Z-002-001", "C-003-001"))],
        }})
    return out


def event_rows(device_id: int, batch: list[dict], received: str) -> list[tuple]:
    """What central's `event` table gets for these events: the floor writes the same."""
    return [(e["uid"], e["kind"], device_id, e["payload"]["ticket"]["uid"], 0, e["created_at"], received,
             json.dumps(e["payload"], ensure_ascii=False, separators=(",", ":"))) for e in batch]


FLOOR_TABLE = """CREATE TABLE floor_event (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, uid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL, device_id BIGINT NOT NULL, ticket TEXT, status SMALLINT, created_at TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL, payload JSONB NOT NULL)"""
FLOOR_INSERT = ("INSERT INTO floor_event (uid, kind, device_id, ticket, status, created_at, received_at, payload) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (uid) DO NOTHING")


class Floor:
    """The same rows straight into PostgreSQL: executemany (pipeline mode), one transaction per
    batch. Measured against the alternatives: one unnest() statement per batch ran at about a
    third of this speed (PostgreSQL parses the arrays' text), one multi-row VALUES about 20 %
    slower."""

    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute(FLOOR_TABLE)

    def insert(self, rows: list[tuple]) -> float:
        start = time.perf_counter()
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(FLOOR_INSERT, rows)
        return time.perf_counter() - start

    def close(self, expected: int) -> None:
        stored = self.conn.execute("SELECT count(*) FROM floor_event").fetchone()[0]
        self.conn.close()
        if stored != expected:
            raise RuntimeError(f"the floor stored {stored} rows, not {expected}")


class Central:
    """`kiosk central serve` in its own process on `url`; ready when uvicorn says so. `office`:
    with the back office in a process of its own (`--office-port`, at `office_port`)."""

    def __init__(self, url: str, workers: int = 1, office: bool = False):
        self.port = _free_port()
        self.office_port = _free_port() if office else self.port
        # One device sends a fleet's worth here: far over a device's quotas (central/api/quotas.py).
        # BENCH_CENTRAL_QUOTAS: figures high enough to never refuse, to time the quota's own cost.
        env = {**os.environ, "DATABASE_URL": url, "CENTRAL_QUOTAS": os.environ.get("BENCH_CENTRAL_QUOTAS", "off")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "central", "serve", "--port", str(self.port), "--workers", str(workers),
             *(["--office-port", str(self.office_port)] if office else []), "--log-level", "info"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Ready: the socket is bound ("Uvicorn running on", before the workers start when there
        # are several, after the app started when there is one) and every worker has started.
        bound, ready = 0, 0
        for line in self.proc.stderr:
            bound += "Uvicorn running on" in line
            ready += "Application startup complete" in line
            if bound == 1 + office and ready == workers + office:
                break
        else:
            raise RuntimeError("central did not start")
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()  # uvicorn's log: drained, not kept

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def enrol(url: str, role: str, prefix: str) -> tuple[str, str]:
    """(device uid, token), enrolled directly in central's database."""
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from central.devices import add_device, enroll
    from central.schema import open_storage
    from kiosk.domain.enrolment import proof_message

    storage = open_storage(url, pool_size=1)
    key, uid, code = Ed25519PrivateKey.generate(), str(uuid.uuid4()), add_device(storage, role)
    public = base64.b64encode(key.public_key().public_bytes_raw()).decode()
    signature = base64.b64encode(key.sign(proof_message(code, uid, prefix, public))).decode()
    token = enroll(storage, code, uid, prefix, public, signature).token
    storage.close()
    return uid, token


class Device:
    """One keep-alive connection pushing a queue as a device does."""

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def push(self, encoded: list[bytes]) -> float:
        start = time.perf_counter()
        body = b'{"events":[' + b",".join(encoded) + b"]}"
        self.conn.request("POST", "/api/v1/events", body, self.headers)
        response = self.conn.getresponse()
        reply = response.read()
        if response.status != 200:
            raise RuntimeError(f"push refused: {response.status} {reply[:300]!r}")
        return time.perf_counter() - start


def run() -> list[Figure]:
    problem = pg_problem()
    if problem:
        print(f"# sync_drain skipped: {problem}", file=sys.stderr)
        return []
    with Schema() as schema:
        from central.schema import open_storage

        open_storage(schema.url, pool_size=1).close()  # central's schema, before the server starts
        device_uid, token = enrol(schema.url, "kiosk", "BN")
        queue = events(device_uid, "BN")
        encoded = [json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode() for e in queue]
        floor = Floor(schema.url)
        server = Central(schema.url)
        ours_s = floor_s = 0.0
        try:
            device = Device(server.port, token)
            # Interleaved, batch by batch, so that checkpoints and disk noise hit both alike.
            for i in range(0, len(queue), BATCH):
                rows = event_rows(1, queue[i:i + BATCH], datetime.now(UTC).isoformat())
                floor_s += floor.insert(rows)
                ours_s += device.push(encoded[i:i + BATCH])
        finally:
            server.close()
        floor.close(len(queue))
        storage = open_storage(schema.url, pool_size=1)
        with storage.read() as tx:
            stored = tx.one("SELECT count(*) FROM event")[0]
        storage.close()
        if stored != len(queue):
            raise RuntimeError(f"central stored {stored} events, not {len(queue)}")
    ours, base = len(queue) / ours_s, len(queue) / floor_s
    return [Figure(f"sync drain: {len(queue):,} events into central on PostgreSQL (HTTP, batches of {BATCH})",
                   ours, "events/s", "the same rows INSERT ... ON CONFLICT DO NOTHING straight into PostgreSQL",
                   base, f"ratio >= {GOAL}", ours / base >= GOAL)]


if __name__ == "__main__":
    for figure in run():
        print(figure.line())
