"""`kiosk register`: a ticket from a JSON order on stdin (a phone or batch order at the counter, a
script), validated, stored and printed exactly as the kiosk does it; the stored ticket as JSON."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

from kiosk.cli.common import CommandError, open_node_with_key
from kiosk.cli.estimate import read_request
from kiosk.i18n import t
from kiosk.i18n.keys import PRINT_REASONS
from kiosk.settings.config import Config
from kiosk.settings.pricing import configured_policy

# What an order adds to `kiosk estimate`'s request: the customer screen's fields, the options
# screen's, and per line what the customer says about the instrument (LINE_TEXTS).
CUSTOMER = ("organisation", "credit_code", "contact", "phone", "address")
# Each field the draft checks, as its screen labels it.
LABELS = {"organisation": "customer.organisation", "credit_code": "customer.credit_code",
          "contact": "customer.contact", "phone": "customer.phone", "address": "customer.address",
          "certificate_name": "options.certificate_name"}
ORDER = ("customer", "pickup", "certificates", "certificate_name")
LINE_EXTRAS = ("model", "serial_number", "manufacturer", "requirements", "repair_if_fails")


def cmd_register(args, config: Config) -> int:
    from kiosk.domain.fees import EstimateError
    from kiosk.printing.spool import PrinterSettings, print_job
    from kiosk.settings.institute import InstituteFileError, load_institute
    from kiosk.store.catalog import load_catalog
    from kiosk.store.registration import RegistrationError, ensure_device, register

    lang = args.lang or config.language
    registration = _registration(read_request(lang), lang)  # validated before the database is opened
    policy = configured_policy()
    try:
        info = load_institute(config.info_file, config.holidays_file)
    except InstituteFileError as e:
        raise CommandError("cli.bad_config", str(e), lang) from None
    open_node_with_key(config)
    try:
        ticket = register(registration, load_catalog(), policy, ensure_device(config.device_prefix), info.calendar)
    except (RegistrationError, EstimateError) as e:  # an unknown fee-standard number, a bad add-on...
        raise CommandError("cli.bad_registration", str(e), lang) from None
    # Stored: from here on nothing is refused. A printer that fails leaves the job for the kiosk.
    outcome = print_job(ticket.print_job_id, PrinterSettings.from_config(config), info)
    printed = outcome is not None and outcome.state == "printed"
    if not printed:
        # A job not printed always has its PrinterError's kind (kiosk/printing/spool.py); none
        # reads as "error", as `kiosk reprint` says it.
        reason = t(PRINT_REASONS[(outcome.error_kind if outcome else None) or "error"], lang)
        said = "cli.register_unconfirmed" if outcome and outcome.state == "unconfirmed" else "cli.register_unprinted"
        print(t(said, lang, number=ticket.number, reason=reason), file=sys.stderr)
    print(json.dumps({
        "uid": ticket.uid, "number": ticket.number, "created_at": ticket.created_at.isoformat(),
        "total_fen": ticket.estimate.total_fen, "code": ticket.code,
        "print_job": ticket.print_job_id, "printed": printed, "estimate": ticket.estimate.to_dict(),
    }, ensure_ascii=False, indent=2))
    return 0


def _registration(data, lang: str):
    """The order as the kiosk's draft would hold it, checked by the draft's own rules (the
    customer screen's, field by field); the pricing request by `kiosk estimate`'s. CommandError
    names the field."""
    from kiosk.domain.fees import EstimateError, request_from_dict
    from screens.draft import Draft, DraftLine

    def refuse(where: str, why: str):
        return CommandError("cli.bad_registration", f"{where}: {why}", lang)

    if not isinstance(data, dict):
        raise refuse("request", t("cli.order.object", lang))
    customer = data.get("customer")
    if not isinstance(customer, dict):
        raise refuse("customer", t("error.required", lang))
    if unknown := set(customer) - set(CUSTOMER):
        raise refuse("customer", t("cli.order.unknown", lang, names=", ".join(sorted(unknown))))
    for name, value in customer.items():
        if not isinstance(value, str):
            raise refuse(f"customer.{name}", t("cli.order.text", lang))
    if not isinstance(data.get("certificate_name", ""), str):
        raise refuse("certificate_name", t("cli.order.text", lang))
    certificates = data.get("certificates", 1)
    if isinstance(certificates, bool) or not isinstance(certificates, int):
        raise refuse("certificates", t("cli.order.whole", lang))
    raw_lines = data.get("lines")
    extras = [{k: line.pop(k) for k in LINE_EXTRAS if k in line} if isinstance(line, dict) else {}
              for line in raw_lines] if isinstance(raw_lines, list) else []
    for i, line in enumerate(extras):
        if not all(isinstance(line.get(k, ""), str) for k in LINE_EXTRAS[:-1]):
            wrong = next(k for k in LINE_EXTRAS[:-1] if not isinstance(line.get(k, ""), str))
            raise refuse(f"lines[{i}].{wrong}", t("cli.order.text", lang))
        if not isinstance(line.get("repair_if_fails", False), bool):
            raise refuse(f"lines[{i}].repair_if_fails", t("cli.order.flag", lang))
    try:
        request = request_from_dict({k: v for k, v in data.items() if k not in ORDER})
    except EstimateError as e:
        raise refuse(e.where, str(e).removeprefix(f"{e.where}: ")) from None
    draft = Draft(**customer, pickup=data.get("pickup", "in_person"), urgent=request.urgent,
                  certificates=certificates, certificate_name=data.get("certificate_name", ""),
                  lines=[DraftLine(code=ln.item, quantity=ln.quantity, use=ln.use, points=ln.points, ranges=ln.ranges,
                                   metres=ln.metres, ac_dc=ln.ac_dc, extra_data=ln.extra_data, **extra)
                         for ln, extra in zip(request.lines, extras)])
    if errors := {**draft.customer_errors(), **draft.options_errors()}:
        raise CommandError("cli.bad_registration", "; ".join(
            f"{_field(name, lang)}: {t(e.key, lang, **e.values)}" for name, e in errors.items()), lang)
    registration = draft.registration(lang)
    # The draft has no service to choose (the row's is taken); an order may name it, to be checked.
    return replace(registration, lines=tuple(replace(line, pricing=asked)
                                             for line, asked in zip(registration.lines, request.lines)))


def _field(name: str, lang: str) -> str:
    """customer.phone (联系电话): the field as the order names it and the screen labels it."""
    return f"{'customer.' if name in CUSTOMER else ''}{name} ({t(LABELS[name], lang)})"


def register(sub) -> None:
    p = sub.add_parser("register", help="register a ticket from a JSON order on stdin, print its receipt")
    p.add_argument("--lang", choices=("zh", "en"), help="messages and the receipt (default: the configured language)")
    p.set_defaults(func=cmd_register)
