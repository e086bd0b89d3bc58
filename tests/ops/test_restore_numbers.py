"""`kiosk restore` never lets a kiosk issue again a ticket number it issued after the backup
was taken (issue 17: a restored kiosk reissued a number under a new uid, and every desk
stopped on it). Today's sequence, on the institute's clock, jumps: the next number is 5001 or
more, and 1000 past the highest sequence known today (the backup's, and the replaced
database's when it can be read), said on the terminal and in the log (kiosk/store/numbering.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from db.backup import backup_database
from db.connection import open_database
from db.models import database_proxy

from .conftest import registration, ticket_numbers
from .test_failures import damage

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 09:30 on the 24th in Shanghai
LATE = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 01:00 on the 25th in Shanghai: the institute's day is the 25th


def register_at(now: datetime) -> str:
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.registration import ensure_device, register

    ensure_catalog()
    return register(registration(), load_catalog(), default_policy(), ensure_device("K1"), now=now).number


@pytest.fixture
def site(tmp_path, monkeypatch):
    """Two tickets, a backup, three more tickets after it (all today, the clock pinned to NOW)."""
    monkeypatch.setattr("kiosk.domain.clock.utc_now", lambda: NOW)  # the restore's "today"
    path = tmp_path / "k.sqlite3"  # the `run` fixture's --db
    open_database(path)
    before = [register_at(NOW) for _ in range(2)]
    backup = backup_database(path, tmp_path / "elsewhere")
    after = [register_at(NOW) for _ in range(3)]
    database_proxy.close()
    return path, backup, before, after


def test_after_a_restore_today_s_numbers_jump_past_those_issued_after_the_backup(run, site, caplog):
    path, backup, before, after = site
    assert after == ["K1-261124-0003", "K1-261124-0004", "K1-261124-0005"]
    caplog.set_level(logging.WARNING)
    status, out, _ = run("restore", str(backup))
    assert status == 0 and "今天的受理号从 K1-261124-5001 接着编：备份之后本机已发出的号码不会再发" in out
    assert any("today's ticket numbers go on from K1-261124-5001 (highest sequence known today: 5)" in r.getMessage()
               for r in caplog.records)
    assert ticket_numbers(path) == before  # the backup's tickets, and nothing else
    open_database(path)
    assert register_at(NOW) == "K1-261124-5001" and register_at(NOW) == "K1-261124-5002"
    database_proxy.close()

    # Restored again the same day, from the same backup: on past the first restore's numbers.
    status, out, _ = run("restore", str(backup), "--lang", "en")
    assert status == 0 and "Today's ticket numbers go on from K1-261124-6003" in out
    open_database(path)
    assert register_at(NOW) == "K1-261124-6003"
    database_proxy.close()


def test_the_replaced_database_unreadable_the_jump_alone_keeps_numbers_apart(run, site):
    path, backup, _, after = site
    damage(path, "counter")  # what was issued today can no longer be read from it
    status, out, _ = run("restore", str(backup))
    assert status == 0 and "K1-261124-5001" in out
    open_database(path)
    assert register_at(NOW) == "K1-261124-5001" not in after
    database_proxy.close()


def test_the_jump_is_on_the_institute_s_day(db):
    """At 17:00 UTC it is already tomorrow in Shanghai: tomorrow's sequence is the one that jumps."""
    from kiosk.store.numbering import jump_after_restore

    assert register_at(LATE) == "K1-261125-0001"
    assert jump_after_restore(now=LATE) == ("K1-261125-5001", 1)
    assert register_at(LATE) == "K1-261125-5001"
    assert register_at(NOW) == "K1-261124-0001"  # the day before: untouched (no new numbers go to it anyway)


def test_a_database_that_never_numbered_anything_is_left_as_it_is(db):
    from kiosk.store.numbering import jump_after_restore

    assert jump_after_restore(now=NOW) is None
