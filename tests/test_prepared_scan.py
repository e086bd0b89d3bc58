"""A registration prepared at home, scanned on the kiosk's welcome screen (screens/prepared.py): a
keyboard-wedge scanner types each part and Enter; every step fills, the estimate shows, the customer
confirms and gets the ticket. The code is untrusted input: every value checked as if typed, and a
damaged, altered or oversized code said in plain words, in zh and en. Offline: nothing here reaches
a network (no central configured)."""

from __future__ import annotations

import base64
import zlib
from dataclasses import replace
from decimal import Decimal

import pytest
from textual import events

from bench.prepared import registration
from db.models import PrintJob, Ticket, TicketLine
from kiosk.domain import prepared as pc
from kiosk.domain.prepared import PreparedInstrument, PreparedRegistration, encode
from kiosk.i18n import t
from screens.customer import CustomerScreen
from screens.estimate import EstimateScreen
from screens.prepared import ERRORS, PreparedProblems, PreparedStatus
from screens.ticket import TicketScreen

from .kiosk_pilot import FakeClock, make_app, screen_text, settle

SMALL = PreparedRegistration(
    organisation="遵义市红花岗区惠民农贸市场管理有限公司", contact="刘芳", phone="138 8521 0042",
    instruments=(
        PreparedInstrument("Z-002-001", "verification", 6, "trade", name="电子计价秤", model="ACS-15",
                           measuring_range="0~15kg", accuracy="III级", serial_number="JC15-88213",
                           manufacturer="上海友声衡器有限公司", location="水产区"),
        PreparedInstrument("D-002-002", "calibration", 1, "other", ranges=7, model="Fluke 17B+",
                           serial_number="45890213", requirements="请出具校准曲线"),
    ))


async def scan(pilot, text: str, end: str = "enter") -> None:
    """As a keyboard-wedge scanner types: one key per character, then Enter (or Tab)."""
    for ch in text:
        pilot.app.post_message(events.Key(ch, ch))
    pilot.app.post_message(events.Key(end, "\r" if end == "enter" else "\t"))
    await pilot.pause()
    await settle(pilot)


def stack(app) -> list[str]:
    return [type(s).__name__ for s in app.screen_stack]


def receipt_qr(app, ticket) -> list[str]:
    """The receipt's QR as an independent decoder reads it off the printed preview."""
    import zxingcpp
    from PIL import Image

    job = PrintJob.get(PrintJob.ticket == ticket.id)
    image = Image.open(app.config.data_dir / "receipts" / f"{ticket.number}-{job.id}.png")
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def receipt_words(app, ticket) -> str:
    from .escpos_stream import parse, replay_lines

    job = PrintJob.get(PrintJob.ticket == ticket.id)
    data = (app.config.data_dir / "receipts" / f"{ticket.number}-{job.id}.bin").read_bytes()
    return "\n".join(replay_lines(parse(data)))


# ---- one part, to the printed ticket ---------------------------------------------------------------


async def test_one_code_fills_every_step_and_the_ticket_prints():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        [text] = encode(SMALL)
        await scan(pilot, text)
        assert stack(app) == ["WelcomeScreen", "CustomerScreen", "InstrumentsScreen", "OptionsScreen",
                              "EstimateScreen"]  # 上一步 goes back through every step, each filled
        draft = app.draft
        assert (draft.organisation, draft.contact, draft.phone) == (SMALL.organisation, "刘芳", "13885210042")
        assert [(ln.code, ln.quantity, ln.use, ln.ranges) for ln in draft.lines] == [
            ("Z-002-001", 6, "trade", None), ("D-002-002", 1, "other", 7)]
        shown = screen_text(app)
        assert "电子计价秤" in shown and "强制检定免费（贸易结算）" in shown and "加2个量程" in shown
        est = app.screen.estimate
        assert est.total_fen == 15_000  # 6 free scales, one multimeter: 120 + 2 ranges x 15

        app.screen.action_confirm()
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        ticket = Ticket.get()
        assert ticket.customer.organisation == SMALL.organisation and ticket.customer.phone == "13885210042"
        first, second = TicketLine.select().where(TicketLine.ticket == ticket).order_by(TicketLine.position)
        assert (first.code, first.quantity, first.use, first.model, first.serial_number) == (
            "Z-002-001", 6, "trade", "ACS-15", "JC15-88213")
        assert first.manufacturer == "上海友声衡器有限公司"
        # the ledger's columns the ticket has none for, for the counter (器具名称 is the catalogue's own)
        assert first.requirements == "测量范围：0~15kg；准确度等级：III级；使用地点：水产区"
        assert second.requirements == "请出具校准曲线" and second.ranges == 7
        assert receipt_qr(app, ticket) == [ticket.code]
        assert ticket.number in receipt_words(app, ticket)

        await pilot.click("#done")
        await settle(pilot)
        assert stack(app) == ["WelcomeScreen"] and app.draft.is_empty
        assert SMALL.organisation not in screen_text(app) and "刘芳" not in screen_text(app)


# ---- several parts ---------------------------------------------------------------------------------


async def test_parts_in_any_order_say_which_are_still_to_scan_then_fill():
    app = make_app("en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        reg = registration()
        parts = encode(reg, part_chars=400)
        assert len(parts) >= 4
        await scan(pilot, parts[1].lower(), end="tab")  # lower case, ended by Tab: still read
        assert isinstance(app.screen, PreparedStatus)
        missing = ", ".join(str(n) for n in range(1, len(parts) + 1) if n != 2)
        assert f"Part 2 of {len(parts)} read. Scan the other codes on your phone: {missing}." in screen_text(app)
        await pilot.press("f2")  # 中文: the box says it again in the customer's language
        await pilot.pause()
        assert f"已读取第2份，共{len(parts)}份" in screen_text(app)
        await scan(pilot, parts[1])  # the same part again: nothing new, still waiting
        for part in reversed(parts[2:]):
            await scan(pilot, part)
        assert isinstance(app.screen, PreparedStatus)
        assert f"已读取第3份，共{len(parts)}份。请接着扫描手机上的其余几份：第1份。" in screen_text(app)
        await scan(pilot, parts[0])
        assert isinstance(app.screen, EstimateScreen)
        assert len(app.draft.lines) == 10 and app.draft.prepared is None
        assert app.draft.organisation == reg.organisation and app.draft.notify


async def test_parts_pasted_at_once_fill_too():
    """A scanner in paste mode (or a desk's copy): every part in one paste, one per line."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        parts = encode(registration(), part_chars=500)
        app.post_message(events.Paste("\r\n".join(reversed(parts)) + "\r\n"))
        await pilot.pause()
        await settle(pilot)
        assert isinstance(app.screen, EstimateScreen) and len(app.draft.lines) == 10


async def test_closing_the_box_or_walking_away_forgets_the_parts():
    clock = FakeClock()
    app = make_app(clock=clock, idle_seconds=300)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        parts = encode(registration(), part_chars=400)
        await scan(pilot, parts[0])
        assert app.draft.prepared is not None and not app.draft.is_empty  # the idle timeout protects it
        await pilot.click("#prepared-close")
        await pilot.pause()
        assert stack(app) == ["WelcomeScreen"] and app.draft.prepared is None

        await scan(pilot, parts[0])
        clock.now += app.config.idle_seconds + 1
        app.idle_tick()
        await settle(pilot)
        assert stack(app) == ["WelcomeScreen"] and app.draft.is_empty
        await scan(pilot, parts[1])  # the first part is gone: this one alone is not enough
        assert isinstance(app.screen, PreparedStatus) and app.draft.lines == []


# ---- damaged, altered, oversized ---------------------------------------------------------------------


def _flip(text: str, at: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return text[:at] + letters[(letters.index(text[at]) + 1) % 32] + text[at + 1:]


def _refit(text: str, change) -> str:
    """The part's bytes changed by `change`, its CRC made right again: an altered code."""
    body = text[2:]
    data = bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))[:-4]
    change(data)
    return pc.PREFIX + base64.b32encode(bytes(data) + zlib.crc32(bytes(data)).to_bytes(4, "big")).decode().rstrip("=")


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_tampered_code_is_said_plainly_and_fills_nothing(language):
    app = make_app(language)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        [text] = encode(SMALL)
        await scan(pilot, _flip(text, 40))
        assert isinstance(app.screen, PreparedStatus)
        assert t("prepared.error.checksum", language) in screen_text(app)
        assert app.draft.lines == [] and app.draft.organisation == ""

        def edit(data: bytearray) -> None:
            data[12] ^= 0x10  # inside the compressed record: the CRC fixed, the registration id not

        await scan(pilot, _refit(text, edit))
        assert t("prepared.error.checksum", language) in screen_text(app)
        assert app.draft.lines == [] and app.draft.organisation == ""
        await scan(pilot, text[:-7])  # cut short
        assert t("prepared.error.damaged", language) in screen_text(app) or \
            t("prepared.error.checksum", language) in screen_text(app)
        await scan(pilot, text)  # the good one, after all that
        assert isinstance(app.screen, EstimateScreen)


async def test_a_damaged_part_keeps_the_parts_already_read():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        parts = encode(registration(), part_chars=500)
        await scan(pilot, parts[0])
        await scan(pilot, _flip(parts[1], 100))
        shown = screen_text(app)
        assert t("prepared.error.checksum", "zh") in shown and f"已读取1份，共{len(parts)}份" in shown
        for part in parts[1:]:
            await scan(pilot, part)
        assert isinstance(app.screen, EstimateScreen)


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_an_oversized_code_is_said_plainly(language):
    app = make_app(language)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        big = encode(registration(), part_chars=3000)[0]
        assert len(big) > pc.MAX_SCAN_CHARS
        await scan(pilot, big)
        assert isinstance(app.screen, PreparedStatus)
        assert t("prepared.error.too_large", language) in screen_text(app)
        assert app.draft.lines == []
        # a newer format: said as such, not as damage
        body = bytes([9]) + b"\0" * 5 + b"from the future"
        newer = pc.PREFIX + base64.b32encode(body + zlib.crc32(body).to_bytes(4, "big")).decode().rstrip("=")
        await scan(pilot, newer)
        assert t("prepared.error.unknown_version", language) in screen_text(app)


# ---- every value checked as if typed -----------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_an_unknown_item_is_left_out_and_said_the_rest_kept(language):
    app = make_app(language)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        reg = replace(SMALL, instruments=(PreparedInstrument("X-999-999", "verification", 2, "other"),
                                          *SMALL.instruments))
        await scan(pilot, encode(reg)[0])
        assert isinstance(app.screen, PreparedProblems)
        assert stack(app)[-2] == "EstimateScreen"  # the rest is fine: the estimate is under the box
        shown = screen_text(app)
        said = t("prepared.line.unknown_item", language, code="X-999-999")
        assert t("prepared.line", language, line=1, text=said) in shown
        assert [ln.code for ln in app.draft.lines] == ["Z-002-001", "D-002-002"]
        await pilot.click("#prepared-ok")
        await pilot.pause()
        assert isinstance(app.screen, EstimateScreen)


async def test_every_field_is_checked_as_if_typed():
    """What a forged code may carry: control characters, a number that is no phone, quantities and
    points out of range, a use and an urgent tier that do not exist, add-ons a row does not price,
    a length below the mm, more text than a field takes, an item of another service."""
    app = make_app("en")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        reg = PreparedRegistration(
            organisation="Evil\x1b[2J Corp", contact="李" * 31, phone="call me", credit_code="91350100M000100Y44",
            address="x" * 101, pickup="teleport", urgent="1h", certificates=50, certificate_name="ok",
            notify=True, email="not-an-email",
            instruments=(
                PreparedInstrument("L-001-004", "verification", 5000, "safety"),  # quantity out of range
                PreparedInstrument("L-001-004", "verification", 2, "military", points=3, ac_dc=True),
                PreparedInstrument("C-003-002", "verification", 1, "other", metres=Decimal(0)),  # no length
                PreparedInstrument("R-001-002", "verification", 1, "other", points=5000, model="M" * 61),
                PreparedInstrument("L-001-004", "calibration", 1, "other"),  # the row is verification
                PreparedInstrument("\x1b]52;c;AAAA\x07", "verification", 1, "other"),
            ))
        await scan(pilot, encode(reg)[0])
        assert isinstance(app.screen, PreparedProblems)
        assert stack(app)[-2] == "CustomerScreen"  # the first step that still needs something
        draft = app.draft
        assert (draft.organisation, draft.contact, draft.phone, draft.credit_code, draft.address) == ("", "", "", "",
                                                                                                      "")
        assert draft.pickup == "in_person" and draft.urgent is None and draft.certificates == 1
        assert draft.email == "" and draft.certificate_name == "ok"
        assert [(ln.code, ln.quantity, ln.use, ln.points, ln.ac_dc, ln.metres, ln.model) for ln in draft.lines] == [
            ("L-001-004", 2, "other", None, False, None, ""),
            ("C-003-002", 1, "other", None, False, None, ""),
            ("R-001-002", 1, "other", None, False, None, ""),
        ]
        shown = screen_text(app)
        for expected in (
            "Organisation: Contains invisible control characters",
            "Contact: At most 30 characters; left empty",
            "Phone: Enter a valid mobile or landline number; left empty",
            "Credit code: ",
            "Address: At most 100 characters; left empty",
            t("prepared.pickup_bad", "en"), t("prepared.urgent_bad", "en"),
            "Certificates: Certificates: 1 to 10 copies; set to 1",
            "E-mail: This is not an e-mail address; left empty",
            "Line 1: Quantity: Quantity must be a whole number from 1 to 999; the line was left out",
            f"Line 2: {t('prepared.line.bad_use', 'en')}",
            "Line 2: Measuring points: does not apply to this item; ignored",
            "Line 2: Both AC and DC: does not apply to this item; ignored",
            "Line 3: Length (m): Length in metres",
            "Line 4: Measuring points: Points must be a whole number from 1 to 1000; left empty",
            "Line 4: Model: At most 60 characters; left empty",
            "Line 5: item L-001-004 is Verification in this kiosk's fee schedule",
            "Line 6: item ? is not in this kiosk's fee schedule",
        ):
            assert expected in shown, expected
        assert "\x1b" not in shown and "Evil" not in shown
        await pilot.press("f2")  # the list is said again in Chinese
        await pilot.pause()
        assert "第1项：数量：数量应为1到999之间的整数，这一项未填入" in screen_text(app)


async def test_too_many_lines_keep_the_first_hundred():
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        reg = replace(SMALL, instruments=tuple(
            PreparedInstrument("C-001-001", "verification", 1 + i % 9, "other", serial_number=f"{i:03d}")
            for i in range(120)))
        parts = encode(reg)
        for part in parts:
            await scan(pilot, part)
        assert isinstance(app.screen, PreparedProblems)
        assert len(app.draft.lines) == 100 and app.draft.lines[-1].serial_number == "099"
        assert t("prepared.too_many_lines", "zh", count=120, max=100) in screen_text(app)


async def test_a_code_elsewhere_than_the_welcome_screen_is_not_taken():
    """Typed into the customer step's field it is text like any other (the step checks its length)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.click("#register")
        await pilot.pause()
        [text] = encode(SMALL)
        await scan(pilot, text[:30])
        assert isinstance(app.screen, CustomerScreen) and app.draft.lines == []
        assert app.draft.organisation.startswith("YY")


def test_every_error_kind_is_worded():
    assert set(ERRORS) == set(pc.KINDS)


# ---- what the customer sees (snapshots) ----------------------------------------------------------------


async def _filled_estimate(pilot):
    await settle(pilot)
    await scan(pilot, encode(registration())[0])
    await scan(pilot, encode(registration())[1])
    assert isinstance(pilot.app.screen, EstimateScreen)


async def _problems(pilot):
    await settle(pilot)
    reg = replace(SMALL, phone="12345", instruments=(
        PreparedInstrument("X-999-999", "verification", 2, "other"),
        replace(SMALL.instruments[0], quantity=0), SMALL.instruments[1]))
    await scan(pilot, encode(reg)[0])
    assert isinstance(pilot.app.screen, PreparedProblems)


def test_filled_estimate_zh_120x40(snap_compare):
    assert snap_compare(make_app("zh"), terminal_size=(120, 40), run_before=_filled_estimate)


def test_what_was_left_out_en_80x24(snap_compare):
    assert snap_compare(make_app("en"), terminal_size=(80, 24), run_before=_problems)


def test_part_read_zh_80x24(snap_compare):
    async def one_part(pilot):
        await settle(pilot)
        await scan(pilot, encode(registration())[0])

    assert snap_compare(make_app("zh"), terminal_size=(80, 24), run_before=one_part)

