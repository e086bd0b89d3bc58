"""`kiosk reprint` and `kiosk ticket verify`: a stored ticket's receipt again, a scanned code checked."""

from __future__ import annotations

import json
import sys

from kiosk.cli.common import EXIT_ERROR, CommandError, open_node, open_node_with_key
from kiosk.i18n import t
from kiosk.i18n.keys import PRINT_REASONS, TICKET_CODE_ERRORS
from kiosk.settings.config import Config


def cmd_reprint(args, config: Config) -> int:
    """Print a stored ticket's receipt again, now; a failure leaves the job for the kiosk."""
    from kiosk.printing.spool import PrinterSettings, ReprintError, print_job, request_reprint
    from kiosk.settings.institute import InstituteFileError, load_institute

    lang = args.lang or config.language
    open_node(config)
    try:
        info = load_institute(config.info_file, config.holidays_file)
        job_id = request_reprint(args.ticket, args.lang)
    except InstituteFileError as e:
        raise CommandError("cli.bad_config", str(e), lang) from None
    except ReprintError:
        raise CommandError("cli.no_ticket", args.ticket, lang) from None
    outcome = print_job(job_id, PrinterSettings.from_config(config), info)
    if outcome is None or outcome.state != "printed":
        reason = t(PRINT_REASONS[outcome.error_kind if outcome else "error"], lang)
        raise CommandError("cli.reprint_failed", reason, lang)
    print(t("cli.reprinted", lang, number=args.ticket.strip().upper(), job=job_id))
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
    p.set_defaults(func=cmd_reprint)

    ticket = sub.add_parser("ticket", help="tickets").add_subparsers(dest="ticket_command", required=True)
    p = ticket.add_parser("verify", help="decode a ticket code (the QR's text) and check its signature")
    p.add_argument("code", nargs="+", help="the code as scanned; spaces and line breaks are ignored")
    p.set_defaults(func=cmd_ticket_verify)
