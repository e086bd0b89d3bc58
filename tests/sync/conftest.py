"""Devices syncing with a real central system over real HTTP (uvicorn on a loopback port),
on SQLite and on PostgreSQL (central's own fixtures)."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager

import pytest

pytest.importorskip("fastapi", reason="sync tests need the central extra: pip install -e '.[test]'")

from tests.central.conftest import central_clock, database_url, pg_schema_url, storage  # noqa: F401 - fixtures


@pytest.fixture
def central(storage):  # noqa: F811 - the fixture imported above
    from central.server import serve_in_thread

    with serve_in_thread(storage) as running:
        yield running


class Node:
    """A kiosk or a clerk desk with its own database file. Only one is open at a time (the
    models' database proxy is process-wide): `with node.open():`."""

    def __init__(self, path, prefix: str, role: str):
        self.path, self.prefix, self.role = path, prefix, role
        self.uid = None

    @contextmanager
    def open(self):
        from db.connection import open_database
        from kiosk.store.catalog import ensure_catalog
        from kiosk.store.registration import ensure_device

        db = open_database(self.path)
        try:
            ensure_catalog()
            self.uid = ensure_device(self.prefix, role=self.role).uid
            yield self
        finally:
            db.close()

    def enroll(self, central) -> None:
        from central.devices import add_device
        from kiosk.store.registration import ensure_device
        from kiosk.sync.enrolment import enroll

        enroll(central.url, add_device(central.storage, self.role), ensure_device())

    def sync(self, url: str | None = None):
        """One pass; `url` overrides the enrolled one (a proxy in front of central)."""
        from kiosk.sync.client import Central
        from kiosk.sync.enrolment import enrolment
        from kiosk.sync.loop import sync_pass

        enrolled = enrolment()

        async def direct(fn, *args):
            return fn(*args)

        client = Central(url or enrolled.url, enrolled.token, timeout=5)
        return asyncio.run(sync_pass(client, direct, self.uid, net_call=direct))


@pytest.fixture
def nodes(tmp_path):
    def make(name: str, role: str = "kiosk", prefix: str = "") -> Node:
        return Node(tmp_path / name / f"{name}.sqlite3", prefix or name.upper()[:3], role)

    return make


def register(count: int = 1) -> list:
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import load_catalog
    from kiosk.store.registration import ensure_device
    from kiosk.store.registration import register as register_one
    from tests.test_registration import sample

    catalog = load_catalog()
    return [register_one(sample(), catalog, default_policy(), ensure_device()) for _ in range(count)]


def central_event_uids(store) -> list[str]:
    with store.read() as tx:
        return [row[0] for row in tx.all("SELECT uid FROM event ORDER BY uid")]
