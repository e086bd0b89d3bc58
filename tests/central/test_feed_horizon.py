"""The feed never skips a row that commits late (central/feed.py explains the method).

The control first: on a plain `bigserial` table, a reader that takes `id > cursor` loses the
row of a transaction that took its id early and committed late. Then the same slow/fast
pair through central's feed, on the real PostgreSQL: the reader in between never moves its
cursor past the slow row, and sees both once they commit.
"""

from __future__ import annotations

import threading

import pytest

from central import feed
from central.schema import open_storage

psycopg = pytest.importorskip("psycopg")
WAIT = 30  # seconds: a bound on each wait, never a way to synchronise


def pull(storage, after: int) -> tuple[list[int], int]:
    """(the feed rows of the changes after the cursor, the next cursor)."""
    page = feed.read(storage, after, 1000, "clerk", None)
    return [c["seq"] // feed.SLOTS for c in page.changes], page.next


def waiting_on_lock(url: str, query_start: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND query LIKE %s AND datname = current_database()",
                            (query_start + "%",)).fetchone()[0] > 0


def test_control_a_naive_id_cursor_loses_the_late_row(pg_schema_url):
    with psycopg.connect(pg_schema_url, autocommit=True) as setup:
        setup.execute("CREATE TABLE naive (id bigserial PRIMARY KEY, what text)")
    slow, fast, reader = (psycopg.connect(pg_schema_url, autocommit=True) for _ in range(3))
    try:
        slow.execute("BEGIN")
        slow_id = slow.execute("INSERT INTO naive (what) VALUES ('slow') RETURNING id").fetchone()[0]
        fast.execute("BEGIN")
        fast_id = fast.execute("INSERT INTO naive (what) VALUES ('fast') RETURNING id").fetchone()[0]
        fast.execute("COMMIT")
        seen = [r[0] for r in reader.execute("SELECT id FROM naive WHERE id > 0 ORDER BY id")]
        assert seen == [fast_id] and slow_id < fast_id
        cursor = max(seen)
        slow.execute("COMMIT")
        later = [r[0] for r in reader.execute("SELECT id FROM naive WHERE id > %s ORDER BY id", (cursor,))]
        assert later == []  # the slow row is committed, and behind the cursor for ever
    finally:
        for conn in (slow, fast, reader):
            conn.close()


def _publish(storage, name: str, hook=None) -> None:
    with storage.transaction() as tx:
        feed.publish(tx, "device.revoked", data={"device_uid": name, "revoked_at": "2026-11-24T00:00:00+00:00"})
        if hook is not None:
            tx.before_commit(hook)  # runs after the feed took its seq, before COMMIT


def test_a_slow_transaction_and_a_fast_one_the_reader_in_between_loses_nothing(pg_schema_url):
    storage = open_storage(pg_schema_url)
    took_seq, release = threading.Event(), threading.Event()
    try:
        _publish(storage, "before")
        before, cursor = pull(storage, 0)
        assert before == [1]
        errors: list[BaseException] = []

        def run(name, hook=None):
            try:
                _publish(storage, name, hook)
            except BaseException as e:  # noqa: BLE001 - reported by the test below
                errors.append(e)

        slow = threading.Thread(target=run, args=("slow", lambda: (took_seq.set(), release.wait(WAIT))))
        slow.start()
        assert took_seq.wait(WAIT), "the slow transaction never took its seq"
        fast = threading.Thread(target=run, args=("fast",))
        fast.start()
        # The fast writer has done its work and waits for the clock, held by the slow one.
        assert any(waiting_on_lock(pg_schema_url, "UPDATE feed_clock") for _ in range(2000)), \
            "the fast transaction never reached the feed clock"

        seqs, in_between = pull(storage, cursor)  # the reader, while the slow one is uncommitted
        assert seqs == [] and in_between == cursor

        release.set()
        slow.join(WAIT)
        fast.join(WAIT)
        assert not errors and not slow.is_alive() and not fast.is_alive()
        page = feed.read(storage, in_between, 1000, "clerk", None)
        names = [c["data"]["device_uid"] for c in page.changes]
        assert names == ["slow", "fast"]  # both, in commit order, after the reader's cursor
        assert [c["seq"] // feed.SLOTS for c in page.changes] == [2, 3]  # and no gap
    finally:
        release.set()
        storage.close()


def test_concurrent_writers_and_a_polling_reader_agree_on_every_row(database_url):
    """Many writers, one reader pulling all the time (SQLite and PostgreSQL): what the reader
    collected is exactly what was committed, each row once, in seq order."""
    writers = 4
    storage = open_storage(database_url, pool_size=writers + 2)
    per_writer = 40
    done = threading.Event()
    try:
        collected, cursor = [], 0

        def write(n):
            for i in range(per_writer):
                _publish(storage, f"w{n}-{i}")

        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for t in threads:
            t.start()

        def all_joined():
            return all(not t.is_alive() for t in threads)

        while not done.is_set():
            finished = all_joined()  # read once more after the last writer is done
            seqs, cursor = pull(storage, cursor)
            collected += seqs
            if finished:
                done.set()
        with storage.read() as tx:
            committed = [r[0] for r in tx.all("SELECT seq FROM feed ORDER BY seq")]
        assert collected == committed and len(committed) == writers * per_writer
    finally:
        storage.close()
