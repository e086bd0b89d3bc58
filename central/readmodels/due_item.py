"""due_item: the due list's rows (周检到期, central/due.py), one per verification line of a
picked-up ticket, so the list is an index range instead of a pass over every intake.

The rule is the desk's (kiosk/domain/due.py due_list) as central applies it:
- a ticket's lines are its earliest intake's (ticket_state.intake_event), its pickup day the local
  day of its earliest pickup, its number the earliest registration's, else the intake's;
- lines kept: verification, not refused (whatever the catalogue says: an import may give their
  code a cycle later); `cycle_months`, names and `due_on` come from the LATEST catalogue, NULL
  when it has no cycle for the code, and are set again by every import (`reprice`);
- `latest`: 1 for the row that counts: for the same code and serial number (upper case) the
  latest (pickup, ticket, line) wins; a line without a serial number always counts.

A ticket's rows are a function of its ticket_state row (order-independent already) and its
intake's lines, so a push, a voiding and a build make them the same way (`refresh`); `latest`
is a function of the rows of one (code, serial) group, set again for every group a refresh
touched (`_flag`; a build: `FLAG_ALL`). Customer fields are not copied: the pages join
ticket_state, so retention's erasure reaches them.

Locks (PostgreSQL): the table in ROW EXCLUSIVE mode first (a catalogue import holds it
EXCLUSIVE while it reprices: the push then reads the new cycles), then the advisory lock of
each touched group's bucket (BUCKETS of them, in order), before any row of the group is
written: every writer of a group's rows holds its bucket, so two pushes never flag a group from
two partial views. Buckets, not a lock per group: a transaction may hold only so many locks
(max_locks_per_transaction), and a voiding may touch thousands of instruments.

`picked_up_on` is the pickup's local date on the institute's clock when stored: a change of
zone needs `kiosk central rebuild-read-models` (as rating.day).

Schema 26: a row is keyed by (ticket, line), `ticket` its ticket's id (ticket_state.id) instead of
the text `item` "uid|line" and the uid (the key leads with the ticket: no index by ticket more).
The latest of a group is still ranked by the ticket's uid (joined), so a build and the pushes agree.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date

from kiosk.domain.catalog import FeeRow, parse_csv
from kiosk.domain.clock import local
from kiosk.domain.workdays import add_months

from ..storage import Storage, Tx, as_datetime
from .rows import Table

CHUNK = 1000  # tickets a statement
GROUPS = 300  # (code, serial) groups a statement
LOCK_CLASS = 7400407  # advisory locks of due groups' buckets (central/schema.py's lock is 7400400)
BUCKETS = 64
TABLE = Table("due_item", (
    ("ticket", "bigint"), ("line", "integer"), ("number", "text"), ("site", "text"),
    ("code", "text"), ("serial_number", "text"), ("serial_key", "text"), ("quantity", "integer"),
    ("picked_up_at", "timestamptz"), ("picked_up_on", "text"),
    ("name_zh", "text"), ("name_en", "text"), ("cycle_months", "integer"), ("due_on", "text"),
    ("latest", "smallint"),
), conflict=("ticket", "line"))
CATALOGUED = ("name_zh", "name_en", "cycle_months", "due_on")

STATEMENTS = (
    """CREATE TABLE due_item (
        item TEXT PRIMARY KEY, ticket TEXT NOT NULL, line INTEGER NOT NULL, number {text_c} NOT NULL, site TEXT,
        code TEXT NOT NULL, serial_number TEXT NOT NULL, serial_key TEXT NOT NULL, quantity INTEGER NOT NULL,
        picked_up_at {ts} NOT NULL, picked_up_on TEXT NOT NULL,
        name_zh TEXT, name_en TEXT, cycle_months INTEGER, due_on {text_c}, latest SMALLINT NOT NULL)""",
    # The list's pages: keyset on (due_on, number, line) over the rows that count (byte order, as
    # Python sorts: the pages and the old derivation agree whatever the database's collation).
    "CREATE INDEX due_item_due ON due_item (due_on, number, line) WHERE latest = 1 AND due_on IS NOT NULL",
    # Which row of an instrument counts: the latest (pickup, ticket, line) of its group.
    "CREATE INDEX due_item_serial ON due_item (code, serial_key, picked_up_at, ticket, line) WHERE serial_key <> ''",
    "CREATE INDEX due_item_ticket ON due_item (ticket)",
)
# Schema 12: one site's list (central/due.py `site`), the same keyset. Rows are written at pickup
# (and by voiding, erasure, catalogue imports), not by every step: an index more costs a pickup only.
SITE_STATEMENTS = (
    "CREATE INDEX due_item_site ON due_item (site, due_on, number, line) WHERE latest = 1 AND due_on IS NOT NULL",
)
# Schema 21: which rows of an instrument's group count is read by (code, serial_key) alone; the rows
# are few and `_flag` sorts them (it did with the wider index too, which its columns could not spare
# it: the order is mixed). A third of the size (161 to 60 bytes a ticket at 50,000), one entry for
# the repeated serial numbers of one instrument (deduplicated).
SERIAL_STATEMENTS = (
    "DROP INDEX IF EXISTS due_item_serial",
    "CREATE INDEX due_item_serial ON due_item (code, serial_key) WHERE serial_key <> ''",
)
# Schema 26: by (ticket id, line), as ticket_serial.ID_STATEMENTS (a new table filled by uid, in place;
# every row's ticket has its ticket_state row: a ticket without one has no row here).
_COPIED = ("line", "number", "site", "code", "serial_number", "serial_key", "quantity", "picked_up_at",
           "picked_up_on", "name_zh", "name_en", "cycle_months", "due_on", "latest")
ID_STATEMENTS = (
    """CREATE TABLE due_item_26 (
        ticket BIGINT NOT NULL, line INTEGER NOT NULL, number {text_c} NOT NULL, site TEXT,
        code TEXT NOT NULL, serial_number TEXT NOT NULL, serial_key TEXT NOT NULL, quantity INTEGER NOT NULL,
        picked_up_at {ts} NOT NULL, picked_up_on TEXT NOT NULL,
        name_zh TEXT, name_en TEXT, cycle_months INTEGER, due_on {text_c}, latest SMALLINT NOT NULL)""",
    (f"INSERT INTO due_item_26 (ticket, {', '.join(_COPIED)}) SELECT s.id, {', '.join('d.' + c for c in _COPIED)} "
     "FROM due_item d JOIN ticket_state s ON s.uid = d.ticket"),
    "DROP TABLE due_item",
    "ALTER TABLE due_item_26 RENAME TO due_item",
    "CREATE UNIQUE INDEX due_item_pkey ON due_item (ticket, line)",
    "CREATE INDEX due_item_due ON due_item (due_on, number, line) WHERE latest = 1 AND due_on IS NOT NULL",
    "CREATE INDEX due_item_serial ON due_item (code, serial_key) WHERE serial_key <> ''",
    "CREATE INDEX due_item_site ON due_item (site, due_on, number, line) WHERE latest = 1 AND due_on IS NOT NULL",
)

# Parsed once per table (by its SHA-256: one process may serve several databases, whose version
# numbers say nothing of their content); a push reads it with every pickup.
_catalogs: dict[str, dict[str, FeeRow]] = {}


def latest_catalog(tx: Tx) -> tuple[int | None, dict[str, FeeRow]]:
    """The latest catalogue version imported here and its fee rows by code."""
    row = tx.one("SELECT id, sha256 FROM catalog_version ORDER BY id DESC LIMIT 1")
    if row is None:
        return None, {}
    version, digest = row
    if digest not in _catalogs:
        text = tx.one("SELECT csv FROM catalog_version WHERE id = ?", (version,))[0]
        # A version stored before rows named their compulsory uses says 是 (catalog.py before_uses).
        _catalogs[digest] = {r.code: r for r in parse_csv(text, f"catalog v{version}", before_uses=True)}
    return version, _catalogs[digest]


def _priced(code: str, picked_up_on: str, fees: dict[str, FeeRow]) -> dict:
    fee = fees.get(code)
    if fee is None or not fee.cycle_months:
        return dict.fromkeys(CATALOGUED)
    due = add_months(date.fromisoformat(picked_up_on), fee.cycle_months).isoformat()
    return {"name_zh": fee.name_zh, "name_en": fee.name_en, "cycle_months": fee.cycle_months, "due_on": due}


def lines_of(lines_json: str | None) -> Iterable[tuple[int, str, int, str]]:
    """(position, code, quantity, serial number) of an intake's verification lines not refused,
    parsed as central/due.py always did (a line it cannot read is left out)."""
    try:
        lines = json.loads(lines_json) if lines_json else []
    except ValueError:
        lines = []
    for position, line in enumerate(lines if isinstance(lines, list) else ()):
        try:
            code, quantity = str(line["code"]), int(line["quantity"])
            service, serial = str(line["service"]), str(line.get("serial_number") or "")
            refused = bool(line.get("refused"))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # not an intake line as kiosk/store/desk.py writes it
        if service == "verification" and not refused:
            yield position, code, quantity, serial


def _rows(tx: Tx, storage: Storage, tickets: Sequence[str], catalogue: Callable[[], dict[str, FeeRow]],
          ids: dict[str, int]) -> list[dict]:
    """The rows `tickets` should have now, from ticket_state and their intakes' lines; the
    catalogue is read only if one of them was picked up. `ids` given each ticket's id (those
    without a row keep theirs from before)."""
    where, params = storage.in_list("s.uid", tickets)
    ids.update(tx.all(f"SELECT uid, id FROM ticket_state s WHERE {where}", params))
    states = tx.all("SELECT s.id, s.number, s.registration_event, s.intake_number, s.intake_event, s.picked_up_at, "
                    f"t.site FROM ticket_state s LEFT JOIN ticket t ON t.uid = s.uid WHERE {where} "
                    "AND s.picked_up_at IS NOT NULL AND s.intake_event IS NOT NULL", params)
    if not states:
        return []
    intakes = sorted({intake for _, _, _, _, intake, _, _ in states})
    where, params = storage.in_list("id", intakes)
    lines = dict(tx.all(f"SELECT id, {storage.json_field('payload', 'lines')} FROM event WHERE {where}", params))
    found, fees = [], catalogue()
    for ticket, number, registration, intake_number, intake, picked_up_at, site in states:
        at = as_datetime(picked_up_at)
        day = local(at).date().isoformat()
        for position, code, quantity, serial in lines_of(lines.get(intake)):
            found.append({"ticket": ticket, "line": position,
                          "number": (number if registration is not None else intake_number) or "", "site": site,
                          "code": code, "serial_number": serial, "serial_key": serial.upper(), "quantity": quantity,
                          "picked_up_at": at, "picked_up_on": day, **_priced(code, day, fees),
                          "latest": 1})
    return found


def _stored(tx: Tx, storage: Storage, tickets: Sequence[int]) -> list[dict]:
    if not tickets:
        return []
    where, params = storage.in_list("ticket", sorted(tickets))
    found = []
    for values in tx.all(f"SELECT {', '.join(TABLE.columns)} FROM due_item WHERE {where}", params):
        row = dict(zip(TABLE.columns, values))
        row["picked_up_at"] = as_datetime(row["picked_up_at"])
        found.append(row)
    return found


def refresh(tx: Tx, storage: Storage, tickets: Sequence[str], *, building: bool = False,
            without_rows: Collection[str] = (), ids: dict[str, int] | None = None) -> None:
    """The rows of `tickets` made again from what ticket_state holds of them now (call it after
    ticket_state changed, in the same transaction). `building`: under build's table lock, which
    flags every group at the end instead (and holds no row yet). `without_rows`: tickets known
    to hold none (their ticket_state row had no pickup after an intake before): not looked up.
    `ids`: the tickets' ids as they were (ticket_state.recompute's), for those whose row is gone."""
    if not tickets:
        return
    read: list[dict[str, FeeRow]] = []

    def catalogue() -> dict[str, FeeRow]:
        if not read:
            if storage.postgres and not building:  # waits for an import that is repricing: its cycles are read
                tx.execute("LOCK TABLE due_item IN ROW EXCLUSIVE MODE")
            read.append(latest_catalog(tx)[1])
        return read[0]

    changed: list[int] = []
    fresh: list[dict] = []
    groups: set[tuple[str, str]] = set()
    tickets = sorted(set(tickets))
    ids = dict(ids or {})
    for start in range(0, len(tickets), CHUNK):
        chunk = tickets[start:start + CHUNK]
        want = _rows(tx, storage, chunk, catalogue, ids)
        have = [] if building else _stored(tx, storage, [ids[t] for t in chunk if t not in without_rows and t in ids])
        by_ticket: dict[int, list[dict]] = {}
        for row in want:
            by_ticket.setdefault(row["ticket"], []).append(row)
        held: dict[int, list[dict]] = {}
        for row in have:
            held.setdefault(row["ticket"], []).append(row)
        for ticket in (ids[t] for t in chunk if t in ids):
            new, old = by_ticket.get(ticket, []), held.get(ticket, [])
            if _same(new, old):
                continue
            changed.append(ticket)
            fresh += new
            groups |= {(r["code"], r["serial_key"]) for r in (*new, *old) if r["serial_key"]}
    if not changed:
        return
    if not building:
        _lock(tx, storage, groups)
    for start in range(0, len(changed) if not building else 0, CHUNK):  # a build emptied the table
        where, params = storage.in_list("ticket", sorted(changed[start:start + CHUNK]))
        tx.execute(f"DELETE FROM due_item WHERE {where}", params)
    TABLE.write(tx, storage, fresh, replace=False)
    if not building:
        _flag(tx, storage, groups)


def _same(new: list[dict], old: list[dict]) -> bool:
    def norm(rows):
        return sorted(tuple(v for k, v in r.items() if k != "latest") for r in rows)
    return norm(new) == norm(old)


def _lock(tx: Tx, storage: Storage, groups: set[tuple[str, str]]) -> None:
    if storage.postgres:
        buckets = sorted({zlib.crc32(f"{code}\x1f{serial}".encode()) % BUCKETS for code, serial in groups})
        # One statement; unnest gives the array's order, so the locks are taken in bucket order.
        tx.execute("SELECT count(pg_advisory_xact_lock(?, b)) FROM unnest(?::int[]) AS b", (LOCK_CLASS, buckets))


# Every group at once (a build, every row written with latest = 1): one sort, not a probe a row,
# and only the rows brought back later are rewritten. Ties of picked_up_at by the ticket's uid (not its
# id, which a build gives anew): the rule the pushes and a build share.
FLAG_ALL = ("UPDATE due_item SET latest = 0 WHERE (ticket, line) IN (SELECT ticket, line FROM (SELECT d.ticket, "
            "d.line, row_number() OVER (PARTITION BY d.code, d.serial_key ORDER BY d.picked_up_at DESC, s.uid DESC, "
            "d.line DESC) AS r FROM due_item d JOIN ticket_state s ON s.id = d.ticket "
            "WHERE d.serial_key <> '') ranked WHERE r > 1)")


def _flag(tx: Tx, storage: Storage, groups: set[tuple[str, str]]) -> None:
    """`latest` set again for `groups` (under their locks, after their rows were written): one
    read of the groups' rows in FLAG_ALL's order, so the database's collation ranks tickets as a
    build does, then only the rows whose flag changes are written (an instrument verified again:
    its previous row stops counting). Was an UPDATE with an EXISTS probe for every row of the
    groups: twice the index reads."""
    flips: dict[int, list[tuple[int, int]]] = {0: [], 1: []}
    ordered = sorted(groups)
    for start in range(0, len(ordered), GROUPS):
        chunk = ordered[start:start + GROUPS]
        pairs = ", ".join("(?, ?)" for _ in chunk)
        previous = None
        for ticket, line, code, serial, latest in tx.all(
                "SELECT d.ticket, d.line, d.code, d.serial_key, d.latest FROM due_item d JOIN ticket_state s "
                f"ON s.id = d.ticket WHERE d.serial_key <> '' AND (d.code, d.serial_key) IN (VALUES {pairs}) "
                "ORDER BY d.code, d.serial_key, d.picked_up_at DESC, s.uid DESC, d.line DESC",
                [v for pair in chunk for v in pair]):
            counts = int((code, serial) != previous)  # the first row of its group
            previous = (code, serial)
            if latest != counts:
                flips[counts].append((ticket, line))
    for latest, items in flips.items():
        for start in range(0, len(items), CHUNK):
            chunk_items = sorted(items[start:start + CHUNK])
            if storage.postgres:
                tx.execute("UPDATE due_item SET latest = ? WHERE (ticket, line) IN "
                           "(SELECT * FROM unnest(?::bigint[], ?::integer[]))",
                           [latest, [t for t, _ in chunk_items], [n for _, n in chunk_items]])
            else:
                pairs = ", ".join("(?, ?)" for _ in chunk_items)
                tx.execute(f"UPDATE due_item SET latest = ? WHERE (ticket, line) IN (VALUES {pairs})",
                           [latest, *(v for item in chunk_items for v in item)])


def build(tx: Tx, storage: Storage) -> None:
    """Every row made again (after ticket_state was built), in the caller's transaction."""
    if storage.postgres:
        tx.execute("LOCK TABLE due_item IN EXCLUSIVE MODE")
    tx.execute("DELETE FROM due_item")
    tickets = [t for (t,) in tx.all("SELECT uid FROM ticket_state WHERE picked_up_at IS NOT NULL ORDER BY uid")]
    for start in range(0, len(tickets), CHUNK):
        refresh(tx, storage, tickets[start:start + CHUNK], building=True)
    tx.execute(FLAG_ALL)
    if storage.postgres:
        tx.execute("ANALYZE due_item")


def snapshot(tx: Tx) -> list[tuple]:
    """Every row, its ticket as its uid (the ids are a build's own), in (uid, line) order."""
    columns = TABLE.columns[1:]
    return tx.all(f"SELECT s.uid, {', '.join('d.' + c for c in columns)} FROM due_item d "
                  "LEFT JOIN ticket_state s ON s.id = d.ticket ORDER BY s.uid, d.line")


def reprice(tx: Tx, storage: Storage) -> int:
    """Cycles, names and due dates set again from the latest catalogue (a catalogue import, in
    its transaction, before it publishes). The rows changed."""
    if storage.postgres:  # pushes folding meanwhile wait, then read the new catalogue
        tx.execute("LOCK TABLE due_item IN EXCLUSIVE MODE")
    _, fees = latest_catalog(tx)
    changes = []
    for code, day, *stored in tx.all(f"SELECT DISTINCT code, picked_up_on, {', '.join(CATALOGUED)} FROM due_item"):
        priced = _priced(code, day, fees)
        if tuple(priced.values()) != tuple(stored):
            changes.append({"code": code, "picked_up_on": day, **priced})
    if not changes:
        return 0
    sets = ", ".join(f"{c} = n.{c}" for c in CATALOGUED)
    if storage.postgres:
        cursor = tx.execute(f"UPDATE due_item SET {sets} FROM json_to_recordset(?::json) AS n(code text, "
                            "picked_up_on text, name_zh text, name_en text, cycle_months integer, due_on text) "
                            "WHERE due_item.code = n.code AND due_item.picked_up_on = n.picked_up_on",
                            (json.dumps(changes),))
        return cursor.rowcount
    count = 0
    for change in changes:
        count += tx.execute(f"UPDATE due_item SET {', '.join(f'{c} = ?' for c in CATALOGUED)} "
                            "WHERE code = ? AND picked_up_on = ?",
                            [*(change[c] for c in CATALOGUED), change["code"], change["picked_up_on"]]).rowcount
    return count
