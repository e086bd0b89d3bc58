"""A full disk, a read-only disk, a damaged file: a clear message (on screen, in the doctor,
from the CLI), nothing half written, committed tickets kept."""

from __future__ import annotations

import json
import sqlite3

import peewee
import pytest

from db.backup import BackupError, backup_database, list_backups, problem_kind
from db.connection import DatabaseUnusable, open_database

from .conftest import in_namespace, integrity_of, needs_mounts, register_one, ticket_numbers

UNLIMITED = 1073741823


def complete(path) -> bool:
    """Every ticket has its lines, its print job and its outbox event: no half a registration."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tickets = conn.execute("SELECT count(*) FROM ticket").fetchone()[0]
        checks = [
            "SELECT count(*) FROM ticket WHERE id NOT IN (SELECT ticket_id FROM ticket_line)",
            "SELECT count(*) FROM ticket WHERE id NOT IN (SELECT ticket_id FROM print_job)",
        ]
        events = conn.execute("SELECT count(*) FROM outbox_event").fetchone()[0]
        return all(conn.execute(q).fetchone()[0] == 0 for q in checks) and events >= tickets
    finally:
        conn.close()


# ---- a full database ---------------------------------------------------------------------------


def test_registering_on_a_full_database_fails_clearly_and_keeps_every_earlier_ticket(tmp_path):
    """SQLITE_FULL, made by capping the file's size (PRAGMA max_page_count) at what it holds."""
    from kiosk.ops.doctor import database_problem

    path = tmp_path / "kiosk.sqlite3"
    db = open_database(path)
    kept = [register_one().number for _ in range(3)]
    db.execute_sql(f"PRAGMA max_page_count = {db.execute_sql('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(peewee.DatabaseError) as full:
        for _ in range(500):
            kept.append(register_one().number)
    # peewee reports "cannot rollback" (SQLite already rolled back); the cause is found anyway.
    assert problem_kind(full.value) == "full"
    assert "磁盘已满" in database_problem(full.value).text("zh")
    assert "disk is full" in database_problem(full.value).text("en")
    assert ticket_numbers(path) == kept
    assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok" and complete(path)
    db.execute_sql(f"PRAGMA max_page_count = {UNLIMITED}")
    kept.append(register_one().number)  # space again: the kiosk carries on
    assert ticket_numbers(path) == kept
    db.close()


@needs_mounts
def test_a_really_full_disk(tmp_path):
    """The data directory is a 1 MB tmpfs, filled up: a registration fails with SQLITE_FULL, the
    CLI says so without a traceback, the doctor fails the disk; freed, everything is there."""
    data = tmp_path / "data"
    data.mkdir()
    code, out, err = in_namespace(f"mount -t tmpfs -o size=1m tmpfs {data}", f"""
        import io, json, subprocess, sys
        from pathlib import Path
        from db.backup import problem_kind
        from db.connection import open_database
        from kiosk.cli import main
        from tests.ops.conftest import integrity_of, register_one, ticket_numbers
        from tests.ops.test_failures import complete

        data = Path({str(data)!r}); path = data / "kiosk.sqlite3"
        seen = {{}}
        db = open_database(path)
        kept = [register_one().number for _ in range(3)]
        subprocess.run(["dd", "if=/dev/zero", f"of={{data}}/filler", "bs=4k", "count=1000"], capture_output=True)
        try:
            for _ in range(500):
                kept.append(register_one().number)
            seen["failed"] = None
        except Exception as e:
            seen["failed"] = problem_kind(e)
        seen["kept"] = ticket_numbers(path) == kept
        db.close()
        sys.stdin = io.StringIO("2580\\n2580\\n")
        seen["cli"] = main(["--db", str(path), "clerk", "add", "anna", "--name", "Anna"])
        seen["doctor"] = main(["--db", str(path), "doctor", "--json"])
        (data / "filler").unlink()
        seen["integrity"] = integrity_of(path)
        seen["complete"] = complete(path)
        db = open_database(path)
        register_one()
        seen["after"] = len(ticket_numbers(path)) == len(kept) + 1
        print(json.dumps(seen))
    """, env={"KIOSK_DATA_DIR": str(data)})
    assert code == 0, err
    lines = out.strip().splitlines()
    seen = json.loads(lines[-1])
    assert seen["failed"] == "full" and seen["kept"]
    assert seen["cli"] == 1 and "磁盘已满" in err and "Traceback" not in err
    report = json.loads("\n".join(lines[:-1]))
    assert seen["doctor"] == 2 and {c["name"]: c["level"] for c in report["checks"]}["disk"] == "fail"
    assert seen["integrity"] == "ok" and seen["complete"] and seen["after"]


# ---- a read-only disk --------------------------------------------------------------------------


@needs_mounts
def test_a_read_only_disk_is_named_at_start_in_the_doctor_and_in_the_cli(tmp_path):
    data = tmp_path / "data"
    path = data / "kiosk.sqlite3"
    open_database(path)
    kept = [register_one().number for _ in range(2)]
    from db.models import database_proxy

    database_proxy.close()
    code, out, err = in_namespace(f"mount --bind {data} {data}\nmount -o remount,bind,ro {data}", f"""
        import asyncio, json
        from pathlib import Path
        from db.connection import DatabaseUnusable, open_database
        from kiosk.cli import main
        from tests.kiosk_pilot import make_app, settle

        path = Path({str(path)!r}); seen = {{}}
        try:
            open_database(path)
        except DatabaseUnusable as e:
            seen["open"] = e.kind
        seen["cli"] = main(["--db", str(path), "db", "status"])
        seen["doctor"] = main(["--db", str(path), "doctor", "--lang", "en"])
        app = make_app(database=path)

        async def run():
            async with app.run_test() as pilot:
                await settle(pilot)
                seen["screen"] = type(app.screen).__name__
                seen["text"] = " ".join(str(w.render()) for w in app.screen.query("Static"))
        asyncio.run(run())
        print(json.dumps(seen, ensure_ascii=False))
    """, env={"KIOSK_DATA_DIR": str(data)})
    assert code == 0, err
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["open"] == "readonly"
    assert seen["cli"] == 1 and "数据库只读" in err and "Traceback" not in err
    assert seen["doctor"] == 2 and "FAIL  database: The database is read-only" in out
    assert seen["screen"] == "OutOfService"
    assert "数据库只读" in seen["text"] and "The database is read-only" in seen["text"]
    assert "kiosk doctor" in seen["text"]
    assert ticket_numbers(path) == kept and integrity_of(path) == "ok"


# ---- a damaged file ----------------------------------------------------------------------------


def damage(path, table: str | None = "ticket") -> None:
    """Overwrite a table's root page (or the file's header, table=None) with garbage."""
    conn = sqlite3.connect(path)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0] if table else 1
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with open(path, "r+b") as f:
        f.seek((page - 1) * size)
        f.write(bytes((i * 37 + 11) % 256 for i in range(size if table else 100)))


@pytest.fixture
def damaged(tmp_path):
    path = tmp_path / "k.sqlite3"  # the `run` fixture's --db
    db = open_database(path)
    numbers = [register_one().number for _ in range(3)]
    good = backup_database(path, tmp_path / "good")
    db.close()
    damage(path)
    return path, good, numbers


def test_a_damaged_database_fails_the_doctor_the_cli_and_the_backup_clearly(run, damaged, tmp_path):
    _, _, numbers = damaged
    status, out, _ = run("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert status == 2 and checks["integrity"]["level"] == "fail"
    assert "kiosk restore" in checks["integrity"]["zh"] and "kiosk restore" in checks["integrity"]["en"]

    status, _, err = run("reprint", numbers[0])  # reads the ticket: meets the damage
    assert status == 1 and "数据库文件已损坏" in err and "Traceback" not in err

    status, _, err = run("backup")
    assert status == 1 and "备份没有做成" in err and "integrity" in err
    assert list_backups(tmp_path / "data" / "backups") == [] and not any((tmp_path / "data" / "backups").iterdir())


def test_registering_on_a_damaged_table_says_so(damaged):
    from kiosk.ops.doctor import database_problem

    path, *_ = damaged
    db = open_database(path)
    with pytest.raises(peewee.DatabaseError) as broken:
        register_one()
    assert problem_kind(broken.value) == "corrupt"
    assert "kiosk restore" in database_problem(broken.value).text("en")
    db.close()


async def test_a_damaged_header_puts_the_kiosk_out_of_service_with_a_clear_screen(tmp_path):
    from tests.kiosk_pilot import make_app, settle

    path = tmp_path / "kiosk.sqlite3"
    open_database(path).close()
    damage(path, table=None)
    with pytest.raises(DatabaseUnusable) as refused:
        open_database(path)
    assert refused.value.kind == "corrupt"

    app = make_app(database=path)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert type(app.screen).__name__ == "OutOfService"
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "暂停服务" in text and "数据库文件已损坏" in text and "The database file is damaged" in text
        await pilot.press("escape", "a", "enter")  # nothing gets a customer past it
        app.clock = lambda: 10 ** 9  # long idle: the idle wipe leaves it in place
        app.idle_tick()
        await pilot.pause()
        assert type(app.screen).__name__ == "OutOfService"


async def test_a_damaged_database_puts_the_desk_out_of_service_and_the_lock_key_leaves_it_there(tmp_path):
    from dataclasses import replace

    from kiosk.settings.config import load_config
    from screens.clerk.app import DeskApp
    from tests.kiosk_pilot import settle

    path = tmp_path / "desk.sqlite3"
    open_database(path).close()
    damage(path, table=None)
    app = DeskApp(replace(load_config(), database=path, printer_uri="preview://receipts"))
    async with app.run_test() as pilot:
        await settle(pilot)
        assert type(app.screen).__name__ == "OutOfService"
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "收发室程序无法启动" in text and "数据库文件已损坏" in text and "The clerk desk cannot start" in text
        await pilot.press("f9", "escape")
        assert type(app.screen).__name__ == "OutOfService" and app.clerk is None


def test_backup_error_names_a_missing_database(tmp_path):
    with pytest.raises(BackupError) as missing:
        backup_database(tmp_path / "nothing.sqlite3", tmp_path / "b")
    assert missing.value.kind == "missing" and not (tmp_path / "nothing.sqlite3").exists()
