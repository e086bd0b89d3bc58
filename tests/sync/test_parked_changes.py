"""A node never stops on a change it cannot apply (kiosk/sync/feed.py): each change of a page
is applied in a savepoint of its own; one that fails is rolled back alone and parked with the
reason (kiosk/store/parked.py), the rest of the page applies and the cursor moves past it all.
Only the disk failing fails the page. The pages here are built by hand, as central sends them
(the registrations from a real registration's outbox event); tests/test_desk_poison.py feeds
the same poison to a running desk through a real central."""

from __future__ import annotations

import json
import logging
import sqlite3

import peewee
import pytest

from db.models import HeldChange, OutboxEvent, ParkedChange, Ticket, TicketEvent, database_proxy
from kiosk.domain.fees import default_policy
from kiosk.store.registration import ensure_device, register

from ..test_registration import sample

KIOSK = "0193aaaa-0000-7000-8000-0000000000f1"  # another node's kiosk
DESK = "0193aaaa-0000-7000-8000-0000000000d2"  # another node's desk
NUMBER = "K7-261124-0001"
PHONE, ORGANISATION = "13812345678", "示范燃气有限公司"  # sample()'s customer: never in a log line


def uid(n: int) -> str:
    return f"0193cccc-0000-7000-8000-{n:012d}"


@pytest.fixture
def desk(db, catalog):
    """A clerk desk's database, and a registration's payload as its kiosk pushed it."""
    own = ensure_device("D1", role="clerk")
    ticket = register(sample(), catalog, default_policy(), own)
    return own, json.loads(OutboxEvent.get(OutboxEvent.uid == ticket.event_uid).payload)


def registered(seq: int, payload: dict, ticket_uid: str, number: str = NUMBER) -> dict:
    return {"seq": seq, "kind": "ticket.registered",
            "data": {**payload, "ticket": {**payload["ticket"], "uid": ticket_uid, "number": number, "device": KIOSK}}}


def received(seq: int, ticket_uid: str | None, **extra) -> dict:
    return {"seq": seq, "kind": "ticket.event", "data": {
        "event": uid(900 + seq), "ticket": ticket_uid, "number": NUMBER, "device": DESK,
        "at": "2026-11-24T03:00:00+00:00", "kind": "received", **extra}}


def test_each_change_that_fails_is_parked_alone_and_the_rest_of_the_page_applies(desk, caplog):
    from kiosk.sync.feed import apply_changes, cursor

    own, payload = desk
    caplog.set_level(logging.INFO, logger="kiosk.sync.feed")
    page = [
        registered(1000, payload, uid(1)),
        registered(2000, payload, uid(2)),  # the same number under another uid: a restored kiosk's
        received(3000, None),  # a step for no ticket at all: cannot even be held
        {"seq": 4000, "kind": "ticket.event", "data": {"number": NUMBER, "kind": "ready"}},  # no ticket named
        {"seq": 5000, "kind": "feedback.given", "data": {"feedback": 12, "phone": PHONE}},  # not of its shape
        {"seq": 6000, "kind": "ticket.weighed", "data": {"ticket": uid(1), "grams": 1200}},  # a newer central's
        "not a change",
        {"kind": "device.key", "data": {}},  # no seq
        received(7000, uid(3)),  # its ticket not here yet: held, as before
        registered(8000, payload, uid(3), number="K7-261124-0002"),  # ... and here it comes
    ]
    applied = apply_changes(page, 9000, own.uid)

    assert (applied.tickets, applied.steps, applied.held, applied.parked) == (2, 1, 1, 7)
    assert cursor() == 9000  # past every change of the page, the parked ones too
    assert Ticket.get(Ticket.number == NUMBER).uid == uid(1)  # the first holder keeps its number
    assert not Ticket.select().where(Ticket.uid == uid(2)).exists()
    assert Ticket.get(Ticket.uid == uid(3)).status == "received" and HeldChange.select().count() == 0
    parked = {(row.seq, row.kind): row.reason for row in ParkedChange.select()}
    assert parked == {
        (2000, "ticket.registered"): "conflict: UNIQUE constraint failed: ticket.number",
        (3000, "ticket.event"): "malformed: Expected `str`, got `null` - at `$.ticket`",
        (4000, "ticket.event"): "malformed: Object missing required field `event`",
        (5000, "feedback.given"): parked[(5000, "feedback.given")],
        (6000, "ticket.weighed"): "unknown kind",
        (None, None): "malformed: a change that is not an object",
        (None, "device.key"): "malformed: a change without a whole-number seq",
    }
    assert parked[(5000, "feedback.given")].startswith("malformed: Expected `str`")
    # Kept whole, so a later version can apply it; and a change that failed left nothing behind.
    kept = ParkedChange.get(ParkedChange.seq == 6000)
    assert json.loads(kept.data) == {"ticket": uid(1), "grams": 1200}
    assert json.loads(ParkedChange.get(ParkedChange.seq == 2000).data)["ticket"]["uid"] == uid(2)
    assert Ticket.select().count() == 3  # the desk's own, uid(1), uid(3): nothing of uid(2)
    # The log says which change and why, and nothing about the customer.
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 7 and any("2000" in w and "ticket.number" in w for w in warnings)
    assert PHONE not in caplog.text and ORGANISATION not in caplog.text


def test_text_another_node_wrote_that_hides_a_character_is_parked_not_stored(desk, caplog):
    """What this node refuses in its own text (U+202E RIGHT-TO-LEFT OVERRIDE, a zero-width space)
    it refuses in another desk's step, rating or note as central relays it."""
    from db.models import Feedback, IntakeLine
    from kiosk.sync.feed import apply_changes

    own, payload = desk
    line = {"code": "L-001-001", "quantity": 1, "service": "verification", "use": "safety", "ticket_line_id": 1}
    rating = {"feedback": uid(5), "device": KIOSK, "at": "2026-11-24T04:00:00+00:00", "rating": 5,
              "level": "very_satisfied", "comment": "很快\u202e"}
    page = [
        registered(1000, payload, uid(1)),
        received(2000, uid(1), clerk={"username": "li", "name": "李\u202e明"}),
        received(3000, uid(1), lines=[{**line, "condition": "表盘\u200b划痕"}]),
        {"seq": 4000, "kind": "feedback.given", "data": rating},
        received(5000, uid(1), lines=[{**line, "condition": "表盘划痕"}],  # the catalogue's words: not checked
                 estimate={"lines": [{"name_zh": "压力表\u00ad", "amount_fen": 1000}]}),
    ]
    applied = apply_changes(page, 5000, own.uid)

    assert (applied.tickets, applied.steps, applied.feedback, applied.parked) == (1, 1, 0, 3)
    assert {row.seq: row.reason for row in ParkedChange.select()} == {
        2000: "malformed: ticket.event.clerk.name: contains control characters",
        3000: "malformed: ticket.event.lines[0].condition: contains control characters",
        4000: "malformed: feedback.given.comment: contains control characters",
    }
    assert [row.condition for row in IntakeLine.select()] == ["表盘划痕"] and Feedback.select().count() == 0
    assert "李" not in caplog.text and "很快" not in caplog.text


def test_a_page_read_again_parks_nothing_twice(desk):
    from kiosk.sync.feed import apply_changes

    own, payload = desk
    page = [registered(1000, payload, uid(1)), registered(2000, payload, uid(2))]
    apply_changes(page, 2000, own.uid)
    again = apply_changes(page, 2000, own.uid)  # a lost answer: central sends the page again
    assert (again.tickets, again.parked) == (0, 1) and ParkedChange.select().count() == 1


def test_a_change_whose_kind_is_not_a_string_is_parked_and_the_page_applies(desk):
    """A kind that is JSON but no string (a list would not even look up as a key) is a kind
    this node does not know: parked, the rest of the page applied, the cursor past it all."""
    from kiosk.sync.feed import apply_changes, cursor

    own, payload = desk
    page = [{"seq": 1000, "kind": ["ticket.registered"], "data": {}},
            {"seq": 2000, "kind": {"name": "ticket.event"}, "data": {}},
            registered(3000, payload, uid(1))]
    applied = apply_changes(page, 3000, own.uid)
    assert (applied.tickets, applied.parked) == (1, 2) and cursor() == 3000
    parked = {row.seq: (row.kind, row.reason) for row in ParkedChange.select()}
    assert parked == {1000: (None, "unknown kind"), 2000: (None, "unknown kind")}


def test_a_held_step_that_fails_when_its_ticket_comes_is_parked_and_the_ticket_stays(desk):
    """A step held by an earlier version, which held steps before reading their shape."""
    from kiosk.sync.feed import apply_changes

    own, payload = desk
    HeldChange.create(seq=1000, ticket_uid=uid(1), data=json.dumps(received(1000, uid(1), lines="no list")["data"]))
    applied = apply_changes([registered(2000, payload, uid(1))], 2000, own.uid)
    assert (applied.tickets, applied.steps, applied.parked) == (1, 0, 1)
    assert Ticket.get(Ticket.uid == uid(1)).status == "registered"
    assert not TicketEvent.select().where(TicketEvent.uid == uid(1900)).exists()
    row = ParkedChange.get(ParkedChange.seq == 1000)
    assert row.kind == "ticket.event" and row.reason == "malformed: Expected `array | null`, got `str` - at `$.lines`"
    assert HeldChange.select().count() == 0


def test_the_disk_refusing_writes_fails_the_page_whole_and_parks_nothing(desk):
    """Not the change's fault: nothing of the page is applied, the cursor stays, the pass is
    tried again (a database that takes no writes: SQLite's query_only, SQLITE_READONLY)."""
    from kiosk.sync.feed import apply_changes, cursor

    own, payload = desk
    database_proxy.execute_sql("PRAGMA query_only = 1")
    try:
        with pytest.raises(Exception, match="readonly") as failed:
            apply_changes([registered(1000, payload, uid(1))], 1000, own.uid)
    finally:
        database_proxy.execute_sql("PRAGMA query_only = 0")
    assert isinstance(failed.value, sqlite3.OperationalError | peewee.OperationalError)
    assert cursor() == 0 and ParkedChange.select().count() == 0
    assert not Ticket.select().where(Ticket.uid == uid(1)).exists()


def test_sync_parked_lists_what_central_refused_and_what_was_set_aside(desk, tmp_path, capsys):
    """`kiosk sync --parked` in zh (the node's language) and en; `kiosk doctor` counts them."""
    from dataclasses import replace

    from kiosk.cli import main
    from kiosk.ops.doctor import run_checks
    from kiosk.settings.config import load_config
    from kiosk.sync.client import PushAnswer
    from kiosk.sync.feed import apply_changes
    from kiosk.sync.outbox import record_push

    own, payload = desk
    apply_changes([registered(1000, payload, uid(1)), registered(2000, payload, uid(2)),
                   {"seq": 3000, "kind": "ticket.weighed", "data": {}}], 3000, own.uid)
    pushed = OutboxEvent.get()
    record_push(PushAnswer([], {pushed.uid: "number_taken: ticket.number"}))
    database_proxy.close()
    path = tmp_path / "kiosk.sqlite3"

    assert main(["--db", str(path), "sync", "--parked"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "中心系统拒收的本机记录（1条）：编号、类型、原因"
    assert lines[1] == f"{pushed.uid}\tticket.registered\tnumber_taken: ticket.number"
    assert lines[2] == "本机未能应用、已搁置的变更（2条）：序号、类型、原因、时间"
    assert lines[3].startswith("2000\tticket.registered\tconflict: UNIQUE constraint failed: ticket.number\t20")
    assert lines[4].startswith("3000\tticket.weighed\tunknown kind\t")
    assert PHONE not in "\n".join(lines) and len(lines) == 5
    assert main(["--db", str(path), "sync", "--parked", "--lang", "en"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Events the central system refused (1): uid, kind, reason"
    assert lines[2] == "Changes this device could not apply, set aside (2): seq, kind, reason, when"

    central = {c.name: c for c in run_checks(replace(load_config(), database=path))}["central"]
    assert central.level == "warn" and central.data["changes_parked"] == 2
    assert central.message.text("en") == ("2 changes could not be applied here and were set aside: "
                                          "see kiosk sync --parked")
    assert central.message.text("zh") == "本机有2条变更未能应用、已搁置，请运行 kiosk sync --parked 查看"
