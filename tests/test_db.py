"""The local database: durability pragmas, schema versions, upgrades, refusals."""

import hashlib
import sqlite3
from pathlib import Path

import peewee
import pytest

from db.connection import LATEST, SchemaError, SchemaTooNew, open_database, schema_version
from db.models import MODELS, OutboxEvent, utc_now

FIXTURES = Path(__file__).parent / "fixtures"


def test_pragmas_are_durable(db):
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_new_database_is_at_latest_schema(db):
    assert schema_version(db) == LATEST


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_models_match_the_migrated_schema(db, model):
    table = model._meta.table_name
    columns = {row[1] for row in db.execute_sql(f"PRAGMA table_info({table})").fetchall()}
    assert columns == set(model._meta.columns), f"{table}: models and migrations disagree"


def test_database_of_the_first_schema_upgrades_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "schema_v1.sql").read_text("utf-8"))
    conn.close()

    db = open_database(path)
    assert schema_version(db) == LATEST
    from kiosk.store.catalog import load_catalog

    catalog = load_catalog()
    assert catalog.version == 1 and len(catalog.rows) == 6
    assert db.execute_sql("SELECT prefix FROM device").fetchone()[0] == "K1A"
    # The tables schema 2 added are usable on the upgraded file.
    OutboxEvent.create(uid="u1", kind="test", payload="{}", created_at=utc_now())
    assert OutboxEvent.select().count() == 1
    assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The catalogue predates stored search keys: its first load computes and keeps them.
    from db.models import SearchKey
    from kiosk.domain.search import SearchIndex
    from kiosk.store.catalog import search_keys_for

    assert SearchKey.select().count() == 0
    known = search_keys_for(catalog.rows)
    assert SearchKey.select().count() == len(known) > 0
    assert SearchIndex(catalog.rows, known).search("ylb")


def test_reopening_applies_nothing_twice(tmp_path):
    path = tmp_path / "k.sqlite3"
    open_database(path).close()
    db = open_database(path)
    assert schema_version(db) == LATEST
    from db.connection import migrate

    assert migrate(db) == []


def test_newer_schema_is_refused_and_the_file_is_not_touched(tmp_path):
    path = tmp_path / "future.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE from_the_future (x)")
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.commit()
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    with pytest.raises(SchemaTooNew) as refused:
        open_database(path)
    assert f"schema version {LATEST + 1}" in str(refused.value)
    assert "newer version" in str(refused.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not (tmp_path / "future.sqlite3-wal").exists()


def test_a_file_that_is_not_a_database_gets_a_clear_message(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_text("this is a shopping list, not a database\n" * 100)
    with pytest.raises(SchemaError, match="not a kiosk database"):
        open_database(path)


def test_a_failed_migration_leaves_the_old_schema(tmp_path, monkeypatch):
    from db import connection

    path = tmp_path / "k.sqlite3"
    open_database(path, target=1).close()
    broken = list(connection.MIGRATIONS)
    broken[1] = broken[1][:3] + ["CREATE TABLE this is not sql"]
    monkeypatch.setattr(connection, "MIGRATIONS", broken)
    with pytest.raises(peewee.OperationalError, match="syntax error"):
        open_database(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "customer" not in tables, "half a migration was committed"


def test_outbox_sequence_is_never_reused(db):
    first = OutboxEvent.create(uid="a", kind="k", payload="{}", created_at=utc_now())
    second = OutboxEvent.create(uid="b", kind="k", payload="{}", created_at=utc_now())
    second.delete_instance()
    third = OutboxEvent.create(uid="c", kind="k", payload="{}", created_at=utc_now())
    assert third.seq > second.seq > first.seq
