"""The counter sees what the customer saw (issue 18, item 4), through Pilot (no sleeps; the steps
dated by hand): the urgent tier and its promise on the institute's clock, each line's amount with
its free reason and urgent surcharge, discounts as their own lines, the sum that makes the total;
status words by service (检定中 / 校准中) at the desk and on the lobby's progress screen; and the
pickup slip's QR, read back from the printer's bytes, taken by the lobby's progress and feedback
screens."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from textual.widgets import Input

from db.models import Ticket
from kiosk.i18n import money
from kiosk.settings.config import load_config
from screens.clerk.app import DeskApp
from screens.clerk.dispatch import DispatchScreen
from screens.clerk.receiving import ReceivingScreen

from .kiosk_pilot import make_app, screen_text, settle
from .test_desk_app import PIN, sign_in

REGISTERED = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 09:30 in the institute's zone (Asia/Shanghai)
RECEIVED = datetime(2026, 11, 24, 2, 15, tzinfo=UTC)  # 10:15 there: the 24 h promise is 25 Nov 10:15


def lines(*, meters: int = 2):
    """Three gauges free (compulsory verification in safety protection), a 7.5 m tape, and
    calibrated multimeters (7 ranges, AC+DC): two services, one free line."""
    from kiosk.domain.fees import LineRequest
    from kiosk.store.registration import InstrumentLine

    return (InstrumentLine(LineRequest("L-001-001", quantity=3, use="safety")),
            InstrumentLine(LineRequest("C-003-001", metres=Decimal("7.5"))),
            InstrumentLine(LineRequest("D-002-001", ranges=7, ac_dc=True, quantity=meters)))


def prepare(urgent: str | None = "24h", meters: int = 2, steps: tuple[str, ...] = ()):
    """The desk's database with one ticket registered at REGISTERED (and taken through `steps`,
    dated), and the clerk; the ticket as stored."""
    from db.connection import open_database
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import mark_ready, receive
    from kiosk.store.registration import ensure_device, register

    from .test_registration import sample

    config = load_config()
    config.database.parent.mkdir(parents=True, exist_ok=True)
    db = open_database(config.database)
    ensure_catalog()
    device = ensure_device("K1")
    ticket = register(sample(lines=lines(meters=meters), urgent=urgent), load_catalog(), default_policy(), device,
                      now=REGISTERED)
    clerk = add_clerk("wang", "王芳", PIN)
    for step in steps:
        {"received": lambda: receive(ticket.id, clerk, device, now=RECEIVED),
         "ready": lambda: mark_ready(ticket.id, clerk, device, now=RECEIVED)}[step]()
    db.close()
    return ticket


def desk(language: str) -> DeskApp:
    config = replace(load_config(), language=language, printer_uri="preview://receipts")
    app = DeskApp(config)
    app.animation_level = "none"
    return app


def row_texts(app) -> list[str]:
    from textual.widgets import DataTable

    table = app.screen.query_one("#desk-lines", DataTable)
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_receiving_counter_shows_the_urgent_tier_each_lines_surcharge_and_the_sum(lang):
    ticket = prepare()
    est = ticket.estimate
    assert est.urgent_fen and est.waived_fen  # the case of the issue: lines alone do not add up to the total
    app = desk(lang)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot)
        await pilot.press(*ticket.number, "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceivingScreen)
        text, rows = screen_text(app), row_texts(app)
        gauges, tape, meters = rows
        notes = str(app.screen.query_one("#desk-notes").render())
        lines_sum, urgent, total = (money(f, lang) for f in (est.subtotal_fen, est.urgent_fen, est.total_fen))
        assert f"| {money(est.lines[1].amount_fen, lang)} |" in tape  # the amount column: before urgent
        assert f"| {money(est.lines[2].amount_fen, lang)} |" in meters
        if lang == "zh":
            # not received yet: the hours count from the intake
            assert "加急24小时：收件后24小时内出具证书" in text
            assert "| 免费 |" in gauges
            assert "1. 强制检定免费（安全防护）；强制检定不收加急费" in notes
            assert f"2. 超长3米 ￥6.00；加急24h加收100% {money(est.lines[1].urgent_fen, lang)}" in notes
            assert "交直流加收50%" in notes and f"加急24h加收100% {money(est.lines[2].urgent_fen, lang)}" in notes
            assert f"项目{lines_sum} + 加急24小时加收{urgent} = 预估合计{total}" in text
            assert f"（免收强制检定费{money(est.waived_fen, lang)}）" in text
        else:
            assert "Urgent 24 h: certificates within 24 h of intake" in text
            assert "| Free |" in gauges and "1. Free: compulsory verification (safety protection)" in notes
            assert f"Urgent 24h +100% {money(est.lines[2].urgent_fen, lang)}" in notes
            assert f"lines {lines_sum} + urgent 24 h {urgent} = Estimated total {total}" in text
        assert sum(ln.amount_fen for ln in est.lines) + est.urgent_fen == est.total_fen  # what the line says


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_dispatch_shows_the_promise_on_the_institutes_clock_and_the_status_by_service(lang):
    ticket = prepare(steps=("received",))
    app = desk(lang)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press(*ticket.number, "enter")
        await settle(pilot)
        assert isinstance(app.screen, DispatchScreen)
        text, rows = screen_text(app), row_texts(app)
        if lang == "zh":
            # received 10:15 Beijing time (02:15 UTC): 24 h later, on the institute's clock
            assert "加急24小时：承诺2026年11月25日 10:15前出具证书" in text
            assert "已收件，检定中、校准中" in text  # two services: each named, in the catalogue's order
            assert [r.split(" | ")[1] for r in rows] == ["检定中", "检定中", "校准中"]
        else:
            assert "Urgent 24 h: certificates promised by 10:15 on 25 Nov 2026" in text
            assert "received, verifying/calibrating" in text
            assert [r.split(" | ")[1] for r in rows] == ["verifying", "verifying", "calibrating"]
        # F7 before ready: the status in the refusal is the same words
        await pilot.press("f7")
        await settle(pilot)
        assert ("该受理单已收件，检定中、校准中，还不能取件" if lang == "zh"
                else "This ticket is received, verifying/calibrating; it cannot be picked up yet"
                ) in screen_text(app)


async def test_a_discount_is_a_line_of_its_own_and_the_sum_takes_it_off():
    ticket = prepare(urgent=None, meters=10)  # ten multimeters: the batch discount
    est = ticket.estimate
    assert est.discounts and not est.urgent_fen
    app = desk("zh")
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot)
        await pilot.press(*ticket.number, "enter")
        await settle(pilot)
        rows, text = row_texts(app), screen_text(app)
        notes = str(app.screen.query_one("#desk-notes").render())
        # under the lines, a line of its own (a policy's long name never pushes the table's columns away)
        assert len(rows) == 3 and notes.splitlines()[-1] == (
            f"优惠：{est.discounts[0].name_zh}（第3行）{money(est.discounts[0].amount_fen, 'zh')}")
        assert (f"项目{money(est.subtotal_fen, 'zh')} - 优惠{money(-est.discount_fen, 'zh')} = "
                f"预估合计{money(est.total_fen, 'zh')}") in text
        # no urgent tier: the receipt's date only (registration + the ticket's turnaround, in working days)
        assert "加急" not in text and "\n预计2026年12月3日完成\n" in text and est.turnaround_days == 7


def test_status_words_have_one_owner_and_every_service_its_word():
    from kiosk.domain.vocabulary import SERVICES
    from kiosk.i18n import keys
    from kiosk.i18n.status_text import status_text, work_text

    assert set(keys.WORK_STATES) == set(SERVICES)
    assert [work_text([s], "zh") for s in SERVICES] == ["检定中", "校准中", "检测中", "修理中"]
    assert status_text("received", ["repair", "verification", "repair"], "zh") == "已收件，检定中、修理中"
    assert status_text("received", ["testing"], "en") == "received, testing"
    assert status_text("received", [], "zh") == "已收件，办理中"  # nothing known of its lines
    assert status_text("ready", ["calibration"], "zh") == "可取件"


# ---- certificate numbers: one per instrument, old steps still read ---------------------------------


def test_certificates_are_per_instrument_and_a_lines_single_number_still_reads():
    import msgspec

    from kiosk.domain import events
    from kiosk.domain.intake import certificates_of

    strict = events.strict(events.PickedUp)
    base = {"event": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "ticket": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
            "number": "K1-261124-0001", "device": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d",
            "clerk": {"username": "wang", "name": "王芳"}, "at": "2026-11-24T02:15:00+00:00"}
    new = msgspec.json.decode(msgspec.json.encode(base | {"certificates": {"0": ["JD-1", "", "JD-3"]}}), type=strict)
    old = msgspec.json.decode(msgspec.json.encode(base | {"certificates": {"0": "JD-1"}}), type=strict)
    assert certificates_of(msgspec.to_builtins(new)) == {0: ("JD-1", "", "JD-3")}
    assert certificates_of(msgspec.to_builtins(old)) == {0: ("JD-1",)}  # written before this change
    with pytest.raises(msgspec.ValidationError):  # central's limits hold for each instrument's number
        msgspec.json.decode(msgspec.json.encode(base | {"certificates": {"0": ["N" * 41]}}), type=strict)


def test_pick_up_refuses_more_numbers_than_instruments_and_writes_nothing():
    from db.models import TicketEvent
    from kiosk.store.desk import TransitionError, pick_up
    from kiosk.store.registration import ensure_device

    from .test_desk_intake import stored

    ticket = prepare(steps=("received", "ready"))
    from db.connection import open_database
    from db.models import Clerk

    db = open_database(load_config().database)
    device, clerk = ensure_device("K1"), Clerk.get()
    before = stored()
    with pytest.raises(TransitionError) as refused:
        pick_up(ticket.id, clerk, device, {1: ["T-1", "T-2"]})  # the tape is one instrument
    assert refused.value.kind == "bad_certificates" and stored() == before
    pick_up(ticket.id, clerk, device, {0: ["G-1", "G-2", "G-3"], 1: "T-1"})
    payload = TicketEvent.get((TicketEvent.ticket == ticket.id) & (TicketEvent.kind == "picked_up")).payload
    assert '"0":["G-1","G-2","G-3"]' in payload.replace(" ", "") and '"1":["T-1"]' in payload.replace(" ", "")
    db.close()


# ---- the pickup slip's QR, read back from the printer's bytes, at the lobby --------------------------


def printed_slip_qr(ticket_id: int, profile: str) -> str:
    """The pickup slip's QR as the printer got it: the data of a native QR command, or the
    raster image decoded by zxing-cpp (as tests/test_printer_escpos.py decodes one)."""
    from kiosk.printing.receipts import job_document
    from kiosk.settings.institute import load_institute
    from printer.escpos_render import render_escpos
    from printer.fonts import BUNDLED_FONT
    from printer.profiles import PROFILES

    from .escpos_stream import commands, parse, qr_stores, raster_image

    data = render_escpos(job_document("pickup_slip", ticket_id, load_institute(None), "zh"), PROFILES[profile],
                         font=BUNDLED_FONT)
    items = parse(data)
    native = qr_stores(items)
    if native:
        (code,) = native
        return code.decode("ascii")
    import zxingcpp
    from PIL import ImageOps

    qr = max((raster_image(c) for c in commands(items, "GS v 0")), key=lambda image: image.height)
    framed = ImageOps.expand(qr.convert("L"), border=40, fill=255)  # the quiet zone a scanner sees on paper
    (found,) = zxingcpp.read_barcodes(framed, formats=zxingcpp.BarcodeFormat.QRCode)
    return found.text


@pytest.mark.parametrize("profile", ["58mm", "58mm-raster"])
async def test_the_pickup_slips_qr_is_read_by_the_lobbys_progress_and_feedback_screens(profile):
    from db.connection import open_database
    from db.models import Clerk
    from kiosk.store.desk import pick_up
    from kiosk.store.registration import ensure_device
    from screens.feedback import FeedbackStartScreen, RatingScreen
    from screens.progress import ProgressScreen

    ticket = prepare(steps=("received", "ready"))
    db = open_database(load_config().database)
    pick_up(ticket.id, Clerk.get(), ensure_device("K1"), now=RECEIVED)
    qr = printed_slip_qr(ticket.id, profile)
    assert qr == Ticket.get_by_id(ticket.id).code  # the ticket's signed code: it proves the holder
    db.close()

    app = make_app("zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(ProgressScreen(now=RECEIVED))
        await settle(pilot)
        app.screen.query_one("#field-scan", Input).value = qr  # a scanner's burst
        await pilot.press("enter")
        await settle(pilot)
        assert f"受理单 {ticket.number}" in screen_text(app) and "已取件" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        app.push_screen(FeedbackStartScreen())
        await settle(pilot)
        app.screen.query_one("#field-scan", Input).value = qr
        await pilot.press("enter")
        await settle(pilot)
        # the signed code: straight to the rating, no phone check
        assert isinstance(app.screen, RatingScreen) and ticket.number in screen_text(app)


async def test_the_lobby_progress_screen_says_the_desks_words_in_the_lab():
    from screens.progress import ProgressScreen

    ticket = prepare(steps=("received",))
    for lang, words in (("zh", "已收件，检定中、校准中。"), ("en", "; the laboratory is verifying/calibrating.")):
        app = make_app(lang)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.push_screen(ProgressScreen(now=RECEIVED))
            await settle(pilot)
            app.screen.query_one("#field-scan", Input).value = ticket.number
            await pilot.press("enter")
            await settle(pilot)
            assert words in screen_text(app)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_desk_that_never_synced_shows_the_codes_urgent_tier_and_free_line(lang):
    """The kiosk has not synced: the ticket comes from its signed code alone, and the counter
    still shows the tier, the free reason and the sum the customer's receipt showed."""
    from db.connection import open_database

    from .test_desk import foreign_code

    prepare()  # this desk's database and clerk (its own ticket is not the one scanned)
    db = open_database(load_config().database)
    code = foreign_code(number="K9Z-261124-0003", urgent="8h",
                        lines=(("L-001-001", 2, "verification", "safety"), ("C-003-001", 1, "verification", "other")))
    db.close()
    app = desk(lang)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot)
        app.screen.scan_field.buffer = code  # a scanner's burst (typed key by key, tests/test_desk_app.py)
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        notes = str(app.screen.query_one("#desk-notes").render())
        if lang == "zh":
            assert "K9Z-261124-0003" in text and "加急8小时：收件后8小时内出具证书" in text
            assert "1. 强制检定免费（安全防护）" in notes and "2. 加急8h加收150%" in notes
            assert "+ 加急8小时加收" in text
        else:
            assert "Urgent 8 h: certificates within 8 h of intake" in text
            assert "1. Free: compulsory verification (safety protection)" in notes and "2. Urgent 8h +150%" in notes
