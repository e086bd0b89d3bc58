"""Appeals (申诉) against ratings in the back office (issue 21): staff at a desk ask a supervisor
to review a rating they think mistaken or malicious (`rating.appealed`, kiosk/store/window_ratings.py);
a supervisor decides, at a desk (`appeal.decided` pushed, via "desk") or here (a director: the
event written by central itself, under device id 0 and central's own device uid, via "office",
as the office's follow-up closes are, and published to the desks of the appeal's site). The
rating is never deleted: an upheld appeal leaves it out of the window figures and the satisfaction
figures and CSV, and marks it in the export (central/ratings_export.py).

The events are the truth; central/readmodels/appealed.py has the rule (the first appeal event
of a uid to arrive is the appeal; the first decision to arrive after it is the decision; a later
one is stored, both happened, and ignored). Schema 14: an index on the appeal uid of both kinds,
which a decision's check reads. Schema 19: the rating read model's `set_aside`, kept by each push
of an appeal event and by the office's decision in its own transaction. Schema 28: the `appeal`
read model (central/readmodels/appeal.py), one row per appeal with its state, kept the same way.

The office lists them by state (`page`, issue 20: `appeals_state`): waiting (the default: the
supervisor's work, oldest filed first), decided, upheld or rejected (newest decided first), or
all (newest filed first); in keyset pages of 50, each an index range of the appeal read model,
the page's appeals then folded from their own events, each with what a supervisor judges it by
(`rated`: the ticket's number, the stage rated, the rating); every state counted exactly up to
COUNT_CAP (docs/design/office-read-models.md §13, "The appeals paged").
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from kiosk.domain.clock import utc_now
from kiosk.domain.feedback import APPEAL_DECISIONS, LEVELS
from kiosk.domain.ids import uuid7
from kiosk.domain.validation import FieldError, clean_text

from . import feed, pagelinks
from .due import COUNT_CAP  # appeals counted exactly up to here; beyond, "more than"
from .readmodels import appeal as appeal_model
from .readmodels import rating
from .readmodels.appealed import KINDS as APPEAL_KINDS
from .readmodels.appealed import events as _events
from .readmodels.appealed import fold as _fold
from .readmodels.appealed import rating_states
from .storage import Storage, Tx, as_datetime, ts
from .words import ARRIVAL

log = logging.getLogger("central")

KINDS = APPEAL_KINDS
OFFICE_DEVICE_ID = 0  # as central/followups.py: what the back office writes itself
APPEAL_LOCK = 7400402  # PostgreSQL advisory lock: one office decision at a time
MAX_REASON = 500
PAGE_SIZE = 50  # appeals a page of the office's list
# A page link of the appeals (central/pagelinks.py): `n` the older page, `p` the newer, after an
# appeal's place: its filing event's created_at and id.
PAGE_LINK = f"[np]{pagelinks.MICROS}\\.[1-9][0-9]{{0,18}}"

STATEMENTS = (
    "CREATE INDEX event_appeal ON event ({payload_appeal}) WHERE kind IN ('rating.appealed', 'appeal.decided')",
)


class DecideError(Exception):
    """`code`: no_appeal (404) | decided (409) | invalid (422, `field`)."""

    def __init__(self, code: str, message: str, *, field: str | None = None):
        super().__init__(message)
        self.code, self.field = code, field

    @property
    def status(self) -> int:
        return {"no_appeal": 404, "decided": 409}.get(self.code, 422)


def states(tx: Tx, storage: Storage) -> dict[str, str]:
    """rating (feedback uid) -> its appeals' state: upheld if any appeal of it was upheld (it is set
    aside: the rule of the figures and, since schema 24, of the window report, rating.mark), else
    its latest appeal's: waiting | rejected."""
    kinds, params = storage.in_list("e.kind", KINDS)
    fields = ", ".join(storage.json_field("e.payload", name) for name in ("appeal", "feedback", "decision"))
    # _fold's rule over the three fields it needs here, not every payload decoded (an export's start).
    rows = [(kind, {"appeal": uid, "feedback": feedback, "decision": decision}, None)
            for kind, uid, feedback, decision in tx.all(f"SELECT e.kind, {fields} FROM event e WHERE {kinds} "
                                                        f"AND e.void_id IS NULL ORDER BY {ARRIVAL}", params)]
    return rating_states((appeal["feedback"], appeal["decision"]) for appeal in _fold(rows).values())


def rated(tx: Tx, storage: Storage, found: list[dict]) -> None:
    """Each appeal of `found` given what its rating says, read by key (`rating_feedback`, then the
    ticket's row by its uid), a chunk of ratings a statement: `number` the ticket's (ticket_state's,
    the one its page is found by; else the rating's own), None for an anonymous rating; `stage`
    intake | completion (a window pad's), None for the lobby's; `rating` 1-5 and its `level`
    (kiosk/domain/feedback.py LEVELS). All None for a rating that does not count (not stored yet,
    voided, or a second rating of its ticket's stage: the rating read model keeps the first)."""
    feedbacks = sorted({a["feedback"] for a in found if isinstance(a["feedback"], str)})
    known: dict[str, tuple] = {}
    for start in range(0, len(feedbacks), rating.CHUNK):
        where, params = storage.in_list("r.feedback", feedbacks[start:start + rating.CHUNK])
        # An anonymous rating stored twice is two rows of one uid: its first arrival (as the export).
        # The ticket's number by its key for each row found (not a join the planner may hash over the table).
        for feedback, *row in tx.all("SELECT r.feedback, COALESCE((SELECT s.number FROM ticket_state s "
                                     "WHERE s.uid = r.ticket), r.number), r.stage, r.rating FROM rating r "
                                     f"WHERE {where} ORDER BY r.arrival DESC", params):
            known[feedback] = tuple(row)
    for a in found:
        number, stage, stars = known.get(a["feedback"], (None, None, None))
        a.update(number=number, stage=stage, rating=stars, level=LEVELS.get(stars) if stars else None)


def listed(storage: Storage) -> list[dict]:
    """Every appeal, waiting ones first, then the newest: every appeal event folded (tests, a
    small central; the office pages read `page`)."""
    with storage.read() as tx:
        found = list(_fold(_events(tx, storage)).values())
        rated(tx, storage, found)
    waiting = [a for a in found if a["decision"] is None]
    decided = [a for a in found if a["decision"] is not None]
    return waiting + decided[::-1]


# The list's states (`appeals_state`), each an index range of the appeal read model (central/readmodels/
# appeal.py) in its order: (condition, the place's columns, newest first). Waiting ones are the
# supervisor's work: the default, oldest filed first (the longest waiting on top); decided ones
# newest decided first; every appeal newest filed first (the list's order before schema 28).
STATES = ("waiting", "decided", "upheld", "rejected", "all")
DEFAULT_STATE = "waiting"
ORDERS = {
    "waiting": ("a.decided_event IS NULL", ("a.filed_at", "a.filed_event"), False),
    "decided": ("a.decided_event IS NOT NULL", ("a.decided_at", "a.decided_event"), True),
    "upheld": ("a.decided_event IS NOT NULL AND a.decision = 'upheld'", ("a.decided_at", "a.decided_event"), True),
    "rejected": ("a.decided_event IS NOT NULL AND a.decision = 'rejected'", ("a.decided_at", "a.decided_event"), True),
    "all": ("TRUE", ("a.filed_at", "a.filed_event"), True),
}


@dataclass(frozen=True)
class Cursor:
    """An appeal's place in its state's order: its filing's (or, decided ones, its decision's)
    event's `created_at` and id."""

    at: datetime
    event: int

    def link(self, after: bool) -> str:
        return pagelinks.link(after, pagelinks.micros(self.at), str(self.event))

    @staticmethod
    def parse(text: str) -> tuple[Cursor, bool]:
        """A page link (PAGE_LINK, checked by the caller): (the appeal, whether the page is after it)."""
        (micros, event), after = pagelinks.parts(text, 2)
        return Cursor(pagelinks.moment(micros), int(event)), after


@dataclass(frozen=True)
class Asked:
    """Which page of the appeals: of a state (STATES), after or before an appeal's place in its order."""

    after: Cursor | None = None
    before: Cursor | None = None
    size: int = PAGE_SIZE
    state: str = DEFAULT_STATE


FIRST = Asked()


class Count(TypedDict):
    """A state's appeals, counted up to COUNT_CAP; `more`: more than that."""

    count: int
    more: bool


@dataclass
class Page:
    appeals: list[dict]  # as `listed` has each
    next: Cursor | None
    previous: Cursor | None
    count: int  # the state's appeals, counted up to COUNT_CAP
    more: bool  # more than COUNT_CAP
    state: str = DEFAULT_STATE
    counts: dict[str, Count] | None = None  # each state's, as `count` and `more`


def page(storage: Storage, asked: Asked = FIRST) -> Page:
    """One page of the appeals of `asked.state`, in its order (ORDERS: the place's time, then
    its event id: ties keep one order), `asked.size` of them after or before a place: an index
    range of the appeal read model, then the page's appeals folded from their own events
    (event_appeal), as `listed` folds them all, and their ratings read (`rated`); each state
    counted up to COUNT_CAP (index ranges of at most COUNT_CAP + 1 rows)."""
    where, (at, event), newest = ORDERS[asked.state]
    backwards = asked.before is not None
    cursor = asked.before or asked.after
    params: list = []
    if cursor is not None:
        where += f" AND ({at}, {event}) {'<' if newest != backwards else '>'} (?, ?)"
        params = [storage.timestamp(cursor.at), cursor.event]
    way = "DESC" if newest != backwards else "ASC"
    appeal = storage.json_field("e.payload", "appeal")
    with storage.read() as tx:
        rows = tx.all(f"SELECT {at}, {event}, a.appeal FROM appeal a WHERE {where} "
                      f"ORDER BY {at} {way}, {event} {way} LIMIT {int(asked.size) + 1}", params)
        further = len(rows) > asked.size
        rows = rows[:asked.size]
        if backwards:
            rows.reverse()
        uids = [uid for *_, uid in rows]
        found: dict[str, dict] = {}
        if uids:
            named, named_params = storage.in_list(appeal, uids)
            found = _fold(_events(tx, storage, f"AND {named}", named_params))
            rated(tx, storage, list(found.values()))
        counted = tx.all(" UNION ALL ".join(
            f"SELECT '{state}', count(*) FROM (SELECT 1 FROM appeal a WHERE {ORDERS[state][0]} "
            f"LIMIT {COUNT_CAP + 1}) c{n}" for n, state in enumerate(STATES)))
    counts = {state: Count(count=min(int(n), COUNT_CAP), more=int(n) > COUNT_CAP) for state, n in counted}
    places = [Cursor(as_datetime(placed), int(event_id)) for placed, event_id, _ in rows]
    listed_ = [found[uid] for uid in uids if uid in found]
    shown = counts[asked.state]
    return Page(listed_, *pagelinks.neighbours(places, further, asked.after, asked.before), shown["count"],
                shown["more"], asked.state, counts)


def _clean(value, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise DecideError("invalid", f"{field}: required", field=field)
    try:
        return clean_text(value, required=True, max_length=limit)
    except FieldError as e:
        raise DecideError("invalid", f"{field}: {e.key}", field=field) from None


def _appeal_site(tx: Tx, storage: Storage, appeal_uid: str) -> str | None:
    """The site of the desk that filed the appeal (the first to arrive): its desks get the office's
    decision. None (every site): an appeal of a device central no longer has."""
    appeal = storage.json_field("e.payload", "appeal")
    row = tx.one(f"SELECT d.site FROM event e JOIN device d ON d.id = e.device_id WHERE e.kind = 'rating.appealed' "
                 f"AND {appeal} = ? AND e.void_id IS NULL ORDER BY {ARRIVAL} LIMIT 1", (appeal_uid,))
    return row[0] if row else None


def decide(storage: Storage, appeal_uid: str, decision, reason, name, *, username: str = "office",
           now: datetime | None = None) -> dict:
    """A supervisor's decision from the back office: the `appeal.decided` event, one
    transaction. DecideError no_appeal | decided | invalid. The appeal as `listed` has it."""
    from .events import check  # what central writes, it must accept
    from .followups import central_uid

    if decision not in APPEAL_DECISIONS:
        raise DecideError("invalid", "decision: upheld or rejected", field="decision")
    reason, name = _clean(reason, "reason", MAX_REASON), _clean(name, "name", 200)
    now = now or utc_now()
    appeal = storage.json_field("e.payload", "appeal")
    with storage.transaction() as tx:
        if storage.postgres:
            tx.execute(f"SELECT pg_advisory_xact_lock({APPEAL_LOCK})")
        found = _fold(_events(tx, storage, f"AND {appeal} = ?", (appeal_uid,))).get(appeal_uid)
        if found is None:
            raise DecideError("no_appeal", "there is no appeal with this uid")
        if found["decision"] is not None:
            raise DecideError("decided", f"decided at {found['decided_at']} by {found['decided_by'] or '—'}: "
                                         f"{found['decision']}")
        rated(tx, storage, [found])
        event_uid = uuid7()
        payload = json.dumps({"appeal": appeal_uid, "feedback": found["feedback"], "device": central_uid(tx),
                              "at": now.isoformat(), "decision": decision, "reason": reason,
                              "supervisor": {"username": username, "name": name}, "via": "office"},
                             ensure_ascii=False, sort_keys=True)
        checked = check(event_uid, "appeal.decided", now.isoformat(), payload.encode("utf-8"))
        event_id = tx.one("INSERT INTO event (uid, kind, device_id, ticket, status, created_at, received_at, "
                          "payload) VALUES (?, ?, ?, NULL, NULL, ?, ?, ?) RETURNING id",
                          (checked.uid, checked.kind, OFFICE_DEVICE_ID, storage.timestamp(now), ts(now),
                           checked.payload_json))[0]
        appeal_model.refresh(tx, storage, [appeal_uid])
        rating.mark(tx, storage, [found["feedback"]] if isinstance(found["feedback"], str) else [])
        feed.publish_events(tx, None, [(event_id, checked.kind)], site=_appeal_site(tx, storage, appeal_uid))
    log.info("appeal %s decided from the back office (event %s)", appeal_uid, event_uid)
    return found | {"decision": decision, "decided_at": ts(now), "decision_reason": reason, "decided_by": name,
                    "via": "office"}

