"""Schema 1 -> 2: a database made by the first central upgrades when central starts (the
index on event (kind, created_at)); the feedback pushed before the upgrade reaches the desks."""

from __future__ import annotations

import uuid

import pytest

from central import schema
from central.schema import open_storage
from central.storage import Storage, StorageError

from .nodes import enrol, pull_all, push


def make_v1(url: str) -> None:
    """A database exactly as schema 1 made it."""
    storage = Storage(url)
    try:
        with storage.transaction() as tx:
            for statement in schema.TABLES:
                tx.execute(statement.format(**schema.TYPES[storage.dialect]))
            tx.execute("INSERT INTO central_meta (key, value) VALUES ('schema_version', '1')")
    finally:
        storage.close()


def indexes(storage) -> set[str]:
    with storage.read() as tx:
        if storage.postgres:
            rows = tx.all("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        else:
            rows = tx.all("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {row[0] for row in rows}


def version(storage) -> int:
    with storage.read() as tx:
        return int(tx.one("SELECT value FROM central_meta WHERE key = 'schema_version'")[0])


def test_a_new_database_has_the_latest_schema(storage):
    assert schema.SCHEMA_VERSION == 3 and version(storage) == 3
    assert "event_kind" in indexes(storage)


def test_a_version_1_database_upgrades_on_start_and_publishes_the_feedback_it_held(database_url):
    from fastapi.testclient import TestClient

    from central.app import create_app

    make_v1(database_url)
    storage = Storage(database_url)  # not opened with open_storage: no upgrade yet
    assert version(storage) == 1 and "event_kind" not in indexes(storage)
    # Schema 1 accepted and stored feedback without publishing it: events as v1 stored them.
    kiosk_uid, desk_uid = str(uuid.uuid4()), str(uuid.uuid4())
    with storage.transaction() as tx:
        for device_id, (uid, role, prefix) in enumerate(((kiosk_uid, "kiosk", "OLDK"), (desk_uid, "clerk", "OLDD")),
                                                        start=1):
            tx.execute("INSERT INTO device (uid, name, role, prefix, public_key, enrolled_at) "
                       "VALUES (?, '', ?, ?, 'k', '2026-11-01T00:00:00+00:00')", (uid, role, prefix))
        for uid, kind, device_id, payload in (
                ("e1", "feedback.given", 1, '{"feedback": "f1", "rating": 1}'),
                ("e2", "ticket.registered", 1, '{"ticket": {"number": "X-261124-0001"}}'),
                ("e3", "followup.closed", 2, '{"followup": "u1"}')):
            tx.execute("INSERT INTO event (uid, kind, device_id, created_at, received_at, payload) "
                       "VALUES (?, ?, ?, '2026-11-20T00:00:00+00:00', '2026-11-20T00:00:00+00:00', ?)",
                       (uid, kind, device_id, payload))
    storage.close()

    upgraded = open_storage(database_url)  # what `kiosk central serve` does first
    try:
        assert version(upgraded) == 3 and "event_kind" in indexes(upgraded)
        assert open_storage(database_url).close() is None  # a second start: nothing to do
        with TestClient(create_app(upgraded)) as client:
            desk = enrol(client, upgraded, "clerk")
            changes, _ = pull_all(client, desk)
            assert [(c["kind"], c["data"]) for c in changes if not c["kind"].startswith("device.")] == [
                ("feedback.given", {"feedback": "f1", "rating": 1}), ("followup.closed", {"followup": "u1"})]
            kiosk = enrol(client, upgraded)
            assert push(client, kiosk, kiosk.feedback(5)).status_code == 200
            assert [c["kind"] for c in pull_all(client, desk)[0]][-1] == "feedback.given"
    finally:
        upgraded.close()


def test_a_newer_database_is_refused(database_url):
    storage = open_storage(database_url)
    with storage.transaction() as tx:
        tx.execute("UPDATE central_meta SET value = '4' WHERE key = 'schema_version'")
    storage.close()
    with pytest.raises(StorageError, match="schema 4"):
        open_storage(database_url)
