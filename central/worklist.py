"""在办清单 in the back office: every ticket taken in at any desk and not yet handed back,
from the events the devices pushed. The rule is the desk's (kiosk/domain/worklist.py `assess`):
late lab work first, then pickups waiting longer than `pickup_days`.

What central knows differently from a desk:
- The promised date is the one the kiosk printed on the receipt (`ticket.ready_on` in the
  registration, computed there with the institute's holiday list), and urgent hours count
  from the earliest intake; a ticket registered before the kiosk sent these (or whose
  registration has not arrived) has no promise and is never "late" in the lab.
- Status and dates: the earliest record of each step, from any desk (central/tickets.py's
  rule: the furthest status wins).
- Instruments: the earliest intake's lines, refused ones not counted.

Read from ticket_state (central/readmodels/), which a push keeps current: the open tickets only.
A page is read as the list orders them (kiosk/domain/worklist.py `ordered`), in four index
ranges: late lab work by promise, overdue pickups by the day they became ready, then the lab
work not yet late (a ticket with no promise last) and the pickups still in their period; each
range counted, and only the page's rows read and assessed. The CSV is the whole list. A page's
rows are found by their uids first, in the ranges' indexes alone (schema 20: the uid in them, an
index-only scan skips a deep page's OFFSET), then read by uid: page 100 costs about what page 1 does.

The next page is also a keyset (`WorkCursor`, the pages' `next` link): the list's moment and
pickup period (so the ranges' bounds stay those of the first page, whatever time passes while a
clerk pages on), the place in the list, and the last range row's key in its range's order; the
next page's rows are read from there in the index, with no OFFSET at all. `page=N` stays (a
place in the list as of now), and the previous page is such a link.

Certificates returned for correction at a dispatch counter (issue 23: `certificate.checked` with
outcome `returned`, not yet re-checked or taken as they are; central/certificate_checks.py): their
ticket is listed as lab work again, with the corrected certificates' own promise (the desk's
`with_returns`), late once it has passed, whatever its status. Those tickets are few: a page reads
them whole, leaves them out of the index ranges, and places each among the ranges' rows by
counting the rows that come before it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kiosk.domain.clock import local, utc_now
from kiosk.domain.worklist import PICKUP_DAYS, WorkItem, WorkList, assess, ordered, with_returns

from . import certificate_checks, settings
from .readmodels import ticket_state
from .storage import Storage, Tx, ts

STEP = {1: "received", 2: "ready"}
OPEN = "s.status IN (1, 2) AND s.received_at IS NOT NULL"  # ticket_state.open_tickets, as `s`
PAGE_SIZE, MAX_PAGE_SIZE = 100, 500  # a page of the list (the JSON and the page; the CSV is all of it)


# Each range's keyset after a row (its order, the uid last), and the key's length: a promise or a day, then the number.
KEYSETS = ("(due_at, number, uid) > (?, ?, ?)", "(ready_day, number, uid) > (?, ?, ?)",
           "(due_at, number, uid) > (?, ?, ?)", "(number, uid) > (?, ?)", "(ready_day, number, uid) > (?, ?, ?)")
TIMED = (0, 2)  # the ranges keyed by a moment (due_at)
CURSOR = re.compile(r"[A-Za-z0-9_-]{8,1200}")  # base64url of the cursor's JSON, as `text` writes it
MAX_KEY = 200  # characters of a key's part (a ticket number is 20-odd)


class BadCursor(ValueError):
    """A `next` link not as a page gave it (cut, edited, or of another version)."""


@dataclass(frozen=True)
class WorkCursor:
    """Where the next page starts: the list as of `at` with `days` for pickups, `position` rows
    already listed, `last` the last of them read from a range: (range, its key as text, uid)."""

    at: datetime
    days: int
    position: int
    last: tuple[int, tuple[str, ...], str] | None

    def text(self) -> str:
        last = [self.last[0], list(self.last[1]), self.last[2]] if self.last else None
        data = json.dumps([1, ts(self.at), self.days, self.position, last], ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")

    @staticmethod
    def parse(text: str) -> WorkCursor:
        """A `next` link's cursor; BadCursor says what is wrong with one that is not."""
        text = text.strip()
        if not CURSOR.fullmatch(text):
            raise BadCursor("after: a work list's `next` link, as a page gave it")
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
            version, at, days, position, last = data
            at = datetime.fromisoformat(at)
            ok = (version == 1 and at.tzinfo is not None and type(days) is int and 1 <= days <= 365
                  and type(position) is int and 0 <= position <= 10**9)
            if ok and last is not None:
                index, key, uid = last
                ok = (type(index) is int and 0 <= index < len(KEYSETS) and isinstance(key, list)
                      and len(key) == KEYSETS[index].count("?") - 1 and isinstance(uid, str) and 0 < len(uid) <= 64
                      and all(isinstance(k, str) and len(k) <= MAX_KEY for k in key))
                if ok and index in TIMED and datetime.fromisoformat(key[0]).tzinfo is None:
                    ok = False
                last = (index, tuple(key), uid) if ok else None
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
            ok = False
        if not ok:
            raise BadCursor("after: not a work list's `next` link (cut or changed?); open the list again")
        return WorkCursor(at, days, position, last)


@dataclass(frozen=True)
class WorkPage:
    """A page of the work list, with the whole list's counts."""

    items: list[WorkItem]
    pickup_days: int
    in_lab: int
    in_lab_late: int
    waiting: int
    waiting_overdue: int
    pages: int
    next: WorkCursor | None = None  # the next page's keyset (None: this is the last)
    position: int = 0  # rows of the list before this page


def work_list(storage: Storage, now: datetime | None = None, pickup_days: int = PICKUP_DAYS) -> WorkList:
    now = local(now or utc_now())
    with storage.read() as tx:
        rows = ticket_state.open_tickets(tx)
        returns = _returns(tx, storage)
    return ordered([_with_returns(_assessed(row, now, pickup_days), returns, now) for row in rows], pickup_days)


def _returns(tx: Tx, storage: Storage) -> dict[str, tuple[int, date | None]]:
    return certificate_checks.returned_for_correction(tx, storage, OPEN, settings.correction_days())


def _with_returns(item: WorkItem, returns: dict[str, tuple[int, date | None]], now: datetime) -> WorkItem:
    found = returns.get(str(item.ticket_id))
    return item if found is None else with_returns(item, *found, now)


def work_page(storage: Storage, page: int = 1, size: int = PAGE_SIZE, now: datetime | None = None,
              pickup_days: int = PICKUP_DAYS, after: WorkCursor | None = None) -> WorkPage:
    """Page `page` (from 1) of `size` tickets of work_list's order; or, `after` a cursor, the
    `size` tickets after it (the list as of its moment, for its pickup period)."""
    if after is not None:
        now, pickup_days = after.at, after.days
    now = local(now or utc_now())
    at, cutoff = storage.timestamp(now), (now.date() - timedelta(days=pickup_days)).isoformat()
    ranges: tuple[tuple[str, tuple[object, ...], str], ...] = (  # (where, params, order), in the list's order
        # (kiosk/domain/worklist.py _order)
        ("status = 1 AND due_at <= ?", (at,), "due_at, number"),
        ("status = 2 AND ready_day < ?", (cutoff,), "ready_day, number"),
        ("status = 1 AND due_at > ?", (at,), "due_at, number"),
        ("status = 1 AND due_at IS NULL", (), "number"),
        ("status = 2 AND ready_day >= ?", (cutoff,), "ready_day, number"),
    )
    start, rows = (after.position if after else (page - 1) * size), []
    last = after.last if after else None  # the last row read from a range, as (range, row's key, uid)
    with storage.read() as tx:
        returns = _returns(tx, storage)
        # The tickets with certificates back in the lab: read whole, left out of the ranges.
        aside, aside_params = storage.in_list("uid", sorted(returns)) if returns else ("FALSE", [])
        ranges = tuple((f"{where} AND received_at IS NOT NULL AND NOT ({aside})", (*params, *aside_params), order)
                       for where, params, order in ranges)
        counts = [tx.one(f"SELECT COUNT(*) FROM ticket_state WHERE {where}", params)[0] for where, params, _ in ranges]
        returned = ordered([_with_returns(_assessed(row, now, pickup_days), returns, now) for row in
                            ticket_state.rows_where(tx, f"WHERE {aside} AND status IN (1, 2) AND received_at IS NOT "
                                                        "NULL", aside_params)], pickup_days).items
        # Where each goes in the list: after the rows of the ranges that come before it.
        places = [n + _before(tx, storage, item, ranges, counts) for n, item in enumerate(returned)]
        on_page = [item for item, at in zip(returned, places) if start <= at < start + size]
        skip = start - sum(1 for at in places if at < start)
        wanted = size - len(on_page)
        for index, ((where, params, order), n) in enumerate(zip(ranges, counts)):
            if after is not None:  # a keyset: the ranges before the cursor's skipped, its own read past it
                skip = 0
                if last is not None and index < last[0]:
                    continue
                if last is not None and index == last[0]:
                    where, params = f"{where} AND {KEYSETS[index]}", (*params, *_key_params(storage, *last))
            elif skip >= n:
                skip -= n
                continue
            if wanted > 0:
                found = _range_page(tx, storage, where, params, order, wanted, skip)
                rows += found
                wanted -= len(found)
                if found:
                    last = (index, _key(index, found[-1]), found[-1]["uid"])
            skip = 0
    total = sum(counts) + len(returned)
    listed = start + len(rows) + len(on_page)
    following = WorkCursor(now, pickup_days, listed, last) if listed < total else None
    items = ordered([_assessed(row, now, pickup_days) for row in rows] + on_page, pickup_days).items
    lab = [i for i in returned if i.status == "received"]
    ready = [i for i in returned if i.status == "ready"]
    return WorkPage(items, pickup_days, counts[0] + counts[2] + counts[3] + len(lab),
                    counts[0] + sum(1 for i in lab if i.late), counts[1] + counts[4] + len(ready),
                    counts[1] + sum(1 for i in ready if i.late), max(1, -(-total // size)), following, start)


def _key(index: int, row: dict) -> tuple[str, ...]:
    """A range row's key in its range's order, as text (a moment as `ts`: fixed width, UTC)."""
    if index in TIMED:
        return ts(row["due_at"]), row["number"]
    if index == 3:
        return (row["number"],)
    return row["ready_day"], row["number"]


def _key_params(storage: Storage, index: int, key: tuple[str, ...], uid: str) -> tuple:
    if index in TIMED:
        return storage.timestamp(datetime.fromisoformat(key[0])), *key[1:], uid
    return *key, uid


def _range_page(tx: Tx, storage: Storage, where: str, params, order: str, limit: int, offset: int) -> list[dict]:
    """`limit` rows of a range after `offset`, in its order (the uid last: one order, page after
    page): their uids from the index alone, then their rows."""
    uids = [uid for (uid,) in tx.all(f"SELECT uid FROM ticket_state WHERE {where} ORDER BY {order}, uid "
                                     f"LIMIT {int(limit)} OFFSET {int(offset)}", params)]
    if not uids:
        return []
    listed, listed_params = storage.in_list("uid", uids)
    by_uid = {row["uid"]: row for row in ticket_state.rows_where(tx, f"WHERE {listed}", listed_params)}
    return [by_uid[uid] for uid in uids]


def _before(tx: Tx, storage: Storage, item: WorkItem, ranges: tuple, counts: list[int]) -> int:
    """How many rows of the ranges come before a returned ticket's item in the list's order
    (kiosk/domain/worklist.py _order): it is lab work, late (with the late lab work, by its
    promise) or not (with the lab work not yet late; no promise: with those that have none)."""
    due = item.due
    if item.late and due is not None:
        where, params, _ = ranges[0]
        at = storage.timestamp(due)
        return tx.one(f"SELECT COUNT(*) FROM ticket_state WHERE {where} AND (due_at < ? OR (due_at = ? AND "
                      "number < ?))", (*params, at, at, item.number))[0]
    if due is not None:
        where, params, _ = ranges[2]
        at = storage.timestamp(due)
        return counts[0] + counts[1] + tx.one(
            f"SELECT COUNT(*) FROM ticket_state WHERE {where} AND (due_at < ? OR (due_at = ? AND number < ?))",
            (*params, at, at, item.number))[0]
    where, params, _ = ranges[3]
    return counts[0] + counts[1] + counts[2] + tx.one(
        f"SELECT COUNT(*) FROM ticket_state WHERE {where} AND number < ?", (*params, item.number))[0]


def _assessed(row: dict, now: datetime, pickup_days: int) -> WorkItem:
    """One open ticket's row as the list shows it."""
    registered = row["registration_event"] is not None
    number = (row["number"] if registered else row["intake_number"]) or ""
    customer = ((row["organisation"] or "", row["contact"] or "", row["phone"] or "") if registered
                else ("", "", ""))
    ready_on = date.fromisoformat(row["ready_on"]) if row["ready_on"] else None
    hours = int(row["urgent_hours"]) if row["urgent_hours"] else None
    urgent_by = local(row["received_at"] + timedelta(hours=hours)) if hours else None
    return assess(row["uid"], number, STEP[row["status"]], customer, row["instruments"],
                  row["received_at"], row["ready_at"], urgent_by, ready_on, now, pickup_days,
                  tuple(json.loads(row["services"])))
