"""Upgrade on start: a database of the first released schema is backed up, then migrated, and
stays usable; if the backup cannot be written, nothing is migrated and the kiosk says why."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from db.backup import list_backups
from db.connection import LATEST, MODELS, UpgradeBackupFailed, open_database, schema_version

from .conftest import in_namespace, integrity_of, make_v1, needs_mounts, register_one

V1_TABLES = ("catalog_version", "device", "fee_item", "priced_row", "setting")


def dump(path, tables=V1_TABLES) -> dict:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
    finally:
        conn.close()


def as_upgraded(before: dict, old_path) -> dict:
    """The first schema's data as every migration since leaves it: untouched, but for the fee
    rows' compulsory flag, which schema 12 turned into the uses it meant (all four) and the
    supervision mode (unknown: ''), the two new columns last (db/migrations/m0012)."""
    conn = sqlite3.connect(f"file:{old_path}?mode=ro", uri=True)
    try:
        names = [r[1] for r in conn.execute("PRAGMA table_info(priced_row)")]
    finally:
        conn.close()
    flag = names.index("compulsory")
    rows = [(*row[:flag], *row[flag + 1:], "trade,safety,medical,environment" if row[flag] else "", "")
            for row in before["priced_row"]]
    return {**before, "priced_row": rows}


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_v1_database_is_backed_up_then_every_migration_applied_and_it_stays_usable(tmp_path):
    path = make_v1(tmp_path / "data" / "kiosk.sqlite3")
    before = dump(path)
    backups = tmp_path / "data" / "backups"

    db = open_database(path, backup_dir=backups)

    made = list_backups(backups)
    assert [b.reason for b in made] == ["upgrade"]
    assert made[0].path.name.endswith("-before-upgrade.sqlite3")
    conn = sqlite3.connect(made[0].path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1  # the old schema, as it was
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    conn.close()
    assert dump(made[0].path) == before
    assert integrity_of(made[0].path) == "ok"

    assert schema_version(db) == LATEST
    for model in MODELS:  # every table of every migration, with the columns the code expects
        table = model._meta.table_name
        columns = {r[1] for r in db.execute_sql(f"PRAGMA table_info({table})").fetchall()}
        assert columns == set(model._meta.columns), table
    assert dump(path) == as_upgraded(before, made[0].path)  # the data the first schema held, kept
    ticket = register_one()  # the device of the v1 database registers
    assert ticket.number.startswith("K1A-")
    assert db.execute_sql("SELECT count(*) FROM ticket").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()

    open_database(path, backup_dir=backups).close()
    assert len(list_backups(backups)) == 1, "a current database is not backed up again"


def test_the_cli_upgrades_with_a_backup_in_the_data_directory(run, tmp_path):
    make_v1(tmp_path / "k.sqlite3")  # the `run` fixture's --db; data directory tmp_path/data
    status, out, _ = run("db", "status")
    assert status == 0 and json.loads(out)["schema_version"] == LATEST
    assert [b.reason for b in list_backups(tmp_path / "data" / "backups")] == ["upgrade"]


async def test_the_app_upgrades_with_a_backup_and_starts(tmp_path):
    from tests.kiosk_pilot import make_app, settle

    path = make_v1(tmp_path / "old.sqlite3")
    app = make_app(database=path)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert app.catalog is not None and app.catalog.version == 1
    assert [b.reason for b in list_backups(app.config.data_dir / "backups")] == ["upgrade"]
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == LATEST


def test_when_the_backup_cannot_be_written_nothing_is_migrated(tmp_path):
    path = make_v1(tmp_path / "kiosk.sqlite3")
    before = sha(path)
    blocked = tmp_path / "backups"
    blocked.write_text("a file where the backup folder should be")
    with pytest.raises(UpgradeBackupFailed) as failed:
        open_database(path, backup_dir=blocked)
    assert "was not upgraded" in str(failed.value)
    assert sha(path) == before
    assert not (tmp_path / "kiosk.sqlite3-wal").exists()


@needs_mounts
def test_a_full_disk_stops_the_upgrade_and_the_kiosk_says_so(tmp_path):
    """The backups folder is a 256 KB tmpfs, filled up: the first check refuses (too little
    room), and with that check switched off the copy itself fails on ENOSPC and leaves no
    partial file.
    Either way the database is not migrated, and the kiosk shows why."""
    path = make_v1(tmp_path / "data" / "kiosk.sqlite3")
    before = sha(path)
    backups = tmp_path / "data" / "backups"
    backups.mkdir()
    setup = (f"mount -t tmpfs -o size=256k tmpfs {backups}\n"
             f"dd if=/dev/zero of={backups}/filler bs=4k count=1000 2>/dev/null || true")
    code, out, err = in_namespace(setup, f"""
        import asyncio, json, os
        from pathlib import Path
        import db.backup
        from db.connection import UpgradeBackupFailed, open_database
        from tests.kiosk_pilot import make_app, settle

        path, backups = Path({str(path)!r}), Path({str(backups)!r})
        seen = {{}}
        for reserve in (None, -10**9):  # the check on, then off
            if reserve is not None:
                db.backup.RESERVE_BYTES = reserve
            try:
                open_database(path, backup_dir=backups)
                seen[str(reserve)] = "migrated"
            except UpgradeBackupFailed as e:
                seen[str(reserve)] = e.reason
        seen["left"] = sorted(os.listdir(backups))
        app = make_app(database=path)

        async def main():
            async with app.run_test() as pilot:
                await settle(pilot)
                seen["screen"] = type(app.screen).__name__
                seen["text"] = " ".join(str(w.render()) for w in app.screen.query("Static"))
        asyncio.run(main())
        print(json.dumps(seen, ensure_ascii=False))
    """, env={"KIOSK_DATA_DIR": str(tmp_path / "data")})
    assert code == 0, err
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["None"] == "low_space"  # refused before writing: a backup must leave room for the kiosk
    assert seen[str(-10**9)] == "full"  # the copy itself ran out of space (ENOSPC)
    assert seen["left"] == ["filler"], "no partial backup is left behind"
    assert seen["screen"] == "OutOfService"
    assert "升级前的备份没有做成" in seen["text"] and "backup made first failed" in seen["text"]
    assert sha(path) == before
