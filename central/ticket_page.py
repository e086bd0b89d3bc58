"""One ticket as the back office shows it (issue 20 item 3): the customer and the lines as
priced at registration, the promise, every step with who took it and where, the lines as taken
in, the certificates handed over, the pickup and any storage charge, its ratings and their
follow-ups. Everything a clerk answering the telephone is asked about, on one page.

Read from the ticket's own events (the `event_ticket` index: a few rows, whatever the size of
central), its ratings (`event_rating_ticket`, schema 11: the `feedback.given` events by their
payload's ticket) and their follow-ups' closes (`event_close_followup`). Voided events (a
device's statements withdrawn, central/voiding.py) are shown, marked, and left out of the status,
as everywhere else (central/tickets.py).
"""

from __future__ import annotations

import json
from datetime import datetime

from .due import latest_catalog
from .followups import device_label, followup_closures
from .notices.outbox import notice_json, of_ticket
from .storage import Storage, as_datetime
from .tickets import Fact, derive
from .words import ARRIVAL, RANK, STATUSES

STEP_KINDS = tuple(f"ticket.{status}" for status in STATUSES)


def ticket_page(storage: Storage, number: str) -> dict | None:
    """The ticket numbered `number`, or None when central has none."""
    with storage.read() as tx:
        ticket = tx.one("SELECT uid, site FROM ticket WHERE number = ?", (number,))
        if ticket is None:
            return None
        uid, site = ticket
        rows = tx.all(f"SELECT e.uid, e.kind, e.created_at, e.received_at, e.void_id, e.device_id, d.name, d.uid, "
                      f"d.site, {storage.json_text('e.payload')} FROM event e LEFT JOIN device d ON d.id = e.device_id "
                      f"WHERE e.ticket = ? ORDER BY e.created_at, e.uid", (uid,))
        ratings = tx.all(ratings_sql(storage), (uid,))
        closures = followup_closures(tx, storage, _opened_followups(ratings))
        names = {code: f"{row.name_zh} {row.name_en}".strip() for code, row in latest_catalog(tx)[1].items()}
        notices = of_ticket(tx, uid)  # what the customer was told (central/notices/)
    by_kind: dict[str, dict] = {}
    for row in rows:
        if row[1] in STEP_KINDS and row[4] is None:
            by_kind.setdefault(row[1], json.loads(row[9]))  # the earliest in force of each step
    # In the order a ticket moves, then as dated: a device's clock may be off, the order is not.
    steps = sorted((_step(row) for row in rows if row[1] in STEP_KINDS), key=lambda s: s["rank"])
    registered = by_kind.get("ticket.registered")
    current = derive([Fact(s["status"], as_datetime(s["at"]), s["device"], s["event"], number)
                      for s in steps if not s["voided"]])
    return {
        "number": number, "uid": uid, "site": site,
        "status": current.status if current else None,
        "since": current.since.isoformat() if current else None,
        "customer": registered["customer"] if registered else None,
        "ticket": _promise(registered["ticket"]) if registered else None,
        "lines": [_line(i, line, names) for i, line in enumerate(registered["lines"])] if registered else [],
        "taken_in": _taken_in(by_kind.get("ticket.received"), names),
        "certificates": _certificates(by_kind.get("ticket.picked_up")),
        "storage": (by_kind.get("ticket.picked_up") or {}).get("storage"),
        "steps": steps,
        "ratings": [_rating(row, closures) for row in ratings],
        "notices": [notice_json(n) for n in notices],
    }


def ratings_sql(storage: Storage) -> str:
    """A ticket's ratings, every one (voided too), in arrival order: the `event_rating_ticket`
    index's expression and predicate, so it is a few index rows whatever central's size."""
    return (f"SELECT e.uid, e.created_at, e.void_id, {storage.json_text('e.payload')} FROM event e "
            f"WHERE e.kind = 'feedback.given' AND {storage.json_field('e.payload', 'ticket')} = ? ORDER BY {ARRIVAL}")


def _step(row: tuple) -> dict:
    event, kind, created, received, void, device_id, name, device_uid, site, payload = row
    clerk = json.loads(payload).get("clerk") or {}
    return {"status": kind.removeprefix("ticket."), "rank": RANK[kind.removeprefix("ticket.")],
            "at": _iso(created), "received_at": _iso(received), "event": event, "device": device_uid,
            "device_name": device_label(name, device_uid, device_id), "site": site,
            "clerk": clerk.get("name") or clerk.get("username") or "", "voided": void is not None}


def _promise(ticket: dict) -> dict:
    keep = ("total_fen", "created_at", "urgent", "urgent_hours", "ready_on", "pickup", "certificates",
            "certificate_name")
    return {key: ticket.get(key) for key in keep}


def _line(index: int, line: dict, names: dict[str, str]) -> dict:
    return {**line, "position": line.get("position", index), "name": names.get(line["code"], "")}


def _taken_in(received: dict | None, names: dict[str, str]) -> dict | None:
    if received is None:
        return None
    lines = [{**line, "name": names.get(line["code"], "")} for line in received.get("lines") or ()]
    return {"total_fen": received.get("total_fen"), "lines": lines}


def _certificates(picked_up: dict | None) -> dict[str, list[str]]:
    """Intake position -> one number per instrument ("" none noted); a single string of an
    older desk is the whole line's number."""
    given = (picked_up or {}).get("certificates") or {}
    return {position: [numbers] if isinstance(numbers, str) else list(numbers) for position, numbers in given.items()}


def _opened_followups(ratings: list[tuple]) -> list[str]:
    return [followup["uid"] for *_, payload in ratings if (followup := json.loads(payload).get("followup"))]


def _rating(row: tuple, closures: dict[str, dict]) -> dict:
    event, created, void, payload = row
    data = json.loads(payload)
    followup = data.get("followup")
    return {"event": event, "at": _iso(created), "voided": void is not None, "rating": data["rating"],
            "level": data["level"], "reason": data.get("reason"), "reason_text": data.get("reason_text"),
            "comment": data.get("comment"), "callback": data.get("callback", False),
            "followup": None if followup is None else {"uid": followup["uid"], "due_on": followup["due_on"],
                                                        "closed": closures.get(followup["uid"])}}


def _iso(value) -> str | None:
    moment = as_datetime(value)
    return moment.isoformat() if isinstance(moment, datetime) else None
