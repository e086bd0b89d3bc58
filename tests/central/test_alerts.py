"""The alerts of a central upgraded to schema 11 (central/alerts.py): its devices' rows get the
columns for what they park, unknown until each reports; the indexes the ticket page reads by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from central.alerts import alerts
from central.schema import SCHEMA_VERSION, open_storage
from central.storage import Storage, ts

from .test_schema_upgrade import indexes, make_v1, version

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_an_older_central_upgrades_and_lists_its_devices_silent_for_a_day(database_url):
    make_v1(database_url, 8)
    storage = Storage(database_url)
    try:
        with storage.transaction() as tx:
            for n, (name, seen) in enumerate((("大厅1号机", NOW - timedelta(hours=30)), ("1号窗口", NOW)), 1):
                tx.execute(
                    "INSERT INTO device (uid, name, role, prefix, public_key, enrolled_at, last_seen_at) "
                    "VALUES (?, ?, 'kiosk', ?, 'k', ?, ?)",
                    (f"0193aaaa-0000-7000-8000-00000000000{n}", name, f"K{n}", ts(NOW - timedelta(days=90)), ts(seen)),
                )
    finally:
        storage.close()
    upgraded = open_storage(database_url)
    try:
        assert version(upgraded) == SCHEMA_VERSION >= 11
        assert {"event_rating_ticket", "event_close_followup"} <= indexes(upgraded)
        found = alerts(upgraded, NOW)
        assert [(d["name"], d["hours"], d["never"]) for d in found["unsynced"]] == [("大厅1号机", 30, False)]
        assert found["parked"] == []  # nothing reported, nothing refused: nothing to say
    finally:
        upgraded.close()
