"""The device's key pair and the public-key store: a private key only its owner can read,
public keys that travel between devices by export/import, and `kiosk ticket verify`."""

from __future__ import annotations

import json
import os
import stat
import sys
from datetime import UTC, datetime

import pytest

from db.models import DeviceKey
from kiosk.domain.ticketcode import TicketCodeError, TicketRecord, decode, encode
from kiosk.store import keys
from kiosk.store.keys import KeyFileError, KeyImportError


def _open(path):
    from db.connection import open_database

    return open_database(path)


def _record(device_uid: str) -> TicketRecord:
    return TicketRecord("01935d6f-0000-7abc-8def-0123456789ab", "K1-261124-0001", device_uid,
                        datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC), 1, (), 0,
                        catalog_hash=bytes(4), policy_hash=bytes(4))


def test_first_start_creates_a_private_key_only_its_owner_can_read(db, tmp_path):
    from kiosk.store.registration import ensure_device

    device = ensure_device("K1")
    path = tmp_path / "keys" / f"device-{device.uid}.key"  # beside the database
    assert keys.key_path(device.uid) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert b"PRIVATE KEY" in path.read_bytes()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    row = DeviceKey.get(DeviceKey.device_uid == device.uid)
    assert row.source == "own" and row.revoked_at is None
    assert bytes(row.public_key) == keys.signing_key(device.uid).public_key().public_bytes_raw()
    # the next start reads the same key and records nothing new
    assert ensure_device("K1").uid == device.uid and DeviceKey.select().count() == 1
    assert keys.ensure_own_key(device.uid).private_bytes_raw() == keys.signing_key(device.uid).private_bytes_raw()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o602])
def test_a_key_file_others_may_read_or_change_is_refused(db, tmp_path, mode):
    from kiosk.store.registration import ensure_device

    uid = ensure_device("K1").uid
    path = keys.key_path(uid)
    path.chmod(mode)
    with pytest.raises(KeyFileError) as refused:
        keys.ensure_own_key(uid)
    assert str(path) in str(refused.value) and "chmod 600" in str(refused.value)
    assert isinstance(refused.value, OSError)  # start-up reports it like an unusable database


def test_a_missing_or_different_key_file_is_refused_not_replaced(db):
    from kiosk.store.registration import ensure_device

    uid = ensure_device("K1").uid
    path = keys.key_path(uid)
    original = path.read_bytes()
    path.unlink()
    with pytest.raises(KeyFileError, match="missing"):
        keys.ensure_own_key(uid)
    assert not path.exists()  # no new key made behind the database's back
    keys._create_private_key(path)  # some other key
    with pytest.raises(KeyFileError, match="does not match"):
        keys.ensure_own_key(uid)
    path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, original)
    os.close(fd)
    assert keys.ensure_own_key(uid)  # the original is back: fine


def test_a_key_is_never_overwritten_by_a_second_creator(tmp_path):
    path = tmp_path / "keys" / "device-x.key"
    keys._create_private_key(path)
    first = path.read_bytes()
    with pytest.raises(FileExistsError):
        keys._create_private_key(path)
    assert path.read_bytes() == first and len(list(path.parent.iterdir())) == 1


def test_registrations_sign_without_reading_the_key_file(db, monkeypatch):
    from kiosk.store.registration import ensure_device

    uid = ensure_device("K1").uid
    monkeypatch.setattr(keys, "_read_private_key", lambda path: pytest.fail("the key file was read again"))
    assert keys.signing_key(uid) is keys.signing_key(uid)


def test_keys_for_knows_own_unknown_and_revoked_keys(db):
    from kiosk.domain.ticketcode import key_id
    from kiosk.store.registration import ensure_device

    uid = ensure_device("K1").uid
    code = encode(_record(uid), keys.signing_key(uid))
    assert decode(code, keys.keys_for).device_uid == uid
    assert keys.keys_for(key_id(b"\x07" * 32)) == []
    DeviceKey.update(revoked_at=datetime.now(UTC)).where(DeviceKey.device_uid == uid).execute()
    with pytest.raises(TicketCodeError) as revoked:
        decode(code, keys.keys_for)
    assert revoked.value.kind == "revoked"
    assert uid not in keys.export_public_keys()  # a revoked key is not handed on


def test_export_and_import_between_two_devices(tmp_path):
    from kiosk.store.registration import ensure_device

    db = _open(tmp_path / "kiosk" / "kiosk.sqlite3")
    kiosk_uid = ensure_device("K1").uid
    code = encode(_record(kiosk_uid), keys.signing_key(kiosk_uid))
    exported = keys.export_public_keys()
    db.close()

    db = _open(tmp_path / "desk" / "desk.sqlite3")
    desk_uid = ensure_device("D1", role="clerk").uid
    assert keys.key_path(desk_uid).parent == tmp_path / "desk" / "keys"
    with pytest.raises(TicketCodeError) as unknown:
        decode(code, keys.keys_for)
    assert unknown.value.kind == "unknown_device"
    assert keys.import_public_keys(exported) == 1
    assert decode(code, keys.keys_for).device_uid == kiosk_uid  # verified at the desk, offline
    assert DeviceKey.get(DeviceKey.device_uid == kiosk_uid).source == "import"
    assert keys.import_public_keys(exported) == 0  # known already: nothing new
    assert keys.import_public_keys(keys.export_public_keys()) == 0  # its own key among them: the same key
    both = keys.export_public_keys().splitlines()
    assert both[1].startswith(desk_uid) and both[2].startswith(kiosk_uid)  # own first

    # a changed key for a known device is refused, and nothing of the file is imported
    import base64

    other = base64.b64encode(b"\x07" * 32).decode()
    newcomer = "01935d6e-0000-7000-8000-000000000001"
    with pytest.raises(KeyImportError, match=f"{kiosk_uid} already has a different public key"):
        keys.import_public_keys(f"{newcomer} {other}\n{kiosk_uid} {other}\n")
    assert DeviceKey.get_or_none(DeviceKey.device_uid == newcomer) is None
    assert decode(code, keys.keys_for).device_uid == kiosk_uid
    db.close()


@pytest.mark.parametrize("text, says", [
    ("not-a-uuid AAAA", "line 1: 'not-a-uuid' is not a device uid"),
    ("# comment\n\n01935d6e-0000-7000-8000-000000000001 !!!", "line 3: the key is not Base64"),
    ("01935d6e-0000-7000-8000-000000000001 AAAA", "32 bytes, not 3"),
    ("01935d6e-0000-7000-8000-000000000001", "expected"),
    (f"01935d6e-0000-7000-8000-000000000001 {'A' * 43}=\n01935d6e-0000-7000-8000-000000000001 {'B' * 43}=",
     "appears twice"),
])
def test_a_malformed_key_file_is_refused_with_its_line(db, text, says):
    with pytest.raises(KeyImportError, match=says.replace("(", r"\(")):
        keys.import_public_keys(text)
    assert DeviceKey.select().count() == 0


# ---- the command line ---------------------------------------------------------------------------


@pytest.fixture
def kiosk_cli(tmp_path, capsys):
    from kiosk.cli import main

    def invoke(*argv: str, db: str = "kiosk"):
        status = main(["--db", str(tmp_path / db / "k.sqlite3"), *argv])
        out = capsys.readouterr()
        return status, out.out, out.err

    return invoke


def _registered_code(path) -> tuple[str, str]:
    from kiosk.domain.fees import LineRequest, default_policy
    from kiosk.store.catalog import ensure_catalog, load_catalog
    from kiosk.store.registration import (
        CustomerDetails,
        InstrumentLine,
        Registration,
        ensure_device,
        register,
    )

    db = _open(path)
    ensure_catalog()
    reg = Registration(CustomerDetails("示范燃气有限公司", phone="13812345678"),
                       (InstrumentLine(LineRequest("L-001-001", quantity=2, use="safety")),))
    ticket = register(reg, load_catalog(), default_policy(), ensure_device("K1"))
    db.close()
    return ticket.code, ticket.number


def test_ticket_verify_prints_the_ticket_and_refuses_a_tampered_code(kiosk_cli, tmp_path):
    code, number = _registered_code(tmp_path / "kiosk" / "k.sqlite3")
    status, out, _ = kiosk_cli("ticket", "verify", code.lower())
    assert status == 0
    shown = json.loads(out)
    assert shown["number"] == number and "organisation" not in shown
    assert shown["lines"] == [{"code": "L-001-001", "quantity": 2, "service": "verification", "use": "safety",
                               "points": None, "ranges": None, "metres": None, "ac_dc": False, "extra_data": False,
                               "amount_fen": 0, "urgent_fen": None}]  # free: compulsory verification for safety
    assert "13812345678" not in out

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    tampered = code[:-20] + alphabet[(alphabet.index(code[-20]) + 1) % 32] + code[-19:]  # in the signature
    status, out, err = kiosk_cli("ticket", "verify", tampered)
    assert (status, out) == (1, "") and "疑似伪造" in err
    status, _, err = kiosk_cli("--config", str(_english(tmp_path)), "ticket", "verify", code[:-10])
    assert status == 1 and "damaged or incomplete; scan it again" in err
    status, _, err = kiosk_cli("ticket", "verify", number)
    assert status == 1 and "这不是受理单二维码" in err
    # another desk does not know the kiosk's key until it is imported
    status, _, err = kiosk_cli("ticket", "verify", code, db="desk")
    assert status == 1 and "导入该设备的公钥" in err
    assert kiosk_cli("keys", "export", "-o", str(tmp_path / "keys.txt"))[0] == 0
    status, out, _ = kiosk_cli("keys", "import", str(tmp_path / "keys.txt"), db="desk")
    assert status == 0 and "已导入1个新的设备公钥" in out
    assert kiosk_cli("ticket", "verify", *[code[i:i + 50] for i in range(0, len(code), 50)], db="desk")[0] == 0


def _english(tmp_path):
    config = tmp_path / "en.toml"
    config.write_text("[kiosk]\nlanguage = 'en'\n", "utf-8")
    return config


def test_keys_export_to_stdout_and_a_bad_import_says_why(kiosk_cli, tmp_path):
    status, out, _ = kiosk_cli("keys", "export")
    assert status == 0 and out.startswith("#") and len(out.splitlines()) == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("hello world\n", "utf-8")
    status, _, err = kiosk_cli("keys", "import", str(bad))
    assert status == 1 and "公钥文件有误，未导入任何内容" in err and "line 1" in err
    status, _, err = kiosk_cli("keys", "import", str(tmp_path / "missing.txt"))
    assert status == 1 and "找不到文件" in err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_the_cli_refuses_a_readable_key_with_the_fix(kiosk_cli, tmp_path, monkeypatch):
    assert kiosk_cli("keys", "export")[0] == 0
    [path] = (tmp_path / "kiosk" / "keys").iterdir()
    path.chmod(0o644)
    monkeypatch.setattr(keys, "_signing_keys", {})  # a new process: nothing cached
    status, _, err = kiosk_cli("ticket", "verify", "JLAAAA")
    assert status == 1 and "本机签名密钥无法使用" in err and f"chmod 600 {path}" in err
