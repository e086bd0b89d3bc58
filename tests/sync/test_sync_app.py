"""The running kiosk syncs by itself, never blocks on the network, and says quietly whether
it is online and how many facts wait to be sent."""

from __future__ import annotations

import socket

from db.models import OutboxEvent

from ..kiosk_pilot import make_app, register_one, screen_text, settle, sync_until
from .conftest import central_event_uids


def _enrolled_kiosk(nodes, central, url=None):
    """A kiosk database enrolled with central (then pointed at `url`, if given)."""
    from kiosk.sync.enrolment import enrolment, save_enrolment

    kiosk = nodes("kiosk")
    with kiosk.open():
        kiosk.enroll(central)
        if url:
            enrolled = enrolment()
            save_enrolment(url, enrolled.token, enrolled.role, enrolled.expires_at)
    return kiosk


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens there once closed


async def test_a_registration_reaches_central_by_itself(central, nodes):
    kiosk = _enrolled_kiosk(nodes, central)
    app = make_app(database=kiosk.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        state = await sync_until(pilot, lambda s: s.online)
        assert "已联网" in screen_text(app) and state.waiting == 0
        await register_one(pilot)
        state = await sync_until(pilot, lambda s: s.online and s.waiting == 0 and central_event_uids(central.storage))
        uids = [e.uid for e in OutboxEvent.select()]
    assert central_event_uids(central.storage) == uids and len(uids) == 1


async def test_offline_the_kiosk_registers_and_says_what_waits(central, nodes):
    kiosk = _enrolled_kiosk(nodes, central, url=_closed_port())
    app = make_app(database=kiosk.path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await register_one(pilot)
        assert "受理号" in screen_text(app) or app.screen.__class__.__name__ == "TicketScreen"
        state = await sync_until(pilot, lambda s: s.online is False and s.waiting == 1)
        assert "离线，待上传1条" in screen_text(app)
        app.action_toggle_language()
        await pilot.pause()
        assert "Offline, 1 to send" in screen_text(app)
    assert state.parked == 0
    assert central_event_uids(central.storage) == []


async def test_a_kiosk_on_its_own_shows_no_indicator():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # no indicator: none is made until the station syncs (screens/base.py show_sync)
        assert not any(shown.display for shown in app.screen.query(".sync")) and not app.sync_state.enrolled


async def test_a_new_fee_schedule_waits_until_the_customer_is_done():
    """An estimate in progress keeps the version it began with; the next customer gets the new one."""
    from kiosk.store.catalog import export_csv, import_csv

    from ..kiosk_pilot import to_estimate

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await to_estimate(pilot)
        old = app.catalog.version
        new = await app.in_db_thread(lambda: import_csv(export_csv().replace("30.00", "35.00", 1), "sync"))
        app.catalog_arrived([new])
        await settle(pilot)
        assert app.catalog.version == old  # mid-estimate: unchanged
        app.wipe()
        await settle(pilot)
        assert app.catalog.version == new and app.catalog.by_code["L-001-001"].price_fen == 3500
