"""Lockdown in a real terminal: `kiosk run` (the lobby) and `kiosk clerk` (the desk) inside
tmux, 120x40, with every key and escape sequence a customer (or a stuck key, or a keyboard
with macro keys) could send.

What the code intends (screens/app.py, screens/clerk/app.py BINDINGS):

* The lobby kiosk: ctrl+c, ctrl+q, ctrl+z, ctrl+\\ and ctrl+p are priority bindings to
  "ignore"; F2 switches the language, F5 to F8 are the welcome screen's four actions, and
  F12 opens the maintenance prompt, which leaves only with the PIN. Nothing leaves the app,
  stops it, or reaches the clerk desk's functions.
* The clerk desk: ctrl+c, ctrl+z, ctrl+\\ and ctrl+p are ignored too, but ctrl+q quits (a
  staff machine, binding id "quit"); behind the lock screen nothing is reachable without a
  clerk's PIN (F2/F3 counters, F9 lock, F11 satisfaction).

Every probe is followed by keys the app answers visibly (the lobby: F2 flips the title's
language; the desk: a marker typed into the user name field, then ctrl+u empties it): keys
are handled in order, so once that answer is on screen the probe was read and handled.
Nothing sleeps a guessed time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.test_terminal import TMUX, Terminal

KIOSK = Path(sys.executable).with_name("kiosk")
WIDTH, HEIGHT = 120, 40

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed"),
    pytest.mark.skipif(not KIOSK.exists(), reason="the kiosk console script is not installed (pip install -e .)"),
]

# Keys by tmux name, sent one at a time.
CONTROL_KEYS = ["C-c", "C-q", "C-z", "C-\\", "C-p", "C-d", "C-s", "C-o", "C-v", "C-w", "C-y", "C-]", "C-^"]
FUNCTION_KEYS = [f"F{n}" for n in range(1, 13)]
OTHER_KEYS = ["Escape", "M-q", "M-x", "M-F4", "M-Tab", "C-F1", "S-F10", "IC", "DC", "PPage", "NPage", "Home", "End"]
# Raw bytes and escape sequences, typed literally as a terminal would send them.
SEQUENCES = {
    "Insert, raw": "\x1b[2~",
    "F13..F24-style CSI 25~": "\x1b[25~",
    "alt+q, ESC prefix": "\x1bq",
    "alt+F4, CSI": "\x1b[1;3S",
    "ESC ESC": "\x1b\x1b",
    "raw ETX FS SUB EOT (^C ^\\ ^Z ^D)": "\x03\x1c\x1a\x04",
    "XOFF then XON (^S ^Q)": "\x13\x11",
    "ctrl+c, CSI u (kitty)": "\x1b[99;5u",
    "ctrl+q, CSI u": "\x1b[113;5u",
    "ctrl+z, CSI u": "\x1b[122;5u",
    "ctrl+c, xterm modifyOtherKeys": "\x1b[27;5;99~",
    "alt+ctrl+c": "\x1b\x03",
    "F1 as SS3": "\x1bOP",
    "focus out, focus in": "\x1b[O\x1b[I",
    "bracketed paste of ^C": "\x1b[200~\x03\x1b[201~",
    "bracketed paste of ^Q ^Z ^\\": "\x1b[200~\x11\x1a\x1c\x1b[201~",
    "the paste's end": "\x1b[201~",
    "unfinished CSI": "\x1b[",
    "OSC 52 clipboard": "\x1b]52;c;aGVsbG8=\x07",
}
# Titles of the desk's screens past its lock: a lobby kiosk must never show one.
CLERK_TITLES = ("仪器收发室", "收件窗口", "发件窗口", "满意度统计", "工作人员登录", "Receiving counter",
                "Dispatch counter", "Satisfaction", "Clerk sign-in", "在办清单", "Work list")


class Station(Terminal):
    """tests/test_terminal.py's Terminal, at 120x40."""

    size = (WIDTH, HEIGHT)

    def title(self) -> str:
        """The title bar: the screen's first line."""
        lines = self.screen().splitlines()
        return lines[0].strip() if lines else ""


@pytest.fixture
def station(tmp_path):
    term = Station(tmp_path)
    try:
        yield term
    finally:
        term.kill()


# ---- the lobby kiosk -----------------------------------------------------------------------

LOBBY = {"zh": "仪器送检自助服务", "en": "Instrument reception"}
# The keys that do something in the lobby, and the screen's title they lead to.
LOBBY_ACTIONS = {"F5": "送检登记", "F6": "收费查询", "F7": "服务评价", "F8": "进度查询"}
MAINTENANCE_PROMPT = "维护退出：请输入维护密码"


def test_the_lobby_kiosk_survives_every_key_and_reaches_no_clerk_function(station):
    t = station
    t.start("run")
    t.wait_for("示范市计量检定测试院")
    t.wait_for("力学  一般压力表")  # the catalogue is loaded: the app is fully up
    language = "zh"

    def check(probe: str) -> None:
        """Alive, not stopped, on the welcome screen, no clerk screen, and still reading keys."""
        nonlocal language
        assert t.alive(), f"after {probe}: the kiosk is gone or stopped\n{t.screen()}"
        language = "en" if language == "zh" else "zh"
        t.keys("F2")
        t.wait_until(lambda: t.title().startswith(LOBBY[language]), f"the title in {language} after {probe}")
        screen = t.screen()
        assert MAINTENANCE_PROMPT not in screen and "Maintenance" not in screen, f"after {probe}:\n{screen}"
        assert not any(title in screen for title in CLERK_TITLES), f"after {probe}: a clerk screen\n{screen}"
        assert t.alive(), f"after {probe}: the kiosk is gone or stopped\n{screen}"

    def back_to_zh() -> None:
        nonlocal language
        if language == "en":
            t.keys("F2")
            language = "zh"
            t.wait_until(lambda: t.title().startswith(LOBBY["zh"]), "the title in zh")

    for key in CONTROL_KEYS + OTHER_KEYS:
        t.keys(key)
        check(key)
    for key in FUNCTION_KEYS:
        back_to_zh()
        t.keys(key)
        if key == "F2":  # the language: check() switches it back
            language = "en"
        elif key in LOBBY_ACTIONS:  # a customer's action: its screen, and Escape back
            t.wait_until(lambda: t.title().startswith(LOBBY_ACTIONS[key]), f"{key}'s screen")  # noqa: B023
            t.keys("Escape")
            t.wait_until(lambda: t.title().startswith(LOBBY["zh"]), f"the welcome screen after {key}")
        elif key == "F12":  # the maintenance prompt, and nothing more without the PIN
            t.wait_for(MAINTENANCE_PROMPT)
            for locked in ("C-c", "C-q", "C-z", "C-\\", "F12", "F5"):
                t.keys(locked)
            t.type("12")
            t.wait_for("••")  # the keys behind the locked ones reached the PIN field, in order
            screen = t.screen()
            assert not any(title in screen for title in CLERK_TITLES), screen
            assert t.alive(), screen
            t.keys("Escape")
            t.wait_gone(MAINTENANCE_PROMPT)
        check(key)
    for name, sequence in SEQUENCES.items():
        t.type(sequence)
        check(name)
    assert t.alive()


# ---- the clerk desk ------------------------------------------------------------------------

DESK_LOCKED = "工作人员登录"


def test_the_clerk_desk_stays_locked_under_every_key_and_quits_on_ctrl_q_only(station):
    t = station
    t.start("clerk")
    t.wait_for(DESK_LOCKED)
    t.wait_input_focused("用户名")  # the terminal cursor, where a clerk's IME opens, is in the field
    typed_by_probes: dict[str, str] = {}

    def user_name() -> str | None:
        """What the user name field shows."""
        for line in t.screen().splitlines():
            if "用户名" in line and "▊" in line:
                return line.split("▊", 1)[1].rsplit("▎", 1)[0].strip()
        return None

    def check(probe: str) -> None:
        """Alive, still on the lock screen, and still reading keys, in order, into the field."""
        assert t.alive(), f"after {probe}: the desk is gone or stopped\n{t.screen()}"
        marker = f"probe{len(typed_by_probes)}"
        t.keys("End")
        t.type(marker)
        value = t.wait_until(lambda: (v := user_name()) and v.endswith(marker) and v,
                             f"{marker!r} in the user name field after {probe}")
        if value != marker:
            typed_by_probes[probe] = value[:-len(marker)]
        else:
            typed_by_probes[probe] = ""
        t.keys("C-u")  # the Input's delete-left-all
        t.wait_until(lambda: user_name() == "", f"the user name field emptied after {probe}")
        screen = t.screen()
        assert t.title().startswith(DESK_LOCKED), f"after {probe}: past the lock screen\n{screen}"
        assert not any(title in screen for title in CLERK_TITLES if title not in (DESK_LOCKED, "Clerk sign-in")), \
            f"after {probe}: a clerk screen without a PIN\n{screen}"
        assert t.alive(), f"after {probe}: the desk is gone or stopped\n{screen}"

    check("nothing")
    for key in CONTROL_KEYS + FUNCTION_KEYS + OTHER_KEYS:
        if key == "C-q":
            continue  # the desk's way out, last
        if key == "M-Tab":
            continue  # ESC Tab: Tab moves the focus out of the field the check types into
        t.keys(key)
        check(key)
    for name, sequence in SEQUENCES.items():
        if "ctrl+q" in name or "^Q" in name or "XON" in name:
            # ctrl+q quits the desk, however it is spelled (bracketed paste aside: checked below)
            continue
        t.type(sequence)
        check(name)
    t.type("\x1b[200~\x11\x1b[201~")  # a pasted ^Q is text, not the key
    check("bracketed paste of ^Q")
    print("\ntext the probes left in the user name field:",
          {probe: text for probe, text in typed_by_probes.items() if text})

    t.keys("C-q")  # the desk's intended way out: status 0, the terminal given back
    ending = t.wait_until(t.ending, "the desk to exit on ctrl+q", allow_dead=True)
    assert ending == "0/", f"exit status/signal {ending}\n{t.screen()}"
    assert t.pane("#{alternate_on}") == "0", "the alternate screen was left on"
