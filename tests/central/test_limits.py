"""What limits central (central/api/quotas.py, central/storage.py lanes, the health check): a
device over its quota gets a 429 it can wait out and loses nothing; on PostgreSQL a held lock
or stalled office pages cannot make a push hang; the health check says whether the database
answers. Real uvicorn, real SQLite files and the real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid

import pytest
from fastapi.testclient import TestClient

from central.api.limits import MAX_BODY, OFFICE_AT_ONCE
from central.api.quotas import MB, Meter, OverQuota, Quotas
from central.app import create_app
from central.schema import open_storage
from central.server import serve_in_thread
from central.storage import ADMIN, CONNECT_TIMEOUT, DEVICE, HEALTH, OFFICE, Storage, asking

from .nodes import enrol, push
from .office_users import office as office_headers

OFF = Quotas.parse("off")


class Clock:
    """The quotas' monotonic clock, moved by the test."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def metered(storage, quotas: Quotas, clock: Clock):
    app = create_app(storage, quotas)
    app.state.meter = Meter(quotas, clock)
    return app


def events_stored(storage) -> int:
    with storage.read() as tx:
        return tx.one("SELECT COUNT(*) FROM event")[0]


# ---- quotas ------------------------------------------------------------------------------


def test_a_device_over_its_pushes_a_minute_gets_a_429_it_can_wait_out(storage):
    clock = Clock()
    with TestClient(metered(storage, Quotas(pushes_per_minute=3), clock)) as client:
        kiosk, other = enrol(client, storage), enrol(client, storage)
        assert [push(client, kiosk, kiosk.registered()).status_code for _ in range(3)] == [200] * 3
        refused = push(client, kiosk, kiosk.registered())
        assert refused.status_code == 429
        assert refused.json()["error"] == "quota" and "3 pushes a minute" in refused.json()["detail"]
        assert int(refused.headers["Retry-After"]) == 20  # a minute's 3 pushes: one every 20 s
        assert events_stored(storage) == 3  # nothing of the refused push
        assert push(client, other, other.registered()).status_code == 200  # per device
        clock.now += 19
        assert push(client, kiosk, kiosk.registered()).status_code == 429
        clock.now += 1
        assert push(client, kiosk, kiosk.registered()).status_code == 200


def test_bytes_pushed_an_hour_or_a_day_are_counted_by_the_body(storage):
    clock = Clock()
    app = metered(storage, Quotas(pushes_per_minute=0, push_mb_per_hour=1, push_mb_per_day=0), clock)
    with TestClient(app) as client:
        kiosk = enrol(client, storage)
        body = json.dumps({"events": [kiosk.registered() for _ in range(200)]}).encode()  # ~0.3 MB

        def send():
            return client.post("/api/v1/events", content=body, headers={**kiosk.headers,
                                                                        "Content-Type": "application/json"})

        fits = MB // len(body)
        assert [send().status_code for _ in range(fits + 1)] == [200] * fits + [429]  # repeats' bytes count too
        refused = send()
        assert "1 MB pushed an hour" in refused.json()["detail"]
        clock.now += int(refused.headers["Retry-After"])
        assert send().status_code == 200
    app = metered(storage, Quotas(push_mb_per_hour=0, push_mb_per_day=1), clock)
    with TestClient(app) as client:
        assert [send().status_code for _ in range(fits + 1)] == [200] * fits + [429]
        refused = send()
        assert "1 MB pushed a day" in refused.json()["detail"] and int(refused.headers["Retry-After"]) > 3600


def test_a_device_over_its_pulls_a_minute_gets_a_429(storage):
    clock = Clock()
    with TestClient(metered(storage, Quotas(pulls_per_minute=2), clock)) as client:
        desk = enrol(client, storage, "clerk")

        def pull():
            return client.get("/api/v1/changes", params={"after": 0}, headers=desk.headers)

        assert [pull().status_code for _ in range(3)] == [200, 200, 429]
        assert pull().headers["Retry-After"] == "30"
        clock.now += 30
        assert pull().status_code == 200


def test_the_push_quota_holds_across_workers_and_a_restart(storage):
    """Two apps on one database are two `--workers`; a third made later is a restart: the
    device's pushes are counted in its row (central/push_quota.py), not in each process."""
    clock, quotas = Clock(), Quotas(pushes_per_minute=3)
    with TestClient(metered(storage, quotas, clock)) as one, TestClient(metered(storage, quotas, clock)) as two:
        kiosk = enrol(one, storage)
        assert [push(worker, kiosk, kiosk.registered()).status_code for worker in (one, two, one)] == [200] * 3
        assert [push(worker, kiosk, kiosk.registered()).status_code for worker in (two, one)] == [429, 429]
    with TestClient(metered(storage, quotas, clock)) as restarted:
        refused = push(restarted, kiosk, kiosk.registered())
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "20"
        clock.now += 20
        assert push(restarted, kiosk, kiosk.registered()).status_code == 200
    assert events_stored(storage) == 4  # nothing of the refused pushes


def test_a_push_that_stores_nothing_counts_against_the_quota_too(storage):
    """A malformed body or a batch the rules refuse is a 422 and stores nothing, but is a push:
    a token cannot send garbage without limit."""
    clock = Clock()
    with TestClient(metered(storage, Quotas(pushes_per_minute=2), clock)) as client:
        kiosk = enrol(client, storage)
        malformed = client.post("/api/v1/events", content=b'{"events": 5}',
                                headers={**kiosk.headers, "Content-Type": "application/json"})
        assert malformed.status_code == 422
        bad = kiosk.registered()
        bad["payload"]["ticket"]["number"] = "ZZ-261124-0001"  # another prefix than the kiosk's
        assert push(client, kiosk, bad).status_code == 422
        refused = push(client, kiosk, kiosk.registered())
        assert refused.status_code == 429 and refused.json()["error"] == "quota"
        assert events_stored(storage) == 0


def _serve_two_workers(url: str, quotas: str, tmp_path):
    """`kiosk central serve --workers 2` on `url`: (process, port), once both workers are ready."""
    import os
    import subprocess
    import sys

    from .test_http import free_port

    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "KIOSK_DATA_DIR": str(tmp_path), "CENTRAL_QUOTAS": quotas}
    env.pop("KIOSK_LOG", None)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "central", "serve", "--port", str(port), "--workers", "2",
                             "--log-level", "info"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    bound, ready = False, 0
    for line in proc.stderr:  # uvicorn says when it listens and each worker is ready
        bound = bound or "Uvicorn running on" in line
        ready += "Application startup complete" in line
        if bound and ready == 2:
            break
    assert bound and ready == 2, "the workers did not start"
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    return proc, port


def test_the_push_quota_holds_across_two_uvicorn_workers_and_a_restart_on_postgresql(pg_schema_url, tmp_path):
    """Real `kiosk central serve --workers 2`. Two keep-alive connections proven to be served by
    different workers (a pull quota of 1 a minute, which each process keeps for itself, lets
    each worker answer one pull): 2 pushes a minute in all, not 2 per worker, and still after
    the server is restarted."""
    import http.client

    from central.devices import add_device

    from .nodes import Node, public_key, signed_enrolment

    storage = open_storage(pg_schema_url)
    code = add_device(storage, "kiosk")
    storage.close()
    quotas = "pushes_per_minute=2,pulls_per_minute=1"  # a push back every 30 s: more than a restart takes
    proc, port = _serve_two_workers(pg_schema_url, quotas, tmp_path)
    try:
        def call(conn, method, path, body=None, headers=None):
            conn.request(method, path, json.dumps(body) if body is not None else None,
                         {"Content-Type": "application/json", **(headers or {})})
            answer = conn.getresponse()
            return answer.status, answer.read(), answer.headers

        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        enrolment = signed_enrolment(code, str(uuid.uuid4()), "QW", key)
        status, body, _ = call(http.client.HTTPConnection("127.0.0.1", port, timeout=30), "POST", "/api/v1/enroll",
                               enrolment)
        assert status == 200, body
        kiosk = Node(enrolment["device_uid"], "QW", "kiosk", json.loads(body)["token"], public_key(key))
        # One connection per worker: a connection whose first pull is a 200 is on a worker not seen yet.
        workers = []
        for _ in range(200):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if call(conn, "GET", "/api/v1/changes?after=0", headers=kiosk.headers)[0] == 200:
                workers.append(conn)
                if len(workers) == 2:
                    break
            else:
                conn.close()
        assert len(workers) == 2, "the connections never reached the second worker"
        a, b = workers
        pushed = [call(conn, "POST", "/api/v1/events", {"events": [kiosk.registered()]}, kiosk.headers)[0]
                  for conn in (a, b, a, b)]
        assert pushed == [200, 200, 429, 429]  # per worker it would be 2 + 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    proc, port = _serve_two_workers(pg_schema_url, quotas, tmp_path)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, body, headers = call(conn, "POST", "/api/v1/events", {"events": [kiosk.registered()]}, kiosk.headers)
        assert status == 429 and json.loads(body)["error"] == "quota", body
        assert 1 <= int(headers["Retry-After"]) <= 30
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    storage = open_storage(pg_schema_url)
    try:
        assert events_stored(storage) == 2
    finally:
        storage.close()


def test_a_new_desk_catching_up_is_never_throttled_below_5000_changes_a_second():
    """The default pull quota, in figures: a minute of pulls at once (600 pages of 500 changes =
    300,000), then 10 pages a second. A desk applies far fewer changes a second than that."""
    clock, desk = Clock(), type("Desk", (), {"id": 1, "uid": "desk"})()
    meter = Meter(Quotas(), clock)
    for _ in range(600):
        meter.pull(desk)
    pulled, start = 600, clock.now
    while clock.now - start < 60:
        try:
            meter.pull(desk)
            pulled += 1
        except OverQuota:  # the device waits
            clock.now += 0.01
    assert pulled * 500 >= 300_000 + 60 * 5_000 * 0.99


def test_quotas_are_set_by_name_or_turned_off():
    assert Quotas.parse("") == Quotas()
    assert Quotas.parse("pushes_per_minute=120, push_mb_per_day=256") == Quotas(pushes_per_minute=120,
                                                                               push_mb_per_day=256)
    assert set(vars(Quotas.parse("off")).values()) == {0}
    with pytest.raises(ValueError, match="pushes_per_minute"):
        Quotas.parse("pushes=5")


def test_a_device_over_quota_waits_and_loses_nothing(storage, tmp_path, monkeypatch):
    """The kiosk's own sync: a 429 is "offline, retry later"; the outbox keeps what was not
    acked, and the next pass sends it, each event once. A desk pulling: its cursor keeps the
    pages it applied, and the next pass pulls the rest."""
    from kiosk.sync.client import Central, SyncError, retry_delay
    from kiosk.sync.enrolment import enrolment
    from kiosk.sync.loop import sync_pass
    from kiosk.sync.outbox import backlog
    from tests.sync.conftest import Node, central_event_uids, register

    clock = Clock()
    quotas = Quotas(pushes_per_minute=2, pulls_per_minute=2)
    monkeypatch.setattr(Central.changes, "__defaults__", (2,))  # pages of 2 changes

    def one_pass(node, batch=500):
        async def direct(fn, *args):
            return fn(*args)

        enrolled = enrolment()
        return asyncio.run(sync_pass(Central(enrolled.url, enrolled.token, timeout=5), direct, node.uid,
                                     net_call=direct, batch=batch))

    with serve_in_thread(storage, app=metered(storage, quotas, clock)) as central:
        kiosk = Node(tmp_path / "kiosk" / "kiosk.sqlite3", "KQ", "kiosk")
        desk = Node(tmp_path / "desk" / "desk.sqlite3", "DQ", "clerk")
        with kiosk.open():
            kiosk.enroll(central)
            tickets = register(5)
            with pytest.raises(SyncError) as over:
                one_pass(kiosk, batch=2)  # 2 pushes of 2, the third over quota
            assert over.value.kind == "offline" and "429" in str(over.value)
            assert over.value.error == "quota" and 0 < over.value.retry_after <= 60
            # The app waits what central asked for (a little more), not the growing offline backoff.
            assert over.value.retry_after <= retry_delay(over.value, failures=9) <= 1.2 * over.value.retry_after
            assert backlog().waiting == 1 and len(central_event_uids(storage)) == 4
            clock.now += 30
            assert one_pass(kiosk, batch=2).pushed == 1
            assert backlog().waiting == 0 and len(central_event_uids(storage)) == 5
        with desk.open():
            desk.enroll(central)
            throttled = 0
            while True:  # the app's sync worker: a pass, and after a failure a wait (kiosk/sync/client.py retry_delay)
                try:
                    one_pass(desk)
                    break
                except SyncError as e:
                    assert e.kind == "offline" and "429" in str(e)
                    throttled += 1
                    assert throttled < 10
                    clock.now += 60
            from db.models import Ticket

            assert throttled >= 1  # pages of 2, 2 a minute: it was held back, and then caught up
            assert sorted(t.uid for t in Ticket.select()) == sorted(t.uid for t in tickets)


# ---- the size of a push --------------------------------------------------------------------


def test_a_full_batch_of_registrations_fits_and_a_body_over_the_cap_is_a_413(client, storage):
    kiosk = enrol(client, storage)
    batch = [kiosk.registered() for _ in range(500)]
    assert push(client, kiosk, *batch).status_code == 200
    got = client.post("/api/v1/events", content=b" " * (MAX_BODY + 1),
                      headers={**kiosk.headers, "Content-Type": "application/json"})
    assert got.status_code == 413 and got.json()["error"] == "too_large"


# ---- the health check -----------------------------------------------------------------------


def test_health_is_ok_when_the_database_answers(client):
    got = client.get("/api/v1/health")
    assert (got.status_code, got.json()) == (200, {"ok": True})


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:1/test", "sqlite:///{tmp}"],
                         ids=["dead-postgresql-port", "unreadable-sqlite-path"])
def test_health_is_a_503_when_the_database_does_not_answer(url, tmp_path):
    (tmp_path / "central.sqlite3").mkdir()  # a directory where the file should be
    storage = Storage(url.format(tmp=tmp_path / "central.sqlite3"))
    with TestClient(create_app(storage, OFF)) as client:
        started = time.monotonic()
        got = client.get("/api/v1/health")
        assert (got.status_code, got.json()) == (503, {"ok": False, "error": "database"})
        assert time.monotonic() - started < HEALTH.wait + CONNECT_TIMEOUT


def test_health_is_a_503_once_the_database_is_gone(pg_schema_url):
    import psycopg

    storage = open_storage(pg_schema_url)
    with TestClient(create_app(storage, OFF)) as client:
        assert client.get("/api/v1/health").status_code == 200
        schema = pg_schema_url.rsplit("search_path%3D", 1)[1]
        with psycopg.connect(pg_schema_url, autocommit=True) as admin:
            admin.execute(f"ALTER SCHEMA {schema} RENAME TO {schema}_gone")
        try:
            assert client.get("/api/v1/health").json() == {"ok": False, "error": "database"}
        finally:
            with psycopg.connect(pg_schema_url, autocommit=True) as admin:
                admin.execute(f"ALTER SCHEMA {schema}_gone RENAME TO {schema}")
    storage.close()


# ---- PostgreSQL: timeouts and the office's own connections -------------------------------


def test_each_lane_has_its_timeouts_and_no_jit_on_postgresql(pg_schema_url):
    """JIT off: compiling a short index read cost more than the read (the due list's counts)."""
    storage = open_storage(pg_schema_url)
    for lane in (DEVICE, OFFICE, HEALTH, ADMIN):
        with asking(lane), storage.read() as tx:
            got = [tx.one("SELECT setting FROM pg_settings WHERE name = ?", (name,))[0] for name in (
                "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "application_name",
                "jit")]
        want = [str(int((seconds or 0) * 1000)) for seconds in (lane.statement, lane.lock, lane.idle_in_transaction)]
        assert got == [*want, f"central-{lane.name}", "off"], lane
    storage.close()


def test_a_lock_held_on_the_feed_clock_makes_a_push_a_503_within_the_lock_timeout(pg_schema_url):
    import httpx2
    import psycopg

    storage = open_storage(pg_schema_url)
    with serve_in_thread(storage, app=create_app(storage, OFF)) as central, \
            httpx2.Client(base_url=central.url, timeout=30) as http, psycopg.connect(pg_schema_url) as psql:
        kiosk = enrol(http, storage)
        batch = [kiosk.registered() for _ in range(3)]
        psql.execute("SELECT seq FROM feed_clock FOR UPDATE")  # an operator's session, left open
        started = time.monotonic()
        refused = push(http, kiosk, *batch)
        waited = time.monotonic() - started
        assert refused.status_code == 503 and refused.json()["error"] == "busy" and refused.headers["Retry-After"]
        assert DEVICE.lock <= waited < DEVICE.statement  # the lock timeout, not the statement's, not for ever
        assert events_stored(storage) == 0
        psql.rollback()
        assert push(http, kiosk, *batch).status_code == 200  # the device's retry
        assert events_stored(storage) == 3
    storage.close()


def test_office_pages_stalled_on_a_lock_leave_pushes_their_connections(pg_schema_url):
    """Six due lists wait on a lock (an operator's session holds the catalogue): the office's
    connections a worker's pages may use at once are taken, the other pages wait their turn, and
    pushes go through on the devices' connections meanwhile, each in a fraction of the office's
    lock timeout."""
    import httpx2
    import psycopg

    storage = open_storage(pg_schema_url, pool_size=2)
    office = office_headers(storage, "clerk")["Authorization"].removeprefix("Bearer ")
    with serve_in_thread(storage, app=create_app(storage, OFF)) as central, \
            httpx2.Client(base_url=central.url, timeout=60) as http, psycopg.connect(pg_schema_url) as psql, \
            psycopg.connect(pg_schema_url, autocommit=True) as watch:
        kiosk = enrol(http, storage)
        psql.execute("LOCK TABLE catalog_version IN ACCESS EXCLUSIVE MODE")
        holder = psql.info.backend_pid
        answers: list[int] = []

        def due_list():
            with httpx2.Client(base_url=central.url, timeout=60) as own:
                answers.append(own.get("/api/v1/office/due", headers={"Authorization": f"Bearer {office}"}).status_code)

        pages = [threading.Thread(target=due_list) for _ in range(6)]
        for page in pages:
            page.start()
        # The office's connections a worker's pages may use at once (central/api/limits.py OFFICE_AT_ONCE) stalled
        assert _office_sessions_waiting_on(watch, holder, at_least=OFFICE_AT_ONCE) == OFFICE_AT_ONCE
        took = []
        for _ in range(5):
            started = time.monotonic()
            assert push(http, kiosk, kiosk.registered()).status_code == 200
            took.append(time.monotonic() - started)
        still = _office_sessions_waiting_on(watch, holder, at_least=1)
        assert not answers and still >= 1  # every push overtook the stalled pages
        assert max(took) < OFFICE.lock / 3
        psql.rollback()
        for page in pages:
            page.join(60)
        assert sorted(set(answers)) <= [200, 503] and len(answers) == 6  # a page that waited too long: 503
    storage.close()


def _office_sessions_waiting_on(watch, holder: int, at_least: int | None = None) -> int:
    """How many of central's office connections wait for the lock `holder` holds, once there are
    `at_least` (default: the office's whole share); polled (on an autocommit connection: the
    statistics are read once per transaction), 10 s at most."""
    want, deadline = at_least or OFFICE.size, time.monotonic() + 10
    while True:
        count = watch.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'central-office' "
                             "AND %s = ANY(pg_blocking_pids(pid))", (holder,)).fetchone()[0]
        if count >= want or time.monotonic() > deadline:
            return count
        time.sleep(0.02)
