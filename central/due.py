"""Periodic verification due (周检提醒) in the back office, from the events every desk pushed.

The same rule as a desk's `kiosk due` (kiosk/domain/due.py, whose `due_list` does the work
here): for every ticket with a `ticket.picked_up` event, the lines of its `ticket.received`
event (the intake as the clerk took it in: code, service, quantity, serial number, refused),
verification lines only, not refused, whose fee row has a cycle; due = the pickup's local
date + the cycle (kiosk/domain/intake.py `next_due`); for the same fee row and serial number the
latest pickup wins.

What central knows differently from a desk:
- The fee rows are those of the LATEST catalogue version imported here (a desk uses the
  version the ticket was priced with): a cycle changed since is the cycle that applies to the
  next verification. A code the latest version no longer has is left out (no cycle known).
- A ticket taken in at two desks while both were offline has two received events: the
  earliest is its intake; the earliest pickup is its pickup.
- Organisation, contact and phone come from the ticket.registered payload's customer (blank
  until it has arrived).

Cost: one pass over the picked-up tickets' registration and intake (payloads read in chunks
of 500 tickets). Without overdue items only pickups recent enough to fall due are read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kiosk.domain.catalog import FeeRow, parse_csv
from kiosk.domain.clock import local, start_of
from kiosk.domain.clock import today as institute_today
from kiosk.domain.due import DueInstrument, PickedUpLine, due_list

from .storage import Storage, Tx, as_datetime

log = logging.getLogger("central")

CHUNK = 500  # tickets per query


@dataclass(frozen=True)
class DueReport:
    today: date
    within_days: int
    overdue_included: bool
    catalog_version: int | None  # None: no catalogue imported, so no cycles known
    items: list[DueInstrument]


def latest_catalog(tx: Tx) -> tuple[int | None, dict[str, FeeRow]]:
    row = tx.one("SELECT id, csv FROM catalog_version ORDER BY id DESC LIMIT 1")
    if row is None:
        return None, {}
    # A version stored before rows named their compulsory uses says 是 (catalog.py before_uses).
    return row[0], {r.code: r for r in parse_csv(row[1], f"catalog v{row[0]}", before_uses=True)}


def _picked_up(tx: Tx, storage: Storage, since: datetime | None) -> list[tuple[str, datetime]]:
    """(ticket, earliest pickup) of every picked-up ticket (picked up `since`, if given), in
    pickup order."""
    where, params = "", ()
    if since is not None:
        where, params = " HAVING MIN(created_at) >= ?", (storage.timestamp(since),)
    rows = tx.all("SELECT ticket, MIN(created_at) AS at FROM event WHERE kind = 'ticket.picked_up' "
                  f"AND ticket IS NOT NULL AND void_id IS NULL GROUP BY ticket{where}", params)
    return sorted(((ticket, as_datetime(at)) for ticket, at in rows), key=lambda r: (r[1], r[0]))


def _first_facts(tx: Tx, storage: Storage, tickets: list[str]) -> dict[str, dict[int, tuple]]:
    """Per ticket, of its earliest registered (0) and received (1) event: (number,
    organisation, contact, phone, lines as JSON text). Only these fields are read out of the
    payloads (in SQL): a registration carries its whole signed code, which is not needed here."""
    where, params = storage.in_list("ticket", tickets)
    f = storage.json_field
    rows = tx.all(f"SELECT ticket, status, COALESCE({f('payload', 'ticket', 'number')}, {f('payload', 'number')}), "
                  f"{f('payload', 'customer', 'organisation')}, {f('payload', 'customer', 'contact')}, "
                  f"{f('payload', 'customer', 'phone')}, {f('payload', 'lines')} FROM event "
                  f"WHERE {where} AND status IN (0, 1) AND void_id IS NULL ORDER BY created_at, uid", params)
    found: dict[str, dict[int, tuple]] = {}
    for ticket, status, *fields in rows:
        found.setdefault(ticket, {}).setdefault(status, tuple(fields))
    return found


def _lines(number: str, customer: tuple, lines_json: str | None, picked_up_on: date,
           rows: dict[str, FeeRow]) -> Iterator[PickedUpLine]:
    try:
        lines = json.loads(lines_json) if lines_json else []
    except ValueError:
        lines = []
    for line in lines if isinstance(lines, list) else ():
        try:
            code, quantity = str(line["code"]), int(line["quantity"])
            service, serial = str(line["service"]), str(line.get("serial_number") or "")
            refused = bool(line.get("refused"))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # not an intake line as kiosk/store/desk.py writes it
        row = rows.get(code)
        if row is None:
            continue
        organisation, contact, phone = customer
        yield PickedUpLine(picked_up_on, number, organisation or "", contact or "", phone or "", row.name_zh,
                           row.name_en, row.unit, row.cycle_months, code, quantity, service, serial, refused)


def due_report(storage: Storage, within_days: int, today: date | None = None, *, overdue: bool = True) -> DueReport:
    """Instruments due from `today` to `today + within_days`, and, with `overdue`, those
    already past their date; earliest first."""
    today = today or institute_today()
    with storage.read() as tx:
        version, rows = latest_catalog(tx)
        cycles = [r.cycle_months for r in rows.values() if r.cycle_months]
        if not cycles:
            return DueReport(today, within_days, overdue, version, [])
        since = None
        if not overdue:  # a pickup more than the longest cycle ago is due before today
            since = start_of(today - timedelta(days=31 * max(cycles) + 2))
        pickups = _picked_up(tx, storage, since)
        lines: list[PickedUpLine] = []
        for start in range(0, len(pickups), CHUNK):
            chunk = pickups[start:start + CHUNK]
            facts = _first_facts(tx, storage, [ticket for ticket, _ in chunk])
            for ticket, at in chunk:
                got = facts.get(ticket, {})
                received = got.get(1)
                if received is None:
                    continue
                registered = got.get(0) or (None,) * 5
                number = registered[0] or received[0] or ""
                lines += _lines(number, registered[1:4], received[4], local(at).date(), rows)
    return DueReport(today, within_days, overdue, version, due_list(lines, within_days, today, overdue=overdue))
