"""One way to store a ticket, price it again and clean its text (kiosk/store/tickets.py), from
each path that brings a ticket: the kiosk's registration, a desk's scan of a code alone, a
ticket pulled from central; and the event shapes they share (kiosk/domain/events.py)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from db.models import Customer, Device, OutboxEvent, Ticket, TicketLine
from kiosk.domain import events
from kiosk.domain.fees import LineRequest, default_policy
from kiosk.store.registration import CustomerDetails, RegistrationError, ensure_device, register

from .test_desk import foreign_code
from .test_registration import sample

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: shows "公司abc" as "公司cba"; invisible, never typed on purpose
FOREIGN = "0193aaaa-0000-7000-8000-0000000000f1"


def pulled(payload: dict, *, uid: str, number: str, organisation: str) -> dict:
    """A kiosk's registration as another node's desk pulls it from central."""
    ticket = {**payload["ticket"], "uid": uid, "number": number, "device": FOREIGN}
    return {"seq": 1, "kind": "ticket.registered",
            "data": {**payload, "ticket": ticket, "customer": {**payload["customer"], "organisation": organisation}}}


def test_a_registration_event_reads_back_as_it_was_written(catalog):
    ticket = register(sample(urgent="72h"), catalog, default_policy(), ensure_device("K1"))
    written = OutboxEvent.get(OutboxEvent.uid == ticket.event_uid).payload
    read = events.read(events.Registered, json.loads(written))
    assert (read.ticket.number, read.lines[1].metres, read.customer.phone) == (ticket.number, "7.5", "13812345678")
    assert events.to_json(read) == written  # the same bytes: what central stores and relays


def test_a_pulled_ticket_is_stored_like_a_registered_one_and_invisible_text_is_refused(catalog):
    from kiosk.sync.feed import apply_changes

    own = ensure_device("D1", role="clerk")
    ticket = register(sample(), catalog, default_policy(), own)
    payload = json.loads(OutboxEvent.get(OutboxEvent.uid == ticket.event_uid).payload)

    hidden = pulled(payload, uid="0193aaaa-0000-7000-8000-000000000101", number="K7-261124-0001",
                    organisation=f"示范{RLO}燃气有限公司")
    assert apply_changes([hidden], 1, own.uid).tickets == 0
    assert not Ticket.select().where(Ticket.uid == "0193aaaa-0000-7000-8000-000000000101").exists()

    clean = pulled(payload, uid="0193aaaa-0000-7000-8000-000000000102", number="K7-261124-0002",
                   organisation="  示范燃气\t有限公司 ")
    assert apply_changes([{**clean, "seq": 2}], 2, own.uid).tickets == 1
    stored, mine = Ticket.get(Ticket.uid == "0193aaaa-0000-7000-8000-000000000102"), Ticket.get_by_id(ticket.id)
    assert stored.customer.organisation == "示范燃气 有限公司"  # cleaned as the kiosk cleans it
    assert (stored.device.uid, stored.device.prefix) == (FOREIGN, "K7")  # another node's device, made once
    columns = ("code", "quantity", "use", "service", "points", "ranges", "metres", "ac_dc", "model", "serial_number",
               "amount_fen", "free_reason", "position")
    assert [[getattr(ln, c) for c in columns] for ln in stored.lines.order_by(TicketLine.position)] == \
           [[getattr(ln, c) for c in columns] for ln in mine.lines.order_by(TicketLine.position)]
    assert (stored.version_id, stored.total_fen, stored.quoted_lines) == (mine.version_id, mine.total_fen,
                                                                          mine.quoted_lines)
    assert json.loads(stored.estimate_json) == json.loads(mine.estimate_json)  # priced again the same way


def test_invisible_text_is_refused_at_the_kiosk_and_the_desk(catalog):
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import Intake, TransitionError, receive, ticket_summary

    device = ensure_device("K1")
    before = Customer.select().count()
    with pytest.raises(RegistrationError) as refused:
        register(sample(customer=CustomerDetails(f"示范{RLO}燃气")), catalog, default_policy(), device)
    assert refused.value.where == "customer.organisation" and Customer.select().count() == before

    ticket = register(sample(), catalog, default_policy(), device)
    lines = ticket_summary(ticket.id).lines
    for field in ("condition", "accessories", "serial_number"):
        with pytest.raises(TransitionError) as refused:
            receive(ticket.id, add_clerk(f"c{field[:3]}", "王芳", "2468"), device,
                    Intake((replace(lines[0], **{field: f"表盘{RLO}划痕"}),)))
        assert refused.value.kind == "bad_intake" and field in str(refused.value)


def test_a_code_whose_number_hides_a_character_is_refused(catalog):
    from kiosk.store.desk import TransitionError, import_ticket

    ensure_device("D1", role="clerk")
    with pytest.raises(TransitionError) as refused:
        import_ticket(foreign_code(number=f"K9Z-261124-{RLO}0003"))
    assert refused.value.kind == "bad_intake"
    assert Ticket.select().count() == 0 and Device.select().count() == 1


def test_pricing_again_takes_the_tickets_version_else_the_latest_that_holds_its_rows(catalog):
    from kiosk.store.catalog import export_csv, import_csv
    from kiosk.store.tickets import MissingFeeRows, price_again, pricing_catalog

    first = catalog.version
    second = import_csv(export_csv().replace("C-003-001", "C-003-901", 1), "renumbered.csv")
    assert pricing_catalog(first, ["L-001-001", "C-003-001"]).version == first  # its own, when it has the rows
    assert pricing_catalog(first, ["C-003-901"]).version == second  # a row only the latest has
    assert pricing_catalog(999, ["L-001-001"]).version == second  # a version this node never had
    assert pricing_catalog(first, ["C-003-001", "C-003-901"]).version == first  # neither has both: its own
    with pytest.raises(MissingFeeRows) as missing:
        price_again(first, [LineRequest("C-003-001"), LineRequest("C-003-901")], None)
    assert (missing.value.codes, missing.value.version) == (("C-003-901",), first)
