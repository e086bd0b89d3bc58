"""Scoping: a clerk desk pulls its own site's tickets, customers, steps, ratings and follow-ups and
no other site's; a lobby kiosk pulls no customer's details at all, only the steps of its own
tickets (central/feed.py, README-API.md "Who reads what")."""

from __future__ import annotations

import json

import pytest

from central import feed
from central.catalog import import_catalog
from kiosk.store.catalog import demo_csv

from .nodes import Node, enrol, pull_all, push
from .office_users import office


@pytest.fixture(autouse=True)
def two_sites(monkeypatch):
    monkeypatch.setenv("CENTRAL_SITES", "main,east")


def at_site(client, storage, role: str, site: str) -> Node:
    """A device enrolled with a code for `site` (`kiosk central add-device --site`)."""
    node = enrol(client, storage, role, site=site)
    with storage.read() as tx:
        assert tx.one("SELECT site FROM device WHERE uid = ?", (node.uid,))[0] == site
    return node


def by_kind(changes: list[dict]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for change in changes:
        found.setdefault(change["kind"], []).append(change["data"])
    return found


class Site:
    """A site's day: two kiosks' registrations (each its own customer), an intake, ready and
    pickup by one desk, a poor rating with a call-back phone, a follow-up closed at the desk and
    one closed in the back office."""

    def __init__(self, client, storage, name: str, serial: int):
        self.name = name
        self.kiosks = [at_site(client, storage, "kiosk", name) for _ in range(2)]
        self.desk, self.other_desk = at_site(client, storage, "clerk", name), at_site(client, storage, "clerk", name)
        self.phones, self.contacts = set(), set()
        self.registrations = []
        for i, kiosk in enumerate(self.kiosks):
            phone, contact = f"139{serial:04d}{i:04d}", f"联系人{name}{i}"
            reg = kiosk.registered(phone=phone, organisation=f"{name}测试仪表有限公司{i}")
            reg["payload"]["customer"]["contact"] = contact
            self.phones.add(phone)
            self.contacts.add(contact)
            self.registrations.append(reg)
            assert push(client, kiosk, reg).status_code == 200
        self.tickets = {reg["payload"]["ticket"]["uid"] for reg in self.registrations}
        self.steps = []
        for reg in self.registrations:
            t = reg["payload"]["ticket"]
            self.steps += [self.other_desk.step(kind, t["uid"], t["number"]) for kind in ("received", "ready",
                                                                                          "picked_up")]
        assert push(client, self.other_desk, *self.steps).status_code == 200
        self.ratings = []
        for i, (kiosk, reg) in enumerate(zip(self.kiosks, self.registrations)):
            phone = f"137{serial:04d}{i:04d}"
            self.phones.add(phone)
            t = reg["payload"]["ticket"]
            self.ratings.append(kiosk.feedback(1, ticket=t["uid"], number=t["number"], phone=phone,
                                               comment=f"{name}的意见{i}"))
            assert push(client, kiosk, self.ratings[-1]).status_code == 200
        self.desk_close = self.other_desk.closed(self.ratings[0])
        assert push(client, self.other_desk, self.desk_close).status_code == 200
        self.office_followup = self.ratings[1]["payload"]["followup"]["uid"]
        got = client.post(f"/api/v1/office/followups/{self.office_followup}/close", json={"note": "已回电"},
                          headers=office(storage, "clerk"))
        assert got.status_code == 200, got.text

    @property
    def followups(self) -> set[str]:
        return {rating["payload"]["followup"]["uid"] for rating in self.ratings}


def test_a_desk_gets_its_own_sites_work_and_nothing_of_another_site(client, storage):
    main, east = Site(client, storage, "main", 1), Site(client, storage, "east", 2)
    import_catalog(storage, demo_csv(), "demo.csv")

    changes, _ = pull_all(client, east.desk)
    got = by_kind(changes)
    assert {d["ticket"]["uid"] for d in got["ticket.registered"]} == east.tickets
    assert [d["event"] for d in got["ticket.event"]] == [s["payload"]["event"] for s in east.steps]
    assert {d["feedback"] for d in got["feedback.given"]} == {r["payload"]["feedback"] for r in east.ratings}
    closed = {d["followup"]: d.get("via") for d in got["followup.closed"]}
    assert closed == {east.desk_close["payload"]["followup"]: None, east.office_followup: "office"}
    # Central's own changes reach every site: device keys, the catalogue, organisation names.
    assert len(got["device.key"]) == 8 and len(got["catalog.version"]) == 1 and got["organisation.known"]
    text = json.dumps(changes, ensure_ascii=False)
    for secret in main.phones | main.contacts | main.tickets | main.followups:
        assert secret not in text

    # And the same seen from main: its own, none of east's.
    changes, _ = pull_all(client, main.desk)
    got = by_kind(changes)
    assert {d["ticket"]["uid"] for d in got["ticket.registered"]} == main.tickets
    assert {d["ticket"] for d in got["ticket.event"]} == main.tickets
    assert {d["followup"] for d in got["followup.closed"]} == main.followups
    text = json.dumps(changes, ensure_ascii=False)
    for secret in east.phones | east.contacts | east.tickets | east.followups:
        assert secret not in text


def test_a_kiosk_gets_no_customers_details_and_only_its_own_tickets_steps(client, storage):
    main, east = Site(client, storage, "main", 3), Site(client, storage, "east", 4)
    kiosk = main.kiosks[0]
    own = main.registrations[0]["payload"]["ticket"]["uid"]
    others = (main.tickets | east.tickets) - {own}
    changes, _ = pull_all(client, kiosk)
    assert {c["kind"] for c in changes} == {"device.key", "organisation.known", "ticket.event"}
    assert {c["data"]["ticket"] for c in changes if c["kind"] == "ticket.event"} == {own}
    secrets = (main.phones | east.phones | main.contacts | east.contacts | others | main.followups
               | east.followups)
    for change in changes:  # every change it gets, as text: not one phone, contact or other ticket
        text = json.dumps(change, ensure_ascii=False)
        assert not [secret for secret in secrets if secret in text], change
        assert "customer" not in change["data"] and "phone" not in change["data"]


def test_changes_stored_with_no_site_reach_every_sites_desks(client, storage):
    """Rows written before schema 4 have no site (README-API.md): every desk of every site gets them."""
    kiosk = at_site(client, storage, "kiosk", "main")
    main_desk, east_desk = at_site(client, storage, "clerk", "main"), at_site(client, storage, "clerk", "east")
    reg = kiosk.registered()
    assert push(client, kiosk, reg).status_code == 200
    with storage.transaction() as tx:
        event_id = tx.one("SELECT id FROM event WHERE uid = ?", (reg["uid"],))[0]
        feed.publish_events(tx, None, [(event_id, "ticket.registered")])  # as the upgrades published the stored
    for desk, times in ((main_desk, 2), (east_desk, 1)):
        changes, _ = pull_all(client, desk)
        assert [c["data"]["ticket"]["uid"] for c in changes if c["kind"] == "ticket.registered"] == [
            reg["payload"]["ticket"]["uid"]] * times


def test_a_desks_pull_is_an_index_range_scan_per_scope(storage):
    """However many rows of another site lie between a desk's cursor and the clock (here a big
    site `main`, a small one `east`, central's own rows rare), each of its pull's statements walks
    only its own scope's rows (no table scan, no walk over the other site's rows)."""
    rows = [(seq, feed.EVENTS, 1, 1, "[1]", None, None if seq % 200 == 0 else "east" if seq % 20 == 0 else "main",
             "2026-11-24T00:00:00+00:00") for seq in range(1, 30_001)]
    with storage.transaction() as tx:
        storage.bulk_insert(tx, "feed", ("seq", "kind", "audience", "origin", "event_ids", "target", "site",
                                         "created_at"), rows)
        tx.execute("UPDATE feed_clock SET seq = 30000")
    with storage.transaction() as tx:
        tx.execute("ANALYZE feed")
    for where, params in feed.scopes("clerk", "east"):
        sql = feed.scoped_select(storage, where)
        args = (*params, 10, 30_000, 7, 7, 502)
        with storage.read() as tx:
            if storage.postgres:
                plan = "\n".join(row[0] for row in tx.all(f"EXPLAIN {sql}", args))
                assert "Index Scan using feed_site" in plan and "Seq Scan on feed" not in plan, plan
            else:
                plan = "\n".join(row[-1] for row in tx.all(f"EXPLAIN QUERY PLAN {sql}", args))
                assert "USING INDEX feed_site" in plan and "TEMP B-TREE" not in plan, plan
