"""The clerk desk, driven through Pilot: PIN unlock and lockout, auto-lock, receiving by typed
number and by scan, the scanner burst, random text in the scan field, one snapshot."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.models import PrintJob, Ticket
from kiosk.settings.config import load_config
from screens.clerk.app import DeskApp
from screens.clerk.dispatch import DispatchScreen
from screens.clerk.receiving import ReceivingScreen
from screens.clerk.scan import ScanField
from screens.clerk.unlock import UnlockScreen

from .kiosk_pilot import FakeClock, screen_text, settle

PIN = "2468"
# The tickets' day: their numbers (K1-261124-0001) are drawn in the snapshots, whatever day it is.
REGISTERED = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


def prepare(config, tickets: int = 1) -> list[str]:
    """A database with registered tickets and a clerk, as the kiosk and `kiosk clerk add` left it."""
    from db.connection import open_database
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.clerks import add_clerk
    from kiosk.store.registration import ensure_device, register

    from .test_registration import sample

    db = open_database(config.database)
    ensure_catalog()
    device = ensure_device("K1")
    numbers = [register(sample(), load_catalog(), default_policy(), device, now=REGISTERED).number
               for _ in range(tickets)]
    add_clerk("wang", "王芳", PIN)
    db.close()
    return numbers


def make_desk(language="zh", clock=None, database=None, **kw) -> tuple[DeskApp, list[str]]:
    config = replace(load_config(), language=language, printer_uri="preview://receipts")
    if database is not None:
        config = replace(config, database=database)
    config.database.parent.mkdir(parents=True, exist_ok=True)
    numbers = prepare(config)
    app = DeskApp(config, clock=clock, **kw) if clock else DeskApp(config, **kw)
    app.animation_level = "none"
    return app, numbers


async def sign_in(pilot, pin: str = PIN, move: str = "enter") -> None:
    await settle(pilot)
    await pilot.press(*"wang", move, *pin, "enter")
    await settle(pilot)


def status_of(number: str) -> str:
    return Ticket.get(Ticket.number == number).status


async def test_tab_typed_fast_between_name_and_pin_moves_to_the_pin():
    """Keys arrive in a burst: the PIN typed right behind a Tab must land in the PIN field."""
    app, _ = make_desk()
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot, move="tab")
        assert isinstance(app.screen, ReceivingScreen) and app.clerk.display_name == "王芳"


async def test_unlock_then_receive_a_ticket_typed_by_number():
    app, (number,) = make_desk()
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot)
        assert isinstance(app.screen, ReceivingScreen) and app.clerk.display_name == "王芳"
        assert app.focused is app.screen.scan_field
        await pilot.press(*number.lower(), "enter")
        await settle(pilot)
        text = screen_text(app)
        assert number in text and "已登记" in text and "一般压力表" in text
        await pilot.press("f5")
        await settle(pilot)
        assert "已收件" in screen_text(app)
        assert status_of(number) == "received"
        jobs = {j.kind: j.state for j in PrintJob.select()}
        assert jobs["voucher"] in ("printed", "pending", "failed")
        # The same ticket again: recognised, not received twice.
        await pilot.press(*number, "enter")
        await settle(pilot)
        assert "由王芳收件" in screen_text(app)
        await pilot.press("f5")
        await settle(pilot)
        assert "由王芳收件" in screen_text(app)
        assert PrintJob.select().where(PrintJob.kind == "voucher").count() == 1


async def test_unknown_text_gets_a_clear_message():
    app, _ = make_desk("en")
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot)
        await pilot.press(*"HELLO", "enter")
        await settle(pilot)
        assert "Not a ticket code" in screen_text(app)
        await pilot.press("f5")
        await settle(pilot)
        assert "Scan a ticket first" in screen_text(app)


async def test_five_wrong_pins_lock_the_account():
    app, _ = make_desk("en")
    async with app.run_test(size=(100, 36)) as pilot:
        await settle(pilot)
        await pilot.press(*"wang", "enter", *"0000", "enter")
        await settle(pilot)
        assert "Wrong PIN; 4 tries left" in screen_text(app)
        for _ in range(4):
            await pilot.press(*"0000", "enter")
            await settle(pilot)
        assert "locked until" in screen_text(app)
        await pilot.press(*PIN, "enter")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen) and app.clerk is None
        assert "locked until" in screen_text(app)


async def test_the_desk_locks_itself_when_idle():
    clock = FakeClock()
    app, (number,) = make_desk(clock=clock, lock_seconds=120)
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot)
        await pilot.press(*number, "enter")
        await settle(pilot)
        clock.now += 119
        app.idle_tick()
        assert isinstance(app.screen, ReceivingScreen)
        clock.now += 1
        app.idle_tick()
        await pilot.pause()
        assert isinstance(app.screen, UnlockScreen) and app.clerk is None
        assert number not in screen_text(app)


async def test_a_valid_ticket_this_desk_never_saw_is_taken_from_its_code():
    """The kiosk has not synced and central is down: the code alone brings the ticket."""
    from db.connection import open_database

    from .test_desk import foreign_code

    app, _ = make_desk()
    db = open_database(app.config.database)
    code = foreign_code(number="K9Z-261124-0003", lines=(("L-001-001", 2, "verification", "safety"),))
    db.close()
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot)
        await pilot.press(*code, "enter")
        await settle(pilot)
        text = screen_text(app)
        assert "已按二维码内容登记" in text and "K9Z-261124-0003" in text and "一般压力表" in text
        await pilot.press("f5")
        await settle(pilot)
        assert status_of("K9Z-261124-0003") == "received"
        await pilot.press(*code, "enter")  # scanned again: the same ticket, already received
        await settle(pilot)
        assert "已收件" in screen_text(app) and Ticket.select().where(Ticket.number == "K9Z-261124-0003").count() == 1


async def test_a_scanner_burst_arrives_intact():
    """~200 characters typed as fast as the test can (faster than any scanner), then Tab."""
    app, _ = make_desk()
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot)
        code = "TK" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 6 + "Q2Z"
        await pilot.press(*code, "tab")
        await settle(pilot)
        assert app.screen.last_scan == code
        assert "损坏" in screen_text(app) or "不完整" in screen_text(app) or "不是" in screen_text(app)
        await pilot.press(*"K1 ab", "enter")
        await settle(pilot)
        assert app.screen.last_scan == "K1 ab"
        assert app.focused is app.screen.scan_field


async def test_dispatch_marks_ready_and_hands_over():
    app, (number,) = make_desk("en")
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot)
        await pilot.press(*number, "enter")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, DispatchScreen)
        await pilot.press(*number.replace("-", " "), "enter")  # the voucher's QR
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        assert "cannot be picked up yet" in screen_text(app)
        await pilot.press("f6", "f7")
        await settle(pilot)
        assert status_of(number) == "picked_up"
        assert PrintJob.select().where(PrintJob.kind == "pickup_slip").count() == 1
        assert "Picked up" in screen_text(app)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60),
                min_size=1, max_size=6))
def test_random_text_in_the_scan_field_never_crashes(tmp_path_factory, texts):
    import asyncio

    async def run():
        app, _ = make_desk("en", database=tmp_path_factory.mktemp("desk") / "k.sqlite3")
        async with app.run_test(size=(100, 36)) as pilot:
            await sign_in(pilot)
            field = app.screen.query_one(ScanField)
            for text in texts:
                for ch in text:
                    field.post_message(_key(ch))
                await pilot.press("enter")
                await settle(pilot)
            assert isinstance(app.screen, ReceivingScreen)
            assert app.focused is field

    asyncio.run(run())


def _key(ch: str):
    from textual import events

    return events.Key(ch if ch.isprintable() else "x", ch)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_receiving_screen_snapshot(snap_compare, language):
    app, (number,) = make_desk(language)

    async def run_before(pilot):
        await sign_in(pilot)
        await pilot.press(*number, "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(100, 32), run_before=run_before)


async def test_the_status_line_names_the_printer_and_the_sync_state():
    """Printer, sync backlog and the last sync, at the bottom of the counter screens."""
    from datetime import datetime

    from screens.station import SyncState, SyncStateChanged

    app, _ = make_desk()
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot)
        status = app.screen.query_one(".desk-status")
        assert str(status.render()) == "打印机正常 · 单机运行，未接入中心系统"
        app.post_message(SyncStateChanged(SyncState(True, False, 12, 1, datetime(2026, 11, 24, 14, 5))))
        await pilot.pause()
        assert str(status.render()) == "打印机正常 · 离线 · 待上传12条 · 1条被中心拒收 · 上次同步14:05"
        await pilot.click(".language")  # the language button: the line follows
        await pilot.pause()
        assert str(status.render()) == "Printer ok · Offline · 12 to send · 1 refused by central · last sync 14:05"


async def test_a_printer_that_is_not_there_shows_on_the_status_line_in_red(tmp_path):
    app, _ = make_desk()
    app.config = replace(app.config, printer_uri=f"file://{tmp_path}/unplugged/lp0")
    async with app.run_test(size=(100, 36)) as pilot:
        await sign_in(pilot)
        status = app.screen.query_one(".desk-status")
        assert app.printer_status.level == "fail"
        assert str(status.render()).startswith("打印机：打印机未开机或未连接 · ")
        assert status.has_class("-fault")
