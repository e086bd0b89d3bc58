"""Follow-ups (回访) in the back office: the poor ratings to call back, and closing them.

A follow-up's state is derived from the events, like a ticket's status, and kept as a read
model each push updates (central/readmodels/followup.py): the list and the close read it. A
follow-up exists per `feedback.given` whose `payload.followup` is not null (a poor rating
opens one at the kiosk, due in 15 working days); it is closed by the first
`followup.closed` event naming it that central received (central/words.py ARRIVAL: a device's clock, or
a close sent with an earlier time, cannot replace one), wherever that was written: a clerk
desk that made the call, or this back office. Likewise the first rating received that names a
follow-up is the one that opened it.

Closing from the office writes a `followup.closed` event here, in ONE transaction with its
feed row: a new uid, `device_id` 0 (0 = central's back office: no device has that id, and
the event table has no foreign key on it), the payload a desk would push, with `device` =
central's own device uid (made once, kept in central_meta) and `"via": "office"`, published
to every clerk desk (no origin: nobody is left out). Office closes are serialised (an
advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite), so closing twice answers "closed"
with who and when, never two events. A desk's close pushed at the same moment is stored too
(both happened); the first to arrive counts.

The call-back phone is shown in full: staff make the call, and the office is behind its token.
It never goes into a log line, nor does a name or a note.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from kiosk.domain.clock import today as institute_today
from kiosk.domain.clock import utc_now
from kiosk.domain.feedback import MAX_NOTE
from kiosk.domain.ids import uuid7
from kiosk.domain.validation import FieldError, clean_text

from . import feed, pagelinks
from .due import COUNT_CAP  # open and overdue counted exactly up to here; beyond, "more than"
from .office import mask_phone
from .readmodels import followup as readmodel
from .storage import Storage, Tx, as_datetime, ts
from .worklist import PAGE_SIZE  # open follow-ups a page, as the work list's tickets

log = logging.getLogger("central")

OFFICE_DEVICE_ID = 0  # event.device_id of what the back office writes itself
OFFICE_USERNAME = "office"
MAX_NAME = 200  # the person's name goes out as clerk.name, which central caps at 200 like any name
RECENT_CLOSED = 50

OFFICE_LOCK = 7400401  # PostgreSQL advisory lock: one office close at a time
# A page link of the open follow-ups (central/pagelinks.py): a follow-up's place in their order
# (due_on, given_at, uid).
PAGE_LINK = f"[np]{pagelinks.DAY}\\.{pagelinks.MICROS}\\.[0-9A-Za-z][0-9A-Za-z-]{{0,63}}"


@dataclass(frozen=True)
class Cursor:
    """An open follow-up's place in the list's order (the index followup_open's key)."""

    due_on: str
    given_at: datetime
    uid: str

    def link(self, after: bool) -> str:
        return pagelinks.link(after, self.due_on, pagelinks.micros(self.given_at), self.uid)

    @staticmethod
    def parse(text: str) -> tuple[Cursor, bool]:
        """A page link (PAGE_LINK, checked by the caller): (the follow-up, whether the page is after it)."""
        (due_on, micros, uid), after = pagelinks.parts(text, 3)
        return Cursor(due_on, pagelinks.moment(micros), uid), after


class CloseError(Exception):
    """`code`: no_followup (404) | closed (409, with `closed`) | invalid (422, with `field`)."""

    def __init__(self, code: str, message: str, *, field: str | None = None, closed: dict | None = None,
                 key: str | None = None):
        super().__init__(message)
        self.code, self.field, self.closed, self.key = code, field, closed, key

    @property
    def status(self) -> int:
        return {"no_followup": 404, "closed": 409}.get(self.code, 422)


@dataclass(frozen=True)
class Followup:
    uid: str
    feedback: str
    due_on: date
    given_at: datetime
    number: str | None  # None: anonymous
    rating: int
    level: str
    reason: str | None
    reason_text: str
    comment: str
    phone: str | None  # in full
    kiosk: str  # the name of the device that took the rating (its uid if it has none)
    closed: dict | None  # {"at", "name", "username", "device", "via", "note", "event"}
    place: Cursor | None = None  # its place in the open list's order

    def as_dict(self, today: date) -> dict:
        return {"uid": self.uid, "feedback": self.feedback, "due_on": self.due_on.isoformat(),
                "overdue": self.closed is None and self.due_on < today, "given_at": ts(self.given_at),
                "number": self.number, "anonymous": self.number is None, "rating": self.rating,
                "level": self.level, "reason": self.reason, "reason_text": self.reason_text,
                "comment": self.comment, "phone": self.phone, "kiosk": self.kiosk, "closed": self.closed}


def device_label(name: str | None, uid: str | None, device_id: int) -> str:
    """A device as the office names it (its name, else its uid); the back office's own events' device 0."""
    if device_id == OFFICE_DEVICE_ID:
        return "后台 back office"
    return name or uid or "?"


def _closure(row: tuple) -> dict:
    event_uid, device_id, name, device_uid, created, payload = row
    data = json.loads(payload)
    clerk = data.get("clerk") or {}
    return {"at": ts(as_datetime(created)), "name": clerk.get("name") or clerk.get("username") or "",
            "username": clerk.get("username"), "device": device_label(name, device_uid, device_id),
            "via": data.get("via") or ("office" if device_id == OFFICE_DEVICE_ID else "desk"),
            "note": data.get("note") or "", "event": event_uid}


def followup_closures(tx: Tx, storage: Storage, followups: list[str]) -> dict[str, dict]:
    """The close that counts of each of `followups` that has one (the read model's)."""
    if not followups:
        return {}
    where, params = storage.in_list("f.uid", followups)
    rows = tx.all(f"SELECT f.uid, c.uid, c.device_id, d.name, d.uid, c.created_at, {storage.json_text('c.payload')} "
                  "FROM followup f JOIN event c ON c.id = f.closed_event LEFT JOIN device d ON d.id = c.device_id "
                  f"WHERE {where}", params)
    return {uid: _closure(row) for uid, *row in rows}


_FOLLOWUP_SQL = ("SELECT f.due_on, f.given_at, f.uid, e.device_id, d.name, d.uid, {payload}, c.uid, c.device_id, "
                 "cd.name, cd.uid, c.created_at, "
                 "{close_payload} FROM followup f JOIN event e ON e.id = f.opened_event "
                 "LEFT JOIN device d ON d.id = e.device_id LEFT JOIN event c ON c.id = f.closed_event "
                 "LEFT JOIN device cd ON cd.id = c.device_id")


def _listed(tx: Tx, storage: Storage, where: str, params=(), tail: str = "") -> list[Followup]:
    """The follow-ups of the read model's rows matching `where` (on `followup f`), each with the
    rating that opened it and the close that counts (central/readmodels/followup.py)."""
    sql = _FOLLOWUP_SQL.format(payload=storage.json_text("e.payload"), close_payload=storage.json_text("c.payload"))
    found = []
    for due_on, given_at, uid, device_id, name, device_uid, payload, *closure in tx.all(
            f"{sql} WHERE {where} {tail}", params):
        data = json.loads(payload)
        opened = data["followup"]  # the read model holds only well-formed openings
        found.append(Followup(
            opened["uid"], data["feedback"], date.fromisoformat(opened["due_on"]), as_datetime(data["at"]),
            data.get("number") if data.get("ticket") else None, int(data["rating"]), data["level"],
            data.get("reason"), data.get("reason_text") or "", data.get("comment") or "", data.get("phone"),
            device_label(name, device_uid, device_id), _closure(tuple(closure)) if closure[0] else None,
            Cursor(due_on, as_datetime(given_at), uid)))
    return found


def _capped(tx: Tx, today: date) -> tuple[int, bool, int, bool]:
    """How many follow-ups are open, and overdue, each counted up to COUNT_CAP: (open, more open,
    overdue, more overdue). One index range of followup_open, in its order (never the whole table:
    a seq scan "until enough" would read the closed ones first); the overdue are its first rows
    (the earliest due), so they are counted among the same rows."""
    n, late = tx.one("SELECT count(*), count(CASE WHEN due_on < ? THEN 1 END) FROM (SELECT due_on FROM followup "
                     f"WHERE closed_event IS NULL ORDER BY due_on, given_at, uid LIMIT {COUNT_CAP + 1}) capped",
                     (today.isoformat(),))
    return min(n, COUNT_CAP), n > COUNT_CAP, min(late, COUNT_CAP), late > COUNT_CAP


def followups(storage: Storage, today: date | None = None, recent: int = RECENT_CLOSED, *,
              after: Cursor | None = None, before: Cursor | None = None, size: int = PAGE_SIZE) -> dict:
    """`open`: a page of the open follow-ups, overdue first, then by due date (the earliest due is
    the most overdue), `size` a page after or before a follow-up's place (a keyset on
    followup_open), the call-back phone in full, with how many are open and overdue (counted up to
    COUNT_CAP: `open_more`, `overdue_more` say there are more); `next`, `previous`: the links of the
    pages after and before (None: none); `closed`: the `recent` most recently closed, latest first,
    the phone masked (the call was made). Each an index range of the read model."""
    today = today or institute_today()
    cursor = before or after
    key, params = "", []
    if cursor is not None:
        key = f" AND (f.due_on, f.given_at, f.uid) {'<' if before else '>'} (?, ?, ?)"
        params = [cursor.due_on, storage.timestamp(cursor.given_at), cursor.uid]
    way = " DESC" if before else ""
    order = ", ".join(f"f.{c}{way}" for c in ("due_on", "given_at", "uid"))
    with storage.read() as tx:
        count, more, overdue, overdue_more = _capped(tx, today)
        open_ = _listed(tx, storage, f"f.closed_event IS NULL{key}", params, f"ORDER BY {order} LIMIT {int(size) + 1}")
        closed = _listed(tx, storage, "f.closed_event IS NOT NULL", (),
                         f"ORDER BY f.closed_at DESC, f.uid DESC LIMIT {int(recent)}")
    further = len(open_) > size
    open_ = open_[:size]
    if before:
        open_.reverse()
        nxt, prev = (open_[-1].place if open_ else before), (open_[0].place if further and open_ else None)
    else:
        nxt, prev = (open_[-1].place if further else None), (open_[0].place if cursor and open_ else None)
    return {"today": today.isoformat(), "open": [f.as_dict(today) for f in open_], "open_count": count,
            "open_more": more, "overdue": overdue, "overdue_more": overdue_more, "size": size,
            "next": nxt.link(True) if nxt else None, "previous": prev.link(False) if prev else None,
            "closed": [f.as_dict(today) | {"phone": mask_phone(f.phone) or None} for f in closed]}


# ---- closing from the office ---------------------------------------------------------------


def clean_close(name, note) -> tuple[str, str]:
    """The person's name and the note as typed, cleaned (kiosk/domain/validation.py clean_text: widths
    folded, whitespace collapsed), or CloseError("invalid") naming the field."""
    cleaned = []
    for field, value, limit in (("name", name, MAX_NAME), ("note", note, MAX_NOTE)):
        if not isinstance(value, str):
            raise CloseError("invalid", f"{field}: required", field=field, key="error.required")
        try:
            cleaned.append(clean_text(value, required=True, max_length=limit))
        except FieldError as e:
            why = {"error.required": "required", "error.too_long": f"at most {limit} characters",
                   "error.control_chars": "control characters are not allowed",
                   "error.emoji": "characters that cannot be printed are not allowed"}.get(e.key, e.key)
            raise CloseError("invalid", f"{field}: {why}", field=field, key=e.key) from None
    return cleaned[0], cleaned[1]


def central_uid(tx: Tx) -> str:
    """Central's own device uid (the `device` of the events it writes), made on first use."""
    tx.execute("INSERT INTO central_meta (key, value) VALUES ('device_uid', ?) ON CONFLICT (key) DO NOTHING",
               (str(uuid.uuid4()),))
    return tx.one("SELECT value FROM central_meta WHERE key = 'device_uid'")[0]


def _rating_site(tx: Tx, followup: str) -> str | None:
    """The site of the kiosk whose rating opened the follow-up (the first to arrive): its desks
    get the office's close. None (every site): a rating of a device central no longer has."""
    row = tx.one("SELECT d.site FROM followup f JOIN event e ON e.id = f.opened_event "
                 "JOIN device d ON d.id = e.device_id WHERE f.uid = ?", (followup,))
    return row[0] if row else None


def close(storage: Storage, followup_uid: str, name, note, *, username: str = OFFICE_USERNAME,
          now: datetime | None = None) -> dict:
    """Close a follow-up from the back office: the event, its feed row, one transaction.
    `name`, `username`: the signed-in user's (central/accounts.py).
    CloseError: invalid | no_followup | closed. The closure as `followups()` lists it."""
    from .events import check  # the server's (msgspec): what central writes, it must accept

    name, note = clean_close(name, note)
    now = now or utc_now()
    with storage.transaction() as tx:
        if storage.postgres:
            tx.execute(f"SELECT pg_advisory_xact_lock({OFFICE_LOCK})")
        opened = _listed(tx, storage, "f.uid = ?", (followup_uid,))
        if not opened:
            raise CloseError("no_followup", "there is no follow-up with this uid")
        already = opened[0].closed
        if already is not None:
            raise CloseError("closed", f"closed at {already['at']} by {already['name'] or already['device']}",
                             closed=already)
        device = central_uid(tx)
        event_uid = uuid7()
        payload = json.dumps({"followup": followup_uid, "feedback": opened[0].feedback, "device": device,
                              "at": now.isoformat(), "clerk": {"username": username, "name": name},
                              "note": note, "via": "office"}, ensure_ascii=False, sort_keys=True)
        checked = check(event_uid, "followup.closed", now.isoformat(), payload.encode("utf-8"))
        event_id = tx.one("INSERT INTO event (uid, kind, device_id, ticket, status, created_at, received_at, "
                          "payload) VALUES (?, ?, ?, NULL, NULL, ?, ?, ?) RETURNING id",
                          (checked.uid, checked.kind, OFFICE_DEVICE_ID, storage.timestamp(now), ts(now),
                           checked.payload_json))[0]
        readmodel.close(tx, storage, [followup_uid])
        feed.publish_events(tx, None, [(event_id, checked.kind)], site=_rating_site(tx, followup_uid))
    log.info("follow-up %s closed from the back office (event %s)", followup_uid, event_uid)
    return {"followup": followup_uid, "event": event_uid, "at": ts(now), "name": name,
            "username": username, "device": device_label(None, None, OFFICE_DEVICE_ID), "via": "office",
            "note": note}
