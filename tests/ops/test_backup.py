"""`kiosk backup`: a consistent copy while the kiosk writes, written whole or not at all, and
rotation."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
import time
from datetime import datetime, timedelta

import pytest

from db.backup import BackupError, backup_database, list_backups, rotate
from db.connection import open_database

from .conftest import in_namespace, integrity_of, needs_mounts, register_one, ticket_numbers
from .test_failures import complete


def test_a_backup_while_another_connection_writes_is_consistent(tmp_path):
    """A thread registers tickets in a loop (its own connection, as the kiosk's database
    thread); each backup holds exactly the tickets committed before it began copying, every
    one whole, and passes integrity_check."""
    path = tmp_path / "kiosk.sqlite3"
    db = open_database(path)
    register_one()
    stop, errors, written = threading.Event(), [], []

    def writer() -> None:
        try:
            while not stop.is_set():
                written.append(register_one().number)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            db.close()  # this thread's connection

    thread = threading.Thread(target=writer)
    thread.start()
    made = []
    try:
        for _ in range(5):
            wait_until = len(written) + 3
            while len(written) < wait_until and thread.is_alive():
                time.sleep(0.005)
            before = len(written)
            started = time.perf_counter()
            backup = backup_database(path, tmp_path / "backups")
            made.append((backup, before, len(written), time.perf_counter() - started))
    finally:
        stop.set()
        thread.join(30)
    assert errors == [] and not thread.is_alive()
    final = ticket_numbers(path)
    for backup, before, after, _ in made:
        numbers = ticket_numbers(backup)
        assert numbers == final[:len(numbers)], "a backup holds a prefix of what was committed"
        assert 1 + before <= len(numbers) <= 1 + after
        assert integrity_of(backup) == "ok" and complete(backup)
    assert len({b for b, *_ in made}) == 5
    assert len(written) >= 15  # the writer kept going between and during the backups


def test_a_backup_is_one_private_self_contained_file(tmp_path):
    path = tmp_path / "kiosk.sqlite3"
    open_database(path)
    register_one()
    backup = backup_database(path, tmp_path / "backups", now=datetime(2026, 11, 24, 3, 30))
    assert backup.name == "kiosk-20261124-033000.sqlite3"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.parent.stat().st_mode) == 0o700
    assert sorted(os.listdir(backup.parent)) == [backup.name]  # no -wal, -journal or temporary file
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    again = backup_database(path, tmp_path / "backups", now=datetime(2026, 11, 24, 3, 30))
    assert again.name == "kiosk-20261124-033000-1.sqlite3"  # the same second: never overwritten
    assert [b.path for b in list_backups(tmp_path / "backups")] == [again, backup]


def test_a_backup_is_named_on_the_institutes_clock_whatever_the_machines_zone(tmp_path):
    """The name (and what `kiosk doctor` says of it) is the institute's time: a kiosk image set to
    UTC or another zone (tests/faketime_lanes.sh) dates its backups as the staff read the clock."""
    from kiosk.domain.clock import local, utc_now

    path = tmp_path / "kiosk.sqlite3"
    open_database(path)
    before = local(utc_now()).replace(tzinfo=None, microsecond=0)
    backup = backup_database(path, tmp_path / "backups")
    after = local(utc_now()).replace(tzinfo=None)
    assert before <= list_backups(tmp_path / "backups")[0].taken_at <= after, backup.name


def test_rotation_keeps_the_newest_and_one_a_week_and_never_the_before_copies(tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    first = datetime(2026, 10, 1, 3, 30)  # a Thursday; ISO weeks start on 28 Sep, 5, 12, 19 and 26 Oct
    for day in range(30):
        (folder / f"kiosk-{first + timedelta(days=day):%Y%m%d-%H%M%S}.sqlite3").write_bytes(b"x")
    (folder / "kiosk-20260901-120000-before-upgrade.sqlite3").write_bytes(b"x")
    (folder / "kiosk-20260902-120000-before-restore.sqlite3").write_bytes(b"x")
    (folder / ".kiosk-20261031-033000.sqlite3.tmp").write_bytes(b"x")
    (folder / "notes.txt").write_text("mine")

    removed = rotate(folder, keep=7, weekly=4)

    days = sorted(int(f"{b.taken_at:%m%d}") for b in list_backups(folder) if b.reason is None)
    assert days == [1004, 1011, 1018, 1023, 1024, 1025, 1026, 1027, 1028, 1029, 1030]
    assert len(removed) == 19
    left = set(os.listdir(folder))
    assert {"kiosk-20260901-120000-before-upgrade.sqlite3", "kiosk-20260902-120000-before-restore.sqlite3",
            ".kiosk-20261031-033000.sqlite3.tmp", "notes.txt"} <= left
    assert rotate(folder, keep=7, weekly=4) == []
    with pytest.raises(ValueError):
        rotate(folder, keep=0)


def test_the_backup_command_writes_rotates_and_takes_another_folder(run, tmp_path):
    status, _, _ = run("db", "status")  # makes the database
    assert status == 0
    for _ in range(3):
        status, out, _ = run("backup", "--keep", "2", "--weekly", "0")
        assert status == 0 and "已备份到" in out
    assert "已删除1份旧备份" in out
    assert len(list_backups(tmp_path / "data" / "backups")) == 2
    status, out, _ = run("backup", "--to", str(tmp_path / "usb"), "--lang", "en")
    assert status == 0 and out.startswith(f"Backed up to {tmp_path / 'usb'}")
    assert integrity_of(list_backups(tmp_path / "usb")[0].path) == "ok"


def test_backing_up_nothing_says_so(run, tmp_path):
    status, _, err = run("backup")
    assert status == 1 and "找不到数据库文件" in err
    assert not (tmp_path / "k.sqlite3").exists(), "no empty database is made"


@needs_mounts
def test_a_backup_that_does_not_fit_leaves_nothing_and_the_older_ones_intact(tmp_path):
    """The backup folder is a 512 KB tmpfs that holds one backup of this database: the second is
    refused for lack of room; with that check off, the copy runs into ENOSPC and is removed."""
    path = tmp_path / "kiosk.sqlite3"
    open_database(path)
    register_one()
    folder = tmp_path / "usb"
    folder.mkdir()
    code, out, err = in_namespace(f"mount -t tmpfs -o size=512k tmpfs {folder}", f"""
        import json, os
        from pathlib import Path
        import db.backup
        from db.backup import BackupError, backup_database
        from tests.ops.conftest import integrity_of

        path, folder = Path({str(path)!r}), Path({str(folder)!r})
        seen = {{}}
        first = backup_database(path, folder, reserve=0)
        for reserve in (None, -10**9):  # the room check on, then off
            if reserve is not None:
                db.backup.RESERVE_BYTES = reserve
            try:
                backup_database(path, folder)
            except BackupError as e:
                seen[str(reserve)] = e.kind
        seen["left"] = sorted(os.listdir(folder))
        seen["first"] = [first.name, integrity_of(first)]
        print(json.dumps(seen))
    """)
    assert code == 0, err
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["None"] == "low_space" and seen[str(-10**9)] == "full"
    assert seen["left"] == [seen["first"][0]] and seen["first"][1] == "ok"


def test_backup_errors_have_a_kind(tmp_path):
    with pytest.raises(BackupError) as e:
        backup_database(tmp_path / "none.sqlite3", tmp_path)
    assert e.value.kind == "missing"
