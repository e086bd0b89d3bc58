"""Quarantine end to end: real devices (their own SQLite files, kiosk/sync's pass) and a real
central over HTTP (uvicorn), on SQLite and PostgreSQL. A stolen desk hands a ticket back and
closes a follow-up, a stolen kiosk issues a ticket and a rating; the honest desk and kiosk had
applied all of it. After `kiosk central revoke-device --void-since`, they take it back, and a
desk enrolled afterwards never sees it."""

from __future__ import annotations

import uuid

from db.models import Feedback, Followup, HeldChange, Ticket, TicketEvent
from kiosk.domain.clock import utc_now
from tests.central.test_voiding import kiosk_central, ok

from .conftest import register


def test_a_stolen_devices_work_is_taken_back_by_every_device_and_never_reaches_a_new_one(central, nodes, tmp_path,
                                                                                         capsys):
    from kiosk.domain.feedback import FeedbackEntry
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import history, mark_ready, pick_up, receive
    from kiosk.store.feedback import close_followup, give_feedback, open_followups
    from kiosk.store.registration import ensure_device

    kiosk, desk = nodes("kiosk", prefix="K1"), nodes("desk", role="clerk", prefix="D1")
    thief, thief_kiosk = nodes("thief", role="clerk", prefix="X1"), nodes("fake", prefix="F1")
    with kiosk.open():
        kiosk.enroll(central)
        (ticket,) = register(1)
        poor = give_feedback(FeedbackEntry(None, 1, reason="slow"), ensure_device())  # opens a follow-up
        assert kiosk.sync().pushed == 2
    with desk.open():
        desk.enroll(central)
        desk.sync()
        receive(Ticket.get(Ticket.uid == ticket.uid).id, add_clerk("wang", "王芳", "2468"), ensure_device())
        assert desk.sync().pushed == 1
    with thief_kiosk.open():
        thief_kiosk.enroll(central)
    with thief.open():
        thief.enroll(central)
        thief.sync()
        since = utc_now()  # stolen from here on
        local, li = Ticket.get(Ticket.uid == ticket.uid).id, add_clerk("li", "李明", "1357")
        mark_ready(local, li, ensure_device())
        pick_up(local, li, ensure_device())
        (followup,) = open_followups()
        close_followup(followup.id, li, "已回电", ensure_device())
        assert thief.sync().pushed == 3
    with thief_kiosk.open():
        (fake,) = register(1)
        give_feedback(FeedbackEntry(None, 5, hearts=("warm",)), ensure_device())
        assert thief_kiosk.sync().pushed == 2

    with desk.open():  # the honest desk believed all of it
        desk.sync()
        assert Ticket.get(Ticket.uid == ticket.uid).status == "picked_up"
        assert open_followups() == [] and Ticket.get_or_none(Ticket.uid == fake.uid) is not None
        assert Feedback.select().count() == 2
    with kiosk.open():  # and so did the kiosk whose ticket it is
        kiosk.sync()
        assert Ticket.get(Ticket.uid == ticket.uid).status == "picked_up"

    for device in (thief, thief_kiosk):
        status, out, _ = kiosk_central(tmp_path, capsys, central.storage, "revoke-device", device.uid,
                                       "--void-since", since.isoformat(), "--reason", "被盗")
        assert status == 0, out

    with desk.open():
        report = desk.sync()
        assert report.applied.voided == 5 and report.applied.parked == 0  # 2 steps, a close, a ticket, a rating
        local = Ticket.get(Ticket.uid == ticket.uid)
        assert local.status == "received" and [(s.kind, s.by) for s in history(local.id)] == [("received", "王芳")]
        assert [f.uid for f in open_followups()] == [followup.uid]
        assert Ticket.get_or_none(Ticket.uid == fake.uid) is None
        assert [f.uid for f in Feedback.select()] == [poor.uid]
        assert desk.sync().pulled == 0
    with kiosk.open():
        assert kiosk.sync().applied.voided == 2
        assert Ticket.get(Ticket.uid == ticket.uid).status == "received"
    with nodes("late", role="clerk", prefix="L1").open() as late:
        late.enroll(central)
        report = late.sync()
        assert (report.applied.tickets, report.applied.steps, report.applied.feedback) == (1, 1, 1)
        local = Ticket.get(Ticket.uid == ticket.uid)
        assert local.status == "received" and [e.kind for e in TicketEvent.select()] == ["received"]
        assert Followup.get(Followup.uid == followup.uid).status == "open"
        assert (report.applied.voided, report.applied.parked) == (0, 0)  # told, with nothing to take back


def test_a_voided_step_still_held_for_its_ticket_is_dropped_with_it(nodes):
    """A desk got the stolen desk's step before the ticket it is for: held. Voided meanwhile, it
    must not be applied when the ticket comes."""
    from kiosk.sync.feed import apply_changes

    thief, ticket, step = (f"0193aaaa-0000-7000-8000-0000000000{n}" for n in ("0f", "01", "02"))
    at = "2026-11-24T12:00:00+00:00"
    with nodes("desk", role="clerk").open() as desk:
        pickup = {"event": step, "ticket": ticket, "number": "K1-261124-0001", "device": thief, "at": at,
                  "clerk": {"username": "li", "name": "李明"}, "certificates": {}, "kind": "picked_up"}
        assert apply_changes([{"seq": 1000, "kind": "ticket.event", "data": pickup}], 1000, desk.uid).held == 1
        voided = {"voiding": 1, "device_uid": thief, "since": at, "reason": "被盗",
                  "events": [{"uid": "e1", "kind": "ticket.picked_up", "ticket": ticket, "ref": step, "at": at}]}
        applied = apply_changes([{"seq": 2000, "kind": "event.voided", "data": voided}], 2000, desk.uid)
        assert (applied.voided, applied.parked, HeldChange.select().count()) == (1, 0, 0)


def test_a_desk_pulls_past_whole_pages_of_voided_events_in_one_pass(central, nodes, tmp_path, capsys):
    """Central leaves voided events out of a page: a page of nothing else is empty and moves on."""
    from fastapi.testclient import TestClient

    from central.app import create_app
    from tests.central.nodes import enrol, push

    with TestClient(create_app(central.storage)) as client:
        thief = enrol(client, central.storage, "clerk")
        enrol(client, central.storage, "kiosk", prefix="K9")  # whose tickets the thief claims to take in
        since = utc_now()
        for batch in range(2):  # 1,000 forged intakes: two pages of the desk's pull
            ok(push(client, thief, *(thief.step("received", str(uuid.uuid4()), f"K9-261124-{batch}{i:03d}")
                                     for i in range(500))))
    assert kiosk_central(tmp_path, capsys, central.storage, "revoke-device", thief.uid, "--void-since",
                         since.isoformat())[0] == 0
    kiosk = nodes("kiosk", prefix="K1")
    with kiosk.open():
        kiosk.enroll(central)
        (ticket,) = register(1)
        kiosk.sync()
    with nodes("late", role="clerk", prefix="L1").open() as late:
        late.enroll(central)
        report = late.sync()
        assert (report.applied.tickets, report.applied.held) == (1, 0)
        assert Ticket.get(Ticket.uid == ticket.uid).status == "registered"
