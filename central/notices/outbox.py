"""The notice outbox: what a ticket's events make due (`queue`, in the push's transaction), what is still
true when its time comes (`check`), and the rows the office reads. central/notices/__init__.py has the design."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kiosk.domain.clock import local, zone
from kiosk.domain.fees import is_free

from ..certificate_checks import ALL_FAILED, PASSED
from ..readmodels.due_item import latest_catalog
from ..readmodels.stored import Stored, read
from ..storage import Storage, Tx, as_datetime
from .config import Schedule

log = logging.getLogger(__name__)

READY, PICKED_UP = 2, 3
MOBILE = re.compile(r"^(\+?86)?1[3-9][0-9]{9}$")  # a mainland mobile number (spaces and hyphens taken out)
COLUMNS = ("event_uid", "kind", "channel", "ticket", "number", "lang", "facts", "state", "due_at", "tries",
           "created_at", "updated_at")
PG_TYPES = ("text",) * 8 + ("timestamptz", "integer", "timestamptz", "timestamptz")  # Storage.bulk_insert


def mobile(phone: str | None) -> str | None:
    """The phone as a gateway takes it, if it is a mobile number; else None (a landline gets no SMS)."""
    digits = re.sub(r"[\s\-()]", "", phone or "")
    digits = digits.translate(str.maketrans("０１２３４５６７８９＋", "0123456789+"))
    return digits if MOBILE.match(digits) else None


def key_of(event_uid: str, kind: str, channel: str) -> str:
    """The notice's idempotency key, as the gateway and the mail's Message-ID get it."""
    return hashlib.sha256(f"{event_uid}|{kind}|{channel}".encode()).hexdigest()[:32]


def at_hour(day: date, hour: int) -> datetime:
    """`hour` o'clock of `day` on the institute's clock."""
    return datetime.combine(day, time(hour), zone())


@dataclass(frozen=True)
class Optin:
    ticket: str
    number: str
    lang: str
    channels: tuple[str, ...]
    phone: str | None
    email: str | None


def optins(tx: Tx, storage: Storage, tickets: list[str]) -> dict[str, Optin]:
    """The tickets whose earliest registration in force asked for notices (a registration voided: none)."""
    if not tickets:
        return {}
    notify = storage.json_field("e.payload", "notify")
    where, params = storage.in_list("e.ticket", tickets)
    found: dict[str, Optin] = {}
    for ticket, number, phone, text in tx.all(
            f"SELECT e.ticket, {storage.json_field('e.payload', 'ticket', 'number')}, "
            f"{storage.json_field('e.payload', 'customer', 'phone')}, {notify} FROM event e "
            f"WHERE {where} AND e.status = 0 AND e.void_id IS NULL ORDER BY e.created_at, e.uid", params):
        if ticket in found or text is None:
            found.setdefault(ticket, None)  # type: ignore[arg-type]  # the earliest counts, even without notify
            continue
        try:
            wish = json.loads(text)
        except ValueError:
            continue
        if not isinstance(wish, dict):
            continue
        lang = "en" if wish.get("language") == "en" else "zh"
        phone_ok = mobile(phone) if wish.get("sms") else None
        email = wish.get("email") if isinstance(wish.get("email"), str) and wish.get("email") else None
        chosen = tuple(c for c, ok in (("sms", phone_ok), ("email", email)) if ok)
        found[ticket] = Optin(ticket, number or "", lang, chosen, phone_ok, email)
    return {t: o for t, o in found.items() if o is not None and o.channels}


def _earliest(events: list[Stored], status: int) -> dict[str, Stored]:
    first: dict[str, Stored] = {}
    for e in sorted(events, key=lambda e: (e.created_at, e.uid)):
        if e.status == status and e.ticket is not None:
            first.setdefault(e.ticket, e)
    return first


def due_facts(tx: Tx, storage: Storage, ticket: str) -> dict | None:
    """The ticket's instruments under compulsory verification that still count (due_item's `latest`: not
    verified again since), the earliest due date: {due_on, count, instrument_zh, instrument_en}; None if none.
    Compulsory: the intake line's use is one of its fee row's compulsory uses (kiosk/domain/fees.py is_free)."""
    # Found 不合格 at the dispatch check: not reminded (central/certificate_checks.py, as the due list).
    rows = tx.all(f"SELECT d.line, d.code, {PASSED}, d.due_on, d.name_zh, d.name_en, s.intake_event FROM due_item d "
                  "JOIN ticket_state s ON s.id = d.ticket WHERE s.uid = ? AND d.latest = 1 "
                  f"AND d.due_on IS NOT NULL AND {ALL_FAILED} ORDER BY d.due_on, d.line", (ticket,))
    if not rows:
        return None
    lines_json = tx.one(f"SELECT {storage.json_field('payload', 'lines')} FROM event WHERE id = ?", (rows[0][6],))
    uses = {}
    try:
        for position, line in enumerate(json.loads(lines_json[0]) if lines_json and lines_json[0] else []):
            uses[position] = str(line.get("use") or "")
    except (ValueError, AttributeError):
        return None
    fees = latest_catalog(tx)[1]
    kept = [(line, code, quantity, due_on, zh, en) for line, code, quantity, due_on, zh, en, _ in rows
            if code in fees and is_free(fees[code], "verification", uses.get(line, ""))]
    if not kept:
        return None
    due_on = kept[0][3]
    same = [r for r in kept if r[3] == due_on]
    return {"due_on": due_on, "count": sum(r[2] for r in same), "instrument_zh": same[0][4] or same[0][1],
            "instrument_en": same[0][5] or same[0][1]}


def queue(tx: Tx, storage: Storage, events: list[Stored], schedule: Schedule, now: datetime) -> int:
    """The notices a push's new events make due, inserted once each (call after the read models were folded:
    the due list's rows are read). The number of rows inserted."""
    stepped = {e.ticket for e in events if e.ticket and e.status in (READY, PICKED_UP)}
    # A registration asking for notices matters only if its ticket is ready already (the kiosk was offline).
    registered = sorted({e.ticket for e in events if e.ticket and e.status == 0 and e.payload.get("notify")} - stepped)
    if registered:
        where, params = storage.in_list("uid", registered)
        stepped |= {uid for (uid,) in tx.all(f"SELECT uid FROM ticket_state WHERE {where} AND status >= {READY}",
                                             params)}
    return queue_tickets(tx, storage, sorted(stepped), schedule, now) if stepped else 0


def queue_tickets(tx: Tx, storage: Storage, tickets: list[str], schedule: Schedule, now: datetime) -> int:
    wanted = optins(tx, storage, tickets)
    if not wanted:
        return 0
    where, params = storage.in_list("e.ticket", sorted(wanted))
    steps = read(tx, storage, f"{where} AND e.status IN ({READY}, {PICKED_UP})", params)
    ready, picked = _earliest(steps, READY), _earliest(steps, PICKED_UP)
    rows = []
    stamp = storage.timestamp

    def add(event_uid: str, kind: str, optin: Optin, facts: dict, due_at: datetime) -> None:
        for channel in optin.channels:
            rows.append((event_uid, kind, channel, optin.ticket, optin.number, optin.lang,
                         json.dumps(facts, sort_keys=True), "queued", stamp(max(due_at, now)), 0, stamp(now),
                         stamp(now)))

    for ticket, optin in sorted(wanted.items()):
        r, p = ready.get(ticket), picked.get(ticket)
        if r is not None and p is None:
            deadline = local(r.created_at).date() + timedelta(days=schedule.pickup_days)
            facts = {"number": optin.number, "deadline": deadline.isoformat()}
            add(r.uid, "ready", optin, facts, now)
            add(r.uid, "pickup_ending", optin, facts,
                at_hour(deadline - timedelta(days=schedule.pickup_warn_days), schedule.send_hour))
        if p is not None:
            due = due_facts(tx, storage, ticket)
            if due is None:
                continue
            due_on = date.fromisoformat(due["due_on"])
            facts = {"number": optin.number, **due}
            if local(now).date() <= due_on:
                add(p.uid, "due_soon", optin, facts,
                    at_hour(due_on - timedelta(days=schedule.due_advance_days), schedule.send_hour))
            add(p.uid, "overdue", optin, facts, at_hour(due_on + timedelta(days=1), schedule.send_hour))
    if not rows:
        return 0
    written = storage.bulk_insert(tx, "notice", COLUMNS, rows, "ON CONFLICT (event_uid, kind, channel) DO NOTHING",
                                  "id", pg_types=PG_TYPES)
    return len(written)


@dataclass(frozen=True)
class Verdict:
    """What `check` found: send it (to `to`), drop it (`reason`), or send it later (`due_at`, new `facts`)."""

    action: str  # "send", "drop", "later"
    reason: str = ""
    to: str = ""
    facts: dict | None = None
    due_at: datetime | None = None


def check(tx: Tx, storage: Storage, row: dict, schedule: Schedule, now: datetime) -> Verdict:
    """Is the notice still true, where does it go, and may it go now? Read in the claim's transaction."""
    verdict = _still_true(tx, storage, row, schedule, now)
    if verdict.action == "send" and row["channel"] in schedule.quiet_channels and schedule.quiet(local(now).hour):
        return Verdict("later", "quiet hours", facts=verdict.facts, due_at=after_quiet_hours(now, schedule))
    return verdict


def after_quiet_hours(now: datetime, schedule: Schedule) -> datetime:
    """The end of the quiet hours `now` is in: this morning's, or tomorrow's when they began this evening."""
    today = local(now)
    day = today.date()
    if schedule.quiet_from > schedule.quiet_until and today.hour >= schedule.quiet_from:
        day += timedelta(days=1)
    return at_hour(day, schedule.quiet_until)


def _still_true(tx: Tx, storage: Storage, row: dict, schedule: Schedule, now: datetime) -> Verdict:
    live = tx.one("SELECT void_id FROM event WHERE uid = ?", (row["event_uid"],))
    if live is None or live[0] is not None:
        return Verdict("drop", "voided")
    optin = optins(tx, storage, [row["ticket"]]).get(row["ticket"])
    if optin is None or row["channel"] not in optin.channels:
        return Verdict("drop", "no address")
    to = optin.phone if row["channel"] == "sms" else optin.email
    facts = json.loads(row["facts"])
    if row["kind"] in ("ready", "pickup_ending"):
        state = tx.one("SELECT picked_up_at FROM ticket_state WHERE uid = ?", (row["ticket"],))
        if state is not None and state[0] is not None:
            return Verdict("drop", "picked up")
        if row["kind"] == "pickup_ending" and date.fromisoformat(facts["deadline"]) < local(now).date():
            return Verdict("drop", "past")
        return Verdict("send", to=to or "", facts=facts)
    due = due_facts(tx, storage, row["ticket"])
    if due is None:
        return Verdict("drop", "no longer due")
    if due["due_on"] != facts.get("due_on"):  # a new catalogue changed the cycle: at the new date
        due_on = date.fromisoformat(due["due_on"])
        day = due_on - timedelta(days=schedule.due_advance_days) if row["kind"] == "due_soon" else due_on + timedelta(1)
        later = at_hour(day, schedule.send_hour)
        if later > now:
            return Verdict("later", "due date moved", facts={**facts, **due}, due_at=later)
        facts = {**facts, **due}
    if row["kind"] == "due_soon" and date.fromisoformat(facts["due_on"]) < local(now).date():
        return Verdict("drop", "past")
    return Verdict("send", to=to or "", facts=facts)


# ---- what the office reads ------------------------------------------------------------------------

SHOWN = ("id", "kind", "channel", "number", "ticket", "lang", "state", "tries", "due_at", "last_error",
         "failed_at", "sent_at", "sent_to", "created_at", "updated_at")


def _rows(tx: Tx, sql: str, params) -> list[dict]:
    found = []
    for values in tx.all(sql, params):
        row = dict(zip(SHOWN, values))
        for name in ("due_at", "failed_at", "sent_at", "created_at", "updated_at"):
            row[name] = as_datetime(row[name])
        row["shown_state"] = "failed" if row["state"] in ("queued", "sending") and row["tries"] else row["state"]
        found.append(row)
    return found


def of_ticket(tx: Tx, ticket: str) -> list[dict]:
    """A ticket's notices, oldest first (the ticket page)."""
    return _rows(tx, f"SELECT {', '.join(SHOWN)} FROM notice WHERE ticket = ? ORDER BY id", (ticket,))


def notice_json(row: dict) -> dict:
    """A notice as the office's JSON gives it (times ISO; the address masked, as stored)."""
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items() if k != "ticket"}


def counts(tx: Tx) -> dict[str, int]:
    """Notices by state as the office names them: queued, failed (queued again after a failure), sending,
    sent, parked, dropped."""
    found = dict.fromkeys(("queued", "failed", "sending", "sent", "parked", "dropped"), 0)
    for state, failed, n in tx.all("SELECT state, CASE WHEN tries > 0 AND state IN ('queued', 'sending') "
                                   "THEN 1 ELSE 0 END, count(*) FROM notice GROUP BY 1, 2"):
        found["failed" if failed else state] += n
    return found


# Each office state as a condition on the stored state and tries: an index range of notice_state.
OFFICE_STATES = {"queued": "state = 'queued' AND tries = 0", "failed": "state IN ('queued', 'sending') AND tries > 0",
                 "sending": "state = 'sending' AND tries = 0", "sent": "state = 'sent'", "parked": "state = 'parked'",
                 "dropped": "state = 'dropped'"}


def capped_counts(tx: Tx, cap: int) -> tuple[dict[str, int], dict[str, bool]]:
    """`counts` as the office page shows them: each state counted up to `cap` (an index range of
    notice_state with a LIMIT, never the whole table), and whether there are more."""
    found, more = {}, {}
    for state in OFFICE_STATES:
        n = 0
        for stored in ("queued", "sending") if state == "failed" else (state,):  # one stored state a range
            tries = {"failed": " AND tries > 0", "queued": " AND tries = 0", "sending": " AND tries = 0"}.get(state, "")
            # In the index's order (notice_state): never a seq scan "until enough" past the other states' rows.
            n += tx.one(f"SELECT count(*) FROM (SELECT 1 FROM notice WHERE state = ?{tries} ORDER BY updated_at "
                        f"LIMIT {int(cap) + 1 - n}) capped", (stored,))[0]
            if n > cap:
                break
        found[state], more[state] = min(n, cap), n > cap
    return found, more


def listing(tx: Tx, state: str | None = None, limit: int = 100) -> list[dict]:
    """The latest notices (of one office state), newest change first: each stored state's latest
    `limit` (an index range of notice_state), merged."""
    if state:
        where = "state = 'sending'" if state == "sending" else OFFICE_STATES[state]  # a failed one too, as before
        return _rows(tx, f"SELECT {', '.join(SHOWN)} FROM notice WHERE {where} "
                         "ORDER BY updated_at DESC, id DESC LIMIT ?", [limit])
    from . import STATES

    found = [row for stored in STATES
             for row in _rows(tx, f"SELECT {', '.join(SHOWN)} FROM notice WHERE state = ? "
                                  "ORDER BY updated_at DESC, id DESC LIMIT ?", [stored, limit])]
    return sorted(found, key=lambda r: (r["updated_at"], r["id"]), reverse=True)[:limit]


def mask_email(address: str) -> str:
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}"


def queue_pushed(tx: Tx, storage: Storage, events: list[Stored], now: datetime) -> int:
    """central/ingest.py's call: `queue` with the schedule as set now."""
    from .config import current

    return queue(tx, storage, events, current().schedule, now)
