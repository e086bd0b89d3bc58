"""一次一评 with the real processes side by side (issue 21's check): the real `kiosk clerk --counter 1`
(the clerk desk) in one tmux server and the real `kiosk pad --counter 1` (the window's rating pad) in
another, each its own process at 80x24, on one data directory and one SQLite database.

The desk is driven by keys (its PIN screen, then the F-keys its buttons show), the pad by taps (xterm
SGR mouse reports at the cells where the pad draws each label: tests/test_touch_registration.py's
MouseTerminal). An intake (F5) is rated 满意 on the pad; the ready step is not asked about; a pickup
(F7) is rated 非常不满意 with a reason. The poor rating is followed at the desk (F10): its work order
with the deadline, a call-back (F6), an appeal (F7); the supervisor's decision, which the desk does
not take, through the real CLI beside the running desk (`kiosk ratings decide`), the desk reading it
back; then the close (F5) with the customer's rating of the fix. Every step waits for screen text
(never a guessed sleep); each fact is then read from the database and from `kiosk satisfaction
--export json`.

The ticket and the clerks are made as an institute makes them: `kiosk register` (a phone order on
stdin) and `kiosk clerk add … --staff-number` (the PIN on stdin)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from kiosk.i18n import date_text, t
from kiosk.i18n.textwidth import cell_width

from .test_terminal import KIOSK, TMUX
from .test_touch_registration import MouseTerminal, tokens

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed"),
    pytest.mark.skipif(not KIOSK.exists(), reason="the kiosk console script is not installed"),
]

PIN, ADMIN_PIN = "2468", "1357"
CLERK, STAFF_NUMBER = "王芳", "GZ0107"
SUPERVISOR = "赵磊"
ORDER = {"lines": [{"item": "L-001-001", "quantity": 1, "use": "safety"}],
         "customer": {"organisation": "示范燃气有限公司", "contact": "李工", "phone": "13812345678"}}
CALL_NOTE = "已电话联系客户，客户说态度生硬"
APPEAL_REASON = "客户称误点"
DECISION_REASON = "录音为证"
CLOSE_NOTE = "已道歉并培训"

IDLE, IDLE_NOTE = t("pad.idle", "zh"), t("pad.idle_note", "zh")
THANKS, THANKS_POOR = t("pad.thanks", "zh"), t("pad.thanks_poor", "zh")
LEVEL_LABELS = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]  # the standard's, best first


class Window(MouseTerminal):
    """One of the two apps at 80x24 in its own tmux server, its terminal output logged apart."""

    size = (80, 24)

    def __init__(self, tmp_path: Path, name: str) -> None:
        super().__init__(tmp_path)
        self.output_log = tmp_path / f"{name}-terminal-output.log"

    def tap_label(self, label: str, *, escapes: bool = False) -> str:
        """A tap inside the button whose label is exactly `label` (a word on its own: 满意 is not
        the 满意 of 非常满意), on its label's row; then the screen once it has changed (with escapes: its
        colours too, as a radio button's)."""

        def found() -> tuple[int, int] | None:
            for row, line in enumerate(self.lines()):
                for column, text in tokens(line):
                    if text == label:
                        return column + cell_width(label) // 2, row
            return None

        column, row = self.wait_until(found, f"the button {label!r}")
        return self.tap(column, row, label, escapes=escapes)

    def wait_all(self, *texts: str, timeout: float = 20) -> str:
        """The screen once every one of `texts` is on it."""
        def shown() -> str | None:
            screen = self.screen()
            return screen if all(text in screen for text in texts) else None

        return self.wait_until(shown, " and ".join(map(repr, texts)), timeout)


def cli(database: Path, *args: str, stdin: str | None = None) -> str:
    """The real `kiosk` command on the shared database (the data directory is conftest's): stdout."""
    done = subprocess.run([str(KIOSK), "--db", str(database), *args], input=stdin, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, f"kiosk {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def rows(database: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


@pytest.fixture
def windows(tmp_path):
    """The desk and its pad, running, on a database with one registered ticket and two clerks."""
    desk, pad = Window(tmp_path, "desk"), Window(tmp_path, "pad")
    assert desk.database == pad.database
    number = json.loads(cli(desk.database, "register", stdin=json.dumps(ORDER, ensure_ascii=False)))["number"]
    cli(desk.database, "clerk", "add", "wang", "--name", CLERK, "--staff-number", STAFF_NUMBER, stdin=f"{PIN}\n")
    cli(desk.database, "clerk", "add", "zhao", "--name", SUPERVISOR, "--admin", stdin=f"{ADMIN_PIN}\n")
    try:
        desk.start("clerk", "--counter", "1")
        pad.start("pad", "--counter", "1")
        yield desk, pad, number
    finally:
        desk.kill()
        pad.kill()


def pad_is_idle(pad: Window, number: str) -> None:
    """The pad waits for the next customer, with nothing of the last one on it."""
    screen = pad.wait_all(IDLE, IDLE_NOTE)
    for trace in (number, CLERK, STAFF_NUMBER, *LEVEL_LABELS, THANKS):
        assert trace not in screen, (trace, screen)


def sign_in(desk: Window) -> None:
    desk.wait_all("工作人员登录", "用户名", "密码")
    desk.wait_input_focused("用户名")
    desk.type("wang")
    desk.keys("Enter")
    desk.wait_input_focused("密码")  # Textual moves focus after the key: the PIN waits for it
    desk.type(PIN)
    desk.keys("Enter")
    desk.wait_all("收件窗口", "请扫描受理单二维码", "确认收件 F5", "回访 F10")


def note_typed(desk: Window, text: str) -> None:
    """`text` is in the follow-up's one field (the row after its label's: the input's middle row)."""

    def in_field() -> bool:
        lines = desk.lines()
        return any("记录或理由" in line and text in line for line in lines)

    desk.wait_until(in_field, f"{text!r} in the field 记录或理由")


def find(desk: Window, number: str, *showing: str) -> str:
    """A ticket number typed by hand into the counter's scan field."""
    desk.type(number.lower())
    desk.keys("Enter")
    return desk.wait_all(f"受理号{number}", *showing)


def test_a_desk_and_its_pad_side_by_side_in_real_terminals(windows, request):
    desk, pad, number = windows
    started = time.monotonic()
    database = desk.database

    # ---- the pad at rest; the clerk signs in
    pad_is_idle(pad, number)
    assert pad.pane("#{mouse_any_flag}") == "1" and pad.pane("#{mouse_sgr_flag}") == "1"  # it takes taps
    assert "服务评价器　1号窗口" in pad.screen()
    sign_in(desk)

    # ---- intake (F5): the pad asks, with the stage and who served; 满意 is one tap
    find(desk, number, "已登记，未收件", "一般压力表")
    desk.keys("F5")
    desk.wait_for(f"已收件：{number}")
    screen = pad.wait_all(f"办件编号：{number}（受理）", f"为您办理：{CLERK}（工号 {STAFF_NUMBER}）",
                          "请您对本次服务进行评价：", "不评价")
    levels = next(line for line in screen.splitlines() if "非常满意" in line)
    assert [text for _, text in tokens(levels)] == LEVEL_LABELS, levels
    pad.tap_label("满意")
    screen = pad.wait_for(THANKS)
    assert THANKS_POOR not in screen and number not in screen
    pad_is_idle(pad, number)  # by itself, after the thanks
    assert rows(database, "SELECT ticket_number, stage, staff_number, counter, rating, reason FROM feedback") == [
        (number, "intake", STAFF_NUMBER, "1", 4, None)]

    # ---- ready (F6) is not a stage the customer rates; pickup (F7) is: 非常不满意, then why
    desk.keys("F3")
    desk.wait_all("发件窗口", "请扫描取件凭证", "确认取件 F7")
    find(desk, number, "已收件，检定中")
    desk.keys("F6")
    desk.wait_for(f"{number}已标记为可取件")
    desk.keys("F7")
    desk.wait_for(f"已取件：{number}")
    pad.wait_all(f"办件编号：{number}（办结）", f"为您办理：{CLERK}（工号 {STAFF_NUMBER}）")
    assert rows(database, "SELECT stage FROM rating_request ORDER BY id") == [("intake",), ("completion",)]
    pad.tap_label("非常不满意")
    screen = pad.wait_all("很抱歉，请告诉我们哪里做得不好：", f"办件编号：{number}（办结）　非常不满意", "返回")
    for reason in ("等候或办理太久", "服务态度不好", "收费不清楚", "说明解释不清", "证书或仪器有问题", "其他原因"):
        assert reason in screen, reason
    pad.tap_label("服务态度不好")
    pad.wait_all(THANKS, THANKS_POOR)
    pad_is_idle(pad, number)

    ratings = rows(database, "SELECT ticket_number, stage, staff_number, counter, rating, reason, created_at "
                             "FROM feedback ORDER BY id")
    assert [r[:6] for r in ratings] == [(number, "intake", STAFF_NUMBER, "1", 4, None),
                                        (number, "completion", STAFF_NUMBER, "1", 1, "attitude")]
    exported = json.loads(cli(database, "satisfaction", "--export", "json"))["ratings"]
    assert [(r["stage_name"], r["transaction_number"], r["staff_number"], r["level_name"], r["poor"], r["reasons"],
             r["channel"], r["counter"]) for r in exported] == [
        ("受理", number, STAFF_NUMBER, "满意", False, "", "窗口评价器", "1"),
        ("办结", number, STAFF_NUMBER, "非常不满意", True, "服务态度不好", "窗口评价器", "1")]

    # ---- the poor rating's work order at the desk (F10), due by the institute's rule
    from kiosk.domain.feedback import work_order_due
    from kiosk.settings.config import load_config
    from kiosk.settings.institute import load_institute

    config = load_config()
    info = load_institute(config.info_file, config.holidays_file)
    given_at = datetime.fromisoformat(ratings[1][6])
    due, callback_by = work_order_due(given_at, info.ratings, info.calendar)
    assert rows(database, "SELECT due_on, callback_by, status FROM followup") == [
        (due.isoformat(), callback_by.isoformat() if callback_by else None, "open")]
    desk.keys("F10")
    screen = desk.wait_all("待回访", "共1条待回访")
    row = next(line for line in screen.splitlines() if number in line)
    assert [text for _, text in tokens(row)] == [f"{due:%m-%d}", number, "非常不满意", "服务态度不好", "未留电话"], row
    desk.keys("Enter")
    # (at 80x24 the detail's body scrolls to its field: the rating and the reason above may scroll off;
    # the list's row showed them)
    desk.wait_all(f"回访：受理单{number}", f"回访期限：{date_text(due, 'zh')}", "客户对处理结果的评价", "未评价",
                  "记录回访 F6", "申诉 F7", "关闭回访 F5")

    # a call-back (F6, reached), then an appeal (F7), each with its words. The field has focus when the
    # detail opens; the terminal cursor is not a sign of it here: with the detail's body scrolled to
    # show the field, Textual leaves the cursor as many rows below it as the body scrolled. So every
    # text is seen in the field before its key.
    desk.type(CALL_NOTE)
    note_typed(desk, CALL_NOTE)
    desk.keys("F6")
    desk.wait_for(f"已记录回访：受理单{number}")
    desk.keys("Enter")
    desk.settled(lambda screen: "回访经过：" in screen and f"已接通：{CALL_NOTE}" in screen, "the call on record")
    desk.type(APPEAL_REASON)
    note_typed(desk, APPEAL_REASON)
    desk.keys("F7")
    desk.wait_for(f"已提交申诉，等待主管审核：受理单{number}")
    desk.keys("Enter")
    desk.wait_all(f"理由：{APPEAL_REASON}", "待审核")
    desk.keys("Escape")
    desk.wait_gone("记录或理由")
    desk.keys("Escape")
    desk.wait_all("发件窗口", "请扫描取件凭证")

    assert rows(database, "SELECT reached, note, clerk_name FROM followup_call") == [(1, CALL_NOTE, CLERK)]
    (appeal_id, *appealed), = rows(database, "SELECT id, reason, raised_by_name, decision FROM appeal")
    assert appealed == [APPEAL_REASON, CLERK, None]

    # ---- the supervisor's decision (the desk does not decide appeals: `kiosk ratings decide` beside it,
    # on the same database), which the desk reads back
    cli(database, "ratings", "decide", str(appeal_id), "--supervisor", "zhao", "--rejected",
        "--reason", DECISION_REASON)
    desk.keys("F10")
    desk.wait_for("共1条待回访")
    desk.keys("Enter")
    desk.wait_all("申诉不成立", f"{SUPERVISOR}：{DECISION_REASON}", "客户对处理结果的评价", "未评价")

    # ---- closed (F5) with the customer's rating of the fix (满意, a click on it: only its colour changes)
    desk.type(CLOSE_NOTE)
    note_typed(desk, CLOSE_NOTE)
    desk.tap_label("满意", escapes=True)
    desk.keys("F5")
    desk.wait_for(f"已关闭回访：受理单{number}")
    desk.wait_for(t("desk.followups.none", "zh"))
    desk.keys("Escape")
    desk.wait_for("请扫描取件凭证")

    assert rows(database, "SELECT f.status, f.call_note, f.fix_rating, c.display_name FROM followup f "
                          "JOIN clerk c ON c.id = f.closed_by") == [("closed", CLOSE_NOTE, "satisfied", CLERK)]
    assert rows(database, "SELECT decision, decision_reason, decided_by_name FROM appeal") == [
        ("rejected", DECISION_REASON, SUPERVISOR)]
    assert len(rows(database, "SELECT id FROM feedback")) == 2  # a rating is never deleted
    events = rows(database, "SELECT kind, payload FROM outbox_event ORDER BY seq")
    assert [k for k, _ in events if k.startswith(("feedback", "followup", "rating", "appeal"))] == [
        "feedback.given", "feedback.given", "followup.called", "rating.appealed", "appeal.decided", "followup.closed"]
    closed = next(json.loads(payload) for kind, payload in events if kind == "followup.closed")
    assert (closed["fix"], closed["note"], closed["clerk"]["name"]) == ("satisfied", CLOSE_NOTE, CLERK)
    exported = json.loads(cli(database, "satisfaction", "--export", "json"))["ratings"]
    assert [r["appeal"] for r in exported] == ["", "申诉不成立"]

    # ---- neither app fell over; the pad shows nothing of the customer
    pad_is_idle(pad, number)
    assert desk.alive() and pad.alive()
    seconds = time.monotonic() - started
    request.node.user_properties.append(("figures", f"desk + pad in real terminals: the journey in {seconds:.1f} s"))
