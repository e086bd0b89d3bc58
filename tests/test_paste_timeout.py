"""A bracketed paste that never ends (`ESC [200~` and no `ESC [201~`, as a glitching scanner or
cable can send) must not freeze the kiosk: Textual's parser waited for the end for good, so
every later key went into the paste. screens/textual_fixes.py ends it after a short silence.

The parser is driven as Textual's drivers drive it (feed the bytes read, tick between reads),
on a clock the test moves; then the real `kiosk run` in tmux gets the lone paste start."""

from __future__ import annotations

import pytest
import textual._parser
from textual import events
from textual._xterm_parser import XTermParser

from screens.textual_fixes import PASTE_TIMEOUT, fix_unended_paste
from tests.test_terminal import KIOSK, TMUX, WELCOME, Terminal

PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def parser(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(textual._parser, "get_time", clock)  # what Parser.feed and .tick read
    fix_unended_paste()  # as screens/station.py does for both apps (again: it patches once)
    return XTermParser(), clock


def read(messages) -> list[tuple[str, str]]:
    """("paste", text) or ("key", name) per message (Textual's messages do not compare by value)."""
    return [("paste", m.text) if isinstance(m, events.Paste) else ("key", m.key) for m in messages]


def later(parser_and_clock, seconds: float) -> list[tuple[str, str]]:
    """`seconds` pass without a byte; what the driver's tick then gets."""
    parser, clock = parser_and_clock
    clock.now += seconds
    return read(parser.tick())


def test_a_paste_that_never_ends_is_delivered_after_a_short_silence_and_keys_work_again(parser):
    p, _ = parser
    assert list(p.feed(PASTE_START + "abc")) == []
    assert later(parser, PASTE_TIMEOUT * 0.8) == []  # a paste may still be coming
    assert list(p.feed("d")) == []  # and it is: the silence starts again
    assert later(parser, PASTE_TIMEOUT * 0.8) == []
    assert later(parser, PASTE_TIMEOUT * 0.4) == [("paste", "abcd")]
    assert later(parser, 60) == []  # ended once
    keys = read(p.feed("x\x1b[15~\r"))  # a letter, F5, Enter: keys again, not more paste
    assert keys == [("key", "x"), ("key", "f5"), ("key", "enter")]


def test_a_whole_paste_arrives_at_once_as_one_paste_and_nothing_more(parser):
    p, _ = parser
    code = "JL" + "ABCDEFGHJKLMNPQRSTUVWXYZ234567" * 7  # a ticket code's length (217)
    assert read(p.feed(PASTE_START + code + PASTE_END)) == [("paste", code)]
    assert later(parser, 60) == []
    # A paste in pieces, each sooner than the timeout after the last: still one paste.
    assert list(p.feed(PASTE_START + code[:100])) == []
    assert later(parser, PASTE_TIMEOUT * 0.9) == []
    assert list(p.feed(code[100:])) == []
    assert later(parser, PASTE_TIMEOUT * 0.9) == []
    assert read(p.feed(PASTE_END + "z")) == [("paste", code), ("key", "z")]
    assert later(parser, 60) == []


def test_a_paste_cut_off_after_a_lone_escape_is_ended_too(parser):
    """The escape timeout (in tick) reads the ESC; the paste's own timeout is armed there too."""
    p, _ = parser
    assert list(p.feed(PASTE_START + "ab\x1b")) == []
    assert later(parser, 0.2) == [("key", "escape")]  # Textual's reading of a lone ESC
    assert later(parser, PASTE_TIMEOUT + 0.1) == [("paste", "ab\x1b")]
    assert read(p.feed("y")) == [("key", "y")]


def test_the_patch_is_made_once_and_only_while_textual_has_the_bug():
    from screens import textual_fixes

    fix_unended_paste()
    patched = XTermParser.parse
    fix_unended_paste()
    assert XTermParser.parse is patched  # it sees its own fix as "fixed upstream"
    assert not textual_fixes._waits_forever_in_a_paste(XTermParser(), PASTE_START)


# ---- in a real terminal --------------------------------------------------------------------------


def test_the_kiosk_in_a_terminal_reads_keys_again_after_a_paste_that_never_ends(tmp_path):
    if TMUX is None or not KIOSK.exists():
        pytest.skip("tmux or the kiosk console script is missing")
    t = Terminal(tmp_path)
    try:
        t.start()
        t.wait_for(WELCOME)
        t.wait_for("力学  一般压力表")  # the catalogue is loaded
        t.keys("F5")
        t.wait_input_focused("送检单位")
        t.type(PASTE_START + "示范燃气")  # and no end, ever
        t.type("公司")  # typed (or pasted) behind it: part of the paste, or keys: both land
        t.wait_for("示范燃气公司", timeout=10)  # without the fix: never, nothing is read any more
        t.keys("F2")  # a key, no longer swallowed by a paste: the language switches
        screen = t.wait_for("Organisation", timeout=10)
        assert "示范燃气公司" in screen and t.alive()
    finally:
        t.kill()
