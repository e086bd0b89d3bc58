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
range counted, and only the page's rows read and assessed. The CSV is the whole list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kiosk.domain.clock import local, utc_now
from kiosk.domain.worklist import PICKUP_DAYS, WorkItem, WorkList, assess, ordered

from .readmodels import ticket_state
from .storage import Storage

STEP = {1: "received", 2: "ready"}
PAGE_SIZE, MAX_PAGE_SIZE = 100, 500  # a page of the list (the JSON and the page; the CSV is all of it)


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


def work_list(storage: Storage, now: datetime | None = None, pickup_days: int = PICKUP_DAYS) -> WorkList:
    now = local(now or utc_now())
    with storage.read() as tx:
        rows = ticket_state.open_tickets(tx)
    return ordered([_assessed(row, now, pickup_days) for row in rows], pickup_days)


def work_page(storage: Storage, page: int = 1, size: int = PAGE_SIZE, now: datetime | None = None,
              pickup_days: int = PICKUP_DAYS) -> WorkPage:
    """Page `page` (from 1) of `size` tickets of work_list's order."""
    now = local(now or utc_now())
    at, cutoff = storage.timestamp(now), (now.date() - timedelta(days=pickup_days)).isoformat()
    ranges = (  # (where, params, order), in the list's order (kiosk/domain/worklist.py _order)
        ("status = 1 AND due_at <= ?", (at,), "due_at, number"),
        ("status = 2 AND ready_day < ?", (cutoff,), "ready_day, number"),
        ("status = 1 AND due_at > ?", (at,), "due_at, number"),
        ("status = 1 AND due_at IS NULL", (), "number"),
        ("status = 2 AND ready_day >= ?", (cutoff,), "ready_day, number"),
    )
    skip, wanted, rows = (page - 1) * size, size, []
    with storage.read() as tx:
        counts = [tx.one(f"SELECT COUNT(*) FROM ticket_state WHERE {where} AND received_at IS NOT NULL", params)[0]
                  for where, params, _ in ranges]
        for (where, params, order), n in zip(ranges, counts):
            if skip >= n:
                skip -= n
                continue
            if wanted > 0:
                found = ticket_state.rows_where(tx, f"WHERE {where} AND received_at IS NOT NULL ORDER BY {order} "
                                                   f"LIMIT {int(wanted)} OFFSET {int(skip)}", params)
                rows += found
                wanted -= len(found)
            skip = 0
    total = sum(counts)
    return WorkPage([_assessed(row, now, pickup_days) for row in rows], pickup_days, counts[0] + counts[2] + counts[3],
                    counts[0], counts[1] + counts[4], counts[1], max(1, -(-total // size)))


def _assessed(row: dict, now: datetime, pickup_days: int) -> WorkItem:
    """One open ticket's row as the list shows it."""
    registered = row["registration_key"] is not None
    number = (row["number"] if registered else row["intake_number"]) or ""
    customer = tuple(row[c] or "" for c in ("organisation", "contact", "phone")) if registered else ("", "", "")
    ready_on = date.fromisoformat(row["ready_on"]) if row["ready_on"] else None
    hours = int(row["urgent_hours"]) if row["urgent_hours"] else None
    urgent_by = local(row["received_at"] + timedelta(hours=hours)) if hours else None
    return assess(row["uid"], number, STEP[row["status"]], customer, row["instruments"],
                  row["received_at"], row["ready_at"], urgent_by, ready_on, now, pickup_days,
                  tuple(json.loads(row["services"])))
