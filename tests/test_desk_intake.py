"""The intake at the receiving counter and the certificate numbers at dispatch, driven through
Pilot (no sleeps: `settle` waits for the workers), with their snapshots; and price_intake, the
pricing the screen shows and `receive` stores."""

import json
from dataclasses import replace

import pytest

from db.models import IntakeLine, OutboxEvent, PrintJob, Ticket, TicketEvent
from kiosk.settings.config import load_config
from screens.clerk.app import DeskApp
from screens.clerk.certificates import CertificateEditor
from screens.clerk.dispatch import DispatchScreen
from screens.clerk.intake import IntakeEditor
from screens.clerk.receiving import ReceivingScreen

from .kiosk_pilot import screen_text, settle
from .test_desk_app import prepare, sign_in

DESK = (100, 32)  # the size of the other desk snapshots
SMALL = (80, 24)


def make_desk(language="zh", tickets=1):
    config = replace(load_config(), language=language, printer_uri="preview://receipts")
    config.database.parent.mkdir(parents=True, exist_ok=True)
    numbers = prepare(config, tickets)
    app = DeskApp(config)
    app.animation_level = "none"
    return app, numbers


def ticket_id(number: str) -> int:
    return Ticket.get(Ticket.number == number).id


def stored() -> dict:
    return {m.__name__: m.select().count() for m in (TicketEvent, IntakeLine, PrintJob)}


def event_payload(number: str, kind: str) -> dict:
    return json.loads(TicketEvent.get((TicketEvent.ticket == ticket_id(number)) & (TicketEvent.kind == kind)).payload)


async def scan(pilot, text: str) -> None:
    await pilot.press(*text, "enter")
    await settle(pilot)


async def tap(pilot, selector: str) -> None:
    """A tap on a choice in the editor, scrolled into view first (80x24 shows only part)."""
    pilot.app.screen.query_one(selector).scroll_visible(animate=False, immediate=True)
    await pilot.pause()
    await pilot.click(selector)


async def open_editor(pilot, line: int = 0) -> IntakeEditor:
    screen = pilot.app.screen
    steps = line - screen.cursor
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps))
    assert screen.cursor == line
    await pilot.press("f4")
    await settle(pilot)
    assert isinstance(pilot.app.screen, IntakeEditor)
    return pilot.app.screen


async def edit(pilot, line: int = 0, *, service: str | None = None, use: str | None = None, save: bool = True,
               **fields) -> IntakeEditor:
    """Open the line, change what is given (fields by name, as typed), keep it."""
    editor = await open_editor(pilot, line)
    for name, value in fields.items():
        editor.query_one(f"#field-{name}").value = value
    await pilot.pause()
    if service:
        await tap(pilot, f"#service-{service}")
    if use:
        await tap(pilot, f"#use-{use}")
    await settle(pilot)
    if save:
        editor.action_save()  # a tap on Save, at any screen size
        await settle(pilot)
    return editor


# ---- the intake at the receiving counter ---------------------------------------------------


async def test_a_corrected_line_is_priced_again_and_received_as_corrected():
    from decimal import Decimal

    from kiosk.domain.fees import EstimateRequest, LineRequest, default_policy, estimate
    from kiosk.store.catalog import load_catalog

    app, (number,) = make_desk()
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await scan(pilot, number)
        assert "预估合计￥16.00" in screen_text(app)
        # Five gauges, not three (typed with an IME: full-width), and calibrated, not verified:
        # the service picks the same gauge's calibration row.
        editor = await edit(pilot, quantity="５", service="calibration", save=False,
                            condition="表盘有划痕", accessories="无", serial_number="Ａ１-77")
        assert editor.query_one("#field-code").value == "L-001-012"
        assert "一般压力表　(0~6)MPa" in screen_text(app) and "校准" in screen_text(app)
        editor.action_save()
        await settle(pilot)
        assert isinstance(app.screen, ReceivingScreen) and app.focused is app.screen.scan_field
        expected = estimate(EstimateRequest((LineRequest("L-001-012", 5, "safety", "calibration"),
                                             LineRequest("C-003-001", 1, "other", metres=Decimal("7.5")))),
                            load_catalog().by_code, default_policy())
        assert expected.total_fen == 21600  # 5 x ￥40, and the 7.5 m tape as registered
        text = screen_text(app)
        assert "第1行已修改" in text and "已修改" in text and "L-001-012" in text
        assert "收件核定合计￥216.00（登记时￥16.00）" in text and "￥200.00" in text
        draft = app.screen.draft
        assert draft.total_fen == expected.total_fen
        await pilot.press("f5")
        await settle(pilot)
        assert "已收件" in screen_text(app)
        assert Ticket.get(Ticket.number == number).status == "received"
        lines = list(IntakeLine.select().order_by(IntakeLine.position))
        gauge = lines[0]
        assert (gauge.code, gauge.quantity, gauge.service, gauge.use) == ("L-001-012", 5, "calibration", "safety")
        assert (gauge.condition, gauge.accessories, gauge.serial_number) == ("表盘有划痕", "无", "A1-77")
        assert gauge.amount_fen == 5 * 4000 and lines[1].amount_fen == 1600
        payload = event_payload(number, "received")
        assert payload["total_fen"] == draft.total_fen == 21600
        assert payload["lines"][0]["code"] == "L-001-012" and payload["lines"][0]["quantity"] == 5
        outbox = json.loads(OutboxEvent.get(OutboxEvent.kind == "ticket.received").payload)
        assert outbox["total_fen"] == 21600 and outbox["lines"][0]["service"] == "calibration"
        voucher = PrintJob.get((PrintJob.kind == "voucher") & (PrintJob.ticket == ticket_id(number)))
        assert voucher.state in ("pending", "printed", "failed")
        # Received: the intake is shown as taken in and can no longer be changed.
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, ReceivingScreen) and "只有未收件的受理单可以修改" in screen_text(app)


async def test_a_refused_line_is_not_priced_and_not_charged():
    app, (number,) = make_desk("en")
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await scan(pilot, number)
        await pilot.press("down", "f8")  # the tape measure
        await settle(pilot)
        text = screen_text(app)
        assert "Line 2 is refused and not charged" in text and "refused" in text
        # The three gauges for safety protection are verified free: nothing left to pay.
        assert "Total as taken in ￥0.00 (registered ￥16.00)" in text
        assert app.screen.draft.amounts == (0, None)
        await pilot.press("f8")  # and back
        await settle(pilot)
        assert "Line 2 is taken in again" in screen_text(app) and app.screen.draft.total_fen == 1600
        await pilot.press("f8", "f5")
        await settle(pilot)
        assert Ticket.get(Ticket.number == number).status == "received"
        tape = IntakeLine.get(IntakeLine.position == 1)
        assert tape.refused and tape.amount_fen is None
        assert event_payload(number, "received")["total_fen"] == 0
        # The refused line does not reach the estimate the voucher prints.
        assert [ln["code"] for ln in event_payload(number, "received")["estimate"]["lines"]] == ["L-001-001"]


async def test_refused_in_the_editor_too():
    app, (number,) = make_desk()
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await scan(pilot, number)
        editor = await open_editor(pilot, 1)
        await tap(pilot, "#refused")
        editor.action_save()
        await settle(pilot)
        assert app.screen.draft.lines[1].refused and "第2行已标为拒收" in screen_text(app)


async def test_a_wrong_fee_code_gets_a_clear_message_and_nothing_is_stored():
    app, (number,) = make_desk()
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await scan(pilot, number)
        before = stored()
        editor = await edit(pilot, code="X-999-999")
        assert app.screen is editor  # not kept
        assert "价目表（第1版）中没有收费标准号X-999-999" in screen_text(app)
        assert app.focused is editor.query_one("#field-code")
        # A code as an IME types it is read, and the clerk sees what it names.
        editor.query_one("#field-code").value = "ｌ－００１－００２"
        await settle(pilot)
        assert "一般压力表　(6~60)MPa" in screen_text(app)
        # A service the instrument has no row for.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReceivingScreen) and app.focused is app.screen.scan_field
        editor = await edit(pilot, 1, service="testing")
        assert app.screen is editor and "钢卷尺没有检测收费项" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.draft.changed is False and "已修改" not in screen_text(app)
        # A fee row the service refuses (the schedule lost it, say): said, and F5 stores nothing.
        screen = app.screen
        screen.line_edited(screen.draft.ticket_id, 0, replace(screen.draft.lines[0], code="X-999-999"))
        await settle(pilot)
        assert "收件内容有误" in screen_text(app) and "X-999-999" in screen_text(app)
        await pilot.press("f5")
        await settle(pilot)
        assert "收件内容有误，未收件" in screen_text(app)
        assert stored() == before and Ticket.get(Ticket.number == number).status == "registered"


async def test_the_editor_checks_quantity_and_texts_before_the_service_does():
    app, (number,) = make_desk("en")
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await scan(pilot, number)
        editor = await edit(pilot, quantity="1000", serial_number="S" * 61, condition="bad\x1b[2J")
        assert app.screen is editor
        text = screen_text(app)
        assert "Quantity must be a whole number from 1 to 999" in text
        assert "At most 60 characters" in text
        assert "control character" in text
        assert app.focused is editor.query_one("#field-quantity")
        editor.query_one("#field-quantity").value = "１２"
        editor.query_one("#field-serial_number").value = "S" * 60
        editor.query_one("#field-condition").value = "  scratched   glass "
        editor.action_save()
        await settle(pilot)
        line = app.screen.draft.lines[0]
        assert (line.quantity, line.serial_number, line.condition) == (12, "S" * 60, "scratched glass")


async def test_the_scan_field_has_the_keyboard_except_in_the_editor():
    app, (number,) = make_desk()
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await scan(pilot, number)
        scan_field = app.screen.scan_field
        editor = await open_editor(pilot)
        assert app.focused is editor.query_one("#field-code")
        await pilot.press("tab")
        assert app.focused is editor.query_one("#field-quantity")
        await pilot.press("backspace", "4")
        assert editor.query_one("#field-quantity").value == "4" and scan_field.buffer == ""
        await pilot.press("escape")  # cancels: nothing changes
        await settle(pilot)
        assert isinstance(app.screen, ReceivingScreen) and app.focused is scan_field
        assert app.screen.draft.lines[0].quantity == 3
        await pilot.press(*"K1")
        assert scan_field.buffer == "K1"


async def test_the_intake_survives_a_language_switch_and_the_lock_closes_the_editor():
    from screens.clerk.unlock import UnlockScreen

    app, (number,) = make_desk()
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await scan(pilot, number)
        await edit(pilot, quantity="4")
        editor = await open_editor(pilot, 1)
        app.action_toggle_language()  # the title bar's language button, with the editor open
        await settle(pilot)
        assert "Correct the intake" in screen_text(app) and "Steel tape measure" in screen_text(app)
        editor.action_cancel()
        await settle(pilot)
        text = screen_text(app)
        assert "General pressure gauge" in text and "edited" in text and app.screen.draft.lines[0].quantity == 4
        await open_editor(pilot)
        await pilot.press("f9")  # locked with the editor open: nothing of the ticket stays
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen) and number not in screen_text(app)
        assert TicketEvent.select().count() == 0


async def test_scanning_another_ticket_discards_the_unsaved_intake():
    app, (first, second) = make_desk(tickets=2)
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await scan(pilot, first)
        await edit(pilot, quantity="4")
        await scan(pilot, first)  # the same ticket again: the corrections stay
        assert app.screen.draft.lines[0].quantity == 4 and "已放弃" not in screen_text(app)
        await scan(pilot, second)
        text = screen_text(app)
        assert f"受理单{first}未确认的收件修改已放弃" in text and second in text
        assert "已修改" not in text
        await scan(pilot, first)
        assert app.screen.draft.lines[0].quantity == 3 and "已放弃" not in screen_text(app)
        assert TicketEvent.select().count() == 0


async def test_tapping_a_line_twice_opens_it():
    app, (number,) = make_desk()
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await scan(pilot, number)
        table = app.screen.query_one("#desk-lines")
        table.move_cursor(row=1)
        await pilot.pause()
        table.action_select_cursor()
        await settle(pilot)
        assert isinstance(app.screen, IntakeEditor) and app.screen.index == 1


# ---- certificate numbers at dispatch -------------------------------------------------------


async def to_dispatch(pilot, number: str) -> None:
    await pilot.press("f3")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DispatchScreen)
    await scan(pilot, number)


async def test_certificate_numbers_reach_the_pickup_event_and_the_slip():
    from kiosk.printing.receipts import counter_facts, job_document
    from kiosk.settings.institute import load_institute
    from printer.document import Row

    app, (number,) = make_desk()
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await scan(pilot, number)
        await edit(pilot, service="calibration")  # 3 gauges calibrated: ￥120
        await pilot.press("f5")
        await settle(pilot)
        await to_dispatch(pilot, number)
        # Received: the lines as taken in, and the fee fixed at receiving.
        text = screen_text(app)
        assert "L-001-012" in text and "收件核定费用￥136.00" in text
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        editor = app.screen
        # One field per instrument: three gauges, then the tape.
        assert isinstance(editor, CertificateEditor) and app.focused is editor.query_one("#cert-0-0")
        assert [i.placeholder for i in editor.query("Input")] == [*(f"第{n}台（共3台）" for n in (1, 2, 3)), ""]
        await pilot.press(*"JZ-2026-0001", "enter")  # Enter moves on, like a scanner's
        assert app.focused is editor.query_one("#cert-0-1")
        await pilot.press("enter")  # the second gauge's certificate is not here yet
        await pilot.press(*"JZ-2026-0003", "enter")
        assert app.focused is editor.query_one("#cert-1-0")
        await pilot.press(*"JD-2026-0002", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DispatchScreen) and app.focused is app.screen.scan_field
        text = screen_text(app)
        assert "已记下3个证书编号" in text and "JZ-2026-0001, JZ-2026-0003" in text and "JD-2026-0002" in text
        await pilot.press("f7")
        await settle(pilot)
        assert Ticket.get(Ticket.number == number).status == "picked_up"
        assert event_payload(number, "picked_up")["certificates"] == {"0": ["JZ-2026-0001", "", "JZ-2026-0003"],
                                                                      "1": ["JD-2026-0002"]}
        outbox = json.loads(OutboxEvent.get(OutboxEvent.kind == "ticket.picked_up").payload)
        assert outbox["certificates"]["1"] == ["JD-2026-0002"]
        facts = counter_facts(ticket_id(number), "picked_up")
        assert facts.certificates == {0: ("JZ-2026-0001", "", "JZ-2026-0003"), 1: ("JD-2026-0002",)}
        slip = job_document("pickup_slip", ticket_id(number), load_institute(None), "zh")
        rows = [(b.key.strip(), b.value) for b in slip.blocks if isinstance(b, Row)]
        assert [r for r in rows if r[0].startswith("证书编号")] == [
            ("证书编号 1/3", "JZ-2026-0001"), ("证书编号 3/3", "JZ-2026-0003"), ("证书编号", "JD-2026-0002")]
        assert PrintJob.select().where(PrintJob.kind == "pickup_slip").count() == 1
        # Picked up: the numbers are shown as stored, and no longer edited.
        assert "JZ-2026-0001" in screen_text(app)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, DispatchScreen)


async def test_certificate_numbers_are_checked_and_a_refused_line_has_none():
    app, (number, other) = make_desk("en", tickets=2)
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await to_dispatch(pilot, number)
        await pilot.press("f4")  # registered, not received yet
        await settle(pilot)
        assert "Certificate numbers come after the ticket is received" in screen_text(app)
        await pilot.press("f2")
        await settle(pilot)
        await scan(pilot, number)
        await pilot.press("down", "f8", "f5")
        await settle(pilot)
        await to_dispatch(pilot, number)
        await pilot.press("f4")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, CertificateEditor)
        assert len(editor.query("Input")) == 3 and "refused, no certificate" in screen_text(app)  # 3 gauges
        editor.query_one("#cert-0-1").value = "N" * 41
        editor.action_save()
        await settle(pilot)
        assert app.screen is editor and "At most 40 characters" in screen_text(app)
        assert app.focused is editor.query_one("#cert-0-1")  # the field at fault
        editor.query_one("#cert-0-1").value = " JD-1 "
        editor.action_save()
        await settle(pilot)
        assert app.screen.certificates[2] == {0: ("", "JD-1")}
        await scan(pilot, other)  # another ticket: the numbers noted are dropped, and it says so
        assert f"Unsaved certificate numbers for {number} were discarded" in screen_text(app)
        await scan(pilot, number)
        await pilot.press("f6", "f7")
        await settle(pilot)
        assert event_payload(number, "picked_up")["certificates"] == {}


# ---- price_intake: what the screen shows is what receive stores ------------------------------


def test_price_intake_prices_like_receive_and_writes_nothing(catalog):
    from kiosk.domain.fees import default_policy
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import Intake, TransitionError, price_intake, receive, ticket_summary
    from kiosk.store.registration import ensure_device, register

    from .test_registration import sample

    device = ensure_device("K1")
    ticket = register(sample(), catalog, default_policy(), device)
    clerk = add_clerk("wang", "王芳", "2468")
    lines = ticket_summary(ticket.id).lines
    intake = Intake((replace(lines[0], quantity=5, use="other", condition="  划痕 "), replace(lines[1], refused=True)))
    before = stored()
    priced = price_intake(ticket.id, intake)
    assert stored() == before
    assert priced.amounts == (15000, None) and priced.total_fen == 15000 and priced.version == catalog.version
    assert priced.lines[0].condition == "划痕"
    assert price_intake(ticket.id).total_fen == ticket.estimate.total_fen  # as registered
    for bad in (replace(lines[0], quantity=0), replace(lines[0], quantity=1000), replace(lines[0], service="x"),
                replace(lines[0], use="x"), replace(lines[0], code="X-999-999"),
                replace(lines[0], service="calibration")):
        with pytest.raises(TransitionError) as refused:
            price_intake(ticket.id, Intake((bad,)))
        assert refused.value.kind == "bad_intake"
    done = receive(ticket.id, clerk, device, intake)
    assert done.total_fen == priced.total_fen
    assert [ln.amount_fen for ln in IntakeLine.select().order_by(IntakeLine.position)] == list(priced.amounts)


# ---- snapshots ---------------------------------------------------------------------------


async def edited_and_refused(pilot, number: str) -> None:
    await sign_in(pilot)
    await scan(pilot, number)
    await edit(pilot, quantity="5", service="calibration", serial_number="A1-77")
    await pilot.press("down", "f8")
    await settle(pilot)


@pytest.mark.parametrize("size", ["80x24", "100x32"])
def test_receiving_with_an_edited_and_a_refused_line_snapshot(snap_compare, size):
    app, (number,) = make_desk()

    async def run_before(pilot):
        await edited_and_refused(pilot, number)

    assert snap_compare(app, terminal_size={"80x24": SMALL, "100x32": DESK}[size], run_before=run_before)


def test_intake_editor_snapshot(snap_compare):
    app, (number,) = make_desk()

    async def run_before(pilot):
        await sign_in(pilot)
        await scan(pilot, number)
        await edit(pilot, save=False, quantity="５", service="calibration", condition="表盘有划痕")
        await pilot.pause()

    assert snap_compare(app, terminal_size=DESK, run_before=run_before)


def test_certificate_editor_snapshot(snap_compare):
    app, (number,) = make_desk("en")

    async def run_before(pilot):
        await edited_and_refused(pilot, number)
        await pilot.press("f5")
        await settle(pilot)
        await to_dispatch(pilot, number)
        await pilot.press("f6", "f4")
        await settle(pilot)
        await pilot.press(*"JZ-2026-0001")
        await pilot.pause()

    assert snap_compare(app, terminal_size=DESK, run_before=run_before)
