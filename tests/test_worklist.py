"""在办清单: what the lab owes (promises, urgent first, late ones on top) and who has not come to
collect, from tickets received and marked ready at known moments."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from db.models import Ticket
from kiosk.domain.clock import zone
from kiosk.domain.fees import default_policy
from kiosk.domain.holidays import parse_holidays
from kiosk.store.clerks import add_clerk
from kiosk.store.desk import mark_ready, pick_up, receive
from kiosk.store.registration import ensure_device, register
from kiosk.store.worklist import work_list

from .test_feedback import HOLIDAYS_2025
from .test_registration import sample


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone())


@pytest.fixture
def desk(catalog):
    device = ensure_device("K1")
    clerk = add_clerk("wang", "王芳", "2468")

    def ticket(registered: str, *, urgent: str | None = None, received: str | None = None,
               ready: str | None = None, picked_up: str | None = None) -> str:
        """A ticket registered (and taken through the steps) at these local times; its number."""
        t = register(sample(urgent=urgent), catalog, default_policy(), device)
        Ticket.update(created_at=local(registered)).where(Ticket.id == t.id).execute()
        for step, at in ((receive, received), (mark_ready, ready), (pick_up, picked_up)):
            if at:
                step(t.id, clerk, device, now=local(at))
        return t.number

    return ticket


NOW = local("2026-11-25T10:00")  # a Wednesday


def test_late_lab_work_first_then_overdue_pickups_then_the_rest(desk):
    # 5 working days (the pressure gauges' turnaround) from Monday 16 November: Monday 23rd, passed
    a = desk("2026-11-16T09:00", received="2026-11-16T09:30")
    # 72 h from the counter, not from the kiosk: Friday 27th 09:00
    b = desk("2026-11-23T16:00", urgent="72h", received="2026-11-24T09:00")
    # 24 h from Tuesday 08:00: an hour and more ago
    c = desk("2026-11-24T08:00", urgent="24h", received="2026-11-24T08:00")
    d = desk("2026-10-08T09:00", received="2026-10-08T09:10", ready="2026-10-20T15:00")  # waiting 36 days
    e = desk("2026-11-13T09:00", received="2026-11-13T09:10", ready="2026-11-20T15:00")  # waiting 5 days
    f = desk("2026-11-24T11:00", received="2026-11-24T11:05")  # due Tuesday 1 December
    desk("2026-11-02T09:00", received="2026-11-02T09:10", ready="2026-11-06T09:00", picked_up="2026-11-09T09:00")
    desk("2026-11-25T09:00")  # registered only: not at the counter yet

    got = work_list(NOW)
    assert [i.number for i in got.items] == [a, c, d, b, f, e]
    by = {i.number: i for i in got.items}
    assert [(n, by[n].late) for n in (a, c, d, b, f, e)] == [
        (a, True), (c, True), (d, True), (b, False), (f, False), (e, False)]
    assert by[a].ready_on == date(2026, 11, 23) and by[a].urgent_by is None
    assert by[b].urgent_by == local("2026-11-27T09:00") and by[b].ready_on == date(2026, 11, 30)
    assert by[c].urgent_by == local("2026-11-25T08:00")
    assert (by[d].status, by[d].waiting_days, by[d].since) == ("ready", 36, local("2026-10-20T15:00"))
    assert by[e].waiting_days == 5 and by[f].ready_on == date(2026, 12, 1)
    assert (got.in_lab, got.in_lab_late, got.waiting, got.waiting_overdue) == (4, 2, 2, 1)
    # what the clerk needs to call: in full, and what was taken in (3 gauges and a tape)
    assert (by[a].organisation, by[a].contact, by[a].phone, by[a].instruments) == (
        "示范燃气有限公司", "李工", "13812345678", 4)


def test_a_promise_counts_the_institutes_holidays(desk):
    """Registered on Friday 26 September 2025: weekends only, 5 working days end on 3 October,
    in the middle of the National Day week; the holiday list makes it Friday 10 October."""
    number = desk("2025-09-26T10:00", received="2025-09-26T10:30")
    on_the_8th = local("2025-10-08T12:00")
    (weekends_only,) = work_list(on_the_8th).items
    assert (weekends_only.ready_on, weekends_only.late) == (date(2025, 10, 3), True)
    (item,) = work_list(on_the_8th, parse_holidays(HOLIDAYS_2025)).items
    assert (item.number, item.ready_on, item.late) == (number, date(2025, 10, 10), False)


@pytest.mark.parametrize(("days", "overdue"), [(29, False), (30, False), (31, True)])
def test_a_pickup_is_overdue_after_the_institutes_days(desk, days, overdue):
    ready = NOW - timedelta(days=days)
    desk("2026-09-01T09:00", received="2026-09-01T09:10", ready=ready.isoformat())
    (item,) = work_list(NOW, pickup_days=30).items
    assert (item.waiting_days, item.late) == (days, overdue)
    assert work_list(NOW, pickup_days=days - 1).items[0].late


def test_nothing_at_the_counter_is_an_empty_list(desk):
    desk("2026-11-25T09:00")
    got = work_list(NOW)
    assert (got.items, got.in_lab, got.waiting) == ([], 0, 0)


def test_the_instruments_are_those_taken_in_not_those_registered(catalog):
    """Five gauges counted at the counter instead of three, and the tape refused: five."""
    from dataclasses import replace

    from kiosk.store.desk import Intake, ticket_summary

    device = ensure_device("K1")
    clerk = add_clerk("wang", "王芳", "2468")
    ticket = register(sample(), catalog, default_policy(), device)
    lines = ticket_summary(ticket.id).lines
    receive(ticket.id, clerk, device, Intake((replace(lines[0], quantity=5), replace(lines[1], refused=True))))
    (item,) = work_list().items
    assert (item.number, item.instruments) == (ticket.number, 5)


def test_kiosk_worklist_prints_the_list_late_ones_only_or_csv(desk, tmp_path, capsys):
    import csv
    import io

    from db.models import utc_now
    from kiosk.cli import main

    late = desk("2026-01-05T09:00", received="2026-01-05T09:30")  # long past its promise, on any day from now
    fresh = desk(utc_now().isoformat(), received=utc_now().isoformat())
    database = ["--db", str(tmp_path / "kiosk.sqlite3")]
    assert main([*database, "worklist"]) == 0
    out, err = capsys.readouterr()
    assert late in out and fresh in out and out.index(late) < out.index(fresh)
    assert "逾期" in out.splitlines()[0] and "13812345678" in out and "在检2单" in err
    assert main([*database, "worklist", "--late"]) == 0
    out, _ = capsys.readouterr()
    assert late in out and fresh not in out
    assert main([*database, "worklist", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["number"], r["late"], r["phone"]) for r in rows] == [(late, "True", "13812345678"),
                                                                    (fresh, "False", "13812345678")]
