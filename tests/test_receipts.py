"""What a ticket receipt says: composed from the stored ticket, in the customer's language,
with no phone number in clear. (How it prints is tested in test_printer_*.)"""

from datetime import date
from decimal import Decimal

from kiosk.domain.clock import zone
from kiosk.domain.fees import LineRequest, default_policy
from kiosk.domain.ticketcode import decode
from kiosk.printing.receipts import ticket_document, ticket_facts
from kiosk.settings.institute import load_institute
from kiosk.store.keys import keys_for
from kiosk.store.registration import CustomerDetails, InstrumentLine, Registration, ensure_device, register
from printer.document import QR, Row, Table, Text


def _registered(catalog, **overrides):
    reg = Registration(
        CustomerDetails("示范燃气（集团）有限公司", "", "贵阳市观山湖区", "李工", "13812345678"),
        (
            InstrumentLine(LineRequest("L-001-001", quantity=3, use="safety"), serial_number="A-1"),
            InstrumentLine(LineRequest("C-003-001", metres=Decimal("7.5"))),
        ),
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
                     "1. 一般压力表", "L-001-001", "免费", "强制检定免费（安全防护）", "预估合计",
                     "其中加急72小时\n￥4.80", "请携带仪器到1号收件窗口", "取件时请出示本单或受理号", "服务评价",
                     "以窗口确认为准"):
        assert expected in words, expected
    assert "取件方式" not in words  # in person is the rule: only posting gets a row
    assert "加急72h加收" not in words  # urgent fees summed once, not per line
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
