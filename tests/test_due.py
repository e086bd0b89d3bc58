"""Periodic verification due (`kiosk due`): from picked-up tickets and their fee rows' cycles."""

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.domain.due import parse_within
from kiosk.domain.fees import LineRequest, default_policy
from kiosk.domain.workdays import add_months
from kiosk.i18n.due_text import format_table, to_csv
from kiosk.store.clerks import add_clerk
from kiosk.store.desk import Intake, mark_ready, pick_up, receive, ticket_summary
from kiosk.store.due import due_instruments
from kiosk.store.registration import CustomerDetails, InstrumentLine, Registration, ensure_device, register

CYCLES = {"L-001-001": 6, "Z-001-001": 12, "F-004-003": 24}  # from the demo catalogue


def noon(day: date) -> datetime:
    """12:00 UTC: the same local day from UTC-11 to UTC+11, wherever the tests run."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@pytest.fixture
def counter(catalog):
    device = ensure_device("K1")
    clerk = add_clerk("wang", "王芳", "2468")

    def serve(lines, picked_up: date | None, *, organisation="示范燃气有限公司", phone="13812345678", refuse=()):
        """Register `lines` ((code, serial, use), ...), take them in (refusing the positions in
        `refuse`) and, unless `picked_up` is None, hand them back on that day."""
        reg = Registration(CustomerDetails(organisation, "", "贵阳市", "李工", phone), tuple(
            InstrumentLine(LineRequest(code, quantity=2, use=use), serial_number=serial)
            for code, serial, use in lines))
        ticket = register(reg, catalog, default_policy(), device)
        day = picked_up or date(2026, 1, 5)
        intake = Intake(tuple(replace(ln, refused=i in refuse) for i, ln in enumerate(ticket_summary(ticket.id).lines)))
        receive(ticket.id, clerk, device, intake, now=noon(day - timedelta(days=10)))
        if picked_up:
            mark_ready(ticket.id, clerk, device, now=noon(day - timedelta(days=1)))
            pick_up(ticket.id, clerk, device, now=noon(day))
        return ticket

    return serve


def test_instruments_fall_due_one_cycle_after_pickup(counter):
    a = counter([("L-001-001", "A1", "safety"), ("Z-001-001", "B7", "trade"), ("F-004-003", "W9", "trade"),
                 ("L-001-012", "C1", "other"),  # calibration: no cycle
                 ("F-004-001", "W1", "trade")], date(2026, 1, 31))  # first verification only: no cycle
    counter([("L-001-001", "R1", "safety")], date(2026, 1, 31), refuse={0})  # refused: not verified
    counter([("L-001-001", "N1", "safety")], None)  # taken in, not picked up yet
    everything = due_instruments(3660, today=date(2026, 2, 1))
    assert [(i.code, i.serial_number, i.due_on) for i in everything] == [
        ("L-001-001", "A1", date(2026, 7, 31)),  # 6 months
        ("Z-001-001", "B7", date(2027, 1, 31)),  # 12 months
        ("F-004-003", "W9", date(2028, 1, 31)),  # 24 months
    ]
    item = everything[0]
    assert (item.number, item.organisation, item.contact, item.phone, item.quantity) == (
        a.number, "示范燃气有限公司", "李工", "13812345678", 2)
    assert (item.name_zh, item.name_en, item.picked_up_on, item.cycle_months) == (
        "一般压力表", "General pressure gauge", date(2026, 1, 31), 6)


def test_the_window_is_from_today_and_overdue_is_asked_for(counter):
    counter([("L-001-001", "A1", "safety")], date(2026, 1, 31))  # due 31 July (end of month kept)
    assert due_instruments(30, today=date(2026, 6, 30)) == []
    assert [i.due_on for i in due_instruments(30, today=date(2026, 7, 1))] == [date(2026, 7, 31)]
    assert [i.due_on for i in due_instruments(1, today=date(2026, 7, 31))] == [date(2026, 7, 31)]
    assert due_instruments(30, today=date(2026, 8, 1)) == []
    assert [i.due_on for i in due_instruments(30, today=date(2026, 8, 1), overdue=True)] == [date(2026, 7, 31)]


def test_an_instrument_verified_again_is_listed_once_with_its_new_date(counter):
    counter([("L-001-001", "A1", "safety"), ("L-001-001", "", "safety")], date(2026, 1, 15))
    again = counter([("L-001-001", "a1", "safety"), ("L-001-001", "", "safety")], date(2026, 7, 10))
    listed = due_instruments(3660, today=date(2026, 1, 16))
    # the serial number matches (any case): only the latest pickup; lines without one each count
    assert [(i.serial_number, i.due_on) for i in listed] == [
        ("", date(2026, 7, 15)), ("", date(2027, 1, 10)), ("a1", date(2027, 1, 10))]
    assert listed[2].number == again.number


def test_the_table_masks_the_phone_and_the_csv_carries_it(counter):
    ticket = counter([("L-001-001", "A1", "safety")], date(2026, 1, 31), phone="0851-85551234")
    items = due_instruments(30, today=date(2026, 7, 15))
    table = format_table(items, "zh", today=date(2026, 7, 15))
    assert "0851-****1234" in table and "85551234" not in table
    assert ticket.number in table and "一般压力表" in table and "2026-07-31" in table
    assert table.splitlines()[0].startswith("到期日") and "共1项" in table.splitlines()[-1]
    en = format_table(items, "en", today=date(2026, 7, 15))
    assert "General pressure gauge" in en and en.splitlines()[0].startswith("Due")
    rows = list(csv.reader(io.StringIO(to_csv(items, "zh"))))
    assert rows[0] == ["到期日", "受理单号", "送检单位", "联系人", "电话", "仪器", "收费标准号", "出厂编号", "数量"]
    assert rows[1] == ["2026-07-31", ticket.number, "示范燃气有限公司", "李工", "0851-85551234", "一般压力表",
                       "L-001-001", "A1", "2"]


def test_overdue_lines_are_marked_in_the_table(counter):
    counter([("L-001-001", "A1", "safety")], date(2026, 1, 31))
    items = due_instruments(30, today=date(2026, 8, 5), overdue=True)
    assert "2026-07-31!" in format_table(items, "zh", today=date(2026, 8, 5))


@pytest.mark.parametrize(("text", "days"), [("30d", 30), ("30", 30), (" 7D ", 7), ("6w", 42), ("3660d", 3660)])
def test_within_takes_days_or_weeks(text, days):
    assert parse_within(text) == days


@pytest.mark.parametrize("text", ["", "0d", "-3d", "d", "30x", "３０d", "3661", "1.5d"])
def test_a_bad_within_is_refused(text):
    with pytest.raises(ValueError, match="--within"):
        parse_within(text)


@pytest.fixture
def known(counter):
    """One instrument of each cycle, picked up on known days (month ends: add_months keeps them)."""
    pickups = {"L-001-001": date(2026, 3, 31), "Z-001-001": date(2026, 2, 28), "F-004-003": date(2026, 8, 31)}
    for code, day in pickups.items():
        counter([(code, f"S-{code}", "trade")], day)
    return pickups


# The fixture is made once for all the examples: the database holds the same three tickets.
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(today=st.dates(min_value=date(2025, 12, 1), max_value=date(2028, 12, 31)), within=st.integers(1, 800),
       overdue=st.booleans())
def test_the_list_is_exactly_what_the_cycles_say(known, today, within, overdue):
    expected = sorted(
        d for d in (add_months(day, CYCLES[code]) for code, day in known.items())
        if d <= today + timedelta(days=within) and (overdue or d >= today))
    assert [i.due_on for i in due_instruments(within, today=today, overdue=overdue)] == expected


# ---- the command ------------------------------------------------------------------------------


def test_kiosk_due_prints_a_table_or_csv(run, tmp_path):
    status, out, err = run("due", "--within", "30d")
    assert status == 0 and out.splitlines()[0].startswith("到期日") and "共0项" in out
    status, out, err = run("due", "--csv", "--lang", "en")
    assert status == 0 and out.startswith("Due,Ticket,Organisation")
    target = tmp_path / "due.csv"
    status, out, err = run("due", "--within", "6w", "-o", str(target))
    assert status == 0 and target.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM, for Excel
    status, out, err = run("due", "--within", "soon")
    assert status == 1 and "--within" in err and "时间范围有误" in err
