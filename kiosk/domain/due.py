"""Periodic verification due (周检提醒), the rule: which instruments fall due, and when.

From every picked-up ticket: the lines taken in at the counter (the `received` step's intake,
not the registration: the clerk may have corrected them), not refused, verification only,
whose fee row has a cycle (检定周期, months). The next due date is the pickup day plus the
cycle, exactly as the pickup slip printed it (kiosk/domain/intake.py `next_due`).

An instrument found 不合格 at the dispatch counter's certificate check got a 检定结果通知书, not a
certificate: it has not passed, so it is never reminded as if it had (`PickedUpLine.failed`).

An instrument verified again later (the same fee row and serial number on a later pickup)
is listed once, with its latest due date. Lines without a serial number cannot be matched
and are each listed.

`due_list` takes plain lines: a desk reads them from its database (kiosk/store/due.py), the
central back office from pushed events (central/due.py), so both agree. The table and the CSV
are worded in kiosk/i18n/due_text.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from kiosk.domain.intake import CounterLine, next_due


@dataclass(frozen=True)
class DueInstrument:
    due_on: date
    number: str  # the ticket it was last verified under
    organisation: str
    contact: str
    phone: str  # in full; masked in the table
    name_zh: str
    name_en: str
    code: str  # fee-standard number
    serial_number: str
    quantity: int
    picked_up_on: date
    cycle_months: int


def parse_within(text: str) -> int:
    """`30d`, `30` (days) or `6w` (weeks): a number of days from 1 to 3660."""
    raw = (text or "").strip().lower()
    factor = 7 if raw.endswith("w") else 1
    digits = raw.rstrip("dw")
    if not digits.isascii() or not digits.isdigit() or not 1 <= int(digits) * factor <= 3660:
        raise ValueError(f"--within: a number of days like 30d (or weeks like 6w), up to 3660 days, not {text!r}")
    return int(digits) * factor


@dataclass(frozen=True)
class PickedUpLine:
    """One line taken in at a counter, of a ticket since picked up, with its fee row."""

    picked_up_on: date  # the local day of the pickup
    number: str
    organisation: str
    contact: str
    phone: str
    name_zh: str
    name_en: str
    unit: str
    cycle_months: int | None
    code: str
    quantity: int
    service: str
    serial_number: str
    refused: bool
    failed: int = 0  # instruments found 不合格 at the dispatch check: a result notice, never reminded


def due_list(lines: Iterable[PickedUpLine], within_days: int, today: date, *,
             overdue: bool = False) -> list[DueInstrument]:
    """Pure: the instruments due from `today` to `today + within_days` (and those already
    overdue, with `overdue`), earliest first. `lines` in pickup order: for the same fee row and
    serial number the latest pickup wins; lines without a serial number are each listed."""
    last = today + timedelta(days=within_days)
    latest: dict[tuple, DueInstrument] = {}
    unmatched: list[DueInstrument] = []
    for ln in lines:
        line = CounterLine(ln.name_zh, ln.name_en, ln.code, ln.quantity, ln.unit, ln.service, "", "",
                           ln.serial_number, ln.refused, ln.cycle_months)
        due = next_due(line, ln.picked_up_on)
        if due is None or ln.cycle_months is None or ln.failed >= ln.quantity:
            continue  # every instrument of the line failed: none passed, none falls due
        item = DueInstrument(due, ln.number, ln.organisation, ln.contact, ln.phone, ln.name_zh, ln.name_en, ln.code,
                             ln.serial_number, ln.quantity - ln.failed, ln.picked_up_on, ln.cycle_months)
        if ln.serial_number:
            latest[(ln.code, ln.serial_number.upper())] = item  # in pickup order: the latest pickup wins
        else:
            unmatched.append(item)
    items = [i for i in (*latest.values(), *unmatched)
             if i.due_on <= last and (overdue or i.due_on >= today)]
    return sorted(items, key=lambda i: (i.due_on, i.number, i.code, i.serial_number))
