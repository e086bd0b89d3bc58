"""Devices as the tests play them: enrolled for real, pushing events shaped like the kiosk's
(kiosk/store/registration.py commit(), kiosk/store/desk.py _step())."""

from __future__ import annotations

import base64
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central.devices import add_device
from kiosk.domain.enrolment import proof_message

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


def public_key(key: Ed25519PrivateKey | None = None) -> str:
    """Base64 of the raw public key of `key` (default: a new one)."""
    return base64.b64encode((key or Ed25519PrivateKey.generate()).public_key().public_bytes_raw()).decode()


def proof(key: Ed25519PrivateKey, code: str, uid: str, prefix: str) -> str:
    """What a device signs to enrol (kiosk/domain/enrolment.py), signed with `key`, in base64."""
    return base64.b64encode(key.sign(proof_message(code, uid, prefix, public_key(key)))).decode()


def signed_enrolment(code: str, uid: str, prefix: str, key: Ed25519PrivateKey | None = None) -> dict:
    """An enrolment as a device sends it (the body of POST /api/v1/enroll, the keywords of
    central.devices.enroll): its key's public half and the proof it holds the private one."""
    key = key or Ed25519PrivateKey.generate()
    return {"code": code, "device_uid": uid, "prefix": prefix, "public_key": public_key(key),
            "signature": proof(key, code, uid, prefix)}


@dataclass
class Node:
    uid: str
    prefix: str
    role: str
    token: str
    key: str
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    private_key: Ed25519PrivateKey | None = None  # to enrol again as itself

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def registered(self, *, ticket: str | None = None, number: str | None = None, at: datetime = T0,
                   phone: str = "13812345678", organisation: str = "示范燃气有限公司",
                   promise: dict | None = None) -> dict:
        """`promise`: {"ready_on": ..., "urgent_hours": ...} as a kiosk of this version sends it."""
        ticket = ticket or str(uuid.uuid4())
        number = number or f"{self.prefix}-261124-{next(self.counter):04d}"
        return event("ticket.registered", at, {
            "ticket": {"uid": ticket, "number": number, "device": self.uid, "created_at": at.isoformat(),
                       "catalog_version": 1, "policy": "demo-2026", "urgent": None, "pickup": "in_person",
                       "certificates": 1, "certificate_name": organisation, "total_fen": 12000,
                       "code": "JL" + "A" * 300, **(promise or {})},
            "customer": {"organisation": organisation, "credit_code": "91520100MA6DKJ2X4U",
                         "address": "贵阳市观山湖区", "contact": "李工", "phone": phone},
            "lines": [{"position": 0, "code": "L-001-001", "quantity": 3, "use": "safety",
                       "service": "verification", "points": None, "ranges": None, "metres": None, "ac_dc": False,
                       "model": "Y-100", "serial_number": "A1", "manufacturer": "", "requirements": "",
                       "repair_if_fails": False, "amount_fen": 0, "free_reason": "compulsory_verification"}],
        })

    def step(self, kind: str, ticket: str, number: str, *, at: datetime = T0 + timedelta(hours=1),
             clerk: str = "wang", clerk_name: str = "王芳", lines: list[dict] | None = None) -> dict:
        payload = {"event": str(uuid.uuid4()), "ticket": ticket, "number": number, "device": self.uid,
                   "clerk": {"username": clerk, "name": clerk_name}, "at": at.isoformat()}
        if kind == "received":
            payload |= {"total_fen": 12000, "estimate": {"total_fen": 12000}, "lines": lines or []}
        if kind == "picked_up":
            payload |= {"certificates": {"0": "JD-2026-001"}}
        return event(f"ticket.{kind}", at, payload)


    def feedback(self, rating: int, *, at: datetime = T0 + timedelta(days=8), ticket: str | None = None,
                 number: str | None = None, hearts: tuple[str, ...] = (), reason: str | None = None,
                 reason_text: str = "", comment: str = "", phone: str | None = None, steps: dict | None = None,
                 due_on: str | None = None) -> dict:
        """As kiosk/store/feedback.py give_feedback() pushes it; a poor rating (1, 2) opens a follow-up."""
        poor = rating <= 2
        return event("feedback.given", at, {
            "feedback": str(uuid.uuid4()), "device": self.uid, "at": at.isoformat(), "ticket": ticket,
            "number": number if ticket else None, "rating": rating, "level": LEVELS[rating], "hearts": list(hearts),
            "reason": (reason or "slow") if poor else None, "reason_text": reason_text if poor else "",
            "comment": comment, "callback": phone is not None, "phone": phone, "language": "zh",
            "steps": steps or {},
            "followup": {"uid": str(uuid.uuid4()), "due_on": due_on or "2026-12-23"} if poor else None})

    def closed(self, feedback: dict, *, at: datetime = T0 + timedelta(days=9), note: str = "已回电，客户满意",
               clerk: str = "wang", clerk_name: str = "王芳") -> dict:
        """As kiosk/store/feedback.py close_followup() pushes it."""
        given = feedback["payload"]
        return event("followup.closed", at, {
            "followup": given["followup"]["uid"], "feedback": given["feedback"], "device": self.uid,
            "at": at.isoformat(), "clerk": {"username": clerk, "name": clerk_name}, "note": note})


LEVELS = {5: "very_satisfied", 4: "satisfied", 3: "basic", 2: "dissatisfied", 1: "very_dissatisfied"}


def event(kind: str, at: datetime, payload: dict) -> dict:
    return {"uid": str(uuid.uuid4()), "kind": kind, "created_at": at.isoformat(), "payload": payload}


_prefixes = itertools.count(1)


def enrol(client, storage, role: str = "kiosk", prefix: str | None = None, name: str = "",
          site: str | None = None) -> Node:
    """A device enrolled as `kiosk enroll` does it (`site`: one of central's sites, default the first)."""
    code, key, uid = add_device(storage, role, name, site=site), Ed25519PrivateKey.generate(), str(uuid.uuid4())
    prefix = prefix or f"P{next(_prefixes)}"
    got = client.post("/api/v1/enroll", json=signed_enrolment(code, uid, prefix, key))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["device_uid"] == uid and body["role"] == role
    return Node(uid, prefix, role, body["token"], public_key(key), private_key=key)


def push(client, node: Node, *events: dict):
    return client.post("/api/v1/events", json={"events": list(events)}, headers=node.headers)


def pull_all(client, node: Node, after: int = 0, limit: int = 500) -> tuple[list[dict], int]:
    """Every change after the cursor, page by page, as a device does: (changes, next)."""
    changes = []
    while True:
        got = client.get("/api/v1/changes", params={"after": after, "limit": limit}, headers=node.headers)
        assert got.status_code == 200, got.text
        page = got.json()
        changes += page["changes"]
        after = page["next"]
        if not page["more"]:
            return changes, after
