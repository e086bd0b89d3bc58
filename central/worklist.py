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
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from kiosk.domain.clock import local, utc_now
from kiosk.domain.worklist import PICKUP_DAYS, WorkList, assess, ordered

from .readmodels import ticket_state
from .storage import Storage

STEP = {1: "received", 2: "ready"}
PAGE_SIZE, MAX_PAGE_SIZE = 100, 500  # a page of the list (the JSON and the page; the CSV is all of it)


def work_list(storage: Storage, now: datetime | None = None, pickup_days: int = PICKUP_DAYS) -> WorkList:
    now = local(now or utc_now())
    with storage.read() as tx:
        rows = ticket_state.open_tickets(tx)
    items = []
    for row in rows:
        registered = row["registration_key"] is not None
        number = (row["number"] if registered else row["intake_number"]) or ""
        customer = tuple(row[c] or "" for c in ("organisation", "contact", "phone")) if registered else ("", "", "")
        ready_on = date.fromisoformat(row["ready_on"]) if row["ready_on"] else None
        hours = int(row["urgent_hours"]) if row["urgent_hours"] else None
        urgent_by = local(row["received_at"] + timedelta(hours=hours)) if hours else None
        items.append(assess(row["uid"], number, STEP[row["status"]], customer, row["instruments"],
                            row["received_at"], row["ready_at"], urgent_by, ready_on, now, pickup_days,
                            tuple(json.loads(row["services"]))))
    return ordered(items, pickup_days)
