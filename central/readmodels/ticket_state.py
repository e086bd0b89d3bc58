"""ticket_state: each ticket's current status and what the office lists of it, one row a ticket
with any status fact in force (central/tickets.py's rule, kept as rows instead of derived on
every request).

Every column is a merge that does not depend on the order facts arrive in, so folding a push's
facts into the stored row gives what folding every fact at once gives:
- status: the furthest fact; status_at: the earliest record of it (tickets.derive);
- each step's time: its earliest record; what a step says (the intake's lines and clerk, the
  pickup's clerk): its earliest record by (created_at, event uid), compared as `*_key` and stored
  as the event's id (`*_event`, schema 25; `load` makes the keys again);
- the number: the earliest registration's, else the earliest fact's (`number_key` ranks a
  registration first); customer and promise: the earliest registration's;
- taken_in_fen: the earliest intake that states a total (central/tickets.py _facts).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from kiosk.domain.clock import local
from kiosk.domain.organisations import search_key
from kiosk.domain.vocabulary import normalise_token
from kiosk.domain.worklist import promised_by, waiting_since

from ..storage import Storage, Tx, as_datetime
from .rows import Table
from .stored import Stored, key

TABLE = Table("ticket_state", (
    ("uid", "text"), ("status", "smallint"), ("status_at", "timestamptz"),
    ("number", "text"), ("number_event", "bigint"),
    ("registration_event", "bigint"), ("registered_at", "timestamptz"), ("organisation", "text"), ("contact", "text"),
    ("phone", "text"), ("total_fen", "bigint"), ("ready_on", "text"), ("urgent_hours", "integer"),
    ("intake_event", "bigint"), ("received_at", "timestamptz"), ("intake_number", "text"), ("instruments", "integer"),
    ("services", "text"), ("received_device_id", "bigint"), ("received_clerk", "text"), ("received_name", "text"),
    ("taken_in_event", "bigint"), ("taken_in_fen", "bigint"),
    ("ready_at", "timestamptz"),
    ("pickup_event", "bigint"), ("picked_up_at", "timestamptz"), ("picked_up_device_id", "bigint"),
    ("picked_up_clerk", "text"), ("picked_up_name", "text"),
    # Schema 8, the office's search (central/search.py): newest first, and what a clerk types.
    ("first_at", "timestamptz"), ("number_fold", "text"), ("org_key", "text"), ("phone_key", "text"),
    ("phone_tail", "text"), ("kiosk_id", "bigint"),
    # Schema 16, the work list's order as index ranges (central/worklist.py): an open ticket's
    # earliest promise while in the lab, and the local day it was marked ready while waiting.
    ("due_at", "timestamptz"), ("ready_day", "text"),
    # Schema 26: the ticket's id, what the read models keyed by ticket hold instead of its uid (8
    # bytes, not 37): given when the row is first written and kept while it stands (`recompute`
    # keeps it); a build gives every row a new one. Not compared by the rebuild test (`snapshot`).
    ("id", "bigint"),
), arbitrary=("id",))

STATEMENTS = (
    """CREATE TABLE ticket_state (
        uid TEXT PRIMARY KEY, status SMALLINT NOT NULL, status_at {ts} NOT NULL,
        number TEXT NOT NULL, number_key TEXT NOT NULL,
        registration_key TEXT, registered_at {ts}, organisation TEXT, contact TEXT, phone TEXT, total_fen BIGINT,
        ready_on TEXT, urgent_hours INTEGER,
        intake_key TEXT, received_at {ts}, intake_number TEXT, instruments INTEGER, services TEXT,
        received_device TEXT, received_clerk TEXT, received_name TEXT,
        taken_in_key TEXT, taken_in_fen BIGINT,
        ready_at {ts},
        pickup_key TEXT, picked_up_at {ts}, picked_up_device TEXT, picked_up_clerk TEXT, picked_up_name TEXT)""",
    # The overview's latest of each status (tickets.latest's order: latest first, then by uid).
    "CREATE INDEX ticket_state_status ON ticket_state (status, status_at DESC, uid)",
    # The work list: open tickets only.
    "CREATE INDEX ticket_state_open ON ticket_state (status, received_at) WHERE status IN (1, 2)",
)

# Schema 8: the search's columns, each derived from the merged ones (so as order-independent as
# they are) but first_at, the earliest fact's time (a min), by which the list is newest first.
# number_fold compares as bytes on PostgreSQL ({text_c}): a prefix is then an index range whatever
# the database's collation (a linguistic one skips the hyphens of K7Q-261124-0007).
SEARCH_STATEMENTS = (
    "ALTER TABLE ticket_state ADD COLUMN first_at {ts}",
    "ALTER TABLE ticket_state ADD COLUMN number_fold {text_c}",
    "ALTER TABLE ticket_state ADD COLUMN org_key TEXT",
    "ALTER TABLE ticket_state ADD COLUMN phone_key TEXT",
    "ALTER TABLE ticket_state ADD COLUMN phone_tail TEXT",
    "ALTER TABLE ticket_state ADD COLUMN kiosk TEXT",  # the device uid that pushed the earliest registration
    "CREATE INDEX ticket_state_listed ON ticket_state (first_at DESC, uid DESC)",
    "CREATE INDEX ticket_state_status_listed ON ticket_state (status, first_at DESC, uid DESC)",
    "CREATE INDEX ticket_state_number ON ticket_state (number_fold)",
    "CREATE INDEX ticket_state_org ON ticket_state (org_key, first_at DESC, uid DESC)",
    # A whole phone too (its tail, then its digits): an index more costs every push (each step rewrites the row).
    "CREATE INDEX ticket_state_phone_tail ON ticket_state (phone_tail, first_at DESC, uid DESC)",
    # By kiosk, and by site as the kiosks of the site (a join to `ticket` per row cost 185-430 ms at 200 k).
    "CREATE INDEX ticket_state_kiosk ON ticket_state (kiosk, first_at DESC, uid DESC)",
)

WORK_STATEMENTS = (
    "ALTER TABLE ticket_state ADD COLUMN due_at {ts}",
    "ALTER TABLE ticket_state ADD COLUMN ready_day TEXT",
    "CREATE INDEX ticket_state_lab ON ticket_state (due_at, number) WHERE status = 1 AND received_at IS NOT NULL",
    "CREATE INDEX ticket_state_ready ON ticket_state (ready_day, number) WHERE status = 2 AND received_at IS NOT NULL",
)
# Schema 20: the same ranges with the uid, so a deep page skips its OFFSET in the index alone (an
# index-only scan; central/worklist.py reads the page's rows by uid after); they replace 16's.
PAGE_STATEMENTS = (
    "DROP INDEX IF EXISTS ticket_state_lab",
    "DROP INDEX IF EXISTS ticket_state_ready",
    ("CREATE INDEX ticket_state_lab_page ON ticket_state (due_at, number, uid) "
     "WHERE status = 1 AND received_at IS NOT NULL"),
    ("CREATE INDEX ticket_state_ready_page ON ticket_state (ready_day, number, uid) "
     "WHERE status = 2 AND received_at IS NOT NULL"),
)
# Schema 21: the list's two indexes over every ticket in ascending order (a page newest first reads
# them backwards, as fast). Descending, each new ticket went in at the index's left end, and a
# page split there leaves both halves half full for good: they were half empty (50 % leaf density,
# 122 and 138 bytes a ticket at 50,000); ascending, new tickets go in at the right end, whose
# splits leave the left page full (68 and 80 bytes). The others ((org_key | phone_tail | kiosk,
# first_at, uid)) are filled in many places at once either way and stay as they are.
LISTED_STATEMENTS = (
    "DROP INDEX IF EXISTS ticket_state_listed",
    "DROP INDEX IF EXISTS ticket_state_status_listed",
    "CREATE INDEX ticket_state_listed ON ticket_state (first_at, uid)",
    "CREATE INDEX ticket_state_status_listed ON ticket_state (status, first_at, uid)",
)

# Schema 25, fewer bytes a ticket: each earliest fact the row keeps is stored as its event's id (8
# bytes) instead of its `*_key`, the text "created_at|event uid" (about 70 bytes, five of them: 40 % of
# a row). The keys stay what merge compares: made again from the events when rows are loaded (`load`),
# never written. number_key is the number's fact's key ranked ("0|": a registration, else "1|").
KEYS = {"number_key": "number_event", "registration_key": "registration_event", "intake_key": "intake_event",
        "taken_in_key": "taken_in_event", "pickup_key": "pickup_event"}
# An event's uid in a stored key (after the first "|" of "created_at|uid"; number_key: after its rank).
_UID_OF = "substr({k}, {strpos}({k}, '|') + 1)"
# One UPDATE (each row rewritten once). The rows stored before keep the dropped keys' bytes on disk until
# they are written again (a push's step, a rebuild) or `VACUUM FULL ticket_state` is run.
KEY_STATEMENTS = (
    *(f"ALTER TABLE ticket_state ADD COLUMN {column} BIGINT" for column in KEYS.values()),
    "UPDATE ticket_state SET " + ", ".join(
        f"{column} = (SELECT e.id FROM event e WHERE e.uid = "
        f"{_UID_OF.format(k=f'substr({key}, 3)' if key == 'number_key' else key, strpos='{strpos}')})"
        for key, column in KEYS.items()),
    *(f"ALTER TABLE ticket_state DROP COLUMN {key}" for key in KEYS),
)

# Schema 26: ticket_state's `id` (above), filled for the rows stored (PostgreSQL: the identity column
# numbers them as it is added; SQLite ({fill_id}: rowid)); the ticket list's indexes by (first_at, id)
# instead of (first_at, uid): ties of first_at now in id order (central/search.py); and the devices
# (the registering kiosk, the intake's and the pickup's desks) as their ids (`*_id`, BIGINT) instead of
# their uids (37 bytes each, the kiosk's in an index too), filled by uid and the uids dropped.
DEVICES = {"kiosk": "kiosk_id", "received_device": "received_device_id", "picked_up_device": "picked_up_device_id"}
ID_STATEMENTS = (
    "ALTER TABLE ticket_state ADD COLUMN id {ticket_id}",
    "UPDATE ticket_state SET id = {fill_id} WHERE id IS NULL",
    "CREATE UNIQUE INDEX ticket_state_id ON ticket_state (id)",
    *(f"DROP INDEX IF EXISTS ticket_state_{name}"
      for name in ("listed", "status_listed", "org", "phone_tail", "kiosk")),
    *(f"ALTER TABLE ticket_state ADD COLUMN {column} BIGINT" for column in DEVICES.values()),
    "UPDATE ticket_state SET " + ", ".join(f"{column} = (SELECT d.id FROM device d WHERE d.uid = {uid})"
                                           for uid, column in DEVICES.items()),
    *(f"ALTER TABLE ticket_state DROP COLUMN {uid}" for uid in DEVICES),
    "CREATE INDEX ticket_state_listed ON ticket_state (first_at, id)",
    "CREATE INDEX ticket_state_status_listed ON ticket_state (status, first_at, id)",
    "CREATE INDEX ticket_state_org ON ticket_state (org_key, first_at, id)",
    "CREATE INDEX ticket_state_phone_tail ON ticket_state (phone_tail, first_at, id)",
    "CREATE INDEX ticket_state_kiosk ON ticket_state (kiosk_id, first_at, id)",
)

_NOT_DIGIT = re.compile(r"[^0-9]")  # ASCII digits only (a full-width digit is folded to one first)
STEP_AT = ("registered_at", "received_at", "ready_at", "picked_up_at")  # by status rank


def _earlier(candidate: str, stored: str | None) -> bool:
    return stored is None or candidate < stored


def instruments(lines) -> tuple[int, list[str]]:
    """The intake's instruments (refused lines not counted) and their services."""
    try:
        taken = [ln for ln in lines or () if isinstance(ln, dict) and not ln.get("refused")]
        return sum(int(ln["quantity"]) for ln in taken), sorted({str(ln.get("service")) for ln in taken})
    except (ValueError, TypeError, KeyError):
        return 0, []


def merge(row: dict | None, event: Stored) -> dict:
    """`row` with one more status fact."""
    row = dict(row) if row else dict.fromkeys((*TABLE.columns, *KEYS)) | {"uid": event.ticket}
    p, status, at, fact_id = event.payload, event.status, event.created_at, event.id
    assert status is not None  # a status fact: fold and recompute are given those only (e.status IS NOT NULL)
    fact = key(at, event.uid)
    ranked = ("0|" if status == 0 else "1|") + fact
    if _earlier(ranked, row["number_key"]):
        row["number"], row["number_key"] = (p["ticket"]["number"] if status == 0 else p["number"]), ranked
        row["number_event"] = fact_id
    clerk = given if isinstance(given := p.get("clerk"), dict) else {}
    if status == 0 and _earlier(fact, row["registration_key"]):
        customer, ticket = p.get("customer") or {}, p.get("ticket") or {}
        row.update(registration_key=fact, registration_event=fact_id, registered_at=at,
                   organisation=customer.get("organisation"), contact=customer.get("contact"),
                   phone=customer.get("phone"), total_fen=ticket.get("total_fen"),
                   ready_on=ticket.get("ready_on"), urgent_hours=ticket.get("urgent_hours"), kiosk_id=event.device_id)
    elif status == 1:
        if _earlier(fact, row["intake_key"]):
            count, services = instruments(p.get("lines"))
            row.update(intake_key=fact, intake_event=fact_id, received_at=at, intake_number=p["number"],
                       instruments=count, services=json.dumps(services), received_device_id=event.device_id,
                       received_clerk=clerk.get("username"), received_name=clerk.get("name"))
        if p.get("total_fen") is not None and _earlier(fact, row["taken_in_key"]):
            row.update(taken_in_key=fact, taken_in_event=fact_id, taken_in_fen=p["total_fen"])
    elif status == 2 and (row["ready_at"] is None or at < row["ready_at"]):
        row["ready_at"] = at
    elif status == 3 and _earlier(fact, row["pickup_key"]):
        row.update(pickup_key=fact, pickup_event=fact_id, picked_up_at=at, picked_up_device_id=event.device_id,
                   picked_up_clerk=clerk.get("username"), picked_up_name=clerk.get("name"))
    row["status"] = max(status, row["status"] if row["status"] is not None else 0)
    row["status_at"] = row[STEP_AT[row["status"]]]
    if row["first_at"] is None or at < row["first_at"]:
        row["first_at"] = at
    row.update(work_order(row))
    searched = (row["number"], row["organisation"], row["phone"])
    if searched != row.get(SEARCHED):  # folded again only when what they fold changed (a step rarely does)
        row.update(search_columns(*searched))
        row[SEARCHED] = searched
    return row


def work_order(row: dict) -> dict:
    """due_at and ready_day: where an open ticket stands in the work list's order (the desk's
    rule, kiosk/domain/worklist.py); None once handed back, or before an intake."""
    due_at = ready_day = None
    if row["received_at"] is not None and row["status"] == 1:
        hours = int(row["urgent_hours"]) if row["urgent_hours"] else None
        urgent_by = local(row["received_at"] + timedelta(hours=hours)) if hours else None
        due_at = promised_by(urgent_by, date.fromisoformat(row["ready_on"]) if row["ready_on"] else None)
    elif row["received_at"] is not None and row["status"] == 2:
        ready_day = waiting_since(row["ready_at"] or row["received_at"]).isoformat()
    return {"due_at": due_at, "ready_day": ready_day}


def fill_work_order(tx: Tx, storage: Storage) -> None:
    """Schema 16's upgrade: the open tickets' work-list columns (the others stay None)."""
    rows = rows_where(tx, "WHERE status IN (1, 2)", ())
    TABLE.write(tx, storage, [row | work_order(row) for row in rows], replace=True)


# Where merge keeps (number, organisation, phone) as last folded into the search columns: not a
# column (Table.write writes only its columns), so a row loaded from the table folds them once.
SEARCHED = "_searched"
# What a ticket's due_item rows are made of (due_item._rows): the number, the earliest intake, the pickup.
DUE_MADE_OF = ("number", "registration_key", "intake_number", "intake_key", "picked_up_at")
# What figures.py makes a ticket's contribution of (its `_basis`): only a taken-in ticket has one.
FIGURES_MADE_OF = ("intake_key", "received_at", "ready_at", "ready_on", "urgent_hours", "registration_key",
                   "taken_in_fen")


def search_columns(number: str, organisation: str | None, phone: str | None) -> dict:
    """What the office's search matches (central/search.py folds what is typed the same way)."""
    digits = phone_digits(phone or "")
    return {"number_fold": fold_number(number), "org_key": search_key(organisation) if organisation else None,
            "phone_key": digits or None, "phone_tail": digits[-4:] if len(digits) >= 4 else None}


def fold_number(text: str) -> str:
    """A ticket number as searched: full-width folded, upper case (k7q-2611 finds K7Q-261124-0007)."""
    return normalise_token(text).upper()


def phone_digits(text: str) -> str:
    """A phone's digits only, full-width folded: 0851-8654 3210 and ０８５１８６５４３２１０ are one number."""
    return _NOT_DIGIT.sub("", normalise_token(text))


@dataclass
class Folded:
    """What a fold changed, for the read models made from ticket_state."""

    moved: dict[int, int] = field(default_factory=dict)  # the change in the number of tickets per status
    served: set[str] = field(default_factory=set)  # earliest intake or pickup changed (who served, for ratings)
    # due_item rows may change (what they are made of changed, and the ticket is or was picked up
    # after an intake: only those have rows), each with whether it may hold rows already.
    due: dict[str, bool] = field(default_factory=dict)
    figured: set[str] = field(default_factory=set)  # a taken-in ticket's figures may change
    # Schema 12 (ticket_facet): every folded ticket's first_at, and those whose stored first_at moved.
    listed: dict[str, datetime] = field(default_factory=dict)
    relisted: set[str] = field(default_factory=set)
    ids: dict[str, int] = field(default_factory=dict)  # schema 26: every folded ticket's id


def fold(tx: Tx, storage: Storage, events: list[Stored]) -> Folded:
    """Merge a push's new status facts into the rows, in its transaction."""
    by_ticket: dict[str, list[Stored]] = {}
    for event in events:
        assert event.ticket is not None  # a status fact (readmodels.fold passes those only) names its ticket
        by_ticket.setdefault(event.ticket, []).append(event)
    folded = Folded()
    pending = set(by_ticket)
    while pending:
        stored = load(tx, storage, pending, lock=True)
        rows = {}
        for ticket in pending:
            row = stored.get(ticket)
            for event in by_ticket[ticket]:
                row = merge(row, event)
            assert row is not None  # merged once at least: by_ticket holds no empty list
            rows[ticket] = row
        # Only rows the batch changed are rewritten (a step a second desk recorded again changes
        # nothing): every rewrite of a row takes a new entry in each of its indexes.
        TABLE.write(tx, storage, [rows[t] for t in stored if any(rows[t][c] != stored[t][c] for c in TABLE.columns)],
                    replace=True)
        fresh = [rows[t] for t in pending if t not in stored]
        give_ids(tx, storage, fresh)
        written = TABLE.write(tx, storage, fresh, replace=False)
        for ticket in stored:
            _move(folded.moved, stored[ticket]["status"], -1)
        for ticket in (*stored, *written):
            row, before = rows[ticket], stored.get(ticket) or {}
            _move(folded.moved, row["status"], 1)
            folded.listed[ticket] = row["first_at"]
            folded.ids[ticket] = row["id"]
            if before and row["first_at"] != before.get("first_at"):
                folded.relisted.add(ticket)
            if any(row[k] != before.get(k) for k in ("intake_key", "pickup_key")):
                folded.served.add(ticket)
            if (_due(row) or _due(before)) and any(row[k] != before.get(k) for k in DUE_MADE_OF):
                folded.due[ticket] = _due(before)
            if (row["intake_key"] or before.get("intake_key")) and any(
                    row[k] != before.get(k) for k in FIGURES_MADE_OF):
                folded.figured.add(ticket)
        # A row another push inserted after this one looked (it committed meanwhile): merge into it.
        pending = {row["uid"] for row in fresh} - written
    return folded


def load(tx: Tx, storage: Storage, tickets, *, lock: bool) -> dict[str, dict]:
    """The stored rows of `tickets` (TABLE.load) with their keys made again from their events."""
    rows = TABLE.load(tx, storage, tickets, lock=lock)
    ids = sorted({row[column] for row in rows.values() for column in KEYS.values() if row[column] is not None})
    facts: dict[int, tuple[str, int | None]] = {}
    for start in range(0, len(ids), 1000):
        where, params = storage.in_list("id", ids[start:start + 1000])
        for event_id, uid, created_at, status in tx.all(
                f"SELECT id, uid, created_at, status FROM event WHERE {where}", params):
            facts[event_id] = (key(as_datetime(created_at), uid), status)
    for row in rows.values():
        for name, column in KEYS.items():
            fact = facts.get(row[column]) if row[column] is not None else None
            row[name] = None if fact is None else (
                ("0|" if fact[1] == 0 else "1|") + fact[0] if name == "number_key" else fact[0])
    return rows


def _due(row: dict) -> bool:
    return row.get("picked_up_at") is not None and row.get("intake_key") is not None


def _move(moved: dict[int, int], status: int, n: int) -> None:
    moved[status] = moved.get(status, 0) + n


def recompute(tx: Tx, storage: Storage, tickets: list[str], events: list[Stored],
              ids: dict[str, int] | None = None) -> dict[int, int]:
    """The rows of `tickets` made again from `events` (all their facts in force): the build, and
    a voiding's correction. The change in the number of tickets per status. `ids` (schema 26), if
    given, is filled with each ticket's id: the stored rows' (those left without a fact in force
    too: the other read models' rows to delete are theirs) and the rows written's."""
    ids = {} if ids is None else ids
    moved: dict[int, int] = {}
    for row in TABLE.load(tx, storage, tickets, lock=True).values():
        _move(moved, row["status"], -1)
        ids[row["uid"]] = row["id"]
    rows: dict[str, dict] = {}
    for event in sorted(events, key=lambda e: e.id):
        assert event.ticket is not None  # the status facts of `tickets`: each names its ticket
        rows[event.ticket] = merge(rows.get(event.ticket), event)
    for row in rows.values():  # a row made again keeps its ticket's id (the other read models hold it)
        row["id"] = ids.get(row["uid"])
    # Before the delete: on SQLite no new ticket takes the id of a row deleted here, whose other rows
    # (ticket_serial's, ...) the caller deletes after.
    give_ids(tx, storage, [row for row in rows.values() if row["id"] is None])
    TABLE.delete(tx, storage, tickets)
    TABLE.write(tx, storage, list(rows.values()), replace=False)
    for row in rows.values():
        _move(moved, row["status"], 1)
        ids[row["uid"]] = row["id"]
    return moved


def give_ids(tx: Tx, storage: Storage, rows: list[dict]) -> None:
    """Schema 26: an id for each of `rows` (new tickets' rows, about to be inserted). PostgreSQL:
    from the identity's sequence (two pushes never take one twice; a row another push inserted
    first wastes its number); SQLite, whose writers take turns: after the greatest stored."""
    if not rows:
        return
    if storage.postgres:
        fresh = [i for (i,) in tx.all("SELECT nextval(pg_get_serial_sequence('ticket_state', 'id')) "
                                      "FROM generate_series(1, ?)", (len(rows),))]
    else:
        top = tx.one("SELECT coalesce(max(id), 0) FROM ticket_state")[0]
        fresh = list(range(top + 1, top + 1 + len(rows)))
    for row, i in zip(sorted(rows, key=lambda r: r["uid"]), fresh, strict=True):
        row["id"] = i


def ids_of(tx: Tx, storage: Storage, tickets) -> dict[str, int]:
    """The ids of those of `tickets` (uids) that have a row."""
    found: dict[str, int] = {}
    tickets = sorted(tickets)
    for start in range(0, len(tickets), 1000):
        where, params = storage.in_list("uid", tickets[start:start + 1000])
        found.update(tx.all(f"SELECT uid, id FROM ticket_state WHERE {where}", params))
    return found


def latest(tx: Tx, status: int, limit: int) -> list[dict]:
    """The tickets now in `status`, the most recently arrived there first."""
    return rows_where(tx, f"WHERE status = ? ORDER BY status_at DESC, uid LIMIT {int(limit)}", (status,))


def open_tickets(tx: Tx) -> list[dict]:
    """Taken in and not handed back: the work list's tickets."""
    return rows_where(tx, "WHERE status IN (1, 2) AND received_at IS NOT NULL", ())

def rows_where(tx: Tx, where: str, params) -> list[dict]:
    found = []
    for values in tx.all(f"SELECT {', '.join(TABLE.columns)} FROM ticket_state {where}", params):
        row = dict(zip(TABLE.columns, values))
        for column in STEP_AT + ("status_at", "first_at", "due_at"):
            row[column] = as_datetime(row[column])
        found.append(row)
    return found
