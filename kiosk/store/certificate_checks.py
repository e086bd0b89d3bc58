"""Certificate checks at the dispatch counter, stored (the rule: kiosk/domain/certificate_check.py).

Each step (a check, passed or returned; the customer taking a returned certificate as it is) is
a `certificate_check` row and its outbox event, written in ONE transaction, or nothing at all.
Steps pulled from other desks of the site are stored the same way, without an outbox event
(`store_pulled`, kiosk/sync/feed.py). Rows are keyed by the ticket's uid, so a pulled step whose
ticket is not here yet is kept. No Textual here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from db.inserts import insert
from db.models import CertificateCheck, Device, IntakeLine, OutboxEvent, Ticket, TicketEvent, database_proxy, utc_now
from kiosk.domain import certificate_check as rule
from kiosk.domain import events
from kiosk.domain.clock import local
from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.ids import uuid7
from kiosk.domain.validation import MAX_TEXT
from kiosk.store.tickets import TextRefused, clean_field

MAX_CERTIFICATE = 40  # as kiosk/store/desk.py's (events.Certificate)
CHECKED, TAKEN = "certificate.checked", "certificate.taken_as_is"


class CheckRefused(ValueError):
    """A check the desk will not record. `kind`: no_ticket | not_received | picked_up | no_instrument
    | refused_line | not_returned | bad_text (`where`: the field)."""

    def __init__(self, kind: str, message: str, where: str = ""):
        super().__init__(message)
        self.kind, self.where = kind, where


@dataclass(frozen=True)
class CheckInput:
    """What the clerk gave for one certificate: its number (typed or scanned), the conclusion it
    states (None: none), the points tapped as wrong, and words."""

    position: int
    instrument: int
    certificate: str = ""
    conclusion: str | None = None
    wrong: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class TakenLine:
    """An intake line as the check needs it."""

    position: int
    code: str
    service: str
    quantity: int  # instruments taken in (0: refused)


def _clean(value: str, where: str, limit: int) -> str:
    try:
        return clean_field(value, where, max_length=limit)
    except TextRefused as e:
        raise CheckRefused("bad_text", str(e), where) from None


def taken_lines(ticket_id: int) -> dict[int, TakenLine]:
    """The latest intake here, by position (empty: no intake known here)."""
    received = (TicketEvent.select(TicketEvent.id)
                .where((TicketEvent.ticket == ticket_id) & (TicketEvent.kind == "received"))
                .order_by(TicketEvent.id.desc()).first())
    if received is None:
        return {}
    return {ln.position: TakenLine(ln.position, ln.code, ln.service, 0 if ln.refused else ln.quantity)
            for ln in IntakeLine.select().where(IntakeLine.event == received.id)}


def _fact(row: CertificateCheck) -> rule.CheckFact:
    return rule.CheckFact(row.uid, row.position, row.instrument, row.kind, row.created_at,
                          row.outcome if row.kind == "check" else "", row.certificate, row.conclusion, row.document,
                          tuple(p for p in row.wrong.split(",") if p), row.reason, row.promised_on, row.refers_to,
                          row.clerk_name)


def facts_of(ticket_uid: str) -> list[rule.CheckFact]:
    return [_fact(r) for r in CertificateCheck.select().where(CertificateCheck.ticket_uid == ticket_uid)
            .order_by(CertificateCheck.created_at, CertificateCheck.uid)]


def certificate_states(ticket_id: int) -> dict[tuple[int, int], rule.CertificateState]:
    """(position, instrument) -> where its certificate stands; instruments never checked are absent."""
    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    return {} if ticket is None else rule.states(facts_of(ticket.uid))


def holding_pickup(ticket_id: int) -> list[rule.CertificateState]:
    """The certificates returned for correction and not taken as they are: the pickup waits."""
    return rule.holding(certificate_states(ticket_id))


def _ticket(ticket_id: int) -> Ticket:
    ticket = Ticket.get_or_none(Ticket.id == ticket_id)
    if ticket is None:
        raise CheckRefused("no_ticket", f"There is no ticket {ticket_id}.")
    if ticket.status == "picked_up":
        raise CheckRefused("picked_up", f"Ticket {ticket.number} was picked up: its certificates left.")
    if ticket.status == "registered":
        raise CheckRefused("not_received", f"Ticket {ticket.number} is not received yet.")
    return ticket


def _clerk(clerk) -> tuple[int | None, str | None, events.Clerk]:
    if clerk is None:
        return None, None, events.Clerk()
    return clerk.id, clerk.display_name, events.Clerk(username=clerk.username, name=clerk.display_name)


def record_check(ticket_id: int, clerk, device: Device, given: CheckInput, *, now: datetime | None = None,
                 cal: Calendar = WEEKENDS_ONLY, days: int = rule.RETURN_DAYS) -> rule.CheckFact:
    """Record one certificate's check: passed, or returned with its wrong points, words and the
    corrected one's promise (`days` working days: kiosk.correction_days); a re-check when its
    latest check returned it. CheckRefused."""
    now = now or utc_now()
    certificate = _clean(given.certificate, "certificate", MAX_CERTIFICATE)
    reason = _clean(given.reason, "reason", MAX_TEXT)
    with database_proxy.atomic():
        ticket = _ticket(ticket_id)
        line = taken_lines(ticket_id).get(given.position)
        if line is None:
            raise CheckRefused("no_instrument", f"Ticket {ticket.number}: no line {given.position + 1} taken in here.")
        if line.quantity == 0:
            raise CheckRefused("refused_line", f"Line {given.position + 1} was refused: it has no certificate.")
        if not 0 <= given.instrument < line.quantity:
            raise CheckRefused("no_instrument", f"Line {given.position + 1} has {line.quantity} instrument(s).")
        conclusion = given.conclusion if given.conclusion in rule.CONCLUSIONS else None
        wrong = rule.wrong_points(line.service, conclusion, given.wrong)
        outcome = rule.outcome_of(wrong)
        before = rule.states(facts_of(ticket.uid)).get((given.position, given.instrument))
        recheck_of = before.returned.uid if before is not None and before.returned is not None else None
        promised = rule.return_promise(local(now), cal, days) if outcome == "returned" else None
        document = rule.document_for(line.service, conclusion)
        uid = uuid7()
        clerk_id, clerk_name, clerk_fields = _clerk(clerk)
        insert(CertificateCheck, uid=uid, kind="check", ticket_uid=ticket.uid, number=ticket.number,
               position=given.position, instrument=given.instrument, outcome=outcome, code=line.code,
               service=line.service, certificate=certificate, document=document, conclusion=conclusion,
               wrong=",".join(wrong), reason=reason, promised_on=promised, refers_to=recheck_of, clerk=clerk_id,
               clerk_name=clerk_name, device_uid=device.uid, created_at=now)
        payload = events.CertificateChecked(
            check=uid, ticket=ticket.uid, number=ticket.number, device=device.uid, at=now, line=given.position,
            instrument=given.instrument, outcome=cast(Any, outcome), code=line.code,
            service=cast(Any, line.service), certificate=certificate,
            document=cast(Any, document),
            conclusion=cast(Any, conclusion), wrong=cast(Any, list(wrong)),
            reason=reason, promised_on=promised, recheck_of=recheck_of, clerk=clerk_fields)
        insert(OutboxEvent, uid=uuid7(), kind=CHECKED, created_at=now, payload=events.to_json(payload))
    return rule.CheckFact(uid, given.position, given.instrument, "check", now, outcome, certificate, conclusion,
                          document, wrong, reason, promised, recheck_of, clerk_name)


def take_as_is(ticket_id: int, clerk, device: Device, position: int, instrument: int, note: str = "", *,
               now: datetime | None = None) -> rule.CheckFact:
    """The customer takes a returned certificate as it is: their choice, the clerk's note. The
    pickup no longer waits for it. CheckRefused not_returned when it is not returned now."""
    now = now or utc_now()
    note = _clean(note, "note", MAX_TEXT)
    with database_proxy.atomic():
        ticket = _ticket(ticket_id)
        state = rule.states(facts_of(ticket.uid)).get((position, instrument))
        if state is None or state.returned is None:
            raise CheckRefused("not_returned", f"Line {position + 1}, instrument {instrument + 1}: not returned.")
        uid = uuid7()
        clerk_id, clerk_name, clerk_fields = _clerk(clerk)
        last = state.last
        insert(CertificateCheck, uid=uid, kind="taken_as_is", ticket_uid=ticket.uid, number=ticket.number,
               position=position, instrument=instrument, outcome="taken_as_is", code=_code_of(ticket.id, position),
               service=None, certificate=last.certificate if last else "", document=last.document if last else
               "certificate", conclusion=None, wrong="", reason=note, promised_on=None,
               refers_to=state.returned.uid, clerk=clerk_id, clerk_name=clerk_name, device_uid=device.uid,
               created_at=now)
        payload = events.CertificateTakenAsIs(event=uid, check=state.returned.uid, ticket=ticket.uid,
                                              number=ticket.number, device=device.uid, at=now, line=position,
                                              instrument=instrument, note=note, clerk=clerk_fields)
        insert(OutboxEvent, uid=uuid7(), kind=TAKEN, created_at=now, payload=events.to_json(payload))
    return rule.CheckFact(uid, position, instrument, "taken_as_is", now, reason=note, refers_to=state.returned.uid,
                          clerk=clerk_name)


def _code_of(ticket_id: int, position: int) -> str:
    line = taken_lines(ticket_id).get(position)
    return line.code if line else ""


# ---- from other desks: kiosk/sync/feed.py ------------------------------------------------------


def store_pulled(kind: str, data: dict, own_uid: str) -> bool:
    """A step another desk recorded (its event as central relays it); False: known here already, or
    this desk's own."""
    if kind == CHECKED:
        p = events.read(events.CertificateChecked, data)
        if p.device == own_uid or CertificateCheck.get_or_none(CertificateCheck.uid == p.check) is not None:
            return False
        clerk = p.clerk or events.Clerk()
        insert(CertificateCheck, uid=p.check, kind="check", ticket_uid=p.ticket, number=p.number, position=p.line,
               instrument=p.instrument, outcome=p.outcome, code=p.code, service=p.service, certificate=p.certificate,
               document=p.document, conclusion=p.conclusion, wrong=",".join(p.wrong), reason=p.reason,
               promised_on=p.promised_on, refers_to=p.recheck_of, clerk=None,
               clerk_name=clerk.name or clerk.username, device_uid=p.device, created_at=p.at)
        return True
    taken = events.read(events.CertificateTakenAsIs, data)
    if taken.device == own_uid or CertificateCheck.get_or_none(CertificateCheck.uid == taken.event) is not None:
        return False
    clerk = taken.clerk or events.Clerk()
    returned = CertificateCheck.get_or_none(CertificateCheck.uid == taken.check)
    insert(CertificateCheck, uid=taken.event, kind="taken_as_is", ticket_uid=taken.ticket, number=taken.number,
           position=taken.line, instrument=taken.instrument, outcome="taken_as_is",
           code=returned.code if returned else "", service=None,
           certificate=returned.certificate if returned else "",
           document=returned.document if returned else "certificate", conclusion=None, wrong="", reason=taken.note,
           promised_on=None, refers_to=taken.check, clerk=None, clerk_name=clerk.name or clerk.username,
           device_uid=taken.device, created_at=taken.at)
    return True


def undo_pulled(uid: str, device_uid: str) -> int:
    """A step of a revoked device, voided at central (kiosk/store/voiding.py): taken back here."""
    return CertificateCheck.delete().where((CertificateCheck.uid == uid)
                                           & (CertificateCheck.device_uid == device_uid)).execute()


# ---- what other rules need -----------------------------------------------------------------------


def checked_numbers(ticket_id: int) -> dict[int, dict[int, str]]:
    """Intake position -> instrument -> the number its certificate was last checked with."""
    found: dict[int, dict[int, str]] = {}
    for (position, instrument), s in certificate_states(ticket_id).items():
        if s.last is not None and s.last.certificate:
            found.setdefault(position, {})[instrument] = s.last.certificate
    return found


def returned_for_correction(ticket_uids: list[str] | None = None) -> dict[str, tuple[int, date | None]]:
    """Ticket uid -> (certificates returned and not yet re-checked or taken, their earliest promise),
    for the tickets that have any (the work list)."""
    query = CertificateCheck.select()
    if ticket_uids is not None:
        query = query.where(CertificateCheck.ticket_uid.in_(ticket_uids))
    by_ticket: dict[str, list[rule.CheckFact]] = {}
    for row in query.where(CertificateCheck.ticket_uid.in_(
            CertificateCheck.select(CertificateCheck.ticket_uid).where(CertificateCheck.outcome == "returned"))):
        by_ticket.setdefault(row.ticket_uid, []).append(_fact(row))
    found = {}
    for uid, facts in by_ticket.items():
        states = rule.states(facts)
        held = rule.holding(states)
        if held:
            found[uid] = (len(held), rule.promised_by(states))
    return found


def failed_verifications(ticket_uid: str) -> dict[int, int]:
    """Intake position -> instruments found 不合格 (a result notice as their latest check)."""
    found: dict[int, int] = {}
    for s in rule.states(facts_of(ticket_uid)).values():
        if s.failed_verification:
            found[s.position] = found.get(s.position, 0) + 1
    return found


def failed_by_ticket() -> dict[str, dict[int, int]]:
    """Ticket uid -> intake position -> instruments found 不合格, for every ticket with a result notice."""
    noticed = CertificateCheck.select(CertificateCheck.ticket_uid).where(CertificateCheck.document == "notice")
    by_ticket: dict[str, list[rule.CheckFact]] = {}
    for row in CertificateCheck.select().where(CertificateCheck.ticket_uid.in_(noticed)):
        by_ticket.setdefault(row.ticket_uid, []).append(_fact(row))
    found: dict[str, dict[int, int]] = {}
    for uid, facts in by_ticket.items():
        for s in rule.states(facts).values():
            if s.failed_verification:
                found.setdefault(uid, {})
                found[uid][s.position] = found[uid].get(s.position, 0) + 1
    return found


def check_rows(since: date | None = None, until: date | None = None) -> list[rule.CheckRow]:
    """Every check held here (this desk's and those pulled), as the figures count them; `since` /
    `until`: local dates, inclusive."""
    rows = []
    for r in CertificateCheck.select().where(CertificateCheck.kind == "check").order_by(CertificateCheck.created_at):
        day = local(r.created_at).date()
        if (since and day < since) or (until and day > until):
            continue
        letter = r.code[:1] if r.code[:1].isalpha() else "?"
        rows.append(rule.CheckRow(rule.week_of(day), letter, r.outcome, tuple(p for p in r.wrong.split(",") if p),
                                  r.refers_to is not None))
    return rows


@dataclass(frozen=True)
class CheckView:
    """What the check screen shows beside the intake: the holder's name the certificates must
    carry (证书单位: as the customer asked, else the organisation), the copies ordered, and where
    each instrument's certificate stands."""

    holder: str
    copies: int
    states: dict[tuple[int, int], rule.CertificateState]


def check_view(ticket_id: int) -> CheckView:
    from db.models import Customer

    ticket = Ticket.select(Ticket, Customer).join(Customer).where(Ticket.id == ticket_id).get()
    return CheckView(ticket.certificate_name or ticket.customer.organisation, ticket.certificates or 1,
                     rule.states(facts_of(ticket.uid)))
