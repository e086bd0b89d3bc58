"""Pull: a cursor over the change feed; each role gets its kinds; a device's own pushes are not
sent back to it."""

from __future__ import annotations

import base64

from central.catalog import import_catalog
from central.devices import revoke
from kiosk.catalog import parse_csv, to_csv
from kiosk.catalog_store import demo_csv

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
    assert kinds(on_kiosk) == ["device.key"] * 3 + ["catalog.version", "device.revoked"]
    on_desk, _ = pull_all(client, desk)
    assert kinds(on_desk) == ["device.key"] * 3 + ["ticket.registered", "catalog.version", "device.revoked"]
    seqs = [c["seq"] for c in on_desk]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_change_data_as_the_contract_says(client, storage):
    kiosk, desk = enrol(client, storage, prefix="K1"), enrol(client, storage, "clerk", prefix="D1")
    reg = kiosk.registered()
    ticket, number = reg["payload"]["ticket"]["uid"], reg["payload"]["ticket"]["number"]
    push(client, kiosk, reg)
    steps = [kiosk.step("received", ticket, number)]  # the kiosk has no desk, but the shape is the same
    steps[0]["payload"]["device"] = kiosk.uid
    push(client, kiosk, *steps)
    import_catalog(storage, demo_csv(), "demo.csv")
    revoke(storage, kiosk.uid)
    changes, _ = pull_all(client, desk)
    by_kind = {}
    for c in changes:
        by_kind.setdefault(c["kind"], []).append(c["data"])
    assert by_kind["device.key"][0] == {"device_uid": kiosk.uid, "public_key": kiosk.key, "role": "kiosk",
                                        "prefix": "K1"}
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
    assert len(everything) == 2 + 7  # two device keys, seven tickets
    seqs = [c["seq"] for c in everything]
    assert seqs == sorted(set(seqs))
    assert pull_all(client, desk, after=cursor) == ([], cursor)
    push(client, kiosk, kiosk.registered())
    newer, _ = pull_all(client, desk, after=cursor)
    assert kinds(newer) == ["ticket.registered"]


def test_a_kiosk_cursor_skips_over_what_it_does_not_get(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    push(client, desk, desk.registered())  # shapes allow a desk to register too
    push(client, kiosk, *[kiosk.registered() for _ in range(5)])
    changes, cursor = pull_all(client, kiosk)
    assert kinds(changes) == ["device.key", "device.key"]
    with storage.read() as tx:
        clock = tx.one("SELECT seq FROM feed_clock")[0]
    assert cursor // 1000 == clock  # no need to scan those again


def test_bad_cursors_and_limits_are_422(client, storage):
    kiosk = enrol(client, storage)
    for params in ({"after": -1}, {"limit": 0}, {"limit": 1001}, {"after": "x"}):
        assert client.get("/api/v1/changes", params=params, headers=kiosk.headers).status_code == 422
    assert client.get("/api/v1/changes", params={"limit": 1000}, headers=kiosk.headers).status_code == 200
