"""Pull 100,000 changes from central on PostgreSQL over real HTTP, as a clerk desk does.

The changes are 100,000 ticket registrations pushed through the real push path (validated,
stored, published) beforehand; then a desk pages through the feed with `limit=1000`, over one
keep-alive connection, storing `next` and asking again while `more`, and every change is
parsed (json.loads of each page) as the device would.

floor: the same payloads read straight from PostgreSQL in pages of 1,000 (keyset on the event
id, the JSON text as stored), from this process: no HTTP, no feed, no role filter. There is
no target: the figure is reported.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time

from bench.common import Figure
from bench.sync_drain import BATCH, EVENTS, Central, Schema, enrol, events, pg_problem

PAGE = 1000


def seed(url: str, device_uid: str, count: int) -> None:
    """Push `count` registrations through central's own push path, in process."""
    from central.auth import Device
    from central.ingest import Envelope, apply, validate
    from central.schema import open_storage

    storage = open_storage(url, pool_size=1)
    with storage.read() as tx:
        device = Device(*tx.one("SELECT id, uid, role, prefix, name FROM device WHERE uid = ?", (device_uid,)))
    queue = events(device_uid, "BN", count)
    for i in range(0, count, BATCH):
        batch = [Envelope(e["uid"], e["kind"], e["created_at"], json.dumps(e["payload"], ensure_ascii=False).encode())
                 for e in queue[i:i + BATCH]]
        checked, rejected = validate(device, batch)
        if rejected:
            raise RuntimeError(f"seed refused: {rejected[:3]}")
        apply(storage, device, checked)
    storage.close()


def pull(port: int, token: str) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {token}"}
    after, count = 0, 0
    start = time.perf_counter()
    while True:
        conn.request("GET", f"/api/v1/changes?after={after}&limit={PAGE}", headers=headers)
        response = conn.getresponse()
        page = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"pull refused: {response.status} {page}")
        count += sum(1 for c in page["changes"] if c["kind"] == "ticket.registered")
        after = page["next"]
        if not page["more"]:
            break
    elapsed = time.perf_counter() - start
    conn.close()
    return count, elapsed


def floor_read(url: str) -> tuple[int, float]:
    import psycopg

    with psycopg.connect(url) as conn:
        start, last, count = time.perf_counter(), 0, 0
        while True:
            rows = conn.execute("SELECT id, payload::text FROM event WHERE id > %s ORDER BY id LIMIT %s",
                                (last, PAGE)).fetchall()
            if not rows:
                break
            count += len([json.loads(text) for _, text in rows])
            last = rows[-1][0]
        return count, time.perf_counter() - start


def run() -> list[Figure]:
    problem = pg_problem()
    if problem:
        print(f"# sync_pull skipped: {problem}", file=sys.stderr)
        return []
    with Schema() as schema:
        from central.schema import open_storage

        open_storage(schema.url, pool_size=1).close()
        kiosk_uid, _ = enrol(schema.url, "kiosk", "BN")
        _, desk_token = enrol(schema.url, "clerk", "DK")
        seed(schema.url, kiosk_uid, EVENTS)
        server = Central(schema.url)
        try:
            pulled, ours_s = pull(server.port, desk_token)
        finally:
            server.close()
        read, floor_s = floor_read(schema.url)
    if pulled != EVENTS or read != EVENTS:
        raise RuntimeError(f"pulled {pulled}, read {read}, expected {EVENTS}")
    return [Figure(f"sync pull: {EVENTS:,} changes from central on PostgreSQL (HTTP, pages of {PAGE})",
                   pulled / ours_s, "changes/s", "the same payloads read straight from PostgreSQL, pages of 1,000",
                   read / floor_s, "reported (no target)", True)]


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    for figure in run():
        print(figure.line())
