"""Clerk accounts: PINs hashed with a slow KDF, lockout after 5 wrong tries, the CLI."""

from datetime import UTC, datetime, timedelta

import pytest

from db.models import Clerk
from kiosk.store.clerks import ClerkError, add_clerk, hash_pin, list_clerks, remove_clerk, unlock, verify_pin

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_pin_hash_verifies_and_carries_its_parameters():
    stored = hash_pin("4321")
    scheme, n, r, p, _salt, _digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
    assert "4321" not in stored
    assert verify_pin("4321", stored)
    assert not verify_pin("4322", stored)
    assert hash_pin("4321") != stored  # salted
    # Other parameters (cheaper or dearer later) still verify: they travel in the string.
    assert verify_pin("4321", hash_pin("4321", n=2**10))


@pytest.mark.parametrize("stored", ["", "scrypt$x", "md5$1$1$1$AA==$AA==", "scrypt$16384$8$1$!!$AA==",
                                    "scrypt$3$8$1$AAAA$AAAA"])
def test_a_malformed_hash_never_verifies_and_never_raises(stored):
    assert not verify_pin("1234", stored)


def test_five_wrong_pins_lock_the_account_for_five_minutes(db):
    add_clerk("wang", "王芳", "2468")
    for tries_left in (4, 3, 2, 1):
        with pytest.raises(ClerkError) as wrong:
            unlock("wang", "0000", NOW)
        assert (wrong.value.kind, wrong.value.tries_left) == ("wrong_pin", tries_left)
        assert Clerk.get().failed_attempts == 5 - tries_left  # each try recorded (committed)
    with pytest.raises(ClerkError) as locked:
        unlock("wang", "0000", NOW)
    assert locked.value.kind == "locked" and locked.value.locked_until == NOW + timedelta(minutes=5)
    # Locked: even the right PIN is refused until the time is up.
    with pytest.raises(ClerkError, match="locked"):
        unlock("wang", "2468", NOW + timedelta(minutes=4, seconds=59))
    clerk = unlock("wang", "2468", NOW + timedelta(minutes=5))
    assert clerk.display_name == "王芳"
    assert (Clerk.get().failed_attempts, Clerk.get().locked_until) == (0, None)


def test_a_right_pin_resets_the_count(db):
    add_clerk("wang", "王芳", "2468")
    for _ in range(4):
        with pytest.raises(ClerkError):
            unlock("wang", "1111", NOW)
    unlock("wang", "2468", NOW)
    with pytest.raises(ClerkError) as wrong:
        unlock("wang", "1111", NOW)
    assert wrong.value.tries_left == 4


def test_full_width_digits_are_the_same_pin(db):
    add_clerk("wang", "王芳", "２４６８")
    assert unlock("wang", "2468", NOW).username == "wang"
    assert unlock("wang", "２４６８", NOW).username == "wang"


def test_lockout_is_configurable(db):
    add_clerk("li", "李工", "13579")
    with pytest.raises(ClerkError) as locked:
        unlock("li", "0000", NOW, max_attempts=1, lockout=timedelta(seconds=30))
    assert locked.value.locked_until == NOW + timedelta(seconds=30)


def test_accounts_add_list_remove(db):
    add_clerk("Wang", " 王  芳 ", "2468")
    add_clerk("li", "李工", "135790")
    assert [(c.username, c.display_name) for c in list_clerks()] == [("li", "李工"), ("wang", "王 芳")]
    with pytest.raises(ClerkError, match="already"):
        add_clerk("wang", "other", "1234")
    remove_clerk("wang")
    assert [c.username for c in list_clerks()] == ["li"]
    with pytest.raises(ClerkError) as gone:
        unlock("wang", "2468", NOW)
    assert gone.value.kind == "unknown"
    with pytest.raises(ClerkError):
        remove_clerk("wang")
    add_clerk("wang", "王芳", "8642")  # back again, with a new PIN
    assert unlock("wang", "8642", NOW).username == "wang"


@pytest.mark.parametrize("name", ["王\u202e芳", "王\u200b芳", "王\x1b芳", "", " ", "王" * 41])
def test_a_display_name_is_cleaned_as_every_free_text(db, name):
    """It goes on slips and, in each step's event, to central: an invisible format character
    (U+202E turns 王芳 around on screen) is refused as the kiosk refuses it in a customer's name."""
    with pytest.raises(ClerkError) as refused:
        add_clerk("wang", name, "2468")
    assert refused.value.kind == "bad_name" and list_clerks() == []
    assert add_clerk("wang", "王芳（ＱＡ１）", "2468").display_name == "王芳（QA1）"  # widths folded, as elsewhere


@pytest.mark.parametrize("pin", ["123", "1234567890123", "12a4", "١٢٣٤", "", " 1234"])
def test_bad_pins_are_refused(db, pin):
    with pytest.raises(ClerkError) as bad:
        add_clerk("wang", "王芳", pin)
    assert bad.value.kind == "bad_pin_format"
    assert Clerk.select().count() == 0


@pytest.mark.parametrize("username", ["", "a b", "王芳", "x" * 33, "-x"])
def test_bad_usernames_are_refused(db, username):
    with pytest.raises(ClerkError):
        add_clerk(username, "王芳", "1234")


def test_clerk_cli_add_list_remove(run):
    status, out, _ = run("clerk", "add", "wang", "--name", "王芳", stdin="2468\n2468\n")
    assert status == 0 and "wang" in out
    status, out, _ = run("clerk", "add", "li", "--name", "李工", stdin="13579\n")
    assert status == 0
    status, out, _ = run("clerk", "list")
    assert status == 0 and out.splitlines() == ["li\t李工", "wang\t王芳"]
    status, _, err = run("clerk", "add", "zhao", "--name", "赵", stdin="1234\n4321\n")
    assert status == 1 and "两次输入的密码不一致" in err
    status, _, err = run("clerk", "add", "zhao", "--name", "赵", stdin="12\n")
    assert status == 1 and "4 to 12 digits" in err
    status, _, err = run("clerk", "add", "wang", "--name", "王芳", stdin="2468\n")
    assert status == 1 and "already" in err
    assert run("clerk", "remove", "wang")[0] == 0
    status, _, err = run("clerk", "remove", "wang")
    assert status == 1 and "no clerk" in err
    assert run("clerk", "list")[1].splitlines() == ["li\t李工"]


def test_the_stored_pin_is_a_hash(run, tmp_path):
    import sqlite3

    run("clerk", "add", "wang", "--name", "王芳", stdin="24681357\n")
    stored = sqlite3.connect(tmp_path / "k.sqlite3").execute("SELECT pin_hash FROM clerk").fetchone()[0]
    assert stored.startswith("scrypt$") and "24681357" not in stored
