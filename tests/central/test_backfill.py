"""Schema 22: the read models an upgrade derives are built by chunks after it (central/backfill.py),
each chunk its own transaction, resumed after a kill, the office saying "being built" meanwhile;
the rows in the end are the ones the pushes gave."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest
from fastapi.testclient import TestClient

from central import backfill, readmodels
from central.api.quotas import Quotas
from central.app import create_app
from central.schema import SCHEMA_VERSION, ensure_schema

from .nodes import enrol, push
from .office_users import office
from .test_read_models import back_to, batches, history, pages_agree, rows_equal_after_rebuild

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def devices(client, storage):
    kiosks = [enrol(client, storage, name=f"大厅{n}号机") for n in (1, 2)]
    desks = [enrol(client, storage, "clerk", name=f"{n}号窗口") for n in (1, 2)]
    return kiosks, desks


def pushed(client, planned) -> None:
    for device, batch in planned:
        got = push(client, device, *batch)
        assert got.status_code == 200, got.text


def pushed_history(storage, seed: int, tickets: int) -> dict:
    """Two kiosks' and two desks' history of `tickets` tickets pushed; the read models they made."""
    rng = random.Random(seed)
    with TestClient(create_app(storage, Quotas.parse("off"))) as client:
        kiosks, desks = devices(client, storage)
        pushed(client, batches(rng, history(rng, kiosks, desks, tickets)))
    return readmodels.snapshot(storage)


def upgraded_from(storage, version: int, monkeypatch) -> backfill.Progress:
    """The central taken back to `version` and upgraded as a large one is: a backfill left due."""
    back_to(storage, version)
    monkeypatch.setattr(backfill, "INLINE_TICKETS", 0)
    assert ensure_schema(storage) == SCHEMA_VERSION
    found = backfill.pending(storage)
    assert found is not None and found.tickets_total > 0
    with storage.read() as tx:
        assert tx.one("SELECT count(*) FROM ticket_state")[0] == 0
    return found


@pytest.mark.parametrize("version", [5, 8, 15])
def test_an_upgrade_builds_by_chunks_the_rows_the_pushes_gave(storage, monkeypatch, version):
    rng = random.Random(version)
    with TestClient(create_app(storage, Quotas.parse("off"))) as client:
        kiosks, desks = devices(client, storage)
        pushed(client, batches(rng, history(rng, kiosks, desks, 40)))
        before = readmodels.snapshot(storage)
        assert len(before["ticket_state"]) > 20 and before["rating"] and before["due_item"]
        upgraded_from(storage, version, monkeypatch)
        seen = []
        done = backfill.run(storage, size=7, event_size=3, say=lambda p, r: seen.append((p.phase, p.tickets_done)))
        assert backfill.pending(storage) is None
        assert readmodels.snapshot(storage) == before
        assert done.chunks == len(seen) > 10 and {phase for phase, _ in seen} == {"tickets", "ratings", "finish"}
        assert [n for _, n in seen] == sorted(n for _, n in seen)  # the cursor only moves on
    pages_agree(storage)


def test_pushes_during_a_backfill_fold_into_its_rows_and_the_office_says_it_is_being_built(storage, monkeypatch):
    rng = random.Random(7)
    with TestClient(create_app(storage, Quotas.parse("off"))) as client:
        kiosks, desks = devices(client, storage)
        planned = batches(rng, history(rng, kiosks, desks, 40))
        pushed(client, planned[:len(planned) // 2])
        found = upgraded_from(storage, 8, monkeypatch)
    # A new app: the one before had seen the read models whole (and never looks again).
    with TestClient(create_app(storage, Quotas.parse("off"))) as client:
        director = office(storage, "director")
        page = client.get("/office", headers=director)
        assert page.status_code == 503 and page.headers["retry-after"] == "30"
        assert "正在从已存事件重新生成" in page.text and "being built from the stored events" in page.text
        assert f"0 of {found.tickets_total} tickets" in page.text
        answer = client.get("/api/v1/office/summary", headers=director)
        assert answer.status_code == 503 and answer.json()["error"] == "building"
        assert client.post("/public/progress", data={"number": "X", "tail": "1234"}).status_code == 503
        rest = planned[len(planned) // 2:]
        while True:  # a chunk, then a device's push, in turns
            with storage.transaction() as tx:
                progress = backfill.step(tx, storage, size=5, event_size=4)
            if rest:
                pushed(client, [rest.pop()])
            if progress is None:
                break
        pushed(client, rest)
    with TestClient(create_app(storage, Quotas.parse("off"))) as client:
        assert client.get("/office", headers=office(storage, "director")).status_code == 200
    rows_equal_after_rebuild(storage)
    pages_agree(storage)


@pytest.mark.parametrize("met_at", ["tickets", "ratings", "finish"])
def test_the_window_sums_due_while_an_older_backfill_is_due_too_come_after_its_ratings(storage, monkeypatch, met_at):
    """Schema 24's `window` phase scheduled (an upgrade from 23) while a backfill an earlier upgrade
    left is due: not in its way, after its ratings (those folded before it met the window rules are
    settled again), or at once if only its last step was left; the rows in the end the same."""
    before = pushed_history(storage, 5, 30)
    upgraded_from(storage, 8, monkeypatch)
    seen = []
    while (backfill.pending(storage) or backfill.Progress()).phase != met_at:
        with storage.transaction() as tx:
            backfill.step(tx, storage, size=7, event_size=3)
    with storage.transaction() as tx:
        backfill.schedule_window(tx, storage)
    due = backfill.pending(storage)
    assert (due.phase, due.window) == {"tickets": ("tickets", False), "ratings": ("ratings", True),
                                       "finish": ("window", False)}[met_at]
    backfill.run(storage, size=7, event_size=3, say=lambda p, r: seen.append(p.phase))
    assert ("window" in seen) == (met_at != "tickets") and seen[-1] == "finish"
    assert backfill.pending(storage) is None and readmodels.snapshot(storage) == before


def _cli(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "kiosk", "central", "backfill", "--database-url", url, *args]


@pytest.mark.reliability
def test_a_backfill_killed_mid_way_resumes_where_it_stopped_and_ends_with_the_same_rows(storage, monkeypatch):
    before = pushed_history(storage, 11, 60)
    upgraded_from(storage, 5, monkeypatch)
    env = {**os.environ, "PYTHONPATH": ROOT}
    runner = subprocess.Popen(_cli(storage.url, "--chunk", "3", "--pause", "0.05"), cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while (backfill.pending(storage) or backfill.Progress()).chunks < 4:
            assert runner.poll() is None, runner.communicate()
            assert time.monotonic() < deadline
            threading.Event().wait(0.02)  # not time.sleep: the file also runs under libfaketime
        os.kill(runner.pid, signal.SIGKILL)
    finally:
        runner.wait(10)
    stopped = backfill.pending(storage)
    assert stopped is not None and stopped.phase == "tickets" and 12 <= stopped.tickets_done < stopped.tickets_total
    status = subprocess.run(_cli(storage.url, "--status"), check=True, cwd=ROOT, env=env, capture_output=True,
                            text=True)
    assert f"单据 {stopped.tickets_done}/{stopped.tickets_total}" in status.stdout
    again = subprocess.run(_cli(storage.url, "--chunk", "4"), check=False, cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "后台数据已生成" in again.stdout
    assert backfill.pending(storage) is None
    assert readmodels.snapshot(storage) == before
    done = subprocess.run(_cli(storage.url), check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    assert "后台数据完整" in done.stdout


def test_serve_builds_a_backfill_left_due_in_the_background_while_it_serves_the_devices(tmp_path, monkeypatch):
    from central.schema import open_storage

    from .test_http import free_port

    path = tmp_path / "central.sqlite3"
    storage = open_storage(f"sqlite:///{path}")
    try:
        before = pushed_history(storage, 5, 30)
        upgraded_from(storage, 8, monkeypatch)
    finally:
        storage.close()
    port = free_port()
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "central", "serve", "--db", str(path), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        said = [proc.stdout.readline() for _ in range(2)]
        assert "正在后台继续生成" in said[1], said
        storage = open_storage(f"sqlite:///{path}")
        deadline = time.monotonic() + 60
        while backfill.pending(storage) is not None:
            assert time.monotonic() < deadline and proc.poll() is None
            threading.Event().wait(0.1)
        assert readmodels.snapshot(storage) == before
        storage.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
