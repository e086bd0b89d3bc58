"""一次一评 at the window, store side (kiosk/store/window_ratings.py): the desk's intake and pickup
ask the counter's pad in the step's own transaction; a rating per ticket and stage with the
standard's fields; a poor one's work order by the institute's rule, its call-back and the fix
rated; appeals decided by a supervisor, the rating kept; the events as central decodes them."""

import json
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from db.models import Appeal, Feedback, Followup, OutboxEvent, RatingRequest
from kiosk.domain import events
from kiosk.domain.feedback import FeedbackEntry, FeedbackErrors, RatingRules, work_order_due
from kiosk.domain.fees import default_policy
from kiosk.domain.holidays import Calendar
from kiosk.store import window_ratings as wr
from kiosk.store.clerks import add_clerk
from kiosk.store.desk import mark_ready, pick_up, receive
from kiosk.store.feedback import find_ticket_for_feedback, give_feedback
from kiosk.store.registration import ensure_device, register
from kiosk.store.satisfaction import ratings_from_db

from .test_registration import sample

AT = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # a Tuesday morning, Beijing time


@pytest.fixture(autouse=True)
def counter_one():
    wr.set_counter("1")
    yield
    wr.set_counter(wr.DEFAULT_COUNTER)


@pytest.fixture
def desk(catalog):
    device = ensure_device("K1")
    ticket = register(sample(), catalog, default_policy(), device, now=AT - timedelta(hours=1))
    clerk = add_clerk("wang", "王芳", "2468")
    from db.models import Clerk
    Clerk.update(staff_number="GZ0107").where(Clerk.id == clerk.id).execute()
    return ticket, clerk, device


def outbox(kind):
    query = OutboxEvent.select().where(OutboxEvent.kind == kind).order_by(OutboxEvent.seq)
    return [json.loads(e.payload) for e in query]


def central_decodes(kind: str, payload: dict):
    """As central decodes a push: the kind's shape made strict (an unknown field refused)."""
    return msgspec.json.decode(json.dumps(payload).encode(), type=events.strict(events.KINDS[kind].payload))


def test_intake_asks_the_pad_in_the_same_transaction_and_pickup_asks_again(desk):
    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, now=AT)
    shown = wr.waiting_request("1", now=AT + timedelta(seconds=5))
    assert (shown.number, shown.stage, shown.clerk_name, shown.staff_number) == (ticket.number, "intake", "王芳",
                                                                                   "GZ0107")
    assert wr.waiting_request("2", now=AT) is None  # another window's pad is not asked
    mark_ready(ticket.id, clerk, device, now=AT + timedelta(days=1))  # not a stage the customer rates here
    assert RatingRequest.select().count() == 1
    pick_up(ticket.id, clerk, device, now=AT + timedelta(days=2))
    shown2 = wr.waiting_request("1", now=AT + timedelta(days=2, seconds=1))
    assert shown2.stage == "completion" and shown2.id != shown.id
    # the intake's question, never answered, was superseded by the pickup's
    assert RatingRequest.get_by_id(shown.id).state == "superseded"


def test_an_old_request_is_not_shown(desk):
    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, now=AT)
    assert wr.waiting_request("1", now=AT + timedelta(seconds=wr.REQUEST_SECONDS + 1)) is None


def test_a_rating_per_stage_with_the_standards_fields(desk):
    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, now=AT)
    first = wr.waiting_request("1", now=AT)
    result = wr.rate(first.id, 5, now=AT + timedelta(seconds=10))
    assert not result.already_rated and result.followup_due is None
    mark_ready(ticket.id, clerk, device, now=AT + timedelta(days=1))
    pick_up(ticket.id, clerk, device, now=AT + timedelta(days=2))
    second = wr.waiting_request("1", now=AT + timedelta(days=2))
    wr.rate(second.id, 4, now=AT + timedelta(days=2, seconds=10))
    rows = list(Feedback.select().order_by(Feedback.id))
    assert [(r.stage, r.rating, r.staff_number, r.counter, r.ticket_number) for r in rows] == [
        ("intake", 5, "GZ0107", "1", ticket.number), ("completion", 4, "GZ0107", "1", ticket.number)]
    given = outbox("feedback.given")
    assert [(g["stage"], g["level"], g["staff_number"], g["clerk"], g["number"]) for g in given] == [
        ("intake", "very_satisfied", "GZ0107", "wang", ticket.number),
        ("completion", "satisfied", "GZ0107", "wang", ticket.number)]
    for g in given:
        central_decodes("feedback.given", g)
    # answered once: a second tap (or a second pad) changes nothing
    with pytest.raises(wr.RatingError) as e:
        wr.rate(first.id, 1, "slow")
    assert e.value.kind == "answered"
    # the lobby kiosk still takes its own rating of the ticket (its path is apart from the window's)
    found = find_ticket_for_feedback(ticket.code)
    assert not found.rated
    assert not give_feedback(FeedbackEntry(ticket.id, 5, ticket_pass=found.ticket_pass), device, now=AT).already_rated


def test_the_database_refuses_a_second_rating_of_one_stage(db, desk):
    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, now=AT)
    wr.rate(wr.waiting_request("1", now=AT).id, 5, now=AT)
    with pytest.raises(Exception, match="UNIQUE"):
        db.execute_sql("INSERT INTO feedback (uid, ticket_id, device_id, rating, hearts, reason_text, comment, "
                       "language, created_at, stage) VALUES ('x', ?, ?, 5, '', '', '', 'zh', "
                       "'2026-01-01T00:00:00+00:00', 'intake')", (ticket.id, device.id))


def test_a_poor_rating_needs_a_reason_and_opens_a_work_order_by_the_institutes_rule(desk):
    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, now=AT)
    request = wr.waiting_request("1", now=AT)
    with pytest.raises(FeedbackErrors):
        wr.rate(request.id, 2, None)
    assert RatingRequest.get_by_id(request.id).state == "waiting"  # nothing written
    rules = RatingRules(days=5, working_days=True, callback_hours=48)
    result = wr.rate(request.id, 2, "attitude", rules=rules, now=AT)
    assert result.followup_due == date(2026, 12, 1)  # Tue + 5 working days
    work = Followup.get()
    assert work.callback_by == AT + timedelta(hours=48)
    payload = outbox("feedback.given")[0]
    assert payload["followup"]["callback_by"] == (AT + timedelta(hours=48)).isoformat()
    assert payload["reason"] == "attitude"


def test_work_order_deadline_in_working_or_calendar_days():
    friday = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday 10:00 in Beijing
    assert work_order_due(friday, RatingRules(5)) == (date(2026, 12, 11), None)
    assert work_order_due(friday, RatingRules(15, working_days=False)) == (date(2026, 12, 19), None)
    holiday = Calendar(holidays=frozenset({date(2026, 12, 7)}))
    assert work_order_due(friday, RatingRules(1), holiday)[0] == date(2026, 12, 8)
    assert work_order_due(friday, RatingRules(1, callback_hours=48))[1] == friday + timedelta(hours=48)
    with pytest.raises(ValueError):
        RatingRules(0)
    with pytest.raises(ValueError):
        RatingRules(5, callback_hours=0)


def test_declined_and_expired_requests_rate_nothing(desk):
    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, now=AT)
    request = wr.waiting_request("1", now=AT)
    assert wr.decline(request.id)
    assert not wr.decline(request.id)
    assert wr.waiting_request("1", now=AT) is None
    assert Feedback.select().count() == 0


def test_work_order_call_back_and_the_fix_rated(desk):
    ticket, clerk, device = desk
    receive(ticket.id, clerk, device, now=AT)
    wr.rate(wr.waiting_request("1", now=AT).id, 1, "slow", now=AT)
    order = wr.work_orders()[0]
    assert (order.number, order.stage, order.rating, order.calls) == (ticket.number, "intake", 1, 0)
    wr.call_back(order.id, clerk, False, "无人接听", now=AT + timedelta(hours=2))
    wr.call_back(order.id, clerk, True, "已致歉，加开窗口", now=AT + timedelta(hours=3))
    assert wr.work_orders()[0].calls == 2
    with pytest.raises(wr.RatingError):
        wr.close_work_order(order.id, clerk, "done", "great")
    wr.close_work_order(order.id, clerk, "高峰时段加开窗口", "basic", now=AT + timedelta(days=1))
    assert wr.work_orders() == [] and wr.work_orders(include_closed=True)[0].fix == "basic"
    with pytest.raises(wr.RatingError) as e:
        wr.call_back(order.id, clerk, True, "again")
    assert e.value.kind == "closed"
    calls = outbox("followup.called")
    assert [c["reached"] for c in calls] == [False, True]
    closed = outbox("followup.closed")[0]
    assert closed["fix"] == "basic"
    for kind, payloads in (("followup.called", calls), ("followup.closed", [closed])):
        for p in payloads:
            central_decodes(kind, p)


def test_an_appeal_decided_by_a_supervisor_keeps_the_rating(desk):
    ticket, clerk, device = desk
    boss = add_clerk("zhao", "赵主任", "1357", admin=True)
    receive(ticket.id, clerk, device, now=AT)
    result = wr.rate(wr.waiting_request("1", now=AT).id, 1, "other", "乱点的", now=AT)
    appeal_id = wr.appeal(result.uid, clerk, "顾客误触，现场已说明", now=AT + timedelta(hours=1))
    with pytest.raises(wr.RatingError) as e:
        wr.appeal(result.feedback_id, clerk, "again")
    assert e.value.kind == "appeal_open"
    with pytest.raises(wr.RatingError) as e:
        wr.decide(appeal_id, clerk, "upheld", "ok")  # not a supervisor
    assert e.value.kind == "not_admin"
    wr.decide(appeal_id, boss, "upheld", "监控显示误触", now=AT + timedelta(days=1))
    with pytest.raises(wr.RatingError) as e:
        wr.decide(appeal_id, boss, "rejected", "changed my mind")
    assert e.value.kind == "decided"
    assert Feedback.select().count() == 1  # never deleted
    assert Appeal.get().decision == "upheld" and wr.upheld_appeals() == {result.feedback_id}
    assert ratings_from_db() == []  # and not counted: the admin screen's (F11) figures leave it out
    with pytest.raises(wr.RatingError) as e:  # out of the counts already: nothing left to appeal
        wr.appeal(result.feedback_id, clerk, "再申诉一次")
    assert e.value.kind == "set_aside" and Appeal.select().count() == 1
    raised, decided = outbox("rating.appealed")[0], outbox("appeal.decided")[0]
    assert decided["decision"] == "upheld" and decided["supervisor"]["name"] == "赵主任"
    central_decodes("rating.appealed", raised)
    central_decodes("appeal.decided", decided)


def test_a_rating_any_upheld_appeal_set_aside_stays_aside_whatever_came_after(desk):
    """Two desks appealed one rating offline: here upheld, there rejected (decided later, pulled
    after). The counts and the export agree, whatever order the decisions came in."""
    ticket, clerk, device = desk
    boss = add_clerk("zhao", "赵主任", "1357", admin=True)
    receive(ticket.id, clerk, device, now=AT)
    result = wr.rate(wr.waiting_request("1", now=AT).id, 1, "other", "乱点的", now=AT)
    wr.decide(wr.appeal(result.uid, clerk, "顾客误触", now=AT + timedelta(hours=1)), boss, "upheld", "监控显示误触",
              now=AT + timedelta(hours=2))
    elsewhere = "0193a0b0-0000-7000-8000-0000000000e2"
    other = "0193a0b0-0000-7000-8000-0000000000a2"
    there = events.Clerk(username="qian", name="钱主任")
    assert wr.store_pulled("rating.appealed", json.loads(events.to_json(events.RatingAppealed(
        appeal=other, feedback=result.uid, device=elsewhere, at=AT + timedelta(hours=1), reason="误触", clerk=there))),
        device.uid) == 1
    assert wr.store_pulled("appeal.decided", json.loads(events.to_json(events.AppealDecided(
        appeal=other, feedback=result.uid, device=elsewhere, at=AT + timedelta(hours=3), decision="rejected",
        reason="证据不足", supervisor=there))), device.uid) == 1
    assert [a.decision for a in Appeal.select().order_by(Appeal.id)] == ["upheld", "rejected"]
    assert wr.upheld_appeals() == {result.feedback_id} and ratings_from_db() == []
    (exported,) = wr.export_ratings()
    assert exported.appeal == "upheld"  # 申诉成立 in the export, and out of the window's figures
