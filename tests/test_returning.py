"""A returning customer's earlier ticket (kiosk/store/returning.py): its signed code is proof
enough; its number needs the phone's last four digits, three tries per ticket, counted with the
feedback screen's; a code of a ticket this kiosk does not know, a damaged or a forged one, each
say so; nothing but the organisation, the contact and the phone comes back."""

from __future__ import annotations

from dataclasses import fields

from kiosk.domain.feedback import PhoneTries
from kiosk.domain.fees import default_policy
from kiosk.domain.ids import uuid7
from kiosk.domain.ticketcode import CodeLine, TicketRecord, encode
from kiosk.store.keys import signing_key
from kiosk.store.registration import ensure_device, register
from kiosk.store.returning import Earlier, check_digits, find_earlier
from kiosk.store.tickets import CustomerDetails
from tests.test_registration import sample


def registered(catalog, phone="13812345678"):
    details = CustomerDetails("示范燃气有限公司", "91520100MA6DKJ2X4U", "贵阳市某路1号", "李工", phone)
    return register(sample(customer=details), catalog, default_policy(), ensure_device("K1"))


def test_a_signed_code_gives_the_organisation_contact_and_the_phones_last_four(catalog):
    ticket = registered(catalog)
    found = find_earlier(ticket.code)
    assert found.error is None and found.ticket_uid == ticket.uid
    assert found.earlier == Earlier(ticket.number, "示范燃气有限公司", "李工", "13812345678", "5678")
    assert [f.name for f in fields(Earlier)] == ["number", "organisation", "contact", "phone", "phone_tail"]
    assert find_earlier(ticket.code.lower()).earlier == found.earlier  # any case, as scanners type it


def test_codes_this_kiosk_cannot_use_say_why(catalog):
    device = ensure_device("K1")
    ticket = registered(catalog)
    elsewhere = encode(TicketRecord(uuid7(), "K9-261124-0001", device.uid, ticket.created_at, 1,
                                    (CodeLine("L-001-001", 1, "verification", "safety"),), 0,
                                    catalog_hash=bytes(4), policy_hash=bytes(4)), signing_key(device.uid))
    forged = ticket.code[:-20] + ("A" if ticket.code[-20] != "A" else "B") + ticket.code[-19:]
    assert find_earlier(elsewhere).error == "not_here"
    assert find_earlier(forged).error == "invalid"
    assert find_earlier(ticket.code[:80]).error == "damaged"
    assert find_earlier("K1-000000-0000").error == "not_found"


def test_a_number_needs_the_last_four_digits_and_three_wrong_tries_lock_it(catalog):
    ticket, tries = registered(catalog), PhoneTries()
    found = find_earlier(ticket.number.replace("-", " "), tries=tries)
    assert (found.error, found.earlier, found.ticket_uid) == (None, None, ticket.uid)  # nothing before the check
    assert check_digits(ticket.uid, "12a4", tries).error == "digits" and tries.left(ticket.uid) == 3  # a slip
    assert (check_digits(ticket.uid, "1234", tries).error, tries.left(ticket.uid)) == ("wrong", 2)
    right = check_digits(ticket.uid, "５６７８", tries)  # full width, as an input method types
    assert right.earlier is not None and right.earlier.phone == "13812345678"
    check_digits(ticket.uid, "0000", tries)
    check_digits(ticket.uid, "0000", tries)
    assert check_digits(ticket.uid, "5678", tries).error == "locked"  # the right digits, too late
    assert find_earlier(ticket.number, tries=tries).error == "locked"


def test_the_tries_are_the_feedback_screens(catalog):
    from kiosk.store.feedback import PHONE_TRIES_HERE

    ticket = registered(catalog)
    try:
        for _ in range(3):
            PHONE_TRIES_HERE.wrong(ticket.uid)  # three wrong guesses on the feedback screen
        assert find_earlier(ticket.number).error == "locked"
    finally:
        PHONE_TRIES_HERE.forget()


def test_a_ticket_without_a_phone_cannot_be_claimed_by_its_number(catalog):
    ticket = registered(catalog, phone="")
    assert find_earlier(ticket.number).error == "no_phone"
    assert find_earlier(ticket.code).earlier.phone_tail is None  # by its code: filled, nothing to ask
