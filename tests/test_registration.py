"""Registration: ticket + lines + print job + outbox event in one transaction, or nothing."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from db.models import Counter, Customer, OutboxEvent, PrintJob, Ticket, TicketLine
from kiosk.domain.clock import local
from kiosk.domain.fees import EstimateError, LineRequest, default_policy
from kiosk.domain.ticketcode import CodeLine, decode, from_text
from kiosk.store.keys import keys_for
from kiosk.store.registration import (
    CustomerDetails,
    InstrumentLine,
    Registration,
    RegistrationError,
    ensure_device,
    register,
)

TABLES = (Customer, Ticket, TicketLine, PrintJob, OutboxEvent, Counter)


def counts():
    return {model.__name__: model.select().count() for model in TABLES}


def sample(**overrides) -> Registration:
    values = {
        "customer": CustomerDetails("示范燃气有限公司", "91520100MA6DKJ2X4U", "贵阳市", "李工", "13812345678"),
        "lines": (
            InstrumentLine(LineRequest("L-001-001", quantity=3, use="safety"), model="Y-100", serial_number="A1"),
            InstrumentLine(LineRequest("C-003-001", metres=Decimal("7.5"))),
        ),
        **overrides,
    }
    return Registration(**values)


def test_registration_writes_the_whole_fact(catalog):
    device = ensure_device("K1")
    ticket = register(sample(), catalog, default_policy(), device)

    stored = Ticket.get_by_id(ticket.id)
    assert stored.number == ticket.number and stored.number.startswith("K1-")
    assert stored.version_id == catalog.version
    assert [ln.code for ln in stored.lines.order_by(TicketLine.position)] == ["L-001-001", "C-003-001"]
    assert stored.lines.order_by(TicketLine.position).first().free_reason == "compulsory_verification"
    job = PrintJob.get_by_id(ticket.print_job_id)
    assert (job.state, job.kind, job.ticket_id) == ("pending", "ticket", ticket.id)
    event = OutboxEvent.get(OutboxEvent.uid == ticket.event_uid)
    payload = json.loads(event.payload)
    assert event.kind == "ticket.registered" and event.acked_at is None
    assert payload["ticket"]["number"] == ticket.number
    assert payload["ticket"]["total_fen"] == stored.total_fen == ticket.estimate.total_fen
    assert json.loads(stored.estimate_json)["total_fen"] == stored.total_fen
    # the promise the receipt prints travels with it (the back office's work list)
    from kiosk.domain.workdays import expected_ready

    ready_on = expected_ready(local(ticket.created_at), ticket.estimate.turnaround_days)
    assert payload["ticket"]["ready_on"] == ready_on.isoformat() and payload["ticket"]["urgent_hours"] is None
    urgent = json.loads(OutboxEvent.get(OutboxEvent.uid == register(
        sample(urgent="72h"), catalog, default_policy(), device).event_uid).payload)["ticket"]
    assert urgent["urgent_hours"] == 72
    # the signed code, written in the same transaction, carries the ticket and no phone number
    assert stored.code == ticket.code == payload["ticket"]["code"]
    record = decode(stored.code, keys_for)
    assert (record.ticket_uid, record.number, record.device_uid) == (ticket.uid, ticket.number, device.uid)
    assert (record.created_at, record.catalog_version) == (ticket.created_at.replace(microsecond=0), catalog.version)
    assert (record.total_fen, record.omitted_lines) == (stored.total_fen, 0)
    assert "示范燃气".encode() not in from_text(stored.code)  # no personal data, the organisation neither
    free, charged = ticket.estimate.lines
    assert record.lines == (CodeLine("L-001-001", 3, "verification", "safety", amount_fen=0),
                            CodeLine("C-003-001", 1, "verification", "other", metres=Decimal("7.5"),
                                     amount_fen=charged.amount_fen))
    assert free.amount_fen == 0 and charged.amount_fen > 0
    # what it was priced with: the catalogue's and the policy's content, not their names
    from kiosk.domain.fingerprint import policy_hash

    assert record.catalog_hash == catalog.content_hash[:4] and record.policy_hash == policy_hash(default_policy())[:4]
    assert "13812345678" not in json.dumps(record.to_dict())


URGENT_ONLY = (InstrumentLine(LineRequest("C-003-001", metres=Decimal("12.5"))),)  # no ready date: null


@pytest.mark.parametrize("overrides, now", [
    ({}, None),
    ({"urgent": "24h", "pickup": "post", "certificate_name": '另一名称 "{ticket}" \\ %s'}, None),
    ({"lines": URGENT_ONLY, "urgent": "24h", "notify": True, "language": "en"},
     datetime(2026, 11, 24, 9, 30, tzinfo=timezone(timedelta(hours=8)))),  # whole seconds, not in UTC
])
def test_the_outbox_event_is_its_shape_written_by_to_json(catalog, overrides, now):
    """commit has the event's text written by prepare but for what the transaction, the time and the
    device know, and fills that in: the same text, byte for byte, as events.to_json of the whole event."""
    from kiosk.domain import events

    device = ensure_device("K1")
    ticket = register(sample(**overrides), catalog, default_policy(), device, now=now)
    stored = OutboxEvent.get(OutboxEvent.uid == ticket.event_uid).payload
    events.read(events.strict(events.Registered), json.loads(stored))  # as central reads it: no field it does not name
    assert stored == events.to_json(events.read(events.Registered, json.loads(stored)))
    written = json.loads(stored)["ticket"]
    assert (written["uid"], written["number"], written["device"], written["code"]) == (
        ticket.uid, ticket.number, device.uid, ticket.code)
    assert written["created_at"] == ticket.created_at.isoformat()
    assert (written["ready_on"] is None) == ("lines" in overrides)
    assert written["certificate_name"] == (overrides.get("certificate_name") or "示范燃气有限公司")


@pytest.mark.parametrize("created_at", [
    datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=UTC),
    datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC),  # whole seconds: isoformat writes no fraction
    datetime(2026, 11, 24, 9, 30, tzinfo=timezone(timedelta(hours=8))),
])
def test_the_ticket_is_written_as_to_json_writes_it(created_at):
    """commit writes the event's ticket by msgspec (events.ticket_json), not json: the same text,
    whatever its texts hold; a Ticket has one time (a second would end in msgspec's "Z")."""
    import msgspec

    from kiosk.domain import events

    times = [f.name for f in msgspec.structs.fields(events.Ticket) if "datetime.datetime" in str(f.type)]
    assert times == ["created_at"]
    for name in ('示范 "{x}" \\ \t\n\x7f\u2028\u00e9 %s', "", None):
        ticket = events.Ticket(uid="0192f5a0-0000-7000-8000-000000000001", number="K1-261124-0001",
                               device="0192f5a0-0000-7000-8000-000000000002", created_at=created_at, total_fen=12_345,
                               catalog_version=3, certificates=2, urgent="24h", pickup="post", certificate_name=name,
                               policy="p-1", code="JLAMA", ready_on=created_at.date(), urgent_hours=24)
        assert events.ticket_json(ticket) == events.to_json(ticket)
    bare = events.Ticket(uid=ticket.uid, number=ticket.number, device=ticket.device, created_at=created_at, total_fen=0)
    assert events.ticket_json(bare) == events.to_json(bare)


def test_ticket_numbers_count_up_per_device_and_day(catalog):
    device = ensure_device("K1")
    numbers = [register(sample(), catalog, default_policy(), device).number for _ in range(3)]
    assert [n[-4:] for n in numbers] == ["0001", "0002", "0003"]
    assert len(set(numbers)) == 3


def test_a_failure_inside_the_transaction_writes_nothing(db, catalog):
    device = ensure_device("K1")
    before = counts()
    # The last statement of the transaction fails, as a full disk or an I/O error would.
    db.execute_sql("CREATE TEMP TRIGGER outbox_fails BEFORE INSERT ON outbox_event "
                   "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    with pytest.raises(Exception, match="disk I/O error"):
        register(sample(), catalog, default_policy(), device)
    assert counts() == before
    db.execute_sql("DROP TRIGGER outbox_fails")
    assert register(sample(), catalog, default_policy(), device).number.endswith("-0001")


@pytest.mark.parametrize(
    "overrides, where",
    [
        ({"customer": CustomerDetails("  ")}, "customer.organisation"),
        ({"customer": CustomerDetails("x" * 201)}, "customer.organisation"),
        ({"customer": CustomerDetails("公司\x1b[2J")}, "customer.organisation"),
        ({"lines": ()}, "lines"),
        ({"pickup": "drone"}, "pickup"),
        ({"certificates": 0}, "certificates"),
    ],
)
def test_bad_registrations_are_refused_before_anything_is_written(catalog, overrides, where):
    device = ensure_device("K1")
    before = counts()
    with pytest.raises(RegistrationError) as refused:
        register(sample(**overrides), catalog, default_policy(), device)
    assert refused.value.where == where
    assert counts() == before


def test_an_unknown_item_is_refused_before_anything_is_written(catalog):
    device = ensure_device("K1")
    before = counts()
    bad = sample(lines=(InstrumentLine(LineRequest("X-999-999")),))
    with pytest.raises(EstimateError):
        register(bad, catalog, default_policy(), device)
    assert counts() == before


def test_full_width_input_is_normalised(catalog):
    device = ensure_device("K1")
    ticket = register(sample(customer=CustomerDetails("ＡＢＣ仪表厂", phone="１３８１２３４５６７８")), catalog,
                      default_policy(), device)
    customer = Ticket.get_by_id(ticket.id).customer
    assert (customer.organisation, customer.phone) == ("ABC仪表厂", "13812345678")


WRITER = textwrap.dedent("""
    import sys
    from decimal import Decimal
    from db.connection import open_database
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.domain.fees import LineRequest, default_policy
    from kiosk.store.registration import CustomerDetails, InstrumentLine, Registration, ensure_device, register

    open_database(sys.argv[1])
    ensure_catalog()
    catalog, policy, device = load_catalog(), default_policy(), ensure_device("KX")
    reg = Registration(CustomerDetails("循环写入测试单位"), tuple(
        InstrumentLine(LineRequest(code, quantity=2)) for code in ("L-001-001", "Z-001-001", "C-003-001")))
    while True:
        print(register(reg, catalog, policy, device).number, flush=True)
""")


@pytest.mark.reliability
@pytest.mark.parametrize("round_", range(3))
def test_kill_9_mid_registration_leaves_only_whole_tickets(tmp_path, round_):
    path = tmp_path / "killed.sqlite3"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    reported = []
    for kill_after in (5, 17, 31):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True,
                                 env=env)
        for _ in range(kill_after + round_):
            reported.append(child.stdout.readline().strip())
        child.send_signal(signal.SIGKILL)  # mid-write, most likely: it never stops registering
        child.wait()

    from db.connection import open_database

    db = open_database(path)
    assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    numbers = {t.number for t in Ticket.select()}
    assert set(reported) <= numbers, "a ticket the writer saw committed is gone"
    for ticket in Ticket.select():
        assert ticket.lines.count() == 3, f"{ticket.number} is half-written"
        assert ticket.print_jobs.count() == 1
        # signed with the key the first writer made and every restart read back
        assert decode(ticket.code, keys_for).number == ticket.number
    events = [json.loads(e.payload)["ticket"]["number"] for e in OutboxEvent.select()]
    assert sorted(events) == sorted(numbers)
    db.close()
