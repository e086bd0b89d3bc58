"""满意度统计: the pure arithmetic (properties and exact figures), the ratings read from the
database (names resolved, anonymous under unknown), the CSV export, `kiosk satisfaction` and
the admin flag of `kiosk clerk`."""

import csv
import io
import math
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.clock import local, start_of
from kiosk.domain.feedback import HEARTS
from kiosk.domain.satisfaction import (
    UNKNOWN,
    Rating,
    bar,
    by_clerk,
    by_counter,
    by_heart,
    by_week,
    csv_text,
    overall,
    period,
    summarise,
    week_of,
)
from kiosk.i18n.textwidth import cell_width

TODAY = date(2026, 11, 24)  # a Tuesday; its week 2026-W48 began on Monday 23 November
DESK1 = "0190abcd-0000-7000-8000-00000000dd01"  # enrolled as 1号收件窗口
DESK2 = "0190abcd-0000-7000-8000-00000000dd02"  # not known here by name


def at(day: str) -> datetime:
    """Noon UTC: the same local day in any time zone from UTC-11 to UTC+11."""
    return datetime.fromisoformat(f"{day}T12:00:00+00:00")


# A period of 12 weeks to TODAY: 2026-09-07 (W37) to 2026-11-24 (W48).
KNOWN = [
    Rating(at("2026-11-23"), 5, ("warm", "patient"), "1号收件窗口", "王芳", "K1A-261120-0001"),
    Rating(at("2026-11-18"), 4, ("careful",), "1号收件窗口", "李工", "K1A-261116-0002"),
    Rating(at("2026-11-18"), 2, (), "0000dd02", "zhao", "K1A-261116-0003", "fees"),
    Rating(at("2026-11-11"), 3),  # anonymous
    Rating(at("2026-11-04"), 1, (), "D1", "王芳", "K1A-261102-0001", "attitude"),
]
OLD = Rating(at("2026-08-01"), 5, ("warm",), "1号收件窗口", "王芳", "K1A-260801-0001")  # before the period


# ---- exact figures -------------------------------------------------------------------------


def test_known_ratings_give_known_figures():
    s = summarise([*KNOWN, OLD], 12, TODAY)
    assert (s.first, s.last) == (date(2026, 9, 7), TODAY)
    assert len(s.ratings) == 5 and OLD not in s.ratings
    o = s.overall
    assert (o.count, o.good, o.poor, o.rate, o.mean) == (5, 3, 2, 0.6, 3.0)
    assert o.levels == (1, 1, 1, 1, 1)

    assert [g.key for g in s.weeks] == [f"2026-W{w}" for w in range(37, 49)]
    weeks = {g.key: (g.count, g.rate) for g in s.weeks if g.count}
    assert weeks == {"2026-W48": (1, 1.0), "2026-W47": (2, 0.5), "2026-W46": (1, 1.0), "2026-W45": (1, 0.0)}

    assert [(g.key, g.count, g.rate, g.mean) for g in s.counters] == [
        ("1号收件窗口", 2, 1.0, 4.5), ("0000dd02", 1, 0.0, 2.0), ("D1", 1, 0.0, 1.0), (UNKNOWN, 1, 1.0, 3.0)]
    assert [(g.key, g.count, g.rate, g.mean) for g in s.clerks] == [
        ("王芳", 2, 0.5, 3.0), ("zhao", 1, 0.0, 2.0), ("李工", 1, 1.0, 4.0), (UNKNOWN, 1, 1.0, 3.0)]
    assert [(g.key, g.count, g.mean) for g in s.hearts] == [
        ("warm", 1, 5.0), ("careful", 1, 4.0), ("patient", 1, 5.0), ("dedicated", 0, 0.0), ("reassuring", 0, 0.0)]


def test_bars_in_eighths_of_a_cell():
    assert bar(1.0, 4) == "████"
    assert bar(0.0, 4) == "    "
    assert bar(0.5, 3) == "█▌ "
    assert bar(0.6, 10) == "██████    "
    assert bar(float("nan"), 3) == "   "
    assert bar(2.0, 2) == "██" and bar(-1.0, 2) == "  "
    assert bar(0.5, 0) == "" and bar(0.5, -3) == ""


def test_a_rating_outside_the_scale_is_refused():
    with pytest.raises(ValueError):
        overall([Rating(at("2026-11-23"), 0)])
    with pytest.raises(ValueError):
        period(0, TODAY)


def test_csv_has_one_row_per_rating_oldest_first_without_comments_or_phones():
    rows = list(csv.reader(io.StringIO(csv_text(KNOWN))))
    assert rows[0] == ["given_at", "week", "rating", "level", "hearts", "reason", "counter", "clerk", "number"]
    assert len(rows) == 1 + len(KNOWN)
    assert [r[2] for r in rows[1:]] == ["1", "3", "4", "2", "5"]
    first = rows[1]
    assert first[1:] == ["2026-W45", "1", "very_dissatisfied", "", "attitude", "D1", "王芳", "K1A-261102-0001"]
    anonymous = rows[2]
    assert anonymous[6:] == ["", "", ""]


def test_text_tables_are_laid_out_in_cells():
    from kiosk.i18n.satisfaction_text import VIEWS, format_report, view_lines

    s = summarise(KNOWN, 12, TODAY)
    for lang in ("zh", "en"):
        for total in (76, 116):
            for view in VIEWS:
                lines = view_lines(s, view, lang, total)
                assert all(cell_width(line) <= total for line in lines), (lang, total, view)
        report = format_report(s, lang)
        assert all(cell_width(line) <= 78 for line in report.splitlines())
    zh = format_report(s, "zh")
    assert "共5条评价　满意率60.0%　差评2条　2026-09-07至2026-11-24" in zh
    assert "2026-W48 11-23" in zh and "不详" in zh and "热心" in zh
    empty = summarise([], 12, TODAY)
    assert format_report(empty, "en").splitlines() == [
        "0 ratings  satisfied -  poor 0  2026-09-07 to 2026-11-24", "No ratings from 2026-09-07 to 2026-11-24"]


# ---- properties ----------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31),
                       timezones=st.just(UTC))
names = st.sampled_from(["1号收件窗口", "2号发件窗口", "D1", None])
ratings = st.lists(st.builds(
    Rating, given_at=moments, rating=st.integers(1, 5),
    hearts=st.lists(st.sampled_from(HEARTS), unique=True).map(lambda hs: tuple(h for h in HEARTS if h in hs)),
    counter=names, clerk=st.sampled_from(["王芳", "李工", "zhao", None]),
    number=st.one_of(st.none(), st.just("K1A-261124-0001"))), max_size=40)


@given(ratings)
def test_group_counts_sum_to_the_totals(rs):
    total = overall(rs)
    assert total.count == len(rs)
    for groups in (by_counter(rs), by_clerk(rs)):
        assert sum(g.count for g in groups) == total.count
        assert sum(g.poor for g in groups) == total.poor
        assert [g.key for g in groups].count(UNKNOWN) <= 1
        assert all(g.count for g in groups)
    assert [g.key for g in by_heart(rs)] == list(HEARTS)
    for g in by_heart(rs):
        assert g.count == sum(1 for r in rs if g.key in r.hearts)
    for g in (total, *by_counter(rs), *by_clerk(rs), *by_heart(rs)):
        assert 0.0 <= g.rate <= 1.0
        assert g.good + g.poor == g.count
        assert g.count == 0 or 1.0 <= g.mean <= 5.0


@given(ratings, st.integers(1, 60), st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 12, 31)))
def test_by_week_covers_every_week_contiguously(rs, weeks, today):
    groups = by_week(rs, weeks, today)
    assert len(groups) == weeks
    assert groups[-1].key == week_of(start_of(today))
    mondays = [date.fromisocalendar(int(g.key[:4]), int(g.key[6:]), 1) for g in groups]
    assert all(b - a == timedelta(weeks=1) for a, b in pairwise(mondays))
    first, last = period(weeks, today)
    assert mondays[0] == first
    inside = [r for r in rs if first <= local(r.given_at).date() <= last]
    assert sum(g.count for g in groups) == len(inside)
    s = summarise(rs, weeks, today)
    assert s.overall.count == len(inside) == sum(g.count for g in s.weeks) == len(s.ratings)


@given(ratings)
def test_by_week_without_a_limit_starts_at_the_first_rating(rs):
    today = date(2027, 12, 31)
    groups = by_week(rs, None, today)
    if not rs:
        assert groups == []
        return
    assert groups[0].key == week_of(min(r.given_at for r in rs))
    assert sum(g.count for g in groups) == len(rs)


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=0, max_value=1), st.integers(0, 80))
def test_a_bar_is_always_width_cells_and_grows_with_the_fraction(a, b, width):
    assert cell_width(bar(a, width)) == len(bar(a, width)) == width
    lo, hi = sorted((b, 0.0 if math.isnan(a) else min(max(a, 0.0), 1.0)))

    def filled(text: str) -> int:  # the eighths drawn
        return sum(" ▏▎▍▌▋▊▉█".index(ch) for ch in text)

    assert filled(bar(lo, width)) <= filled(bar(hi, width))


@given(ratings)
def test_csv_has_a_row_per_rating(rs):
    rows = list(csv.reader(io.StringIO(csv_text(rs))))
    assert len(rows) == len(rs) + 1
    assert sorted(int(r[2]) for r in rows[1:]) == sorted(r.rating for r in rs)


# ---- from the database ---------------------------------------------------------------------


def seed(ratings=KNOWN, clerks=(("wang", "王芳", True), ("li", "李工", False))):
    """Feedback rows as the kiosk (or sync) stores them, for the open database: DESK1 named by
    its key, DESK2 unknown, this node's own device (prefix D1)."""
    from db.models import DeviceKey, Feedback, utc_now
    from kiosk.domain.ids import uuid7
    from kiosk.store.clerks import add_clerk
    from kiosk.store.registration import ensure_device

    device = ensure_device("D1", role="clerk")
    DeviceKey.create(device_uid=DESK1, public_key=b"\1" * 32, source="sync", added_at=utc_now(), name="1号收件窗口")
    DeviceKey.create(device_uid=DESK2, public_key=b"\2" * 32, source="sync", added_at=utc_now())
    for username, name, admin in clerks:
        add_clerk(username, name, "2468", admin=admin)
    usernames = {"王芳": "wang", "李工": "li", "zhao": "zhao"}
    devices = {"1号收件窗口": DESK1, "0000dd02": DESK2, "D1": device.uid}
    for i, r in enumerate(ratings):
        step = {"device": devices.get(r.counter), "clerk": usernames.get(r.clerk)}
        picked = i % 2 == 0  # half picked up, half only received: both credit the step
        Feedback.create(
            uid=uuid7(), ticket=None, device=device.id, rating=r.rating, hearts=",".join(r.hearts), reason=r.reason,
            reason_text="", comment="很好", callback_phone=None, language="zh",
            received_device=None if picked else step["device"], received_clerk=None if picked else step["clerk"],
            picked_up_device=step["device"] if picked else None, picked_up_clerk=step["clerk"] if picked else None,
            created_at=r.given_at, ticket_number=r.number)
    return device


def test_ratings_from_the_database_name_counters_and_clerks(db):
    from kiosk.store.satisfaction import load_summary, ratings_from_db

    seed([*KNOWN, OLD])
    got = ratings_from_db()
    assert sorted(got, key=lambda r: (r.given_at, r.rating)) == sorted([*KNOWN, OLD],
                                                                        key=lambda r: (r.given_at, r.rating))
    inside = ratings_from_db(datetime(2026, 11, 11, tzinfo=UTC), datetime(2026, 11, 19, tzinfo=UTC))
    assert sorted(r.rating for r in inside) == [2, 3, 4]
    s = load_summary(12, TODAY)
    assert s == summarise(KNOWN, 12, TODAY)


def test_the_picked_up_step_is_credited_before_the_received_one(db):
    from db.models import Feedback
    from kiosk.domain.ids import uuid7
    from kiosk.store.satisfaction import ratings_from_db

    device = seed([])
    Feedback.create(uid=uuid7(), ticket=None, device=device.id, rating=4, hearts="warm,bogus", reason=None,
                    reason_text="", comment="", callback_phone=None, language="zh", received_device=DESK2,
                    received_clerk="li", picked_up_device=DESK1, picked_up_clerk="removed.one",
                    created_at=at("2026-11-20"), ticket_number="K1A-261116-0009")
    (r,) = ratings_from_db()
    assert (r.counter, r.clerk, r.hearts, r.number) == ("1号收件窗口", "removed.one", ("warm",), "K1A-261116-0009")


def test_two_clerks_of_one_name_stay_two_rows_with_their_usernames(db):
    from db.models import Feedback
    from kiosk.domain.ids import uuid7
    from kiosk.store.satisfaction import ratings_from_db

    device = seed([], clerks=(("wang", "王芳", True), ("wangf", "王芳", False)))
    for username, rating in (("wang", 5), ("wangf", 3), ("wangf", 4)):
        Feedback.create(uid=uuid7(), ticket=None, device=device.id, rating=rating, hearts="", reason=None,
                        reason_text="", comment="", callback_phone=None, language="zh", received_device=DESK1,
                        received_clerk=username, picked_up_device=None, picked_up_clerk=None,
                        created_at=at("2026-11-20"), ticket_number=None)
    groups = by_clerk(ratings_from_db())
    assert [(g.key, g.count) for g in groups] == [("王芳（wangf）", 2), ("王芳（wang）", 1)]


def test_a_removed_clerk_keeps_their_name_and_an_old_rating_its_ticket_number(db):
    from db.models import Feedback, Ticket
    from kiosk.domain.fees import default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.clerks import remove_clerk
    from kiosk.store.registration import register
    from kiosk.store.satisfaction import ratings_from_db

    from .test_registration import sample

    device = seed(KNOWN[:1])
    remove_clerk("wang")
    ensure_catalog()
    ticket = register(sample(), load_catalog(), default_policy(), device)
    Feedback.update(ticket=Ticket.get(Ticket.number == ticket.number).id, ticket_number=None).execute()
    (r,) = ratings_from_db()
    assert (r.clerk, r.number) == ("王芳", ticket.number)


def test_export_writes_atomically_and_says_what_went_wrong(tmp_path):
    from kiosk.store.satisfaction import export_csv

    folder = tmp_path / "data" / "exports"
    path = export_csv(KNOWN, folder, TODAY)
    assert path == folder / "satisfaction-2026-11-24.csv"
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    assert len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))) == 1 + len(KNOWN)
    assert export_csv(KNOWN[:2], folder, TODAY) == path  # the same day again: replaced
    assert len(path.read_text("utf-8-sig").splitlines()) == 3
    assert [p.name for p in folder.iterdir()] == [path.name]  # no temporary file left

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(OSError):
        export_csv(KNOWN, blocked, TODAY)


def test_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    import os

    from kiosk.store import satisfaction as satisfaction_store

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(satisfaction_store.os, "replace", full)
    with pytest.raises(OSError, match="No space"):
        satisfaction_store.export_csv(KNOWN, tmp_path, TODAY)
    assert os.listdir(tmp_path) == []


# ---- the command line ----------------------------------------------------------------------


def test_clerk_admin_flag_from_the_command_line(run):
    assert run("clerk", "add", "wang", "--name", "王芳", "--admin", stdin="2468\n")[0] == 0
    assert run("clerk", "add", "li", "--name", "李工", stdin="2468\n")[0] == 0
    assert run("clerk", "list")[1].splitlines() == ["li\t李工", "wang\t王芳  管理员"]
    status, out, _ = run("clerk", "admin", "li", "--on")
    assert status == 0 and "li现在是管理员" in out
    status, out, _ = run("clerk", "admin", "wang", "--off")
    assert status == 0 and "wang不再是管理员" in out
    assert run("clerk", "list")[1].splitlines() == ["li\t李工  管理员", "wang\t王芳"]
    status, _, err = run("clerk", "admin", "nobody", "--on")
    assert status == 1 and "no clerk" in err
    with pytest.raises(SystemExit):
        run("clerk", "admin", "li")  # --on or --off: one is required


def test_the_admin_flag_travels_with_the_unlocked_clerk(db):
    from kiosk.store.clerks import add_clerk, list_clerks, set_admin, unlock

    add_clerk("wang", "王芳", "2468")
    assert not unlock("wang", "2468").admin
    set_admin("wang", True)
    assert unlock("wang", "2468").admin and list_clerks()[0].admin


def test_kiosk_satisfaction_prints_tables_and_csv(run, tmp_path):
    from db.connection import open_database

    # The command reads the real clock; both ratings fall in this week on the institute's
    # calendar (`--weeks 1`), even on a Monday just after midnight in Beijing.
    now = datetime.now(UTC)
    here = local(now)
    into_week = here - here.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=here.weekday())
    at = now - into_week / 2
    recent = [Rating(at, 5, ("warm",), "1号收件窗口", "王芳", "K1A-261120-0001"),
              Rating(at, 2, (), None, None, None, "slow")]
    db = open_database(tmp_path / "k.sqlite3")
    seed(recent)
    db.close()
    status, out, _ = run("satisfaction", "--lang", "zh")
    assert status == 0
    assert "共2条评价　满意率50.0%　差评1条" in out
    for heading in ("按周", "按窗口", "按人员", "五心"):
        assert heading in out
    assert "1号收件窗口" in out and "王芳" in out and "不详" in out
    assert len([line for line in out.splitlines() if "-W" in line]) == 12
    status, out, _ = run("satisfaction", "--csv", "--weeks", "1")
    assert status == 0 and len(out.splitlines()) == 3 and out.startswith("given_at,")
    target = tmp_path / "s.csv"
    assert run("satisfaction", "-o", str(target))[0] == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbf") and len(target.read_text("utf-8-sig").splitlines()) == 3
    status, _, err = run("satisfaction", "--weeks", "0")
    assert status == 1 and "周数有误" in err


@pytest.mark.terminal  # a fresh interpreter (imported_after)
def test_the_statistics_import_no_textual():
    from .test_layers import HEAVY, imported_after

    modules = imported_after("import kiosk.domain.satisfaction, kiosk.store.satisfaction, kiosk.i18n.satisfaction_text")
    assert [m for m in modules if m.split(".")[0] in HEAVY] == []


def test_a_rating_dated_after_today_counts_in_no_week():
    """Hypothesis found it: a kiosk's clock ahead put a rating into this week's bar, but not
    into the period the header states."""
    ahead = Rating(datetime(2026, 1, 3, 12, 0, tzinfo=UTC), 1)
    today = date(2026, 1, 1)  # a Thursday; the 3rd is in the same ISO week
    assert [g.count for g in by_week([ahead], 1, today)] == [0]
    assert summarise([ahead], 1, today).overall.count == 0
