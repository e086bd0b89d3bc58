"""Offline-first sync with the central system: push the outbox, pull the change feed.

No Textual, no threads of its own. The network steps (`Central`) and the database steps
(the functions below it) are separate, so the app can run the network on a worker thread
and the database on its one writer thread, and a registration never waits behind a slow
network. `sync_pass` joins them; `kiosk sync` runs it directly.

Why it cannot lose or double anything
* Every local fact is an outbox event written in the fact's own transaction. An event is
  marked acknowledged only after central answered that it holds it; central applies each
  event uid at most once. A lost answer, a retry, a restart or a `kill -9` therefore only
  sends an event again, which central acknowledges without effect.
* An event central refuses by name (422) is parked with the reason and reported; the rest
  of the queue goes on.
* Pulled changes are applied in one transaction with the cursor that follows them: a
  crash between the two cannot skip a change or apply one twice.

The contract is central/README-API.md. The HTTP client is the standard library's, so the
kiosk process carries no HTTP stack beyond what Python has (memory, start-up).
"""

from __future__ import annotations

import http.client
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlsplit

from db.inserts import insert, insert_many
from db.models import (
    Clerk,
    Customer,
    Device,
    DeviceKey,
    Feedback,
    Followup,
    HeldChange,
    IntakeLine,
    OutboxEvent,
    Setting,
    Ticket,
    TicketEvent,
    TicketLine,
    database_proxy,
    utc_now,
)

log = logging.getLogger(__name__)

BATCH = 500  # events per push: central's limit
BATCH_BYTES = 4 * 1024 * 1024  # and at most this much JSON per push (central refuses over 16 MB)
PULL_LIMIT = 500
TIMEOUT = 15.0  # seconds for one request; a dead network fails over to backoff, never hangs
STATUSES = ("registered", "received", "ready", "picked_up")

URL, TOKEN, ROLE, CURSOR = "central.url", "central.token", "central.role", "sync.cursor"


class SyncError(Exception):
    """`kind`: offline (no answer, reset, timeout, 5xx) | auth (401/403: enrol again) |
    too_large (413: the batch, see sync_pass) | refused (another 4xx) | bad_response (an
    answer that is not the contract's)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


# ---- the network -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PushAnswer:
    acked: list[str]
    rejected: dict[str, str]  # uid -> why


class Central:
    """The central system's HTTP API, one request at a time (stdlib http.client)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = TIMEOUT):
        parts = urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout
        self._parts = parts

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        p = self._parts
        cls = http.client.HTTPSConnection if p.scheme == "https" else http.client.HTTPConnection
        conn = cls(p.hostname, p.port, timeout=self.timeout)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request(method, p.path + path, body=data, headers=headers)
            response = conn.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as e:  # TimeoutError and resets are OSErrors
            raise SyncError("offline", f"{method} {path}: {type(e).__name__}: {e}") from None
        finally:
            conn.close()
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            answer = None
        if status in (401, 403):
            raise SyncError("auth", f"{method} {path}: {status} {_detail(answer)}")
        if status >= 500 or status in (408, 429):
            raise SyncError("offline", f"{method} {path}: {status} {_detail(answer)}")
        return status, answer

    def health(self) -> bool:
        status, answer = self.request("GET", "/api/v1/health")
        return status == 200 and isinstance(answer, dict) and answer.get("ok") is True

    def enroll(self, code: str, device_uid: str, prefix: str, public_key: bytes) -> dict:
        import base64

        status, answer = self.request("POST", "/api/v1/enroll", {
            "code": code, "device_uid": device_uid, "prefix": prefix,
            "public_key": base64.b64encode(public_key).decode("ascii")})
        if status != 200 or not isinstance(answer, dict) or not answer.get("token"):
            raise SyncError("refused", f"enrolment refused: {status} {_detail(answer)}")
        return answer

    def push(self, events: list[dict]) -> PushAnswer:
        status, answer = self.request("POST", "/api/v1/events", {"events": events})
        if status == 200 and isinstance(answer, dict) and isinstance(answer.get("acked"), list):
            return PushAnswer([str(u) for u in answer["acked"]], {})
        if status == 422 and isinstance(answer, dict) and isinstance(answer.get("rejected"), list):
            rejected = {str(r.get("uid")): str(r.get("error")) for r in answer["rejected"] if isinstance(r, dict)}
            if rejected:
                return PushAnswer([], rejected)
        if status == 413:
            raise SyncError("too_large", f"push refused: {len(events)} events are too large together")
        if 400 <= status < 500:
            raise SyncError("refused", f"push refused: {status} {_detail(answer)}")
        raise SyncError("bad_response", f"push: unexpected answer {status}")

    def changes(self, after: int, limit: int = PULL_LIMIT) -> tuple[list[dict], int, bool]:
        status, answer = self.request("GET", f"/api/v1/changes?after={int(after)}&limit={int(limit)}")
        if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("changes"), list):
            raise SyncError("bad_response" if status == 200 else "refused", f"changes: {status} {_detail(answer)}")
        return answer["changes"], int(answer.get("next", after)), bool(answer.get("more"))


def _detail(answer) -> str:
    return str(answer.get("detail"))[:200] if isinstance(answer, dict) and answer.get("detail") else ""


def backoff(failures: int, base: float = 2.0, cap: float = 300.0, rng=random.random) -> float:
    """Seconds to wait after `failures` failed passes in a row: exponential, capped, with full
    jitter (0.5-1.5x), so a hundred kiosks coming back after an outage do not knock together."""
    return min(cap, base * 2 ** max(0, failures - 1)) * (0.5 + rng())


# ---- settings ----------------------------------------------------------------------------------


def _setting(key: str, default: str | None = None) -> str | None:
    row = Setting.get_or_none(Setting.key == key)
    return row.value if row else default


def _set(key: str, value: str) -> None:
    Setting.insert(key=key, value=value).on_conflict_replace().execute()


@dataclass(frozen=True)
class Enrolment:
    url: str
    token: str
    role: str


def enrolment() -> Enrolment | None:
    url, token = _setting(URL), _setting(TOKEN)
    return Enrolment(url, token, _setting(ROLE, "kiosk")) if url and token else None


def save_enrolment(url: str, token: str, role: str) -> None:
    with database_proxy.atomic():
        _set(URL, url.rstrip("/"))
        _set(TOKEN, token)
        _set(ROLE, role)


def enroll(url: str, code: str, device, public_key: bytes, client: Central | None = None) -> Enrolment:
    """`kiosk enroll URL CODE`: trade the one-time code for this device's token."""
    answer = (client or Central(url)).enroll(code.strip(), device.uid, device.prefix, public_key)
    save_enrolment(url, answer["token"], answer.get("role", "kiosk"))
    return enrolment()


# ---- push: the outbox ----------------------------------------------------------------------------


def _pending():
    return OutboxEvent.select().where(OutboxEvent.acked_at.is_null() & OutboxEvent.parked_at.is_null())


def pending_batch(limit: int = BATCH, max_bytes: int | None = None) -> list[dict]:
    """The oldest events not yet acknowledged nor parked, as the wire carries them: at most
    `limit` of them and about `max_bytes` (default BATCH_BYTES) of payload, but always one."""
    max_bytes = max_bytes or BATCH_BYTES
    events, size = [], 0
    for e in _pending().order_by(OutboxEvent.seq).limit(limit):
        size += len(e.payload)
        if events and size > max_bytes:
            break
        events.append({"uid": e.uid, "kind": e.kind, "created_at": e.created_at.isoformat(),
                       "payload": json.loads(e.payload)})
    return events


def record_push(answer: PushAnswer, now: datetime | None = None) -> None:
    """Acknowledged events are done; refused ones are parked with the reason. One transaction."""
    now = now or utc_now()
    with database_proxy.atomic():
        for chunk in _chunks(answer.acked, 400):
            OutboxEvent.update(acked_at=now).where(OutboxEvent.uid.in_(chunk) & OutboxEvent.acked_at.is_null()).execute()
        for uid, reason in answer.rejected.items():
            OutboxEvent.update(parked_at=now, park_reason=reason[:500]).where(
                (OutboxEvent.uid == uid) & OutboxEvent.acked_at.is_null()).execute()
    if answer.rejected:
        log.warning("central refused %d event(s); parked: %s", len(answer.rejected),
                    ", ".join(f"{uid} ({why[:80]})" for uid, why in list(answer.rejected.items())[:10]))


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass(frozen=True)
class Backlog:
    waiting: int  # events central has not acknowledged yet
    parked: int  # events central refused (see `kiosk sync --parked`)


def backlog() -> Backlog:
    parked = OutboxEvent.select().where(OutboxEvent.parked_at.is_null(False) & OutboxEvent.acked_at.is_null()).count()
    return Backlog(_pending().count(), parked)


def parked_events() -> list[tuple[str, str, str]]:
    """(uid, kind, reason) of every parked event: what an operator looks at."""
    return [(e.uid, e.kind, e.park_reason or "") for e in OutboxEvent.select().where(
        OutboxEvent.parked_at.is_null(False) & OutboxEvent.acked_at.is_null()).order_by(OutboxEvent.seq)]


# ---- pull: the change feed -----------------------------------------------------------------------


def cursor() -> int:
    return int(_setting(CURSOR, "0"))


@dataclass
class Applied:
    keys: int = 0
    revoked: int = 0
    catalogs: list[int] = field(default_factory=list)  # local catalogue versions imported
    tickets: int = 0
    steps: int = 0
    held: int = 0
    feedback: int = 0  # ratings given at a kiosk, stored here
    followups_closed: int = 0  # follow-ups closed elsewhere, closed here too
    followups_ignored: int = 0  # a close of a follow-up unknown here, or closed here already


def apply_changes(changes: list[dict], next_cursor: int, own_uid: str) -> Applied:
    """Apply a page of the feed and move the cursor past it, in one transaction."""
    applied = Applied()
    with database_proxy.atomic():
        for change in changes:
            kind, data, seq = change.get("kind"), change.get("data") or {}, int(change.get("seq", 0))
            handler = _HANDLERS.get(kind)
            if handler is None:
                log.info("change %s of kind %r ignored (newer central?)", seq, kind)
                continue
            handler(data, seq, own_uid, applied)
        _set(CURSOR, str(max(next_cursor, cursor())))
    return applied


def _device_key(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    import base64

    uid, raw = data["device_uid"], base64.b64decode(data["public_key"])
    name = (data.get("name") or "").strip() or None  # as enrolled at central, e.g. "1号收件窗口"
    row = DeviceKey.get_or_none(DeviceKey.device_uid == uid)
    if row is None:
        DeviceKey.create(device_uid=uid, public_key=raw, source="sync", added_at=utc_now(), name=name)
        applied.keys += 1
        return
    if bytes(row.public_key) != raw:
        log.warning("change %s: device %s has a different key here (%s); kept the one here", seq, uid, row.source)
    if name is not None and row.name != name:
        DeviceKey.update(name=name).where(DeviceKey.id == row.id).execute()


def _device_revoked(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    applied.revoked += DeviceKey.update(revoked_at=utc_now()).where(
        (DeviceKey.device_uid == data["device_uid"]) & DeviceKey.revoked_at.is_null()).execute()


def _catalog_version(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """A new fee schedule, whole or not at all (the transaction of the page). Identical to the
    latest one here: nothing to do. Estimates in progress keep the version they began with;
    a ticket records its version."""
    import hashlib

    from db.models import CatalogVersion
    from kiosk.domain.catalog import parse_csv, to_csv
    from kiosk.store.catalog import import_rows

    rows = parse_csv(data["csv"], f"central catalogue {data.get('version')}")
    digest = hashlib.sha256(to_csv(rows).encode("utf-8")).hexdigest()
    latest = CatalogVersion.select().order_by(CatalogVersion.id.desc()).first()
    if latest is None or latest.sha256 != digest:
        applied.catalogs.append(import_rows(rows, f"central:{data.get('version')}"))


def _foreign_device(uid: str, number: str | None) -> int:
    """Another node's device row, made on first sight. Its prefix is the one of the ticket
    numbers it issues; a device first seen through a rating (`number` None: the rating kiosk
    need not be the one that registered the ticket) gets "" (unknown) until a ticket names it."""
    prefix = number.split("-")[0] if number else ""
    device = Device.get_or_none(Device.uid == uid)
    if device is None:  # another node's: this node stays the first row (registration.ensure_device)
        device = Device.create(uid=uid, prefix=prefix, role="kiosk", created_at=utc_now())
    elif not device.prefix and prefix:  # this node's own row always has its prefix
        Device.update(prefix=prefix).where(Device.id == device.id).execute()
    return device.id


def _ticket_registered(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """A ticket registered at a kiosk (clerk desks only). Known already from its code alone
    (taken in before the kiosk synced): the customer's details are filled in."""
    from db.models import PricedRow
    from kiosk.store.catalog import latest_version

    t, customer = data["ticket"], data["customer"]
    existing = Ticket.get_or_none(Ticket.uid == t["uid"])
    if existing is not None:
        if existing.device.uid != own_uid:
            Customer.update(**{k: customer.get(k, "") for k in ("organisation", "credit_code", "address", "contact",
                                                                  "phone")}).where(
                Customer.id == existing.customer_id).execute()
            Ticket.update(pickup=t.get("pickup", existing.pickup), certificates=t.get("certificates", 1),
                          certificate_name=t.get("certificate_name", "")).where(Ticket.id == existing.id).execute()
        return
    version = t.get("catalog_version")
    rows = {r.code: r.id for r in PricedRow.select(PricedRow.id, PricedRow.code).where(PricedRow.version == version)}
    if not rows or any(ln["code"] not in rows for ln in data["lines"]):
        version = latest_version()
        rows = {r.code: r.id for r in PricedRow.select(PricedRow.id, PricedRow.code).where(PricedRow.version == version)}
    missing = [ln["code"] for ln in data["lines"] if ln["code"] not in rows]
    if missing:
        log.warning("change %s: ticket %s has fee rows this node lacks (%s); taken in from its code instead",
                    seq, t["number"], ", ".join(missing))
        return
    now = utc_now()
    customer_id = insert(Customer, created_at=now, **{k: customer.get(k, "") for k in (
        "organisation", "credit_code", "address", "contact", "phone")})
    ticket_id = insert(
        Ticket, uid=t["uid"], number=t["number"], device=_foreign_device(t["device"], t["number"]),
        customer=customer_id, version=version, policy_id=t.get("policy", ""), status="registered",
        urgent=t.get("urgent"), pickup=t.get("pickup", "in_person"), certificates=t.get("certificates", 1),
        certificate_name=t.get("certificate_name", ""), total_fen=t["total_fen"],
        quoted_lines=sum(1 for ln in data["lines"] if ln.get("amount_fen") is None),
        estimate_json=json.dumps(_estimate_of(data), ensure_ascii=False, sort_keys=True),
        created_at=datetime.fromisoformat(t["created_at"]), code=t.get("code"))
    columns = ("position", "code", "quantity", "use", "service", "points", "ranges", "metres", "ac_dc", "model",
               "serial_number", "manufacturer", "requirements", "repair_if_fails", "amount_fen", "free_reason")
    insert_many(TicketLine, [{"ticket": ticket_id, "row": rows[ln["code"]], **{c: ln.get(c) for c in columns}}
                             for ln in data["lines"]])
    applied.tickets += 1
    for held in HeldChange.select().where(HeldChange.ticket_uid == t["uid"]).order_by(HeldChange.seq):
        held.delete_instance()
        _ticket_event(json.loads(held.data), held.seq, own_uid, applied)


def _estimate_of(data: dict) -> dict:
    """The estimate the kiosk showed, rebuilt from the event's lines (the event carries no
    estimate_json): enough for the counters, which price the intake again anyway."""
    from kiosk.domain.fees import EstimateRequest, LineRequest, default_policy, estimate
    from kiosk.store.catalog import load_catalog

    t = data["ticket"]
    catalog = load_catalog()
    requests = tuple(LineRequest(ln["code"], quantity=ln["quantity"], use=ln["use"], service=ln.get("service"))
                     for ln in data["lines"] if ln["code"] in catalog.by_code)
    return estimate(EstimateRequest(requests, t.get("urgent")), catalog.by_code, default_policy(),
                    catalog.version).to_dict()


def _ticket_event(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """A step recorded at another desk. Its ticket not here yet: held until it comes. The
    same step recorded here too (two desks, offline): the first one here stays; central's
    history keeps both. Status only moves forward."""
    if data.get("device") == own_uid:
        return  # our own step, already here
    ticket = Ticket.get_or_none(Ticket.uid == data["ticket"])
    if ticket is None:
        HeldChange.insert(seq=seq, ticket_uid=data["ticket"], data=json.dumps(data, ensure_ascii=False)).on_conflict_ignore().execute()
        applied.held += 1
        return
    kind = data["kind"]
    if kind not in STATUSES[1:]:
        return
    if TicketEvent.select().where((TicketEvent.uid == data["event"])
                                  | ((TicketEvent.ticket == ticket.id) & (TicketEvent.kind == kind))).exists():
        return
    payload = {k: v for k, v in data.items() if k not in ("event", "ticket", "number", "kind", "device", "at")}
    event_id = insert(TicketEvent, uid=data["event"], ticket=ticket.id, kind=kind, clerk=None,
                      device=_foreign_device(data["device"], ticket.number),
                      payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                      created_at=datetime.fromisoformat(data["at"]))
    if kind == "received":
        _intake_lines(event_id, ticket.id, payload)
    if STATUSES.index(kind) > STATUSES.index(ticket.status):
        Ticket.update(status=kind).where(Ticket.id == ticket.id).execute()
    applied.steps += 1


def _intake_lines(event_id: int, ticket_id: int, payload: dict) -> None:
    """The other desk's intake, its line ids mapped to this node's lines by position."""
    local = [ln.id for ln in TicketLine.select(TicketLine.id).where(TicketLine.ticket == ticket_id)
             .order_by(TicketLine.position)]
    amounts = iter(ln.get("amount_fen") for ln in (payload.get("estimate") or {}).get("lines", []))
    for position, ln in enumerate(payload.get("lines") or []):
        mapped = local[position] if ln.get("ticket_line_id") is not None and position < len(local) else None
        insert(IntakeLine, event=event_id, ticket_line=mapped, position=position, code=ln["code"],
               quantity=ln["quantity"], service=ln["service"], use=ln["use"], condition=ln.get("condition", ""),
               accessories=ln.get("accessories", ""), serial_number=ln.get("serial_number", ""),
               refused=bool(ln.get("refused")), amount_fen=None if ln.get("refused") else next(amounts, None))


# ---- feedback and follow-ups: kiosk/store/feedback.py's events, as central publishes them to desks --


def _feedback_given(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """A rating given at a kiosk, with its follow-up if poor (data: give_feedback's payload).
    Known already (its uid): nothing. Its ticket rated here already (two kiosks, offline: the
    unique index allows one rating per ticket): kept, without the ticket link but with its
    number, so neither the rating nor the page is lost."""
    uid = data["feedback"]
    if Feedback.select().where(Feedback.uid == uid).exists():
        return
    number = data.get("number") or None
    ticket = Ticket.get_or_none(Ticket.uid == data["ticket"]) if data.get("ticket") else None
    if ticket is not None and Feedback.select().where(Feedback.ticket == ticket.id).exists():
        log.info("change %s: ticket %s is rated here already; rating %s kept without the link", seq, number, uid)
        ticket = None
    steps = data.get("steps") or {}
    received, picked_up = steps.get("received") or {}, steps.get("picked_up") or {}
    at = datetime.fromisoformat(data["at"])
    feedback_id = insert(
        Feedback, uid=uid, ticket=ticket.id if ticket else None, device=_foreign_device(data["device"], None),
        rating=data["rating"], hearts=",".join(data.get("hearts") or ()), reason=data.get("reason"),
        reason_text=data.get("reason_text") or "", comment=data.get("comment") or "",
        callback_phone=data.get("phone") or None, language=data.get("language") or "zh",
        received_device=received.get("device"), received_clerk=received.get("clerk"),
        picked_up_device=picked_up.get("device"), picked_up_clerk=picked_up.get("clerk"), created_at=at,
        ticket_number=number)
    followup = data.get("followup")
    if followup and not Followup.select().where(Followup.uid == followup["uid"]).exists():
        insert(Followup, uid=followup["uid"], feedback=feedback_id, due_on=date.fromisoformat(followup["due_on"]),
               status="open", call_note="", created_at=at)
    applied.feedback += 1


def _followup_closed(data: dict, seq: int, own_uid: str, applied: Applied) -> None:
    """A follow-up closed at another desk or in central's back office (data: close_followup's
    payload; the office's names its clerk {"username": "office", "name": ...}). Unknown here, or
    closed here already (the first close here stays; central keeps both): counted, ignored."""
    row = Followup.get_or_none(Followup.uid == data["followup"])
    if row is None or row.status != "open":
        log.info("change %s: follow-up %s is %s here; its close ignored", seq, data["followup"],
                 "unknown" if row is None else "closed")
        applied.followups_ignored += 1
        return
    clerk = data.get("clerk") or {}
    name = clerk.get("name") or clerk.get("username") or ("office" if data.get("via") == "office" else None)
    closed_by = None
    if data.get("device") == own_uid and clerk.get("username"):  # a clerk of this node (a restored backup)
        local = Clerk.get_or_none(Clerk.username == clerk["username"])
        closed_by = local.id if local else None
    closed = Followup.update(status="closed", call_note=data.get("note") or "", closed_at=datetime.fromisoformat(
        data["at"]), closed_by=closed_by, closed_by_name=name).where(
        (Followup.id == row.id) & (Followup.status == "open")).execute()
    applied.followups_closed += closed


_HANDLERS = {
    "device.key": _device_key,
    "device.revoked": _device_revoked,
    "catalog.version": _catalog_version,
    "ticket.registered": _ticket_registered,
    "ticket.event": _ticket_event,
    "feedback.given": _feedback_given,
    "followup.closed": _followup_closed,
}


# ---- one pass ------------------------------------------------------------------------------------


@dataclass
class SyncReport:
    pushed: int = 0
    parked: int = 0
    pulled: int = 0
    applied: Applied = field(default_factory=Applied)
    backlog: Backlog | None = None


async def sync_pass(central: Central, db_call, own_uid: str, net_call=None, max_batches: int = 1000,
                    batch: int = BATCH) -> SyncReport:
    """Push until the outbox is empty, then pull until the feed is. `db_call(fn, *args)` runs
    a database step on the writer thread and `net_call(fn, *args)` a network one elsewhere
    (both awaitables); `batch`: events per push. SyncError on the first failure: what was done
    stays done."""
    import asyncio

    net_call = net_call or asyncio.to_thread
    report = SyncReport()
    for _ in range(max_batches):
        events = await db_call(pending_batch, batch)
        if not events:
            break
        try:
            answer = await net_call(central.push, events)
        except SyncError as e:
            if e.kind != "too_large":
                raise
            # Halve until it passes; one event too large alone is parked, never blocks the queue.
            batch = max(1, len(events) // 2)
            if len(events) > 1:
                continue
            answer = PushAnswer([], {events[0]["uid"]: "too_large: the event alone is over central's size limit"})
        await db_call(record_push, answer)
        report.pushed += len(answer.acked)
        report.parked += len(answer.rejected)
    for _ in range(max_batches):
        changes, next_cursor, more = await net_call(central.changes, await db_call(cursor))
        applied = await db_call(apply_changes, changes, next_cursor, own_uid)
        report.pulled += len(changes)
        for name in ("keys", "revoked", "tickets", "steps", "held", "feedback", "followups_closed",
                     "followups_ignored"):
            setattr(report.applied, name, getattr(report.applied, name) + getattr(applied, name))
        report.applied.catalogs += applied.catalogs
        if not more or not changes:
            break
    report.backlog = await db_call(backlog)
    return report
