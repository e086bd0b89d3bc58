"""Enrolment: a one-time code bound to a role and site, a proof that the device holds its key,
a token that expires and is renewed; only hashes stored; device.key published. And the
attacks: nobody takes another device's uid, role or site, or locks it out."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central.auth import hash_secret
from central.devices import add_device, list_devices
from central.storage import as_datetime
from kiosk.domain.enrolment import TOKEN_LIFETIME, normalise_code

from .nodes import Node, enrol, pull_all, push, signed_enrolment


def body(code, uid: str | None = None, prefix: str = "K9", key=None, **overrides):
    return signed_enrolment(code, uid or str(uuid.uuid4()), prefix, key) | overrides


def stored_secrets(storage) -> set[str]:
    with storage.read() as tx:
        return {v for row in tx.all("SELECT code_hash FROM enrolment") for v in row} | {
            v for row in tx.all("SELECT token_hash FROM device") for v in row if v}


def device_row(storage, uid: str) -> dict:
    return next(d for d in list_devices(storage) if d["uid"] == uid)


def again(node: Node, code: str, **overrides) -> dict:
    """The device enrolling again as itself (a lost token): its own uid, prefix and key."""
    return body(code, node.uid, node.prefix, node.private_key) | overrides


def test_a_code_works_once_and_only_hashes_are_stored(client, storage):
    code = add_device(storage, "clerk", "收件窗口1")
    typed = code.lower().replace("-", " ")  # as typed, and signed as typed
    first = client.post("/api/v1/enroll", json=body(typed))
    assert first.status_code == 200 and first.json()["role"] == "clerk"
    token = first.json()["token"]
    assert len(token) >= 43  # 32 random bytes
    again = client.post("/api/v1/enroll", json=body(code, prefix="K8"))
    assert again.status_code == 403 and "used" in again.json()["detail"]
    secrets = stored_secrets(storage)
    assert code not in secrets and token not in secrets
    assert {hash_secret(normalise_code(code)), hash_secret(token)} <= secrets


def test_unknown_and_expired_codes_are_403(client, storage):
    assert client.post("/api/v1/enroll", json=body("AAAA-BBBB-CCCC-DDDD")).status_code == 403
    expired = add_device(storage, "kiosk", days=0)
    got = client.post("/api/v1/enroll", json=body(expired))
    assert got.status_code == 403 and got.json()["error"] == "bad_code"


def test_malformed_enrolments_are_422_and_use_no_code(client, storage):
    code = add_device(storage, "kiosk")
    for bad in ({"device_uid": "not-a-uuid"}, {"device_uid": str(uuid.uuid4()).upper()}, {"prefix": "k-1"},
                {"prefix": ""}, {"public_key": "AAAA"}, {"public_key": "!!"}, {"signature": "AAAA"}):
        assert client.post("/api/v1/enroll", json=body(code, **bad)).status_code == 422, bad
    unsigned = body(code)
    del unsigned["signature"]  # a kiosk from before enrolment needed proof
    got = client.post("/api/v1/enroll", json=unsigned)
    assert got.status_code == 422 and "signature" in got.text
    assert client.post("/api/v1/enroll", json={"code": code}).status_code == 422
    assert client.post("/api/v1/enroll", json=body(code)).status_code == 200


def test_a_bad_signature_is_refused_and_does_not_consume_the_code(client, storage):
    code, uid, key = add_device(storage, "kiosk"), str(uuid.uuid4()), Ed25519PrivateKey.generate()
    good = body(code, uid, "K7", key)
    forged = [good | {"signature": body(code, uid, "K7")["signature"]},  # another key's signature
              good | {"signature": base64.b64encode(bytes(64)).decode()},
              good | {"prefix": "K6"},  # signed for another prefix
              body(add_device(storage, "kiosk"), uid, "K7", key) | {"code": code}]  # signed for another code
    for attempt in forged:
        got = client.post("/api/v1/enroll", json=attempt)
        assert got.status_code == 403 and got.json()["error"] == "bad_proof", got.text
    assert client.post("/api/v1/enroll", json=good).status_code == 200  # the code was still unused


def test_a_prefix_belongs_to_one_device(client, storage):
    enrol(client, storage, prefix="K1")
    got = client.post("/api/v1/enroll", json=body(add_device(storage, "kiosk"), prefix="K1"))
    assert got.status_code == 409 and got.json()["error"] == "prefix_taken"


def test_enrolling_again_with_its_own_key_gives_a_new_token(client, storage):
    kiosk = enrol(client, storage, prefix="K2", name="大厅1号机")
    got = client.post("/api/v1/enroll", json=again(kiosk, add_device(storage, "kiosk")))
    assert got.status_code == 200 and got.json()["token"] != kiosk.token
    assert push(client, kiosk, kiosk.registered()).status_code == 401  # the lost token no longer works
    kiosk.token = got.json()["token"]
    assert push(client, kiosk, kiosk.registered()).status_code == 200
    assert device_row(storage, kiosk.uid)["name"] == "大厅1号机"  # a code without a name keeps it


def test_an_existing_device_cannot_be_taken_over_with_its_key_from_the_feed(client, storage):
    """The attack: the victim's uid, prefix and public key are in every desk's feed; with any
    unused code, enrol as it, lock it out, change its role. Every way in is refused."""
    victim = enrol(client, storage, prefix="K5")
    attacker = enrol(client, storage, "clerk", prefix="D5")
    known = next(c["data"] for c in pull_all(client, attacker)[0]
                 if c["kind"] == "device.key" and c["data"]["device_uid"] == victim.uid)
    clerk_code, kiosk_code = add_device(storage, "clerk"), add_device(storage, "kiosk")
    own_key = Ed25519PrivateKey.generate()
    for code in (clerk_code, kiosk_code):
        as_victim = body(code, known["device_uid"], known["prefix"], own_key)
        # The victim's public key with the attacker's signature: no proof.
        got = client.post("/api/v1/enroll", json=as_victim | {"public_key": known["public_key"]})
        assert got.status_code == 403 and got.json()["error"] == "bad_proof"
        # The attacker's own key under the victim's uid: a proof, of the wrong key.
        got = client.post("/api/v1/enroll", json=as_victim)
        assert got.status_code == 409 and got.json()["error"] == "key_changed"
        got = client.post("/api/v1/enroll", json=body(code, known["device_uid"], "X5", own_key))
        assert got.status_code == 409 and got.json()["error"] == "key_changed"
    assert push(client, victim, victim.registered()).status_code == 200  # the real device keeps working
    assert device_row(storage, victim.uid)["role"] == "kiosk"
    fresh = client.post("/api/v1/enroll", json=body(clerk_code, prefix="D6"))  # and the codes stay unused
    assert fresh.status_code == 200 and fresh.json()["role"] == "clerk"


def test_a_code_for_a_kiosk_cannot_make_a_clerk(client, storage):
    kiosk = enrol(client, storage, prefix="K3")
    got = client.post("/api/v1/enroll", json=again(kiosk, add_device(storage, "clerk")))
    assert got.status_code == 409 and got.json()["error"] == "role_changed"
    assert device_row(storage, kiosk.uid)["role"] == "kiosk"
    assert push(client, kiosk, kiosk.registered()).status_code == 200  # its token unchanged
    # The role is the code's: nothing the device sends names one.
    sent = body(add_device(storage, "kiosk"), prefix="K4") | {"role": "clerk"}
    assert client.post("/api/v1/enroll", json=sent).json()["role"] == "kiosk"


def test_enrolling_again_keeps_the_site_and_prefix(client, storage, monkeypatch):
    monkeypatch.setenv("CENTRAL_SITES", "main,north")
    desk = enrol(client, storage, "clerk", prefix="D7", site="north")
    assert device_row(storage, desk.uid)["site"] == "north"
    got = client.post("/api/v1/enroll", json=again(desk, add_device(storage, "clerk", site="main")))
    assert got.status_code == 409 and got.json()["error"] == "site_changed"
    north = add_device(storage, "clerk", site="north")
    got = client.post("/api/v1/enroll", json=body(north, desk.uid, "D8", desk.private_key))
    assert got.status_code == 409 and got.json()["error"] == "prefix_changed"
    assert client.post("/api/v1/enroll", json=again(desk, north)).status_code == 200
    with pytest.raises(ValueError, match="site"):
        add_device(storage, "clerk", site="south")


def test_add_device_site_from_the_command_line(storage, monkeypatch, capsys):
    from central.cli import main

    monkeypatch.setenv("CENTRAL_SITES", "main,north")
    where = ["--database-url", storage.url]
    assert main(["add-device", "--role", "clerk", "--site", "north", *where]) == 0
    assert "站点 north" in capsys.readouterr().err
    assert main(["add-device", "--role", "clerk", "--site", "south", *where]) == 1
    assert "没有站点 south" in capsys.readouterr().err
    with storage.read() as tx:
        assert [r[0] for r in tx.all("SELECT site FROM enrolment")] == ["north"]


def test_a_revoked_device_cannot_enrol_again(client, storage):
    from central.devices import revoke

    kiosk = enrol(client, storage, prefix="K3")
    revoke(storage, kiosk.uid)
    got = client.post("/api/v1/enroll", json=again(kiosk, add_device(storage, "kiosk")))
    assert got.status_code == 403 and got.json()["error"] == "revoked"


def test_enrolling_publishes_the_device_key_to_everyone(client, storage):
    kiosk = enrol(client, storage, prefix="K4")
    desk = enrol(client, storage, "clerk", prefix="D4", name="1号收件窗口")
    changes, _ = pull_all(client, kiosk)
    assert [c["data"] for c in changes if c["kind"] == "device.key"] == [
        {"device_uid": kiosk.uid, "public_key": kiosk.key, "role": "kiosk", "prefix": "K4", "name": ""},
        {"device_uid": desk.uid, "public_key": desk.key, "role": "clerk", "prefix": "D4", "name": "1号收件窗口"},
    ]


def test_a_token_expires_after_its_lifetime(client, storage, central_clock):
    enrolled = client.post("/api/v1/enroll", json=body(add_device(storage, "kiosk"), prefix="K1"))
    expires = as_datetime(enrolled.json()["expires_at"])
    assert expires == central_clock.now + TOKEN_LIFETIME
    kiosk = Node(enrolled.json()["device_uid"], "K1", "kiosk", enrolled.json()["token"], "")
    central_clock.now = expires - timedelta(seconds=1)
    assert push(client, kiosk, kiosk.registered()).status_code == 200
    central_clock.now = expires
    got = push(client, kiosk, kiosk.registered())
    assert got.status_code == 401 and got.json()["error"] == "token_expired"
    assert "enrol" in got.json()["detail"] and got.headers["WWW-Authenticate"] == "Bearer"
    got = client.post("/api/v1/token", headers=kiosk.headers)
    assert got.status_code == 401 and got.json()["error"] == "token_expired"  # too late to renew
    assert client.get("/api/v1/changes", headers={"Authorization": "Bearer nope"}).json()["error"] == "bad_token"


def test_renewal_keeps_the_old_token_until_the_new_one_is_used(client, storage, central_clock):
    kiosk = enrol(client, storage, prefix="K1")
    old = kiosk.token
    central_clock.now += timedelta(days=50)
    renewed = client.post("/api/v1/token", headers=kiosk.headers)
    assert renewed.status_code == 200, renewed.text
    new = renewed.json()["token"]
    assert new != old and as_datetime(renewed.json()["expires_at"]) == central_clock.now + TOKEN_LIFETIME
    assert push(client, kiosk, kiosk.registered()).status_code == 200  # the old one: the answer may be lost
    kiosk.token = new
    assert push(client, kiosk, kiosk.registered()).status_code == 200  # the new one's first use
    kiosk.token = old
    got = push(client, kiosk, kiosk.registered())
    assert got.status_code == 401 and got.json()["error"] == "bad_token"
    assert old not in stored_secrets(storage) and hash_secret(new) in stored_secrets(storage)


def test_a_lost_renewal_answer_never_locks_the_device_out(client, storage, central_clock):
    kiosk = enrol(client, storage, prefix="K1")
    central_clock.now += timedelta(days=50)
    lost = client.post("/api/v1/token", headers=kiosk.headers).json()["token"]  # never reaches the device
    repeated = client.post("/api/v1/token", headers=kiosk.headers)  # the same request again, at once
    assert repeated.status_code == 409 and repeated.json()["error"] == "renewing"
    central_clock.now += timedelta(minutes=5)  # the device's next pass asks again with the token it has
    renewed = client.post("/api/v1/token", headers=kiosk.headers)
    assert renewed.status_code == 200
    assert push(client, kiosk, kiosk.registered()).status_code == 200
    kiosk.token = lost
    assert push(client, kiosk, kiosk.registered()).status_code == 401  # the lost one was replaced
    kiosk.token = renewed.json()["token"]
    assert push(client, kiosk, kiosk.registered()).status_code == 200


def test_an_unused_renewal_leaves_the_old_token_a_grace_of_7_days(client, storage, central_clock):
    kiosk = enrol(client, storage, prefix="K1")
    central_clock.now += timedelta(days=50)
    assert client.post("/api/v1/token", headers=kiosk.headers).status_code == 200
    central_clock.now += timedelta(days=7) - timedelta(seconds=1)
    assert push(client, kiosk, kiosk.registered()).status_code == 200
    central_clock.now += timedelta(seconds=1)
    got = push(client, kiosk, kiosk.registered())
    assert got.status_code == 401 and got.json()["error"] == "token_expired"


def test_a_token_from_before_schema_4_keeps_working_and_gets_an_expiry(client, storage, central_clock):
    kiosk = enrol(client, storage, prefix="K1")
    with storage.transaction() as tx:  # as the upgrade to schema 4 leaves it
        tx.execute("UPDATE device SET token_expires_at = NULL WHERE uid = ?", (kiosk.uid,))
    central_clock.now += timedelta(days=400)
    assert push(client, kiosk, kiosk.registered()).status_code == 200
    assert as_datetime(device_row(storage, kiosk.uid)["token_expires_at"]) == central_clock.now + TOKEN_LIFETIME
    renewed = client.post("/api/v1/token", headers=kiosk.headers)
    assert renewed.status_code == 200


def test_a_revoked_device_cannot_renew(client, storage):
    from central.devices import revoke

    kiosk = enrol(client, storage, prefix="K1")
    revoke(storage, kiosk.uid)
    assert client.post("/api/v1/token", headers=kiosk.headers).status_code == 401
