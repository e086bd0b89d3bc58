"""Certificate checks at the dispatch counters, for the institute (issue 23): how many certificates
were checked, how many went back to the lab and why, by lab field and by week (the certificate
error rate the essay's quality check is for). The rule is kiosk/domain/certificate_check.py's.

`certificate_check` (schema 13) holds one row per pushed `certificate.checked` event: its week (the
Monday of its local date on the institute's clock), lab field (its line's fee code's first letter),
outcome, document, the points found wrong, whether it was a re-check, the pushing desk's site, and
which instrument of which ticket's line it was (the due list reminds only for the instruments of a
line not found 不合格: `PASSED`, and leaves out a line none of whose instruments passed: `ALL_FAILED`).
It is written
in the push's transaction (`fold`, central/ingest.py) and made again from the stored events by the
upgrade (`build`). The rows point at their events: a voided event's row is left out when read
(`e.void_id IS NULL`), so a voiding needs nothing here. A `certificate.taken_as_is` is not a check
and is not counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

from kiosk.domain import certificate_check as rule
from kiosk.domain.clock import local
from kiosk.domain.vocabulary import FIELDS

from .storage import Storage, Tx, as_datetime

KIND = "certificate.checked"
TAKEN = "certificate.taken_as_is"
STATEMENTS = (
    """CREATE TABLE certificate_check (
        event_id BIGINT PRIMARY KEY,
        uid TEXT NOT NULL,
        ticket TEXT NOT NULL,
        line INTEGER NOT NULL,
        instrument INTEGER NOT NULL,
        site TEXT NOT NULL,
        week TEXT NOT NULL,
        field TEXT NOT NULL,
        outcome TEXT NOT NULL,
        document TEXT NOT NULL,
        wrong TEXT NOT NULL,
        recheck SMALLINT NOT NULL,
        at {ts} NOT NULL)""",
    "CREATE INDEX certificate_check_week ON certificate_check (week, field)",
    "CREATE INDEX certificate_check_ticket ON certificate_check (ticket, line, instrument)",
)
COLUMNS = ("event_id", "uid", "ticket", "line", "instrument", "site", "week", "field", "outcome", "document", "wrong",
           "recheck", "at")
PG_TYPES = ("bigint", "text", "text", "integer", "integer", "text", "text", "text", "text", "text", "text", "smallint",
            "timestamptz")
# The due list's rule (central/due.py): a verification line none of whose instruments passed is not
# reminded. A line's instruments found 不合格: their latest check in force (by time, then uid) gave a
# result notice (检定结果通知书) and passed the counter's check. `d`: the due_item row.
FAILED = (
    "(SELECT count(*) FROM (SELECT c.document, c.outcome, row_number() OVER (PARTITION BY c.instrument "
    "ORDER BY c.at DESC, c.uid DESC) AS n FROM certificate_check c JOIN event e ON e.id = c.event_id "
    "AND e.void_id IS NULL WHERE c.ticket = d.ticket AND c.line = d.line) latest "
    "WHERE latest.n = 1 AND latest.document = 'notice' AND latest.outcome = 'passed')")
ALL_FAILED = f"{FAILED} < d.quantity"  # some instrument of the line not found 不合格: the line is reminded
PASSED = f"d.quantity - {FAILED}"  # and only for those (as a desk's kiosk/domain/due.py: quantity - failed)


def row(event_id: int, payload: dict, site: str) -> tuple | None:
    """A stored check's row; None: not a check's payload."""
    try:
        moment = as_datetime(payload["at"])
        if moment is None or moment.tzinfo is None:
            return None
        code = str(payload.get("code") or "")
        wrong = [p for p in payload.get("wrong") or () if p in rule.POINTS]
        return (event_id, str(payload["check"]), str(payload["ticket"]), int(payload["line"]),
                int(payload["instrument"]), site, rule.week_of(local(moment).date()).isoformat(),
                code[:1] if code[:1] in FIELDS else "?", str(payload["outcome"]),
                str(payload.get("document") or "certificate"), ",".join(wrong), 1 if payload.get("recheck_of") else 0,
                moment)
    except (KeyError, TypeError, ValueError):
        return None


def _write(tx: Tx, storage: Storage, rows: Iterable[tuple | None]) -> None:
    found = [(*r[:-1], storage.timestamp(r[-1])) for r in rows if r is not None]
    if found:
        storage.bulk_insert(tx, "certificate_check", COLUMNS, found, "ON CONFLICT (event_id) DO NOTHING",
                            pg_types=PG_TYPES)


def fold(tx: Tx, storage: Storage, checks: list[tuple[int, dict]], site: str) -> None:
    """A push's new checks (`(event id, payload)`), in its transaction."""
    _write(tx, storage, (row(event_id, payload, site) for event_id, payload in checks))


def build(tx: Tx, storage: Storage) -> None:
    """Every stored check's row (schema 13's upgrade)."""
    tx.execute("DELETE FROM certificate_check")
    rows = tx.all(f"SELECT e.id, {storage.json_text('e.payload')}, COALESCE(d.site, 'main') FROM event e "
                  f"LEFT JOIN device d ON d.id = e.device_id WHERE e.kind = '{KIND}' ORDER BY e.id")
    _write(tx, storage, (row(event_id, json.loads(payload), site) for event_id, payload, site in rows))


# ---- the work list: certificates returned for correction (central/worklist.py) ---------------------


def _fact(payload: dict, kind: str, correction_days: int) -> rule.CheckFact | None:
    """A stored step as the rule reads it; a return without its promise (none in the payload) is
    promised `correction_days` working days after its day (central's setting)."""
    try:
        at = as_datetime(payload["at"])
        if at is None or at.tzinfo is None:
            return None
        if kind == "taken_as_is":
            return rule.CheckFact(str(payload["event"]), int(payload["line"]), int(payload["instrument"]),
                                  "taken_as_is", at, refers_to=payload.get("check"))
        outcome = str(payload["outcome"])
        promised = payload.get("promised_on")
        promised_on = date.fromisoformat(promised) if isinstance(promised, str) else None
        if outcome == "returned" and promised_on is None:
            promised_on = rule.return_promise(local(at), days=correction_days)
        return rule.CheckFact(str(payload["check"]), int(payload["line"]), int(payload["instrument"]), "check", at,
                              outcome, str(payload.get("certificate") or ""), payload.get("conclusion"),
                              str(payload.get("document") or "certificate"), tuple(payload.get("wrong") or ()),
                              str(payload.get("reason") or ""), promised_on, payload.get("recheck_of"))
    except (KeyError, TypeError, ValueError):
        return None


def returned_for_correction(tx: Tx, storage: Storage, open_only: str, correction_days: int
                            ) -> dict[str, tuple[int, date | None]]:
    """Ticket uid -> (certificates returned to the lab and not yet re-checked or taken as they are,
    the earliest corrected one's promise), for the tickets of ticket_state `s` matching `open_only`
    that have any (as a desk's kiosk/store/certificate_checks.py returned_for_correction)."""
    tickets = [t for (t,) in tx.all(
        "SELECT DISTINCT c.ticket FROM certificate_check c JOIN event e ON e.id = c.event_id AND e.void_id IS NULL "
        f"JOIN ticket_state s ON s.uid = c.ticket WHERE c.outcome = 'returned' AND {open_only} ORDER BY c.ticket")]
    found: dict[str, tuple[int, date | None]] = {}
    for start in range(0, len(tickets), 500):
        chunk = tickets[start:start + 500]
        where, params = storage.in_list("c.ticket", chunk)
        facts: dict[str, list[rule.CheckFact]] = {}
        for ticket, text in tx.all(f"SELECT c.ticket, {storage.json_text('e.payload')} FROM certificate_check c "
                                   f"JOIN event e ON e.id = c.event_id AND e.void_id IS NULL WHERE {where}", params):
            fact = _fact(json.loads(text) if isinstance(text, str) else text, "check", correction_days)
            if fact is not None:
                facts.setdefault(ticket, []).append(fact)
        by_ticket, params = storage.in_list(storage.json_field("e.payload", "ticket"), chunk)
        for ticket, text in tx.all(f"SELECT {storage.json_field('e.payload', 'ticket')}, "
                                   f"{storage.json_text('e.payload')} FROM event e WHERE e.kind = '{TAKEN}' "
                                   f"AND e.void_id IS NULL AND {by_ticket}", params):
            fact = _fact(json.loads(text) if isinstance(text, str) else text, "taken_as_is", correction_days)
            if fact is not None:
                facts.setdefault(ticket, []).append(fact)
        for ticket, its in facts.items():
            states = rule.states(its)
            held = rule.holding(states)
            if held:
                found[ticket] = (len(held), rule.promised_by(states))
    return found


def check_rows(storage: Storage, since: date | None = None, until: date | None = None,
               site: str | None = None) -> list[rule.CheckRow]:
    """The checks in force (void ones left out) of the weeks from `since`'s to `until`'s."""
    where, params = ["e.void_id IS NULL"], []
    if since is not None:
        where.append("c.week >= ?")
        params.append(rule.week_of(since).isoformat())
    if until is not None:
        where.append("c.week <= ?")
        params.append(rule.week_of(until).isoformat())
    if site is not None:
        where.append("c.site = ?")
        params.append(site)
    with storage.read() as tx:
        found = tx.all("SELECT c.week, c.field, c.outcome, c.wrong, c.recheck FROM certificate_check c "
                       f"JOIN event e ON e.id = c.event_id WHERE {' AND '.join(where)}", params)
    return [rule.CheckRow(date.fromisoformat(week), field, outcome, tuple(p for p in wrong.split(",") if p),
                          bool(recheck))
            for week, field, outcome, wrong, recheck in found]


def figures(storage: Storage, since: date | None = None, until: date | None = None,
            site: str | None = None) -> list[rule.CheckFigure]:
    return rule.figures(check_rows(storage, since, until, site))
