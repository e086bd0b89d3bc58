"""The kiosk's own outbox events, made by the real kiosk code (registration, the clerk
desk's three steps), are what central accepts, and what a desk pulls back is their payload.
One database plays both devices: the lobby kiosk that registers and the desk that takes the
steps (central takes each kind only from its role)."""

from __future__ import annotations

import json

from central.devices import add_device
from central.tickets import current

from ..test_registration import sample
from .nodes import Node, enrol, pull_all, push, signed_enrolment


def test_a_kiosk_ticket_through_the_desk_syncs_whole(client, storage, catalog):
    from db.models import Device, OutboxEvent
    from kiosk.domain.clock import utc_now
    from kiosk.domain.fees import default_policy
    from kiosk.domain.ids import uuid7
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import mark_ready, pick_up, receive
    from kiosk.store.keys import signing_key
    from kiosk.store.registration import ensure_device, register

    device = ensure_device("K1")
    ticket = register(sample(), catalog, default_policy(), device)
    desk = Device.create(uid=uuid7(), prefix="D1", role="clerk", created_at=utc_now())
    clerk = add_clerk("wang", "王芳", "2468")
    receive(ticket.id, clerk, desk)
    mark_ready(ticket.id, clerk, desk)
    pick_up(ticket.id, clerk, desk, [["JD-2026-0001", "", "JD-2026-0003"], "JD-2026-0004"])  # 3 gauges, a tape
    outbox = [{"uid": e.uid, "kind": e.kind, "created_at": e.created_at.isoformat(), "payload": json.loads(e.payload)}
              for e in OutboxEvent.select().order_by(OutboxEvent.seq)]
    assert [e["kind"] for e in outbox] == ["ticket.registered", "ticket.received", "ticket.ready",
                                           "ticket.picked_up"]

    nodes = []
    for me, role in ((device, "kiosk"), (desk, "clerk")):
        enrolment = signed_enrolment(add_device(storage, role), me.uid, me.prefix, signing_key(me.uid))
        got = client.post("/api/v1/enroll", json=enrolment)
        assert got.status_code == 200, got.text
        nodes.append(Node(me.uid, me.prefix, role, got.json()["token"], enrolment["public_key"]))
    for node, theirs in zip(nodes, (outbox[:1], outbox[1:])):
        acked = push(client, node, *theirs)
        assert acked.status_code == 200, acked.text
        assert acked.json()["acked"] == [e["uid"] for e in theirs]
    assert current(storage, ticket.uid).status == "picked_up"

    other_desk = enrol(client, storage, "clerk")
    changes, _ = pull_all(client, other_desk)
    tickets = [c["data"] for c in changes if c["kind"].startswith("ticket.")]
    assert tickets[0] == outbox[0]["payload"]
    assert [(t["kind"], t["ticket"], t["number"]) for t in tickets[1:]] == [
        (kind, ticket.uid, ticket.number) for kind in ("received", "ready", "picked_up")]
    assert tickets[3]["certificates"] == {"0": ["JD-2026-0001", "", "JD-2026-0003"], "1": ["JD-2026-0004"]}


def test_central_takes_certificates_per_instrument_and_a_line_number_from_an_older_desk(client, storage):
    """A desk writes one number per instrument (a list per intake line); a desk from before
    wrote one per line (a string): central's strict shape takes both, and still refuses what
    is neither, by name."""
    from .test_trust import refused, ticket_of

    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = kiosk.registered()
    push(client, kiosk, reg)
    ticket, number = ticket_of(reg)
    steps = [desk.step(kind, ticket, number) for kind in ("received", "ready", "picked_up")]
    bad = dict(steps[2], payload=steps[2]["payload"] | {"certificates": {"0": ["JD-1", {"no": "JD-2"}]}})
    refused(client, storage, desk, steps[:2] + [bad], bad, "invalid", "payload.certificates")
    too_long = dict(steps[2], payload=steps[2]["payload"] | {"certificates": {"0": ["N" * 41]}})
    refused(client, storage, desk, steps[:2] + [too_long], too_long, "invalid", "payload.certificates")
    for certificates in ({"0": ["JD-1", "", "JD-3"]}, {"0": "JD-1"}):  # this desk's shape, an older desk's
        reg = kiosk.registered()
        push(client, kiosk, reg)
        ticket, number = ticket_of(reg)
        received, ready, picked_up = (desk.step(kind, ticket, number) for kind in ("received", "ready", "picked_up"))
        picked_up["payload"]["certificates"] = certificates
        got = push(client, desk, received, ready, picked_up)
        assert got.status_code == 200, got.text
        assert current(storage, ticket).status == "picked_up"
