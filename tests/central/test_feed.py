"""Pull: a cursor over the change feed; each role gets its kinds; a device's own pushes are not
sent back to it."""

from __future__ import annotations

import base64

from central.catalog import import_catalog
from central.devices import revoke
from kiosk.domain.catalog import parse_csv, to_csv
from kiosk.store.catalog import demo_csv

from .nodes import enrol, pull_all, push


def kinds(changes) -> list[str]:
    return [c["kind"] for c in changes]


def test_roles_filter_the_feed_and_nobody_gets_their_own_pushes_back(client, storage):
    kiosk, desk, other_desk = enrol(client, storage), enrol(client, storage, "clerk"), enrol(client, storage, "clerk")
    reg = kiosk.registered()
    ticket, number = reg["payload"]["ticket"]["uid"], reg["payload"]["ticket"]["number"]
    assert push(client, kiosk, reg).status_code == 200
    assert push(client, desk, desk.step("received", ticket, number)).status_code == 200
    import_catalog(storage, demo_csv(), "demo.csv")
    revoke(storage, other_desk.uid)

    on_kiosk, _ = pull_all(client, kiosk)
    # The kiosk gets the step of the ticket it registered (its customer rates after pickup there).
    assert kinds(on_kiosk) == ["device.key"] * 3 + ["ticket.event", "catalog.version", "device.revoked"]
    on_desk, _ = pull_all(client, desk)
    assert kinds(on_desk) == ["device.key"] * 3 + ["ticket.registered", "organisation.known", "catalog.version",
                                                   "device.revoked"]
    seqs = [c["seq"] for c in on_desk]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_a_kiosk_gets_the_steps_of_its_own_tickets_and_of_no_other(client, storage):
    kiosk, other_kiosk, desk = enrol(client, storage), enrol(client, storage), enrol(client, storage, "clerk")
    mine, theirs = kiosk.registered(), other_kiosk.registered()
    push(client, kiosk, mine)
    push(client, other_kiosk, theirs)
    for reg in (mine, theirs):
        t = reg["payload"]["ticket"]
        push(client, desk, desk.step("received", t["uid"], t["number"]), desk.step("picked_up", t["uid"], t["number"]))
    on_kiosk, _ = pull_all(client, kiosk)
    steps = [c["data"] for c in on_kiosk if c["kind"] == "ticket.event"]
    assert [(s["ticket"], s["kind"]) for s in steps] == [(mine["payload"]["ticket"]["uid"], "received"),
                                                          (mine["payload"]["ticket"]["uid"], "picked_up")]
    on_other, _ = pull_all(client, other_kiosk)
    assert ({c["data"]["ticket"] for c in on_other if c["kind"] == "ticket.event"}
            == {theirs["payload"]["ticket"]["uid"]})
    on_desk, _ = pull_all(client, desk)  # the desk is not sent its own steps, by target or otherwise
    assert "ticket.event" not in kinds(on_desk)


def test_steps_pushed_before_the_registration_reach_the_kiosk_when_it_arrives(client, storage):
    """A desk took the ticket in from its QR code while the kiosk was offline."""
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = kiosk.registered()
    t = reg["payload"]["ticket"]
    push(client, desk, desk.step("received", t["uid"], t["number"]))
    before, cursor = pull_all(client, kiosk)
    assert "ticket.event" not in kinds(before)
    push(client, kiosk, reg)
    after, _ = pull_all(client, kiosk, after=cursor)
    assert [(c["kind"], c["data"]["kind"]) for c in after] == [("ticket.event", "received")]


def test_change_data_as_the_contract_says(client, storage):
    kiosk, desk = enrol(client, storage, prefix="K1"), enrol(client, storage, "clerk", prefix="D1")
    reg = kiosk.registered()
    ticket, number = reg["payload"]["ticket"]["uid"], reg["payload"]["ticket"]["number"]
    push(client, kiosk, reg)
    other_desk = enrol(client, storage, "clerk", prefix="D2")
    steps = [other_desk.step("received", ticket, number)]
    push(client, other_desk, *steps)
    import_catalog(storage, demo_csv(), "demo.csv")
    revoke(storage, kiosk.uid)
    changes, _ = pull_all(client, desk)
    by_kind = {}
    for c in changes:
        by_kind.setdefault(c["kind"], []).append(c["data"])
    assert by_kind["device.key"][0] == {"device_uid": kiosk.uid, "public_key": kiosk.key, "role": "kiosk",
                                        "prefix": "K1", "name": ""}
    assert len(base64.b64decode(by_kind["device.key"][0]["public_key"])) == 32
    assert by_kind["ticket.registered"] == [reg["payload"]]
    assert by_kind["ticket.event"] == [{**steps[0]["payload"], "kind": "received"}]
    catalog = by_kind["catalog.version"][0]
    assert set(catalog) == {"version", "sha256", "source", "csv"} and catalog["source"] == "demo.csv"
    assert catalog["csv"] == to_csv(parse_csv(demo_csv()))
    assert set(by_kind["device.revoked"][0]) == {"device_uid", "revoked_at"}


def test_the_cursor_pages_and_resumes(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    push(client, kiosk, *[kiosk.registered() for _ in range(7)])
    got = client.get("/api/v1/changes", params={"after": 0, "limit": 3}, headers=desk.headers).json()
    assert len(got["changes"]) == 3 and got["more"] is True and got["next"] == got["changes"][-1]["seq"]
    rest, cursor = pull_all(client, desk, after=got["next"], limit=3)  # pages end inside the batch
    everything = got["changes"] + rest
    assert len(everything) == 2 + 7 + 1  # two device keys, seven tickets, their organisation's name (once)
    seqs = [c["seq"] for c in everything]
    assert seqs == sorted(set(seqs))
    assert pull_all(client, desk, after=cursor) == ([], cursor)
    push(client, kiosk, kiosk.registered())
    newer, _ = pull_all(client, desk, after=cursor)
    assert kinds(newer) == ["ticket.registered"]


def test_a_kiosk_cursor_skips_over_what_it_does_not_get(client, storage):
    kiosk, other = enrol(client, storage), enrol(client, storage)
    push(client, other, other.registered())
    push(client, kiosk, *[kiosk.registered() for _ in range(5)])
    changes, cursor = pull_all(client, kiosk)
    # The organisation's name the other kiosk's registration brought (names go to every device);
    # this kiosk's own pushes brought it again, not published again.
    assert kinds(changes) == ["device.key", "device.key", "organisation.known"]
    with storage.read() as tx:
        clock = tx.one("SELECT seq FROM feed_clock")[0]
    assert cursor // 1000 == clock  # no need to scan those again


def test_bad_cursors_and_limits_are_422(client, storage):
    kiosk = enrol(client, storage)
    for params in ({"after": -1}, {"limit": 0}, {"limit": 1001}, {"after": "x"},
                   {"after": "5\x85"}, {"limit": "１0"}, {"after": "1.0"}):
        assert client.get("/api/v1/changes", params=params, headers=kiosk.headers).status_code == 422
    assert client.get("/api/v1/changes", params={"limit": 1000}, headers=kiosk.headers).status_code == 200
