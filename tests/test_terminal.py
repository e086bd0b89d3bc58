"""End to end in a real terminal: the real `kiosk run` inside tmux, driven by keys only.

Each test gets its own tmux server (`-L` socket), a 100x30 pane, a UTF-8 locale and no
LINES/COLUMNS, and everything the app writes to the terminal is logged (pipe-pane).

Nothing here sleeps a guessed time: every step polls for a condition on the screen (text,
the terminal cursor's row, or the reverse/bold style Textual gives the focused widget).
That matters because Textual moves focus on Tab (and on Enter in a field) only *after* the
key has bubbled up from the focused widget: text typed right behind a Tab still lands in
the old field. So after every key that moves focus, the test waits for the new focus.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
KIOSK = Path(sys.executable).with_name("kiosk")  # the venv's console script
WIDTH, HEIGHT = 100, 30
TICKET_NUMBER = re.compile(r"\b[A-Z0-9]{1,4}-\d{6}-\d{4}\b")
SGR = re.compile(r"\x1b\[([0-9;:]*)m")

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed"),
    pytest.mark.skipif(not KIOSK.exists(), reason="the kiosk console script is not installed"),
]


class Terminal:
    """One tmux server (its own socket) with one session, `kiosk`, running the app."""

    size = (WIDTH, HEIGHT)

    def __init__(self, tmp_path: Path) -> None:
        self.socket = f"kiosk-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.database = tmp_path / "kiosk.sqlite3"
        self.output_log = tmp_path / "terminal-output.log"
        self.socket_path: Path | None = None
        # The tmux client itself needs a UTF-8 locale to pass `send-keys -l 中文` through.
        # Its own server on its own socket: not the developer's tmux, even when run inside one.
        drop = ("LC_ALL", "LC_CTYPE", "TMUX", "TMUX_PANE")
        self.client_env = {k: v for k, v in os.environ.items() if k not in drop} | {"LANG": "C.UTF-8"}

    # ---- tmux --------------------------------------------------------------------------

    def tmux(self, *args: str, check: bool = True) -> str:
        result = subprocess.run([TMUX, "-u", "-f", os.devnull, "-L", self.socket, *args], env=self.client_env,
                                capture_output=True, text=True, timeout=10, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def start(self, *command: str) -> None:
        """`kiosk --db DB COMMAND…` (default `run`) in the session."""
        env = {
            "KIOSK_DATA_DIR": os.environ["KIOSK_DATA_DIR"],  # the conftest's tmp dirs
            "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
            "TEXTUAL_ANIMATIONS": "none",
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
        }
        # pytest's readline exports LINES/COLUMNS and Textual would trust them over the pane;
        # TEXTUAL_ALLOW_SIGNALS would give ^C/^Z/^\\ back to the tty as signals.
        unset = ["LINES", "COLUMNS", "LC_ALL", "LC_CTYPE", "KIOSK_CONFIG", "TEXTUAL_ALLOW_SIGNALS", "TEXTUAL_DRIVER"]
        line = " ".join([
            "env", *(f"-u {name}" for name in unset), *(f"{k}={shlex.quote(v)}" for k, v in env.items()),
            shlex.quote(str(KIOSK)), "--db", shlex.quote(str(self.database)), *(command or ("run",)),
        ])
        # One command queue, run by the server before it reads any output from the pane:
        # remain-on-exit is on before the app exists (a crash stays readable), and the log
        # of everything the app writes to the terminal misses nothing.
        self.tmux("start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
                  "new-session", "-d", "-x", str(self.size[0]), "-y", str(self.size[1]), "-s", "kiosk", line, ";",
                  "pipe-pane", "-t", "kiosk", f"exec cat > {shlex.quote(str(self.output_log))}")
        self.socket_path = Path(self.pane("#{socket_path}"))

    def kill(self) -> None:
        self.tmux("kill-server", check=False)
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)  # tmux leaves it behind

    def keys(self, *keys: str) -> None:
        """tmux key names: Tab, Enter, F5, C-c, …"""
        self.tmux("send-keys", "-t", "kiosk", *keys)

    def type(self, text: str) -> None:
        """Literal text, UTF-8 included, as if typed (or committed by an IME)."""
        self.tmux("send-keys", "-t", "kiosk", "-l", text)

    def pane(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", "kiosk", fmt).strip()

    def dead(self) -> bool:
        return self.pane("#{pane_dead}") == "1"

    def ending(self) -> str | None:
        """"status/signal" once the app has ended and tmux has reaped it, e.g. "0/"."""
        if not self.dead():  # pane_dead comes with the pty's EOF, the status only with waitpid
            return None
        ending = self.pane("#{pane_dead_status}/#{pane_dead_signal}")
        if ending == "/":
            # Debian's tmux uses libutempter, whose own SIGCHLD handler, put in while the
            # dead pane is logged out, can swallow the app's SIGCHLD: the app stays a zombie
            # and tmux never learns its status (tmux/tmux#311). Another SIGCHLD makes the
            # server reap it. Only our own server, by its pid.
            os.kill(int(self.pane("#{pid}")), signal.SIGCHLD)
            return None
        return ending

    def screen(self, escapes: bool = False) -> str:
        args = ["capture-pane", "-p", "-t", "kiosk"] + (["-e"] if escapes else [])
        return self.tmux(*args)

    # ---- waiting -----------------------------------------------------------------------

    def wait_until(self, condition, what: str, timeout: float = 20, allow_dead: bool = False):
        """Poll every 0.1 s until condition() is truthy; fail with the last screen."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if not allow_dead and self.dead():
                pytest.fail(f"the kiosk exited while waiting for {what} (status/signal {self.ending()}); "
                            f"last screen:\n{self.screen()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what}; last screen:\n{self.screen()}")
            time.sleep(0.1)

    def wait_for(self, text: str, timeout: float = 20) -> str:
        """The screen, once `text` is on it."""

        def shown() -> str | None:
            screen = self.screen()
            return screen if text in screen else None

        return self.wait_until(shown, repr(text), timeout)

    def wait_gone(self, text: str, timeout: float = 20) -> str:
        def gone() -> str | None:
            screen = self.screen()
            return screen if text not in screen else None

        return self.wait_until(gone, f"{text!r} to go", timeout)

    def wait_input_focused(self, label: str, timeout: float = 20) -> None:
        """Textual puts the terminal cursor in the focused Input (for IMEs): the labelled
        field is focused when the cursor's row is the label's row."""

        def focused() -> bool:
            row = int(self.pane("#{cursor_y}"))
            lines = self.screen().splitlines()
            return row < len(lines) and label in lines[row]

        self.wait_until(focused, f"the {label!r} field to have focus", timeout)

    def wait_styled(self, text: str, *, reverse: bool = False, bold: bool = False, timeout: float = 20) -> None:
        """Wait until `text` is on screen drawn reverse (a focused Button) and/or bold
        (the cursor row of a focused DataTable)."""

        def found() -> bool:
            for line in self.screen(escapes=True).splitlines():
                plain, styles = styled(line)
                start = plain.find(text)
                while start != -1:
                    cells = styles[start:start + len(text)]
                    if all((not reverse or r) and (not bold or b) for r, b in cells):
                        return True
                    start = plain.find(text, start + 1)
            return False

        self.wait_until(found, f"{text!r} drawn {'reverse ' if reverse else ''}{'bold' if bold else ''}", timeout)

    def wait_button_focused(self, label: str, timeout: float = 20) -> None:
        self.wait_styled(f" {label} ", reverse=True, timeout=timeout)

    def alive(self) -> bool:
        """The app's process is running: the pane is not dead and it is not stopped (^Z)."""
        if self.dead():
            return False
        stat = Path(f"/proc/{self.pane('#{pane_pid}')}/stat")
        if stat.exists():  # Linux: the state letter follows "(comm)"; T is stopped
            return stat.read_text().rsplit(")", 1)[1].split()[0] not in ("T", "t", "Z")
        return True


def styled(line: str) -> tuple[str, list[tuple[bool, bool]]]:
    """The plain text of a `capture-pane -e` line and, per character, (reverse, bold)."""
    plain: list[str] = []
    styles: list[tuple[bool, bool]] = []
    reverse = bold = False
    position = 0
    for match in SGR.finditer(line + "\x1b[m"):
        for char in line[position:match.start()]:
            plain.append(char)
            styles.append((reverse, bold))
        position = match.end()
        params = match.group(1).replace(":", ";").split(";")  # "" is 0, a reset
        skip = 0
        for i, p in enumerate(params):
            if skip:
                skip -= 1
                continue
            if p in ("38", "48", "58"):  # colours: 38;5;n or 38;2;r;g;b
                skip = 2 if i + 1 < len(params) and params[i + 1] == "5" else 4
                continue
            code = int(p or 0)
            if code == 0:
                reverse = bold = False
            elif code == 1:
                bold = True
            elif code == 22:
                bold = False
            elif code == 7:
                reverse = True
            elif code == 27:
                reverse = False
    return "".join(plain), styles


@pytest.fixture
def terminal(tmp_path):
    term = Terminal(tmp_path)
    try:
        term.start()
        yield term
    finally:
        term.kill()


WELCOME = "示范市计量检定测试院"


def test_register_one_instrument_in_a_real_terminal(terminal):
    t = terminal
    t.wait_for(WELCOME)
    t.wait_for("力学  一般压力表")  # the catalogue worker has finished: search will find things

    # 1 送检单位 — the organisation field has focus on arrival.
    t.keys("F5")
    t.wait_for("下一步")
    t.wait_input_focused("送检单位")
    t.type("示范燃气（集团）有限公司")
    t.wait_for("示范燃气（集团）有限公司")
    # Inside a text field too, the locked keys do nothing (Input binds ^C copy, ^Z undo).
    t.keys("C-c", "C-z", "C-\\", "C-q", "C-p")  # priority bindings: handled in order, on arrival
    t.type("!")
    screen = t.wait_for("示范燃气（集团）有限公司!")  # the app read every key after them, in order
    assert "\ufffd" not in screen
    assert t.alive()
    t.keys("BSpace")
    t.wait_gone("有限公司!")
    t.keys("Tab", "Tab")  # past the optional credit code
    t.wait_input_focused("联系人")
    t.type("Li Gong")
    t.wait_for("Li Gong")
    t.keys("Tab")
    t.wait_input_focused("联系电话")
    t.type("13812345678")
    t.wait_for("13812345678")
    t.keys("Tab", "Tab", "Tab", "Tab")  # address, pickup, 上一步, 下一步
    t.wait_button_focused("下一步")
    t.keys("Enter")

    # 2 送检仪器 — the search field has focus on arrival.
    t.wait_input_focused("输入仪器名称")
    t.type("ylb")
    t.wait_for("一般压力表")
    t.keys("Enter")  # to the results
    t.wait_styled("一般压力表", bold=True)
    t.keys("Enter")  # the first result opens the line editor

    screen = t.wait_for("加入")
    assert "L-001-001" in screen
    t.wait_input_focused("数量")

    def quantity_shows(pattern: str) -> bool:
        return any(re.search(rf"数量\s+▊\s*{pattern}\s*▎", line) for line in t.screen().splitlines())

    t.keys("BSpace")
    # Backspace is a binding, run once the key has bubbled up to the app; a character typed
    # right behind it is inserted first (and then deleted). So: wait for the empty field.
    t.wait_until(lambda: quantity_shows(""), "the quantity field to be empty")
    t.type("2")
    t.wait_until(lambda: quantity_shows("2"), "quantity 2")
    # 用途 stays 其他 (the default); Enter in a field adds the line
    t.keys("Enter")
    t.wait_gone("加入")
    t.wait_for("2块")  # the line, in 您的送检仪器
    t.wait_input_focused("输入仪器名称")  # focus is back in the emptied search field
    t.keys("Tab", "Tab", "Tab")  # the lines table, 上一步, 下一步
    t.wait_button_focused("下一步")
    t.keys("Enter")

    # 3 选项 — the first choice (urgent) has focus on arrival: Enter cannot skip it. 不加急 stays;
    # Tab reads on (certificates, the name on them, 通知我, its e-mail, 上一步), 查看费用 last.
    t.wait_for("查看费用")
    t.keys("Tab", "Tab", "Tab", "Tab", "Tab", "Tab")
    t.wait_button_focused("查看费用")
    t.keys("Enter")

    # 4 费用预估
    t.wait_for("确认登记")
    screen = t.wait_for("￥60.00")  # 2 × ￥30.00
    assert "L-001-001" in screen
    t.wait_button_focused("确认登记")
    t.keys("Enter")

    # 登记完成
    screen = t.wait_for("您的受理号")
    number = t.wait_until(lambda: TICKET_NUMBER.search(t.screen()), "a ticket number")
    assert "秒后返回首页" in screen
    assert t.alive()
    # The default printer is the preview printer: the receipt is written beside the database,
    # and nothing (python-escpos logs, say) is written over the screen.
    screen = t.wait_for("受理单已打印")
    assert "INFO" not in screen and "WARNING" not in screen
    receipts = Path(os.environ["KIOSK_DATA_DIR"]) / "receipts"
    assert sorted(p.suffix for p in receipts.glob(f"{number.group()}-*")) == [".bin", ".png", ".txt"]

    # The app stays up on the ticket screen; read what it wrote, without writing.
    rows = read_database(t.database)
    assert rows["tickets"] == [number.group()]
    assert rows["lines"] == [("L-001-001", 2, "other")]
    assert rows["customers"] == [("示范燃气（集团）有限公司", "Li Gong")]
    assert rows["print_jobs"] == [("printed", 1)]
    assert rows["outbox_events"] == 1
    assert t.alive()

    t.keys("Escape")  # the ticket screen's way back: the form is wiped, the welcome returns
    t.wait_for(WELCOME)
    assert t.alive()


def read_database(path: Path) -> dict:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return {
            "tickets": [n for (n,) in connection.execute("SELECT number FROM ticket")],
            "lines": connection.execute("SELECT code, quantity, use FROM ticket_line").fetchall(),
            "customers": connection.execute("SELECT organisation, contact FROM customer").fetchall(),
            "print_jobs": connection.execute("SELECT state, attempts FROM print_job").fetchall(),
            "outbox_events": connection.execute("SELECT COUNT(*) FROM outbox_event").fetchone()[0],
        }
    finally:
        connection.close()


# Keys a customer could press to leave, stop or break the kiosk. F2 (language), F5 to F8
# (the welcome screen's actions) and F12 (maintenance) are the app's own keys.
PROBE_KEYS = ["C-c", "C-q", "C-z", "C-\\", "C-s", "C-d", "C-y", "C-p", "F1", "F3", "F4", "F9", "F10",
              "F11", "Escape", "M-q", "M-F4"]
PROBE_SEQUENCES = {
    "ctrl+c, CSI u (kitty keyboard)": "\x1b[99;5u",
    "ctrl+q, CSI u": "\x1b[113;5u",
    "ctrl+z, CSI u": "\x1b[122;5u",
    "ctrl+c, xterm modifyOtherKeys": "\x1b[27;5;99~",
    "raw ETX, FS, SUB bytes (^C ^\\ ^Z)": "\x03\x1c\x1a",
    "F1 as SS3": "\x1bOP",
    "ctrl+F1": "\x1b[1;5P",
    "alt+ctrl+c": "\x1b\x03",
    "focus out, focus in": "\x1b[O\x1b[I",
    "a pasted ^C": "\x1b[200~\x03\x1b[201~",
}
TITLES = {"zh": "仪器送检自助服务", "en": "Instrument reception"}


def test_locked_keys_keep_the_kiosk_running_until_the_maintenance_pin(terminal):
    t = terminal
    t.wait_for(WELCOME)
    t.wait_for("力学  一般压力表")
    language = "zh"

    def still_here(probe: str) -> None:
        """The app is alive, not stopped, still on the welcome screen, and still reads
        keys: F2 switches the language and the title follows."""
        nonlocal language
        assert t.alive(), f"after {probe}: the kiosk is gone or stopped\n{t.screen()}"
        language = "en" if language == "zh" else "zh"
        t.keys("F2")
        screen = t.wait_for(f" {TITLES[language]} ")
        assert ("示范市计量检定测试院" if language == "zh" else "Institute") in screen, f"after {probe}:\n{screen}"
        assert "维护退出" not in screen and "Maintenance" not in screen, f"after {probe}:\n{screen}"
        assert t.alive(), f"after {probe}: the kiosk is gone or stopped\n{screen}"

    for key in PROBE_KEYS:
        t.keys(key)
        still_here(key)
    for name, sequence in PROBE_SEQUENCES.items():
        t.type(sequence)
        still_here(name)
    if language == "en":
        t.keys("F2")
        t.wait_for(f" {TITLES['zh']} ")

    # F12: the maintenance prompt. A wrong PIN keeps the kiosk running.
    t.keys("F12")
    t.wait_for("维护退出")
    t.type("1234")
    t.wait_for("••••")  # the PIN field has the keys (masked)
    t.keys("Enter")
    t.wait_for("密码不对")
    t.wait_gone("••••")  # the field was emptied for the next try
    assert t.alive()

    # The default PIN leaves the app, with status 0 and the terminal given back.
    t.type("0000")
    t.wait_for("••••")
    t.keys("Enter")
    ending = t.wait_until(t.ending, "the kiosk to exit", allow_dead=True)
    assert ending == "0/", f"exit status/signal {ending}\n{t.screen()}"
    assert t.pane("#{alternate_on}") == "0", "the alternate screen was left on"
    assert t.pane("#{mouse_any_flag}") == "0", "mouse reporting was left on"
    # (tmux hides the cursor of every dead pane: the app's own output says what it left.)
    output = t.wait_until(lambda: (b := t.output_log.read_bytes()) and b"\x1b[?1049l" in b and b,
                          "the app's last output", allow_dead=True)
    text = output.decode("utf-8", "replace")
    assert "maintenance exit" in text.rsplit("\x1b[?1049l", 1)[1]  # said on the normal screen
    left_on = private_modes(text)
    assert left_on.get(25, True), "the cursor was left hidden"
    assert not any(left_on.get(mode) for mode in (1049, 1000, 1002, 1003, 1006, 1015, 1004, 2004)), left_on


def private_modes(output: str) -> dict[int, bool]:
    """The DEC private modes (?25 cursor, ?1049 alternate screen, ?1000… mouse, ?2004
    bracketed paste) as the output stream leaves them: mode -> on."""
    modes: dict[int, bool] = {}
    for numbers, switch in re.findall(r"\x1b\[\?([0-9;]+)([hl])", output):
        for number in numbers.split(";"):
            modes[int(number)] = switch == "h"
    return modes
