"""`kiosk doctor`: every check of kiosk/ops/doctor.py, said at the terminal."""

from __future__ import annotations

from kiosk.settings.config import Config


def cmd_doctor(args, config: Config | None, config_error: str | None = None) -> int:
    """One line per check, "ok" or what to do; exit 0 all ok, 1 a warning, 2 a failure.
    It runs without a configuration too (main passes why it could not be read): that is a check."""
    from kiosk.ops.doctor import dumps, exit_code, format_report, run_checks

    checks = run_checks(config, config_error=config_error)
    print(dumps(checks) if args.json else format_report(checks, args.lang))
    return exit_code(checks)


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check configuration, database, printer, central, clock, disk, PIN, backups")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--lang", choices=("zh", "en"), help="one language (default: zh and en side by side)")
    p.set_defaults(func=cmd_doctor)
