"""The sender: claim the due notices (row locks), send each through its channel outside any transaction,
mark the outcome. `kiosk central notices --send` runs `run`; central/notices/__init__.py says why it is
at least once and how the gateway's idempotency key makes an SMS once.

Logs name notices by id, kind, channel and reason words: never a phone, an address or a text."""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from kiosk.domain.clock import utc_now
from kiosk.domain.validation import mask_phone
from kiosk.i18n import date_text, t

from ..storage import Storage
from .channels import Channel, Message, Outcome, retry
from .config import NoticeConfig

Institute = Callable[[str], str]  # the institute's name in a language (central/institute.py keeps its file)
from .outbox import check, key_of, mask_email

log = logging.getLogger(__name__)
BATCH = 20  # notices claimed at once (each sent before the next claim)


@dataclass(frozen=True)
class Claimed:
    id: int
    token: str
    tries: int
    channel: str
    message: Message
    until: datetime  # the lease: not sent after this (another sender may have claimed it again)


@dataclass
class Pass:
    """What one pass did, by outcome."""

    sent: int = 0
    retried: int = 0
    parked: int = 0
    dropped: int = 0
    later: int = 0
    waiting: int = 0  # due, but their channel is not configured
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"sent": self.sent, "retried": self.retried, "parked": self.parked, "dropped": self.dropped,
                "later": self.later, "waiting": self.waiting, "reasons": self.reasons}


# Each kind's (subject, text) keys in kiosk/i18n/messages/notices.py.
TEXTS = {"ready": ("notice.ready.subject", "notice.ready.text"),
         "pickup_ending": ("notice.pickup_ending.subject", "notice.pickup_ending.text"),
         "due_soon": ("notice.due_soon.subject", "notice.due_soon.text"),
         "overdue": ("notice.overdue.subject", "notice.overdue.text")}
CLAIM_COLUMNS = ("id", "event_uid", "kind", "channel", "ticket", "number", "lang", "facts", "state", "tries")


def render(kind: str, lang: str, facts: dict, institute: Institute) -> tuple[str, str, dict[str, str]]:
    """(subject, text, template parameters) of a notice, in the customer's language."""
    values = {"institute": institute(lang), "number": facts.get("number", "")}
    if "deadline" in facts:
        values["deadline"] = date_text(date.fromisoformat(facts["deadline"]), lang)
    if "due_on" in facts:
        values.update(due_on=date_text(date.fromisoformat(facts["due_on"]), lang), count=str(facts.get("count", 1)),
                      instrument=facts.get("instrument_zh" if lang == "zh" else "instrument_en") or "")
    subject_key, text_key = TEXTS[kind]
    text = t(text_key, lang, **values)
    subject = t(subject_key, lang, **values)
    return subject, text, {k: str(v) for k, v in values.items()}


def claim(storage: Storage, config: NoticeConfig, institute: Institute, channels: dict[str, Channel],
          now: datetime, limit: int = BATCH, tally: Pass | None = None) -> list[Claimed]:
    """Take up to `limit` due notices of the configured channels: each checked, then `sending` with a lease.
    One short transaction; on PostgreSQL the rows are locked FOR UPDATE SKIP LOCKED, so a second sender
    takes others."""
    tally = tally or Pass()
    schedule = config.schedule
    names = sorted(channels)
    if not names:
        return []
    lock = " FOR UPDATE SKIP LOCKED" if storage.postgres else ""
    where, params = storage.in_list("channel", names)
    stamp = storage.timestamp
    taken: list[Claimed] = []
    with storage.transaction() as tx:
        rows = [dict(zip(CLAIM_COLUMNS, r)) for r in tx.all(
            f"SELECT {', '.join(CLAIM_COLUMNS)} FROM notice WHERE state IN ('queued', 'sending') AND due_at <= ? "
            f"AND {where} ORDER BY due_at, id LIMIT ?{lock}", [stamp(now), *params, limit])]
        for row in rows:
            if row["state"] == "sending" and row["tries"] >= schedule.max_tries:  # its senders keep dying
                _set(tx, storage, row["id"], now, state="parked", last_error="lease expired", failed_at=stamp(now),
                     claim=None)
                tally.parked += 1
                continue
            verdict = check(tx, storage, row, schedule, now)
            if verdict.action == "drop":
                _set(tx, storage, row["id"], now, state="dropped", last_error=verdict.reason, claim=None)
                tally.dropped += 1
                continue
            if verdict.action == "later":
                if verdict.due_at is None:  # every "later" of outbox.check names its moment
                    raise ValueError(f"notice {row['id']}: put off without a moment to send it")
                _set(tx, storage, row["id"], now, state="queued", facts=json.dumps(verdict.facts, sort_keys=True),
                     due_at=stamp(verdict.due_at), claim=None)
                tally.later += 1
                continue
            token = secrets.token_hex(8)
            tries = row["tries"] + 1
            until = now + timedelta(seconds=schedule.lease_seconds)
            _set(tx, storage, row["id"], now, state="sending", tries=tries, claim=token, due_at=stamp(until))
            subject, text, params_ = render(row["kind"], row["lang"], verdict.facts or {}, institute)
            if row["channel"] == "email":
                text = "\n\n".join((text, t("notice.footer", row["lang"])))
            taken.append(Claimed(row["id"], token, tries, row["channel"], Message(
                key_of(row["event_uid"], row["kind"], row["channel"]), row["kind"], row["lang"], verdict.to,
                subject, text, params_), until))
    return taken


def _set(tx, storage: Storage, notice_id: int, now: datetime, *, only_token: str | None = None, **values) -> bool:
    values["updated_at"] = storage.timestamp(now)
    sets = ", ".join(f"{name} = ?" for name in values)
    guard, extra = (" AND claim = ? AND state = 'sending'", [only_token]) if only_token else ("", [])
    cursor = tx.execute(f"UPDATE notice SET {sets} WHERE id = ?{guard}", [*values.values(), notice_id, *extra])
    return cursor.rowcount == 1


def mark(storage: Storage, config: NoticeConfig, claimed: Claimed, outcome: Outcome, now: datetime,
         tally: Pass | None = None) -> bool:
    """The outcome, if the row is still this sender's claim (False: another sender took it over after
    this one's lease ran out; its own mark counts)."""
    tally = tally or Pass()
    stamp = storage.timestamp
    schedule = config.schedule
    with storage.transaction() as tx:
        if outcome.sent:
            to = mask_phone(claimed.message.to) if claimed.channel == "sms" else mask_email(claimed.message.to)
            done = _set(tx, storage, claimed.id, now, only_token=claimed.token, state="sent", sent_at=stamp(now),
                        sent_to=to, gateway_ref=outcome.ref or None, claim=None,
                        last_error=outcome.reason or None)
            tally.sent += done
        elif outcome.state == "permanent" or claimed.tries >= schedule.max_tries:
            done = _set(tx, storage, claimed.id, now, only_token=claimed.token, state="parked",
                        last_error=outcome.reason, failed_at=stamp(now), claim=None)
            tally.parked += done
        else:
            done = _set(tx, storage, claimed.id, now, only_token=claimed.token, state="queued",
                        last_error=outcome.reason, failed_at=stamp(now), claim=None,
                        due_at=stamp(now + timedelta(seconds=schedule.backoff(claimed.tries))))
            tally.retried += done
    if not outcome.sent:
        tally.reasons[outcome.reason] = tally.reasons.get(outcome.reason, 0) + 1
    log.info("notice %s %s %s: %s%s", claimed.id, claimed.message.kind, claimed.channel, outcome.state,
             f" ({outcome.reason})" if outcome.reason else "")
    return done


def send_due(storage: Storage, config: NoticeConfig, institute: Institute, channels: dict[str, Channel],
             clock: Callable[[], datetime] = utc_now, stop: threading.Event | None = None,
             before_mark: Callable[[Claimed, Outcome], None] | None = None, batch: int = BATCH) -> Pass:
    """One pass: every notice due now, a batch at a time, until none is left (or `stop`). `before_mark`:
    the tests' hook between the channel's answer and the mark (a sender killed there)."""
    tally = Pass()
    # A batch is sent one by one within its lease: as many as fit if every one took its channel's whole timeout.
    slowest = max((getattr(getattr(c, "settings", None), "timeout", 10.0) for c in channels.values()), default=10.0)
    batch = max(1, min(batch, int(config.schedule.lease_seconds / (2 * slowest))))
    while not (stop and stop.is_set()):
        claimed_now = claim(storage, config, institute, channels, clock(), batch, tally)
        if not claimed_now:
            break
        for claimed in claimed_now:
            if clock() >= claimed.until:  # too late: it may be claimed again already; it will be, if not
                continue
            try:
                outcome = channels[claimed.channel].send(claimed.message)
            except Exception as e:  # noqa: BLE001  # a channel's own bug: a failed try, never a dead sender
                outcome = retry(f"{claimed.channel} {type(e).__name__}")
            if before_mark is not None:
                before_mark(claimed, outcome)
            mark(storage, config, claimed, outcome, clock(), tally)
    names = sorted(channels)
    with storage.read() as tx:
        where, params = storage.in_list("channel", names) if names else ("1 = 1", [])
        tally.waiting = tx.one(f"SELECT count(*) FROM notice WHERE state = 'queued' AND due_at <= ? AND NOT ({where})",
                               [storage.timestamp(clock()), *params])[0]
    return tally


def run(storage: Storage, config: NoticeConfig, institute: Institute, channels: dict[str, Channel],
        stop: threading.Event, poll: float = 15.0, clock: Callable[[], datetime] = utc_now) -> None:
    """Send what is due, then look again every `poll` seconds, until `stop`. A database error is logged and
    tried again at the next look (the rows stay as they were: a claim not committed holds nothing)."""
    while not stop.is_set():
        try:
            done = send_due(storage, config, institute, channels, clock, stop)
            if done.sent or done.retried or done.parked or done.dropped:
                log.info("notices: %s", done.as_dict())
        except Exception as e:  # noqa: BLE001  # the database away, a bug: never the end of the sender
            log.warning("notices: pass failed: %s", type(e).__name__)
        stop.wait(poll)


def retry_parked(storage: Storage, notice_id: int, now: datetime | None = None) -> bool:
    """A parked (or dropped) notice queued again with its tries reset (after the cause was fixed)."""
    now = now or utc_now()
    with storage.transaction() as tx:
        return tx.execute("UPDATE notice SET state = 'queued', tries = 0, due_at = ?, updated_at = ? "
                          "WHERE id = ? AND state IN ('parked', 'dropped')",
                          (storage.timestamp(now), storage.timestamp(now), notice_id)).rowcount == 1
