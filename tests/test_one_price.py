"""One price from the kiosk to the counter (issue 18, item 1): a desk that knows a ticket only
from its signed code charges the receipt's figures; a clerk's change shows the receipt's figure
beside the new one and why; one pricing policy for every path that prices."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal

import pytest

from db.models import ParkedChange, Ticket, TicketLine
from kiosk.domain.fees import EstimateRequest, LineRequest, default_policy, estimate
from kiosk.domain.fingerprint import catalog_hash, policy_hash
from kiosk.domain.repricing import Change, PricedLine, differences
from kiosk.domain.ticketcode import decode
from kiosk.i18n.repricing_text import difference_text
from kiosk.store.clerks import add_clerk
from kiosk.store.desk import Intake, import_ticket, price_intake, receive, ticket_summary
from kiosk.store.keys import keys_for
from kiosk.store.registration import InstrumentLine, ensure_device, register

from .test_desk import foreign_code
from .test_registration import sample

THERMOMETER = "R-004-002"  # 数字温度计, calibration: ￥120 with 3 points, ￥30 each point beyond


@pytest.fixture
def desk(catalog):
    device = ensure_device("K1")
    return add_clerk("wang", "王芳", "2468"), device


# ---- the hashes ------------------------------------------------------------------------------


def test_a_catalogues_hash_is_its_content_in_any_order(catalog):
    rows = list(catalog.rows)
    assert catalog_hash(rows) == catalog_hash(reversed(rows)) == catalog.content_hash
    cheaper = [replace(rows[0], price_fen=(rows[0].price_fen or 0) + 1), *rows[1:]]
    assert catalog_hash(cheaper) != catalog.content_hash


def test_a_policys_hash_is_its_content_not_its_id():
    policy = default_policy()
    faster = replace(policy, urgent_percent={**policy.urgent_percent, "24h": 50})
    assert policy_hash(policy) == policy_hash(replace(policy)) and policy_hash(faster) != policy_hash(policy)
    assert faster.id == policy.id


# ---- a desk that knows the ticket only from its code -------------------------------------------


def test_a_desk_that_never_synced_prices_the_carried_points(desk):
    """The issue's thermometer: 10 points, not the 3 included (￥120 + 7 × ￥30 = ￥330, not ￥120)."""
    code = foreign_code(lines=((THERMOMETER, 1, "calibration", "other"), ("L-001-001", 2, "verification", "trade")),
                        urgent="24h", points=10)
    record = decode(code, keys_for)
    ticket_id = import_ticket(code)
    ticket = Ticket.get_by_id(ticket_id)
    stored = json.loads(ticket.estimate_json)
    assert [ln["amount_fen"] for ln in stored["lines"]] == [ln.amount_fen for ln in record.lines]
    assert stored["lines"][0]["amount_fen"] == 33_000 and stored["lines"][0]["urgent_fen"] == 33_000
    assert ticket.total_fen == stored["total_fen"] == record.total_fen
    assert [ln.points for ln in TicketLine.select().where(TicketLine.ticket == ticket_id)
            .order_by(TicketLine.position)] == [10, None]
    priced = price_intake(ticket_id)
    assert (priced.total_fen, priced.basis, priced.differences) == (record.total_fen, "same", ())
    assert not ParkedChange.select().exists()


def test_a_desk_with_another_catalogue_keeps_the_receipts_figures_and_says_why(desk):
    clerk, device = desk
    code = foreign_code(lines=((THERMOMETER, 1, "calibration", "other"),), points=10, catalog_hash=b"\xee" * 4,
                        amounts=(30_000,), total_fen=30_000)  # the kiosk's catalogue priced it ￥300
    ticket_id = import_ticket(code)
    assert Ticket.get_by_id(ticket_id).total_fen == 30_000
    assert json.loads(Ticket.get_by_id(ticket_id).estimate_json)["lines"][0]["amount_fen"] == 30_000
    as_registered = price_intake(ticket_id)
    assert (as_registered.total_fen, as_registered.basis, as_registered.differences) == (
        30_000, "catalogue_differs", ())
    assert not ParkedChange.select().exists()  # another catalogue: no bug
    # a clerk's change prices the line with this desk's catalogue, and says both reasons' figures
    line = ticket_summary(ticket_id).lines[0]
    changed = price_intake(ticket_id, Intake((replace(line, points=20),)))
    (diff,) = changed.differences
    assert (diff.receipt.amount_fen, diff.now.amount_fen) == (30_000, 63_000)
    assert diff.changes == (Change("points", 10, 20),)
    assert difference_text(diff, "zh") == "第1行 收据￥300.00，现￥630.00：测量点由10改为20"
    assert receive(ticket_id, clerk, device).total_fen == 30_000  # taken in as registered: the receipt stands


def test_the_same_catalogue_and_another_price_is_a_bug_kept_with_the_code(desk):
    code = foreign_code(lines=((THERMOMETER, 1, "calibration", "other"),), points=10, amounts=(12_000,),
                        total_fen=12_000)  # the kiosk's own figure, not what its catalogue says
    ticket_id = import_ticket(code)
    assert Ticket.get_by_id(ticket_id).total_fen == 12_000  # the customer's receipt stands
    (parked,) = ParkedChange.select()
    assert parked.reason.startswith("price_mismatch") and json.loads(parked.data)["priced_fen"] == [33_000]


# ---- a clerk's change, line by line -----------------------------------------------------------


def test_a_changed_line_shows_the_receipts_figure_beside_the_new_one_urgent_included(desk, catalog):
    device = desk[1]
    reg = replace(sample(urgent="24h"), lines=(
        InstrumentLine(LineRequest(THERMOMETER, points=20)), InstrumentLine(LineRequest("C-003-001", metres=Decimal(
            "7.5"))), InstrumentLine(LineRequest("L-001-001", quantity=2, use="safety"))))
    ticket = register(reg, catalog, default_policy(), device)
    lines = ticket_summary(ticket.id).lines
    assert (lines[0].points, lines[1].metres) == (20, Decimal("7.5"))
    priced = price_intake(ticket.id, Intake((replace(lines[0], points=10), replace(lines[1], refused=True),
                                             lines[2])))
    first, second = priced.differences
    assert (first.receipt.figure_fen, first.now.figure_fen) == (2 * 63_000, 2 * 33_000)
    assert difference_text(first, "zh") == ("第1行 收据￥1,260.00（含加急￥630.00），现￥660.00（含加急￥330.00）："
                                             "测量点由20改为10")
    assert difference_text(first, "en") == ("Line 1: receipt ￥1,260.00 (urgent ￥630.00 included) → now ￥660.00 "
                                             "(urgent ￥330.00 included): points 20→10")
    assert difference_text(second, "en") == ("Line 2: receipt ￥32.00 (urgent ￥16.00 included) → now not charged: "
                                              "refused")
    assert priced.total_fen == ticket.estimate.total_fen - 2 * 30_000 - 2 * 1_600


def test_differences_name_a_basis_only_when_nothing_else_explains_the_figure():
    before = PricedLine("C-003-001", 1, "verification", "other", metres=Decimal("7.5"), amount_fen=1_600)
    assert differences([before], [before], "catalogue_differs") == ()
    (diff,) = differences([before], [replace(before, amount_fen=1_900)], "catalogue_differs")
    assert diff.changes == (Change("basis", "catalogue_differs"),)
    assert difference_text(diff, "en").endswith("this desk's catalogue differs from the kiosk's")
    (bug,) = differences([before], [replace(before, amount_fen=1_900)], "same")
    assert bug.changes == (Change("repriced"),)
    with pytest.raises(ValueError):
        differences([before], [before], "guess")


def test_add_ons_at_intake_are_checked_as_the_kiosk_checks_them(desk, catalog):
    from kiosk.store.desk import TransitionError

    ticket = register(sample(), catalog, default_policy(), desk[1])
    lines = ticket_summary(ticket.id).lines
    for bad, field in ((replace(lines[1], metres=Decimal("7.5004")), "lines[1].metres"),
                       (replace(lines[1], points=5), "lines[1].points"),  # the tape is not priced by points
                       (replace(lines[0], extra_data=True, use="other"), None)):
        if field is None:
            assert price_intake(ticket.id, Intake((bad, lines[1]))).total_fen > 0  # a priced add-on is taken
            continue
        with pytest.raises(TransitionError, match=field.replace("[", r"\[").replace("]", r"\]")):
            price_intake(ticket.id, Intake((lines[0], bad)))


# ---- one policy --------------------------------------------------------------------------------


@pytest.fixture
def faster_policy(tmp_path):
    """A configuration whose policy charges 50 % for 24 h instead of the built-in 100 %."""
    from kiosk.settings.config import load_config

    data = {"id": "faster", "urgent_percent": {"72h": 30, "24h": 50, "8h": 150}}
    (tmp_path / "policy.json").write_text(json.dumps(data), "utf-8")
    (tmp_path / "kiosk.toml").write_text('[pricing]\npolicy = "policy.json"\n', "utf-8")
    return load_config(str(tmp_path / "kiosk.toml"))  # conftest's builtin_policy puts the built-in one back


def test_the_configured_policy_is_what_the_app_the_desk_and_the_cli_charge(faster_policy, catalog, run, tmp_path):
    from kiosk.settings.pricing import configured_policy
    from kiosk.store.tickets import price_again
    from screens.app import KioskApp

    assert configured_policy().urgent_percent["24h"] == 50
    request = (LineRequest(THERMOMETER),)
    # the desk, pricing a ticket again
    _, again = price_again(catalog.version, request, "24h")
    assert again.urgent_fen == 6_000 and again.policy_id == "faster"
    # the lobby app, as it loads
    app = KioskApp(replace(faster_policy, database=tmp_path / "lobby.sqlite3"))
    assert app._open_and_load()[2] == configured_policy()
    # `kiosk estimate`, reading the same configuration
    status, out, _ = run("--config", str(tmp_path / "kiosk.toml"), "estimate",
                         stdin=json.dumps({"lines": [{"item": THERMOMETER}], "urgent": "24h"}))
    assert status == 0 and json.loads(out)["urgent_fen"] == 6_000
    # and the registration the kiosk signs says so: its code's policy hash is the configured one's
    ticket = register(replace(sample(urgent="24h"), lines=(InstrumentLine(request[0]),)), catalog,
                      configured_policy(), ensure_device("K1"))
    assert decode(ticket.code, keys_for).policy_hash == policy_hash(configured_policy())[:4]
    assert ticket.estimate.urgent_fen == 6_000
    default = estimate(EstimateRequest(request, "24h"), catalog.by_code, default_policy())
    assert default.urgent_fen == 12_000  # the built-in policy would have charged another figure


# ---- the line editor at the counter ------------------------------------------------------------


async def test_the_intake_editor_takes_the_add_ons_the_row_prices_by_keyboard_and_mouse():
    from textual.widgets import Checkbox

    from .kiosk_pilot import screen_text, settle
    from .test_desk_app import sign_in
    from .test_desk_intake import DESK, make_desk, open_editor, scan

    app, (number,) = make_desk()
    async with app.run_test(size=DESK) as pilot:
        await sign_in(pilot)
        await scan(pilot, number)
        editor = await open_editor(pilot, 1)  # the 7.5 m tape: priced by its length only
        shown = {name: editor.field(name).display for name in ("points", "ranges", "metres")}
        assert shown == {"points": False, "ranges": False, "metres": True}
        assert not editor.query_one("#ac_dc", Checkbox).display and editor.query_one("#extra_data", Checkbox).display
        assert editor.query_one("#field-metres").value == "7.5"
        await pilot.click("#field-metres")  # a tap, then the keyboard
        editor.query_one("#field-metres").value = ""
        await pilot.press(*"0", "enter")
        await settle(pilot)
        assert app.screen is editor and "长度应为大于0的米数" in screen_text(app)  # the kiosk's rule and words
        editor.query_one("#field-metres").value = ""
        await pilot.press(*"１２.５", "enter")  # full-width digits, as an input method types them
        await settle(pilot)
        assert app.screen is not editor and app.screen.draft.lines[1].metres == Decimal("12.5")
        assert "第2行 收据￥16.00，现￥26.00：长度由7.5米改为12.5米" in screen_text(app)
        # another fee row: the fields follow it (a thermometer is priced by its points)
        editor = await open_editor(pilot, 1)
        editor.query_one("#field-code").value = THERMOMETER
        await pilot.pause()
        assert editor.field("points").display and not editor.field("metres").display
        editor.query_one("#field-points").focus()
        await pilot.press(*"10", "enter")
        await settle(pilot)
        line = app.screen.draft.lines[1]
        assert (line.code, line.points, line.metres, line.service) == (THERMOMETER, 10, None, "calibration")
        text = screen_text(app)
        assert ("第2行 收据￥16.00，现￥330.00：收费标准号由C-003-001改为R-004-002；服务由检定改为校准；"
                "测量点由未填改为10；长度由7.5米改为未填") in text


# ---- every path, the same total to the fen -----------------------------------------------------


def _demo_rows():
    from kiosk.domain.catalog import parse_csv
    from kiosk.store.catalog import demo_csv

    return parse_csv(demo_csv(), "demo")


def tickets():
    """Random registrations: rows of the demo catalogue, quantities (some past the batch
    discounts), the add-ons each row prices, uses, extra data, an urgent tier."""
    from hypothesis import strategies as st

    from kiosk.domain.vocabulary import USES

    rows = _demo_rows()

    @st.composite
    def line(draw):
        row = draw(st.sampled_from(rows))
        maybe = lambda strategy, priced: draw(st.none() | strategy) if priced is not None else None
        return InstrumentLine(LineRequest(
            row.code, quantity=draw(st.integers(1, 12) | st.integers(45, 60)), use=draw(st.sampled_from(USES)),
            points=maybe(st.integers(1, 40), row.per_point_fen), ranges=maybe(st.integers(1, 20), row.per_range_fen),
            metres=maybe(st.integers(1, 60_000).map(lambda mm: Decimal(mm) / 1000), row.per_metre_fen),
            ac_dc=row.ac_dc_percent is not None and draw(st.booleans()), extra_data=draw(st.booleans())))

    return st.tuples(st.lists(line(), min_size=1, max_size=4), st.sampled_from((None, "72h", "24h", "8h")))


def test_every_path_gives_the_same_total_to_the_fen(tmp_path):
    """The kiosk's estimate, the stored ticket, the signed code (total and lines), a fresh desk's
    import from the code alone (and its intake as registered), the voucher's and the pickup
    slip's figures, and central's back office after the kiosk's push: one figure."""
    import uuid

    from fastapi.testclient import TestClient
    from hypothesis import HealthCheck, given, settings

    from central.app import create_app
    from central.devices import add_device
    from central.schema import open_storage
    from db.connection import open_database
    from db.models import OutboxEvent
    from kiosk.domain.ticketcode import KnownKey
    from kiosk.printing.receipts import counter_facts
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.desk import mark_ready, pick_up
    from kiosk.store.keys import signing_key
    from tests.central.nodes import Node, signed_enrolment
    from tests.central.office_users import office as office_headers

    storage = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    client = TestClient(create_app(storage))
    office = office_headers(storage, "clerk")  # the latest tickets are a clerk's to see, with their customers
    kiosk_db = open_database(tmp_path / "kiosk.sqlite3")
    ensure_catalog()
    kiosk = ensure_device("K1")
    catalog = load_catalog()
    key = signing_key(kiosk.uid)
    kiosk_db.close()
    enrolled = client.post("/api/v1/enroll", json=signed_enrolment(add_device(storage, "kiosk"), kiosk.uid, "K1", key))
    assert enrolled.status_code == 200, enrolled.text
    node = Node(kiosk.uid, "K1", "kiosk", enrolled.json()["token"], "")
    known = [KnownKey(kiosk.uid, key.public_key().public_bytes_raw())]

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(tickets())
    def one(ticket):
        lines, urgent = ticket
        reg = replace(sample(urgent=urgent), lines=tuple(lines))
        with node_database(tmp_path / "kiosk.sqlite3"):
            expected = estimate(EstimateRequest(tuple(ln.pricing for ln in lines), urgent), catalog.by_code,
                                default_policy(), catalog.version)
            ticket = register(reg, catalog, default_policy(), kiosk)
            stored = Ticket.get_by_id(ticket.id)
            event = OutboxEvent.get(OutboxEvent.uid == ticket.event_uid)
            pushed = {"uid": event.uid, "kind": event.kind, "created_at": event.created_at.isoformat(),
                      "payload": json.loads(event.payload)}
        total = expected.total_fen
        assert ticket.estimate == expected
        assert stored.total_fen == json.loads(stored.estimate_json)["total_fen"] == total
        record = decode(ticket.code, lambda signer: known)
        assert record.total_fen == total and record.carries_prices
        assert [(ln.amount_fen, ln.urgent_fen) for ln in record.lines] == [
            (ln.amount_fen, ln.urgent_fen) for ln in expected.lines]
        assert sum(ln.amount_fen or 0 for ln in record.lines) == expected.subtotal_fen
        assert sum(ln.urgent_fen or 0 for ln in record.lines) == expected.urgent_fen

        # a desk that has never synced: a fresh database, the kiosk's public key, the code
        with node_database(tmp_path / f"desk-{uuid.uuid4().hex}.sqlite3"):
            ensure_catalog()
            device = ensure_device("D1", role="clerk")
            clerk = add_clerk("wang", "王芳", "2468")
            ticket_id = import_ticket(ticket.code, keys_for=lambda signer: known)
            imported = Ticket.get_by_id(ticket_id)
            assert imported.total_fen == json.loads(imported.estimate_json)["total_fen"] == total
            assert not ParkedChange.select().exists()  # the same catalogue and policy: the same figures
            as_registered = price_intake(ticket_id)
            assert (as_registered.total_fen, as_registered.basis, as_registered.differences) == (total, "same", ())
            assert receive(ticket_id, clerk, device).total_fen == total
            assert counter_facts(ticket_id, "received").total_fen == total  # the pickup voucher
            mark_ready(ticket_id, clerk, device)
            pick_up(ticket_id, clerk, device)
            assert counter_facts(ticket_id, "picked_up").total_fen == total  # the pickup slip

        got = client.post("/api/v1/events", json={"events": [pushed]}, headers=node.headers)
        assert got.status_code == 200, got.text
        summary = client.get("/api/v1/office/summary", headers=office).json()
        (shown,) = [t for t in summary["tickets"]["recent"]["registered"] if t["number"] == ticket.number]
        assert shown["total_fen"] == total
        assert money_text(total) in client.get("/office", headers=office).text

    try:
        one()
    finally:
        client.close()
        storage.close()


@contextmanager
def node_database(path):
    """One node's database open (the models' proxy is process-wide: one node at a time), in
    autocommit as a node runs (a peewee database used as a context manager would be one transaction)."""
    from db.connection import open_database

    db = open_database(path)
    try:
        yield db
    finally:
        db.close()


def money_text(fen: int) -> str:
    from kiosk.i18n import money

    return money(fen, "zh")
