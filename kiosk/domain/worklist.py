"""在办清单, the rule: which open tickets are late, and in what order the counter sees them.
Plain data in, plain data out: the desk (kiosk/store/worklist.py, from its database) and the
back office (central/worklist.py, from pushed events) both judge with `assess` and `ordered`.

- In the lab (received, not ready): an urgent ticket is promised within its tier's hours
  from the moment the receiving counter took the instruments (the lab cannot start before);
  its other lines, and every line of a normal ticket, by the date on the customer's receipt
  (registration date + the ticket's turnaround in the institute's working days,
  kiosk/domain/workdays.py `expected_ready`). Late: a promise has passed.
- Ready, not picked up: waiting since it was marked ready; overdue after `pickup_days`
  calendar days (the institute's commitment: collect within 30 days).
- Certificates returned for correction at dispatch (kiosk/domain/certificate_check.py): back in
  the lab, promised by the returns' own date, late once it has passed (`with_returns`).

Order: late lab work (the most urgent promise first), then overdue pickups (the longest
waiting first), then the rest of the lab work by promise, then the other pickups, the
longest waiting first. The phone is given in full: clerks call customers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from kiosk.domain.clock import local, start_of
from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.spreadsheet import safe_row
from kiosk.domain.workdays import expected_ready

PICKUP_DAYS = 30  # the demo institute's commitment (kiosk/data/institute.toml)


@dataclass(frozen=True)
class WorkItem:
    ticket_id: int | str  # the id here; the uid in the back office
    number: str
    status: str  # received | ready
    organisation: str
    contact: str
    phone: str
    instruments: int  # taken in (refused lines not counted)
    since: datetime  # aware: received (in the lab) or marked ready (waiting)
    urgent_by: datetime | None  # aware: the urgent lines' promise; None: not urgent
    ready_on: date | None  # the receipt's date for the other lines; None: every line urgent
    late: bool  # in the lab: a promise has passed; ready: waiting longer than pickup_days
    waiting_days: int  # ready: whole days since marked ready (local dates); in the lab: 0
    in_work: tuple[str, ...] = ()  # the services of the lines taken in (what is being done in the lab)
    returned: int = 0  # certificates returned to the lab for correction (kiosk/domain/certificate_check.py)
    corrected_by: date | None = None  # their own promise: the earliest corrected one's date

    @property
    def due(self) -> datetime | None:
        if self.returned:  # back in the lab for correction: its own promise
            return _end_of(self.corrected_by)
        return promised_by(self.urgent_by, self.ready_on)


@dataclass(frozen=True)
class WorkList:
    items: list[WorkItem]
    pickup_days: int

    @property
    def in_lab(self) -> int:
        return sum(1 for i in self.items if i.status == "received")

    @property
    def in_lab_late(self) -> int:
        return sum(1 for i in self.items if i.status == "received" and i.late)

    @property
    def waiting(self) -> int:
        return sum(1 for i in self.items if i.status == "ready")

    @property
    def waiting_overdue(self) -> int:
        return sum(1 for i in self.items if i.status == "ready" and i.late)


def _end_of(day: date | None) -> datetime | None:
    return None if day is None else start_of(day + timedelta(days=1))


def promised_by(urgent_by: datetime | None, ready_on: date | None) -> datetime | None:
    """The earliest promise, as a moment (a date's promise holds until its end): lab work is
    late from that moment on. None: nothing promised."""
    return min((m for m in (urgent_by, _end_of(ready_on)) if m is not None), default=None)


def waiting_since(ready_at: datetime) -> date:
    """The local day a ticket was marked ready, from which its pickup waits (whole days)."""
    return local(ready_at).date()


def promises(registered_at: datetime, received_at: datetime | None, turnaround_days: int | None,
             urgent_hours: int | None, cal: Calendar = WEEKENDS_ONLY) -> tuple[datetime | None, date | None]:
    """(urgent lines by, other lines by): the urgent hours count from the counter's intake (the
    lab cannot start before; not yet received: no urgent promise yet), the rest is the date on
    the customer's receipt."""
    urgent_by = local(received_at + timedelta(hours=urgent_hours)) if urgent_hours and received_at else None
    return urgent_by, expected_ready(local(registered_at), turnaround_days or 0, cal)


def assess(key, number: str, status: str, customer: tuple[str, str, str], instruments: int,
           received_at: datetime, ready_at: datetime | None, urgent_by: datetime | None, ready_on: date | None,
           now: datetime, pickup_days: int, in_work: tuple[str, ...] = ()) -> WorkItem:
    """One open ticket, late or not (the desk's and the back office's rule). `key`: the
    ticket's id here, or its uid at central."""
    if status == "received":
        due = promised_by(urgent_by, ready_on)
        late = due is not None and now >= due
        since, waiting = received_at, 0
    else:
        since = ready_at or received_at
        waiting = (now.date() - waiting_since(since)).days
        late = waiting > pickup_days
    return WorkItem(key, number, status, *customer, instruments, local(since), urgent_by, ready_on, late,
                    waiting, in_work)


def with_returns(item: WorkItem, returned: int, corrected_by: date | None, now: datetime) -> WorkItem:
    """A ticket with certificates returned for correction: listed as lab work again, promised by
    the returns' own date (late once it has passed), whatever its status."""
    if not returned:
        return item
    late = corrected_by is not None and local(now).date() > corrected_by
    return replace(item, returned=returned, corrected_by=corrected_by, late=late)


def ordered(items: list[WorkItem], pickup_days: int) -> WorkList:
    return WorkList(sorted(items, key=_order), pickup_days)


def _order(item: WorkItem):
    far = datetime.max.replace(tzinfo=item.since.tzinfo)
    if item.status == "received" or item.returned:
        return (0 if item.late else 2, item.due or far, item.number)
    return (1 if item.late else 3, -item.waiting_days, item.number)


# ---- as JSON and CSV give it (its words: kiosk/i18n/worklist_text.py) --------------------------


def item_dict(item: WorkItem, mask: Callable[[str], str] | None = None) -> dict:
    """As JSON and CSV give it; `mask`: how the phone is shown (None: in full)."""
    return {"ticket": item.ticket_id, "number": item.number, "status": item.status, "late": item.late,
            "organisation": item.organisation, "contact": item.contact,
            "phone": mask(item.phone) if mask else item.phone, "instruments": item.instruments,
            "since": item.since.isoformat(), "urgent_by": item.urgent_by.isoformat() if item.urgent_by else None,
            "ready_on": item.ready_on.isoformat() if item.ready_on else None, "waiting_days": item.waiting_days,
            # certificates returned to the lab for correction, and their own promise (0, None: none)
            "returned": item.returned, "corrected_by": item.corrected_by.isoformat() if item.corrected_by else None}


CSV_COLUMNS = ("status", "late", "number", "organisation", "contact", "phone", "instruments", "since", "urgent_by",
               "ready_on", "waiting_days", "returned", "corrected_by")


def to_csv(items: list[WorkItem]) -> str:
    """For the staff who call customers: the full phone number."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        row = item_dict(item)
        writer.writerow(safe_row("" if row[c] is None else row[c] for c in CSV_COLUMNS))
    return out.getvalue()
