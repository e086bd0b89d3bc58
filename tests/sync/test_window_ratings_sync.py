"""一次一评 end to end through sync (issue 21): a desk's counter pad rates the intake (poor: a work
order) and the pickup; the desk records a call-back, closes the work order with the fix rated,
and files an appeal; one sync pushes it all to a real central, which counts the pads' ratings by
counter, clerk, stage and week and exports them; another desk learns of the work order."""

from __future__ import annotations

import json

from central.appeals import listed
from central.ratings_export import exported, window_report
from db.models import Feedback, OutboxEvent, Ticket

from .conftest import register
from .test_followups_sync import enroll_named


def test_pad_ratings_work_orders_and_appeals_reach_central(central, nodes):
    from kiosk.store import window_ratings as wr
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import mark_ready, pick_up, receive
    from kiosk.store.feedback import open_followups
    from kiosk.store.registration import ensure_device

    kiosk, desk, other = nodes("kiosk", prefix="K1"), nodes("desk", role="clerk"), nodes("other", role="clerk")
    with kiosk.open():
        enroll_named(kiosk, central, "大厅1号机")
        (ticket,) = register(1)
        kiosk.sync()
    wr.set_counter("2")
    try:
        with desk.open():
            enroll_named(desk, central, "收发室")
            desk.sync()
            local = Ticket.get(Ticket.uid == ticket.uid).id
            wang = add_clerk("wang", "王芳", "2468")
            boss = add_clerk("zhao", "赵主任", "1357", admin=True)
            wr.set_staff_number("wang", "GZ0107")
            receive(local, wang, ensure_device())
            poor = wr.rate(wr.waiting_request("2").id, 2, "slow")
            (order,) = wr.work_orders()
            wr.call_back(order.id, wang, True, "已致歉")
            wr.close_work_order(order.id, wang, "高峰加开窗口", "satisfied")
            appeal_id = wr.appeal(poor.uid, wang, "当时系统故障，非服务问题")
            wr.decide(appeal_id, boss, "rejected", "排队属实")
            mark_ready(local, wang, ensure_device())
            pick_up(local, wang, ensure_device())
            wr.rate(wr.waiting_request("2").id, 5)
            kinds = [e.kind for e in OutboxEvent.select().order_by(OutboxEvent.seq)]
            assert kinds == ["ticket.received", "feedback.given", "followup.called", "followup.closed",
                             "rating.appealed", "appeal.decided", "ticket.ready", "ticket.picked_up", "feedback.given"]
            assert desk.sync().pushed == len(kinds)  # every one accepted (a refusal would be parked)
            assert OutboxEvent.select().where(OutboxEvent.acked_at.is_null()).count() == 0
    finally:
        wr.set_counter(wr.DEFAULT_COUNTER)

    figures = window_report(central.storage, None, None)
    assert figures["count"] == 2 and figures["set_aside"] == 0
    assert [(g["key"], g["count"], g["poor"]) for g in figures["counter"]] == [("收发室 · 2", 2, 1)]
    assert [(g["key"], g["count"]) for g in figures["clerk"]] == [("GZ0107", 2)]
    assert [g["key"] for g in figures["stage"]] == ["intake", "completion"]
    [appeal] = listed(central.storage)
    assert (appeal["decision"], appeal["decision_reason"], appeal["via"]) == ("rejected", "排队属实", "desk")
    rows = exported(central.storage, None, None)
    assert [(r.stage, r.rating, r.number, r.staff_number, r.appeal) for r in rows] == [
        ("intake", 2, ticket.number, "GZ0107", "rejected"), ("completion", 5, ticket.number, "GZ0107", None)]
    with central.storage.read() as tx:
        (closed,) = tx.all(f"SELECT {central.storage.json_text('payload')} FROM event WHERE kind = 'followup.closed'")
    assert json.loads(closed[0])["fix"] == "satisfied"

    with other.open():  # another desk: the work order arrives, closed
        enroll_named(other, central, "2号发件窗口")
        other.sync()
        rows = [(f.stage, f.staff_number, f.counter, f.ticket_id is not None)
                for f in Feedback.select().order_by(Feedback.created_at)]
        assert rows == [("intake", "GZ0107", "2", True), ("completion", "GZ0107", "2", True)]  # both linked
        assert open_followups() == []
