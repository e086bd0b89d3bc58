"""Does the push path read more as the history grows? Every statement a device's push, a desk's
feed pull and the office's two writes run, its pages counted at a small and at a large database.

Data: two fresh databases generated as bench/office_scale.py does (`--small`, default 10,000
tickets, and `--large`, default 100,000, with their events and central's read models), dropped
afterwards unless `--keep`. Central: its app in this process (FastAPI's TestClient, device quotas
off) on a real Storage; a kiosk and two clerk desks enrolled through /api/v1/enroll.

Driven, the same against each database: rounds of `--batch` (default 20) new tickets, each round
pushing their registrations, intakes (a line each), ready, certificate checks, pickups, lobby
ratings (kiosk) and window ratings (desk), a call-back for each poor window rating, closes for half
the poor lobby ratings, appeals of half the window ratings and decisions for half of those; the
office then closes three follow-ups and decides three appeals (central/followups.py close,
central/appeals.py decide) and the other desk pulls the feed from where it stopped. One round
unmeasured first (imports, caches), then `--rounds` (default 2) in which every statement through
`Tx.execute` is run under EXPLAIN (ANALYZE, BUFFERS) in a savepoint rolled back, then for real, and
`--timed` rounds (default 3) not explained, whose wall time per push is kept.

figure: per statement shape (its SQL, lists of placeholders folded) and phase, the mean pages it
touched (shared hit + read, the plan's top node) at the large database over the same at the small:
the floor is the small database, measured in the same run. A statement whose cost grows with the
history shows about the data's ratio (10 by default); an index probe's B-tree one level deeper
shows 1–2. A shape is flagged over `--threshold` (default 3×) when it also reads at least MIN_PAGES
more a run (MIN_PAGES: a level of B-tree or an update no longer HOT, not the history). A plan with
a sequential scan is explained again with sequential scans off: a small table the planner reads
whole, which it leaves for the index as the table grows, is judged by the index's pages (at the
small database no fewer, at the large no more). Also each phase's push (or write, or pull) median
wall time, large over small (not explained; the machine's load shows in it).

    python -m bench.push_path                                  # 10,000 and 100,000 tickets, ~7 min
    python -m bench.push_path --small 300 --large 3000         # seconds: the drive works (a B-tree level flags)
    python -m bench.push_path --reuse office_bench_a office_bench_b    # kept office_scale databases
    python -m bench.push_path --keep                           # then psql -c 'DROP DATABASE ...'
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.common import Figure, median

SMALL, LARGE = 10_000, 100_000
BATCH, ROUNDS, TIMED = 20, 2, 3
THRESHOLD = 3.0  # pages at large / pages at small above which a shape grows with the history
# ... and by at least this many pages a run: a batch's 20 probes one B-tree level deeper, or an
# UPDATE no longer HOT (its heap page full) writing each of its indexes, reads up to 20 more.
MIN_PAGES = 20
WRITES = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")  # what EXPLAIN takes (not SET, LOCK, ...)


@dataclass
class Drive:
    """What one database's drive measured."""

    tickets: int
    pages: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    scans: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    indexed: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))  # seq scans off
    unexplained: dict[tuple[str, str], str] = field(default_factory=dict)
    ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # phase -> wall ms a run


def shape(sql: str) -> str:
    """A statement's text with whitespace collapsed and its lists of placeholders folded: one shape
    whatever the batch's size."""
    text = " ".join(sql.split())
    text = re.sub(r"\?(?:\s*,\s*\?)+", "?…", text)
    return re.sub(r"\((?:\?…|\?)\)(?:\s*,\s*\((?:\?…|\?)\))+", "(?…)…", text)


def _pages(plan: dict) -> int:
    return plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)


def _scans(plan: dict) -> set[str]:
    """The plan's sequential and bitmap heap scans (what reads a table whole or a range of it)."""
    found, nodes = set(), [plan]
    while nodes:
        node = nodes.pop()
        if node["Node Type"] in ("Seq Scan", "Bitmap Heap Scan") and node.get("Relation Name"):
            found.add(f"{node['Node Type']} {node['Relation Name']}")
        nodes += node.get("Plans", [])
    return found


@contextmanager
def explained(drive: Drive, phase: list[str], on: list[bool]) -> Iterator[None]:
    """Tx.execute, while `on[0]`, EXPLAIN (ANALYZE, BUFFERS)s each statement first in a savepoint
    (or a transaction, on an autocommit connection) rolled back, then runs it as central does."""
    from central import storage as central_storage

    original = central_storage.Tx.execute

    def execute(self, sql, params=()):
        if on[0] and sql.lstrip().split(None, 1)[0].upper() in WRITES:
            key = (phase[0], shape(sql))

            def plan(*settings: str) -> dict:
                with self.conn.transaction(force_rollback=True):
                    for setting in settings:
                        self.conn.execute(setting)
                    got = self.conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + self.storage.sql(sql),
                                            params).fetchone()[0]
                return (json.loads(got) if isinstance(got, str) else got)[0]["Plan"]

            try:
                top = plan()
                drive.pages[key].append(_pages(top))
                drive.scans[key] |= _scans(top)
                if any(scan.startswith("Seq Scan") for scan in _scans(top)):
                    drive.indexed[key].append(_pages(plan("SET LOCAL enable_seqscan = off")))
            except Exception as e:  # noqa: BLE001 - a statement EXPLAIN cannot take is listed, not fatal
                drive.unexplained[key] = str(e).strip().splitlines()[0][:120]
        return original(self, sql, params)

    central_storage.Tx.execute = execute
    try:
        yield
    finally:
        central_storage.Tx.execute = original


def drive(url: str, tickets: int, batch: int = BATCH, rounds: int = ROUNDS, timed: int = TIMED) -> Drive:
    """The pushes, writes and pulls of the docstring against the database at `url`."""
    from fastapi.testclient import TestClient

    from central import appeals, followups
    from central.api.quotas import Quotas
    from central.app import create_app
    from central.feed import SLOTS
    from central.schema import open_storage
    from kiosk.domain import events as shapes
    from tests.central.nodes import enrol, event, push

    measured = Drive(tickets)
    phase, on = ["setup"], [False]
    storage = open_storage(url, pool_size=2)
    run = uuid.uuid4().hex[:3].upper()  # new devices each drive: a reused database keeps the last one's
    try:
        with TestClient(create_app(storage, Quotas.parse("off"))) as client, explained(measured, phase, on):
            kiosk = enrol(client, storage, "kiosk", prefix=f"H{run}")
            desk = enrol(client, storage, "clerk", name="1号收件窗口", prefix=f"D{run}")
            other_desk = enrol(client, storage, "clerk", prefix=f"E{run}")
            with storage.read() as tx:  # the other desk pulls from the feed's head on
                after = [tx.one("SELECT seq FROM feed_clock WHERE id = 1")[0] * SLOTS + SLOTS - 1]

            def step(name: str, work: Callable[[], object], keep: bool) -> None:
                phase[0] = name
                start = time.perf_counter()
                got = work()
                if getattr(got, "status_code", 200) != 200:
                    raise RuntimeError(f"{name}: {got.status_code} {got.text[:300]}")
                if keep:
                    measured.ms[name].append((time.perf_counter() - start) * 1000)

            def pushed(node, events: list[dict]) -> Callable[[], object]:
                return lambda: push(client, node, *events)

            def pull() -> object:
                got = client.get("/api/v1/changes", params={"after": after[0], "limit": 500},
                                 headers=other_desk.headers)
                if got.status_code == 200:
                    after[0] = got.json()["next"]
                return got

            for n in range(1 + rounds + timed):
                on[0], keep = 1 <= n <= rounds, n > rounds
                at = datetime.now(UTC) - timedelta(hours=2)
                regs = [kiosk.registered(at=at, number=f"{kiosk.prefix}-{at:%y%m%d}-{n * batch + i + 1:04d}",
                                         organisation=f"示范燃气有限公司{i % 7}", phone=f"1380000{i:04d}")
                        for i in range(batch)]
                made = [(r["payload"]["ticket"]["uid"], r["payload"]["ticket"]["number"]) for r in regs]
                step("push registered", pushed(kiosk, regs), keep)
                step("push received", pushed(desk, [desk.step(
                    "received", t, number, at=at + timedelta(minutes=5), lines=[{
                        "ticket_line_id": 1, "code": "L-001-001", "quantity": 2, "service": "verification",
                        "use": "trade", "condition": "", "accessories": "", "serial_number": f"S{run}{n}-{i}",
                        "refused": False}]) for i, (t, number) in enumerate(made)]), keep)
                step("push ready", pushed(desk, [desk.step("ready", t, number, at=at + timedelta(minutes=10))
                                                 for t, number in made]), keep)
                step("push certificate.checked", pushed(desk, [event("certificate.checked", at + timedelta(
                    minutes=12), {"check": str(uuid.uuid4()), "ticket": t, "number": number, "device": desk.uid,
                                  "at": (at + timedelta(minutes=12)).isoformat(), "line": 0, "instrument": 0,
                                  "outcome": "passed", "code": "L-001-001", "service": "verification",
                                  "certificate": "JD-2026-0001", "conclusion": "pass", "wrong": [],
                                  "clerk": {"username": "wang", "name": "王芳"}}) for t, number in made]), keep)
                step("push picked_up", pushed(desk, [desk.step("picked_up", t, number, at=at + timedelta(minutes=15))
                                                     for t, number in made]), keep)
                lobby = [kiosk.feedback((1, 2, 4, 5)[i % 4], at=at + timedelta(minutes=20), ticket=t, number=number,
                                        due_on=(at + timedelta(days=7)).date().isoformat())
                         for i, (t, number) in enumerate(made)]
                step("push feedback lobby", pushed(kiosk, lobby), keep)
                rated = at + timedelta(minutes=21)
                window = [event("feedback.given", rated, json.loads(shapes.to_json(shapes.FeedbackGiven(
                    feedback=str(uuid.uuid4()), device=desk.uid, at=rated, rating=(1, 3, 5)[i % 3],
                    level=("very_dissatisfied", "basic", "very_satisfied")[i % 3], ticket=t, number=number,
                    reason="slow" if i % 3 == 0 else None, reason_text="",
                    steps={"received": shapes.StepSeen(device=desk.uid, clerk="wang")},
                    followup=shapes.FollowupOpened(str(uuid.uuid4()), (rated + timedelta(days=7)).date(),
                                                   rated + timedelta(hours=48)) if i % 3 == 0 else None,
                    stage="completion", clerk="wang", staff_number="GZ0107", counter="3"))))
                    for i, (t, number) in enumerate(made)]
                step("push feedback window", pushed(desk, window), keep)
                called = at + timedelta(minutes=30)
                step("push followup.called", pushed(desk, [event("followup.called", called, json.loads(
                    shapes.to_json(shapes.FollowupCalled(
                        call=str(uuid.uuid4()), followup=w["payload"]["followup"]["uid"],
                        feedback=w["payload"]["feedback"], device=desk.uid, at=called, reached=True, note="已致歉",
                        clerk=shapes.Clerk(username="wang", name="王芳")))))
                    for w in window if w["payload"]["followup"]]), keep)
                poor = [f for f in lobby if f["payload"]["followup"]]
                step("push followup.closed", pushed(desk, [desk.closed(f, at=at + timedelta(minutes=35))
                                                           for f in poor[:len(poor) // 2]]), keep)
                appealed_at = at + timedelta(minutes=40)
                appealed = [event("rating.appealed", appealed_at, {
                    "appeal": str(uuid.uuid4()), "feedback": w["payload"]["feedback"], "device": desk.uid,
                    "at": appealed_at.isoformat(), "reason": "顾客误触", "clerk": {"username": "wang", "name": "王芳"}})
                    for w in window[:batch // 2]]
                step("push rating.appealed", pushed(desk, appealed), keep)
                decided_at = at + timedelta(minutes=45)
                step("push appeal.decided", pushed(desk, [event("appeal.decided", decided_at, {
                    "appeal": a["payload"]["appeal"], "feedback": a["payload"]["feedback"], "device": desk.uid,
                    "at": decided_at.isoformat(), "decision": ("upheld", "rejected")[i % 2], "reason": "监控",
                    "supervisor": {"username": "zhao", "name": "赵主任"}, "via": "desk"})
                    for i, a in enumerate(appealed[:len(appealed) // 2])]), keep)
                for f in poor[len(poor) // 2:][:3]:
                    step("office followup close", lambda f=f: followups.close(
                        storage, f["payload"]["followup"]["uid"], "王芳", "已回电"), keep)
                for a in appealed[len(appealed) // 2:][:3]:
                    step("office appeal decide", lambda a=a: appeals.decide(
                        storage, a["payload"]["appeal"], "upheld", "监控", "赵主任"), keep)
                step("pull changes", pull, keep)
                phase[0] = "between"
    finally:
        storage.close()
    return measured


@dataclass(frozen=True)
class Row:
    phase: str
    shape: str
    small: float  # mean pages a run
    large: float
    scans: str  # the large database's sequential and bitmap heap scans
    small_indexed: float | None  # with sequential scans off, where the plan had one
    indexed: float | None

    @property
    def ratio(self) -> float:
        return self.large / self.small if self.small else (1.0 if not self.large else float("inf"))

    def grows(self, threshold: float = THRESHOLD) -> bool:
        # A sequential scan of a table still small is the planner's choice, which it leaves for the
        # index as the table grows: each side is judged by the index's pages where it had one
        # (the small's floor no lower than the index route, the large's cost no higher).
        floor = max(self.small, self.small_indexed or 0.0)
        cost = min(self.large, self.indexed) if self.indexed is not None else self.large
        return cost > threshold * floor and cost - floor >= MIN_PAGES


def _mean(pages: list[int] | None) -> float | None:
    return sum(pages) / len(pages) if pages else None


def compare(small: Drive, large: Drive) -> list[Row]:
    """Every shape both drives explained, the growing first."""
    rows = [Row(key[0], key[1], sum(small.pages[key]) / len(small.pages[key]),
                sum(large.pages[key]) / len(large.pages[key]), ", ".join(sorted(large.scans[key])),
                _mean(small.indexed.get(key)), _mean(large.indexed.get(key)))
            for key in sorted(small.pages.keys() & large.pages.keys())]
    return sorted(rows, key=lambda r: (-r.ratio, -r.large))


def report(small: Drive, large: Drive, threshold: float = THRESHOLD, width: int = 110) -> str:
    rows = compare(small, large)
    flagged = [r for r in rows if r.grows(threshold)]
    lines = [(f"{len(rows)} statement shapes explained at {small.tickets:,} and {large.tickets:,} tickets "
              f"(data ratio {large.tickets / small.tickets:.0f}); pages a run, sorted by their ratio"),
             "", ("| | phase | statement | pages small | pages large | ratio | large: seq / bitmap scans "
                  "| seq scans off: small, large |"), "|---|---|---|---:|---:|---:|---|---|"]
    for r in rows:
        lines.append(f"| {'**' if r.grows(threshold) else ''} | {r.phase} | `{r.shape[:width]}` | {r.small:.1f} | "
                     f"{r.large:.1f} | {r.ratio:.2f} | {r.scans} | {_either(r.small_indexed, r.indexed)} |")
    one_side = small.pages.keys() ^ large.pages.keys()
    if one_side:
        lines.append(f"\nexplained at one size only (data-dependent branches): "
                     f"{sorted(f'{p}: {s[:60]}' for p, s in one_side)}")
    for d in (small, large):
        if d.unexplained:
            lines.append(f"\nnot explained at {d.tickets:,}: {d.unexplained}")
    lines += ["", "| phase (not explained) | median ms small | median ms large | ratio |", "|---|---:|---:|---:|"]
    for name in small.ms:
        a, b = median(small.ms[name]), median(large.ms[name])
        lines.append(f"| {name} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    lines.append(f"\n{len(flagged)} shape(s) over {threshold:g}x (and +{MIN_PAGES} pages a run)"
                 + "".join(f"\n  {r.phase}: {r.shape[:200]}" for r in flagged))
    return "\n".join(lines)


def _either(small: float | None, large: float | None) -> str:
    if small is None and large is None:
        return ""
    return " / ".join("-" if p is None else f"{p:.1f}" for p in (small, large))


def figures(small: Drive, large: Drive, threshold: float = THRESHOLD) -> list[Figure]:
    rows = compare(small, large)
    worst = max(rows, key=lambda r: (r.grows(threshold), r.ratio)) if rows else Row("-", "-", 0, 0, "", None, None)
    push_small = sum(median(v) for v in small.ms.values())
    push_large = sum(median(large.ms[k]) for k in small.ms)
    sizes = f"{large.tickets:,} vs {small.tickets:,} tickets"
    return [
        Figure(f"push path: pages of the most growing statement ({worst.phase}), {sizes}", worst.large, "pages",
               "the same statement at the small database", worst.small,
               f"none over {threshold:g}x and +{MIN_PAGES} (a seq scan judged by its index's pages)",
               not any(r.grows(threshold) for r in rows)),
        Figure(f"push path: a round's pushes, writes and pull (median each), {sizes}", push_large, "ms",
               "the same at the small database", push_small, f"ratio <= {threshold:g}",
               push_large <= threshold * push_small),
    ]


def measure(small_url: str, large_url: str, small: int, large: int, batch: int = BATCH, rounds: int = ROUNDS,
            timed: int = TIMED) -> tuple[Drive, Drive]:
    return (drive(small_url, small, batch, rounds, timed), drive(large_url, large, batch, rounds, timed))


def run(small: int = SMALL, large: int = LARGE) -> list[Figure]:
    from bench.office_scale import Database, load, pg_problem

    problem = pg_problem()
    if problem:
        print(f"# push_path skipped: {problem}", file=sys.stderr)
        return []
    with Database() as small_db, Database() as large_db:
        load(small_db.url, small)
        load(large_db.url, large)
        drives = measure(small_db.url, large_db.url, small, large)
    print(report(*drives), file=sys.stderr)
    return figures(*drives)


def main(argv: list[str] | None = None) -> int:
    from bench.office_scale import Database, _count, load, pg_problem

    parser = argparse.ArgumentParser(prog="python -m bench.push_path", description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=SMALL, help="tickets in the small database (%(default)s)")
    parser.add_argument("--large", type=int, default=LARGE, help="tickets in the large database (%(default)s)")
    parser.add_argument("--batch", type=int, default=BATCH, help="new tickets a round (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="explained rounds (default %(default)s)")
    parser.add_argument("--timed", type=int, default=TIMED, help="timed rounds, not explained (%(default)s)")
    parser.add_argument("--threshold", type=float, default=THRESHOLD, help="page ratio flagged (%(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep both databases afterwards")
    parser.add_argument("--reuse", nargs=2, metavar=("SMALL_DB", "LARGE_DB"),
                        help="two existing bench databases (kept; each drive adds its tickets to them)")
    args = parser.parse_args(argv)
    problem = pg_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    reuse = args.reuse or (None, None)
    with Database(reuse[0], args.keep) as small_db, Database(reuse[1], args.keep) as large_db:
        if not args.reuse:
            load(small_db.url, args.small)
            load(large_db.url, args.large)
        sizes = (_count(small_db.url), _count(large_db.url))
        drives = measure(small_db.url, large_db.url, *sizes, args.batch, args.rounds, args.timed)
    print(report(*drives, threshold=args.threshold))
    for figure in figures(*drives, threshold=args.threshold):
        print(figure.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
