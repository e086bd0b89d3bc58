"""回访 at the clerk desk, driven through Pilot (no sleeps: `settle` waits for the workers):
the list overdue first, closing one with a note (the follow-up and its outbox event), an
empty note refused in words, a follow-up closed meanwhile elsewhere, the lock that wipes;
and snapshots of the list and of one follow-up, in zh and en, at 80x24 and 120x40.

The ratings reach the desk as sync brings them: `feedback.given` changes applied here."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from db.models import Followup, OutboxEvent
from kiosk.domain.clock import local as as_local
from kiosk.domain.clock import today
from kiosk.domain.ids import uuid7
from kiosk.settings.config import load_config
from screens.clerk.app import DeskApp
from screens.clerk.followups import FollowupDetail, FollowupsScreen
from screens.clerk.receiving import ReceivingScreen
from screens.clerk.tables import fit_columns
from screens.clerk.unlock import UnlockScreen

from .kiosk_pilot import FakeClock, screen_text, settle
from .test_desk_app import prepare, sign_in

KIOSK = "0193aaaa-0000-7000-8000-00000000000a"  # the lobby kiosk the ratings were given at
OTHER_DESK = "0193aaaa-0000-7000-8000-00000000000d"
AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # noon: the same day in any time zone of the institute
TODAY = date(2026, 12, 20)
PHONE = "13812345678"
LONG_COMMENT = ("等了一个多小时才轮到我，窗口只开了一个，后面排队的人很多，工作人员也没有解释原因，"
                "希望以后高峰时段多开几个窗口，或者在大厅里告诉大家大概要等多久。")


def rating(seq: int, *, due: date | None, rating: int = 1, number: str | None = None, reason: str | None = "slow",
           reason_text: str = "", comment: str = "", phone: str | None = None, at: datetime = AT,
           steps: dict | None = None) -> tuple[dict, str | None]:
    """A `feedback.given` change as central publishes it (give_feedback's payload), and the
    uid of its follow-up (None: a rating without one)."""
    followup = uuid7() if due else None
    data = {"feedback": uuid7(), "device": KIOSK, "at": at.isoformat(), "ticket": None, "number": number,
            "rating": rating,
            "level": ("very_dissatisfied", "dissatisfied", "basic", "satisfied", "very_satisfied")[rating - 1],
            "hearts": [], "reason": reason, "reason_text": reason_text,
            "comment": comment, "callback": phone is not None, "phone": phone, "language": "zh",
            "steps": steps or {}, "followup": {"uid": followup, "due_on": due.isoformat()} if due else None}
    return {"seq": seq, "kind": "feedback.given", "data": data}, followup


def closed_elsewhere(seq: int, followup: str, name: str = "李明", at: datetime = AT + timedelta(days=3)) -> dict:
    return {"seq": seq, "kind": "followup.closed", "data": {
        "followup": followup, "feedback": uuid7(), "device": OTHER_DESK, "at": at.isoformat(),
        "clerk": {"username": "liming", "name": name}, "note": "已回电"}}


def device_key(seq: int, uid: str, name: str) -> dict:
    return {"seq": seq, "kind": "device.key", "data": {
        "device_uid": uid, "public_key": base64.b64encode(uid.encode()).decode(), "role": "kiosk", "name": name}}


def pull(changes: list[dict]) -> None:
    from kiosk.store.registration import ensure_device
    from kiosk.sync.feed import apply_changes

    apply_changes(changes, max(c["seq"] for c in changes), ensure_device().uid)


def sample_changes(today: date) -> tuple[list[dict], list[str]]:
    """Four open follow-ups (two overdue), one closed elsewhere, one good rating: the
    changes and the open follow-ups' uids, overdue first then by due date."""
    late, late_uid = rating(2, due=today - timedelta(days=5), number="K1A-261124-0007", reason="attitude",
                            comment=LONG_COMMENT, phone=PHONE,
                            steps={"received": {"device": OTHER_DESK, "clerk": "liming"}})
    later, later_uid = rating(3, due=today + timedelta(days=11), rating=2, reason="other",
                              reason_text="证书上的单位名称写错了", phone="0591-87654321")
    soon, soon_uid = rating(4, due=today + timedelta(days=5), number="K1A-261124-0012", reason="fees",
                            comment="收费单看不懂[b]哪一项[/b]是检定费")
    gone, gone_uid = rating(5, due=today - timedelta(days=9), number="K1A-261120-0003", phone="13900001111")
    good, _ = rating(6, due=None, rating=5, reason=None, comment="很好")
    yesterday, yesterday_uid = rating(9, due=today - timedelta(days=1), rating=2, number="K1A-261121-0002",
                                      reason="quality", phone="13700002222")
    changes = [device_key(1, KIOSK, "大厅1号机"), device_key(7, OTHER_DESK, "1号收件窗口"), late, later, soon, gone,
               good, closed_elsewhere(8, gone_uid), yesterday]
    return changes, [late_uid, yesterday_uid, soon_uid, later_uid]


def make_desk(language: str = "zh", changes: list[dict] | None = None, **kw) -> DeskApp:
    from db.connection import open_database

    config = replace(load_config(), language=language, printer_uri="preview://receipts")
    config.database.parent.mkdir(parents=True, exist_ok=True)
    prepare(config)
    if changes:
        db = open_database(config.database)
        pull(changes)
        db.close()
    app = DeskApp(config, **kw)
    app.animation_level = "none"
    return app


async def to_followups(pilot, today: date | None = None) -> FollowupsScreen:
    """Signed in, then F10 from the counter (the wall clock's today), or the screen pushed with
    a fixed today."""
    await sign_in(pilot)
    if today is None:
        await pilot.press("f10")
    else:
        pilot.app.push_screen(FollowupsScreen(today=today))
    await settle(pilot)
    assert isinstance(pilot.app.screen, FollowupsScreen)
    return pilot.app.screen


async def open_detail(pilot, row: int = 0) -> FollowupDetail:
    pilot.app.screen.query_one("#followups-list").move_cursor(row=row)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, FollowupDetail)
    return pilot.app.screen


def wall_today() -> date:
    return today()


# ---- the list ------------------------------------------------------------------------------


async def test_f10_lists_the_open_follow_ups_overdue_first_and_marked():
    changes, order = sample_changes(wall_today())
    app = make_desk(changes=changes)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_followups(pilot)
        assert [f.uid for f in screen.followups] == order
        table = screen.query_one("#followups-list")
        first = [str(c) for c in table.get_row_at(0)]
        assert first[0].endswith("已逾期") and first[1] == "K1A-261124-0007" and first[4] == PHONE
        assert table.get_row_at(0)[0].spans and table.get_row_at(1)[0].spans, "an overdue date is coloured"
        assert not table.get_row_at(2)[0].spans and "已逾期" not in str(table.get_row_at(2)[0])
        assert [str(table.get_row_at(r)[1]) for r in range(4)] == ["K1A-261124-0007", "K1A-261121-0002",
                                                                   "K1A-261124-0012", "匿名"]
        assert str(table.get_row_at(3)[4]) == "0591-87654321"  # the phone in full: clerks call
        text = screen_text(app)
        assert "共4条待回访，其中2条已逾期" in text and "K1A-261120-0003" not in text  # closed elsewhere
        assert "[b]哪一项[/b]" in text  # customer text is shown as typed, never as markup
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReceivingScreen)


async def test_the_comment_is_cut_by_display_width_and_shown_whole_in_the_detail():
    changes, _ = sample_changes(TODAY)
    app = make_desk(changes=changes)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_followups(pilot, TODAY)
        from kiosk.i18n.textwidth import cell_width

        cell = str(screen.query_one("#followups-list").get_row_at(0)[5])
        column = screen.query_one("#followups-list").ordered_columns[5]
        assert cell.endswith("…") and cell_width(cell) <= column.width < cell_width(LONG_COMMENT)
        await open_detail(pilot, 0)
        text = screen_text(app)
        assert LONG_COMMENT in text and PHONE in text and "大厅1号机" in text and "1号收件窗口" in text


async def test_no_open_follow_ups_says_so():
    app = make_desk("en")
    async with app.run_test(size=(100, 32)) as pilot:
        await to_followups(pilot)
        assert "No open follow-ups" in screen_text(app)
        await pilot.press("enter", "f5")  # nothing to open, nothing to close
        await settle(pilot)
        assert isinstance(app.screen, FollowupsScreen)


def test_narrow_columns_cut_the_comment_first_then_the_reason_then_the_rating():
    shrinkable = {5: 8, 3: 8, 2: 8}
    natural = [12, 15, 17, 17, 13, 40]
    assert fit_columns(natural, shrinkable, 200) == natural
    assert fit_columns(natural, shrinkable, 84) == [12, 15, 17, 17, 13, 10]
    assert fit_columns(natural, shrinkable, 76) == [12, 15, 17, 11, 13, 8]
    assert fit_columns(natural, shrinkable, 60) == [12, 15, 8, 8, 13, 8]  # no narrower: the table scrolls


# ---- closing ------------------------------------------------------------------------------


async def test_a_follow_up_closed_with_a_note_is_closed_with_its_outbox_event():
    changes, order = sample_changes(TODAY)
    app = make_desk(changes=changes)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await to_followups(pilot, TODAY)
        await open_detail(pilot, 0)
        await pilot.press(*"已回电致歉", "f5")
        await settle(pilot)
        assert app.screen is screen
        row = Followup.get(Followup.uid == order[0])
        assert (row.status, row.call_note, row.closed_by_id) == ("closed", "已回电致歉", app.clerk.id)
        event = OutboxEvent.get(OutboxEvent.kind == "followup.closed")
        payload = json.loads(event.payload)
        assert payload["followup"] == order[0] and payload["clerk"] == {"username": "wang", "name": "王芳"}
        assert payload["note"] == "已回电致歉" and payload["device"] == app.device.uid
        assert payload["fix"] is None and row.fix_rating is None  # the customer did not rate the fix
        assert [f.uid for f in screen.followups] == order[1:]
        assert "已关闭回访：受理单K1A-261124-0007" in screen_text(app)


async def test_the_customers_rating_of_the_fix_is_kept_by_the_close():
    """满意 基本满意 不满意 or 未评价 (the default), chosen in the detail: the close (F5) keeps it, with
    its outbox event; a call logged (F6) meanwhile does not."""
    from textual.widgets import RadioButton

    changes, order = sample_changes(TODAY)
    app = make_desk(changes=changes)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_followups(pilot, TODAY)
        detail = await open_detail(pilot, 0)
        assert detail.query_one("#fix-none", RadioButton).value
        assert str(detail.query_one("#fix-basic", RadioButton).label) == "基本满意"
        await pilot.press(*"已回电")
        assert await pilot.click("#fix-basic")
        await pilot.press("f6")
        await settle(pilot)
        assert app.screen is screen
        row = Followup.get(Followup.uid == order[0])
        assert (row.status, row.fix_rating) == ("open", None)
        await open_detail(pilot, 0)
        await pilot.press(*"已致歉")
        assert await pilot.click("#fix-dissatisfied")
        await pilot.press("f5")
        await settle(pilot)
        row = Followup.get(Followup.uid == order[0])
        assert (row.status, row.call_note, row.fix_rating) == ("closed", "已致歉", "dissatisfied")
        payload = json.loads(OutboxEvent.get(OutboxEvent.kind == "followup.closed").payload)
        assert payload["fix"] == "dissatisfied"


async def test_an_empty_or_too_long_note_is_refused_in_words():
    changes, order = sample_changes(TODAY)
    app = make_desk("en", changes=changes)
    async with app.run_test(size=(100, 32)) as pilot:
        await to_followups(pilot, TODAY)
        detail = await open_detail(pilot, 1)
        await pilot.press(*"   ", "f5")
        await settle(pilot)
        assert app.screen is detail and "Write the call note before closing" in screen_text(app)
        detail.query_one("#field-note").value = "x" * 501
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is detail and "At most 500 characters" in screen_text(app)
        assert Followup.get(Followup.uid == order[1]).status == "open"
        assert not OutboxEvent.select().where(OutboxEvent.kind == "followup.closed").exists()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FollowupsScreen) and len(app.screen.followups) == 4


async def test_a_follow_up_closed_meanwhile_elsewhere_is_said_and_the_list_refreshed():
    changes, order = sample_changes(TODAY)
    app = make_desk(changes=changes)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await to_followups(pilot, TODAY)
        await open_detail(pilot, 0)
        # While the clerk types, sync brings the same follow-up closed at another desk.
        await app.in_db_thread(pull, [closed_elsewhere(100, order[0], "赵敏", AT + timedelta(days=20))])
        await pilot.press(*"已回电", "f5")
        await settle(pilot)
        assert app.screen is screen
        text = screen_text(app)
        local = as_local(AT + timedelta(days=20))
        assert f"这条回访已于{local:%Y-%m-%d %H:%M}由赵敏关闭，列表已刷新" in text
        assert [f.uid for f in screen.followups] == order[1:]
        row = Followup.get(Followup.uid == order[0])
        assert (row.call_note, row.closed_by_id, row.closed_by_name) == ("已回电", None, "赵敏")
        assert not OutboxEvent.select().where(OutboxEvent.kind == "followup.closed").exists()


async def test_a_sync_pass_reads_the_list_again():
    from screens.station import SyncState, SyncStateChanged

    changes, order = sample_changes(TODAY)
    app = make_desk(changes=changes)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await to_followups(pilot, TODAY)
        app.post_message(SyncStateChanged(SyncState(True, True, 0, 0, AT)))
        await settle(pilot)
        await app.in_db_thread(pull, [closed_elsewhere(100, order[1])])
        assert len(screen.followups) == 4  # nothing reads the database by itself
        app.post_message(SyncStateChanged(SyncState(True, True, 0, 0, AT + timedelta(seconds=30))))
        await settle(pilot)
        assert [f.uid for f in screen.followups] == [order[0], *order[2:]]


# ---- the lock --------------------------------------------------------------------------------


async def test_locking_leaves_no_customer_data_on_screen():
    changes, _ = sample_changes(TODAY)
    app = make_desk(changes=changes)
    async with app.run_test(size=(100, 32)) as pilot:
        await to_followups(pilot, TODAY)
        await open_detail(pilot, 0)
        await pilot.press(*"已回")
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen) and len(app.screen_stack) == 1 and app.clerk is None
        assert not any(isinstance(s, (FollowupsScreen, FollowupDetail)) for s in app.screen_stack)
        text = screen_text(app)
        assert PHONE not in text and "K1A-261124-0007" not in text and "已回" not in text


async def test_the_idle_lock_wipes_the_follow_ups_too():
    clock = FakeClock()
    changes, _ = sample_changes(TODAY)
    app = make_desk(changes=changes, clock=clock, lock_seconds=120)
    async with app.run_test(size=(100, 32)) as pilot:
        await to_followups(pilot, TODAY)
        clock.now += 120
        app.idle_tick()
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen) and len(app.screen_stack) == 1
        assert PHONE not in screen_text(app)


# ---- snapshots -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["80x24", "120x40"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_follow_ups_snapshot(snap_compare, language, size):
    changes, _ = sample_changes(TODAY)
    app = make_desk(language, changes=changes)

    async def run_before(pilot):
        await to_followups(pilot, TODAY)

    width, height = map(int, size.split("x"))
    assert snap_compare(app, terminal_size=(width, height), run_before=run_before)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_follow_up_detail_snapshot(snap_compare, language):
    changes, _ = sample_changes(TODAY)
    app = make_desk(language, changes=changes)

    async def run_before(pilot):
        await to_followups(pilot, TODAY)
        await open_detail(pilot, 0)
        await pilot.press("f5")  # no note yet: the error shows
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


# ---- call-backs and appeals (issue 21): recorded here, and seen from other desks ------------------


def called_elsewhere(seq: int, followup: str, feedback: str, *, reached: bool = True, note: str = "客户说已经解决",
                     at: datetime = AT + timedelta(days=2)) -> dict:
    return {"seq": seq, "kind": "followup.called", "data": {
        "call": uuid7(), "followup": followup, "feedback": feedback, "device": OTHER_DESK, "at": at.isoformat(),
        "reached": reached, "note": note, "clerk": {"username": "liming", "name": "李明"}}}


def appealed_elsewhere(seq: int, feedback: str, appeal: str, at: datetime = AT + timedelta(days=2, hours=1)) -> dict:
    return {"seq": seq, "kind": "rating.appealed", "data": {
        "appeal": appeal, "feedback": feedback, "device": OTHER_DESK, "at": at.isoformat(),
        "reason": "客户按错了键", "clerk": {"username": "liming", "name": "李明"}}}


def decided_in_office(seq: int, feedback: str, appeal: str, decision: str = "upheld",
                      at: datetime = AT + timedelta(days=3)) -> dict:
    return {"seq": seq, "kind": "appeal.decided", "data": {
        "appeal": appeal, "feedback": feedback, "device": "0193aaaa-0000-7000-8000-0000000000ce", "at": at.isoformat(),
        "decision": decision, "reason": "监控显示误触", "supervisor": {"username": "office", "name": "张主任"},
        "via": "office"}}


def recorded_elsewhere(changes: list[dict], order: list[str]) -> list[dict]:
    """Of the first open follow-up (the late one): a call not reached and one reached at another
    desk, an appeal filed there and upheld in the back office (a decision sent twice: one counts)."""
    late = next(c["data"] for c in changes if c["kind"] == "feedback.given" and c["data"]["followup"]
                and c["data"]["followup"]["uid"] == order[0])
    appeal = uuid7()
    return [called_elsewhere(20, order[0], late["feedback"], reached=False, note="", at=AT + timedelta(days=1)),
            called_elsewhere(21, order[0], late["feedback"]),
            appealed_elsewhere(22, late["feedback"], appeal),
            decided_in_office(23, late["feedback"], appeal),
            decided_in_office(24, late["feedback"], appeal, "rejected", at=AT + timedelta(days=4))]


async def test_a_call_back_and_an_appeal_are_recorded_with_their_outbox_events():
    from db.models import Appeal, FollowupCall

    changes, order = sample_changes(TODAY)
    app = make_desk(changes=changes)
    async with app.run_test(size=(100, 32)) as pilot:
        screen = await to_followups(pilot, TODAY)
        await open_detail(pilot, 0)
        await pilot.press(*"已致歉客户接受", "f6")
        await settle(pilot)
        assert app.screen is screen and "已记录回访：受理单K1A-261124-0007" in screen_text(app)
        row = Followup.get(Followup.uid == order[0])
        assert row.status == "open"  # a call does not close the work order
        call = FollowupCall.get()
        assert (call.reached, call.note, call.clerk_id, call.device) == (True, "已致歉客户接受", app.clerk.id, None)
        payload = json.loads(OutboxEvent.get(OutboxEvent.kind == "followup.called").payload)
        assert payload["followup"] == order[0] and payload["reached"] is True and payload["note"] == "已致歉客户接受"
        assert payload["clerk"] == {"username": "wang", "name": "王芳"} and payload["device"] == app.device.uid

        detail = await open_detail(pilot, 0)
        assert "已接通：已致歉客户接受" in screen_text(app)  # the call just logged, in the detail
        detail.query_one("#followup-reached").value = False
        await pilot.press("f6")  # not reached: nothing to say is fine
        await settle(pilot)
        assert [c.reached for c in FollowupCall.select().order_by(FollowupCall.id)] == [True, False]

        detail = await open_detail(pilot, 0)
        await pilot.press("f7")
        await settle(pilot)
        assert app.screen is detail and "请先填写申诉理由" in screen_text(app)
        await pilot.press(*"客户误触了非常不满意", "f7")
        await settle(pilot)
        assert app.screen is screen and "已提交申诉，等待主管审核" in screen_text(app)
        appeal = Appeal.get()
        assert (appeal.reason, appeal.raised_by_id, appeal.decision) == ("客户误触了非常不满意", app.clerk.id, None)
        payload = json.loads(OutboxEvent.get(OutboxEvent.kind == "rating.appealed").payload)
        assert payload["feedback"] == appeal.feedback.uid and payload["reason"] == "客户误触了非常不满意"

        await open_detail(pilot, 0)
        await pilot.press(*"再申诉一次", "f7")  # one appeal waiting per rating
        await settle(pilot)
        assert "这条评价已有申诉在等待审核" in screen_text(app) and Appeal.select().count() == 1
        assert Followup.get(Followup.uid == order[0]).status == "open"

        from kiosk.store.clerks import add_clerk
        from kiosk.store.window_ratings import decide
        decide(appeal.id, add_clerk("zhao", "赵主任", "1357", admin=True), "upheld", "监控显示误触")
        await open_detail(pilot, 0)
        await pilot.press(*"再申诉一次", "f7")  # upheld: out of the counts, nothing left to appeal
        await settle(pilot)
        assert "这条评价的申诉已成立，不计入统计，无需再申诉" in screen_text(app) and Appeal.select().count() == 1


async def test_a_call_not_reached_may_say_nothing_but_a_reached_one_must():
    changes, _ = sample_changes(TODAY)
    app = make_desk("en", changes=changes)
    async with app.run_test(size=(100, 32)) as pilot:
        await to_followups(pilot, TODAY)
        detail = await open_detail(pilot, 1)
        await pilot.press("f6")
        await settle(pilot)
        assert app.screen is detail and "Write what was said before logging the call" in screen_text(app)
        assert not OutboxEvent.select().where(OutboxEvent.kind == "followup.called").exists()


async def test_calls_and_appeals_recorded_at_other_desks_are_shown_in_the_detail():
    from db.models import Appeal, FollowupCall
    from kiosk.store.registration import ensure_device
    from kiosk.sync.feed import apply_changes

    changes, order = sample_changes(TODAY)
    app = make_desk("en", changes=changes)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await to_followups(pilot, TODAY)
        more = recorded_elsewhere(changes, order)
        own = ensure_device().uid
        applied = await app.in_db_thread(lambda: apply_changes(more, 30, own))
        assert applied.work_orders == 4 and applied.parked == 0  # the second decision: the first stays
        again = await app.in_db_thread(lambda: apply_changes(more[:3], 31, own))
        assert again.work_orders == 0  # known already: once
        assert [c.device for c in FollowupCall.select()] == [OTHER_DESK, OTHER_DESK]
        appeal = Appeal.get()
        assert (appeal.decision, appeal.decided_by_name, appeal.decided_via, appeal.raised_by_id) == (
            "upheld", "张主任", "office", None)
        screen.load()
        await settle(pilot)
        await open_detail(pilot, 0)
        text = screen_text(app)
        assert "李明 at 1号收件窗口, not reached: —" in text
        assert "李明 at 1号收件窗口, reached: 客户说已经解决" in text
        assert "李明 at 1号收件窗口: 客户按错了键 (upheld by 张主任: 监控显示误触; not counted)" in text


@pytest.mark.parametrize("language", ["zh", "en"])
def test_follow_up_detail_with_what_other_desks_recorded_snapshot(snap_compare, language):
    changes, order = sample_changes(TODAY)
    app = make_desk(language, changes=changes + recorded_elsewhere(changes, order))

    async def run_before(pilot):
        await to_followups(pilot, TODAY)
        await open_detail(pilot, 0)
        await pilot.press(*"已致歉")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_a_window_ratings_work_order_names_its_counter():
    """Rated on the pad at counter 3: the detail says where (3号窗口), not the desk's device."""
    window, _ = rating(2, due=TODAY + timedelta(days=5), number="K1A-261124-0031", reason="attitude",
                       steps={"received": {"device": OTHER_DESK, "clerk": "liming"}})
    window["data"].update(stage="intake", counter="3", staff_number="GZ0107", clerk="liming")
    app = make_desk(changes=[device_key(1, OTHER_DESK, "D1"), window])
    async with app.run_test(size=(100, 40)) as pilot:
        await to_followups(pilot, today=TODAY)
        await open_detail(pilot)
        text = screen_text(pilot.app.screen)
        assert "评价地点：3号窗口" in text and "3号窗口　liming" in text, text
