"""A real device (kiosk/sync) against a real central (uvicorn, SQLite and PostgreSQL) renews its
token by itself while it syncs, past half the token's life, stores the new one before using
it and keeps syncing; a lost answer costs nothing; a device offline for the whole lifetime is
told to enrol again, by sync and by `kiosk doctor`. One clock, moved by the test, for both."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from kiosk.domain.clock import local
from kiosk.domain.enrolment import TOKEN_LIFETIME

from .conftest import central_event_uids, register


def sync(client, node, clock):
    """One pass as the app runs it, with one Central client kept across passes."""
    from kiosk.sync.loop import sync_pass

    async def direct(fn, *args):
        return fn(*args)

    return asyncio.run(sync_pass(client, direct, node.uid, net_call=direct, now=lambda: clock.now))


def test_a_device_renews_its_token_during_sync_passes_and_keeps_syncing(central, nodes, central_clock):
    from db.models import OutboxEvent
    from kiosk.sync.client import Central, SyncError
    from kiosk.sync.enrolment import enrolment

    kiosk = nodes("kiosk")
    with kiosk.open():
        kiosk.enroll(central)
        first = enrolment()
        assert first.expires_at == central_clock.now + TOKEN_LIFETIME
        client = Central(first.url, first.token, timeout=5)
        tickets = register()
        report = sync(client, kiosk, central_clock)
        assert (report.renewed, report.pushed) == (False, 1)

        central_clock.now += timedelta(days=46)  # less than half the lifetime left
        tickets += register()
        report = sync(client, kiosk, central_clock)
        assert (report.renewed, report.pushed) == (True, 1)
        second = enrolment()  # stored, with its expiry, and used by this very pass
        assert second.token != first.token and client.token == second.token
        assert second.expires_at == central_clock.now + TOKEN_LIFETIME
        with pytest.raises(SyncError) as refused:  # the new one was used: the old one stopped
            Central(first.url, first.token, timeout=5).changes(0)
        assert (refused.value.kind, refused.value.error) == ("auth", "bad_token")

        central_clock.now += timedelta(days=14)  # 76 days left: nothing to do
        tickets += register()
        report = sync(client, kiosk, central_clock)
        assert (report.renewed, report.pushed) == (False, 1)

        central_clock.now += timedelta(days=40)  # 100 days after enrolment, past the first token's life
        tickets += register()
        report = sync(client, kiosk, central_clock)
        assert (report.renewed, report.pushed) == (True, 1)
        assert enrolment().expires_at == central_clock.now + TOKEN_LIFETIME
        assert central_event_uids(central.storage) == sorted(e.uid for e in OutboxEvent.select())
        assert len(tickets) == 4 and OutboxEvent.select().where(OutboxEvent.acked_at.is_null()).count() == 0


def test_a_lost_renewal_answer_costs_the_device_nothing(central, nodes, central_clock):
    from kiosk.sync.client import Central
    from kiosk.sync.enrolment import enrolment

    kiosk = nodes("kiosk")
    with kiosk.open():
        kiosk.enroll(central)
        enrolled = enrolment()
        central_clock.now += timedelta(days=50)
        Central(enrolled.url, enrolled.token, timeout=5).renew_token()  # renewed; the answer never arrives
        client = Central(enrolled.url, enrolled.token, timeout=5)
        register()
        report = sync(client, kiosk, central_clock)  # asks again at once: "renewed moments ago", so it syncs on
        assert (report.renewed, report.pushed) == (False, 1) and enrolment().token == enrolled.token
        central_clock.now += timedelta(minutes=5)
        register()
        report = sync(client, kiosk, central_clock)
        assert (report.renewed, report.pushed) == (True, 1) and enrolment().token != enrolled.token


def test_a_device_offline_for_the_whole_lifetime_is_told_to_enrol_again(central, nodes, central_clock, tmp_path,
                                                                      monkeypatch):
    from kiosk.ops.doctor import run_checks
    from kiosk.settings.config import load_config
    from kiosk.sync.client import Central, SyncError
    from kiosk.sync.enrolment import enrolment

    kiosk = nodes("kiosk")
    with kiosk.open():
        kiosk.enroll(central)
        enrolled = enrolment()
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(f"[database]\npath = '{kiosk.path}'\n", "utf-8")
    monkeypatch.setenv("KIOSK_CONFIG", str(config_file))
    doctor = next(c for c in run_checks(load_config()) if c.name == "central")
    until = f"{local(enrolled.expires_at):%Y-%m-%d}"
    assert doctor.level == "ok" and f"the token is valid until {until}" in doctor.message.text("en")
    assert doctor.data["token_expires_at"] == enrolled.expires_at.isoformat()

    central_clock.now += TOKEN_LIFETIME
    with kiosk.open(), pytest.raises(SyncError) as refused:
        sync(Central(enrolled.url, enrolled.token, timeout=5), kiosk, central_clock)
    assert (refused.value.kind, refused.value.error) == ("auth", "token_expired")
    doctor = next(c for c in run_checks(load_config()) if c.name == "central")
    assert doctor.level == "fail" and "has expired" in doctor.message.text("en")
    assert "凭据已过期" in doctor.message.text("zh") and "kiosk enroll" in doctor.message.text("zh")
