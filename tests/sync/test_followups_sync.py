"""Ratings and their follow-ups travel to the clerk desks: a kiosk rates, a desk sees the
follow-up, another desk sees it closed and by whom. Against a real central (the Node helpers),
and the feed handlers alone with hand-built changes (kiosk.sync.feed.apply_changes)."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

from db.models import Device, DeviceKey, Feedback, Followup, Ticket

from .conftest import register

KIOSK = "0193aaaa-0000-7000-8000-00000000000a"
OFFICE = "0193aaaa-0000-7000-8000-0000000000ce"  # central's own device uid
AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def enroll_named(node, central, name: str) -> None:
    """Node.enroll, with the name the central system knows the device by."""
    from central.devices import add_device
    from kiosk.store.registration import ensure_device
    from kiosk.sync.enrolment import enroll

    enroll(central.url, add_device(central.storage, node.role, name), ensure_device())


def test_a_poor_rating_reaches_every_desk_and_its_close_too(central, nodes):
    from kiosk.domain.feedback import FeedbackEntry
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import mark_ready, pick_up, receive
    from kiosk.store.feedback import (
        check_phone_digits,
        close_followup,
        find_ticket_for_feedback,
        give_feedback,
        open_followups,
    )
    from kiosk.store.progress import ticket_progress
    from kiosk.store.registration import ensure_device

    kiosk, first, second = nodes("kiosk", prefix="K1"), nodes("first", role="clerk"), nodes("second", role="clerk")
    with kiosk.open():
        enroll_named(kiosk, central, "大厅1号机")
        (ticket,) = register(1)
        kiosk.sync()
        assert find_ticket_for_feedback(ticket.number).error == "not_served"  # not taken in yet
        assert ticket_progress(ticket.number).status == "registered"  # 进度查询 in the lobby
    with second.open():  # the counter: takes the instruments in, hands them back
        enroll_named(second, central, "2号发件窗口")
        second.sync()
        local = Ticket.get(Ticket.uid == ticket.uid).id
        li = add_clerk("li", "李明", "1357")
        for step in (receive, mark_ready, pick_up):
            step(local, li, ensure_device())
        assert second.sync().pushed == 3
    with kiosk.open():  # the kiosk learns of the pickup by sync: the customer rates there, linked
        assert kiosk.sync().applied.steps == 3
        progress = ticket_progress(ticket.code)
        assert progress.status == "picked_up" and set(progress.steps) == {"received", "ready", "picked_up"}
        found = find_ticket_for_feedback(ticket.number)
        assert (found.ticket_id, found.error) == (ticket.id, None)
        proof = check_phone_digits(ticket.id, "5678")  # the number was typed: the phone's last four
        given = give_feedback(FeedbackEntry(ticket.id, 1, reason="slow", comment="等了很久", phone="13812345678",
                                            ticket_pass=proof.ticket_pass), ensure_device())
        give_feedback(FeedbackEntry(None, 5, hearts=("warm",)), ensure_device())  # no follow-up
        assert kiosk.sync().pushed == 2
        assert Feedback.get(Feedback.uid == given.uid).picked_up_clerk == "li"  # credited to the counter
    with first.open():
        enroll_named(first, central, "1号收件窗口")
        report = first.sync()
        assert (report.applied.tickets, report.applied.feedback) == (1, 2)
        (followup,) = open_followups()
        assert (followup.number, followup.phone, followup.comment, followup.kiosk) == (
            ticket.number, "13812345678", "等了很久", "大厅1号机")
        assert followup.due_on == given.followup_due and not followup.overdue
        assert Feedback.get(Feedback.uid == given.uid).ticket.uid == ticket.uid  # the ticket is here: linked
        assert DeviceKey.get(DeviceKey.device_uid == kiosk.uid).name == "大厅1号机"
        close_followup(followup.id, add_clerk("wang", "王芳", "2468"), "已回电致歉，客户表示理解", ensure_device())
        assert first.sync().pushed == 1
        assert first.sync().pulled == 0  # its own close is not sent back
    with second.open():
        enroll_named(second, central, "2号发件窗口")
        report = second.sync()
        assert (report.applied.feedback, report.applied.followups_closed, report.applied.followups_ignored) == (
            2, 1, 0)
        assert open_followups() == []
        row = Followup.get(Followup.uid == followup.uid)
        assert (row.status, row.call_note, row.closed_by_id, row.closed_by_name) == (
            "closed", "已回电致歉，客户表示理解", None, "王芳")
        assert second.sync().pulled == 0


def test_a_follow_up_closed_in_the_back_office_reaches_the_desks(central, nodes):
    from central.followups import close
    from kiosk.domain.feedback import FeedbackEntry
    from kiosk.store.feedback import give_feedback, open_followups
    from kiosk.store.registration import ensure_device

    kiosk, desk = nodes("kiosk", prefix="K1"), nodes("desk", role="clerk")
    with kiosk.open():
        kiosk.enroll(central)
        given = give_feedback(FeedbackEntry(None, 2, reason="fees"), ensure_device())
        kiosk.sync()
    with desk.open():
        desk.enroll(central)
        desk.sync()
        (followup,) = open_followups()
        assert followup.number is None and followup.phone is None
    followup_uid = followup.uid
    close(central.storage, followup_uid, "客服中心", "已电话回访")
    with desk.open():
        report = desk.sync()
        assert report.applied.followups_closed == 1
        row = Followup.get(Followup.uid == followup_uid)
        assert (row.status, row.call_note, row.closed_by_id, row.closed_by_name) == (
            "closed", "已电话回访", None, "客服中心")
        assert row.feedback.uid == given.uid


# ---- the handlers alone: hand-built changes ------------------------------------------------------


def given(seq: int, feedback: str, *, followup: str | None = None, ticket: str | None = None,
          number: str | None = None, rating: int = 1, device: str = KIOSK, **extra) -> dict:
    data = {"feedback": feedback, "device": device, "at": AT.isoformat(), "ticket": ticket, "number": number,
            "rating": rating, "level": "very_dissatisfied", "hearts": ["warm", "patient"], "reason": "slow",
            "reason_text": "", "comment": "等了很久", "callback": True, "phone": "13812345678", "language": "en",
            "steps": {"received": {"device": "0193aaaa-0000-7000-8000-0000000000d1", "clerk": "wang"},
                      "picked_up": {"device": "0193aaaa-0000-7000-8000-0000000000d2", "clerk": None}},
            "followup": {"uid": followup, "due_on": "2026-12-15"} if followup else None, **extra}
    return {"seq": seq, "kind": "feedback.given", "data": data}


def closed(seq: int, followup: str, *, device: str = "0193aaaa-0000-7000-8000-0000000000d2",
           clerk: dict | None = None, **extra) -> dict:
    clerk = {"username": "liming", "name": "李明"} if clerk is None else clerk
    return {"seq": seq, "kind": "followup.closed", "data": {
        "followup": followup, "feedback": "0193aaaa-0000-7000-8000-0000000000f0", "device": device,
        "at": datetime(2026, 11, 30, 9, 30, tzinfo=UTC).isoformat(), "clerk": clerk, "note": "已回电", **extra}}


def uid(n: int) -> str:
    return f"0193bbbb-0000-7000-8000-{n:012d}"


def apply(*changes: dict):
    from kiosk.store.registration import ensure_device
    from kiosk.sync.feed import apply_changes

    return apply_changes(list(changes), max(c["seq"] for c in changes), ensure_device("D1", role="clerk").uid)


def test_a_rating_is_stored_as_pushed_once_with_its_follow_up(db, catalog):
    first = apply(given(1, uid(1), followup=uid(2), number="K1A-261124-0007"))
    again = apply(given(1, uid(1), followup=uid(2), number="K1A-261124-0007"))  # a page read twice
    assert (first.feedback, again.feedback) == (1, 0)
    fb = Feedback.get(Feedback.uid == uid(1))
    assert (fb.ticket_id, fb.ticket_number, fb.rating, fb.hearts, fb.reason, fb.comment, fb.callback_phone,
            fb.language, fb.created_at) == (None, "K1A-261124-0007", 1, "warm,patient", "slow", "等了很久",
                                            "13812345678", "en", AT)
    assert (fb.received_device, fb.received_clerk, fb.picked_up_device, fb.picked_up_clerk) == (
        "0193aaaa-0000-7000-8000-0000000000d1", "wang", "0193aaaa-0000-7000-8000-0000000000d2", None)
    assert (fb.device.uid, fb.device.prefix, fb.device.role) == (KIOSK, "", "kiosk")  # its prefix: not known here
    row = Followup.get(Followup.uid == uid(2))
    assert (row.feedback_id, row.due_on, row.status, row.call_note) == (fb.id, date(2026, 12, 15), "open", "")
    assert Feedback.select().count() == 1 and Followup.select().count() == 1
    apply(given(2, uid(3), rating=5, followup=None, reason=None, phone=None, callback=False))  # a good one
    assert Followup.select().count() == 1 and Feedback.get(Feedback.uid == uid(3)).callback_phone is None


def test_a_rating_links_its_ticket_when_known_and_keeps_its_number_when_the_ticket_is_rated(db, catalog):
    from kiosk.store.registration import ensure_device

    from .conftest import register

    ensure_device("D1", role="clerk")
    (ticket,) = register(1)
    apply(given(1, uid(1), followup=uid(2), ticket=ticket.uid, number=ticket.number))
    assert Feedback.get(Feedback.uid == uid(1)).ticket_id == ticket.id
    # A second kiosk, offline, let the same ticket be rated again: the unique index allows one.
    applied = apply(given(2, uid(3), followup=uid(4), ticket=ticket.uid, number=ticket.number))
    second = Feedback.get(Feedback.uid == uid(3))
    assert applied.feedback == 1 and (second.ticket_id, second.ticket_number) == (None, ticket.number)
    assert Followup.get(Followup.uid == uid(4)).status == "open"


def test_a_close_elsewhere_closes_here_once_and_unknown_ones_are_counted(db, catalog):
    from kiosk.store.feedback import open_followups

    apply(given(1, uid(1), followup=uid(2)))
    applied = apply(closed(2, uid(2)), closed(3, uid(2)), closed(4, uid(99)))
    assert (applied.followups_closed, applied.followups_ignored) == (1, 2)
    row = Followup.get(Followup.uid == uid(2))
    assert (row.status, row.call_note, row.closed_by_id, row.closed_by_name, row.closed_at) == (
        "closed", "已回电", None, "李明", datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    assert open_followups() == []


def test_a_close_by_the_office_or_by_a_clerk_of_this_node(db, catalog):
    from kiosk.store.clerks import add_clerk
    from kiosk.store.registration import ensure_device

    apply(given(1, uid(1), followup=uid(2)), given(2, uid(3), followup=uid(4)), given(3, uid(5), followup=uid(6)))
    apply(closed(4, uid(2), device=OFFICE, clerk={"username": "office", "name": "客服中心"}, via="office"))
    assert Followup.get(Followup.uid == uid(2)).closed_by_name == "客服中心"
    apply(closed(5, uid(4), device=OFFICE, clerk={"username": "office"}, via="office"))
    assert Followup.get(Followup.uid == uid(4)).closed_by_name == "office"
    # This node's own close coming back (e.g. a database restored from a backup): its clerk.
    wang = add_clerk("wang", "王芳", "2468")
    apply(closed(6, uid(6), device=ensure_device().uid, clerk={"username": "wang", "name": "王芳"}))
    row = Followup.get(Followup.uid == uid(6))
    assert (row.closed_by_id, row.closed_by_name) == (wang.id, "王芳")


def test_a_device_key_brings_the_device_name(db, catalog):
    key = base64.b64encode(b"k" * 32).decode()
    apply({"seq": 1, "kind": "device.key", "data": {"device_uid": KIOSK, "public_key": key, "role": "kiosk",
                                                    "prefix": "K1", "name": "大厅1号机"}})
    assert DeviceKey.get(DeviceKey.device_uid == KIOSK).name == "大厅1号机"
    apply({"seq": 2, "kind": "device.key", "data": {"device_uid": KIOSK, "public_key": key, "role": "kiosk",
                                                    "prefix": "K1", "name": "大厅2号机"}})  # renamed, enrolled again
    apply({"seq": 3, "kind": "device.key", "data": {"device_uid": KIOSK, "public_key": key, "role": "kiosk"}})
    assert DeviceKey.get(DeviceKey.device_uid == KIOSK).name == "大厅2号机"  # no name sent: the one here stays


def test_open_follow_ups_name_the_kiosk_and_the_counter(db, catalog):
    from kiosk.store.clerks import add_clerk
    from kiosk.store.feedback import open_followups

    add_clerk("wang", "王芳", "2468")
    key = base64.b64encode(b"k" * 32).decode()
    apply({"seq": 1, "kind": "device.key", "data": {"device_uid": KIOSK, "public_key": key, "name": "大厅1号机"}},
          {"seq": 2, "kind": "device.key", "data": {"device_uid": "0193aaaa-0000-7000-8000-0000000000d1",
                                                    "public_key": key, "name": "1号收件窗口"}},
          given(3, uid(1), followup=uid(2), number="K1A-261124-0007",
                steps={"received": {"device": "0193aaaa-0000-7000-8000-0000000000d1", "clerk": "wang"}}))
    (f,) = open_followups(today=date(2026, 12, 16))
    assert (f.number, f.overdue, f.kiosk, f.desk, f.clerk) == ("K1A-261124-0007", True, "大厅1号机", "1号收件窗口",
                                                               "王芳")
    assert Device.get(Device.uid == KIOSK).prefix == ""


def test_a_call_back_and_an_appeal_reach_the_other_desks_and_the_office_decision_every_desk(central, nodes):
    """Issue 21: a desk logs a call-back and files an appeal (F10); central stores them and publishes
    them to the site's desks; a director upholds the appeal in the back office: the rating leaves
    central's satisfaction figures, and the decision reaches both desks."""
    from central.appeals import decide
    from central.satisfaction import report
    from db.models import Appeal, FollowupCall
    from kiosk.domain.feedback import FeedbackEntry
    from kiosk.store.clerks import add_clerk
    from kiosk.store.feedback import give_feedback, open_followups
    from kiosk.store.registration import ensure_device
    from kiosk.store.window_ratings import appeal_work_order, call_back, records

    kiosk, first, second = nodes("kiosk", prefix="K1"), nodes("first", role="clerk"), nodes("second", role="clerk")
    with kiosk.open():
        kiosk.enroll(central)
        give_feedback(FeedbackEntry(None, 1, reason="attitude"), ensure_device())
        give_feedback(FeedbackEntry(None, 5), ensure_device())
        kiosk.sync()
    with second.open():
        enroll_named(second, central, "2号发件窗口")
        second.sync()
    with first.open():
        enroll_named(first, central, "1号收件窗口")
        first.sync()
        (followup,) = open_followups()
        wang = add_clerk("wang", "王芳", "2468")
        call_back(followup.id, wang, False, "", ensure_device())
        call_back(followup.id, wang, True, "已致歉，客户表示理解", ensure_device())
        appeal_work_order(followup.id, wang, "客户说按错了", ensure_device())
        assert first.sync().pushed == 3
        assert first.sync().pulled == 0  # its own are not sent back
    assert report(central.storage).figures()["overall"]["count"] == 2  # waiting: still counted
    with first.open():
        appeal_uid = Appeal.get().uid
    decide(central.storage, appeal_uid, "upheld", "监控显示误触", "张主任", username="zhang")
    assert report(central.storage).figures()["overall"]["count"] == 1  # set aside, at once
    with second.open():
        applied = second.sync().applied
        assert (applied.work_orders, applied.parked) == (4, 0)  # two calls, the appeal, its decision
        (followup,) = open_followups()
        (recorded,) = records([followup.id]).values()
        assert [(c.reached, c.note, c.name, c.desk) for c in recorded.calls] == [
            (False, "", "王芳", "1号收件窗口"), (True, "已致歉，客户表示理解", "王芳", "1号收件窗口")]
        [appeal] = recorded.appeals
        assert (appeal.reason, appeal.name, appeal.desk, appeal.decision, appeal.decided_by, appeal.via) == (
            "客户说按错了", "王芳", "1号收件窗口", "upheld", "张主任", "office")
        assert FollowupCall.select().count() == 2
    with first.open():
        assert first.sync().applied.work_orders == 1  # the office's decision on its own appeal
        row = Appeal.get()
        assert (row.decision, row.decided_by_name, row.decided_via, row.device) == ("upheld", "张主任", "office", None)


def test_a_revoked_desks_call_backs_and_appeals_are_taken_back_by_the_other_desks(central, nodes, tmp_path, capsys):
    """A stolen desk's call-back and appeal, voided at central (`revoke-device --void-since`): the desk
    that had stored them drops them; the work order is as it was before."""
    from db.models import Appeal, FollowupCall
    from kiosk.domain.clock import utc_now
    from kiosk.domain.feedback import FeedbackEntry
    from kiosk.store.clerks import add_clerk
    from kiosk.store.feedback import give_feedback, open_followups
    from kiosk.store.registration import ensure_device
    from kiosk.store.window_ratings import appeal_work_order, call_back
    from tests.central.test_voiding import kiosk_central

    kiosk, thief, honest = nodes("kiosk", prefix="K1"), nodes("thief", role="clerk"), nodes("honest", role="clerk")
    with kiosk.open():
        kiosk.enroll(central)
        give_feedback(FeedbackEntry(None, 1, reason="attitude"), ensure_device())
        kiosk.sync()
    with honest.open():
        enroll_named(honest, central, "2号发件窗口")
        honest.sync()
    with thief.open():
        enroll_named(thief, central, "1号收件窗口")
        thief.sync()
        since = utc_now()
        (followup,) = open_followups()
        li = add_clerk("li", "李明", "1357")
        call_back(followup.id, li, True, "客户已满意", ensure_device())
        appeal_work_order(followup.id, li, "恶意差评", ensure_device())
        assert thief.sync().pushed == 2
    with honest.open():
        assert honest.sync().applied.work_orders == 2
        assert (FollowupCall.select().count(), Appeal.select().count()) == (1, 1)
    status, out, _ = kiosk_central(tmp_path, capsys, central.storage, "revoke-device", thief.uid,
                                   "--void-since", since.isoformat(), "--reason", "被盗")
    assert status == 0, out
    with honest.open():
        report = honest.sync()
        assert (report.applied.voided, report.applied.parked) == (2, 0)
        assert (FollowupCall.select().count(), Appeal.select().count()) == (0, 0)
        assert [f.uid for f in open_followups()] == [followup.uid]  # still open, as before
