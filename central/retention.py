"""Retention (个人信息保护法, PIPL art. 19: personal information is kept no longer than its purpose
needs): `kiosk central retention`, run nightly (deploy/kiosk-central-retention.timer), erases the
personal data of the tickets done with for `CENTRAL_RETENTION_YEARS` (3), and keeps the figures.

Which, with `cutoff` = now less the period (calendar years):
- a ticket picked up before the cutoff (its first pickup not voided); a ticket never picked up
  whose last event is before it. All of its events are erased, voided ones too.
- a rating (`feedback.given`, anonymous ones too), a follow-up close or a call-back
  (`followup.called`) given before the cutoff. A rating comes at or after its ticket's pickup, so
  it goes with the ticket or soon after.
- a ticket's certificate checks at dispatch (`certificate.checked`, `certificate.taken_as_is`,
  which name their ticket in the payload only): with their ticket.
- the office's audit log rows written before the cutoff: their query (a phone or a name searched),
  address, and a failed sign-in's name typed. Who, when, the route and the rows counted stay.

What goes, in the stored payloads (central/events.py: the one copy; the change feed relays the
stored events, so a desk pulling later gets the erased ones): the customer (organisation →
`ERASED`, contact, phone, address, credit code), the name on the certificate, the ticket code (an
old format carried the organisation), the lines' serial numbers and requirements, the call-back
phone, comment and reason typed with a rating, a close's and a call-back's note, the words a
clerk typed on a certificate returned at dispatch (its reason: "the holder should be 张三") and on
one the customer took as it was (the note: who agreed). What stays: numbers, times,
steps, amounts, lines, fields, promises, certificates' numbers, levels, hearts, reason codes,
and the clerks (staff, not customers: who served whom is what the satisfaction figures count).
The organisation names published for completion (central/organisations.py: `organisation_name`
and the `organisation.known` changes) lose those no ticket left uses. Prepared registrations a
customer asked central to keep (central/prepared.py) go 30 days after they were kept.

Each batch of tickets is one transaction; erasing is idempotent (a payload erased already is
left as it is), so a run stopped halfway is finished by the next. Where to look: central_meta
`retention`, where the walk resumes (`tickets_from`: every registration before it is erased;
`others_from`; `last_event`: the newest event id the last run saw, so a late push of an old
event is walked again); one central_meta row per run, `retention_run:<when>`, JSON (`runs()`,
`kiosk central retention --runs`), and one row in the office's audit log (central/audit.py,
action `retention`: `rows` the tickets erased, `query` the cutoff and the rest).

Devices: the erased registrations are published again to the desks of their site, which take
the erased customer over the one they hold (kiosk/sync/feed.py); a desk enrolled later pulls the
erased payloads. Left on devices: the registering kiosk's own copy, and what a desk holds of
ratings, follow-up notes and intake lines (a device's own retention). Pushing an erased event
again changes nothing (event uids are stored once) and a second registration of its ticket uid or
number is refused (central/trust.py), so an erased ticket does not come back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime

from kiosk.domain.clock import utc_now
from kiosk.domain.organisations import search_key

from . import audit, feed, prepared, readmodels
from .storage import Storage, Tx, as_datetime, ts
from .words import RANK

ERASED = "（已匿名）"  # the organisation of an erased ticket; every other personal field: none
BATCH = 500  # tickets (or ratings and closes) per transaction
STATE = "retention"
RUN_PREFIX = "retention_run:"
AUDIT_ACTION = "retention"  # office_audit: `rows` the tickets erased, `query` the rest
REGISTERED = "ticket.registered"
OWN_TIME = ("feedback.given", "followup.closed", "followup.called")  # by their own time, not their ticket's
CERTIFICATE_KINDS = ("certificate.checked", "certificate.taken_as_is")  # their ticket in the payload only
PICKED_UP = RANK["picked_up"]


def cutoff(now: datetime, years: int) -> datetime:
    """`now` less `years` calendar years (29 February: the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


# ---- one payload --------------------------------------------------------------------------


def _registration(data: dict) -> None:
    data["customer"] = {"organisation": ERASED, "credit_code": None, "address": None, "contact": None,
                        "phone": None}
    ticket = data.get("ticket") or {}
    for name in ("certificate_name", "code"):
        if ticket.get(name) is not None:
            ticket[name] = None
    _lines(data, ("serial_number", "requirements"), None)
    if isinstance(data.get("notify"), dict) and data["notify"].get("email"):  # notices (central/notices/)
        data["notify"]["email"] = None


def _lines(data: dict, names: tuple[str, ...], blank) -> None:
    for line in data.get("lines") or ():
        for name in names:
            if line.get(name):
                line[name] = blank


def _received(data: dict) -> None:
    _lines(data, ("serial_number",), "")


def _rating(data: dict) -> None:
    for name in ("phone", "comment", "reason_text"):
        if data.get(name):
            data[name] = None


def _close(data: dict) -> None:
    if data.get("note"):
        data["note"] = ""


def _certificate(data: dict) -> None:
    """A check's reason (a returned certificate: what was wrong, a holder's name in it) and a
    taking's note (who agreed): words typed about the customer. The points, numbers and clerk stay."""
    for name in ("reason", "note"):
        if data.get(name):
            data[name] = ""


ERASE: dict[str, Callable[[dict], None]] = {REGISTERED: _registration, "ticket.received": _received,
                                            "feedback.given": _rating, "followup.closed": _close,
                                            "followup.called": _close, "certificate.checked": _certificate,
                                            "certificate.taken_as_is": _certificate}


def erase(kind: str, payload: str) -> str | None:
    """The payload (JSON text as stored) with its personal fields erased; None: nothing to erase."""
    eraser = ERASE.get(kind)
    if eraser is None:
        return None
    data = json.loads(payload)
    before = json.dumps(data, ensure_ascii=False, sort_keys=True)
    eraser(data)
    after = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return None if after == before else after


def erased(payload: dict) -> bool:
    """A registration erased already (its customer is the marker and nothing else)."""
    customer = payload.get("customer") or {}
    return customer.get("organisation") == ERASED and not any(customer.get(name) for name in (
        "credit_code", "address", "contact", "phone")) and not (payload.get("notify") or {}).get("email")


# ---- a run ------------------------------------------------------------------------------------


@dataclass
class Run:
    at: datetime
    cutoff: datetime
    years: int
    dry_run: bool = False
    tickets: int = 0  # tickets whose personal data was erased
    ratings: int = 0
    closes: int = 0  # follow-up closes whose note was erased
    names: int = 0  # organisation names no longer published
    prepared: int = 0  # prepared registrations kept for customers, erased after their 30 days
    searches: int = 0  # the office's audit rows whose query (a phone searched) and address were erased
    events: int = 0  # stored events rewritten
    forgotten: set[str] = field(default_factory=set, repr=False)  # organisation names of erased tickets

    def as_dict(self) -> dict:
        data = asdict(self)
        del data["forgotten"]
        return data | {"at": ts(self.at), "cutoff": ts(self.cutoff)}


def run(storage: Storage, now: datetime, years: int, *, dry_run: bool = False,
        clock: Callable[[], datetime] = utc_now) -> Run:
    """Erase what is due at `now`; the run, recorded unless `dry_run` (then nothing is written).
    `clock`: when it really ran, for the audit log (`now` may be another moment: `--now`)."""
    done = Run(now, cutoff(now, years), years, dry_run)
    with storage.read() as tx:
        state = _state(tx)
        last_event = tx.one("SELECT COALESCE(MAX(id), 0) FROM event")[0]
        # Events pushed since the last run with a time before where the walk resumes (a device
        # offline for long): the walk starts from the earliest of them.
        late = dict(tx.all("SELECT kind, MIN(created_at) FROM event WHERE id > ? AND id <= ? GROUP BY kind",
                           (state.get("last_event", 0), last_event)))
    tickets_from = _earliest(state.get("tickets_from"), late.get(REGISTERED))
    others_from = _earliest(state.get("others_from"), *(late.get(kind) for kind in OWN_TIME))
    pending = _tickets(storage, done, tickets_from)
    for kind in OWN_TIME:
        _own_time(storage, done, kind, others_from)
    if "last_event" in state:  # a first run walked every ticket
        _late_steps(storage, done, state["last_event"], last_event)
    if done.forgotten:
        _forget_names(storage, done)
    audit_to = _forget_searches(storage, done, state.get("audit_to", 0))
    # Prepared registrations kept at a customer's request (central/prepared.py): by their own 30 days.
    done.prepared = prepared.erase_due(storage, now, dry_run=dry_run)
    if not dry_run:
        with storage.transaction() as tx:
            _save(tx, STATE, {"tickets_from": ts(pending or done.cutoff), "others_from": ts(done.cutoff),
                              "last_event": last_event, "audit_to": audit_to})
            _save(tx, RUN_PREFIX + ts(now), done.as_dict())
        # Where a director reads who saw personal data (/office/audit): when it was erased, how much.
        kept = f"&prepared={done.prepared}" if done.prepared else ""  # central/prepared.py's, when any went
        # Dated when it ran; the moment it erased as of is in the query (`--now`: a run done late).
        audit.record(storage, None, AUDIT_ACTION, "kiosk central retention",
                     f"as_of={ts(now)}&cutoff={ts(done.cutoff)}&years={years}&ratings={done.ratings}"
                     f"&followups={done.closes}&names={done.names}&searches={done.searches}{kept}",
                     done.tickets, who="retention", at=clock())
        if not storage.postgres:
            with storage.read() as tx:  # the old pages out of the write-ahead log (secure_delete zeroed them)
                tx.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return done


@contextmanager
def _erasing(storage: Storage) -> Iterator[Tx]:
    """A write transaction; on SQLite what it overwrites or deletes is zeroed in the file too
    (secure_delete), and the run ends with a checkpoint that empties the write-ahead log."""
    with storage.transaction() as tx:
        if not storage.postgres:
            tx.execute("PRAGMA secure_delete = ON")
        yield tx


def _earliest(stored, *late) -> datetime | None:
    """Where a walk starts: where the last run left it, or earlier for an event pushed late;
    None (the beginning) before the first run."""
    if stored is None:
        return None
    return min(as_datetime(moment) for moment in (stored, *late) if moment is not None)


def _state(tx: Tx) -> dict:
    row = tx.one("SELECT value FROM central_meta WHERE key = ?", (STATE,))
    return json.loads(row[0]) if row else {}


def _save(tx: Tx, key: str, value: dict) -> None:
    tx.execute("INSERT INTO central_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
               "excluded.value", (key, json.dumps(value, ensure_ascii=False, sort_keys=True)))


def _batches(storage: Storage, kind: str, start: datetime | None, end: datetime) -> Iterable[list[tuple]]:
    """The events of `kind` created in [start, end), oldest first, BATCH at a time: (id, created_at,
    ticket, payload); each batch read when the previous one has been dealt with."""
    after: tuple = ()
    lower = "" if start is None else " AND created_at >= ?"
    while True:
        keyset = " AND (created_at > ? OR (created_at = ? AND id > ?))" if after else ""
        params = (kind, *(() if start is None else (storage.timestamp(start),)), storage.timestamp(end),
                  *((after[1], after[1], after[0]) if after else ()), BATCH)
        with storage.read() as tx:
            rows = tx.all(f"SELECT id, created_at, ticket, {storage.json_text('payload')} FROM event "
                          f"WHERE kind = ?{lower} AND created_at < ?{keyset} ORDER BY created_at, id LIMIT ?",
                          params)
        if not rows:
            return
        yield rows
        after = (rows[-1][0], rows[-1][1])


def _tickets(storage: Storage, done: Run, start: datetime | None) -> datetime | None:
    """Erase the tickets due among those registered from `start` to the cutoff; the earliest
    registration left (not due yet), or None."""
    pending: datetime | None = None
    for rows in _batches(storage, REGISTERED, start, done.cutoff):
        candidates = {ticket: json.loads(payload) for _, _, ticket, payload in rows if ticket}
        candidates = {ticket: data for ticket, data in candidates.items() if not erased(data)}
        if not candidates:
            continue
        with _erasing(storage) as tx:
            due = _due(tx, storage, sorted(candidates), done.cutoff)
            for _, created, ticket, _ in rows:
                if ticket in candidates and ticket not in due:
                    moment = as_datetime(created)
                    pending = moment if pending is None else min(pending, moment)
            if due:
                done.events += _rewrite(tx, storage, "ticket", sorted(due), done.dry_run)
                if not done.dry_run:  # the read models' copies (ticket_state's customer) made again
                    readmodels.recompute_tickets(tx, storage, sorted(due))
                    _tell_desks(tx, storage, sorted(due))
                done.tickets += len(due)
                done.forgotten.update(candidates[t]["customer"].get("organisation") or "" for t in due)
    done.forgotten.discard("")
    return pending


def _due(tx: Tx, storage: Storage, tickets: list[str], moment: datetime) -> set[str]:
    """The tickets picked up before `moment`, or never picked up and with no event since it."""
    where, params = storage.in_list("ticket", tickets)
    picked: dict[str, datetime] = {}
    last: dict[tuple[str, bool], datetime] = {}  # (ticket, voided) -> its last event
    for ticket, status, created, void in tx.all(
            f"SELECT ticket, status, created_at, void_id FROM event WHERE {where}", params):
        created = as_datetime(created)
        # A revoked device's say (central/voiding.py) is no pickup, and a use only of a ticket
        # it alone spoke of (a stolen kiosk's registrations).
        if status == PICKED_UP and void is None:
            picked[ticket] = min(picked.get(ticket, created), created)
        key = (ticket, void is not None)
        last[key] = max(last.get(key, created), created)
    return {t for t in tickets if (picked.get(t) or last.get((t, False)) or last[(t, True)]) < moment}


def _rewrite(tx: Tx, storage: Storage, column: str, values: list, dry_run: bool) -> int:
    """Erase the payloads of the events whose `column` is one of `values`, and (`column` "ticket")
    the certificate checks of those tickets; how many changed."""
    where, params = storage.in_list(column, values)
    changed = _rewrite_where(tx, storage, where, params, dry_run)
    if column == "ticket":
        kinds, kind_params = storage.in_list("kind", CERTIFICATE_KINDS)
        named, named_params = storage.in_list(storage.json_field("payload", "ticket"), values)
        changed += _rewrite_where(tx, storage, f"{kinds} AND {named}", [*kind_params, *named_params], dry_run)
    return changed


def _rewrite_where(tx: Tx, storage: Storage, where: str, params: list, dry_run: bool) -> int:
    changed = [(after, event_id) for event_id, kind, payload in tx.all(
        f"SELECT id, kind, {storage.json_text('payload')} FROM event WHERE {where} ORDER BY id", params)
        if (after := erase(kind, payload)) is not None]  # rows locked in id order
    if changed and not dry_run:
        sql = storage.sql("UPDATE event SET payload = ? WHERE id = ?")
        if storage.postgres:
            with tx.conn.cursor() as cur:
                cur.executemany(sql, changed)  # pipelined: one round trip
        else:
            tx.conn.executemany(sql, changed)
    return len(changed)


def _tell_desks(tx: Tx, storage: Storage, tickets: list[str]) -> None:
    """The erased registrations published again to the desks of each ticket's site: a desk
    that holds the ticket takes the customer's details of a registration it gets over its own
    (kiosk/sync/feed.py _ticket_registered), so its copy is erased too."""
    where, params = storage.in_list("e.ticket", tickets)
    by_site: dict[str | None, list[tuple[int, str]]] = {}
    for event_id, site in tx.all(f"SELECT e.id, t.site FROM event e LEFT JOIN ticket t ON t.uid = e.ticket "
                                 f"WHERE e.kind = '{REGISTERED}' AND {where} AND e.void_id IS NULL ORDER BY e.id",
                                 params):
        by_site.setdefault(site, []).append((event_id, REGISTERED))
    for site, events in sorted(by_site.items(), key=lambda item: item[0] or ""):
        feed.publish_events(tx, None, events, site=site)  # no site: a registration central holds no owner of


def _own_time(storage: Storage, done: Run, kind: str, start: datetime | None) -> None:
    """Erase the ratings (or closes) given before the cutoff."""
    for rows in _batches(storage, kind, start, done.cutoff):
        ids = [event_id for event_id, *_ in rows]
        with _erasing(storage) as tx:
            changed = _rewrite(tx, storage, "id", ids, done.dry_run)
        done.events += changed
        if kind == "feedback.given":
            done.ratings += changed
        elif kind == "followup.closed":
            done.closes += changed


def _late_steps(storage: Storage, done: Run, since: int, until: int) -> None:
    """Steps pushed since the last run for tickets erased already (a desk offline for long)."""
    kinds, kind_params = storage.in_list("kind", CERTIFICATE_KINDS)
    with storage.read() as tx:
        tickets = sorted({row[0] for row in tx.all(
            "SELECT ticket FROM event WHERE id > ? AND id <= ? AND ticket IS NOT NULL AND status > 0",
            (since, until))} | {row[0] for row in tx.all(  # a certificate check names its ticket in its payload
            f"SELECT {storage.json_field('payload', 'ticket')} FROM event WHERE id > ? AND id <= ? AND {kinds}",
            (since, until, *kind_params)) if row[0]})
    for start in range(0, len(tickets), BATCH):
        chunk = tickets[start:start + BATCH]
        with _erasing(storage) as tx:
            where, params = storage.in_list("ticket", chunk)
            gone = [ticket for ticket, payload in tx.all(
                f"SELECT ticket, {storage.json_text('payload')} FROM event WHERE kind = '{REGISTERED}' AND {where}",
                params) if erased(json.loads(payload))]
            if gone:
                done.events += _rewrite(tx, storage, "ticket", gone, done.dry_run)
                if not done.dry_run:
                    readmodels.recompute_tickets(tx, storage, gone)


def _forget_names(storage: Storage, done: Run) -> None:
    """Stop publishing the organisation names of erased tickets that no ticket left uses (the
    read model holds every ticket's organisation, an erased one's the marker: one narrow scan)."""
    keys = {search_key(name): name for name in done.forgotten}
    with storage.read() as tx:
        used = {search_key(name) for (name,) in tx.all(
            "SELECT DISTINCT organisation FROM ticket_state WHERE organisation IS NOT NULL")}
    gone = sorted(set(keys) - used)
    if not gone:
        return
    names = {keys[key] for key in gone}
    with _erasing(storage) as tx:
        where, params = storage.in_list("key", gone)
        rows = tx.all(f"SELECT name FROM organisation_name WHERE {where}", params)
        names |= {name for (name,) in rows}
        done.names = len(rows)
        if done.dry_run:
            return
        tx.execute(f"DELETE FROM organisation_name WHERE {where}", params)
        # The changes that published them: devices pulling from the start are not sent them.
        for seq, data in tx.all(f"SELECT seq, {storage.json_text('data')} FROM feed "
                                "WHERE kind = 'organisation.known'"):
            published = json.loads(data)["names"]
            kept = [name for name in published if name not in names]
            if len(kept) == len(published):
                continue
            if kept:  # a change names at least one (kiosk/domain/events.py OrganisationsKnown)
                tx.execute("UPDATE feed SET data = ? WHERE seq = ?",
                           (json.dumps({"names": kept}, ensure_ascii=False, sort_keys=True), seq))
            else:
                tx.execute("DELETE FROM feed WHERE seq = ?", (seq,))


def _forget_searches(storage: Storage, done: Run, after: int) -> int:
    """The office's audit log keeps who looked at what for the period, not for ever what they
    typed: rows before the cutoff lose their query (a phone or a name searched), their address,
    and a failed sign-in the name typed (sometimes a password). Who, when, which route and how
    many rows stay. Rows are dated as written, so those before the cutoff are the ids up to one;
    `after`: the last id erased by an earlier run. The new one."""
    with _erasing(storage) as tx:
        upto = tx.one("SELECT MAX(id) FROM office_audit WHERE id > ? AND at < ?",
                      (after, storage.timestamp(done.cutoff)))[0]
        if upto is None:
            return after
        where = ("id > ? AND id <= ? AND action <> ? AND (query <> '' OR address IS NOT NULL "
                 "OR (action = 'sign_in_failed' AND who <> ''))")
        params = (after, upto, AUDIT_ACTION)
        done.searches = tx.one(f"SELECT COUNT(*) FROM office_audit WHERE {where}", params)[0]
        if done.dry_run:
            return after
        tx.execute(f"UPDATE office_audit SET query = '', address = NULL, "
                   f"who = CASE WHEN action = 'sign_in_failed' THEN '' ELSE who END WHERE {where}", params)
    return upto


def runs(storage: Storage) -> list[dict]:
    """Every recorded run, the latest first."""
    with storage.read() as tx:
        rows = tx.all("SELECT value FROM central_meta WHERE key LIKE ? ORDER BY key DESC", (RUN_PREFIX + "%",))
    return [json.loads(value) for (value,) in rows]
