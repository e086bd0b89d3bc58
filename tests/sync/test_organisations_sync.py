"""Organisation names travel: a kiosk's registration names an organisation, central publishes the
name, another lobby kiosk completes it on its customer screen, knowing nothing else of the ticket."""

from __future__ import annotations

from db.models import Customer, Organisation, Ticket
from kiosk.store.organisations import matching

from .conftest import register


def test_another_kiosk_completes_the_name_and_learns_nothing_else(central, nodes):
    first, second = nodes("first", prefix="K1"), nodes("second", prefix="K2")
    with second.open():
        second.enroll(central)
    with first.open():
        first.enroll(central)
        register(2)  # 示范燃气有限公司, twice
        assert first.sync().pushed == 2
        assert first.sync().applied.organisations == 0  # its own name is not sent back to it
        assert Organisation.get().seen == 2
    with second.open():
        report = second.sync()
        assert report.applied.organisations == 1
        assert matching("示范") == ["示范燃气有限公司"] and matching("燃气") == ["示范燃气有限公司"]
        row = Organisation.get()
        assert (row.name, row.seen) == ("示范燃气有限公司", 0)  # known from central, never registered here
        assert Ticket.select().count() == 0 and Customer.select().count() == 0
        assert second.sync().pulled == 0
