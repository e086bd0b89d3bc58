"""A returning customer's earlier ticket, scanned (or its number typed) on the customer screen:
its organisation and contact fill the form again. No Textual here; the station's database
thread runs these.

What proves the customer holds that ticket is the project's one rule (kiosk/store/feedback.py):
its signed QR code (checked as the desks and 进度查询 check it, kiosk/store/desk.py identify),
or its number, which anyone can type, with the last four digits of the phone given at
registration. The tries at those digits are the feedback screen's count (PHONE_TRIES_HERE), so
switching screens gives a guesser no more.

Only the organisation, the contact and the phone leave this module, and the screen shows the
phone only once the customer has confirmed it: with the code it shows its last four digits and
fills it on "yes"; with the number the customer has just typed them. Never the credit code, the
address or anything else of the ticket. A lobby kiosk knows the tickets it registered (its own database,
offline); a valid code of another kiosk's ticket is "not here".
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from db.models import Customer, Ticket
from kiosk.domain.feedback import PhoneTries, clean_phone_digits, last_four
from kiosk.domain.validation import FieldError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Earlier:
    """An earlier ticket's customer, as the form takes it. `phone`: the whole number, filled
    only when the customer says it is still theirs; `phone_tail`: its last four digits, to ask."""

    number: str
    organisation: str
    contact: str
    phone: str
    phone_tail: str | None


@dataclass(frozen=True)
class Found:
    """What a scan or a typed number found. `error` (an i18n key suffix): not_found | damaged |
    not_here (a valid code of a ticket this kiosk does not know) | invalid (forged, revoked,
    unknown issuer, newer format) | no_phone | locked | None. `earlier`: found by its code.
    `ticket_uid` without `earlier`: found by its number, the phone's last four digits to ask."""

    error: str | None = None
    earlier: Earlier | None = None
    ticket_uid: str | None = None
    number: str = ""


@dataclass(frozen=True)
class DigitsChecked:
    """The answer to four digits: `earlier` when right; else `error` (digits | wrong | locked |
    not_found) and how many tries are left."""

    earlier: Earlier | None = None
    error: str | None = None
    tries_left: int = 0


def _tries(tries: PhoneTries | None) -> PhoneTries:
    from kiosk.store.feedback import PHONE_TRIES_HERE

    return tries or PHONE_TRIES_HERE


def _earlier(ticket: Ticket) -> Earlier | None:
    customer = Customer.get_by_id(ticket.customer_id)
    if not customer.organisation:  # a ticket taken in from its code alone: nothing to fill
        return None
    return Earlier(ticket.number, customer.organisation, customer.contact, customer.phone,
                   last_four(customer.phone))


def find_earlier(text: str, keys_for=None, tries: PhoneTries | None = None) -> Found:
    """The ticket a scanned code or a typed number names, if this kiosk knows it."""
    from kiosk.domain.ticketcode import looks_like_code
    from kiosk.store.desk import identify

    found = identify(text, keys_for)
    if found.ticket_id is None:
        return Found(found.for_customer)
    ticket = Ticket.get_by_id(found.ticket_id)
    if looks_like_code(text.strip()):  # identify found it by its code: the signature was checked
        earlier = _earlier(ticket)
        return Found(None, earlier, ticket.uid, ticket.number) if earlier else Found("not_here")
    earlier = _earlier(ticket)
    if earlier is None:
        return Found("not_here")
    if earlier.phone_tail is None:
        return Found("no_phone", number=ticket.number)  # nothing to prove it with
    if _tries(tries).left(ticket.uid) <= 0:
        return Found("locked", number=ticket.number)
    return Found(None, None, ticket.uid, ticket.number)


def check_digits(ticket_uid: str, digits: str, tries: PhoneTries | None = None) -> DigitsChecked:
    """The phone's last four digits, typed for a ticket found by its number."""
    tries = _tries(tries)
    ticket = Ticket.get_or_none(Ticket.uid == ticket_uid)
    earlier = None if ticket is None else _earlier(ticket)
    if ticket is None or earlier is None or earlier.phone_tail is None:
        return DigitsChecked(error="not_found")
    left = tries.left(ticket_uid)
    if left <= 0:
        return DigitsChecked(error="locked")
    try:
        given = clean_phone_digits(digits)
    except FieldError:
        return DigitsChecked(error="digits", tries_left=left)  # a slip of the finger, not a guess
    if hmac.compare_digest(given, earlier.phone_tail):
        log.info("returning customer: phone check passed for ticket %s", ticket.id)
        return DigitsChecked(earlier, tries_left=left)
    left = tries.wrong(ticket_uid)
    log.info("returning customer: phone check failed for ticket %s, %s tries left", ticket.id, left)
    return DigitsChecked(error="wrong" if left else "locked", tries_left=left)
