"""Central's own tables (not the kiosk's db/ models), the same on PostgreSQL and SQLite but for
column types. Created on first use; a database written by a newer central is refused.

- device, enrolment: who may sync; tokens and one-time codes are stored as SHA-256 hashes.
- event: every pushed event once, keyed by its uid; for ticket kinds also the ticket's uid
  and the status fact's rank. This table *is* the append-only status history, and a
  ticket's current status is derived from it when asked (central/tickets.py), never stored.
- catalog_version: fee tables as published (the kiosk's CSV), deduplicated by SHA-256.
- feed, feed_clock: the change feed devices pull (central/feed.py explains the clock).

Versions: `TABLES` is schema 1 exactly as first released (frozen); each later version is a
list of statements in `UPGRADES`. A new database runs TABLES and then every upgrade; an older
one runs the upgrades it lacks when central starts, in the same transaction and under the same
lock as creation, so several workers starting at once upgrade it once.

- 2: an index on event (kind, created_at): the back office reads feedback, follow-ups and
  pickups by kind (central/followups.py, satisfaction.py, due.py). The events of kinds that
  became published in 2 (`feedback.given`, `followup.closed`) and were pushed before it are
  published to the clerk desks then, in the pushing device's name, so a desk learns of every
  follow-up, not only of those pushed after the upgrade. On PostgreSQL the index is built
  inside the start-up transaction (writes to `event` wait meanwhile: 2.1 s for a million events here).
- 3: organisation_name, the customer organisations' names published to every device for the
  kiosks to complete (central/organisations.py); the names of the registrations stored before
  are published then.
- 4: trust per role and device (central/README-API.md, "Who may say what").
  `ticket`: each ticket uid and number owned by the device that first registered it, and its
  site (filled from the registrations stored before, in arrival order: the first of a duplicated
  number or ticket uid keeps it; the later ones are left out, logged and listed in central_meta
  `duplicate_registrations`, central/trust.py claim_stored).
  `device.site` / `enrolment.site` (sites are a central setting, `main` by default) and
  `feed.site` (NULL: every site) scope what a desk pulls. `device.token_expires_at` and
  `previous_token_*`: tokens that expire and rotate while the device syncs, the previous one
  good until the new one is first used. `voiding` / `event.void_id`: a revoked device's events
  voided from a moment on, kept for audit, left out of everything derived (central/voiding.py);
  `event_ticket` is built again with void_id in it (on PostgreSQL, writes to `event` wait meanwhile).
- 5: back-office accounts (central/accounts.py): `office_user` (a role, a scrypt hash, failures and a
  lock-out), `office_session` (hashed session tokens, central/office_sessions.py) and `office_audit`
  (who viewed or exported personal data, who signed in or failed to, central/audit.py).
- 6: read models the back office reads, kept current by every push (central/readmodels/):
  `ticket_state`, `office_count`, `rating`; built from the events stored before, in the upgrade's
  transaction (pushes wait meanwhile: about half a minute per million events; readmodels.build says
  how a large central would backfill instead).
- 7: `due_item`, the due list's read model (central/readmodels/due_item.py): one row per verification
  line of a picked-up ticket, its due date from the latest catalogue's cycle; built in the upgrade's
  transaction from ticket_state and the intakes' lines.
- 8: the office's search (central/search.py): ticket_state's `first_at` (newest first), folded
  number, organisation key and phone digits with their indexes, and `ticket_serial` (the serial
  numbers each ticket names); the read models built again to fill them.
- 9: per-device push quotas held in the device's row (central/push_quota.py): `quota_at` and the
  buckets' levels `quota_pushes`, `quota_push_hour`, `quota_push_day` (NULL: full), so that they
  hold across worker processes and restarts.
- 10: the director's figures (central/readmodels/figures.py): `figure_ticket` (each taken-in ticket's
  contribution) and `figure_day` (their sums per local day, field and service), built from
  ticket_state and the intakes in the upgrade's transaction; an index on rating (day, rating) for
  satisfaction per week or month.
- 11: the back office's alerts (central/alerts.py): on `device`, what the device says it keeps
  parked (`parked_events` central refused, `parked_changes` it could not apply, the newest
  `parked_reasons`' names, `parked_reported_at`; sent with its pulls, kiosk/sync/outbox.py
  ParkedReport) and what central refused of it (`refused_events`, `refused_at`, `refused_reasons`).
  Two partial expression indexes: a ticket's ratings (`feedback.given` by `payload.ticket`) and a
  follow-up's closes (`followup.closed` by `payload.followup`), which the ticket page and the
  office's close read (on PostgreSQL built in the start-up transaction: writes to `event` wait).
- 12: the ticket list's filters by counter, clerk and lab field (central/search.py): `ticket_facet`
  (central/readmodels/ticket_facet.py, written at registration and intake, built from the events
  in the upgrade's transaction), and the due list by site: an index on due_item (site, due_on, …).
- 13: `certificate_check`, the certificates checked at the dispatch counters, returned and why, by
  lab field and week (central/certificate_checks.py): a row per `certificate.checked` event, written
  by each push, built from the events stored before in the upgrade's transaction.
- 14: ratings at the window (一次一评, issue 21): `feedback.given` from clerk desks (their counters' pads),
  with stage, 工号 and window; work orders' call-backs, appeals and decisions as events
  (`followup.called`, `rating.appealed`, `appeal.decided`), derived when asked (central/appeals.py,
  ratings_export.py); an index on the appeal uid of the appeal kinds.
- 15: `notice`, the notices' outbox (central/notices/): one row per (event, kind, channel), queued by the
  push that stores its event, claimed and marked by `kiosk central notices --send`. Empty on the upgrade:
  events stored before it queue nothing (no registration before it asked for notices).
- 16: the follow-ups' list and close read `followup` (central/readmodels/followup.py: each
  follow-up's opening rating and counting close, as event ids), built from the events in the
  upgrade's transaction, instead of every rating's payload per request; ticket_state's due_at
  and ready_day (the work list's order, central/worklist.py), filled for the open tickets; an
  index on rating (given_at, rated), the satisfaction CSV streamed in time order.
- 17: the public site (central/public/): `institute_file`, the institute's file as loaded at central
  (central/institute.py), published to every device; `public_lookup_miss`, the progress look-ups
  that missed, by ticket number, for the lock-out.
- 18: `prepared_kept`, a prepared registration (预约送检) kept for the customer who asked, under the
  SHA-256 of its retrieval token, erased after 30 days (central/prepared.py, central/retention.py).
- 19: rating's `feedback` (its uid) and `set_aside` (an upheld appeal leaves it out of the
  satisfaction figures and CSV; never deleted), kept by every appeal and decision pushed or
  written by the office; the ratings built again in the upgrade's transaction. Call-backs,
  appeals and decisions published to the clerk desks (other desks see them); those stored
  before the upgrade published then.
- 20: `rating_sum`, the satisfaction figures' sums per local day, month and year, by counter, clerk
  and heart (central/readmodels/rating.py), and on each rating what it added (`t_*`), kept by every
  writer of `rating`; built from the ratings stored in the upgrade's transaction. The figures of
  any period read its whole years, months and the days left instead of every rating. The work list's
  two partial indexes again with the ticket's uid (central/worklist.py: a deep page's OFFSET skipped
  in the index alone, its rows then read by uid).
- 21: fewer bytes a ticket (readmodels.STORAGE_STATEMENTS): ticket_state's two list indexes
  ascending (they filled half of each page descending), due_item_serial on the group alone, and on
  PostgreSQL `event_kind` without the four ticket steps (read by ticket, never by kind);
  figure_ticket's basis stored as a digest and its cells without trailing zeros (rows written
  before keep theirs until their ticket is refreshed). On PostgreSQL the indexes are built in the
  start-up transaction (writes wait meanwhile).
- 22: no statement. An upgrade that derives read models from the stored events (from 18 or older,
  but for 20's sums alone) no longer builds them in its transaction: it empties them and records a
  backfill in central_meta (`backfill`), run after it by chunks, each its own transaction, resumed
  after a kill (central/backfill.py: `kiosk central backfill`, or `serve` in the background; the
  office answers 503 "being built" until it ends). A central older than 22 would not finish it.
- 24: the window ratings' sums (central/readmodels/rating.py): rating_sum's window kinds (by stage,
  counter and clerk per day, month and year, and by stage per week), kept with the figures' by
  every writer of `rating` through the same tally (`t_stage` … `t_window`), the clerk read from the
  rating alone (`seen_picked_up_at`, copied from ticket_state as the other `seen_*`, for a pad's
  rating that named no step). A rating any appeal of which was upheld is set aside in the window
  report too (`set_aside`, the figures' and the desks' rule); `last_upheld` is unused since 24 (kept,
  always 0). Built in the upgrade's transaction from the rating rows and the appeal events (no
  rating's event read; every window rating's row rewritten: 47 s for 124 k of them on a loaded bench)
  as released; since 27's time, by chunks after start-up (central/backfill.py `window`, the office
  saying "being built"); `set_aside` not marked again (23 kept it by the same rule).
- 25: fewer bytes a ticket (central/readmodels/ticket_state.py KEYS): ticket_state keeps each earliest
  fact it read (the number's, the registration, the intake, the intake's total, the pickup) as its
  event's id (`*_event`, BIGINT) instead of its text key "created_at|event uid" (five of about 70
  bytes: 40 % of a row); the keys are made again from the events when rows are loaded. The upgrade
  fills the ids from the keys (by event uid) and drops the keys, in the start-up transaction.
  figure_ticket's basis digests the ids: a row stored before is made again, the same cells, when
  its ticket is next refreshed. `event_ticket` on the ticket alone (was with status and void_id,
  schema 4): each ticket's events one deduplicated entry on PostgreSQL, a third of the bytes; built
  in the start-up transaction (writes to `event` wait meanwhile: seconds a million events).
- 26: fewer bytes a ticket (central/readmodels/ticket_state.py ID_STATEMENTS): ticket_state's `id`
  (BIGINT; given when a ticket's row is first written, kept while it stands), held by ticket_serial,
  ticket_facet, due_item (keyed by (ticket, line), no `item`) and figure_ticket instead of the 37-byte
  ticket uid (their keys and by-ticket indexes); the ticket list's indexes by (first_at, id) instead
  of (first_at, uid): tickets listed at the same microsecond are in id order (central/search.py).
  The devices in ticket_state (the registering kiosk, the intake's and the pickup's desks:
  `kiosk_id`, `received_device_id`, `picked_up_device_id`) and ticket_facet's counters as device ids
  instead of uids. The upgrade numbers the rows stored, copies the four tables by uid and fills the
  device ids by uid, in the start-up transaction (writes wait meanwhile; every ticket_state row is
  rewritten: its dropped uids' bytes stay on disk until `VACUUM FULL`, as 25's keys).
- 27: `certificate_check_sum`, the certificate checks in force counted by week, field, site, outcome,
  points wrong and re-check (central/certificate_checks.py), kept by every push and voiding in its
  transaction: the figures read sums instead of every check of their period. Built from the
  certificate_check rows in the upgrade's transaction (one GROUP BY: about a second a million checks).
- 28: `appeal`, one row per appeal (申诉) in force: the rating it concerns, its filing event's time and
  id, its first decision's outcome, time and id (NULL while it waits), as central/readmodels/appealed.py
  folds the events (central/readmodels/appeal.py), made again by every push, office decision and
  voiding touching the appeal, in its transaction: the office lists the appeals by state (waiting,
  decided, upheld, rejected, all) in index ranges (central/appeals.py). Built in the upgrade's
  transaction from the appeal events (one set-based statement: 3.4 s for 160,000 appeals),
  or by the backfill's `ratings` phase when one is due.
"""

from __future__ import annotations

from . import (
    appeals,
    backfill,
    certificate_checks,
    feed,
    institute,
    notices,
    organisations,
    prepared,
    push_quota,
    readmodels,
    trust,
)
from .settings import DEFAULT_SITE
from .storage import Storage, StorageError

SCHEMA_VERSION = 28

TYPES = {
    "postgresql": {"pk": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "ts": "TIMESTAMPTZ", "json": "JSONB",
                   "text_c": 'TEXT COLLATE "C"',  # compared as bytes: prefixes are index ranges
                   # Storage.json_field's expressions, which a query must repeat for the index to serve it.
                   "payload_ticket": "(payload #>> '{ticket}')", "payload_followup": "(payload #>> '{followup}')",
                   "payload_appeal": "(payload #>> '{appeal}')",
                   # Schema 26: ticket_state's id, numbered as the column is added; SQLite's from rowid.
                   "ticket_id": "BIGINT GENERATED BY DEFAULT AS IDENTITY", "fill_id": "id",
                   # event_kind's rows (schema 21, readmodels.STORAGE_STATEMENTS): no ticket step.
                   "steps_left_out": " WHERE kind NOT IN ('ticket.registered', 'ticket.received', 'ticket.ready', "
                                     "'ticket.picked_up')", "strpos": "strpos"},
    # AUTOINCREMENT: SQLite would otherwise reuse the id of a deleted last row.
    "sqlite": {"pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "ts": "TEXT", "json": "TEXT", "text_c": "TEXT",
               "payload_ticket": "json_extract(payload, '$.ticket')",
               "payload_followup": "json_extract(payload, '$.followup')",
               "payload_appeal": "json_extract(payload, '$.appeal')", "steps_left_out": "", "strpos": "instr",
               "ticket_id": "INTEGER", "fill_id": "rowid"},
}

TABLES = (
    "CREATE TABLE central_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE device (
        id {pk},
        uid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('kiosk', 'clerk')),
        prefix TEXT NOT NULL UNIQUE,
        public_key TEXT NOT NULL,
        token_hash TEXT UNIQUE,
        enrolled_at {ts} NOT NULL,
        revoked_at {ts},
        last_seen_at {ts},
        last_push_at {ts},
        last_pull_at {ts})""",
    """CREATE TABLE enrolment (
        id {pk},
        code_hash TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('kiosk', 'clerk')),
        name TEXT NOT NULL,
        created_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        used_at {ts},
        device_id BIGINT REFERENCES device (id))""",
    # No foreign key on device_id: events are inserted only under an authenticated device's id,
    # and a per-row key check would cost the push path a lookup per event.
    """CREATE TABLE event (
        id {pk},
        uid TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        device_id BIGINT NOT NULL,
        ticket TEXT,
        status SMALLINT,
        created_at {ts} NOT NULL,
        received_at {ts} NOT NULL,
        payload {json} NOT NULL)""",
    "CREATE INDEX event_ticket ON event (ticket, status) WHERE ticket IS NOT NULL",
    """CREATE TABLE catalog_version (
        id {pk},
        sha256 TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        csv TEXT NOT NULL,
        row_count INTEGER NOT NULL,
        imported_at {ts} NOT NULL)""",
    "CREATE TABLE feed_clock (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL)",
    "INSERT INTO feed_clock (id, seq) VALUES (1, 0)",
    # One row per published change, or per pushed batch (event_ids: a JSON list of event ids).
    # audience 0: every device; 1: clerk desks only. origin: the device whose push made it.
    """CREATE TABLE feed (
        seq BIGINT PRIMARY KEY,
        kind TEXT NOT NULL,
        audience SMALLINT NOT NULL,
        origin BIGINT,
        event_ids TEXT,
        catalog_id BIGINT,
        data {json},
        created_at {ts} NOT NULL)""",
    "CREATE INDEX feed_audience ON feed (audience, seq)",
)

# Statements per version after 1, in order. Released versions are never edited.
UPGRADES: dict[int, tuple[str, ...]] = {
    2: ("CREATE INDEX event_kind ON event (kind, created_at)",
        # A row only for one device (central/feed.py publish_to_owners): a kiosk's tickets' steps.
        "ALTER TABLE feed ADD COLUMN target BIGINT"),
    3: (organisations.TABLE,),
    4: ("""CREATE TABLE ticket (
            uid TEXT PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            device_id BIGINT NOT NULL,
            site TEXT NOT NULL,
            event_id BIGINT NOT NULL,
            registered_at {ts} NOT NULL)""",
        "ALTER TABLE device ADD COLUMN site TEXT NOT NULL DEFAULT 'main'",
        "ALTER TABLE device ADD COLUMN token_expires_at {ts}",
        "ALTER TABLE device ADD COLUMN previous_token_hash TEXT",
        "ALTER TABLE device ADD COLUMN previous_token_expires_at {ts}",
        "ALTER TABLE enrolment ADD COLUMN site TEXT NOT NULL DEFAULT 'main'",
        "ALTER TABLE feed ADD COLUMN site TEXT",
        # Every device was of the one site then: devices' pushes stored before stay that site's,
        # so a site added later is never sent the older registrations and their phones.
        f"UPDATE feed SET site = '{DEFAULT_SITE}' WHERE kind = 'events'",
        # A desk's pull: the rows of no site ('') and of its site, each an index range scan in seq
        # order (central/feed.py read); `site IS NULL` would not give PostgreSQL the order.
        "CREATE INDEX feed_site ON feed ((COALESCE(site, '')), seq)",
        """CREATE TABLE voiding (
            id {pk},
            device_id BIGINT NOT NULL,
            since {ts} NOT NULL,
            reason TEXT NOT NULL,
            events INTEGER NOT NULL,
            created_at {ts} NOT NULL)""",
        "ALTER TABLE event ADD COLUMN void_id BIGINT",
        # Every status derived leaves void events out (central/voiding.py): with void_id in the
        # index, counting tickets by status stays an index-only scan (measured: without it the
        # filter made it 3-4 times slower, a scan of the table).
        "DROP INDEX event_ticket",
        "CREATE INDEX event_ticket ON event (ticket, status, void_id) WHERE ticket IS NOT NULL",
        # A voiding's events (`kiosk central voidings`); partial: few events are ever void.
        "CREATE INDEX event_void ON event (void_id) WHERE void_id IS NOT NULL"),
    5: ("""CREATE TABLE office_user (
            id {pk},
            name TEXT NOT NULL UNIQUE,
            full_name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('director', 'clerk', 'auditor')),
            password_hash TEXT NOT NULL,
            created_at {ts} NOT NULL,
            password_set_at {ts} NOT NULL,
            disabled_at {ts},
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until {ts})""",
        """CREATE TABLE office_session (
            id {pk},
            token_hash TEXT NOT NULL UNIQUE,
            user_id BIGINT NOT NULL REFERENCES office_user (id),
            created_at {ts} NOT NULL,
            seen_at {ts} NOT NULL)""",
        "CREATE INDEX office_session_user ON office_session (user_id)",
        # who: the user's name as it was (a user renamed or removed later stays who they were).
        """CREATE TABLE office_audit (
            id {pk},
            at {ts} NOT NULL,
            user_id BIGINT,
            who TEXT NOT NULL,
            role TEXT,
            action TEXT NOT NULL,
            route TEXT NOT NULL,
            query TEXT NOT NULL DEFAULT '',
            row_count INTEGER,
            address TEXT)""",
        # Failed sign-ins from one address in the last minutes (central/accounts.py): a range scan.
        "CREATE INDEX office_audit_failed ON office_audit (address, at) WHERE action = 'sign_in_failed'"),
    6: readmodels.STATEMENTS,
    7: readmodels.DUE_STATEMENTS,
    8: readmodels.SEARCH_STATEMENTS,
    9: push_quota.UPGRADE,
    10: readmodels.FIGURE_STATEMENTS,
    11: ("ALTER TABLE device ADD COLUMN parked_events INTEGER",
         "ALTER TABLE device ADD COLUMN parked_changes INTEGER",
         "ALTER TABLE device ADD COLUMN parked_reasons TEXT",
         "ALTER TABLE device ADD COLUMN parked_reported_at {ts}",
         "ALTER TABLE device ADD COLUMN refused_events INTEGER NOT NULL DEFAULT 0",
         "ALTER TABLE device ADD COLUMN refused_at {ts}",
         "ALTER TABLE device ADD COLUMN refused_reasons TEXT",
         "CREATE INDEX event_rating_ticket ON event ({payload_ticket}) WHERE kind = 'feedback.given'",
         "CREATE INDEX event_close_followup ON event ({payload_followup}) WHERE kind = 'followup.closed'"),
    12: (*readmodels.FACET_STATEMENTS, *readmodels.DUE_SITE_STATEMENTS),
    13: certificate_checks.STATEMENTS,
    14: appeals.STATEMENTS,
    15: notices.STATEMENTS,
    16: (*readmodels.FOLLOWUP_STATEMENTS, *readmodels.WORK_STATEMENTS, *readmodels.RATING_EXPORT_STATEMENTS),
    17: (institute.TABLE,
         # The public site's progress look-ups that missed (central/public/progress.py): a ticket
         # number locked after repeated misses. The number only (no phone, no address); rows
         # older than the lock-out are deleted as new misses come.
         """CREATE TABLE public_lookup_miss (
             id {pk},
             number_key TEXT NOT NULL,
             missed_at {ts} NOT NULL)""",
         "CREATE INDEX public_lookup_miss_number ON public_lookup_miss (number_key, missed_at)"),
    18: prepared.STATEMENTS,
    19: readmodels.SET_ASIDE_STATEMENTS,  # appeals / work orders at central (helper H5)
    20: readmodels.SUM_STATEMENTS,  # satisfaction sums (helper H8)
    21: readmodels.STORAGE_STATEMENTS,  # storage per ticket (helper S1)
    22: (),  # the read models an upgrade derives, built by chunks after it (central/backfill.py)
    23: readmodels.WINDOW_STATEMENTS,  # the window ratings grouped in SQL (helper: ratings read model)
    24: readmodels.WINDOW_SUM_STATEMENTS,  # the window ratings' sums (helper: window sums)
    25: (*readmodels.KEY_STATEMENTS,  # ticket_state's facts by event id (helper: store-compact)
         # A ticket's events by the ticket alone: every reader asks for one ticket's few events (or the
         # distinct tickets, in order) and reads status and void_id from the rows; one entry per ticket
         # (B-tree deduplication: 259 -> 85 bytes a ticket at 300,000 on PostgreSQL).
         "DROP INDEX IF EXISTS event_ticket",
         "CREATE INDEX event_ticket ON event (ticket) WHERE ticket IS NOT NULL"),
    26: readmodels.ID_STATEMENTS,  # read models by ticket id (helper: ticket-ids)
    27: certificate_checks.SUM_STATEMENTS,  # the certificate checks' sums (helper: checks-backfill)
    28: readmodels.APPEAL_STATEMENTS,  # the appeals by state (helper: appeal-model)
}
# Kinds first published in a version: their events stored before it are published then.
NEWLY_PUBLISHED: dict[int, tuple[str, ...]] = {
    2: ("feedback.given", "followup.closed"),
    19: ("followup.called", "rating.appealed", "appeal.decided"),
}
# What else an upgrade publishes or derives of what the database held before it.
FROM_STORED = {3: organisations.publish_stored, 4: trust.claim_stored, 6: readmodels.build, 7: readmodels.build,
               8: readmodels.build, 11: readmodels.figures.build, 12: readmodels.ticket_facet.build,
               13: certificate_checks.build,
               16: readmodels.build_16, 19: readmodels.build_19, 20: readmodels.build_20,
               23: readmodels.build_23, 24: backfill.schedule_window, 27: certificate_checks.build_sums,
               28: readmodels.appeal.build}
# Schema 24 as released built its sums inside the upgrade (readmodels.build_24: every rating's row and
# every sum rewritten, 47 s at 100 k tickets, minutes at 10 M with every push waiting on the schema lock);
# it now schedules them as the backfill's `window` phase, by chunks after start-up, the same rows in the
# end (tests/central/test_window_ratings_read_model.py). After 23's rating.build (which makes every
# sum by this code) it has nothing left to do.
AFTER = {backfill.schedule_window: readmodels.build_23}
# Schema 22: derivations that read every ticket's or rating's events. An upgrade due any of them
# runs none of the read models' derivations (SUBSUMED) but schedules a chunked backfill of them all
# (central/backfill.py); schema 20's sums alone (from the rating rows, seconds) and schema 23's ratings
# (their events only, read by kind: event_kind) stay in its transaction. Schema 28's appeals: the backfill's
# `ratings` phase folds every appeal event.
BACKFILLED = (readmodels.build, readmodels.figures.build, readmodels.ticket_facet.build, readmodels.build_16,
              readmodels.build_19)
SUBSUMED = (*BACKFILLED, readmodels.build_20, readmodels.build_23, backfill.schedule_window, readmodels.appeal.build)


def _exists(tx, storage: Storage) -> bool:
    if storage.postgres:
        return tx.one("SELECT to_regclass('central_meta') IS NOT NULL")[0]
    return tx.one("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'central_meta'")[0] > 0


def ensure_schema(storage: Storage) -> int:
    """Create the tables on first use, upgrade an older schema, refuse a newer one. Safe with
    several workers starting at once: PostgreSQL serialises them on an advisory lock, SQLite
    on BEGIN IMMEDIATE. The version the database has now."""
    with storage.transaction() as tx:
        if storage.postgres:
            tx.execute("SELECT pg_advisory_xact_lock(7400400)")  # central's schema lock
        if _exists(tx, storage):
            version = int(tx.one("SELECT value FROM central_meta WHERE key = 'schema_version'")[0])
            if version > SCHEMA_VERSION:
                raise StorageError(f"the database has central schema {version}; this central knows "
                                   f"{SCHEMA_VERSION}: upgrade central, do not downgrade the database")
            if version == SCHEMA_VERSION:
                return version
            _upgrade(tx, storage, version)
            tx.execute("UPDATE central_meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
            return SCHEMA_VERSION
        for statement in TABLES:
            tx.execute(statement.format(**TYPES[storage.dialect]))
        _upgrade(tx, storage, 1, fresh=True)
        tx.execute("INSERT INTO central_meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    return SCHEMA_VERSION


def _upgrade(tx, storage: Storage, version: int, *, fresh: bool = False) -> None:
    """From `version` to SCHEMA_VERSION, inside the caller's transaction. Every version's
    statements first, then what each derives from the stored data, each derivation once: a read
    model's build writes the rows of the code running it, whose columns may come from a later
    version (readmodels.build at 6 writes ticket_state's schema-8 columns)."""
    targets = range(version + 1, SCHEMA_VERSION + 1)
    for target in targets:
        for statement in UPGRADES[target]:
            tx.execute(statement.format(**TYPES[storage.dialect]))
    if fresh:
        return
    done = []
    backfilled = any(FROM_STORED.get(target) in BACKFILLED for target in targets)
    for target in targets:
        kinds = NEWLY_PUBLISHED.get(target, ())
        if kinds:
            _publish_stored(tx, storage, kinds)
        derive = FROM_STORED.get(target)
        if derive is not None and derive not in done and not (backfilled and derive in SUBSUMED) \
                and AFTER.get(derive) not in done:
            derive(tx, storage)
            done.append(derive)
    if backfilled:  # last: its steps read what the others derived (`ticket`'s sites)
        backfill.schedule(tx, storage)


def _publish_stored(tx, storage: Storage, kinds: tuple[str, ...]) -> None:
    """Publish the stored events of `kinds`, oldest first, each in its pusher's name."""
    where, params = storage.in_list("kind", kinds)
    rows = tx.all(f"SELECT id, kind, device_id FROM event WHERE {where} ORDER BY id", params)
    by_device: dict[int, list[tuple[int, str]]] = {}
    for event_id, kind, device_id in rows:
        by_device.setdefault(device_id, []).append((event_id, kind))
    for device_id, events in sorted(by_device.items()):
        # Site `main`: every device was of the one site before schema 4 (see its feed UPDATE).
        feed.publish_events(tx, device_id or None, events, {kind: kind for kind in kinds}, site=DEFAULT_SITE)


def open_storage(url: str, pool_size: int = 8, create: bool = True) -> Storage:
    """A ready Storage: the schema is created or checked."""
    storage = Storage(url, pool_size)
    if create:
        try:
            ensure_schema(storage)
        except BaseException:
            storage.close()
            raise
    return storage
