"""Certificate checks at the dispatch counters, for the institute (issue 23): how many certificates
were checked, how many went back to the lab and why, by lab field and by week (the certificate
error rate the essay's quality check is for). The rule is kiosk/domain/certificate_check.py's.

`certificate_check` (schema 13) holds one row per pushed `certificate.checked` event: its week (the
Monday of its local date on the institute's clock), lab field (its line's fee code's first letter),
outcome, document, the points found wrong, whether it was a re-check, the pushing desk's site, and
which instrument of which ticket's line it was (the due list leaves out a line none of whose
instruments passed verification: `ALL_FAILED`). It is written
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
ALL_FAILED = (
    "(SELECT count(*) FROM (SELECT c.document, c.outcome, row_number() OVER (PARTITION BY c.instrument "
    "ORDER BY c.at DESC, c.uid DESC) AS n FROM certificate_check c JOIN event e ON e.id = c.event_id "
    "AND e.void_id IS NULL WHERE c.ticket = d.ticket AND c.line = d.line) latest "
    "WHERE latest.n = 1 AND latest.document = 'notice' AND latest.outcome = 'passed') < d.quantity")


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
