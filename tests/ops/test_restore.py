"""`kiosk restore FILE`: refused while anything has the database open or when FILE is not a
sound kiosk database; otherwise the current database is kept as a backup, then replaced."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys

import pytest

from db.backup import BackupError, backup_database, list_backups, restore
from db.connection import LATEST, open_database, schema_version
from db.models import database_proxy

from .conftest import ROOT, integrity_of, make_v1, register_one, ticket_numbers
from .test_failures import damage


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def site(tmp_path):
    """A database (the `run` fixture's) with two tickets, a backup of it, then a third ticket."""
    path = tmp_path / "k.sqlite3"
    open_database(path)
    first = [register_one().number for _ in range(2)]
    backup = backup_database(path, tmp_path / "elsewhere")
    third = register_one().number
    database_proxy.close()
    return path, backup, first, third


def test_restore_keeps_the_current_database_then_puts_the_backup_in_place(run, site, tmp_path):
    path, backup, first, third = site
    status, out, _ = run("restore", str(backup))
    assert status == 0 and "已从" in out and "原来的数据库保存为" in out
    assert ticket_numbers(path) == first and integrity_of(path) == "ok"
    kept = [b for b in list_backups(tmp_path / "data" / "backups") if b.reason == "restore"]
    assert len(kept) == 1 and ticket_numbers(kept[0].path) == [*first, third]
    db = open_database(path)  # the kiosk starts on it and carries on
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    register_one()
    assert len(ticket_numbers(path)) == 3


def test_restore_is_refused_while_the_database_is_open_here_or_in_another_process(run, site):
    path, backup, first, third = site
    before = sha(path)
    db = open_database(path)  # idle, as a kiosk between customers
    with pytest.raises(BackupError) as refused:
        restore(backup, path, path.parent / "backups")
    assert refused.value.kind == "in_use"
    db.close()

    holder = subprocess.Popen(
        [sys.executable, "-c", ("import sys; from db.connection import open_database; "
                                f"db = open_database({str(path)!r}); print('open', flush=True); "
                                "sys.stdin.readline()")],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        status, _, err = run("restore", str(backup))
        assert status == 1 and "数据库正在使用中" in err and "没有恢复" in err
    finally:
        holder.communicate("\n", timeout=30)
    assert ticket_numbers(path) == [*first, third] and sha(path) == before
    assert list_backups(path.parent / "data" / "backups") == []  # nothing was kept: nothing was done
    assert run("restore", str(backup))[0] == 0  # once it is closed


@pytest.mark.parametrize("kind", ["not_kiosk", "too_new", "corrupt", "missing", "empty"])
def test_a_bad_file_is_refused_and_nothing_changes(run, site, tmp_path, kind):
    path, backup, first, third = site
    bad = tmp_path / "bad.sqlite3"
    if kind == "not_kiosk":
        bad.write_text("a shopping list\n" * 200)
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "too_new":
        bad.write_bytes(backup.read_bytes())
        conn = sqlite3.connect(bad)
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
        conn.close()
    elif kind == "corrupt":
        bad.write_bytes(backup.read_bytes())
        damage(bad)
    before = sha(path)
    status, _, err = run("restore", str(bad), "--lang", "en")
    assert status == 1 and "Not restored; the database is unchanged" in err
    says = {"not_kiosk": "is not a kiosk database", "empty": "is not a kiosk database",
            "too_new": f"this software knows up to {LATEST}", "corrupt": "is damaged: choose another backup",
            "missing": "There is no database file"}[kind]
    assert says in err
    assert sha(path) == before and ticket_numbers(path) == [*first, third]
    assert list_backups(tmp_path / "data" / "backups") == []


def test_a_first_schema_backup_is_restored_and_upgraded_with_a_backup_at_the_next_start(run, site, tmp_path):
    path, *_ = site
    old = make_v1(tmp_path / "v1.sqlite3")
    status, out, _ = run("restore", str(old), "--lang", "en")
    assert status == 0 and "(schema version 1)" in out
    db = open_database(path, backup_dir=tmp_path / "data" / "backups")
    assert schema_version(db) == LATEST
    reasons = sorted(b.reason for b in list_backups(tmp_path / "data" / "backups"))
    assert reasons == ["restore", "upgrade"]
    assert register_one().number.startswith("K1A-")


@pytest.mark.parametrize("where", ["header", "table"])
def test_a_damaged_database_is_replaced_and_kept_as_it_was(run, site, tmp_path, where):
    path, backup, first, _ = site
    damage(path, table=None if where == "header" else "ticket")
    status, _, err = run("restore", str(backup))
    assert status == 0, err
    assert ticket_numbers(path) == first and integrity_of(path) == "ok"
    kept = [b for b in list_backups(tmp_path / "data" / "backups") if b.reason == "restore"]
    assert len(kept) == 1 and kept[0].size > 0


def test_restoring_onto_no_database_makes_it(run, site, tmp_path):
    _, backup, first, _ = site
    target = tmp_path / "new" / "kiosk.sqlite3"
    done = restore(backup, target, tmp_path / "data" / "backups")
    assert done.kept is None and ticket_numbers(target) == first
