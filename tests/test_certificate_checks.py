"""Certificate checks at dispatch (issue 23): the rule (kiosk/domain/certificate_check.py, with
hypothesis) and its storage (kiosk/store/certificate_checks.py): a pass, a return with its reasons
and promise, a re-check, a customer taking one as it is, the pickup waiting meanwhile, and each step's
outbox event of its shared shape."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain import certificate_check as rule
from kiosk.domain import events

RECEIVED = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # Tuesday 09:30 in Guiyang
CHECKED = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00


# ---- the rule ----------------------------------------------------------------------------------


def test_points_conclusions_and_documents_by_service():
    assert rule.conclusions_for("verification") == ("pass", "fail")
    assert rule.conclusions_for("calibration") == ("results",)
    assert "due_date" in rule.points_for("verification", "pass")
    assert "due_date" not in rule.points_for("verification", "fail")  # a notice has no next due date
    assert "due_date" not in rule.points_for("calibration", "results")
    assert rule.document_for("verification", "fail") == "notice"
    assert rule.document_for("verification", "pass") == rule.document_for("calibration", "results") == "certificate"


def test_a_missing_conclusion_is_a_wrong_point_and_a_tap_that_does_not_apply_is_not():
    assert rule.wrong_points("verification", None, ()) == ("conclusion",)
    assert rule.wrong_points("calibration", "pass", ()) == ("conclusion",)  # not one calibration gives
    assert rule.wrong_points("calibration", "results", ("due_date", "serial")) == ("serial",)
    assert rule.wrong_points("verification", "pass", ("holder", "serial")) == ("serial", "holder")
    assert rule.outcome_of(()) == "passed" and rule.outcome_of(("serial",)) == "returned"


def test_a_return_is_promised_in_working_days():
    friday = datetime(2026, 11, 27, 10, 0)
    assert rule.return_promise(friday) == date(2026, 12, 1)  # Monday, Tuesday
    assert rule.week_of(date(2026, 11, 29)) == date(2026, 11, 23)


def fact(uid, kind, at, outcome="", refers_to=None, document="certificate", position=0, instrument=0):
    return rule.CheckFact(uid, position, instrument, kind, RECEIVED + timedelta(minutes=at), outcome,
                          document=document, refers_to=refers_to,
                          promised_on=date(2026, 12, 1) if outcome == "returned" else None)


def test_a_return_holds_until_a_recheck_passes_or_the_customer_takes_it():
    returned = [fact("a", "check", 1, "returned")]
    s = rule.states(returned)[(0, 0)]
    assert (s.state, s.holds_pickup, s.promised_on) == ("returned", True, date(2026, 12, 1))
    again = rule.states([*returned, fact("b", "check", 2, "passed", refers_to="a")])[(0, 0)]
    assert (again.state, again.checks, again.returns, again.holds_pickup) == ("passed", 2, 1, False)
    taken = rule.states([*returned, fact("c", "taken_as_is", 2, refers_to="a")])[(0, 0)]
    assert (taken.state, taken.holds_pickup) == ("taken_as_is", False)
    # A taking of an older return does not release a newer one.
    later = rule.states([*returned, fact("b", "check", 2, "returned", refers_to="a"),
                         fact("c", "taken_as_is", 3, refers_to="a")])[(0, 0)]
    assert later.state == "returned"
    failed = rule.states([fact("n", "check", 1, "passed", document="notice")])[(0, 0)]
    assert failed.failed_verification


facts = st.lists(st.builds(
    fact, st.uuids().map(str), st.sampled_from(("check", "taken_as_is")), st.integers(0, 50),
    st.sampled_from(("passed", "returned")), st.none(), st.sampled_from(rule.DOCUMENTS), st.integers(0, 2),
    st.integers(0, 2)), max_size=30, unique_by=lambda f: f.uid)


@given(facts, st.randoms())
def test_states_are_the_same_in_any_order_they_arrive(found, rnd):
    shuffled = list(found)
    rnd.shuffle(shuffled)
    assert rule.states(shuffled) == rule.states(found)
    for s in rule.states(found).values():
        assert s.returns <= s.checks and (s.state == "returned") == s.holds_pickup


rows = st.lists(st.builds(rule.CheckRow, st.dates(date(2026, 1, 1), date(2027, 12, 31)).map(rule.week_of),
                          st.sampled_from("CLZ?"), st.sampled_from(rule.OUTCOMES),
                          st.lists(st.sampled_from(rule.POINTS), max_size=3, unique=True).map(tuple), st.booleans()),
                max_size=60)


@given(rows)
def test_figures_count_every_check_once_and_the_rate_is_of_the_checked(found):
    figures = rule.figures(found)
    assert sum(f.checked for f in figures) == len(found)
    assert sum(f.returned for f in figures) == sum(1 for r in found if r.outcome == "returned")
    assert [f.week for f in figures] == sorted((f.week for f in figures), reverse=True)
    for f in figures:
        assert 0 <= f.error_rate <= 1
    lines = rule.to_csv(figures).splitlines()
    assert lines[0].split(",") == list(rule.FIGURE_COLUMNS) and len(lines) == len(figures) + 1


def test_the_csv_writes_the_rate_as_text():
    figures = rule.figures([rule.CheckRow(date(2026, 11, 23), "L", "returned", ("serial",)),
                            *[rule.CheckRow(date(2026, 11, 23), "L", "passed", ())] * 2])
    assert rule.figure_rows(figures) == [("2026-11-23", "L", 3, 1, 0, "33.3", 0, 1, 0, 0, 0, 0)]


# ---- storage -----------------------------------------------------------------------------------


@pytest.fixture
def desk(catalog):
    """A ticket taken in (3 gauges verified, a tape), a clerk and the desk's device."""
    from kiosk.domain.fees import default_policy
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import receive
    from kiosk.store.registration import ensure_device, register

    from .test_registration import sample

    device = ensure_device("K1")
    ticket = register(sample(), catalog, default_policy(), device, now=RECEIVED - timedelta(hours=1))
    clerk = add_clerk("wang", "王芳", "2468")
    receive(ticket.id, clerk, device, now=RECEIVED)
    return ticket.id, clerk, device


def outbox(kind: str) -> list[dict]:
    from db.models import OutboxEvent

    return [json.loads(e.payload) for e in OutboxEvent.select().where(OutboxEvent.kind == kind)
            .order_by(OutboxEvent.seq)]


def strictly(kind: str, payload: dict):
    """As central decodes a push of it."""
    return msgspec.json.decode(json.dumps(payload).encode(), type=events.strict(events.KINDS[kind].payload))


def test_pass_return_recheck_and_the_pickup_waits(desk):
    from kiosk.store.certificate_checks import CheckInput, certificate_states, holding_pickup, record_check
    from kiosk.store.desk import TransitionError, mark_ready, pick_up

    ticket_id, clerk, device = desk
    mark_ready(ticket_id, clerk, device, now=RECEIVED + timedelta(days=2))
    passed = record_check(ticket_id, clerk, device, CheckInput(0, 0, "JD-2026-0001", "pass"), now=CHECKED)
    assert passed.outcome == "passed" and passed.wrong == ()
    back = record_check(ticket_id, clerk, device, CheckInput(0, 1, "JD-2026-0002", "pass", ("serial", "holder"),
                                                            "出厂编号写成A2"), now=CHECKED)
    assert (back.outcome, back.wrong, back.promised_on) == ("returned", ("serial", "holder"), date(2026, 12, 1))
    missing = record_check(ticket_id, clerk, device, CheckInput(0, 2, "JD-2026-0003"), now=CHECKED)
    assert missing.wrong == ("conclusion",)
    assert [(s.position, s.instrument) for s in holding_pickup(ticket_id)] == [(0, 1), (0, 2)]
    with pytest.raises(TransitionError) as refused:
        pick_up(ticket_id, clerk, device, now=CHECKED)
    assert (refused.value.kind, refused.value.count) == ("certificates_returned", 2)  # what the counter says
    from db.models import Ticket
    assert Ticket.get_by_id(ticket_id).status == "ready"  # nothing of the pickup written

    again = record_check(ticket_id, clerk, device, CheckInput(0, 1, "JD-2026-0002", "pass"),
                         now=CHECKED + timedelta(days=3))
    assert again.refers_to == back.uid and again.outcome == "passed"
    states = certificate_states(ticket_id)
    assert (states[(0, 1)].checks, states[(0, 1)].returns, states[(0, 1)].state) == (2, 1, "passed")

    sent = outbox("certificate.checked")
    assert len(sent) == 4
    for payload in sent:
        strictly("certificate.checked", payload)
    assert sent[1]["wrong"] == ["serial", "holder"] and sent[1]["reason"] == "出厂编号写成A2"
    assert sent[1]["promised_on"] == "2026-12-01" and sent[1]["code"] == "L-001-001"
    assert sent[3]["recheck_of"] == back.uid and sent[0]["clerk"] == {"username": "wang", "name": "王芳"}


def test_the_customer_takes_it_as_it_is_and_the_pickup_goes_on(desk):
    from kiosk.store.certificate_checks import CheckInput, CheckRefused, holding_pickup, record_check, take_as_is
    from kiosk.store.desk import mark_ready, pick_up

    ticket_id, clerk, device = desk
    with pytest.raises(CheckRefused) as refused:
        take_as_is(ticket_id, clerk, device, 0, 0, "")
    assert refused.value.kind == "not_returned"
    back = record_check(ticket_id, clerk, device, CheckInput(1, 0, "JC-1", "results", ("holder",)), now=CHECKED)
    taken = take_as_is(ticket_id, clerk, device, 1, 0, "客户说单位简称可以", now=CHECKED + timedelta(minutes=5))
    assert taken.refers_to == back.uid and holding_pickup(ticket_id) == []
    [payload] = outbox("certificate.taken_as_is")
    strictly("certificate.taken_as_is", payload)
    assert payload["check"] == back.uid and payload["note"] == "客户说单位简称可以"
    mark_ready(ticket_id, clerk, device, now=CHECKED + timedelta(minutes=6))
    assert pick_up(ticket_id, clerk, device, now=CHECKED + timedelta(minutes=7)).kind == "picked_up"


def test_checks_refuse_what_is_not_there(desk, catalog):
    from kiosk.store.certificate_checks import CheckInput, CheckRefused, record_check

    ticket_id, clerk, device = desk
    for checked, kind in ((CheckInput(5, 0), "no_instrument"), (CheckInput(0, 3), "no_instrument"),
                          (CheckInput(0, 0, "N" * 41), "bad_text")):
        with pytest.raises(CheckRefused) as refused:
            record_check(ticket_id, clerk, device, checked)
        assert refused.value.kind == kind
    assert outbox("certificate.checked") == []


def test_a_failed_verification_is_a_notice_and_counted_in_the_figures(desk):
    from kiosk.store.certificate_checks import CheckInput, check_rows, failed_verifications, record_check

    ticket_id, clerk, device = desk
    notice = record_check(ticket_id, clerk, device, CheckInput(0, 0, "TZ-9", "fail"), now=CHECKED)
    assert notice.document == "notice" and notice.outcome == "passed"
    from db.models import Ticket
    assert failed_verifications(Ticket.get_by_id(ticket_id).uid) == {0: 1}
    record_check(ticket_id, clerk, device, CheckInput(0, 1, "JD-2", None), now=CHECKED)
    [figure] = rule.figures(check_rows())
    assert (figure.week, figure.field, figure.checked, figure.returned) == (date(2026, 11, 23), "L", 2, 1)
    assert figure.reasons == {"conclusion": 1}


def test_a_step_pulled_from_another_desk_is_stored_once(desk):
    from kiosk.store.certificate_checks import CheckInput, holding_pickup, record_check, store_pulled

    ticket_id, clerk, device = desk
    record_check(ticket_id, clerk, device, CheckInput(0, 0, "JD-1", "pass", ("serial",)), now=CHECKED)
    sent = outbox("certificate.checked")[0]
    other = dict(sent, check="0192f000-0000-7000-8000-000000000001", device="0192f000-0000-7000-8000-0000000000aa",
                 recheck_of=sent["check"], outcome="passed", wrong=[], at=(CHECKED + timedelta(hours=1)).isoformat())
    assert store_pulled("certificate.checked", sent, device.uid) is False  # its own
    assert store_pulled("certificate.checked", other, device.uid) is True
    assert store_pulled("certificate.checked", other, device.uid) is False  # once
    assert holding_pickup(ticket_id) == []


# ---- the work list and the due list ------------------------------------------------------------


def test_the_work_list_shows_a_return_with_its_own_promise(desk):
    from kiosk.i18n.worklist_text import state_text
    from kiosk.store.certificate_checks import CheckInput, record_check
    from kiosk.store.desk import mark_ready
    from kiosk.store.worklist import work_list

    ticket_id, clerk, device = desk
    mark_ready(ticket_id, clerk, device, now=RECEIVED + timedelta(days=2))
    (item,) = work_list(CHECKED).items
    assert (item.status, item.returned, item.late) == ("ready", 0, False)
    record_check(ticket_id, clerk, device, CheckInput(0, 1, "JD-2", "pass", ("serial",)), now=CHECKED)
    record_check(ticket_id, clerk, device, CheckInput(1, 0, "JC-1", "pass", ("holder",)), now=CHECKED)
    (item,) = work_list(CHECKED).items
    assert (item.returned, item.corrected_by, item.late) == (2, date(2026, 12, 1), False)
    assert state_text(item, "zh") == "证书退回2份 12-01前" and state_text(item, "en") == "2 cert. back, by 12-01"
    (late,) = work_list(datetime(2026, 12, 2, 2, 0, tzinfo=UTC)).items
    assert late.late and state_text(late, "zh").endswith("逾期")
    record_check(ticket_id, clerk, device, CheckInput(0, 1, "JD-2", "pass"), now=CHECKED + timedelta(days=1))
    record_check(ticket_id, clerk, device, CheckInput(1, 0, "JC-1", "pass"), now=CHECKED + timedelta(days=1))
    (item,) = work_list(CHECKED + timedelta(days=1)).items
    assert item.returned == 0 and item.status == "ready"


def test_the_due_list_does_not_remind_for_a_failed_verification(desk):
    from kiosk.store.certificate_checks import CheckInput, record_check
    from kiosk.store.desk import mark_ready, pick_up
    from kiosk.store.due import due_instruments

    ticket_id, clerk, device = desk
    mark_ready(ticket_id, clerk, device, now=RECEIVED + timedelta(days=2))
    record_check(ticket_id, clerk, device, CheckInput(0, 0, "TZ-1", "fail"), now=CHECKED)  # one gauge of 3
    record_check(ticket_id, clerk, device, CheckInput(1, 0, "TZ-2", "fail"), now=CHECKED)  # the only tape
    pick_up(ticket_id, clerk, device, now=CHECKED)
    found = due_instruments(400, date(2026, 11, 27))
    assert [(i.code, i.quantity) for i in found] == [("L-001-001", 2)]  # 2 gauges passed; the tape failed


def test_the_pickup_slip_gives_no_next_verification_for_a_line_that_failed(desk):
    """Nor does the slip: a line whose every instrument failed has no 下次检定 date, only its notice."""
    from kiosk.printing.receipts import job_document
    from kiosk.settings.institute import load_institute
    from kiosk.store.certificate_checks import CheckInput, record_check
    from kiosk.store.desk import mark_ready, pick_up
    from printer.document import Row, Text

    ticket_id, clerk, device = desk
    mark_ready(ticket_id, clerk, device, now=RECEIVED + timedelta(days=2))
    record_check(ticket_id, clerk, device, CheckInput(0, 0, "TZ-1", "fail"), now=CHECKED)  # one gauge of 3
    record_check(ticket_id, clerk, device, CheckInput(1, 0, "TZ-2", "fail"), now=CHECKED)  # the only tape
    pick_up(ticket_id, clerk, device, now=CHECKED)
    slip = job_document("pickup_slip", ticket_id, load_institute(None), "zh")
    heads = [i for i, b in enumerate(slip.blocks) if isinstance(b, Text) and b.text[:3] in ("1. ", "2. ")]
    gauges, tape = slip.blocks[heads[0]:heads[1]], slip.blocks[heads[1]:heads[2]]
    due = [b for b in gauges if isinstance(b, Row) and "下次检定" in b.key]
    assert len(due) == 1  # the two gauges that passed keep theirs
    assert not any(isinstance(b, Row) and "下次检定" in b.key for b in tape)
    notices = " ".join(b.text for b in slip.blocks[heads[2]:] if isinstance(b, Text))
    assert notices.count("检定结果通知书") == 2


# ---- `kiosk checks` ----------------------------------------------------------------------------


def test_the_cli_gives_checked_returned_and_why_by_field_and_week(run, tmp_path):
    from db.connection import open_database
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.certificate_checks import CheckInput, record_check
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import receive
    from kiosk.store.registration import ensure_device, register

    from .test_registration import sample

    db = open_database(tmp_path / "k.sqlite3")
    ensure_catalog()
    device = ensure_device("K1")
    ticket = register(sample(), load_catalog(), default_policy(), device, now=RECEIVED - timedelta(hours=1))
    clerk = add_clerk("wang", "王芳", "2468")
    receive(ticket.id, clerk, device, now=RECEIVED)
    record_check(ticket.id, clerk, device, CheckInput(0, 0, "JD-1", "pass"), now=CHECKED)
    record_check(ticket.id, clerk, device, CheckInput(0, 1, "JD-2", "pass", ("serial",)), now=CHECKED)
    record_check(ticket.id, clerk, device, CheckInput(1, 0, "JC-1"), now=CHECKED + timedelta(days=7))
    db.close()

    status, out, _ = run("checks", "--lang", "en")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["Week", "Field"]
    assert lines[1].split() == ["2026-11-30", "Length", "1", "1", "0", "100.0%", "Conclusion", "1"]
    assert lines[2].split() == ["2026-11-23", "Mechanics", "and", "pressure", "2", "1", "0", "50.0%", "Serial", "1"]
    status, out, _ = run("checks", "--csv", "--from", "2026-11-30")
    assert status == 0 and out.splitlines()[1].startswith("2026-11-30,C,1,1,0,100.0,0,0,0,1,0,0")
    status, _, err = run("checks", "--from", "2026-12-02", "--to", "2026-12-01")
    assert status != 0 and "YYYY-MM-DD" in err
