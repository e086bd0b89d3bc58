"""The maintenance PIN (F12): hashed in the database, set with `kiosk maintenance-pin set`, locked
out with growing delays after 5 wrong tries (closing the prompt or restarting the kiosk resets
nothing), every attempt logged without the PIN, and `kiosk doctor` failing while none is set.

The guesser is a test typing hundreds of PINs into the prompt on the app's clock (moved by the
test, never slept); what counts is how many PINs were actually checked."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.store import maintenance
from kiosk.store.maintenance import (
    FIRST_DELAY,
    FREE_TRIES,
    LONGEST_DELAY,
    Lockout,
    MaintenancePinError,
    delay_after,
    set_pin,
    take_config_pin,
    try_pin,
)
from screens.maintenance import MaintenanceExit, wait_in_words

from .kiosk_pilot import FakeClock, make_app, screen_text, settle

RIGHT = "73915286"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def checks(monkeypatch) -> list[int]:
    """Every PIN actually compared with the stored hash (scrypt) is counted here."""
    made: list[int] = []
    verify = maintenance.verify_pin

    def counted(pin: str, stored: str) -> bool:
        made.append(1)
        return verify(pin, stored)

    monkeypatch.setattr(maintenance, "verify_pin", counted)
    return made


def pin_log(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "kiosk.store.maintenance" and hasattr(r, "outcome")]


async def type_pin(pilot, pin: str) -> None:
    pilot.app.screen.query_one("#pin").value = pin
    await pilot.press("enter")
    await settle(pilot)  # the check runs in the database thread


def error_text(app) -> str:
    return str(app.screen.query_one("#maintenance-error").render())


async def test_hundreds_of_guesses_get_a_handful_of_checks_and_the_right_pin_still_works(db, checks, caplog):
    caplog.set_level(logging.INFO, logger="kiosk.store.maintenance")
    set_pin(RIGHT)
    db.close()
    clock = FakeClock()
    app = make_app(clock=clock, database=db.database)
    guesses = [f"{400000 + i:06d}" for i in range(300)]  # six digits: never a count or a wait in a log line
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        await settle(pilot)
        for n, guess in enumerate(guesses):
            await type_pin(pilot, guess)
            if n == 2:
                assert "再错2次" in error_text(app)  # warned before the lock-out
            if n == 4:  # the 5th wrong PIN: locked, said in words, counting down on the app's clock
                assert "已锁定" in error_text(app) and "请30秒后再试" in error_text(app)
                clock.now += 12
                app.screen.count_down()
                assert "请18秒后再试" in error_text(app)
                clock.now -= 12
            if n == 20:  # closing the prompt and opening it again changes nothing
                await pilot.press("escape")
                await pilot.press("f12")
                await settle(pilot)
                assert isinstance(app.screen, MaintenanceExit) and "已锁定" in error_text(app)
            clock.now += 1  # a guess a second, for 300 seconds
        # 5 free tries, then one each time a lock-out (30 s, 1 min, 2 min) ran out: at 34 s, 94 s, 214 s.
        assert len(checks) == FREE_TRIES + 3
        assert "已锁定" in error_text(app) and "分" in error_text(app)
        await type_pin(pilot, RIGHT)  # still locked: not even the right PIN is checked
        assert app.is_running and len(checks) == FREE_TRIES + 3
    records = pin_log(caplog)
    outcomes = [r.outcome for r in records if r.outcome != "set"]
    assert outcomes.count("wrong") == FREE_TRIES + 3 and outcomes.count("locked") == len(guesses) + 1 - 8
    standard = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__)  # times, places: not what was said
    logged = "\n".join(f"{r.getMessage()} {[v for k, v in r.__dict__.items() if k not in standard]}"
                       for r in caplog.records)
    assert RIGHT not in logged and not any(guess in logged for guess in guesses)

    # A restart: the lock-out is in the database, not in the app.
    clock = FakeClock()
    app = make_app(clock=clock, database=db.database)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        await settle(pilot)
        assert "已锁定" in error_text(app)
        await type_pin(pilot, RIGHT)
        assert app.is_running and len(checks) == FREE_TRIES + 3
        clock.now += delay_after(FREE_TRIES + 3).total_seconds()  # the 4-minute lock-out runs out
        app.screen.count_down()
        assert "可以再试了" in error_text(app)
        await type_pin(pilot, RIGHT)
    assert app.return_code == 0 and len(checks) == FREE_TRIES + 4
    assert pin_log(caplog)[-1].outcome == "right" and RIGHT not in caplog.text


async def test_without_a_pin_set_the_default_opens_and_an_old_configuration_pin_is_moved_into_the_database(db):
    db.close()
    app = make_app(database=db.database, maintenance_pin="2468")  # an older kiosk.toml
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        await type_pin(pilot, "0000")
        assert app.is_running and "密码不对" in screen_text(app)
        await type_pin(pilot, "2468")
    assert app.return_code == 0
    stored = dict(db.execute_sql("SELECT key, value FROM setting").fetchall())
    assert stored[maintenance.HASH_KEY].startswith("scrypt$") and "2468" not in str(stored)


def test_the_lock_out_grows_and_is_capped():
    assert [delay_after(n) for n in range(FREE_TRIES)] == [None] * FREE_TRIES
    assert [delay_after(FREE_TRIES + k) for k in range(4)] == [FIRST_DELAY * 2 ** k for k in range(4)]
    assert delay_after(10_000) == LONGEST_DELAY == timedelta(hours=1)
    # A wall clock set back (a dead clock battery, then NTP) never stretches a lock-out.
    assert Lockout(FREE_TRIES, NOW + timedelta(days=365)).clamped(NOW).wait(NOW) == FIRST_DELAY
    assert Lockout(FREE_TRIES, NOW).wait(NOW) is None
    assert wait_in_words(125, "zh") == "2分5秒" and wait_in_words(125, "en") == "2 min 5 s"
    assert wait_in_words(45, "zh") == "45秒" and wait_in_words(45, "en") == "45 s"


def test_the_store_counts_an_attempt_before_checking_it_and_a_right_pin_starts_over(db, checks):
    set_pin(RIGHT)
    for n in range(FREE_TRIES - 1):
        assert try_pin("1111", NOW).tries_left == FREE_TRIES - 1 - n
    locked = try_pin("1111", NOW)
    assert locked.outcome == "wrong" and locked.wait == FIRST_DELAY
    assert try_pin(RIGHT, NOW + FIRST_DELAY / 2).outcome == "locked" and len(checks) == FREE_TRIES
    assert try_pin(RIGHT, NOW + FIRST_DELAY).outcome == "right"
    assert maintenance.lockout() == Lockout()
    assert try_pin("1111", NOW).tries_left == FREE_TRIES - 1  # five free tries again


def test_a_lock_out_from_a_clock_that_ran_ahead_is_cut_to_its_length_and_stays_so(db, checks):
    set_pin(RIGHT)
    for _ in range(FREE_TRIES):
        try_pin("1111", NOW + timedelta(days=365))  # the clock was a year ahead; then set right
    assert try_pin(RIGHT, NOW).outcome == "locked"
    assert maintenance.lockout().until == NOW + FIRST_DELAY  # stored so, not recomputed from each try
    assert try_pin(RIGHT, NOW + FIRST_DELAY - timedelta(seconds=1)).outcome == "locked"
    assert try_pin(RIGHT, NOW + FIRST_DELAY).outcome == "right"


def test_an_attempt_that_cannot_be_recorded_is_not_checked(db, checks):
    set_pin(RIGHT)
    db.execute_sql("PRAGMA query_only = ON")  # as a read-only disk: every write refused
    assert try_pin(RIGHT, NOW).outcome == "unrecorded" and checks == []
    db.execute_sql("PRAGMA query_only = OFF")
    assert try_pin(RIGHT, NOW).outcome == "right"


def test_setting_refuses_the_default_and_bad_pins_and_a_configuration_pin_moves_once(db):
    for bad in ("0000", "123", "12ab", "1234567890123"):
        with pytest.raises(MaintenancePinError):
            set_pin(bad)
    assert take_config_pin(None) is None and take_config_pin("0000") is None
    assert take_config_pin("2468") == "migrated" and try_pin("2468", NOW).outcome == "right"
    assert take_config_pin("1357") == "ignored" and try_pin("1357", NOW).outcome == "wrong"


def test_the_cli_sets_the_pin_without_echo_or_from_stdin_and_doctor_fails_until_then(run, tmp_path, monkeypatch,
                                                                                      capsys):
    import getpass
    import io
    import json
    import sys

    from kiosk.cli import main

    config = tmp_path / "kiosk.toml"
    config.write_text("[kiosk]\nlanguage = 'en'\n", "utf-8")  # a real kiosk: it has a configuration file
    monkeypatch.setenv("KIOSK_CONFIG", str(config))
    status, out, _ = run("doctor", "--json")
    assert status == 2 and {c["name"]: c["level"] for c in json.loads(out)["checks"]}["pin"] == "fail"
    status, _, err = run("maintenance-pin", "set", stdin="2580\n2580\n")  # no terminal, no --pin-stdin
    assert status == 1 and "--pin-stdin" in err
    status, _, err = run("maintenance-pin", "set", "--pin-stdin", stdin="0000\n")
    assert status == 1 and "default" in err
    status, _, err = run("maintenance-pin", "set", "--pin-stdin", stdin="2580\n2581\n")
    assert status == 1 and "differ" in err
    status, out, _ = run("maintenance-pin", "status")
    assert status == 1 and "not set" in out
    status, out, _ = run("maintenance-pin", "set", "--pin-stdin", stdin="2580\n")
    assert status == 0 and "hashed" in out

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    typed = iter(["73915", "73915"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(typed))  # asked twice, without echo
    monkeypatch.setattr(sys, "stdin", Terminal(""))
    assert main(["maintenance-pin", "set"]) == 0 and "hashed" in capsys.readouterr().out
    assert next(typed, None) is None
    status, out, _ = run("maintenance-pin", "status")
    assert status == 0 and out.strip() == "set"
    status, out, _ = run("doctor", "--lang", "en")
    pin_line = next(line for line in out.splitlines() if "maintenance PIN" in line)
    assert pin_line.startswith("ok ") and "hashed" in pin_line
    db = sqlite3.connect(tmp_path / "data" / "kiosk.sqlite3")
    stored = db.execute("SELECT value FROM setting WHERE key = ?", (maintenance.HASH_KEY,)).fetchone()[0]
    db.close()
    assert maintenance.verify_pin("73915", stored) and not maintenance.verify_pin("2580", stored)
