"""The last gate at dispatch (issue 23's check) with the real desk: `kiosk clerk --counter 1` in a real
terminal (tmux, 80x24), driven by keys and by taps where the check's points are buttons.

A ticket of four instruments (two gauges on one line: a certificate each; a third gauge; a tape
measure verified), made by the real `kiosk register`, is taken in (F5 at receiving), marked ready
(F6 at dispatch), then its certificates checked (F5 at dispatch): one matches; one has a wrong serial
number, one a wrong holder's name, one no conclusion, each sent back to the lab with its reason
(the point tapped and words typed). The pickup (F7) waits; the corrected certificates come back and
are checked again (the one without a conclusion comes back a 检定结果通知书: the gauge failed); the
pickup goes through and its slip (the preview printer's text copy) says so. Then the figures:
`kiosk checks` beside the desk, and the certificate check events in the database; and, the desk
enrolled with a real central (uvicorn), the back office's /office/certificate-checks once the desk
has synced by itself.

Every step waits for screen text, never a guessed sleep."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.i18n import t

from .test_desk_pad_terminal import cli, rows
from .test_terminal import KIOSK, TMUX
from .test_touch_registration import MouseTerminal, tokens

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed"),
    pytest.mark.skipif(not KIOSK.exists(), reason="the kiosk console script is not installed"),
]

PIN = "2468"
CLERK, STAFF_NUMBER = "王芳", "GZ0107"
HOLDER = "示范燃气有限公司"
ORDER = {"lines": [{"item": "L-001-001", "quantity": 2, "use": "safety", "serial_number": "YB-0001"},
                   {"item": "L-001-004", "quantity": 1, "use": "safety", "serial_number": "YB-0099"},
                   {"item": "C-003-001", "metres": "7.5", "serial_number": "GC-12"}],
         "customer": {"organisation": HOLDER, "contact": "李工", "phone": "13812345678"}}
HINT = t("check.hint", "zh")[:8]  # the number field's placeholder, shown while it is empty
SERIAL_WHY, HOLDER_WHY, CONCLUSION_WHY = "出厂编号写错", "证书单位少了有限公司", "漏填结论"
# (position, instrument, outcome, document, wrong, reason, a re-check) of every check, in order
CHECKED = [(0, 0, "passed", "certificate", "", "", 0), (0, 1, "returned", "certificate", "serial", SERIAL_WHY, 0),
           (1, 0, "returned", "certificate", "conclusion", CONCLUSION_WHY, 0),
           (2, 0, "returned", "certificate", "holder", HOLDER_WHY, 0),
           (0, 1, "passed", "certificate", "", "", 1), (1, 0, "passed", "notice", "", "", 1),
           (2, 0, "passed", "certificate", "", "", 1)]


class Desk(MouseTerminal):
    size = (80, 24)

    def wait_all(self, *texts: str, timeout: float = 20) -> str:
        def shown() -> str | None:
            screen = self.screen()
            return screen if all(text in screen for text in texts) else None

        return self.wait_until(shown, " and ".join(map(repr, texts)), timeout)

    def tap_word(self, word: str, *, row_with: str = "") -> str:
        """A tap on the button whose label is exactly `word` (a run of its own: 合格 is not 不合格),
        on the line that also has `row_with`; then the screen once its colours have changed."""

        def found() -> tuple[int, int] | None:
            for row, line in enumerate(self.lines()):
                if row_with in line:
                    for column, text in tokens(line):
                        if text == word:
                            return column + 1, row
            return None

        column, row = self.wait_until(found, f"the button {word!r}")
        return self.tap(column, row, word, escapes=True)

    def field_has(self, label: str, text: str) -> None:
        self.wait_until(lambda: any(label in line and text in line for line in self.lines()),
                        f"{text!r} in the field {label}")


@pytest.fixture
def desk(tmp_path):
    desk = Desk(tmp_path)
    number = json.loads(cli(desk.database, "register", stdin=json.dumps(ORDER, ensure_ascii=False)))["number"]
    cli(desk.database, "clerk", "add", "wang", "--name", CLERK, "--staff-number", STAFF_NUMBER, stdin=f"{PIN}\n")
    try:
        desk.start("clerk", "--counter", "1")
        yield desk, number
    finally:
        desk.kill()


def sign_in(desk: Desk) -> None:
    desk.wait_all("工作人员登录", "用户名", "密码")
    desk.wait_input_focused("用户名")
    desk.type("wang")
    desk.keys("Enter")
    desk.wait_input_focused("密码")
    desk.type(PIN)
    desk.keys("Enter")
    desk.wait_all("收件窗口", "请扫描受理单二维码", "确认收件 F5")


def find(desk: Desk, number: str, *showing: str) -> str:
    desk.type(number.lower())
    desk.keys("Enter")
    return desk.wait_all(f"受理号{number}", *showing)


def check(desk: Desk, certificate: str | None, conclusion: str | None, wrong: str | None = None, why: str = "", *,
          said: str) -> str:
    """One certificate: its number typed (None: as the field holds it), its conclusion and the wrong point
    tapped, the words, F5; the screen once `said` is said."""
    desk.wait_input_focused("证书编号")  # (the list's heading has the words too, never the cursor)
    if certificate is not None:
        if not any("证书编号" in line and HINT in line for line in desk.lines()):
            # The field holds the number last checked: emptied first, and seen empty (Input runs its
            # ctrl+u as a binding, after printable keys already queued: typed on, they would go too)
            desk.keys("C-u")
            desk.field_has("证书编号", HINT)
        desk.type(certificate)
        desk.field_has("证书编号", certificate)
    if conclusion:
        desk.tap_word(conclusion)  # 合格 is a word of its own: not 不合格, not 合格放行
    if wrong:
        desk.tap_word(wrong, row_with="不符：")  # 名称 is also the list's heading
    if why:
        desk.keys("Enter")  # from the number to the words: typed once the focus has moved
        desk.wait_input_focused("说明")
        desk.type(why)
        desk.field_has("说明", why)
    desk.keys("F5")
    return desk.wait_all(said)


def state_of(screen: str, which: str) -> list[str]:
    """The check list's row of instrument `which` (1-1, 2, …): its words inside the modal's frame (the
    counter behind it shows at its left)."""
    inside = [line.split("█")[1].split() for line in screen.splitlines() if line.count("█") >= 2]
    return next(words[1:] for words in inside if words[:1] == [which])


def journey(desk: Desk, number: str) -> None:
    """The ticket taken in, ready, its certificates checked, three sent back, re-checked, picked up."""
    from kiosk.domain.certificate_check import return_promise
    from kiosk.domain.clock import local
    from kiosk.settings.config import load_config
    from kiosk.settings.institute import load_institute

    database = desk.database
    sign_in(desk)

    # ---- intake (F5), then dispatch (F3): ready (F6)
    find(desk, number, "已登记，未收件", "一般压力表")
    desk.keys("F5")
    desk.wait_for(f"已收件：{number}")
    desk.keys("F3")
    desk.wait_all("发件窗口", "请扫描取件凭证", "核对证书 F5", "确认取件 F7")
    find(desk, number, "已收件，检定中")
    desk.keys("F6")
    desk.wait_for(f"{number}已标记为可取件")

    # ---- the check (F5): four certificates, one per instrument (the line of two gauges: two)
    desk.keys("F5")
    screen = desk.wait_all(f"核对证书：受理单{number}", f"证书单位：{HOLDER}", "检定周期6个月",
                           "证书：核对0/4，退回待更正0")
    assert [state_of(screen, w) for w in ("1-1", "1-2", "2", "3")] == [
        ["一般压力表", "YB-0001", "未核对"], ["一般压力表", "YB-0001", "未核对"],
        ["一般压力表", "YB-0099", "未核对"], ["钢卷尺", "GC-12", "未核对"]]
    config = load_config()
    calendar = load_institute(config.info_file, config.holidays_file).calendar
    by = return_promise(local(datetime.now(UTC)), calendar, config.correction_days)

    check(desk, "JD-2026-0001", "合格", said="第1-1台证书核对无误")
    check(desk, "JD-2026-0002", "合格", "编号", SERIAL_WHY, said=f"第1-2台证书退回更正（编号），{by:%Y-%m-%d}前改好")
    check(desk, "JD-2026-0003", None, None, CONCLUSION_WHY, said=f"第2台证书退回更正（结论），{by:%Y-%m-%d}前改好")
    check(desk, "JC-2026-0004", "合格", "单位", HOLDER_WHY, said=f"第3台证书退回更正（单位），{by:%Y-%m-%d}前改好")
    screen = desk.wait_all("证书：核对4/4，退回待更正3")
    returned = f"退回更正，{by:%m-%d}前"
    assert [state_of(screen, w) for w in ("1-1", "1-2", "2", "3")] == [
        ["一般压力表", "YB-0001", "JD-2026-0001", "合格放行"], ["一般压力表", "YB-0001", "JD-2026-0002", returned],
        ["一般压力表", "YB-0099", "JD-2026-0003", returned], ["钢卷尺", "GC-12", "JC-2026-0004", returned]]
    checks = rows(database, "SELECT position, instrument, kind, outcome, wrong, reason, certificate, conclusion, "
                            "clerk_name, promised_on FROM certificate_check ORDER BY id")
    assert checks == [
        (0, 0, "check", "passed", "", "", "JD-2026-0001", "pass", CLERK, None),
        (0, 1, "check", "returned", "serial", SERIAL_WHY, "JD-2026-0002", "pass", CLERK, by.isoformat()),
        (1, 0, "check", "returned", "conclusion", CONCLUSION_WHY, "JD-2026-0003", None, CLERK, by.isoformat()),
        (2, 0, "check", "returned", "holder", HOLDER_WHY, "JC-2026-0004", "pass", CLERK, by.isoformat())]

    # ---- back at the counter: the pickup (F7) waits for the three
    waits = "有3份证书退回更正，取件需等更正后复核，或客户选择按原样取走"
    desk.keys("Escape")
    desk.wait_all("发件窗口", waits)
    desk.keys("F7")
    desk.wait_all(waits)
    assert rows(database, f"SELECT status FROM ticket WHERE number = '{number}'") == [("ready",)]
    assert desk.alive()

    # ---- the corrected certificates come back: checked again (the gauge without a conclusion failed:
    # a 检定结果通知书 comes back instead of its certificate)
    desk.keys("F5")
    desk.wait_all(f"核对证书：受理单{number}", "证书：核对4/4，退回待更正3")
    desk.keys("Down")  # to 1-2, the first returned; its number stays in the field
    desk.field_has("证书编号", "JD-2026-0002")
    check(desk, None, "合格", said="第1-2台证书核对无误")
    check(desk, "TZ-2026-0003", "不合格", said="第2台检定不合格：出具检定结果通知书")
    check(desk, None, "合格", said="第3台证书核对无误")
    screen = desk.wait_all("证书：核对4/4，退回待更正0")
    assert [state_of(screen, w)[-1] for w in ("1-1", "1-2", "2", "3")] == ["合格放行", "合格放行", "不合格通知书",
                                                                         "合格放行"]
    desk.keys("Escape")
    desk.wait_gone(waits)
    desk.keys("F7")
    desk.wait_for(f"已取件：{number}")
    assert rows(database, f"SELECT status FROM ticket WHERE number = '{number}'") == [("picked_up",)]

    # ---- the pickup slip (the preview printer's text copy): the numbers checked, and the failed gauge's
    # notice in plain words, with no next verification date for it
    desk.wait_until(lambda: rows(database, "SELECT state FROM print_job WHERE kind = 'pickup_slip'") == [("printed",)],
                    "the pickup slip printed")
    slip = (Path(os.environ["KIOSK_DATA_DIR"]) / "receipts").glob(f"pickup-{number}-*.txt")
    lines = [" ".join(line.split()) for line in next(slip).read_text(encoding="utf-8").splitlines()]
    for expected in ("证书编号 1/2 JD-2026-0001", "证书编号 2/2 JD-2026-0002", "证书编号 JC-2026-0004"):
        assert expected in lines, (expected, lines)
    gauge = lines[lines.index("2. 一般压力表 1块"):lines.index("3. 钢卷尺 1把")]
    assert not any(line.startswith("下次检定") for line in gauge), gauge  # found 不合格: no next verification
    notice = "".join(lines[lines.index("2. 一般压力表："):]).replace(" ", "")
    assert notice.startswith("2.一般压力表：" + t("check.slip.notice", "zh")), notice

    assert rows(database, "SELECT position, instrument, outcome, document, wrong, reason, refers_to IS NOT NULL "
                          "FROM certificate_check ORDER BY id") == CHECKED


def test_certificates_checked_returned_and_rechecked_at_a_real_desk(desk, request):
    from kiosk.domain.certificate_check import week_of
    from kiosk.domain.clock import today

    desk, number = desk
    database = desk.database
    started = time.monotonic()
    journey(desk, number)

    # ---- the figures beside the running desk: `kiosk checks` by lab field and week, and its CSV
    monday = week_of(today()).isoformat()  # this week's, on the institute's clock
    table = cli(database, "checks").splitlines()
    assert table[0].split() == ["周", "专业", "核对", "退回", "复核", "差错率", "退回原因"]
    assert {line.split()[0] for line in table[1:]} == {monday}, table
    by_field = {line.split()[1]: line.split()[2:] for line in table[1:]}
    assert by_field == {"长度": ["2", "1", "1", "50.0%", "单位", "1"],
                        "力学": ["5", "2", "2", "40.0%", "编号", "1、结论", "1"]}, table
    exported = cli(database, "checks", "--csv").lstrip("\ufeff").splitlines()
    assert exported[0].split(",")[:6] == ["week", "field", "checked", "returned", "rechecked", "error_rate"]
    assert {line.split(",")[0] for line in exported[1:]} == {monday}
    assert sorted(line.split(",")[1:] for line in exported[1:]) == [
        ["C", "2", "1", "1", "50.0", "0", "0", "1", "0", "0", "0"],
        ["L", "5", "2", "2", "40.0", "0", "1", "0", "1", "0", "0"]]

    # ---- every step is an event to sync, in order; the desk is still up, on its counter
    events = [kind for (kind,) in rows(database, "SELECT kind FROM outbox_event ORDER BY seq")]
    assert events == ["ticket.registered", "ticket.received", "ticket.ready", *["certificate.checked"] * 7,
                      "ticket.picked_up"]
    assert desk.alive() and "发件窗口" in desk.screen()
    seconds = time.monotonic() - started
    request.node.user_properties.append(("figures", f"certificate checks at a real desk: {seconds:.1f} s"))


@pytest.fixture
def enrolled_desk(tmp_path):
    """The same desk, enrolled with a real central (uvicorn on loopback, SQLite): the ticket registered
    on a kiosk of its own (`kiosk register`), synced to central and pulled by the desk before it starts;
    the desk then syncs by itself."""
    pytest.importorskip("fastapi", reason="central's part needs the central extra")
    from central.schema import open_storage
    from central.server import serve_in_thread
    from tests.sync.conftest import Node

    store = open_storage(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    try:
        with serve_in_thread(store) as central:
            lobby = Node(tmp_path / "lobby" / "kiosk.sqlite3", "", "kiosk")
            lobby.path.parent.mkdir()
            number = json.loads(cli(lobby.path, "register", stdin=json.dumps(ORDER, ensure_ascii=False)))["number"]
            with lobby.open():
                lobby.enroll(central)
                assert lobby.sync().pushed == 1
            desk = Desk(tmp_path)
            counter = Node(desk.database, "", "clerk")
            with counter.open():
                counter.enroll(central)
                counter.sync()
            cli(desk.database, "clerk", "add", "wang", "--name", CLERK, "--staff-number", STAFF_NUMBER,
                stdin=f"{PIN}\n")
            try:
                desk.start("clerk", "--counter", "1")
                yield desk, number, central
            finally:
                desk.kill()
    finally:
        store.close()


def test_the_returns_and_their_reasons_reach_the_back_office(enrolled_desk):
    from urllib.request import Request, urlopen

    from central import certificate_checks

    from .central.office_users import office

    desk, number, central = enrolled_desk
    journey(desk, number)

    # The desk pushes each step by itself; central counts them by lab field and week.
    def counted():
        found = certificate_checks.figures(central.storage)
        return found if sum(f.checked for f in found) == len(CHECKED) else None

    found = desk.wait_until(counted, "central to count the 7 checks")
    assert {(f.field, f.checked, f.returned, f.rechecked) for f in found} == {("L", 5, 2, 2), ("C", 2, 1, 1)}
    assert {f.field: f.reasons for f in found} == {"L": {"serial": 1, "conclusion": 1}, "C": {"holder": 1}}
    desk.wait_for("上次同步")
    with urlopen(Request(f"{central.url}/office/certificate-checks", headers=office(central.storage)),
                 timeout=10) as answer:
        assert answer.status == 200
        page = answer.read().decode("utf-8")
    assert "核对 checked <b>7</b>，退回 returned <b>3</b>" in page, page
    assert "L 力学 · Mechanics and pressure" in page and "C 长度 · Length" in page
    assert "编号 1、结论 1 · Serial 1, Conclusion 1" in page and "单位 1 · Holder 1" in page
