"""Appeals (申诉) against ratings in the back office (issue 21): staff at a desk ask a supervisor
to review a rating they think mistaken or malicious (`rating.appealed`, kiosk/store/window_ratings.py);
a supervisor decides, at a desk (`appeal.decided` pushed, via "desk") or here (a director: the
event written by central itself, under device id 0 and central's own device uid, via "office",
as the office's follow-up closes are, and published to the desks of the appeal's site). The
rating is never deleted: an upheld appeal leaves it out of the window figures and the satisfaction
figures and CSV, and marks it in the export (central/ratings_export.py).

Nothing is stored for an appeal but its events: its state is derived when asked
(central/readmodels/appealed.py has the rule: the first appeal event of a uid to arrive is the
appeal; the first decision to arrive is the decision; a later one is stored, both happened, and
ignored). Schema 14: an index on the appeal uid of both kinds, which a decision's check reads.
Schema 19: the rating read model's `set_aside`, kept by each push of an appeal event and by the
office's decision in its own transaction.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from kiosk.domain.clock import utc_now
from kiosk.domain.feedback import APPEAL_DECISIONS
from kiosk.domain.ids import uuid7
from kiosk.domain.validation import FieldError, clean_text

from . import feed
from .readmodels import rating
from .readmodels.appealed import KINDS as APPEAL_KINDS
from .readmodels.appealed import events as _events
from .readmodels.appealed import fold as _fold
from .storage import Storage, Tx, ts
from .words import ARRIVAL

log = logging.getLogger("central")

KINDS = APPEAL_KINDS
OFFICE_DEVICE_ID = 0  # as central/followups.py: what the back office writes itself
APPEAL_LOCK = 7400402  # PostgreSQL advisory lock: one office decision at a time
MAX_REASON = 500

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
    result: dict[str, str] = {}
    for appeal in _fold(_events(tx, storage)).values():
        if result.get(appeal["feedback"]) != "upheld":
            result[appeal["feedback"]] = appeal["decision"] or "waiting"
    return result


def listed(storage: Storage) -> list[dict]:
    """Every appeal, waiting ones first, then the newest."""
    with storage.read() as tx:
        found = list(_fold(_events(tx, storage)).values())
    waiting = [a for a in found if a["decision"] is None]
    decided = [a for a in found if a["decision"] is not None]
    return waiting + decided[::-1]


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
        rating.mark(tx, storage, [found["feedback"]] if isinstance(found["feedback"], str) else [])
        feed.publish_events(tx, None, [(event_id, checked.kind)], site=_appeal_site(tx, storage, appeal_uid))
    log.info("appeal %s decided from the back office (event %s)", appeal_uid, event_uid)
    return found | {"decision": decision, "decided_at": ts(now), "decision_reason": reason, "decided_by": name,
                    "via": "office"}

