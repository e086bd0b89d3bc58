"""Certificate checks travel like every step (issue 23): a desk checks and returns a certificate,
central counts it, another desk of the site learns of it (its pickup waits too), re-checks it and the
first desk learns that. Against a real central over real HTTP (the Node helpers)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from db.models import CertificateCheck, Ticket

from .conftest import register

AT = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 in Guiyang


def test_a_return_and_its_recheck_reach_central_and_the_other_desk(central, nodes):
    from central import certificate_checks
    from kiosk.store.certificate_checks import CheckInput, holding_pickup, record_check, take_as_is
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import TransitionError, mark_ready, pick_up, receive
    from kiosk.store.registration import ensure_device

    kiosk, first, second = nodes("kiosk", prefix="K1"), nodes("first", role="clerk"), nodes("second", role="clerk")
    with kiosk.open():
        kiosk.enroll(central)
        (ticket,) = register(1)
        kiosk.sync()
    with second.open():
        second.enroll(central)
        second.sync()
    with first.open():
        first.enroll(central)
        first.sync()
        local = Ticket.get(Ticket.uid == ticket.uid).id
        wang = add_clerk("wang", "王芳", "2468")
        receive(local, wang, ensure_device(), now=AT - timedelta(days=3))
        mark_ready(local, wang, ensure_device(), now=AT - timedelta(days=1))
        record_check(local, wang, ensure_device(), CheckInput(0, 0, "JD-1", "pass"), now=AT)
        back = record_check(local, wang, ensure_device(), CheckInput(0, 1, "JD-2", "pass", ("serial",), "编号错"),
                            now=AT)
        tape = record_check(local, wang, ensure_device(), CheckInput(1, 0, "JD-3", "pass", ("holder",)), now=AT)
        assert first.sync().pushed == 5  # intake, ready, 3 checks
    tape_measures, gauges = (f for f in certificate_checks.figures(central.storage) if f.field in "LC")
    assert (tape_measures.field, tape_measures.checked, tape_measures.returned) == ("C", 1, 1)
    assert tape_measures.reasons == {"holder": 1}
    assert (gauges.field, gauges.checked, gauges.returned) == ("L", 2, 1)
    with second.open():
        report = second.sync()
        assert report.applied.certificate_checks == 3
        local = Ticket.get(Ticket.uid == ticket.uid).id
        assert Ticket.get_by_id(local).status == "ready"
        assert [(s.position, s.instrument) for s in holding_pickup(local)] == [(0, 1), (1, 0)]
        li = add_clerk("li", "李明", "1357")
        with pytest.raises(TransitionError) as refused:
            pick_up(local, li, ensure_device(), now=AT + timedelta(hours=1))
        assert refused.value.kind == "certificates_returned"  # here too, the pickup waits
        again = record_check(local, li, ensure_device(), CheckInput(0, 1, "JD-2", "pass"),
                             now=AT + timedelta(days=1))
        assert again.refers_to == back.uid  # a re-check of the other desk's return
        take_as_is(local, li, ensure_device(), 1, 0, "客户同意", now=AT + timedelta(days=1, minutes=1))
        pick_up(local, li, ensure_device(), now=AT + timedelta(days=1, minutes=2))
        assert second.sync().pushed == 3
    with first.open():
        assert first.sync().applied.certificate_checks == 2
        rows = {r.uid: r for r in CertificateCheck.select()}
        assert rows[again.uid].refers_to == back.uid and rows[again.uid].clerk_name == "李明"
        taken = [r for r in rows.values() if r.kind == "taken_as_is"]
        assert [(t.refers_to, t.reason) for t in taken] == [(tape.uid, "客户同意")]
        assert holding_pickup(Ticket.get(Ticket.uid == ticket.uid).id) == []
    figures = certificate_checks.figures(central.storage)
    assert sum(f.checked for f in figures) == 4 and sum(f.rechecked for f in figures) == 1
    assert {f.week for f in figures} == {date(2026, 11, 23)}

    # The second desk is revoked and its events voided: the first desk takes its steps back.
    from central.devices import revoke
    from central.voiding import void

    revoke(central.storage, second.uid)
    void(central.storage, second.uid, AT)
    assert sum(f.checked for f in certificate_checks.figures(central.storage)) == 3
    with first.open():
        first.sync()
        assert CertificateCheck.get_or_none(CertificateCheck.uid == again.uid) is None
        assert not [r for r in CertificateCheck.select() if r.kind == "taken_as_is"]
        assert [(s.position, s.instrument) for s in holding_pickup(Ticket.get(Ticket.uid == ticket.uid).id)] == [
            (0, 1), (1, 0)]
