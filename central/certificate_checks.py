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
(`e.void_id IS NULL`). A `certificate.taken_as_is` is not a check and is not counted.

`certificate_check_sum` (schema 27, issue 20: the office's figures bounded): the checks in force
counted by (week, field, site, outcome, wrong, recheck), what the figures read instead of every
check of the period (at 1 M checks the 12-week summary read them all: 413-589 ms). Kept in the
same transaction as the rows: +1 a check a push stores (`fold`), -1 a check a voiding voids
(`void`), written at commit in key order (after rating_sum's, before the feed clock: the lock
order of central/readmodels/__init__.py), a row left at 0 removed; made again from the rows by
`build_sums` (a build, schema 27's upgrade: one GROUP BY), which gives the same rows
(tests/central/test_certificate_checks.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from kiosk.domain import certificate_check as rule
from kiosk.domain.clock import local
from kiosk.domain.vocabulary import FIELDS

from . import pagelinks
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
SUM_KEY = ("week", "field", "site", "outcome", "wrong", "recheck")
SUM_STATEMENTS = (  # schema 27: a (week, field) of the figures is an index range of its key
    """CREATE TABLE certificate_check_sum (
        week TEXT NOT NULL, field TEXT NOT NULL, site TEXT NOT NULL, outcome TEXT NOT NULL, wrong TEXT NOT NULL,
        recheck SMALLINT NOT NULL, n BIGINT NOT NULL,
        PRIMARY KEY (week, field, site, outcome, wrong, recheck))""",
)
COLUMNS = ("event_id", "uid", "ticket", "line", "instrument", "site", "week", "field", "outcome", "document", "wrong",
           "recheck", "at")
PG_TYPES = ("bigint", "text", "text", "integer", "integer", "text", "text", "text", "text", "text", "text", "smallint",
            "timestamptz")
# The due list's rule (central/due.py): a verification line none of whose instruments passed is not
# reminded. A line's instruments found 不合格: their latest check in force (by time, then uid) gave a
# result notice (检定结果通知书) and passed the counter's check. `d`: the due_item row (its ticket
# an id since schema 26; a check names the ticket's uid).
FAILED = (
    "(SELECT count(*) FROM (SELECT c.document, c.outcome, row_number() OVER (PARTITION BY c.instrument "
    "ORDER BY c.at DESC, c.uid DESC) AS n FROM certificate_check c JOIN event e ON e.id = c.event_id "
    "AND e.void_id IS NULL WHERE c.ticket = (SELECT t.uid FROM ticket_state t WHERE t.id = d.ticket) "
    "AND c.line = d.line) latest "
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


def _write(tx: Tx, storage: Storage, rows: Iterable[tuple | None]) -> list[tuple]:
    """The rows stored (those new): a list of their rows."""
    found = {r[0]: (*r[:-1], storage.timestamp(r[-1])) for r in rows if r is not None}
    if not found:
        return []
    written = storage.bulk_insert(tx, "certificate_check", COLUMNS, list(found.values()),
                                  "ON CONFLICT (event_id) DO NOTHING", "event_id", pg_types=PG_TYPES)
    return [found[event_id] for (event_id,) in written]


def _sum_key(r: tuple) -> tuple:
    """A row's (COLUMNS) key in certificate_check_sum (SUM_KEY)."""
    return r[6], r[7], r[5], r[8], r[10], r[11]


def fold(tx: Tx, storage: Storage, checks: list[tuple[int, dict]], site: str) -> None:
    """A push's new checks (`(event id, payload)`), in its transaction: their rows, and the sums."""
    pending = _pending(tx, storage)
    for r in _write(tx, storage, (row(event_id, payload, site) for event_id, payload in checks)):
        key = _sum_key(r)
        pending[key] = pending.get(key, 0) + 1


def void(tx: Tx, storage: Storage, void_id: int) -> None:
    """After a voiding (`void_id`) voided events, in its transaction: its checks taken off the sums
    (each event is voided once: a voiding voids only events still in force)."""
    pending = _pending(tx, storage)
    for *key, n in tx.all(f"SELECT {', '.join(f'c.{k}' for k in SUM_KEY)}, count(*) FROM certificate_check c "
                          "JOIN event e ON e.id = c.event_id WHERE e.void_id = ? "
                          f"GROUP BY {', '.join(f'c.{k}' for k in SUM_KEY)}", (void_id,)):
        pending[tuple(key)] = pending.get(tuple(key), 0) - n


def _pending(tx: Tx, storage: Storage) -> dict[tuple, int]:
    """This transaction's differences to certificate_check_sum, written at commit."""
    pending = tx.state.get("certificate_check_sum")
    if pending is None:
        pending = tx.state["certificate_check_sum"] = {}
        tx.before_commit(lambda: _write_sums(tx, storage, pending))
    return pending


def _write_sums(tx: Tx, storage: Storage, pending: dict[tuple, int]) -> None:
    """The sums changed by `pending`, in key order (two pushes never wait on each other crosswise),
    the rows left at 0 removed."""
    changed = [[*key, n] for key, n in sorted(pending.items()) if n]
    if not changed:
        return
    storage.bulk_insert(tx, "certificate_check_sum", (*SUM_KEY, "n"), changed,
                        f"ON CONFLICT ({', '.join(SUM_KEY)}) DO UPDATE SET n = certificate_check_sum.n + excluded.n",
                        pg_types=("text", "text", "text", "text", "text", "smallint", "bigint"))
    fallen = sorted({key[0] for *key, n in changed if n < 0})
    if fallen:
        where, params = storage.in_list("week", fallen)
        tx.execute(f"DELETE FROM certificate_check_sum WHERE n <= 0 AND {where}", params)


def build(tx: Tx, storage: Storage) -> None:
    """Every stored check's row (schema 13's upgrade), and the sums."""
    tx.execute("DELETE FROM certificate_check")
    rows = tx.all(f"SELECT e.id, {storage.json_text('e.payload')}, COALESCE(d.site, 'main') FROM event e "
                  f"LEFT JOIN device d ON d.id = e.device_id WHERE e.kind = '{KIND}' ORDER BY e.id")
    _write(tx, storage, (row(event_id, json.loads(payload), site) for event_id, payload, site in rows))
    build_sums(tx, storage)


def build_sums(tx: Tx, storage: Storage) -> None:
    """certificate_check_sum made again from the rows in force (schema 27's upgrade: one GROUP BY,
    about a second a million checks; a build)."""
    tx.execute("DELETE FROM certificate_check_sum")
    key = ", ".join(f"c.{k}" for k in SUM_KEY)
    tx.execute(f"INSERT INTO certificate_check_sum ({', '.join(SUM_KEY)}, n) SELECT {key}, count(*) "
               f"FROM certificate_check c WHERE {IN_FORCE} GROUP BY {key}")
    if storage.postgres:
        tx.execute("ANALYZE certificate_check_sum")


def sums_snapshot(tx: Tx) -> list[tuple]:
    """Every sum, in key order (the rebuild test's)."""
    return tx.all(f"SELECT {', '.join(SUM_KEY)}, n FROM certificate_check_sum ORDER BY {', '.join(SUM_KEY)}")


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


# A check in force: its event not voided. Voided events are few (event_void, a partial index): their
# ids a hashed set, so a week's checks are read without probing the event table once per row.
IN_FORCE = "c.event_id NOT IN (SELECT v.id FROM event v WHERE v.void_id IS NOT NULL)"


def _where(since: date | None, until: date | None, site: str | None) -> tuple[list[str], list]:
    where, params = [IN_FORCE], []
    if since is not None:
        where.append("c.week >= ?")
        params.append(rule.week_of(since).isoformat())
    if until is not None:
        where.append("c.week <= ?")
        params.append(rule.week_of(until).isoformat())
    if site is not None:
        where.append("c.site = ?")
        params.append(site)
    return where, params


def check_rows(storage: Storage, since: date | None = None, until: date | None = None,
               site: str | None = None) -> list[rule.CheckRow]:
    """The checks in force (void ones left out) of the weeks from `since`'s to `until`'s."""
    where, params = _where(since, until, site)
    with storage.read() as tx:
        found = tx.all("SELECT c.week, c.field, c.outcome, c.wrong, c.recheck FROM certificate_check c "
                       f"JOIN event e ON e.id = c.event_id WHERE {' AND '.join(where)}", params)
    return [rule.CheckRow(date.fromisoformat(week), field, outcome, tuple(p for p in wrong.split(",") if p),
                          bool(recheck))
            for week, field, outcome, wrong, recheck in found]


# ---- the figures, summed by the database: pages of (week, field), a week an index range -------------

PAGE_SIZE, MAX_PAGE_SIZE = 30, 500  # 30 rows: about 4 weeks of the 8-odd fields, each week an index range
# A page link (central/pagelinks.py): a (week, field) row, its Monday and its field's letter.
PAGE_LINK = f"[np]{pagelinks.DAY}\\.[A-Z?]"


@dataclass(frozen=True)
class Cursor:
    """A row's place in the figures' order (newest week first, then field)."""

    week: str
    field: str

    def link(self, after: bool) -> str:
        return pagelinks.link(after, self.week, self.field)

    @staticmethod
    def parse(text: str) -> tuple[Cursor, bool]:
        """A page link (PAGE_LINK, checked by the caller): (the row, whether the page is after it)."""
        (week, field), after = pagelinks.parts(text, 2)
        return Cursor(week, field), after


@dataclass(frozen=True)
class FiguresPage:
    rows: list[rule.CheckFigure]
    next: Cursor | None
    previous: Cursor | None


def _summed(groups: Iterable[tuple]) -> list[rule.CheckFigure]:
    """rule.figures of checks counted by the database: (week, field, outcome, wrong, recheck, n)."""
    sums: dict[tuple[date, str], list] = {}
    for week, field, outcome, wrong, recheck, n in groups:
        s = sums.setdefault((week if isinstance(week, date) else date.fromisoformat(week), field), [0, 0, 0, {}])
        s[0] += n
        s[2] += n if recheck else 0
        if outcome == "returned":
            s[1] += n
            for p in (p for p in wrong.split(",") if p):
                s[3][p] = s[3].get(p, 0) + n
    return [rule.CheckFigure(week, field, c, ret, re, {p: reasons[p] for p in rule.POINTS if p in reasons})
            for (week, field), (c, ret, re, reasons) in sorted(sums.items(), key=lambda kv: (-kv[0][0].toordinal(),
                                                                                              kv[0][1]))]


def _grouped(tx: Tx, where: list[str], params: list, by_week: bool = True) -> list[tuple]:
    """The checks in force counted by (week,) field, outcome, wrong, recheck: summed from
    certificate_check_sum (schema 27), whose rows count only checks in force (IN_FORCE not read)."""
    week = "c.week" if by_week else "''"
    bounds = [w for w in where if w != IN_FORCE] or ["TRUE"]
    return tx.all(f"SELECT {week}, c.field, c.outcome, c.wrong, c.recheck, CAST(sum(c.n) AS BIGINT) "
                  f"FROM certificate_check_sum c WHERE {' AND '.join(bounds)} "
                  f"GROUP BY {week + ', ' if by_week else ''}c.field, c.outcome, c.wrong, c.recheck", params)


def _week(tx: Tx, where: list[str], params: list, week: str) -> list[rule.CheckFigure]:
    """One week's figures by field: the index range certificate_check_week (week = ?)."""
    return _summed(_grouped(tx, [*where, "c.week = ?"], [*params, week]))


def _next_week(tx: Tx, where: list[str], params: list, week: str | None, older: bool) -> str | None:
    """The week of the period that has checks in force next to `week` (older or newer; None: the
    first from the newest or oldest end): one probe of certificate_check_sum's key."""
    bounds = [w for w in where if w.startswith(("c.week", "c.site"))]
    values = params[:len(bounds)]
    if week is not None:
        bounds.append(f"c.week {'<' if older else '>'} ?")
        values.append(week)
    found = tx.one(f"SELECT {'max' if older else 'min'}(c.week) FROM certificate_check_sum c "
                   f"WHERE {' AND '.join(bounds) or 'TRUE'}", values)
    return found[0] if found else None


def _walk(tx: Tx, where: list[str], params: list, cursor: Cursor | None, older: bool):
    """The figures from `cursor` on (excluded), newest first (`older`) or oldest first, a week at a time."""
    week = cursor.week if cursor is not None else _next_week(tx, where, params, None, older)
    first = True
    while week is not None:
        rows = _week(tx, where, params, week)
        if first and cursor is not None:
            rows = [r for r in rows if (r.field > cursor.field if older else r.field < cursor.field)]
        first = False
        yield from (rows if older else reversed(rows))
        week = _next_week(tx, where, params, week, older)


def page(storage: Storage, since: date | None = None, until: date | None = None, site: str | None = None, *,
         after: Cursor | None = None, before: Cursor | None = None, size: int = PAGE_SIZE) -> FiguresPage:
    """`size` rows (week, field) of the figures after or before a row, newest week first: the weeks
    read are those the page shows (and the next one's first), each an index range."""
    where, params = _where(since, until, site)
    cursor = before or after
    older = before is None
    with storage.read() as tx:
        rows = []
        for row in _walk(tx, where, params, cursor, older):
            rows.append(row)
            if len(rows) > size:
                break
    further = len(rows) > size
    rows = rows[:size]
    places = [Cursor(r.week.isoformat(), r.field) for r in rows]
    if not older:
        rows.reverse()
        places.reverse()
        return FiguresPage(rows, places[-1] if places else before, places[0] if further and places else None)
    return FiguresPage(rows, places[-1] if further else None, places[0] if cursor is not None and places else None)


def summary(storage: Storage, since: date | None = None, until: date | None = None,
            site: str | None = None) -> tuple[rule.CheckFigure | None, list[rule.CheckFigure]]:
    """The whole period's figures (the field `*`) and by field: one statement the database sums
    (the period's rows, read once)."""
    where, params = _where(since, until, site)
    with storage.read() as tx:
        groups = _grouped(tx, where, params, by_week=False)
    day = since or date(2000, 1, 3)
    fields = _summed((day, field, outcome, wrong, recheck, n) for _, field, outcome, wrong, recheck, n in groups)
    total = _summed((day, "*", outcome, wrong, recheck, n) for _, _, outcome, wrong, recheck, n in groups)
    return (total[0] if total else None), fields


def exported(storage: Storage, since: date | None = None, until: date | None = None,
             site: str | None = None) -> Iterator[list[rule.CheckFigure]]:
    """Every row of the figures, newest week first, a week a chunk, each read in its own short
    transaction (an export holds no snapshot open while the client downloads)."""
    where, params = _where(since, until, site)
    week = None
    while True:
        with storage.read() as tx:
            week = _next_week(tx, where, params, week, True)
            rows = _week(tx, where, params, week) if week is not None else []
        if week is None:
            return
        if rows:
            yield rows


def figures(storage: Storage, since: date | None = None, until: date | None = None,
            site: str | None = None) -> list[rule.CheckFigure]:
    """Every row of the figures (the command line's, tests')."""
    return [row for chunk in exported(storage, since, until, site) for row in chunk]
