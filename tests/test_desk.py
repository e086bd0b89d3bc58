"""The counters: transitions only forward, each with its event, outbox event and print job in
one transaction; the voucher and the pickup slip."""

import json
from datetime import UTC, date, datetime

import pytest

from db.models import IntakeLine, OutboxEvent, PrintJob, Ticket, TicketEvent
from kiosk.domain.clock import local
from kiosk.domain.fees import EstimateRequest, LineRequest, default_policy, estimate
from kiosk.domain.ticketcode import decode
from kiosk.domain.workdays import add_months
from kiosk.i18n import date_text
from kiosk.printing.receipts import counter_facts, job_document, voucher_qr
from kiosk.settings.institute import load_institute
from kiosk.store.catalog import load_catalog
from kiosk.store.clerks import add_clerk
from kiosk.store.desk import (
    Intake,
    TransitionError,
    find_ticket,
    history,
    identify,
    mark_ready,
    normalise_number,
    pick_up,
    receive,
    ticket_summary,
)
from kiosk.store.keys import keys_for
from kiosk.store.registration import ensure_device, register

from .test_registration import sample

TABLES = (TicketEvent, IntakeLine, OutboxEvent, PrintJob)


def counts():
    return {model.__name__: model.select().count() for model in TABLES}


@pytest.fixture
def desk(catalog):
    device = ensure_device("K1")
    ticket = register(sample(), catalog, default_policy(), device)
    clerk = add_clerk("wang", "王芳", "2468")
    return ticket, clerk, device


def test_receive_writes_event_intake_outbox_and_voucher_job(desk):
    ticket, clerk, device = desk
    at = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    done = receive(ticket.id, clerk, device, now=at)
    assert Ticket.get_by_id(ticket.id).status == "received"
    event = TicketEvent.get(TicketEvent.uid == done.event_uid)
    assert (event.kind, event.clerk_id, event.device_id, event.created_at) == ("received", clerk.id, device.id, at)
    assert [ln.code for ln in IntakeLine.select().order_by(IntakeLine.position)] == ["L-001-001", "C-003-001"]
    job = PrintJob.get_by_id(done.print_job_id)
    assert (job.kind, job.state) == ("voucher", "pending")
    outbox = OutboxEvent.select().where(OutboxEvent.kind == "ticket.received").get()
    payload = json.loads(outbox.payload)
    assert payload["event"] == done.event_uid and payload["clerk"]["username"] == "wang"
    assert payload["total_fen"] == done.total_fen == ticket.estimate.total_fen
    assert [s.kind for s in history(ticket.id)] == ["received"]


def test_transitions_only_go_forward_and_happen_once(desk):
    ticket, clerk, device = desk
    with pytest.raises(TransitionError) as early:
        pick_up(ticket.id, clerk, device)
    assert early.value.kind == "not_yet"
    with pytest.raises(TransitionError, match="not_yet|cannot be ready"):
        mark_ready(ticket.id, clerk, device)
    receive(ticket.id, clerk, device, now=datetime(2026, 11, 24, 1, 30, tzinfo=UTC))
    before = counts()
    with pytest.raises(TransitionError) as again:
        receive(ticket.id, clerk, device)
    assert again.value.kind == "already" and again.value.by == "王芳"
    assert "already received at" in str(again.value) and "by 王芳" in str(again.value)
    assert counts() == before
    mark_ready(ticket.id, clerk, device)
    with pytest.raises(TransitionError, match="already ready"):
        receive(ticket.id, clerk, device)  # backwards
    pick_up(ticket.id, clerk, device, ["JD-2026-0001", "JZ-2026-0002"])
    for step in (receive, mark_ready, pick_up):
        with pytest.raises(TransitionError) as refused:
            step(ticket.id, clerk, device)
        assert refused.value.kind == "already"
    assert Ticket.get_by_id(ticket.id).status == "picked_up"
    assert [s.kind for s in history(ticket.id)] == ["received", "ready", "picked_up"]
    kinds = [e.kind for e in OutboxEvent.select().order_by(OutboxEvent.seq)]
    assert kinds == ["ticket.registered", "ticket.received", "ticket.ready", "ticket.picked_up"]
    assert [j.kind for j in PrintJob.select().order_by(PrintJob.id)] == ["ticket", "voucher", "labels", "pickup_slip"]


def test_a_failing_outbox_insert_leaves_nothing(db, desk):
    ticket, clerk, device = desk
    before = counts()
    db.execute_sql("CREATE TEMP TRIGGER outbox_fails BEFORE INSERT ON outbox_event "
                   "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    with pytest.raises(Exception, match="disk I/O error"):
        receive(ticket.id, clerk, device)
    assert counts() == before
    assert Ticket.get_by_id(ticket.id).status == "registered"
    db.execute_sql("DROP TRIGGER outbox_fails")
    receive(ticket.id, clerk, device)
    assert Ticket.get_by_id(ticket.id).status == "received"


def test_the_database_refuses_a_second_event_of_a_kind(db, desk):
    ticket, clerk, device = desk
    receive(ticket.id, clerk, device)
    with pytest.raises(Exception, match="UNIQUE"):
        db.execute_sql("INSERT INTO ticket_event (uid, ticket_id, kind, device_id, payload, created_at) "
                       "VALUES ('x', ?, 'received', ?, '{}', '2026-01-01T00:00:00+00:00')", (ticket.id, device.id))


def test_intake_corrections_reprice_and_refused_lines_cost_nothing(desk):
    ticket, clerk, device = desk
    lines = ticket_summary(ticket.id).lines
    first = lines[0]
    corrected = Intake((
        first.__class__(first.ticket_line_id, first.code, 5, first.service, "other", condition="表盘有划痕",
                        accessories="无", serial_number="A1"),
        lines[1].__class__(**{**lines[1].__dict__, "refused": True}),
    ))
    done = receive(ticket.id, clerk, device, corrected)
    # Priced again: 5 gauges for "other" use (no longer free); the refused tape costs nothing.
    expected = estimate(EstimateRequest((LineRequest("L-001-001", 5, "other", first.service),)),
                        load_catalog().by_code, default_policy())
    assert done.total_fen == expected.total_fen > 0
    assert ticket.estimate.total_fen != done.total_fen
    stored = list(IntakeLine.select().order_by(IntakeLine.position))
    assert (stored[0].quantity, stored[0].condition, stored[0].refused) == (5, "表盘有划痕", False)
    assert stored[0].amount_fen == expected.lines[0].amount_fen
    assert stored[1].refused and stored[1].amount_fen is None


def test_bad_intake_writes_nothing(desk):
    ticket, clerk, device = desk
    lines = ticket_summary(ticket.id).lines
    before = counts()
    bad = Intake((lines[0].__class__(**{**lines[0].__dict__, "code": "X-999-999"}),))
    with pytest.raises(TransitionError) as refused:
        receive(ticket.id, clerk, device, bad)
    assert refused.value.kind == "bad_intake"
    with pytest.raises(TransitionError):
        receive(ticket.id, clerk, device,
                Intake((lines[0].__class__(**{**lines[0].__dict__, "condition": "\x1b[2J"}),)))
    assert counts() == before


def test_numbers_are_found_however_typed(desk):
    ticket, _, _ = desk
    n = ticket.number
    for typed in (n, n.lower(), n.replace("-", " "), n.replace("-", ""), f"  {n}\t", voucher_qr(n)):
        assert find_ticket(typed) == ticket.id, typed
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in n)
    assert find_ticket(full_width) == ticket.id
    assert find_ticket("K9Z-000000-0000") is None
    assert normalise_number("") == ""


def test_identify_says_what_a_scan_is(desk):
    ticket, _, _ = desk
    assert identify(ticket.number).ticket_id == ticket.id
    assert identify("hello").error == "not_a_code"
    assert identify("").error == "not_a_code"


def test_voucher_and_pickup_slip_documents(desk):
    from printer.document import QR, Row, Text

    ticket, clerk, device = desk
    receive(ticket.id, clerk, device)
    mark_ready(ticket.id, clerk, device)
    picked = datetime(2026, 1, 31, 2, 0, tzinfo=UTC)
    pick_up(ticket.id, clerk, device, [["JD-0001", "", "JD-0003"]], now=picked)  # three gauges, one line
    info = load_institute(None)
    voucher = job_document("voucher", ticket.id, info, "zh")
    assert QR(voucher_qr(ticket.number)) in voucher.blocks
    assert any(isinstance(b, Row) and b.value == "王芳" for b in voucher.blocks)
    slip = job_document("pickup_slip", ticket.id, info, "en")
    texts = [b.text for b in slip.blocks if isinstance(b, Text)]
    rows = [(b.key.strip(), b.value) for b in slip.blocks if isinstance(b, Row)]
    certificates = [r for r in rows if r[0].startswith("Certificate no.")]
    assert certificates == [("Certificate no. 1/3", "JD-0001"), ("Certificate no. 3/3", "JD-0003")]
    facts = counter_facts(ticket.id, "picked_up")
    gauge = facts.lines[0]
    assert gauge.service == "verification" and gauge.cycle_months
    due = add_months(local(picked).date(), gauge.cycle_months)
    assert ("Next verification", date_text(due, "en")) == next(r for r in rows if r[0] == "Next verification")
    assert any("rate our service" in x for x in texts)


@pytest.mark.parametrize("day, months, due", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 8, 15), 6, date(2027, 2, 15)), (date(2026, 12, 1), 12, date(2027, 12, 1)),
])
def test_add_months(day, months, due):
    assert add_months(day, months) == due


def test_the_spool_prints_every_kind(desk, tmp_path):
    from kiosk.printing.spool import claim_job

    ticket, clerk, device = desk
    done = receive(ticket.id, clerk, device)
    claimed = claim_job(done.print_job_id, load_institute(None))
    assert claimed.document.name == f"voucher-{ticket.number}"


def test_a_scanned_ticket_code_finds_its_ticket_and_a_tampered_one_is_refused(desk):
    ticket, clerk, device = desk
    code = Ticket.get_by_id(ticket.id).code
    assert code and identify(code).ticket_id == ticket.id
    assert identify(code.lower()).ticket_id == ticket.id  # scanners and hands in lower case
    receive(ticket.id, clerk, device)
    with pytest.raises(TransitionError, match="already received"):
        receive(identify(code).ticket_id, clerk, device)  # the same code twice: received once
    body = code[-20:]
    flipped = code[:-20] + ("A" if body[0] != "A" else "B") + body[1:]
    assert identify(flipped).error in ("bad_signature", "damaged")
    assert identify(code[:-5]).error == "damaged"


# ---- a valid ticket this desk has never seen ------------------------------------------------

FOREIGN_DEVICE = "0193aaaa-0000-7000-8000-00000000f00d"


def foreign_code(number="K9Z-261124-0003", lines=(("L-001-001", 2, "verification", "safety"),), urgent=None,
                 total_fen=None, catalog_hash=None, amounts=None, **add_ons) -> str:
    """A code signed by another kiosk whose public key this desk imported (keys file), but
    whose tickets never reached it. Its lines (CodeLine's fields; `add_ons`: the first line's
    points, ranges...) priced as that kiosk priced them: with this desk's catalogue and policy,
    unless `catalog_hash` says it had another (and `amounts`, per line, its figures); `total_fen`:
    another total signed."""
    import base64
    from dataclasses import replace

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.domain.fees import EstimateRequest, estimate
    from kiosk.domain.fingerprint import policy_hash
    from kiosk.domain.ticketcode import CodeLine, TicketRecord, encode
    from kiosk.settings.pricing import configured_policy
    from kiosk.store.catalog import load_catalog
    from kiosk.store.keys import import_public_keys

    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    import_public_keys(f"{FOREIGN_DEVICE} {base64.b64encode(key.public_key().public_bytes_raw()).decode()}\n")
    code_lines = [CodeLine(*ln) for ln in lines]
    code_lines[0] = replace(code_lines[0], **add_ons)
    catalog = load_catalog(1)
    known = [ln for ln in code_lines if ln.code in catalog.by_code]
    priced = estimate(EstimateRequest(tuple(
        LineRequest(ln.code, ln.quantity, ln.use, ln.service, ln.points, ln.ranges, ln.metres, ln.ac_dc, ln.extra_data)
        for ln in known), urgent), catalog.by_code, configured_policy(), 1)
    figures = {id(ln): est for ln, est in zip(known, priced.lines)}
    code_lines = [replace(ln, amount_fen=figures[id(ln)].amount_fen, urgent_fen=figures[id(ln)].urgent_fen)
                  if id(ln) in figures else ln for ln in code_lines]
    if amounts is not None:
        code_lines = [replace(ln, amount_fen=amount) for ln, amount in zip(code_lines, amounts)]
    record = TicketRecord("0193aaab-0000-7000-8000-000000000001", number, FOREIGN_DEVICE,
                          datetime(2026, 11, 24, 1, 41, tzinfo=UTC), 1, tuple(code_lines),
                          priced.total_fen if total_fen is None else total_fen, urgent=urgent,
                          catalog_hash=catalog_hash or catalog.content_hash,
                          policy_hash=policy_hash(configured_policy()))
    return encode(record, key)


def test_a_valid_unknown_ticket_is_taken_from_its_code_and_received(desk):
    from kiosk.store.desk import import_ticket

    _, clerk, device = desk
    code = foreign_code(lines=(("L-001-001", 2, "verification", "safety"), ("C-003-001", 1, "verification", "other")),
                        urgent="72h")
    assert identify(code).error == "not_local"
    before = counts()
    ticket_id = import_ticket(code)
    assert counts() == before  # no event, no outbox, no print: the ticket is its kiosk's to send
    assert import_ticket(code.lower()) == ticket_id == identify(code).ticket_id  # scanned twice: stored once
    ticket = Ticket.get_by_id(ticket_id)
    assert (ticket.number, ticket.status, ticket.urgent) == ("K9Z-261124-0003", "registered", "72h")
    assert ticket.total_fen == decode(code, keys_for).total_fen
    assert ticket.device.uid == FOREIGN_DEVICE and ticket.code == code
    assert [(ln.code, ln.quantity) for ln in ticket_summary(ticket_id).lines] == [("L-001-001", 2), ("C-003-001", 1)]
    assert ensure_device("K1").uid == device.uid  # this desk is still itself, not the kiosk it met

    done = receive(ticket_id, clerk, device)
    event = OutboxEvent.get(OutboxEvent.kind == "ticket.received")
    assert json.loads(event.payload)["ticket"] == ticket.uid and done.total_fen is not None
    assert not OutboxEvent.select().where((OutboxEvent.kind == "ticket.registered")
                                          & OutboxEvent.payload.contains(ticket.uid)).exists()


def test_an_unknown_ticket_with_rows_this_desk_lacks_is_refused_whole(desk):
    from kiosk.store.desk import import_ticket

    code = foreign_code(lines=(("L-001-001", 1, "verification", "safety"), ("Q-999-999", 1, "verification", "other")))
    tickets = Ticket.select().count()
    with pytest.raises(TransitionError, match="Q-999-999"):
        import_ticket(code)
    assert Ticket.select().count() == tickets


def test_an_unknown_ticket_whose_number_is_taken_is_refused(desk):
    from kiosk.store.desk import import_ticket

    ticket, _, _ = desk
    with pytest.raises(TransitionError) as refused:
        import_ticket(foreign_code(number=ticket.number))
    assert refused.value.kind == "conflict"
