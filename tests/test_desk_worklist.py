"""在办清单 at the clerk desk, through Pilot (no sleeps: `settle` waits for the workers): F12
from a counter, late and overdue first, Enter takes a ticket to dispatch where it is marked
ready, and the list says so; snapshots in zh and en at 80x24."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from db.models import Ticket
from kiosk.domain.clock import zone
from kiosk.settings.config import load_config
from screens.clerk.app import DeskApp
from screens.clerk.dispatch import DispatchScreen
from screens.clerk.receiving import ReceivingScreen
from screens.clerk.worklist import WorklistScreen

from .kiosk_pilot import screen_text, settle
from .test_desk_app import PIN, sign_in

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=zone())  # a Wednesday

# (number, organisation, contact, phone, urgent, registered, received, ready): local times
TICKETS = [
    ("K1-261116-0001", "示范燃气（集团）有限公司", "李工", "13812345678", None,
     "2026-11-16T09:00", "2026-11-16T09:30", None),  # promised Monday 23rd: late
    ("K1-261124-0002", "贵阳市第一人民医院设备科", "张红梅", "0851-86543210", "24h",
     "2026-11-24T08:00", "2026-11-24T08:00", None),  # urgent, by 25th 08:00: late
    ("K1-261008-0003", "Guizhou Precision Instruments Co., Ltd.", "Wang Lei", "13900001111", None,
     "2026-10-08T09:00", "2026-10-08T09:10", "2026-10-20T15:00"),  # waiting 36 days
    ("K1-261123-0004", "观山湖区市场监督管理局", "赵", "13700002222", "72h",
     "2026-11-23T16:00", "2026-11-24T09:00", None),  # urgent, by Friday 09:00
    ("K1-261113-0005", "示范水务有限公司", "陈师傅", "13600003333", None,
     "2026-11-13T09:00", "2026-11-13T09:10", "2026-11-20T15:00"),  # waiting 5 days
]


def seed(config) -> None:
    from db.connection import open_database
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import mark_ready, receive
    from kiosk.store.registration import CustomerDetails, ensure_device, register

    from .test_registration import sample

    def local(text):
        return datetime.fromisoformat(text).replace(tzinfo=zone())

    db = open_database(config.database)
    ensure_catalog()
    device = ensure_device("K1")
    clerk = add_clerk("wang", "王芳", PIN)
    for number, organisation, contact, phone, urgent, registered, received, ready in TICKETS:
        reg = sample(urgent=urgent, customer=CustomerDetails(organisation, "", "贵阳市", contact, phone))
        ticket = register(reg, load_catalog(), default_policy(), device)
        # the number as it was on the day (the sequence is the day's), and that day
        Ticket.update(number=number, created_at=local(registered)).where(Ticket.id == ticket.id).execute()
        receive(ticket.id, clerk, device, now=local(received))
        if ready:
            mark_ready(ticket.id, clerk, device, now=local(ready))
    db.close()


def make_desk(language: str = "zh") -> DeskApp:
    config = replace(load_config(), language=language, printer_uri="preview://receipts")
    config.database.parent.mkdir(parents=True, exist_ok=True)
    seed(config)
    app = DeskApp(config)
    app.animation_level = "none"
    return app


async def to_worklist(pilot, now: datetime | None = NOW) -> WorklistScreen:
    await sign_in(pilot)
    if now is None:
        await pilot.press("f12")
    else:
        pilot.app.push_screen(WorklistScreen(now), pilot.app.screen.take_from_worklist)
    await settle(pilot)
    assert isinstance(pilot.app.screen, WorklistScreen)
    return pilot.app.screen


async def test_late_work_first_and_enter_takes_a_ticket_to_dispatch_to_be_marked_ready():
    app = make_desk()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await to_worklist(pilot)
        assert [i.number for i in screen.worklist.items] == [
            "K1-261116-0001", "K1-261124-0002", "K1-261008-0003", "K1-261123-0004", "K1-261113-0005"]
        text = screen_text(app)
        assert "在检3单（逾期2），待取2单（超过30天未取1）" in text
        assert "检定中 11-23 逾期" in text and "加急 11-25 08:00 逾期" in text and "待取 36天 超期" in text
        assert "13812345678" in text  # in full: the clerk calls

        await pilot.press("down", "down", "down", "enter")  # the urgent 72 h one
        await settle(pilot)
        assert isinstance(app.screen, DispatchScreen)
        assert app.screen.summary.number == "K1-261123-0004"
        await pilot.press("f6")
        await settle(pilot)
        assert Ticket.get(Ticket.number == "K1-261123-0004").status == "ready"

        await pilot.press("f12")  # the wall clock's now: waiting 0 days
        await settle(pilot)
        assert isinstance(app.screen, WorklistScreen)
        ready = next(i for i in app.screen.worklist.items if i.number == "K1-261123-0004")
        assert (ready.status, ready.late) == ("ready", False)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DispatchScreen)  # back where it was, the ticket still on it
        assert app.screen.summary.number == "K1-261123-0004"


async def test_from_receiving_a_chosen_ticket_opens_at_dispatch_and_f9_locks_from_the_list():
    from screens.clerk.unlock import UnlockScreen

    app = make_desk("en")
    async with app.run_test(size=(100, 30)) as pilot:
        await to_worklist(pilot)
        assert isinstance(app.screen_stack[-2], ReceivingScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DispatchScreen) and app.screen.summary.number == "K1-261116-0001"
        await pilot.press("f12")
        await settle(pilot)
        assert isinstance(app.screen, WorklistScreen)  # the wall clock's now: how late depends on the day
        assert "In the lab 3 (" in screen_text(app) and "waiting over 30 days" in screen_text(app)
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert "13812345678" not in screen_text(app) and "K1-261116-0001" not in screen_text(app)


async def test_a_pickup_past_the_pickup_period_says_so_at_dispatch():
    app = make_desk()
    async with app.run_test(size=(100, 30)) as pilot:
        await to_worklist(pilot)
        await pilot.press("down", "down", "enter")  # ready since 20 October
        await settle(pilot)
        assert app.screen.summary.number == "K1-261008-0003"
        assert "超过30天的取件期限" in screen_text(app)
        await pilot.press("f7")
        await settle(pilot)
        assert Ticket.get(Ticket.number == "K1-261008-0003").status == "picked_up"  # said, not refused


@pytest.mark.parametrize("language", ["zh", "en"])
def test_worklist_snapshot(snap_compare, language):
    app = make_desk(language)

    async def run_before(pilot):
        await to_worklist(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
