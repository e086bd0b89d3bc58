"""Enrolment: a one-time code, a token, only hashes stored, device.key published."""

from __future__ import annotations

import uuid

from central.auth import hash_secret, normalise_code
from central.devices import add_device

from .nodes import enrol, public_key, pull_all, push


def body(code, **overrides):
    return {"code": code, "device_uid": str(uuid.uuid4()), "prefix": "K9", "public_key": public_key()} | overrides


def stored_secrets(storage) -> set[str]:
    with storage.read() as tx:
        return {v for row in tx.all("SELECT code_hash FROM enrolment") for v in row} | {
            v for row in tx.all("SELECT token_hash FROM device") for v in row if v}


def test_a_code_works_once_and_only_hashes_are_stored(client, storage):
    code = add_device(storage, "clerk", "收件窗口1")
    first = client.post("/api/v1/enroll", json=body(code.lower().replace("-", " ")))  # as typed
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
                {"prefix": ""}, {"public_key": "AAAA"}, {"public_key": "!!"}):
        assert client.post("/api/v1/enroll", json=body(code, **bad)).status_code == 422, bad
    assert client.post("/api/v1/enroll", json={"code": code}).status_code == 422
    assert client.post("/api/v1/enroll", json=body(code)).status_code == 200


def test_a_prefix_belongs_to_one_device(client, storage):
    enrol(client, storage, prefix="K1")
    got = client.post("/api/v1/enroll", json=body(add_device(storage, "kiosk"), prefix="K1"))
    assert got.status_code == 409 and got.json()["error"] == "prefix_taken"


def test_enrolling_again_rotates_the_token_and_a_changed_key_is_refused(client, storage):
    kiosk = enrol(client, storage, prefix="K2")
    same = body(add_device(storage, "kiosk"), device_uid=kiosk.uid, prefix="K2", public_key=kiosk.key)
    got = client.post("/api/v1/enroll", json=same)
    assert got.status_code == 200 and got.json()["token"] != kiosk.token
    assert push(client, kiosk, kiosk.registered()).status_code == 401  # the old token no longer works
    other_key = body(add_device(storage, "kiosk"), device_uid=kiosk.uid, prefix="K2")
    refused = client.post("/api/v1/enroll", json=other_key)
    assert refused.status_code == 409 and refused.json()["error"] == "key_changed"


def test_a_revoked_device_cannot_enrol_again(client, storage):
    from central.devices import revoke

    kiosk = enrol(client, storage, prefix="K3")
    revoke(storage, kiosk.uid)
    got = client.post("/api/v1/enroll", json=body(add_device(storage, "kiosk"), device_uid=kiosk.uid, prefix="K3",
                                                  public_key=kiosk.key))
    assert got.status_code == 403 and got.json()["error"] == "revoked"


def test_enrolling_publishes_the_device_key_to_everyone(client, storage):
    kiosk = enrol(client, storage, prefix="K4")
    desk = enrol(client, storage, "clerk", prefix="D4", name="1号收件窗口")
    changes, _ = pull_all(client, kiosk)
    assert [c["data"] for c in changes if c["kind"] == "device.key"] == [
        {"device_uid": kiosk.uid, "public_key": kiosk.key, "role": "kiosk", "prefix": "K4", "name": ""},
        {"device_uid": desk.uid, "public_key": desk.key, "role": "clerk", "prefix": "D4", "name": "1号收件窗口"},
    ]
