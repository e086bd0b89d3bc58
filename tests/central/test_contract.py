"""The kiosk's own outbox events, made by the real kiosk code (registration, the clerk
desk's three steps), are what central accepts, and what a desk pulls back is their payload."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from central.devices import add_device
from central.tickets import current

from ..test_registration import sample
from .nodes import Node, enrol, pull_all, push


def test_a_kiosk_ticket_through_the_desk_syncs_whole(client, storage, catalog):
    from db.models import OutboxEvent
    from kiosk.domain.fees import default_policy
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import mark_ready, pick_up, receive
    from kiosk.store.keys import signing_key
    from kiosk.store.registration import ensure_device, register

    device = ensure_device("K1")
    ticket = register(sample(), catalog, default_policy(), device)
    clerk = add_clerk("wang", "王芳", "2468")
    receive(ticket.id, clerk, device)
    mark_ready(ticket.id, clerk, device)
    pick_up(ticket.id, clerk, device, ["JD-2026-0001", "JD-2026-0002"])
    outbox = [{"uid": e.uid, "kind": e.kind, "created_at": e.created_at.isoformat(), "payload": json.loads(e.payload)}
              for e in OutboxEvent.select().order_by(OutboxEvent.seq)]
    assert [e["kind"] for e in outbox] == ["ticket.registered", "ticket.received", "ticket.ready",
                                           "ticket.picked_up"]

    key = base64.b64encode(signing_key(device.uid).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    got = client.post("/api/v1/enroll", json={"code": add_device(storage, "clerk"), "device_uid": device.uid,
                                              "prefix": device.prefix, "public_key": key.decode()})
    assert got.status_code == 200, got.text
    node = Node(device.uid, device.prefix, "clerk", got.json()["token"], key.decode())
    acked = push(client, node, *outbox)
    assert acked.status_code == 200, acked.text
    assert acked.json()["acked"] == [e["uid"] for e in outbox]
    assert current(storage, ticket.uid).status == "picked_up"

    other_desk = enrol(client, storage, "clerk")
    changes, _ = pull_all(client, other_desk)
    tickets = [c["data"] for c in changes if c["kind"].startswith("ticket.")]
    assert tickets[0] == outbox[0]["payload"]
    assert [(t["kind"], t["ticket"], t["number"]) for t in tickets[1:]] == [
        (kind, ticket.uid, ticket.number) for kind in ("received", "ready", "picked_up")]
    assert tickets[3]["certificates"] == {"0": "JD-2026-0001", "1": "JD-2026-0002"}
