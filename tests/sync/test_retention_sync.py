"""Retention reaches the desks: a real kiosk and clerk desk (their own SQLite files, kiosk/sync's
pass) and a real central over HTTP. When central erases a ticket picked up over the period ago
(central/retention.py), the desk's next pull takes the erased customer over the one it holds."""

from __future__ import annotations

from datetime import timedelta

from db.models import Customer, Ticket
from kiosk.domain.clock import utc_now

from .conftest import register


def test_the_desk_copy_of_an_erased_ticket_is_erased_at_its_next_pull(central, nodes):
    from central import retention
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import mark_ready, pick_up, receive
    from kiosk.store.registration import ensure_device

    kiosk, desk = nodes("kiosk", prefix="K1"), nodes("desk", role="clerk", prefix="D1")
    with kiosk.open():
        kiosk.enroll(central)
        (ticket,) = register(1)
        assert kiosk.sync().pushed == 1
    with desk.open():
        desk.enroll(central)
        desk.sync()
        local, wang = Ticket.get(Ticket.uid == ticket.uid).id, add_clerk("wang", "王芳", "2468")
        receive(local, wang, ensure_device())
        mark_ready(local, wang, ensure_device())
        pick_up(local, wang, ensure_device())
        assert desk.sync().pushed == 3
        held = Customer.get_by_id(Ticket.get_by_id(local).customer_id)
        assert (held.organisation, held.phone) == ("示范燃气有限公司", "13812345678")

    assert retention.run(central.storage, utc_now() + timedelta(days=3 * 366), 3).tickets == 1

    with desk.open():
        report = desk.sync()
        assert report.applied.parked == 0
        held = Customer.get_by_id(Ticket.get_by_id(local).customer_id)
        assert (held.organisation, held.credit_code, held.address, held.contact, held.phone) == (
            retention.ERASED, "", "", "", "")
        assert Ticket.get_by_id(local).status == "picked_up"
        assert desk.sync().pulled == 0
