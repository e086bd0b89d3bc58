"""Central's fixtures: every test that takes `storage` (or `client`) runs on SQLite and on the
real PostgreSQL on 127.0.0.1:5432, each PostgreSQL test in a schema of its own, made and
dropped here. $CENTRAL_TEST_PG_URL points elsewhere; an unreachable server skips with why."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

pytest.importorskip("fastapi", reason="central's tests need the central extra: pip install -e '.[test]'")

PG_URL = os.environ.get("CENTRAL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
_pg_problem: list[str] = []


def pg_unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or None. Asked once per session."""
    if not _pg_problem:
        try:
            import psycopg

            with psycopg.connect(PG_URL, connect_timeout=3) as conn:
                conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())")
            _pg_problem.append("")
        except Exception as e:  # noqa: BLE001 - any reason is a reason to skip, said plainly
            _pg_problem.append(f"PostgreSQL at {PG_URL} is unreachable: {str(e).strip().splitlines()[0]}")
    return _pg_problem[0] or None


def with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards: its URL (skips the test when the server is unreachable)."""
    reason = pg_unavailable()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = f"central_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(PG_URL, schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def pg_schema_url():
    """A fresh PostgreSQL schema (dropped afterwards): its URL."""
    with pg_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.sqlite3'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def storage(database_url):
    from central.schema import open_storage

    store = open_storage(database_url)
    yield store
    store.close()


@pytest.fixture
def client(storage):
    from fastapi.testclient import TestClient

    from central.app import create_app

    with TestClient(create_app(storage)) as test_client:
        yield test_client


@pytest.fixture
def central_clock(monkeypatch):
    """Central's clock for its token rules (enrolment, expiry, renewal), moved by the test:
    `central_clock.now += timedelta(...)`. Central in this process (TestClient, or uvicorn in a
    thread) reads it."""
    import central.devices
    import central.tokens
    from kiosk.domain.clock import utc_now

    class Clock:
        now = utc_now()

    monkeypatch.setattr(central.tokens, "utc_now", lambda: Clock.now)
    monkeypatch.setattr(central.devices, "utc_now", lambda: Clock.now)
    return Clock
