"""The registration a customer is building at the kiosk.

Kept outside the widgets: a language switch relabels screens without losing a keystroke,
going back and forth between steps keeps everything, and the idle wipe has exactly one
thing to clear. Fields hold what the customer typed; validation cleans them on the way
to a `Registration` and reports per field (i18n keys, shown in the current language).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the welcome screen must not wait for them
    from kiosk.domain.catalog import FeeRow
    from kiosk.domain.fees import EstimateRequest, LineRequest
    from kiosk.domain.prepared import Parts
    from kiosk.domain.validation import FieldError
    from kiosk.store.catalog import LoadedCatalog
    from kiosk.store.registration import CustomerDetails, Registration

PICKUP_WAYS = ("in_person", "post")


@dataclass(frozen=True)
class DraftLine:
    """One kind of instrument as the customer described it (already validated)."""

    code: str
    quantity: int = 1
    use: str = "other"
    points: int | None = None
    ranges: int | None = None
    metres: Decimal | None = None
    ac_dc: bool = False
    extra_data: bool = False  # data the regulation does not require (priced by the policy)
    model: str = ""
    serial_number: str = ""
    manufacturer: str = ""
    requirements: str = ""
    repair_if_fails: bool = False

    def pricing(self) -> LineRequest:
        from kiosk.domain.fees import LineRequest

        return LineRequest(item=self.code, quantity=self.quantity, use=self.use, points=self.points,
                           ranges=self.ranges, metres=self.metres, ac_dc=self.ac_dc, extra_data=self.extra_data)


@dataclass
class Draft:
    organisation: str = ""
    credit_code: str = ""
    contact: str = ""
    phone: str = ""
    address: str = ""
    pickup: str = "in_person"
    lines: list[DraftLine] = field(default_factory=list)
    urgent: str | None = None
    certificates: int = 1
    certificate_name: str = ""
    notify: bool = False  # notices by SMS (and e-mail if given): the customer's choice, default off
    email: str = ""
    # The parts of a prepared registration's code read so far (screens/prepared.py): the customer's
    # data too, wiped with the rest; while it holds any, the idle timeout counts down.
    prepared: Parts | None = None

    def clear(self) -> None:
        """Forget everything the customer typed (idle timeout, or after the ticket)."""
        for f in fields(self):
            setattr(self, f.name, f.default_factory() if callable(f.default_factory) else f.default)

    @property
    def is_empty(self) -> bool:
        return self == Draft()

    # ---- step checks: each returns {field name: FieldError}; empty means go on ----------

    def customer_errors(self) -> dict[str, FieldError]:
        try:
            self.customer()
        except _Errors as e:
            return e.errors
        return {}

    def customer(self) -> CustomerDetails:
        from kiosk.domain.validation import (
            FieldError,
            clean_credit_code,
            clean_organisation,
            clean_person,
            clean_phone,
            clean_text,
        )
        from kiosk.store.registration import CustomerDetails

        errors: dict[str, FieldError] = {}

        def check(name: str, clean, *args):
            try:
                return clean(getattr(self, name), *args)
            except FieldError as e:
                errors[name] = e
                return ""

        details = CustomerDetails(
            organisation=check("organisation", clean_organisation),
            credit_code=check("credit_code", clean_credit_code),
            contact=check("contact", clean_person),
            phone=check("phone", clean_phone),
            # Certificates sent by post need somewhere to go.
            address=check("address", lambda v: clean_text(v, required=self.pickup == "post", max_length=100)),
        )
        if errors:
            raise _Errors(errors)
        return details

    def options_errors(self) -> dict[str, FieldError]:
        from kiosk.domain.validation import FieldError, clean_email, clean_phone, clean_text, is_mobile

        errors: dict[str, FieldError] = {}
        try:
            clean_text(self.certificate_name, max_length=100)
        except FieldError as e:
            errors["certificate_name"] = e
        try:
            email = clean_email(self.email)
        except FieldError as e:
            errors["email"] = e
        else:
            try:
                mobile = is_mobile(clean_phone(self.phone))
            except FieldError:
                mobile = False
            if self.notify and not mobile and not email:  # nowhere to send them
                errors["email"] = FieldError("notice.optin.no_phone")
        return errors

    # ---- lines -----------------------------------------------------------------------------

    def add_line(self, line: DraftLine) -> None:
        self.lines.append(line)

    def replace_line(self, index: int, line: DraftLine) -> None:
        self.lines[index] = line

    def remove_line(self, index: int) -> None:
        del self.lines[index]

    def urgent_possible(self, catalog: LoadedCatalog) -> bool:
        """Urgent is offered only if some line could take it: allowed, and not free."""
        return any(_urgent_allowed(catalog.by_code[ln.code], ln) for ln in self.lines)

    def drop_urgent_if_impossible(self, catalog: LoadedCatalog) -> None:
        if not self.urgent_possible(catalog):
            self.urgent = None

    # ---- to the engine and the database ----------------------------------------------------

    def request(self) -> EstimateRequest:
        from kiosk.domain.fees import EstimateRequest

        return EstimateRequest(tuple(ln.pricing() for ln in self.lines), self.urgent)

    def registration(self, language: str = "zh") -> Registration:
        from kiosk.domain.validation import clean_email, clean_text
        from kiosk.store.registration import InstrumentLine, Registration

        return Registration(
            customer=self.customer(),
            lines=tuple(
                InstrumentLine(ln.pricing(), model=ln.model, serial_number=ln.serial_number,
                               manufacturer=ln.manufacturer, requirements=ln.requirements,
                               repair_if_fails=ln.repair_if_fails)
                for ln in self.lines
            ),
            urgent=self.urgent,
            pickup=self.pickup,
            certificates=self.certificates,
            certificate_name=clean_text(self.certificate_name, max_length=100),
            language=language,
            notify=self.notify,
            email=clean_email(self.email) if self.notify else "",
        )


def _urgent_allowed(row: FeeRow, line: DraftLine) -> bool:
    from kiosk.domain.fees import is_free

    return row.urgent_allowed and not is_free(row, row.service, line.use)


class _Errors(Exception):
    def __init__(self, errors: dict[str, FieldError]):
        self.errors = errors


