"""Do the back office's reports slow the devices' pushes? (issue 20 item 2: "reports never slow the
devices' pushes"; measured before the read models: four due lists at once took push p95 from
25 ms to 1.5 s.)

Data: a fresh PostgreSQL database generated as bench/office_scale.py does (`--tickets`, default
200,000, with their events and central's read models), dropped afterwards. Central: `kiosk central
serve` in its own process (`--workers`, default 1), device quotas off.

Devices: `--devices` kiosks (default 4), enrolled as central enrols them, each on its own keep-alive
connection pushing a batch of `--batch` new registrations (bench/sync_drain.py's events: signed
token, real ingest, read models, feed) every `--every` seconds, as a lobby's kiosks do. Push
latency is each POST's round trip.

Phases, each `--seconds` long: `alone` (the devices only), then `reports` (the same devices while
four office users, each a director's session on its own connection, loop over /office, the due
list, the ticket search, satisfaction and a ticket's page, as fast as answers come). The figure is
push p95 with the report users over push p95 alone (goal: at most 1.5, i.e. "never slowed" within
noise; the issue's measurement was 60x).

    python -m bench.office_load                          # 200,000 tickets, 4 devices, 4 report users
    python -m bench.office_load --tickets 50000 --seconds 20
    python -m bench.office_load --reuse office_bench_ab12cd34ef   # a kept office_scale database
    python -m bench.office_load --office-port     # the back office in its own process, niced
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

from bench.common import Figure, median, percentile

TICKETS = int(os.environ.get("BENCH_OFFICE_TICKETS", "200000"))
DEVICES, BATCH, EVERY, SECONDS, REPORT_USERS = 4, 5, 0.25, 30.0, 4
WARM = 3.0  # seconds of pushes before the phases (connections, caches)
GOAL = 1.5  # p95 with the report users / p95 alone


def office_paths(url: str) -> tuple[str, ...]:
    """What a report user opens, in turn: the overview, the due list, searches, satisfaction and
    a few tickets' pages (numbers taken from the data)."""
    from urllib.parse import quote

    import psycopg

    from bench.office_scale import search_requests

    with psycopg.connect(url) as conn:
        numbers = [row[0] for row in conn.execute("SELECT number FROM ticket ORDER BY uid LIMIT 5 OFFSET 777")]
    searches = search_requests(url)
    return (
        "/office",
        "/office/due?within=30d",
        searches[0],
        searches[1],
        searches[3],
        "/office/satisfaction",
        *(f"/office/tickets/{quote(n)}" for n in numbers[:3]),
    )


@dataclass
class Phase:
    name: str
    pushes: list[float] = field(default_factory=list)  # seconds each
    pages: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def p95_ms(self) -> float:
        return percentile(self.pushes, 95) * 1000 if self.pushes else float("nan")


def _pusher(
    port: int,
    token: str,
    queue: list[bytes],
    batch: int,
    every: float,
    until: float,
    phase: Phase,
    lock: threading.Lock,
) -> None:
    from bench.sync_drain import Device

    device = Device(port, token)
    beat = time.perf_counter()
    while time.perf_counter() < until:
        with lock:
            chunk, queue[:batch] = queue[:batch], []
        if not chunk:
            phase.errors.append("a device's queue ran dry: raise --events")
            return
        try:
            phase.pushes.append(device.push(chunk))
        except (OSError, http.client.HTTPException, RuntimeError) as e:  # counted and reported, the phase goes on
            phase.errors.append(f"push: {e}"[:200])
            device = Device(port, token)
        beat += every
        time.sleep(max(0.0, beat - time.perf_counter()))
    device.conn.close()


def _reporter(port: int, token: str, paths: tuple[str, ...], offset: int, until: float, phase: Phase) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Authorization": f"Bearer {token}"}
    i = offset
    while time.perf_counter() < until:
        path = paths[i % len(paths)]
        i += 1
        start = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                phase.errors.append(f"GET {path}: {response.status}")
            else:
                phase.pages.append(time.perf_counter() - start)
        except (OSError, http.client.HTTPException) as e:  # counted and reported
            phase.errors.append(f"GET {path}: {e}"[:200])
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.close()


def run_phase(
    name: str,
    server,
    devices: list[tuple[str, list[bytes]]],
    session: str,
    paths: tuple[str, ...],
    users: int,
    seconds: float,
    batch: int,
    every: float,
) -> Phase:
    phase = Phase(name)
    until = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=_pusher, args=(server.port, token, queue, batch, every, until, phase,
                                               threading.Lock()))
        for token, queue in devices
    ]
    threads += [
        threading.Thread(target=_reporter, args=(server.office_port, session, paths, n * 2, until, phase))
        for n in range(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return phase


def measure(
    url: str,
    devices: int = DEVICES,
    batch: int = BATCH,
    every: float = EVERY,
    seconds: float = SECONDS,
    users: int = REPORT_USERS,
    workers: int = 1,
    skip: tuple[str, ...] = (),
    office: bool = False,
) -> tuple[Phase, Phase]:
    from bench.office_scale import office_session, time_requests
    from bench.sync_drain import Central, enrol, events
    from central.schema import open_storage

    storage = open_storage(url, pool_size=1)
    session = office_session(storage)
    storage.close()
    per_device = int((2 * seconds + WARM + 5) / every + 4) * batch  # a little more than the phases take
    queues, run = [], uuid.uuid4().hex[:4].upper()
    for n in range(devices):
        prefix = f"L{run}{n:02d}"  # a new device each run: a reused database keeps the last run's
        uid, token = enrol(url, "kiosk", prefix)
        queue = [
            json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode() for e in events(uid, prefix, per_device)
        ]
        queues.append((token, queue))
    paths = tuple(p for p in office_paths(url) if not any(word in p for word in skip))
    server = Central(url, workers, office)
    try:
        # Warm: every page once (imports, pools, caches), a push per device.
        time_requests(server.office_port, session, paths, 1)
        run_phase("warm", server, queues, session, paths, 0, WARM, batch, every)
        alone = run_phase("alone", server, queues, session, paths, 0, seconds, batch, every)
        loaded = run_phase("reports", server, queues, session, paths, users, seconds, batch, every)
    finally:
        server.close()
    return alone, loaded


def report(alone: Phase, loaded: Phase, users: int) -> str:
    lines = [
        "| phase | pushes | push median ms | push p95 ms | push max ms | office answers | office median ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in (alone, loaded):
        lines.append(
            f"| {phase.name} | {len(phase.pushes)} | {median(phase.pushes) * 1000:.1f} | {phase.p95_ms():.1f} "
            f"| {max(phase.pushes) * 1000:.1f} | {len(phase.pages)} | "
            f"{median(phase.pages) * 1000 if phase.pages else float('nan'):.0f} |"
        )
    lines.append(f"\npush p95 with {users} report users / alone: {loaded.p95_ms() / alone.p95_ms():.2f}")
    for phase in (alone, loaded):
        if phase.errors:
            lines.append(f"{phase.name}: {len(phase.errors)} errors, e.g. {phase.errors[:3]}")
    return "\n".join(lines)


def figures(alone: Phase, loaded: Phase, users: int, tickets: int) -> list[Figure]:
    ratio_ok = loaded.p95_ms() <= GOAL * alone.p95_ms() and not alone.errors and not loaded.errors
    return [
        Figure(
            f"office load: push p95 with {users} report users, {tickets:,} tickets on PostgreSQL",
            loaded.p95_ms(),
            "ms",
            "push p95 with no report user",
            alone.p95_ms(),
            f"ratio <= {GOAL}",
            ratio_ok,
        )
    ]


def run(tickets: int = TICKETS) -> list[Figure]:
    from bench.office_scale import Database, load, pg_problem

    problem = pg_problem()
    if problem:
        print(f"# office_load skipped: {problem}", file=sys.stderr)
        return []
    with Database() as db:
        load(db.url, tickets)
        alone, loaded = measure(db.url)
    print(report(alone, loaded, REPORT_USERS), file=sys.stderr)
    return figures(alone, loaded, REPORT_USERS, tickets)


def main(argv: list[str] | None = None) -> int:
    from bench.office_scale import Database, _count, load, pg_problem

    parser = argparse.ArgumentParser(prog="python -m bench.office_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=TICKETS, help="tickets to generate (default %(default)s)")
    parser.add_argument("--devices", type=int, default=DEVICES, help="kiosks pushing (default %(default)s)")
    parser.add_argument("--batch", type=int, default=BATCH, help="registrations per push (default %(default)s)")
    parser.add_argument("--every", type=float, default=EVERY, help="seconds between a device's pushes")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="length of each phase")
    parser.add_argument("--users", type=int, default=REPORT_USERS, help="report users (default %(default)s)")
    parser.add_argument("--workers", type=int, default=1, help="central's worker processes (default 1)")
    parser.add_argument("--office-port", action="store_true",
                        help="the back office in a process of its own (kiosk central serve --office-port)")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="WORD",
        help="leave out the office paths containing WORD (e.g. satisfaction): which page costs",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="DATABASE", help="an existing bench database (kept)")
    args = parser.parse_args(argv)
    problem = pg_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    with Database(args.reuse, args.keep) as db:
        if not args.reuse:
            load(db.url, args.tickets)
        tickets = _count(db.url)
        alone, loaded = measure(
            db.url, args.devices, args.batch, args.every, args.seconds, args.users, args.workers, tuple(args.skip),
            args.office_port,
        )
    print(
        f"{tickets:,} tickets; {args.devices} devices pushing {args.batch} registrations every {args.every} s; "
        f"central workers: {args.workers}{'; the back office in its own process' if args.office_port else ''}\n"
    )
    print(report(alone, loaded, args.users))
    for figure in figures(alone, loaded, args.users, tickets):
        print(figure.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
