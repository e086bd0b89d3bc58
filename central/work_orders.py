"""差评工单 in the back office's window ratings (/office/ratings and its JSON): the window pads' poor
ratings of a period as work orders (due date, call-back deadline, the call-backs made, the close and
the customer's rating of the fix), newest rating first, in keyset pages, filtered by state (open,
closed).

A page is an index range of the rating read model (`rating_window`, the window pads' ratings by
local day): the poor ones (kiosk/domain/feedback.py POOR, the ratings a pad opens a follow-up for),
in (day, given_at, rated) order, each joined by primary keys to its event, its follow-up (the
followup read model) and that follow-up's opening and closing events. A rating's event id is the
last 20 digits of its `arrival` (central/readmodels/stored.py arrival). The work orders are the
follow-ups of the ratings that count: a ticket's stage rated twice at a window has the work order
of the first rating received, as the groups count it.

The call-backs (`followup.called`, in arrival order) are read for the page's follow-ups only, from
the calls made since the page's oldest rating (less PAD: a device's clock): no index holds a call
by its follow-up (see docs/design/office-read-models.md §12), so a deep page of an old period
reads more calls than the first.

Pages are "after" (`n`, older) or "before" (`p`, newer) a rating's place: ratings that arrive
meanwhile neither repeat nor skip a row of the pages that follow (central/search.py's rule)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kiosk.domain.feedback import POOR

from . import pagelinks
from .storage import Storage, as_datetime
from .words import ARRIVAL

PAGE_SIZE, MAX_PAGE_SIZE = 50, 500
STATES = ("open", "closed")
PAD = timedelta(days=2)  # a device's `created_at` and the payload's `at` may differ (a clamped clock)
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# A page link (central/pagelinks.py): `n` the page after (older), `p` the page before (newer) a
# rating: its local day, its given_at and its key in the rating read model (a ticket's uid and the
# stage rated, or an anonymous rating's event uid).
PAGE_LINK = f"[np]{pagelinks.DAY}\\.{pagelinks.MICROS}\\.{_UUID}(?:\\|(?:intake|completion))?"
ORDER = ("r.day", "r.given_at", "r.rated")


@dataclass(frozen=True)
class Cursor:
    """A rating's place in the work orders' order."""

    day: str
    given_at: datetime
    rated: str

    def link(self, after: bool) -> str:
        return pagelinks.link(after, self.day, pagelinks.micros(self.given_at), self.rated)

    @staticmethod
    def parse(text: str) -> tuple[Cursor, bool]:
        """A page link (PAGE_LINK, checked by the caller): (the rating, whether the page is after it)."""
        (day, micros, rated), after = pagelinks.parts(text, 3)
        return Cursor(day, pagelinks.moment(micros), rated), after


@dataclass(frozen=True)
class Orders:
    """Which page of which work orders: the period is the report's."""

    state: str | None = None  # open | closed | None: both
    size: int = PAGE_SIZE
    after: Cursor | None = None
    before: Cursor | None = None


FIRST = Orders()  # the first page, both states


@dataclass
class Page:
    orders: list[dict]
    next: Cursor | None
    previous: Cursor | None


def page(storage: Storage, first: date | None, last: date | None, asked: Orders = FIRST) -> Page:
    """One page of the work orders of the ratings given on the local days first..last (None: no
    bound), `asked.size` of them, newest rating first, after or before a cursor."""
    backwards = asked.before is not None
    cursor = asked.before or asked.after
    event_id = "CAST(substr(r.arrival, length(r.arrival) - 19) AS BIGINT)"
    where = ["r.stage IS NOT NULL", f"r.rating IN ({', '.join(str(n) for n in sorted(POOR))})"]
    params: list = []
    if first is not None:
        where.append("r.day >= ?")
        params.append(first.isoformat())
    if last is not None:
        where.append("r.day <= ?")
        params.append(last.isoformat())
    if asked.state is not None:
        where.append(f"f.closed_event IS {'NOT ' if asked.state == 'closed' else ''}NULL")
    if cursor is not None:
        where.append(f"({', '.join(ORDER)}) {'>' if backwards else '<'} (?, ?, ?)")
        params += [cursor.day, storage.timestamp(cursor.given_at), cursor.rated]
    order = ", ".join(f"{column} {'ASC' if backwards else 'DESC'}" for column in ORDER)
    with storage.read() as tx:
        rows = tx.all(
            f"SELECT r.day, r.given_at, r.rated, f.uid, {storage.json_text('o.payload')}, "
            f"{storage.json_text('c.payload')} FROM rating r JOIN event e ON e.id = {event_id} "
            f"JOIN followup f ON f.uid = {storage.json_field('e.payload', 'followup', 'uid')} "
            "JOIN event o ON o.id = f.opened_event LEFT JOIN event c ON c.id = f.closed_event "
            f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {int(asked.size) + 1}", params)
        more = len(rows) > asked.size
        rows = rows[:asked.size]
        if backwards:
            rows.reverse()
        orders = [_order(_payload(opened), _payload(closed)) for *_, opened, closed in rows]
        places = [Cursor(day, as_datetime(at), rated) for day, at, rated, *_ in rows]
        _calls(storage, tx, orders, min((place.given_at for place in places), default=None))
    return Page(orders, *pagelinks.neighbours(places, more, asked.after, asked.before))


def _payload(text) -> dict:
    value = json.loads(text) if isinstance(text, str) else text
    return value if isinstance(value, dict) else {}


def _clerk(p: dict) -> str | None:
    clerk = p.get("clerk")
    if not isinstance(clerk, dict):  # absent, or not an object: no name
        clerk = {}
    return clerk.get("name") or clerk.get("username")


def _order(p: dict, closed: dict) -> dict:
    """A work order as the report has it: its rating's payload and its close's (empty: open)."""
    opened = p.get("followup")
    if not isinstance(opened, dict):  # absent, or not an object: nothing of the follow-up
        opened = {}
    return {"followup": opened.get("uid"), "feedback": p.get("feedback"), "number": p.get("number"),
            "stage": p.get("stage"), "staff_number": p.get("staff_number"), "rating": p.get("rating"),
            "reason": p.get("reason"), "given_at": p.get("at"), "due_on": opened.get("due_on"),
            "callback_by": opened.get("callback_by"), "calls": [],
            "closed_at": closed.get("at"), "note": closed.get("note"), "fix": closed.get("fix"),
            "closed_by": _clerk(closed)}


def _calls(storage: Storage, tx, orders: list[dict], since: datetime | None) -> None:
    """Each order's call-backs, in arrival order: the calls made since `since` (less PAD) naming one."""
    by_uid = {order["followup"]: order for order in orders}
    if not by_uid or since is None:
        return
    named, params = storage.in_list(storage.json_field("e.payload", "followup"), sorted(by_uid))
    for text, in tx.all(f"SELECT {storage.json_text('e.payload')} FROM event e WHERE e.kind = 'followup.called' "
                        f"AND e.created_at >= ? AND e.void_id IS NULL AND {named} ORDER BY {ARRIVAL}",
                        [storage.timestamp(since - PAD), *params]):
        p = _payload(text)
        by_uid[p["followup"]]["calls"].append({"at": p.get("at"), "reached": bool(p.get("reached")),
                                               "note": p.get("note"), "by": _clerk(p)})

