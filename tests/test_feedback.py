"""Feedback (好差评) at the kiosk, domain side: validation, one rating per ticket, anonymous
ratings without a link, follow-ups due in 15 working days, one transaction per rating."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.models import Customer, Feedback, Followup, OutboxEvent, Ticket
from kiosk.domain.feedback import (
    FOLLOWUP_WORKING_DAYS,
    HEARTS,
    PHONE_TRIES,
    FeedbackDraft,
    FeedbackEntry,
    FeedbackErrors,
    FollowupError,
    PhoneTries,
    TicketPass,
    followup_due,
    validate,
)
from kiosk.domain.fees import default_policy
from kiosk.domain.holidays import (
    WEEKENDS_ONLY,
    Calendar,
    HolidaysError,
    load_calendar,
    parse_holidays,
    read_holidays,
)
from kiosk.domain.workdays import is_working_day, working_days_between
from kiosk.printing.receipts import voucher_qr
from kiosk.settings.config import ConfigError, load_config
from kiosk.store.clerks import add_clerk
from kiosk.store.desk import mark_ready, pick_up, receive
from kiosk.store.feedback import (
    PHONE_TRIES_HERE,
    check_phone_digits,
    close_followup,
    find_ticket_for_feedback,
    give_feedback,
    open_followups,
)
from kiosk.store.registration import ensure_device, register

from .test_registration import sample

# A Tuesday morning, Beijing time.
AT = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


def counts():
    return {m.__name__: m.select().count() for m in (Feedback, Followup, OutboxEvent)}


@pytest.fixture(autouse=True)
def no_wrong_tries():
    """The phone check's wrong tries are the kiosk process's: none from another test."""
    PHONE_TRIES_HERE.forget()
    yield
    PHONE_TRIES_HERE.forget()


def signed(ticket) -> TicketPass:
    """The pass a scan of the ticket's signed code gives."""
    return find_ticket_for_feedback(ticket.code).ticket_pass


def linked(ticket, rating, **values) -> FeedbackEntry:
    """A rating of a ticket whose signed code was scanned."""
    return FeedbackEntry(ticket.id, rating, ticket_pass=signed(ticket), **values)


@pytest.fixture
def served(catalog):
    """A ticket received and picked up at the counters, by a clerk."""
    device = ensure_device("K1")
    ticket = register(sample(), catalog, default_policy(), device)
    clerk = add_clerk("wang", "王芳", "2468")
    receive(ticket.id, clerk, device, now=AT)
    mark_ready(ticket.id, clerk, device, now=AT + timedelta(days=6))
    pick_up(ticket.id, clerk, device, now=AT + timedelta(days=7))
    return ticket, clerk, device


# ---- validation ---------------------------------------------------------------------------


def test_a_good_rating_needs_nothing_else():
    entry = validate(FeedbackEntry(None, 5))
    assert (entry.rating, entry.hearts, entry.reason, entry.comment, entry.phone) == (5, (), None, "", None)


@pytest.mark.parametrize("rating", [0, 6, -1, True, None])
def test_the_rating_is_one_of_five(rating):
    with pytest.raises(FeedbackErrors) as e:
        validate(FeedbackEntry(None, rating))
    assert "rating" in e.value.errors


@pytest.mark.parametrize("rating", [1, 2])
def test_a_poor_rating_needs_a_reason(rating):
    with pytest.raises(FeedbackErrors) as e:
        validate(FeedbackEntry(None, rating))
    assert e.value.errors["reason"].key == "feedback.error.reason"
    with pytest.raises(FeedbackErrors) as e:
        validate(FeedbackEntry(None, rating, reason="nonsense"))
    assert "reason" in e.value.errors
    assert validate(FeedbackEntry(None, rating, reason="slow")).reason == "slow"


def test_the_other_reason_needs_words():
    with pytest.raises(FeedbackErrors) as e:
        validate(FeedbackEntry(None, 1, reason="other"))
    assert e.value.errors["reason_text"].key == "error.required"
    assert validate(FeedbackEntry(None, 1, reason="other", reason_text=" 停车难 ")).reason_text == "停车难"


def test_a_good_rating_keeps_no_reason():
    entry = validate(FeedbackEntry(None, 4, reason="slow", reason_text="x"))
    assert (entry.reason, entry.reason_text) == (None, "")


def test_hearts_are_the_five_known_keys_in_their_order():
    assert validate(FeedbackEntry(None, 5, hearts=("patient", "warm"))).hearts == ("warm", "patient")
    with pytest.raises(FeedbackErrors) as e:
        validate(FeedbackEntry(None, 5, hearts=("warm", "lucky")))
    assert "hearts" in e.value.errors


def test_the_comment_is_cleaned_and_limited():
    entry = validate(FeedbackEntry(None, 5, comment="  服务\n很好\t！  "))
    assert entry.comment == "服务 很好 ！"  # line breaks and tabs are folded, not kept
    assert validate(FeedbackEntry(None, 5, comment="好" * 500)).comment == "好" * 500
    with pytest.raises(FeedbackErrors) as e:
        validate(FeedbackEntry(None, 5, comment="好" * 501))
    assert e.value.errors["comment"].key == "error.too_long" and e.value.errors["comment"].values == {"max": 500}
    for bad in ("\x1b[2J清屏", "反\u202e转", "零\u200b宽"):
        with pytest.raises(FeedbackErrors) as e:
            validate(FeedbackEntry(None, 5, comment=bad))
        assert e.value.errors["comment"].key == "error.control_chars"


def test_the_phone_is_validated_only_when_a_call_back_is_asked_for():
    assert validate(FeedbackEntry(None, 5, phone="１３８ １２３４ ５６７８")).phone == "13812345678"
    assert validate(FeedbackEntry(None, 5, phone="(0851) 8555-1234")).phone == "0851-85551234"
    for bad in ("", "12345", "138123456789", "call me"):
        with pytest.raises(FeedbackErrors) as e:
            validate(FeedbackEntry(None, 5, phone=bad))
        assert "phone" in e.value.errors
    draft = FeedbackDraft(rating=5, phone="not a phone", callback=False)
    assert validate(draft.entry()).phone is None  # typed, then unticked: not kept


def test_the_draft_makes_the_entry():
    draft = FeedbackDraft(ticket_id=3, number="K1-261124-0001", rating=2, reason="fees", reason_text="贵",
                          comment="c", callback=True, phone="13812345678")
    draft.toggle_heart("reassuring")
    draft.toggle_heart("warm")
    draft.toggle_heart("reassuring")
    assert draft.entry("en") == FeedbackEntry(3, 2, ("warm",), "fees", "贵", "c", "13812345678", "en")
    assert FeedbackDraft().is_empty and not draft.is_empty
    with pytest.raises(ValueError):
        draft.toggle_heart("lucky")


# ---- storing ------------------------------------------------------------------------------


def test_a_rating_is_stored_with_its_outbox_event(served):
    ticket, _, device = served
    result = give_feedback(linked(ticket, 5, hearts=("warm", "careful"), comment="很好"), device, now=AT)
    assert not result.already_rated and result.followup_due is None
    row = Feedback.get_by_id(result.feedback_id)
    assert (row.ticket_id, row.rating, row.hearts, row.comment, row.callback_phone) == (
        ticket.id, 5, "warm,careful", "很好", None)
    # for statistics by counter and clerk: who took it in and handed it over, where
    assert (row.received_clerk, row.picked_up_clerk) == ("wang", "wang")
    assert row.received_device == row.picked_up_device == device.uid
    event = OutboxEvent.get(OutboxEvent.kind == "feedback.given")
    payload = json.loads(event.payload)
    assert payload["feedback"] == row.uid and payload["ticket"] == ticket.uid and payload["number"] == ticket.number
    assert (payload["rating"], payload["level"], payload["hearts"]) == (5, "very_satisfied", ["warm", "careful"])
    assert payload["device"] == device.uid and payload["followup"] is None and payload["phone"] is None
    assert payload["steps"]["picked_up"] == {"device": device.uid, "clerk": "wang"}
    assert Followup.select().count() == 0


def test_one_rating_per_ticket_a_second_changes_nothing(served):
    ticket, _, device = served
    first = give_feedback(linked(ticket, 4), device, now=AT)
    before = counts()
    again = give_feedback(linked(ticket, 1, reason="attitude"), device, now=AT)
    assert again.already_rated and again.feedback_id is None
    assert counts() == before
    assert Feedback.get_by_id(first.feedback_id).rating == 4
    # a number typed does not say so until the phone's last four digits are right
    found = find_ticket_for_feedback(ticket.number)
    assert found.needs_phone_check and not found.rated
    assert not check_phone_digits(ticket.id, "0000").rated
    assert check_phone_digits(ticket.id, "5678").rated  # the sample customer: 13812345678


def test_the_database_itself_refuses_a_second_rating_of_a_ticket(db, served):
    ticket, _, device = served
    give_feedback(linked(ticket, 5), device, now=AT)
    with pytest.raises(Exception, match="UNIQUE"):
        db.execute_sql("INSERT INTO feedback (uid, ticket_id, device_id, rating, hearts, reason_text, comment, "
                       "language, created_at) VALUES ('x', ?, ?, 5, '', '', '', 'zh', '2026-01-01T00:00:00+00:00')",
                       (ticket.id, device.id))
    # and a poor rating without a reason, whatever the code above it does
    with pytest.raises(Exception, match="CHECK"):
        db.execute_sql("INSERT INTO feedback (uid, ticket_id, device_id, rating, hearts, reason_text, comment, "
                       "language, created_at) VALUES ('y', NULL, ?, 1, '', '', '', 'zh', '2026-01-01T00:00:00+00:00')",
                       (device.id,))


def test_anonymous_ratings_store_no_ticket_link_and_are_many(served):
    _, _, device = served
    for rating in (5, 3, 5):
        give_feedback(FeedbackEntry(None, rating), device, now=AT)
    assert Feedback.select().count() == 3
    assert all(row.ticket_id is None and row.received_device is None and row.picked_up_clerk is None
               for row in Feedback.select())
    for event in OutboxEvent.select().where(OutboxEvent.kind == "feedback.given"):
        payload = json.loads(event.payload)
        assert payload["ticket"] is None and payload["number"] is None and payload["steps"] == {}


def test_a_poor_rating_opens_a_follow_up_in_the_same_transaction(served):
    ticket, _, device = served
    result = give_feedback(linked(ticket, 2, reason="slow", reason_text="等了一小时", phone="13812345678"),
                           device, now=AT)
    # Tuesday 24 November 2026 + 15 working days = Tuesday 15 December
    assert result.followup_due == date(2026, 12, 15)
    followup = Followup.get(Followup.feedback == result.feedback_id)
    assert (followup.status, followup.due_on, followup.call_note) == ("open", date(2026, 12, 15), "")
    payload = json.loads(OutboxEvent.get(OutboxEvent.kind == "feedback.given").payload)
    assert payload["followup"] == {"uid": followup.uid, "due_on": "2026-12-15"}
    assert payload["phone"] == "13812345678" and payload["callback"] is True  # central calls back
    assert (payload["reason"], payload["reason_text"]) == ("slow", "等了一小时")


def test_a_failing_outbox_insert_leaves_nothing(db, served):
    ticket, _, device = served
    before = counts()
    db.execute_sql("CREATE TEMP TRIGGER outbox_fails BEFORE INSERT ON outbox_event "
                   "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    with pytest.raises(Exception, match="disk I/O error"):
        give_feedback(linked(ticket, 1, reason="fees"), device, now=AT)
    assert counts() == before  # no rating, no follow-up, no event
    db.execute_sql("DROP TRIGGER outbox_fails")
    assert not give_feedback(linked(ticket, 1, reason="fees"), device, now=AT).already_rated


def test_invalid_feedback_writes_nothing(served):
    ticket, _, device = served
    before = counts()
    with pytest.raises(FeedbackErrors):
        give_feedback(linked(ticket, 1), device)
    with pytest.raises(FeedbackErrors):
        give_feedback(linked(ticket, 5, comment="\x07"), device)
    assert counts() == before


def test_the_phone_never_reaches_the_log(served, caplog):
    ticket, _, device = served
    # The kiosk logs at INFO (kiosk/cli/run.py); its own modules not even at DEBUG.
    with caplog.at_level("INFO"), caplog.at_level("DEBUG", logger="kiosk"):
        give_feedback(linked(ticket, 1, reason="attitude", phone="13812345678", comment="秘密"), device)
    assert "13812345678" not in caplog.text and "秘密" not in caplog.text
    assert "feedback" in caplog.text


# ---- which tickets can be rated ------------------------------------------------------------


def test_a_ticket_is_found_by_number_voucher_qr_or_signed_code(served):
    ticket, _, _ = served
    for text in (ticket.number, ticket.number.lower().replace("-", ""), voucher_qr(ticket.number), ticket.code,
                 f"  {ticket.number}  "):
        found = find_ticket_for_feedback(text)
        assert (found.ticket_id, found.number, found.error, found.rated) == (ticket.id, ticket.number, None, False)


# ---- who may link a rating to a ticket: its signed code, or the phone's last four digits --------


@pytest.mark.parametrize("how", ["typed", "lower case, no hyphens", "voucher QR", "full width"])
def test_a_ticket_found_by_its_number_needs_the_phone_check(served, how):
    ticket, _, _ = served
    text = {"typed": ticket.number, "lower case, no hyphens": ticket.number.lower().replace("-", ""),
            "voucher QR": voucher_qr(ticket.number),
            "full width": ticket.number.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})}[how]
    found = find_ticket_for_feedback(text)
    assert (found.ticket_id, found.error, found.needs_phone_check, found.ticket_pass) == (ticket.id, None, True, None)
    assert "5678" not in repr(found) and "1381234" not in repr(found)  # nothing of the phone


def test_the_signed_code_is_proof_enough(served):
    ticket, _, device = served
    found = find_ticket_for_feedback(ticket.code)
    assert (found.ticket_id, found.error, found.needs_phone_check) == (ticket.id, None, False)
    assert found.ticket_pass.admits(ticket.id) and found.ticket_pass.how == "code"
    result = give_feedback(FeedbackEntry(ticket.id, 5, ticket_pass=found.ticket_pass), device, now=AT)
    assert Feedback.get_by_id(result.feedback_id).ticket_id == ticket.id


@pytest.mark.parametrize("digits", ["5678", "５６７８", " 56 78 ", "５６ ７８"])
def test_the_right_last_four_digits_give_a_pass(served, digits):
    ticket, _, device = served  # the contact phone: 13812345678
    check = check_phone_digits(ticket.id, digits)
    assert check.error is None and check.ticket_pass.admits(ticket.id) and check.ticket_pass.how == "phone"
    draft = FeedbackDraft(ticket_id=ticket.id, number=ticket.number, rating=4, ticket_pass=check.ticket_pass)
    result = give_feedback(draft.entry(), device, now=AT)
    assert Feedback.get_by_id(result.feedback_id).ticket_id == ticket.id


def test_wrong_digits_are_refused_and_counted_a_slip_is_not(served):
    ticket, _, _ = served
    tries = PhoneTries()
    for slip in ("", "567", "56789", "abcd", "5６7", "1381234567８"):
        check = check_phone_digits(ticket.id, slip, tries)
        assert (check.ticket_pass, check.error, check.tries_left) == (None, "digits", PHONE_TRIES)
    check = check_phone_digits(ticket.id, "1234", tries)
    assert (check.ticket_pass, check.error, check.tries_left) == (None, "wrong", PHONE_TRIES - 1)
    assert "5678" not in repr(check)
    assert check_phone_digits(ticket.id, "5678", tries).ticket_pass is not None  # the customer may retry


def test_three_wrong_tries_leave_only_the_anonymous_rating_for_that_ticket(served, catalog):
    ticket, clerk, device = served
    other = register(sample(), catalog, default_policy(), device)
    receive(other.id, clerk, device, now=AT)
    assert [check_phone_digits(ticket.id, wrong).error for wrong in ("0000", "1111", "2222")] == [
        "wrong", "wrong", "locked"]
    check = check_phone_digits(ticket.id, "5678")  # right, but too late
    assert (check.ticket_pass, check.error, check.tries_left) == (None, "locked", 0)
    found = find_ticket_for_feedback(ticket.number)  # starting again does not help
    assert (found.ticket_id, found.error, found.number) == (None, "locked", ticket.number)
    assert find_ticket_for_feedback(other.number).needs_phone_check  # another ticket: its own tries
    assert check_phone_digits(other.id, "5678").ticket_pass is not None
    assert find_ticket_for_feedback(ticket.code).ticket_pass is not None  # its signed code still works
    assert not give_feedback(FeedbackEntry(None, 5), device, now=AT).already_rated  # anonymous still can
    PHONE_TRIES_HERE.forget()  # a restarted kiosk
    assert find_ticket_for_feedback(ticket.number).needs_phone_check


def test_a_ticket_without_a_phone_cannot_be_checked(served):
    ticket, _, _ = served
    Customer.update(phone=" ").where(Customer.id == Ticket.get_by_id(ticket.id).customer_id).execute()
    found = find_ticket_for_feedback(ticket.number)
    assert (found.ticket_id, found.error, found.number, found.needs_phone_check) == (
        None, "no_phone", ticket.number, False)
    assert check_phone_digits(ticket.id, "5678").error == "no_phone"
    assert find_ticket_for_feedback(ticket.code).ticket_pass is not None  # the signed code needs no phone


@pytest.mark.parametrize(("phone", "last"), [
    ("0851-85551234-123", "1234"), ("0851-85551234", "1234"), ("85551234", "1234"), ("+86 139 8765 4321", "4321"),
    ("ext 98 76", "9876"),
])
def test_the_last_four_digits_of_a_landline_are_its_local_numbers(served, phone, last):
    ticket, _, _ = served
    Customer.update(phone=phone).where(Customer.id == Ticket.get_by_id(ticket.id).customer_id).execute()
    assert check_phone_digits(ticket.id, last).ticket_pass is not None


def test_give_feedback_refuses_a_ticket_without_its_pass(served, catalog):
    ticket, clerk, device = served
    other = register(sample(), catalog, default_policy(), device)
    receive(other.id, clerk, device, now=AT)
    found = find_ticket_for_feedback(ticket.number)  # typed: no pass until the digits are right
    before = counts()
    for ticket_pass in (found.ticket_pass, TicketPass(ticket.id, "phone", "0" * 64),  # made up
                        TicketPass(ticket.id, "staff", "0" * 64), TicketPass(ticket.id, "code", "零"),
                        signed(other)):  # another ticket's
        draft = FeedbackDraft(ticket_id=found.ticket_id, number=found.number, rating=5, ticket_pass=ticket_pass)
        with pytest.raises(FeedbackErrors) as e:
            give_feedback(draft.entry(), device, now=AT)
        assert e.value.errors["ticket"].key == "feedback.error.unverified"
    assert counts() == before
    assert not give_feedback(FeedbackEntry(None, 5), device, now=AT).already_rated  # anonymous: no pass needed


def test_the_phone_check_logs_neither_phone_nor_digits(served, caplog):
    ticket, _, _ = served
    with caplog.at_level("DEBUG"):
        check_phone_digits(ticket.id, "4321")
        check_phone_digits(ticket.id, "5678")
    assert "5678" not in caplog.text and "4321" not in caplog.text and "13812345678" not in caplog.text


def test_what_cannot_be_rated_says_why(catalog):
    device = ensure_device("K1")
    ticket = register(sample(), catalog, default_policy(), device)
    found = find_ticket_for_feedback(ticket.number)
    assert (found.ticket_id, found.error, found.number) == (None, "not_served", ticket.number)
    # a pass (as if held from before) does not make it ratable; the code itself gives none
    assert find_ticket_for_feedback(ticket.code).ticket_pass is None
    with pytest.raises(FeedbackErrors) as e:
        give_feedback(FeedbackEntry(ticket.id, 5, ticket_pass=TicketPass._issue(ticket.id, "code")), device)
    assert e.value.errors["ticket"].key == "feedback.error.not_served"
    assert find_ticket_for_feedback("K1-991231-0099").error == "not_found"
    assert find_ticket_for_feedback("").error == "not_found"
    assert find_ticket_for_feedback(ticket.code[:-6]).error in ("damaged", "invalid")
    receive(ticket.id, add_clerk("li", "李", "1357"), device)
    assert find_ticket_for_feedback(ticket.number).ticket_id == ticket.id  # taken in: it may be rated


# ---- follow-ups ---------------------------------------------------------------------------


def test_open_follow_ups_overdue_first_then_closed_with_a_note(served):
    ticket, clerk, device = served
    old = give_feedback(FeedbackEntry(None, 1, reason="attitude"), device, now=AT - timedelta(days=40))
    new = give_feedback(linked(ticket, 2, reason="slow", phone="13812345678"), device, now=AT)
    give_feedback(FeedbackEntry(None, 5), device, now=AT)  # no follow-up
    listed = open_followups(today=date(2026, 11, 25))
    assert [f.due_on for f in listed] == [old.followup_due, new.followup_due]
    assert [f.overdue for f in listed] == [True, False]
    assert listed[1].number == ticket.number and listed[1].phone == "13812345678" and listed[0].number is None

    with pytest.raises(FollowupError) as e:
        close_followup(listed[0].id, clerk, "  ", device)
    assert e.value.kind == "bad_note"
    done = close_followup(listed[0].id, clerk, "已致电道歉，客户表示理解", device, now=AT)
    row = Followup.get_by_id(listed[0].id)
    assert (row.status, row.call_note, row.closed_by_id, row.closed_at) == ("closed", "已致电道歉，客户表示理解",
                                                                            clerk.id, AT)
    payload = json.loads(OutboxEvent.get(OutboxEvent.uid == done.event_uid).payload)
    assert payload["followup"] == row.uid and payload["feedback"] == old.uid
    assert payload["clerk"] == {"username": "wang", "name": "王芳"} and payload["note"] == row.call_note
    assert [f.id for f in open_followups(today=date(2026, 11, 25))] == [listed[1].id]
    before = counts()
    with pytest.raises(FollowupError) as e:
        close_followup(listed[0].id, clerk, "again", device)
    assert e.value.kind == "closed" and counts() == before
    with pytest.raises(FollowupError) as e:
        close_followup(9999, clerk, "x", device)
    assert e.value.kind == "no_followup"


# ---- working days and the holiday list -----------------------------------------------------

# National Day 2025: 1-8 October off; Sunday 28 September and Saturday 11 October worked.
HOLIDAYS_2025 = """\
# 2025 国庆节、中秋节
2025-10-01
2025-10-02
2025-10-03
2025-10-04
2025-10-05
2025-10-06
2025-10-07
2025-10-08

2025-09-28 补班   # Sunday, worked
2025-10-11 workday
"""


def test_the_holiday_list_reads_days_off_and_worked_weekends():
    cal = parse_holidays(HOLIDAYS_2025)
    assert len(cal.holidays) == 8 and cal.workdays == {date(2025, 9, 28), date(2025, 10, 11)}
    # rated on Friday 26 September: the 15 working days skip the Golden Week, count both 补班 days
    assert followup_due(date(2025, 9, 26), cal) == date(2025, 10, 23)
    assert followup_due(date(2025, 9, 26)) == date(2025, 10, 17)  # weekends only


@pytest.mark.parametrize(("text", "says"), [
    ("2025-13-01", "not a date"), ("2025/10/01", "not a date"), ("2025-1-1", "not a date"),
    ("2025-10-01 holiday", "after the date only 'workday'"), ("tomorrow", "not a date"),
])
def test_a_bad_holiday_line_is_named(text, says):
    with pytest.raises(HolidaysError, match=f"h.txt:2: {says}"):
        parse_holidays(f"# ok\n{text}\n", "h.txt")


def test_the_holiday_file_is_checked_when_the_configuration_is_read(tmp_path):
    good = tmp_path / "holidays.txt"
    good.write_text("\ufeff2025-10-01\n", "utf-8")  # a BOM, as Notepad writes it
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\nholidays_file = "holidays.txt"\n', "utf-8")
    assert load_config(str(config)).holidays_file == good
    assert read_holidays(good).holidays == {date(2025, 10, 1)}
    assert load_config().holidays_file is None and read_holidays(None) == WEEKENDS_ONLY
    good.write_text("2025-10-01\n2025-10-0x\n", "utf-8")
    with pytest.raises(ConfigError, match="holidays_file: .*holidays.txt:2: not a date"):
        load_config(str(config))
    good.unlink()
    with pytest.raises(ConfigError, match="not found"):
        load_config(str(config))


def test_a_holiday_list_broken_after_start_counts_weekends_only(tmp_path):
    broken = tmp_path / "h.txt"
    broken.write_text("garbage\n", "utf-8")
    assert load_calendar(broken) == WEEKENDS_ONLY  # an earlier deadline, never a later one
    assert load_calendar(None) == WEEKENDS_ONLY


DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=300, deadline=None)
@given(start=DAYS, holidays=st.frozensets(DAYS, max_size=40), workdays=st.frozensets(DAYS, max_size=10))
def test_the_follow_up_is_exactly_15_working_days_later(start, holidays, workdays):
    cal = Calendar(holidays, frozenset(d for d in workdays if d.weekday() >= 5))
    due = followup_due(start, cal)
    assert is_working_day(due, cal.holidays, cal.workdays)
    assert working_days_between(start, due, cal.holidays, cal.workdays) == FOLLOWUP_WORKING_DAYS
    # about three calendar weeks at least (19 days from a Sunday); holidays only push it later
    assert due >= start + timedelta(days=19) - timedelta(days=2 * len(cal.workdays))
    assert due >= followup_due(start, Calendar(frozenset(), cal.workdays))


@given(start=DAYS, extra=st.frozensets(DAYS, max_size=20))
def test_more_holidays_never_bring_the_follow_up_earlier(start, extra):
    base = Calendar(frozenset())
    assert followup_due(start, Calendar(extra)) >= followup_due(start, base)


def test_every_heart_and_level_has_words():
    from kiosk.domain.feedback import LEVELS, REASONS
    from kiosk.i18n import MESSAGES, t

    for key in (*(f"feedback.heart.{h}" for h in HEARTS), *(f"feedback.level.{v}" for v in LEVELS.values()),
                *(f"feedback.reason.{r}" for r in REASONS)):
        assert key in MESSAGES and t(key, "zh") and t(key, "en")


def test_a_ticket_not_received_but_known_cannot_be_rated_even_by_id(catalog):
    device = ensure_device("K1")
    ticket = register(sample(), catalog, default_policy(), device)
    Ticket.update(status="registered").where(Ticket.id == ticket.id).execute()
    before = counts()
    with pytest.raises(FeedbackErrors):
        give_feedback(FeedbackEntry(ticket.id, 5, ticket_pass=TicketPass._issue(ticket.id, "code")), device)
    with pytest.raises(FeedbackErrors) as e:
        give_feedback(FeedbackEntry(98765, 5, ticket_pass=TicketPass._issue(98765, "phone")), device)
    assert e.value.errors["ticket"].key == "feedback.error.not_found"
    assert counts() == before


def test_the_feedback_domain_imports_neither_textual_nor_rich():
    import json
    import subprocess
    import sys

    probe = ("import kiosk.store.feedback, kiosk.store.due, kiosk.domain.holidays, sys, json; "
             "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    modules = json.loads(done.stdout.splitlines()[-1])
    assert [m for m in modules if m.split(".")[0] in ("textual", "rich", "escpos")] == []


def test_follow_ups_from_the_command_line_overdue_first_and_closed_once(run, tmp_path):
    from datetime import UTC, datetime

    from db.connection import open_database
    from kiosk.domain.feedback import FeedbackEntry
    from kiosk.store.clerks import add_clerk
    from kiosk.store.feedback import give_feedback
    from kiosk.store.registration import ensure_device

    db = open_database(tmp_path / "k.sqlite3")
    device = ensure_device("K1")
    give_feedback(FeedbackEntry(None, 2, reason="fees", phone="13812345678"), device,
                  now=datetime(2026, 11, 2, 2, 0, tzinfo=UTC))  # due long ago
    give_feedback(FeedbackEntry(None, 1, reason="slow", comment="等了一小时"), device)
    add_clerk("wang", "王芳", "2468")
    db.close()
    status, out, _ = run("followups")
    lines = out.splitlines()
    assert status == 0 and len(lines) == 2
    assert "已逾期" in lines[0] and "13812345678" in lines[0] and "收费不清楚" in lines[0]
    assert "已逾期" not in lines[1] and "等了一小时" in lines[1] and "不记名" in lines[1]
    first = lines[0].split()[0]
    status, out, _ = run("followups", "--close", first, "--clerk", "wang", "--note", "已回电解释收费")
    assert status == 0 and "已关闭" in out
    status, _, err = run("followups", "--close", first, "--clerk", "wang", "--note", "again")
    assert status == 1 and "回访未关闭" in err
    status, out, _ = run("followups")
    assert len(out.splitlines()) == 1
    # Enrolled as a lobby kiosk, it says so instead of queueing a close central refuses (wrong_role).
    db = open_database(tmp_path / "k.sqlite3")
    from kiosk.sync.enrolment import save_enrolment

    save_enrolment("http://central.example:8400", "token", "kiosk", None)
    db.close()
    second = out.split()[0]
    status, _, err = run("followups", "--close", second, "--clerk", "wang", "--note", "已回电")
    assert status == 1 and "收件窗口或后台办结" in err
    status, out, _ = run("followups")
    assert len(out.splitlines()) == 1
