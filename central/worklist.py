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
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from kiosk.domain.clock import local, utc_now
from kiosk.domain.worklist import PICKUP_DAYS, WorkList, assess, ordered

from .due import CHUNK
from .storage import Storage, as_datetime

STEP = {1: "received", 2: "ready"}


def _instruments(lines_json: str | None) -> tuple[int, tuple[str, ...]]:
    """The intake's instruments (refused lines not counted) and their services."""
    try:
        lines = json.loads(lines_json) if lines_json else []
        taken = [ln for ln in lines if isinstance(ln, dict) and not ln.get("refused")]
        return sum(int(ln["quantity"]) for ln in taken), tuple(sorted({str(ln.get("service")) for ln in taken}))
    except (ValueError, TypeError, KeyError):
        return 0, ()


def work_list(storage: Storage, now: datetime | None = None, pickup_days: int = PICKUP_DAYS) -> WorkList:
    now = local(now or utc_now())
    f = storage.json_field
    with storage.read() as tx:
        open_tickets = [t for (t,) in tx.all(
            "SELECT ticket FROM event WHERE ticket IS NOT NULL AND void_id IS NULL GROUP BY ticket "
            "HAVING MAX(status) IN (1, 2)")]
        facts: dict[str, dict[int, tuple]] = {}
        for start in range(0, len(open_tickets), CHUNK):
            where, params = storage.in_list("ticket", open_tickets[start:start + CHUNK])
            for ticket, status, at, *fields in tx.all(
                    f"SELECT ticket, status, created_at, COALESCE({f('payload', 'ticket', 'number')}, "
                    f"{f('payload', 'number')}), {f('payload', 'customer', 'organisation')}, "
                    f"{f('payload', 'customer', 'contact')}, {f('payload', 'customer', 'phone')}, "
                    f"{f('payload', 'ticket', 'ready_on')}, {f('payload', 'ticket', 'urgent_hours')}, "
                    f"{f('payload', 'lines')} FROM event WHERE {where} AND status IN (0, 1, 2) AND void_id IS NULL "
                    "ORDER BY created_at, uid", params):
                facts.setdefault(ticket, {}).setdefault(status, (as_datetime(at), *fields))
    items = []
    for ticket, steps in facts.items():
        if 1 not in steps:
            continue  # ready without an intake that reached here: nothing to say about it yet
        status = STEP[max(s for s in steps if s in STEP)]
        registered = steps.get(0)
        received_at, number = steps[1][0], (registered or steps[1])[1] or ""
        customer = tuple(x or "" for x in registered[2:5]) if registered else ("", "", "")
        ready_on, hours = _promise(registered)
        urgent_by = local(received_at + timedelta(hours=hours)) if hours else None
        instruments, in_work = _instruments(steps[1][7])
        items.append(assess(ticket, number, status, customer, instruments, received_at,
                            steps[2][0] if 2 in steps else None, urgent_by, ready_on, now, pickup_days, in_work))
    return ordered(items, pickup_days)


def _promise(registered: tuple | None) -> tuple[date | None, int | None]:
    """(the receipt's date, the urgent hours) as the registration carried them (checked by
    central/events.py when pushed); none from an older kiosk or a registration not here yet."""
    if not registered:
        return None, None
    ready_on, hours = registered[5], registered[6]
    return (date.fromisoformat(ready_on) if ready_on else None), (int(hours) if hours else None)

