"""Sync over a bad network and through kill -9, against a real central (uvicorn on loopback,
SQLite and PostgreSQL): whatever the network or a crash does, central ends up holding each of
the device's events exactly once, and a desk each ticket and step exactly once.

The network is tests/sync/fault_proxy.py (drops answers, resets, duplicates, delays); the
crashing device is tests/sync/pusher.py in a child process. A failed pass is simply tried
again, as the kiosk's sync loop does (without its backoff: nothing here waits on time).
"""

from __future__ import annotations

import asyncio
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Self

import pytest

from db.models import HeldChange, IntakeLine, OutboxEvent, Ticket, TicketEvent
from kiosk.sync.client import Central, SyncError
from kiosk.sync.enrolment import enrolment
from kiosk.sync.feed import cursor
from kiosk.sync.loop import sync_pass
from kiosk.sync.outbox import BATCH, Backlog, backlog

from .conftest import central_event_uids, register
from .fault_proxy import FAULTS, FaultProxy

pytestmark = pytest.mark.reliability  # fault proxies and kill -9, in every test here

ROOT = Path(__file__).resolve().parents[2]
PUSH, PULL = "POST /api/v1/events", "GET /api/v1/changes"


class SmallPages(Central):
    """Pages of a few changes, so that a pull takes many requests and a feed row of a pushed
    batch is read across several pages."""

    def changes(self, after: int, limit: int = 7):
        return super().changes(after, limit)


def sync_via(node, url: str, *, batch: int = BATCH, client=Central):
    """One pass of `node` (open) against `url`, as Node.sync, with the batch size and client given."""
    enrolled = enrolment()

    async def direct(fn, *args):
        return fn(*args)

    return asyncio.run(sync_pass(client(url, enrolled.token, timeout=5), direct, node.uid, net_call=direct,
                                 batch=batch))


class Attempts:
    """Passes through the proxy; a failed one is counted and left for the next."""

    def __init__(self, node, url: str, **options):
        self.node, self.url, self.options = node, url, options
        self.passes = self.failed = 0

    def __call__(self):
        self.passes += 1
        try:
            return sync_via(self.node, self.url, **self.options)
        except SyncError as e:
            assert e.kind == "offline", e  # a lost answer or a reset is "offline", nothing else
            self.failed += 1
            return None

    def until_done(self, limit: int = 10):
        for _ in range(limit):
            report = self()
            if report is not None and report.backlog.waiting == 0:
                return report
        pytest.fail(f"no complete pass in {limit} attempts")


def all_kinds_on(proxy: FaultProxy, request: str, at_least: int = 2) -> bool:
    return all(proxy.by_request[(kind, request)] >= at_least for kind in FAULTS)


def on(proxy: FaultProxy, request: str) -> dict[str, int]:
    return {kind: n for (kind, line), n in proxy.by_request.items() if line == request}


def fault_share(proxy: FaultProxy) -> float:
    return proxy.faults / sum(proxy.counts.values())


# ---- push: the outbox over a bad network ------------------------------------------------------


def test_a_bad_network_neither_loses_nor_doubles_a_pushed_event(central, nodes):
    kiosk, desk = nodes("kiosk", prefix="K1"), nodes("desk", role="clerk", prefix="D1")
    rng = random.Random(41)
    with kiosk.open(), FaultProxy(central.port, fault_rate=0.45, seed=7) as proxy:
        kiosk.enroll(central)
        attempt = Attempts(kiosk, proxy.url, batch=15)
        for _ in range(5):  # registrations and sync attempts interleaved
            register(40)
            for _ in range(rng.randint(1, 3)):
                attempt()
        for _ in range(300):  # on until every kind of fault has hit a push (bounded)
            if all_kinds_on(proxy, PUSH):
                break
            register(2)
            attempt()
        assert all_kinds_on(proxy, PUSH), proxy.by_request
        assert fault_share(proxy) >= 0.3, proxy.counts
        assert attempt.failed > 0 and not proxy.errors, proxy.errors
        assert set(proxy.statuses) <= {(PUSH, 200), (PULL, 200)}, proxy.statuses  # duplicates at once too

        proxy.heal()
        attempt.until_done()
        assert backlog() == Backlog(0, 0)
        mine = sorted(e.uid for e in OutboxEvent.select())
        assert len(mine) == Ticket.select().count()  # one event per registration
        assert not OutboxEvent.select().where(OutboxEvent.acked_at.is_null()).exists()
        kiosk_tickets = sorted(t.uid for t in Ticket.select())
    print(f"\npush through faults: {dict(proxy.counts)}; on pushes: {on(proxy, PUSH)}; "
          f"{attempt.passes} passes, {attempt.failed} failed")
    assert central_event_uids(central.storage) == mine  # the same events, once each, nothing else

    # What central publishes of them, read raw from the feed: each ticket once, however often
    # its event arrived (a duplicated request, a retry after a lost answer).
    with desk.open():
        desk.enroll(central)
        client, after, published = Central(central.url, enrolment().token), 0, []
        for _ in range(100):
            changes, after, more = client.changes(after, 1000)
            published += [c["data"]["ticket"]["uid"] for c in changes if c["kind"] == "ticket.registered"]
            if not more:
                break
    assert sorted(published) == kiosk_tickets


# ---- pull: the change feed over a bad network ---------------------------------------------------


def test_a_bad_network_neither_loses_nor_doubles_a_pulled_ticket_or_step(central, nodes):
    """A desk pulls, through the faulty proxy and in small pages, tickets from a kiosk and
    steps from another desk (some of them before their ticket, held until it comes)."""
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import import_ticket, receive
    from kiosk.store.keys import export_public_keys, import_public_keys
    from kiosk.store.registration import ensure_device

    kiosk, first, desk = nodes("kiosk", prefix="K1"), nodes("first", role="clerk", prefix="D1"), \
        nodes("desk", role="clerk", prefix="D2")
    with kiosk.open():
        kiosk.enroll(central)
        register(40)
        kiosk.sync()
        late = register(5)  # not pushed yet: the first desk takes them in from their codes
        keys = export_public_keys()
    with first.open():
        import_public_keys(keys)
        first.enroll(central)
        first.sync()
        clerk, device = add_clerk("wang", "王芳", "2468"), ensure_device()
        for ticket in Ticket.select().order_by(Ticket.id).limit(15):
            receive(ticket.id, clerk, device)
        for ticket in late:
            receive(import_ticket(ticket.code), clerk, device)
        assert first.sync().pushed == 20
    with kiosk.open():
        kiosk.sync()  # the late tickets reach central after their steps
        register(30)
        kiosk.sync()

    rng = random.Random(5)
    with FaultProxy(central.port, fault_rate=0.45, seed=3) as proxy:
        for _ in range(40):  # rounds, until every kind of fault has hit a pull (bounded)
            with desk.open():
                if enrolment() is None:
                    desk.enroll(central)
                attempt = Attempts(desk, proxy.url, client=SmallPages)
                for _ in range(rng.randint(2, 4)):
                    attempt()
            if all_kinds_on(proxy, PULL):
                break
            with kiosk.open():  # more for the desk to pull
                register(10)
                kiosk.sync()
        assert all_kinds_on(proxy, PULL), proxy.by_request
        assert fault_share(proxy) >= 0.3, proxy.counts
        assert not proxy.errors, proxy.errors
        assert set(proxy.statuses) == {(PULL, 200)}, proxy.statuses
        proxy.heal()
        with desk.open():
            Attempts(desk, proxy.url, client=SmallPages).until_done()
            at = cursor()
            got_tickets = sorted((t.uid, t.number) for t in Ticket.select())
            got_steps = sorted((e.uid, e.ticket.uid, e.kind) for e in TicketEvent.select())
            got_statuses = {t.uid: t.status for t in Ticket.select()}
            got_intake, held = IntakeLine.select().count(), HeldChange.select().count()
            changes, next_cursor, more = Central(central.url, enrolment().token).changes(at)
    print(f"\npull through faults: {dict(proxy.counts)}; on pulls: {on(proxy, PULL)}")

    with kiosk.open():
        tickets = sorted((t.uid, t.number) for t in Ticket.select())
    with first.open():
        steps = sorted((e.uid, e.ticket.uid, e.kind) for e in TicketEvent.select())
        intake = IntakeLine.select().count()
    assert got_tickets == tickets  # each ticket once (uids and numbers)
    assert got_steps == steps  # each step once
    assert got_intake == intake and held == 0
    received = {ticket_uid for _, ticket_uid, _ in steps}
    assert got_statuses == {uid: "received" if uid in received else "registered" for uid, _ in tickets}
    assert (changes, next_cursor, more) == ([], at, False)  # the cursor is at central's end


# ---- kill -9 of the device mid-push --------------------------------------------------------------


class Pusher:
    """tests/sync/pusher.py in a child process; its stdout, line by line."""

    def __init__(self, db: Path, url: str, *options: str):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.sync.pusher", str(db), url, *options],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def line(self, timeout: float = 30) -> str:
        line = self.lines.get(timeout=timeout)
        if line is None:
            raise AssertionError(f"the pusher ended ({self.proc.wait()}):\n" + "\n".join(self.seen[-20:]))
        self.seen.append(line)
        return line

    def expect(self, word: str) -> list[str]:
        while True:
            words = self.line().split()
            if words and words[0] == word:
                return words

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(10) == -signal.SIGKILL

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.kill()
        self.proc.stdout.close()


def held_by_central(storage, uid: str) -> bool:
    with storage.read() as tx:
        return tx.one("SELECT count(*) FROM event WHERE uid = ?", (uid,))[0] == 1


def acked_here(db: Path, uid: str) -> bool:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return conn.execute("SELECT acked_at IS NOT NULL FROM outbox_event WHERE uid = ?", (uid,)).fetchone()[0] == 1


def test_kill_9_mid_push_then_restart_neither_loses_nor_doubles(central, nodes):
    """The kiosk's sync loop is killed 12 times while it pushes 300 events in batches of 10:
    before central has a batch, after central committed it but before the kiosk heard, and
    at random points (its own commit of the acknowledgements among them). Restarted each
    time, then left to finish: every event at central once, every event acknowledged here."""
    kiosk = nodes("kiosk", prefix="K1")
    with kiosk.open():
        kiosk.enroll(central)
        register(300)
        mine = sorted(e.uid for e in OutboxEvent.select())
    rng = random.Random(17)
    killed: Counter[str] = Counter()
    # Requests and central's answers are held a little on their way: wide enough windows to
    # kill the device in on purpose, before central has a batch and after it committed it.
    with FaultProxy(central.port, fault_rate=1.0, kinds=("delay",), delay=(0.1, 0.2), delay_where=("both",),
                    seed=1) as proxy:
        for round_ in range(12):
            with Pusher(kiosk.path, proxy.url, "--batch", "10") as child:
                child.expect("ready")
                if round_ % 3 == 0:  # a batch is on its way, not at central yet
                    _, _, first_uid = child.expect("push")
                    while held_by_central(central.storage, first_uid):  # sent again after a kill
                        _, _, first_uid = child.expect("push")
                    child.kill()  # the proxy holds the request, then sees its client gone
                    killed["before central"] += not held_by_central(central.storage, first_uid)
                elif round_ % 3 == 1:  # central committed the batch, the device has not heard
                    _, _, first_uid = child.expect("push")
                    deadline = time.monotonic() + 10
                    while not held_by_central(central.storage, first_uid):
                        assert time.monotonic() < deadline, "central never got the batch"
                        time.sleep(0.001)  # a poll: leave central (same process) the GIL
                    child.kill()
                    killed["after central, before the ack"] += not acked_here(kiosk.path, first_uid)
                else:  # anywhere: a random number of steps in, a random moment later
                    for _ in range(rng.randint(1, 9)):
                        child.line()
                    time.sleep(rng.uniform(0, 0.1))  # picks the kill point; nothing is timed
                    child.kill()
                    killed["at random"] += 1
        with Pusher(kiosk.path, central.url, "--batch", "10", "--until-empty") as child:
            child.expect("done")
            assert child.proc.wait(30) == 0
    print(f"\nkill -9: {dict(killed)}")

    with kiosk.open():
        from db.models import database_proxy

        assert database_proxy.execute_sql("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert backlog() == Backlog(0, 0)
        assert sorted(e.uid for e in OutboxEvent.select()) == mine  # nothing lost here either
        assert not OutboxEvent.select().where(OutboxEvent.acked_at.is_null()).exists()
    assert central_event_uids(central.storage) == mine
    # Each window was really hit (checked last: a lost or doubled event is the failure to see).
    assert killed["before central"] >= 2 and killed["after central, before the ack"] >= 2, killed
