"""Notices to customers (issue 21): their instruments are ready (with the pickup deadline), the pickup
period is running out, an instrument under compulsory verification falls due (an advance, e.g. 30
days) and again when it is overdue. Only for a customer who asked at the kiosk (the registration's
optional `notify`, kiosk/domain/events.py Notify: SMS to the phone they gave, and/or e-mail).

The outbox (table `notice`, schema 15):
- One row per (event, kind, channel), a unique key: the event that causes it is the ticket's earliest
  `ticket.ready` (ready, pickup_ending) or earliest `ticket.picked_up` (due_soon, overdue). It is
  inserted `ON CONFLICT DO NOTHING` in the same transaction that stores the event (central/ingest.py
  calls `queue`), so a push repeated, two desks saying the same step, or a registration arriving after
  the step (a kiosk offline) make it once. `due_at` is when it may go: at once (ready), or a day at
  the configured hour (the others).
- Nothing personal is copied into it: the phone and the e-mail are read from the registration when
  the notice is sent (so retention's erasure stops it: dropped, `no address`); the row keeps the
  address masked once sent, for the office.
- States: queued -> sending (claimed, with a lease) -> sent | queued again after a failure (tries,
  last_error, due_at = now + backoff: 60 s doubled each try up to 6 h) | parked (after max_tries, or
  at once on a permanent error: a number the gateway refuses, a 5xx SMTP answer) | dropped (no longer
  true when its time came: picked up meanwhile, verified again, the step voided, the address erased).
  `kiosk central notices --retry ID` puts a parked one back.

The sender (central/notices/sender.py; `kiosk central notices --send`, a process of its own beside
`serve`, as many as wanted): a claim is one short transaction that takes the due rows with
`FOR UPDATE SKIP LOCKED` on PostgreSQL (BEGIN IMMEDIATE on SQLite), checks each is still true, and
marks them `sending` with a lease (`due_at` = now + lease, a token in `claim`); the channel is called
outside any transaction; the result is marked in another, only if the row still carries this
sender's token. Two senders never hold the same row: the second skips the locked rows, and sees
`sending` with a lease in the future once the first commits.

At least once, and where it can be exactly once: a sender killed (or its database lost) after the
channel accepted and before the mark commits leaves the row `sending`; when its lease runs out another
sender claims it again and sends again. That window is the channel call plus one commit. The SMS
gateway is given the notice's key (`Idempotency-Key` header and/or `{key}` in the body, e.g. Aliyun's
OutId): a gateway that keeps keys answers the repeat as a duplicate without sending it, which the
success rule counts as sent, so the customer gets one SMS. SMTP has no such key: the repeat is a
second mail with the same Message-ID, which many clients show once; that is the one case left.
"""

from __future__ import annotations

STATES = ("queued", "sending", "sent", "parked", "dropped")

STATEMENTS = (
    """CREATE TABLE notice (
        id {pk},
        event_uid TEXT NOT NULL,
        kind TEXT NOT NULL,
        channel TEXT NOT NULL,
        ticket TEXT NOT NULL,
        number TEXT NOT NULL,
        lang TEXT NOT NULL,
        facts TEXT NOT NULL,
        state TEXT NOT NULL,
        due_at {ts} NOT NULL,
        tries INTEGER NOT NULL DEFAULT 0,
        claim TEXT,
        last_error TEXT,
        failed_at {ts},
        sent_at {ts},
        sent_to TEXT,
        gateway_ref TEXT,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL,
        UNIQUE (event_uid, kind, channel))""",
    # The sender's claim: the due rows of the two states it takes, in due order.
    "CREATE INDEX notice_due ON notice (due_at, id) WHERE state IN ('queued', 'sending')",
    "CREATE INDEX notice_ticket ON notice (ticket, id)",
    "CREATE INDEX notice_state ON notice (state, updated_at)",
)
