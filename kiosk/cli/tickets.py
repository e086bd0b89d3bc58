"""`kiosk reprint` and `kiosk ticket verify`: a stored ticket's receipt again, a scanned code checked."""

from __future__ import annotations

import json
import sys

from kiosk.cli.common import EXIT_ERROR, CommandError, open_node, open_node_with_key
from kiosk.i18n import t
from kiosk.i18n.keys import PRINT_DOCUMENTS, PRINT_REASONS, TICKET_CODE_ERRORS
from kiosk.settings.config import Config


def cmd_reprint(args, config: Config) -> int:
    """Print a stored ticket's receipt (or voucher, or pickup slip) again, now: the job not printed
    yet if there is one, else a copy marked 补打; a failure leaves the job for the kiosk."""
    from kiosk.printing.spool import PrinterSettings, ReprintError, print_job, request_reprint
    from kiosk.settings.institute import InstituteFileError, load_institute

    lang = args.lang or config.language
    open_node(config)
    try:
        info = load_institute(config.info_file, config.holidays_file)
        reprint = request_reprint(args.ticket, args.lang, args.kind)
    except InstituteFileError as e:
        raise CommandError("cli.bad_config", str(e), lang) from None
    except ReprintError as e:
        document = t(PRINT_DOCUMENTS[args.kind], lang)
        if e.never_printed:
            raise CommandError("cli.never_printed", f"{args.ticket} {document}", lang) from None
        raise CommandError("cli.no_ticket", args.ticket, lang) from None
    said = {"document": t(PRINT_DOCUMENTS[args.kind], lang), "number": args.ticket.strip().upper(),
            "job": reprint.job_id}
    settings = PrinterSettings.from_config(config)
    outcome = None if reprint.how == "printing" else print_job(reprint.job_id, settings, info)
    if outcome is None:  # the kiosk has it on its way to the printer
        print(t("cli.reprint.printing", lang, **said), file=sys.stderr)
        return EXIT_ERROR
    copy = reprint.how == "copy"
    if outcome.state == "unconfirmed":  # every byte went out; only the paper can tell
        reason = t(PRINT_REASONS[outcome.error_kind or "unconfirmed"], lang)
        print(t("cli.reprint_unconfirmed", lang, reason=reason, **said), file=sys.stderr)
        return EXIT_ERROR
    if outcome.state != "printed":
        reason = t(PRINT_REASONS[outcome.error_kind or "error"], lang)
        print(t("cli.reprint_failed.copy" if copy else "cli.reprint_failed.replaced", lang, reason=reason, **said),
              file=sys.stderr)
        return EXIT_ERROR
    print(t("cli.reprint.copy" if copy else "cli.reprint.replaced", lang, **said))
    return 0


def cmd_ticket_verify(args, config: Config) -> int:
    """The decoded ticket as JSON, exit 0, when the code's signature is valid; else why not, exit 1."""
    from kiosk.domain.ticketcode import TicketCodeError, decode
    from kiosk.store.keys import keys_for

    open_node_with_key(config)
    try:
        record = decode(" ".join(args.code), keys_for)
    except TicketCodeError as e:
        print(t(TICKET_CODE_ERRORS[e.kind], config.language), file=sys.stderr)
        return EXIT_ERROR
    print(json.dumps(record.to_dict(), ensure_ascii=False, indent=2))
    return 0


def register(sub) -> None:
    p = sub.add_parser("reprint", help="print a ticket's receipt again")
    p.add_argument("ticket", help="ticket number, e.g. K1A-261124-0001")
    p.add_argument("--lang", choices=("zh", "en"), help="default: the language it was registered in")
    p.add_argument("--kind", choices=tuple(PRINT_DOCUMENTS), default="ticket",
                   help="which paper: the kiosk's ticket (default), the desk's pickup voucher or pickup slip")
    p.set_defaults(func=cmd_reprint)

    ticket = sub.add_parser("ticket", help="tickets").add_subparsers(dest="ticket_command", required=True)
    p = ticket.add_parser("verify", help="decode a ticket code (the QR's text) and check its signature")
    p.add_argument("code", nargs="+", help="the code as scanned; spaces and line breaks are ignored")
    p.set_defaults(func=cmd_ticket_verify)
