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
    pick_up(ticket.id, clerk, desk, ["JD-2026-0001", "JD-2026-0002"])
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
    assert tickets[3]["certificates"] == {"0": "JD-2026-0001", "1": "JD-2026-0002"}
