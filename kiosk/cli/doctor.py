"""`kiosk doctor`: every check of kiosk/ops/doctor.py, said at the terminal."""

from __future__ import annotations

import sys

from kiosk.cli.common import EXIT_ERROR
from kiosk.i18n import t
from kiosk.settings.config import Config


def cmd_doctor(args, config: Config | None, config_error: str | None = None) -> int:
    """One line per check, "ok" or what to do; exit 0 all ok, 1 a warning, 2 a failure.
    It runs without a configuration too (main passes why it could not be read): that is a check."""
    from kiosk.ops.doctor import dumps, exit_code, format_report, run_checks

    if args.print_test:
        return print_test(args.lang or (config.language if config else "zh"), config, config_error)
    checks = run_checks(config, config_error=config_error)
    print(dumps(checks) if args.json else format_report(checks, args.lang))
    return exit_code(checks)


def print_test(lang: str, config: Config | None, config_error: str | None) -> int:
    """The self-test page on the configured printer, said as `kiosk reprint` says a receipt:
    exit 0 printed, 1 unconfirmed or not printed."""
    from kiosk.domain.clock import utc_now
    from kiosk.i18n.keys import PRINT_REASONS
    from kiosk.printing.selftest import print_self_test
    from kiosk.printing.spool import PrinterSettings

    if config is None:
        print(t("selftest.no_config", lang, error=config_error or "?"), file=sys.stderr)
        return EXIT_ERROR
    settings = PrinterSettings.from_config(config)
    error = print_self_test(settings, utc_now(), lang)
    if error is None:
        print(t("selftest.printed", lang, printer=settings.uri))
        return 0
    reason = t(PRINT_REASONS[error.kind], lang)
    if error.delivered:  # every byte went out; only the paper can tell
        print(t("selftest.unconfirmed", lang, reason=reason, printer=settings.uri), file=sys.stderr)
    else:
        print(t("selftest.failed", lang, reason=reason, printer=settings.uri, detail=str(error)), file=sys.stderr)
    return EXIT_ERROR


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check configuration, database, printer, central, clock, disk, PIN, backups")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--lang", choices=("zh", "en"), help="one language (default: zh and en side by side)")
    p.add_argument("--print-test", action="store_true",
                   help="print the self-test page on the configured printer: which profile it takes")
    p.set_defaults(func=cmd_doctor)
