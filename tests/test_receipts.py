"""What a ticket receipt says: composed from the stored ticket, in the customer's language,
with no phone number in clear. (How it prints is tested in test_printer_*.)"""

from datetime import date
from decimal import Decimal

import pytest

from kiosk.domain.catalog import fee_number
from kiosk.domain.clock import zone
from kiosk.domain.fees import EstimateRequest, LineRequest, default_policy, estimate
from kiosk.domain.ticketcode import decode
from kiosk.i18n import money, quantity_text, t
from kiosk.i18n.estimate_text import line_notes
from kiosk.i18n.textwidth import cell_width
from kiosk.printing.receipts import ticket_document, ticket_facts
from kiosk.printing.spool import PrinterSettings, print_job
from kiosk.settings.institute import load_institute
from kiosk.store.keys import keys_for
from kiosk.store.registration import CustomerDetails, InstrumentLine, Registration, ensure_device, register
from printer.document import QR, Row, Table, Text
from printer.profiles import PROFILES

from .escpos_stream import parse, replay_lines
from .printer_peers import ALL_OK, TcpPrinter

TWO_LINES = (
    InstrumentLine(LineRequest("L-001-001", quantity=3, use="safety"), serial_number="A-1"),
    InstrumentLine(LineRequest("C-003-001", metres=Decimal("7.5"))),
)
# A free compulsory line, an add-on (metres over length), two add-ons (ranges, AC+DC); urgent asked.
THREE_LINES = (*TWO_LINES, InstrumentLine(LineRequest("D-002-001", ranges=7, ac_dc=True, quantity=2)))


def _registered(catalog, lines=TWO_LINES, **overrides):
    reg = Registration(
        CustomerDetails("示范燃气（集团）有限公司", "", "贵阳市观山湖区", "李工", "13812345678"),
        lines,
        **overrides,
    )
    return register(reg, catalog, default_policy(), ensure_device("K1"))


def _words(document) -> str:
    """Every text of the document, as one string (tables cell by cell)."""
    out = []
    for block in document.blocks:
        if isinstance(block, Text):
            out.append(block.text)
        elif isinstance(block, Row):
            out += [block.key, block.value]
        elif isinstance(block, Table):
            out += [c.title for c in block.columns] + [cell for row in block.rows for cell in row]
        elif isinstance(block, QR):
            out.append(f"QR:{block.data}")
    return "\n".join(out)


def test_a_ticket_receipt_has_what_the_customer_needs_at_the_counter(catalog):
    ticket = _registered(catalog, urgent="72h")
    document = ticket_document(ticket_facts(ticket.id), load_institute(), "zh")
    words = _words(document)
    big = [b for b in document.blocks if isinstance(b, Text) and b.size == 2]
    assert [b.text for b in big] == [ticket.number]  # the number, large
    assert [b.data for b in document.blocks if isinstance(b, QR)] == [ticket.code]  # the signed code
    record = decode(ticket.code, keys_for)  # verified with the device's own public key
    assert (record.ticket_uid, record.number, record.urgent) == (ticket.uid, ticket.number, "72h")
    assert ([(ln.code, ln.quantity, ln.use) for ln in record.lines]
            == [("L-001-001", 3, "safety"), ("C-003-001", 1, "other")])
    for expected in (load_institute().name("zh"), "送检受理单", "示范燃气（集团）有限公司", "138****5678",
                     "1. 一般压力表", "L-001-001 JJG 52-2013 检定", "免费", "强制检定免费（安全防护）",
                     "加急72h加收30% ￥4.80", "加急费\n￥4.80", "合计", "加急项目72小时内出具证书",
                     "请携带仪器到1号收件窗口", "取件时请出示本单或受理号", "服务评价", "以窗口确认为准"):
        assert expected in words, expected
    assert "取件方式" not in words  # in person is the rule: only posting gets a row
    assert "13812345678" not in words and "5678" in words  # masked, never in clear
    assert document.name == ticket.number  # preview files are named by the number, not the customer


def test_a_posted_ticket_says_where_the_certificates_go(catalog):
    words = _words(ticket_document(ticket_facts(_registered(catalog, pickup="post").id), load_institute(), "zh"))
    assert "取件方式\n邮寄" in words and "证书将寄往登记的地址" in words
    assert "取件时请出示本单" not in words


def test_the_receipt_is_printed_in_the_customers_language_and_reprints_the_same(catalog):
    ticket = _registered(catalog, language="en")
    facts = ticket_facts(ticket.id)
    english = _words(ticket_document(facts, load_institute(), "en"))
    assert "Instrument reception ticket" in english and "Free: compulsory verification (safety protection)" in english
    assert "送检受理单" not in english
    # built from the stored estimate: the same words however often it is built
    assert _words(ticket_document(ticket_facts(ticket.id), load_institute(), "en")) == english


def test_the_receipt_promises_the_same_ready_date_as_the_screen(catalog):
    from kiosk.i18n import date_text
    from screens.ticket import TicketView

    ticket = _registered(catalog)
    facts = ticket_facts(ticket.id)
    words = _words(ticket_document(facts, load_institute(), "zh"))
    shown = TicketView.from_registered(ticket, load_institute())
    assert shown.ready_on and f"预计完成\n{date_text(shown.ready_on, 'zh')}" in words
    assert shown.qr_data == facts.qr_data == ticket.code  # the screen's QR and the paper's are the same code


def test_a_ticket_from_before_signed_codes_prints_its_number_in_the_qr(catalog):
    from db.models import Ticket

    ticket = _registered(catalog)
    Ticket.update(code=None).where(Ticket.id == ticket.id).execute()  # as schema 5 left older tickets
    document = ticket_document(ticket_facts(ticket.id), load_institute(), "zh")
    assert [b.data for b in document.blocks if isinstance(b, QR)] == [ticket.number]


def test_the_promised_date_skips_the_institutes_holidays_on_screen_and_on_paper(catalog, tmp_path):
    """Registered on Friday 26 September 2025, before the National Day week: the ready date
    counts the worked Sunday and Saturday and none of the eight days off."""
    from dataclasses import replace
    from datetime import datetime

    from db.models import Ticket
    from kiosk.i18n import date_text
    from screens.ticket import TicketView

    from .test_feedback import HOLIDAYS_2025

    holidays = tmp_path / "holidays.txt"
    holidays.write_text(HOLIDAYS_2025, "utf-8")
    info = load_institute(None, holidays)
    friday = datetime(2025, 9, 26, 10, 0, tzinfo=zone())
    ticket = replace(_registered(catalog), created_at=friday)
    Ticket.update(created_at=friday).where(Ticket.id == ticket.id).execute()
    assert ticket.estimate.turnaround_days == 5
    shown = TicketView.from_registered(ticket, info)
    assert shown.ready_on == date(2025, 10, 10)  # Sun 28 Sep (worked), 29, 30, then 9 and 10 October
    assert (f"预计完成\n{date_text(shown.ready_on, 'zh')}"
            in _words(ticket_document(ticket_facts(ticket.id), info, "zh")))
    weekends_only = TicketView.from_registered(ticket, load_institute())
    assert weekends_only.ready_on == date(2025, 10, 3)  # in the middle of the holidays


def _printed(catalog, tmp_path, lang: str, profile: str):
    """A 3-line urgent ticket registered as the kiosk does and printed by its own print job to a
    network printer on loopback: the lines as the paper shows them, read back from the bytes the
    printer received by the tests' own ESC/POS parser (never by the renderer's layout)."""
    ticket = _registered(catalog, THREE_LINES, urgent="72h", language=lang)
    with TcpPrinter(answers=ALL_OK) as peer:
        settings = PrinterSettings(peer.uri + "?timeout=2", profile, None, tmp_path)
        assert print_job(ticket.print_job_id, settings, load_institute()).state == "printed"
        assert peer.done.wait(2)
    return ticket, replay_lines(parse(bytes(peer.received)))


def _squeezed(text: str) -> str:
    """Text as read across wrapped lines: the wrap may break at a space or between CJK glyphs."""
    return "".join(text.split())


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_printed_receipt_is_the_itemized_list_the_estimate_screen_showed(catalog, tmp_path, lang):
    ticket, printed = _printed(catalog, tmp_path, lang, "58mm")
    # The estimate screen's own figures, priced afresh from the same request and catalogue.
    shown = estimate(EstimateRequest(tuple(line.pricing for line in THREE_LINES), "72h"), catalog.by_code,
                     default_policy(), catalog.version)
    assert [ln.amount_fen for ln in shown.lines] == [ln.amount_fen for ln in ticket.estimate.lines]
    starts = [i for i, line in enumerate(printed) if line.startswith(tuple(f"{n}. " for n in (1, 2, 3)))]
    rules = [i for i, line in enumerate(printed) if line == "-" * 32]
    assert len(starts) == 3 and len(rules) == 2 and rules[0] < starts[0] < rules[1]
    for ln, start, end in zip(shown.lines, starts, [*starts[1:], rules[1]]):
        item, *details = printed[start:end]
        amount = t("receipt.free", lang) if ln.free_reason else money(ln.amount_fen, lang)
        assert item.split()[-2:] == [quantity_text(ln.quantity, ln.unit, lang), amount], item
        # the fee-standard number and the regulation open its first indented line, never wrapped apart
        first = next(line for line in details if line.startswith("  "))  # under a name wrapped in its column
        assert first.startswith(f"  {fee_number(ln.code)} {ln.regulation}"), first
        for note in line_notes(ln, shown.urgent, lang):  # add-ons, free reason, urgent: the screen's words
            assert _squeezed(note) in _squeezed("".join(details)), note
    free, tape, meter = (_squeezed("".join(printed[a:b])) for a, b in zip(starts, [*starts[1:], rules[1]]))
    if lang == "zh":
        assert "L-001-001JJG52-2013检定" in free and "3块免费" in free and "强制检定免费（安全防护）" in free
        assert "超长3米￥6.00" in tape and "加急72h加收30%￥4.80" in tape
        assert "JJF1587-2016校准" in meter and "交直流加收50%￥40.00" in meter and "加急72h加收30%￥84.00" in meter
    else:
        assert "Free:compulsoryverification(safetyprotection)" in free and "Free" in free
        assert "+3mover" in tape and "Urgent72h+30%￥4.80" in tape
        assert "AC+DC+50%￥40.00" in meter and "JJF1587-2016" in meter
    totals = {line.rsplit(" ", 1)[0].strip(): line.rsplit(" ", 1)[1] for line in printed[rules[1] + 1:]
              if line.startswith(tuple(t(k, lang) for k in ("total.subtotal", "total.urgent", "total.total")))}
    assert totals == {t("total.subtotal", lang): money(shown.subtotal_fen, lang),
                      t("total.urgent", lang): money(shown.urgent_fen, lang),
                      t("total.total", lang): money(shown.total_fen, lang)}
    assert shown.total_fen == ticket.estimate.total_fen == decode(ticket.code, keys_for).total_fen
    assert _squeezed(f"{t('total.waived', lang)} {money(shown.waived_fen, lang)}") in _squeezed("".join(printed))


@pytest.mark.parametrize("profile", ["58mm", "80mm"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_printed_receipt_line_is_wider_than_its_paper(catalog, tmp_path, lang, profile):
    ticket, printed = _printed(catalog, tmp_path, lang, profile)
    columns = PROFILES[profile].columns
    for line in printed:
        double = line.strip() == ticket.number  # the number prints at double width
        assert cell_width(line) * (2 if double else 1) <= columns, line


def test_a_discount_prints_as_its_own_row_and_among_the_totals_as_on_screen(catalog):
    from printer.escpos_render import render_escpos

    ticket = _registered(catalog, (InstrumentLine(LineRequest("L-002-001", quantity=10)),))
    est = ticket.estimate
    assert est.discounts and est.discount_fen < 0
    for lang in ("zh", "en"):
        printed = replay_lines(parse(render_escpos(ticket_document(ticket_facts(ticket.id), load_institute(), lang),
                                                   PROFILES["58mm"])))
        text = _squeezed("".join(printed))
        for d in est.discounts:
            name = d.name_zh if lang == "zh" else d.name_en
            assert _squeezed(name + money(d.amount_fen, lang)) in text  # the row, its amount flush under it
        assert _squeezed(t("total.discount", lang) + money(est.discount_fen, lang)) in text
        assert _squeezed(t("total.total", lang) + money(est.total_fen, lang)) in text
        assert all(cell_width(line) * (2 if line.strip() == ticket.number else 1) <= 32 for line in printed)
