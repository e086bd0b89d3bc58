"""Ticket status: an append-only history of facts from any device, in any order; the current
status is the furthest fact, the same whatever order the facts arrived in."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient

from central.api.quotas import Quotas
from central.app import create_app
from central.storage import ts
from central.tickets import current, derive, history

from .nodes import T0, enrol, push


def test_a_transition_before_its_registration_is_kept_and_the_status_only_goes_forward(client, storage):
    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    reg = kiosk.registered()
    ticket, number = reg["payload"]["ticket"]["uid"], reg["payload"]["ticket"]["number"]
    received = desk.step("received", ticket, number, at=T0 + timedelta(hours=1))
    assert push(client, desk, received).status_code == 200  # the desk synced first
    assert current(storage, ticket).status == "received"
    assert push(client, kiosk, reg).status_code == 200
    assert current(storage, ticket).status == "received"  # registration arriving late does not go back
    picked = desk.step("picked_up", ticket, number, at=T0 + timedelta(days=3))
    ready = desk.step("ready", ticket, number, at=T0 + timedelta(days=2))
    push(client, desk, picked)
    push(client, desk, ready)  # late, and behind: kept in the history, status unchanged
    now = current(storage, ticket)
    assert (now.status, now.since, now.number) == ("picked_up", T0 + timedelta(days=3), number)
    assert [f.status for f in history(storage, ticket)] == ["registered", "received", "ready", "picked_up"]


def test_two_desks_that_recorded_the_same_step_offline_both_stay_in_the_history(client, storage):
    kiosk = enrol(client, storage)
    desk_a, desk_b = enrol(client, storage, "clerk"), enrol(client, storage, "clerk")
    reg = kiosk.registered()
    ticket, number = reg["payload"]["ticket"]["uid"], reg["payload"]["ticket"]["number"]
    push(client, kiosk, reg)
    a = desk_a.step("received", ticket, number, at=T0 + timedelta(minutes=40), clerk="wang")
    b = desk_b.step("received", ticket, number, at=T0 + timedelta(minutes=10), clerk="li")
    push(client, desk_a, a)
    push(client, desk_b, b)
    facts = history(storage, ticket)
    assert [(f.status, f.device) for f in facts] == [("registered", kiosk.uid), ("received", desk_b.uid),
                                                     ("received", desk_a.uid)]
    now = current(storage, ticket)
    assert (now.status, now.since) == ("received", T0 + timedelta(minutes=10))  # the earlier record
    assert now == derive(facts)


def test_the_current_status_does_not_depend_on_the_order_facts_arrive_in(storage):
    """Every order of five facts (two desks disagreeing, one transition skipped ahead), each
    order on its own ticket: the same current status, equal to derive() over the history.
    ~400 pushes from three devices in a few seconds: over the push quota, which is not what
    this test is about (tests/central/test_limits.py is), so it runs unmetered."""
    with TestClient(create_app(storage, Quotas.parse("off"))) as client:
        _every_order_gives_one_status(client, storage)


def _every_order_gives_one_status(client, storage):
    kiosk = enrol(client, storage)
    desk_a, desk_b = enrol(client, storage, "clerk"), enrol(client, storage, "clerk")
    outcomes = set()
    for n, order in enumerate(itertools.permutations(range(5))):
        ticket, number = str(uuid.uuid4()), f"{kiosk.prefix}-261124-{n + 1:04d}"
        facts = [
            (kiosk, kiosk.registered(ticket=ticket, number=number)),
            (desk_a, desk_a.step("received", ticket, number, at=T0 + timedelta(hours=2))),
            (desk_b, desk_b.step("received", ticket, number, at=T0 + timedelta(hours=1))),
            (desk_b, desk_b.step("ready", ticket, number, at=T0 + timedelta(days=2))),
            (desk_a, desk_a.step("ready", ticket, number, at=T0 + timedelta(days=1))),
        ]
        if n % 2:  # half the orders in one batch per device, half one event at a time
            for i in order:
                assert push(client, facts[i][0], facts[i][1]).status_code == 200
        else:
            for node in (desk_b, kiosk, desk_a):
                mine = [facts[i][1] for i in order if facts[i][0] is node]
                assert push(client, node, *mine).status_code == 200
        now = current(storage, ticket)
        assert now == derive(history(storage, ticket))
        outcomes.add((now.status, now.since))
    assert outcomes == {("ready", T0 + timedelta(days=1))}


def test_counts_and_latest_by_status_agree_with_derive(client, storage):
    """The back office's read models (central/readmodels/) say what derive() says."""
    from central.office import summary

    kiosk, desk = enrol(client, storage), enrol(client, storage, "clerk")
    regs = [kiosk.registered(at=T0 + timedelta(minutes=i)) for i in range(6)]
    push(client, kiosk, *regs)
    steps = []
    for i, reg in enumerate(regs[:4]):
        t = reg["payload"]["ticket"]
        for n, status in enumerate(("received", "ready", "picked_up")[: 1 + i % 3]):
            steps.append(desk.step(status, t["uid"], t["number"], at=T0 + timedelta(hours=1 + i, minutes=n)))
    steps.append(desk.step("received", str(uuid.uuid4()), f"{kiosk.prefix}-261124-0999"))  # registration not here yet
    push(client, desk, *steps)
    found = summary(storage)["tickets"]
    assert found["counts"] == {"registered": 2, "received": 3, "ready": 1, "picked_up": 1}
    received = found["recent"]["received"]
    assert [v["status_at"] for v in received] == sorted((v["status_at"] for v in received), reverse=True)
    for view in received:
        now = derive(history(storage, view["uid"]))
        assert (now.status, ts(now.since), now.number) == ("received", view["status_at"], view["number"])
    assert sum(v["organisation"] is None for v in received) == 1  # the early step's ticket
