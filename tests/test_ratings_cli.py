"""好差评 from the command line (`kiosk ratings`, `kiosk satisfaction --export`) and the
provincial export's shape (kiosk/domain/ratings_export.py): a poor window rating followed to its
work order, call-back, close with the fix rated and an appeal decided; the export in CSV and
JSON with the standard's fields and no personal data; the pads' ratings by counter, clerk,
stage and week. The commands read the real clock: the ratings are made now."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.domain.ratings_export import FIELDS, ExportRating, from_payload, to_csv, to_json, window_groups


def this_week() -> datetime:
    """A moment of this week on the institute's calendar, before now or a few minutes after (the
    commands' `--weeks 1`), even on a Monday just after midnight in Beijing."""
    from kiosk.domain.clock import local

    now = datetime.now(UTC)
    here = local(now)
    into_week = here - here.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=here.weekday())
    return now - into_week / 2


NOW = this_week()


@pytest.fixture
def rated(run, tmp_path):
    """A desk's database: one ticket taken in (rated 非常不满意 on the pad, with a reason) and
    picked up (rated 满意), by 王芳, 工号 GZ0107, at window 3; an admin supervisor."""
    from db.connection import open_database
    from kiosk.domain.fees import default_policy
    from kiosk.store import window_ratings as wr
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.clerks import add_clerk
    from kiosk.store.desk import mark_ready, pick_up, receive
    from kiosk.store.registration import ensure_device, register

    from .test_registration import sample

    db = open_database(tmp_path / "k.sqlite3")
    ensure_catalog()
    device = ensure_device("K1")
    ticket = register(sample(), load_catalog(), default_policy(), device, now=NOW)
    clerk = add_clerk("wang", "王芳", "2468")
    add_clerk("zhao", "赵主任", "1357", admin=True)
    wr.set_staff_number("wang", "GZ0107")
    wr.set_counter("3")
    try:
        receive(ticket.id, clerk, device, now=NOW + timedelta(minutes=1))
        wr.rate(wr.waiting_request("3", now=NOW + timedelta(minutes=1)).id, 1, "other", "排队一个小时，13812345678",
                now=NOW + timedelta(minutes=2))
        mark_ready(ticket.id, clerk, device, now=NOW + timedelta(minutes=3))
        pick_up(ticket.id, clerk, device, now=NOW + timedelta(minutes=4))
        wr.rate(wr.waiting_request("3", now=NOW + timedelta(minutes=4)).id, 4, now=NOW + timedelta(minutes=5))
    finally:
        wr.set_counter(wr.DEFAULT_COUNTER)
    number = ticket.number
    db.close()
    return number


def test_a_poor_rating_followed_to_its_work_order_call_back_fix_and_appeal(run, rated):
    status, out, _ = run("ratings", "orders")
    assert status == 0 and rated in out and "受理" in out and "GZ0107" in out and "回访0次" in out
    order_id = out.split()[0]
    assert run("ratings", "call", order_id, "--clerk", "wang", "--not-reached")[0] == 0
    assert run("ratings", "call", order_id, "--clerk", "wang", "--reached", "--note", "已致歉")[0] == 0
    assert "回访2次" in run("ratings", "orders")[1]
    status, _, _ = run("ratings", "close", order_id, "--clerk", "nobody", "--note", "x")
    assert status == 1
    assert run("ratings", "close", order_id, "--clerk", "wang", "--note", "加开窗口", "--fix", "basic")[0] == 0
    assert run("ratings", "orders")[1].strip() == ""
    assert "基本满意" in run("ratings", "orders", "--all")[1]
    # an appeal, decided by the supervisor; the clerk may not decide it
    from db.models import Feedback

    status, out, _ = run("ratings", "appeal", "1", "--clerk", "wang", "--reason", "顾客误触")
    assert status == 0 and "申诉1" in out
    status, _, _ = run("ratings", "decide", "1", "--supervisor", "wang", "--upheld", "--reason", "x")
    assert status == 1
    status, out, _ = run("ratings", "decide", "1", "--supervisor", "zhao", "--rejected", "--reason", "录像显示确有排队")
    assert status == 0 and "申诉不成立" in out
    assert "申诉不成立" in run("ratings", "appeals")[1]
    assert Feedback.select().count() == 2  # never deleted


def test_satisfaction_export_csv_and_json_in_the_platforms_shape(run, rated, tmp_path):
    status, out, _ = run("satisfaction", "--export", "csv", "--weeks", "1")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == FIELDS
    assert [(r["stage"], r["stage_name"], r["level_name"], r["transaction_number"], r["staff_number"], r["counter"])
            for r in rows] == [("1", "受理", "非常不满意", rated, "GZ0107", "3"),
                               ("2", "办结", "满意", rated, "GZ0107", "3")]
    assert rows[0]["department"] == "示范市计量检定测试院" and rows[0]["rater_type_name"] == "法人"
    assert rows[0]["reasons"].startswith("其他原因：") and rows[1]["reasons"] == ""
    assert rows[0]["channel"] == "窗口评价器"
    assert "王芳" not in out and "sample" not in out  # no clerk or customer names
    target = tmp_path / "ratings.json"
    assert run("satisfaction", "--export", "json", "-o", str(target))[0] == 0
    data = json.loads(target.read_text("utf-8"))
    assert data["department"] == "示范市计量检定测试院" and len(data["ratings"]) == 2
    assert data["ratings"][1]["level"] == 4 and data["ratings"][1]["poor"] is False


def test_the_window_ratings_by_counter_clerk_stage_and_week(run, rated):
    status, out, _ = run("ratings", "window", "--weeks", "1")
    assert status == 0
    for heading in ("按窗口", "按工作人员（工号）", "按环节", "按周"):
        assert heading in out
    assert "3号窗口" in out and "王芳（GZ0107）" in out and "受理" in out and "办结" in out and "差评1" in out


def at(minutes: int) -> datetime:
    return datetime(2026, 11, 24, 2, 0, tzinfo=UTC) + timedelta(minutes=minutes)


def test_a_lobby_payload_is_exported_under_the_stage_its_ticket_reached():
    lobby = {"feedback": "f1", "at": at(0).isoformat(), "rating": 2, "level": "dissatisfied", "ticket": "t",
             "number": "K1-261124-0001", "reason": "slow", "phone": "13812345678", "comment": "张三 13812345678",
             "steps": {"received": {"device": "d", "clerk": "wang"}, "picked_up": {"device": "d", "clerk": "li"}}}
    r = from_payload(lobby)
    assert (r.stage, r.staff_number, r.channel) == ("completion", "li", "kiosk")
    text = to_csv([r], "院") + to_json([r], "院")
    assert "13812345678" not in text and "张三" not in text
    anonymous = from_payload({"feedback": "f2", "at": at(1).isoformat(), "rating": 5})
    assert anonymous.stage is None and to_json([anonymous], "院").count('"rater_type_name": "未知"') == 1
    assert from_payload({"feedback": "f3", "at": "yesterday", "rating": 5}) is None
    assert from_payload({"feedback": "f4", "at": at(2).isoformat(), "rating": 0}) is None


def test_an_upheld_appeal_keeps_the_rating_in_the_export_but_out_of_the_counts():
    rs = [ExportRating("a", at(0), 1, "intake", "K1-261124-0001", "GZ01", "1", "slow", channel="window",
                       appeal="upheld"),
          ExportRating("b", at(1), 5, "completion", "K1-261124-0001", "GZ01", "1", None, channel="window")]
    assert len(json.loads(to_json(rs, ""))["ratings"]) == 2
    groups = window_groups(rs, {"GZ01": "王芳"})
    assert [(g.key, g.count, g.poor) for g in groups["clerk"]] == [("王芳（GZ01）", 1, 0)]
    assert [g.key for g in groups["stage"]] == ["completion"]


def test_the_desk_and_the_pad_name_their_window(monkeypatch):
    from argparse import Namespace

    from kiosk.cli.common import CommandError
    from kiosk.cli.run import _desk_counter
    from kiosk.ops.serve import app_command
    from kiosk.settings.config import load_config
    from kiosk.store import rating_requests

    config = load_config()
    monkeypatch.delenv("KIOSK_COUNTER", raising=False)
    try:
        assert _desk_counter(Namespace(counter="３"), config) == "３" and rating_requests.desk_counter() == "3"
        monkeypatch.setenv("KIOSK_COUNTER", "5")
        assert _desk_counter(Namespace(counter=None), config) == "5" and rating_requests.desk_counter() == "5"
        with pytest.raises(CommandError):
            _desk_counter(Namespace(counter=" "), config)
    finally:
        rating_requests.set_counter(rating_requests.DEFAULT_COUNTER)
    assert app_command(config, desk=False, pad="3").endswith(" pad --counter 3")  # `kiosk serve --pad 3`
    assert app_command(config, desk=True).endswith(" clerk")
