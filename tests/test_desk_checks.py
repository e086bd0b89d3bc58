"""Certificate checks at the dispatch counter (issue 23), driven through Pilot (no sleeps: `settle`
waits for the workers): a pass, a return and its re-check, a customer taking one as it is, the pickup
waiting for a returned certificate, a failed verification's notice on the slip; snapshots in zh and
en at 80x24."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from db.models import CertificateCheck, OutboxEvent, Ticket
from kiosk.settings.config import load_config
from screens.clerk.app import DeskApp
from screens.clerk.checks import CertificateCheckScreen
from screens.clerk.dispatch import DispatchScreen

from .kiosk_pilot import screen_text, settle
from .test_desk_app import prepare, sign_in

SMALL = (80, 24)
RECEIVED = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Guiyang
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00: a return is promised by Tuesday 12-01


def make_desk(language: str = "zh", *, ready: bool = True, **settings) -> tuple[DeskApp, str]:
    """A ticket taken in (3 pressure gauges verified, a tape measure calibrated) and marked ready;
    `settings`: the configuration's, changed."""
    from db.connection import open_database
    from kiosk.store.clerks import list_clerks
    from kiosk.store.desk import mark_ready, receive
    from kiosk.store.registration import ensure_device

    config = replace(load_config(), language=language, printer_uri="preview://receipts", **settings)
    config.database.parent.mkdir(parents=True, exist_ok=True)
    (number,) = prepare(config)
    db = open_database(config.database)
    ticket = Ticket.get(Ticket.number == number)
    device, clerk = ensure_device("K1"), list_clerks()[0]
    receive(ticket.id, clerk, device, now=RECEIVED)
    if ready:  # ready today, whatever the day: the dispatch screen behind the checks says nothing of a wait
        mark_ready(ticket.id, clerk, device)
    db.close()
    app = DeskApp(config)
    app.animation_level = "none"
    app.wall_now = lambda: NOW  # the injected clock: returns are promised in working days from it
    return app, number


async def scan(pilot, text: str) -> None:
    await pilot.press(*text, "enter")
    await settle(pilot)


async def open_checks(pilot, number: str) -> CertificateCheckScreen:
    await sign_in(pilot)
    await pilot.press("f3")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DispatchScreen)
    await scan(pilot, number)
    await pilot.press("f5")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CertificateCheckScreen)
    return pilot.app.screen


async def tap(pilot, selector: str) -> None:
    await pilot.click(selector)
    await settle(pilot)


async def check(pilot, number: str, conclusion: str | None = None, wrong=(), why: str = "") -> None:
    """One certificate: its number scanned (Enter), its conclusion and wrong points tapped, words, F5."""
    screen = pilot.app.screen
    screen.query_one("#check-number").value = ""
    await pilot.press(*number, "enter")
    if conclusion:
        await tap(pilot, f"#conclusion-{conclusion}")
    for point in wrong:
        await tap(pilot, f"#point-{point}")
    if why:
        await pilot.press(*why)
    await pilot.press("f5")
    await settle(pilot)


def rows() -> list[tuple]:
    return [(r.position, r.instrument, r.kind, r.outcome, r.wrong, r.certificate)
            for r in CertificateCheck.select().order_by(CertificateCheck.id)]


async def test_pass_return_and_recheck_and_the_pickup_waits_meanwhile():
    app, number = make_desk()
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_checks(pilot, number)
        assert len(screen.rows) == 4  # 3 gauges, 1 tape
        assert "证书单位：示范燃气有限公司" in screen_text(app)
        await check(pilot, "JD-2026-0001", "pass")
        assert "第1-1台证书核对无误" in screen_text(app) and screen.row == 1
        await check(pilot, "JD-2026-0002", "pass", ("serial",), "编号错")
        text = screen_text(app)
        assert "第1-2台证书退回更正（编号），2026-12-01前改好" in text and "退回更正，12-01前" in text
        assert screen.row == 2
        await check(pilot, "JD-2026-0003")  # no conclusion: a missing conclusion sends it back
        await check(pilot, "JC-2026-0004", "pass", ("holder",))
        assert [r[3] for r in rows()] == ["passed", "returned", "returned", "returned"]
        assert rows()[2][4] == "conclusion" and rows()[3][4] == "holder"
        assert "核对4/4，退回待更正3" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert "有3份证书退回更正" in screen_text(app)  # said on the dispatch screen
        await pilot.press("f7")  # the pickup waits
        await settle(pilot)
        assert Ticket.get(Ticket.number == number).status == "ready"
        assert "有3份证书退回更正" in screen_text(app)
        # The corrected certificates come back: checked again.
        await pilot.press("f5")
        await settle(pilot)
        screen = app.screen
        await pilot.press("down")  # to 1-2
        await check(pilot, "JD-2026-0002", "pass")
        await check(pilot, "JD-2026-0003", "pass")
        await check(pilot, "JC-2026-0004", "pass")
        assert "核对4/4，退回待更正0" in screen_text(app)
        rechecks = [r for r in CertificateCheck.select().where(CertificateCheck.refers_to.is_null(False))]
        assert len(rechecks) == 3
        await pilot.press("escape", "f7")
        await settle(pilot)
        assert Ticket.get(Ticket.number == number).status == "picked_up"
        assert OutboxEvent.select().where(OutboxEvent.kind == "certificate.checked").count() == 7
        # The numbers checked went with the pickup, for its slip.
        picked_up = json.loads(OutboxEvent.get(OutboxEvent.kind == "ticket.picked_up").payload)
        assert picked_up["certificates"] == {"0": ["JD-2026-0001", "JD-2026-0002", "JD-2026-0003"],
                                             "1": ["JC-2026-0004"]}


async def test_the_correction_promise_is_the_desks_setting():
    app, number = make_desk(correction_days=5)  # kiosk.correction_days (default 2)
    async with app.run_test(size=SMALL) as pilot:
        await open_checks(pilot, number)
        await check(pilot, "JD-2026-0001", "pass", ("serial",), "编号错")
        assert "第1-1台证书退回更正（编号），2026-12-04前改好" in screen_text(app)  # 5 working days, not 2
        payload = json.loads(OutboxEvent.get(OutboxEvent.kind == "certificate.checked").payload)
        assert payload["promised_on"] == "2026-12-04"


async def test_the_customer_takes_a_returned_certificate_as_it_is():
    app, number = make_desk("en")
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_checks(pilot, number)
        for _ in range(3):
            await check(pilot, "JD-1", "pass")
        await check(pilot, "JC-1", "pass", ("holder",), "short name")
        assert "Certificate 2 returned (Holder), corrected by" in screen_text(app)
        assert screen.row == 3
        await pilot.press("f6")  # the customer takes it: the words are the clerk's note
        await settle(pilot)
        assert "Certificate 2 taken as it is by the customer" in screen_text(app)
        taken = CertificateCheck.get(CertificateCheck.kind == "taken_as_is")
        assert taken.reason == "" and taken.refers_to is not None
        payload = json.loads(OutboxEvent.get(OutboxEvent.kind == "certificate.taken_as_is").payload)
        assert payload["line"] == 1 and payload["clerk"]["username"] == "wang"
        await pilot.press("f6")  # not returned now
        await settle(pilot)
        assert "This certificate was not returned" in screen_text(app)
        await pilot.press("escape", "f7")
        await settle(pilot)
        assert Ticket.get(Ticket.number == number).status == "picked_up"


async def test_a_failed_verification_gets_a_notice_on_the_slip():
    from kiosk.printing.receipts import job_document
    from kiosk.settings.institute import load_institute
    from printer.document import Row, Text

    app, number = make_desk()
    async with app.run_test(size=SMALL) as pilot:
        await open_checks(pilot, number)
        await check(pilot, "TZ-2026-0001", "fail")
        assert "第1-1台检定不合格：出具检定结果通知书" in screen_text(app)
        for _ in range(2):
            await check(pilot, "JD-1", "pass")
        await check(pilot, "JC-1", "pass")
        await pilot.press("escape", "f7")
        await settle(pilot)
        ticket = Ticket.get(Ticket.number == number)
        assert ticket.status == "picked_up"
        slip = job_document("pickup_slip", ticket.id, load_institute(None), "zh")
        words = " ".join(str(getattr(b, "text", "")) + str(getattr(b, "value", "")) for b in slip.blocks
                         if isinstance(b, (Row, Text)))
        assert "检定结果通知书" in words


@pytest.mark.parametrize("language", ["zh", "en"])
def test_check_screen_snapshot(snap_compare, language):
    app, number = make_desk(language)

    async def run_before(pilot):
        await open_checks(pilot, number)
        await check(pilot, "JD-2026-0001", "pass")
        await check(pilot, "JD-2026-0002", "pass", ("serial", "holder"))
        await pilot.press(*"JD-2026-0003")
        await tap(pilot, "#conclusion-pass")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)
