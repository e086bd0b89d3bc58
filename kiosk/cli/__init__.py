"""The `kiosk` command. Heavy imports (Textual, pypinyin) are deferred to the commands
that need them, so `kiosk estimate` and friends start fast."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from kiosk.domain.clock import local, today
from kiosk.i18n import t
from kiosk.ops.config import Config, ConfigError, load_config

EXIT_ERROR = 1


class CommandError(Exception):
    """A clear message for the person at the terminal; exit status non-zero."""

    def __init__(self, headline_key: str, detail: str, lang: str):
        super().__init__(f"{t(headline_key, lang)}: {detail}")


def _open(config: Config):
    """Open the database, first start included: schema, demo catalogue, device identity."""
    from db.connection import SchemaError, open_database
    from kiosk.store.catalog import ensure_catalog
    from kiosk.store.registration import ensure_device

    try:
        # An older schema is backed up there before it is upgraded (not upgraded if that fails).
        db = open_database(config.database, backup_dir=config.data_dir / "backups")
    except (SchemaError, OSError) as e:
        raise CommandError("cli.database", _db_problem(e, config.language), config.language) from None
    ensure_catalog()
    ensure_device(config.device_prefix)
    return db


def _db_problem(e: BaseException, lang: str) -> str:
    """A full, read-only or damaged database said in words, then the technical detail."""
    from kiosk.ops.doctor import database_problem

    problem = database_problem(e)
    return f"{problem.text(lang)}\n  ({e})" if problem else str(e)


def _write_csv(text: str, output: str | None) -> None:
    """To the file, with a BOM (Excel, which institutes open these in, needs it to read
    UTF-8), or to stdout."""
    if output:
        Path(output).write_text(text, encoding="utf-8-sig")
    else:
        sys.stdout.write(text)


def _policy(config: Config):
    from kiosk.domain.fees import PolicyError, default_policy, policy_from_dict

    if config.policy_file is None:
        return default_policy()
    try:
        return policy_from_dict(json.loads(config.policy_file.read_text("utf-8")))
    except (OSError, ValueError, PolicyError) as e:
        raise CommandError("cli.bad_config", f"{config.policy_file}: {e}", config.language) from None


def _log_to_file(config: Config, fmt: str | None = None) -> None:
    """While the kiosk runs the terminal is its screen: logs go to a file (kiosk/ops/logs.py). This
    also stops python-escpos, whose import calls logging.basicConfig(), from writing over it."""
    from kiosk.ops.logs import configure_logging

    configure_logging(config.data_dir, fmt, tui=True)


def _inherited_env() -> tuple[str, ...]:
    """Variables the app must not inherit. Under `kiosk serve` (textual-serve's web driver)
    COLUMNS is the browser's width, which the driver reads at start: kept there."""
    if "web_driver" in os.environ.get("TEXTUAL_DRIVER", ""):
        return ("TEXTUAL_ALLOW_SIGNALS", "LINES")
    return ("TEXTUAL_ALLOW_SIGNALS", "LINES", "COLUMNS")


def cmd_run(args, config: Config) -> int:
    from kiosk.ops.institute import InstituteFileError
    from screens.app import KioskApp

    # The lockdown and the layout must not depend on the environment the kiosk starts in:
    # TEXTUAL_ALLOW_SIGNALS turns ctrl+c into SIGINT; LINES/COLUMNS override the real size.
    for name in _inherited_env():
        os.environ.pop(name, None)

    _log_to_file(config, args.log)
    try:
        app = KioskApp(config)
    except InstituteFileError as e:
        raise CommandError("cli.bad_config", str(e), config.language) from None
    app.run()
    return app.return_code or 0


def cmd_estimate(args, config: Config) -> int:
    from kiosk.domain.fees import EstimateError, estimate, request_from_dict
    from kiosk.i18n.estimate_text import format_estimate
    from kiosk.store.catalog import load_catalog

    lang = args.lang or config.language
    try:
        data = json.loads(sys.stdin.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CommandError("cli.bad_json", str(e), lang) from None
    policy = _policy(config)
    try:
        request = request_from_dict(data)  # validated before the database is opened
        _open(config)
        catalog = load_catalog(args.version)
        result = estimate(request, catalog.by_code, policy, catalog.version)
    except EstimateError as e:
        raise CommandError("cli.bad_request", str(e), lang) from None
    except LookupError as e:
        raise CommandError("cli.bad_request", str(e), lang) from None
    if args.table:
        print(format_estimate(result, lang))
    else:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    return 0


def cmd_catalog_import(args, config: Config) -> int:
    from kiosk.domain.catalog import CatalogError, decode_csv_bytes, parse_csv
    from kiosk.store.catalog import import_rows

    path = Path(args.file)
    lang = config.language
    try:
        text = decode_csv_bytes(path.read_bytes())
    except FileNotFoundError:
        raise CommandError("cli.not_found", str(path), lang) from None
    except ValueError as e:
        raise CommandError("cli.bad_catalog", f"{path}: {e}", lang) from None
    try:
        rows = parse_csv(text, str(path))  # all rows checked before anything is written
        _open(config)
        version = import_rows(rows, path.name)
    except CatalogError as e:
        raise CommandError("cli.bad_catalog", "\n" + str(e), lang) from None
    print(t("cli.imported", lang, version=version, rows=len(rows)))
    return 0


def cmd_catalog_export(args, config: Config) -> int:
    from kiosk.store.catalog import export_csv

    _open(config)
    try:
        text = export_csv(args.version)
    except LookupError as e:
        raise CommandError("cli.bad_request", str(e), config.language) from None
    _write_csv(text, args.output)
    return 0


def cmd_catalog_search(args, config: Config) -> int:
    from kiosk.domain.search import SearchIndex
    from kiosk.i18n import money, name_of, service_name, spec_of
    from kiosk.i18n.textwidth import pad
    from kiosk.store.catalog import load_catalog, search_keys_for

    lang = args.lang or config.language
    _open(config)
    catalog = load_catalog()
    hits = SearchIndex(catalog.rows, search_keys_for(catalog.rows)).search(args.query, limit=args.limit)
    if not hits:
        print(t("cli.no_match", lang), file=sys.stderr)
        return EXIT_ERROR
    for row in hits:
        print(" ".join([pad(row.code, 12), pad(name_of(row, lang), 22), pad(spec_of(row, lang), 26),
                        pad(service_name(row.service, lang), 12), pad(money(row.price_fen, lang), 11, ">")]).rstrip())
    return 0


def cmd_db_status(args, config: Config) -> int:
    from db.connection import schema_version
    from db.models import OutboxEvent, PrintJob, Ticket
    from kiosk.store.catalog import latest_version
    from kiosk.store.registration import ensure_device

    db = _open(config)
    device = ensure_device()
    print(json.dumps({
        "database": str(config.database),
        "schema_version": schema_version(db),
        "catalog_version": latest_version(),
        "device": {"uid": device.uid, "prefix": device.prefix, "role": device.role},
        "tickets": Ticket.select().count(),
        "print_jobs_pending": PrintJob.select().where(PrintJob.state == "pending").count(),
        "print_jobs_failed": PrintJob.select().where(PrintJob.state == "failed").count(),
        "outbox_waiting": OutboxEvent.select().where(OutboxEvent.acked_at.is_null()
                                                     & OutboxEvent.parked_at.is_null()).count(),
        "outbox_parked": OutboxEvent.select().where(OutboxEvent.parked_at.is_null(False)
                                                    & OutboxEvent.acked_at.is_null()).count(),
    }, indent=2))
    return 0


def cmd_doctor(args, config: Config | None, config_error: str | None = None) -> int:
    """One line per check, "ok" or what to do; exit 0 all ok, 1 a warning, 2 a failure."""
    from kiosk.ops.doctor import dumps, exit_code, format_report, run_checks

    checks = run_checks(config, config_error=config_error)
    print(dumps(checks) if args.json else format_report(checks, args.lang))
    return exit_code(checks)


def cmd_backup(args, config: Config) -> int:
    """A consistent copy while the kiosk runs (SQLite's online backup), then rotation."""
    from db.backup import BackupError, backup_database, rotate
    from kiosk.ops.doctor import backup_dir, problem_message

    lang = args.lang or config.language
    folder = Path(args.to) if args.to else backup_dir(config)
    if args.keep < 1 or args.weekly < 0:
        raise CommandError("backup.failed", "--keep must be at least 1, --weekly at least 0", lang)
    try:
        path = backup_database(config.database, folder)
    except BackupError as e:
        raise CommandError("backup.failed", f"{problem_message(e.kind, **e.values).text(lang)}\n  ({e})",
                           lang) from None
    print(t("backup.done", lang, file=path, size=f"{path.stat().st_size / 1024 / 1024:.1f} MB"))
    if not args.no_rotate:
        removed = rotate(folder, keep=args.keep, weekly=args.weekly)
        if removed:
            print(t("backup.rotated", lang, count=len(removed)))
    return 0


def cmd_restore(args, config: Config) -> int:
    """Put a backup in the database's place: refused while anything has the database open."""
    from db.backup import BackupError, restore
    from kiosk.ops.doctor import backup_dir, problem_message

    lang = args.lang or config.language
    try:
        done = restore(Path(args.file), config.database, backup_dir(config))
    except BackupError as e:
        raise CommandError("restore.failed", f"{problem_message(e.kind, **e.values).text(lang)}\n  ({e})",
                           lang) from None
    if done.kept is None:
        print(t("restore.done_new", lang, file=args.file, version=done.version))
    else:
        print(t("restore.done", lang, file=args.file, version=done.version, kept=done.kept))
    return 0


def cmd_reprint(args, config: Config) -> int:
    """Print a stored ticket's receipt again, now; a failure leaves the job for the kiosk."""
    from kiosk.ops.institute import InstituteFileError, load_institute
    from kiosk.printing.spool import PrinterSettings, ReprintError, print_job, request_reprint

    lang = args.lang or config.language
    _open(config)
    try:
        info = load_institute(config.info_file, config.holidays_file)
        job_id = request_reprint(args.ticket, args.lang)
    except InstituteFileError as e:
        raise CommandError("cli.bad_config", str(e), lang) from None
    except ReprintError:
        raise CommandError("cli.no_ticket", args.ticket, lang) from None
    outcome = print_job(job_id, PrinterSettings.from_config(config), info)
    if outcome is None or outcome.state != "printed":
        reason = t(f"print.reason.{outcome.error_kind if outcome else 'error'}", lang)
        raise CommandError("cli.reprint_failed", reason, lang)
    print(t("cli.reprinted", lang, number=args.ticket.strip().upper(), job=job_id))
    return 0


def cmd_due(args, config: Config) -> int:
    """Instruments falling due for periodic verification (周检): a table, or CSV for the staff
    who call the customers (the CSV has the full phone number; the table masks it)."""
    from kiosk.store.due import due_instruments, format_table, parse_within, to_csv

    lang = args.lang or config.language
    try:
        days = parse_within(args.within)
    except ValueError as e:
        raise CommandError("due.bad_within", str(e), lang) from None
    _open(config)
    items = due_instruments(days, overdue=args.overdue)
    if args.csv or args.output:
        _write_csv(to_csv(items, lang), args.output)
    else:
        print(format_table(items, lang))
    return 0


def cmd_followups(args, config: Config) -> int:
    """Open follow-ups of poor ratings, overdue first, with what the customer said and the
    number to call (staff only: the phone is in full); `close ID --clerk NAME --note TEXT`."""
    from kiosk.i18n.textwidth import pad
    from kiosk.store.feedback import LEVELS, FollowupError, close_followup, open_followups

    lang = config.language
    _open(config)
    if args.close is not None:
        from db.models import Clerk
        from kiosk.store.registration import ensure_device

        clerk = Clerk.get_or_none((Clerk.username == args.clerk) & Clerk.removed_at.is_null())
        if clerk is None:
            raise CommandError("followups.no_clerk", str(args.clerk), lang)
        try:
            close_followup(args.close, clerk, args.note or "", ensure_device())
        except FollowupError as e:
            raise CommandError("followups.not_closed", str(e), lang) from None
        print(t("followups.closed", lang, id=args.close))
        return 0
    for f in open_followups():
        what = t(f"feedback.level.{LEVELS[f.rating]}", lang)
        if f.reason:
            what += t("receipt.colon", lang) + t(f"feedback.reason.{f.reason}", lang)
        words = " ".join(x for x in (f.reason_text, f.comment) if x)
        print("  ".join((pad(str(f.id), 4, ">"), f"{f.due_on:%Y-%m-%d}",
                         pad(t("followups.overdue", lang) if f.overdue else "", 6),
                         pad(f.number or t("followups.anonymous", lang), 16), pad(f.phone or "-", 13), what,
                         words)).rstrip())
    return 0


def cmd_worklist(args, config: Config) -> int:
    """在办清单, as the desk's F12 shows it: late lab work and overdue pickups first, with the
    number to call (staff only: the phone in full); --late for those only, --csv for a sheet."""
    from kiosk.domain.holidays import load_calendar
    from kiosk.i18n.textwidth import pad
    from kiosk.store.worklist import state_text, to_csv, work_list

    lang = config.language
    _open(config)
    found = work_list(None, load_calendar(config.holidays_file), config.pickup_days)
    items = [i for i in found.items if i.late] if args.late else found.items
    if args.csv:
        sys.stdout.write(to_csv(items))
        return 0
    for i in items:
        print("  ".join((pad(state_text(i, lang), 24), pad(i.number, 16), pad(str(i.instruments), 4, ">"),
                         pad(i.phone or "-", 13), pad(i.contact, 8), i.organisation)).rstrip())
    print(t("desk.worklist.count", lang, lab=found.in_lab, late=found.in_lab_late, waiting=found.waiting,
            overdue=found.waiting_overdue, days=found.pickup_days), file=sys.stderr)
    return 0


def _open_with_key(config: Config):
    """_open, with an unusable signing key (readable by others, missing, changed) said clearly."""
    from kiosk.store.keys import KeyFileError

    try:
        return _open(config)
    except KeyFileError as e:
        raise CommandError("keys.unusable", str(e), config.language) from None


def cmd_enroll(args, config: Config) -> int:
    """Trade the one-time code from `kiosk central add-device` for this device's token."""
    from kiosk.store.keys import own_public_key
    from kiosk.store.registration import ensure_device
    from kiosk.sync import SyncError, enroll

    _open_with_key(config)
    device = ensure_device(config.device_prefix)
    try:
        done = enroll(args.url, args.code, device, own_public_key(device.uid))
    except (SyncError, ValueError) as e:
        raise CommandError("cli.enroll_failed", str(e), config.language) from None
    print(t("cli.enrolled", config.language, url=done.url, role=done.role, device=device.uid))
    return 0


async def _direct(fn, *args):
    return fn(*args)


def cmd_sync(args, config: Config) -> int:
    """One pass (push, then pull), or `--daemon`: passes for ever, with backoff when offline."""
    import asyncio
    import time

    from kiosk.store.registration import ensure_device
    from kiosk.sync import Central, SyncError, backoff, enrolment, parked_events, sync_pass

    _open(config)
    lang = config.language
    if args.parked:
        for uid, kind, reason in parked_events():
            print(f"{uid}\t{kind}\t{reason}")
        return 0
    enrolled = enrolment()
    if enrolled is None:
        raise CommandError("cli.not_enrolled", str(config.database), lang)
    central, own = Central(enrolled.url, enrolled.token), ensure_device().uid
    failures = 0
    while True:
        try:
            report = asyncio.run(sync_pass(central, _direct, own, net_call=_direct))
        except SyncError as e:
            if not args.daemon:
                raise CommandError("cli.sync_failed", str(e), lang) from None
            failures += 1
            time.sleep(backoff(failures))
            continue
        failures = 0
        print(json.dumps({"pushed": report.pushed, "parked": report.parked, "pulled": report.pulled,
                          "waiting": report.backlog.waiting, "parked_total": report.backlog.parked}), flush=True)
        if not args.daemon:
            return 0
        time.sleep(args.interval)


def cmd_keys_export(args, config: Config) -> int:
    from kiosk.store.keys import export_public_keys

    _open_with_key(config)
    text = export_public_keys()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        count = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
        print(t("keys.exported", config.language, count=count, file=args.output))
    else:
        sys.stdout.write(text)
    return 0


def cmd_keys_import(args, config: Config) -> int:
    from kiosk.store.keys import KeyImportError, import_public_keys

    lang, path = config.language, Path(args.file)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise CommandError("cli.not_found", str(path), lang) from None
    except (OSError, UnicodeDecodeError) as e:
        raise CommandError("keys.bad_file", f"{path}: {e}", lang) from None
    _open_with_key(config)
    try:
        added = import_public_keys(text)
    except KeyImportError as e:
        raise CommandError("keys.bad_file", f"{path}: {e}", lang) from None
    print(t("keys.imported", lang, count=added))
    return 0


def cmd_ticket_verify(args, config: Config) -> int:
    """The decoded ticket as JSON, exit 0, when the code's signature is valid; else why not, exit 1."""
    from kiosk.domain.ticketcode import TicketCodeError, decode
    from kiosk.store.keys import keys_for

    _open_with_key(config)
    try:
        record = decode(" ".join(args.code), keys_for)
    except TicketCodeError as e:
        print(t(f"ticketcode.{e.kind}", config.language), file=sys.stderr)
        return EXIT_ERROR
    print(json.dumps(record.to_dict(), ensure_ascii=False, indent=2))
    return 0


def _read_pin(lang: str) -> str:
    """Twice with getpass at a terminal; else the first line of stdin (a second, if given,
    must repeat it)."""
    if sys.stdin.isatty():
        import getpass

        pin = getpass.getpass(t("clerk.pin_prompt", lang))
        if getpass.getpass(t("clerk.pin_again", lang)) != pin:
            raise CommandError("clerk.error", t("clerk.pin_mismatch", lang), lang)
        return pin
    lines = [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
    if len(lines) > 1 and lines[1] != lines[0]:
        raise CommandError("clerk.error", t("clerk.pin_mismatch", lang), lang)
    return lines[0] if lines else ""


def cmd_clerk_add(args, config: Config) -> int:
    from kiosk.store.clerks import ClerkError, add_clerk, check_pin_format, normalise_username

    lang = config.language
    try:
        normalise_username(args.username)  # before the PIN is asked for
        pin = check_pin_format(_read_pin(lang))
        _open(config)
        clerk = add_clerk(args.username, args.name, pin, admin=args.admin)
    except ClerkError as e:
        raise CommandError("clerk.error", str(e), lang) from None
    print(t("clerk.added", lang, username=clerk.username, name=clerk.display_name))
    return 0


def cmd_clerk_remove(args, config: Config) -> int:
    from kiosk.store.clerks import ClerkError, remove_clerk

    _open(config)
    try:
        remove_clerk(args.username)
    except ClerkError as e:
        raise CommandError("clerk.error", str(e), config.language) from None
    print(t("clerk.removed", config.language, username=args.username.strip().lower()))
    return 0


def cmd_clerk_list(args, config: Config) -> int:
    from db.models import utc_now
    from kiosk.store.clerks import list_clerks

    _open(config)
    clerks = list_clerks()
    if not clerks:
        print(t("clerk.none", config.language), file=sys.stderr)
    now = utc_now()
    for clerk in clerks:
        locked = ""
        if clerk.locked_until and clerk.locked_until > now:
            locked = "  " + t("clerk.locked_until", config.language,
                              time=f"{local(clerk.locked_until):%Y-%m-%d %H:%M}")
        admin = "  " + t("clerk.admin", config.language) if clerk.admin else ""
        print(f"{clerk.username}\t{clerk.display_name}{admin}{locked}")
    return 0


def cmd_clerk_admin(args, config: Config) -> int:
    """`kiosk clerk admin USERNAME --on|--off`: who may open the satisfaction screen."""
    from kiosk.store.clerks import ClerkError, set_admin

    _open(config)
    try:
        set_admin(args.username, args.on)
    except ClerkError as e:
        raise CommandError("clerk.error", str(e), config.language) from None
    print(t("clerk.admin_on" if args.on else "clerk.admin_off", config.language,
            username=args.username.strip().lower()))
    return 0


def cmd_satisfaction(args, config: Config) -> int:
    """满意度统计 of the last N weeks (this one included) from this node's database: the
    tables the desk's admin screen shows, or the ratings as CSV (no comments, no phones)."""
    from kiosk.domain.satisfaction import csv_text
    from kiosk.i18n.satisfaction_text import format_report
    from kiosk.store.satisfaction import load_summary

    lang = args.lang or config.language
    if not 1 <= args.weeks <= 520:
        raise CommandError("admin.bad_weeks", f"--weeks: 1 to 520, not {args.weeks}", lang)
    _open(config)
    summary = load_summary(args.weeks, today())
    if args.csv or args.output:
        _write_csv(csv_text(list(summary.ratings)), args.output)
    else:
        print(format_report(summary, lang))
    return 0


def cmd_clerk_desk(args, config: Config) -> int:
    """`kiosk clerk`: the clerk desk (receiving and dispatch counters)."""
    from screens.clerk.app import DeskApp

    for name in _inherited_env():
        os.environ.pop(name, None)
    _log_to_file(config, args.log)
    app = DeskApp(config)
    app.run()
    return app.return_code or 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Instrument reception kiosk 仪器送检自助终端")
    parser.add_argument("--config", help="configuration file (TOML); default $KIOSK_CONFIG or the platform config dir")
    parser.add_argument("--db", help="database file; overrides the configuration")
    parser.add_argument("--log", choices=("json", "text", "journal"),
                        help="log format; run/clerk log to DATA_DIR/kiosk.log, other commands then log INFO to "
                             "stderr (default $KIOSK_LOG, json under journald, else warnings only); journal: "
                             "JSON lines to the system journal (/dev/log), also for run/clerk")
    sub = parser.add_subparsers(dest="command")

    sub.add_parser("run", help="start the kiosk (the default)").set_defaults(func=cmd_run)

    p = sub.add_parser("estimate", help="price a JSON request read on stdin")
    p.add_argument("--table", action="store_true", help="a readable table instead of JSON")
    p.add_argument("--lang", choices=("zh", "en"))
    p.add_argument("--version", type=int, help="catalogue version (default: the latest)")
    p.set_defaults(func=cmd_estimate)

    catalog = sub.add_parser("catalog", help="the fee catalogue").add_subparsers(dest="catalog_command",
                                                                                  required=True)
    p = catalog.add_parser("import", help="import a fee table (CSV) as a new catalogue version")
    p.add_argument("file")
    p.set_defaults(func=cmd_catalog_import)
    p = catalog.add_parser("export", help="write the catalogue as CSV")
    p.add_argument("-o", "--output", help="file (default: stdout)")
    p.add_argument("--version", type=int)
    p.set_defaults(func=cmd_catalog_export)
    p = catalog.add_parser("search", help="search the catalogue as the kiosk does")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--lang", choices=("zh", "en"))
    p.set_defaults(func=cmd_catalog_search)

    p = sub.add_parser("reprint", help="print a ticket's receipt again")
    p.add_argument("ticket", help="ticket number, e.g. K1A-261124-0001")
    p.add_argument("--lang", choices=("zh", "en"), help="default: the language it was registered in")
    p.set_defaults(func=cmd_reprint)

    p = sub.add_parser("due", help="instruments falling due for periodic verification (from picked-up tickets)")
    p.add_argument("--within", default="30d", help="days ahead, e.g. 30d (default) or 6w")
    p.add_argument("--overdue", action="store_true", help="also those already past their due date")
    p.add_argument("--csv", action="store_true", help="CSV with the full phone number, for the staff who call")
    p.add_argument("-o", "--output", help="write CSV to this file (UTF-8 with BOM, for Excel)")
    p.add_argument("--lang", choices=("zh", "en"))
    p.set_defaults(func=cmd_due)

    p = sub.add_parser("satisfaction", help="满意度统计: ratings by week, counter, clerk and heart; or as CSV")
    p.add_argument("--weeks", type=int, default=12, help="weeks back, this one included (default 12)")
    p.add_argument("--csv", action="store_true", help="the ratings as CSV (no comments, no phone numbers)")
    p.add_argument("-o", "--output", help="write CSV to this file (UTF-8 with BOM, for Excel)")
    p.add_argument("--lang", choices=("zh", "en"))
    p.set_defaults(func=cmd_satisfaction)

    dbp = sub.add_parser("db", help="the local database").add_subparsers(dest="db_command", required=True)
    dbp.add_parser("status", help="schema and catalogue versions, queues").set_defaults(func=cmd_db_status)

    p = sub.add_parser("doctor", help="check configuration, database, printer, central, clock, disk, PIN, backups")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--lang", choices=("zh", "en"), help="one language (default: zh and en side by side)")
    p.set_defaults(func=cmd_doctor)
    p = sub.add_parser("backup", help="back up the database while the kiosk runs; keep the newest (rotation)")
    p.add_argument("--to", metavar="DIR", help="folder (default: backups in the data directory)")
    p.add_argument("--keep", type=int, default=7, help="keep the newest N backups (default 7)")
    p.add_argument("--weekly", type=int, default=4,
                   help="and of older ones the newest of each week, for W weeks (default 4)")
    p.add_argument("--no-rotate", action="store_true", help="delete no old backup")
    p.add_argument("--lang", choices=("zh", "en"))
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="replace the database with a backup (stop the kiosk first)")
    p.add_argument("file", help="a backup, e.g. backups/kiosk-20261124-030000.sqlite3")
    p.add_argument("--lang", choices=("zh", "en"))
    p.set_defaults(func=cmd_restore)

    keys = sub.add_parser("keys", help="device public keys, to verify ticket codes").add_subparsers(
        dest="keys_command", required=True)
    p = keys.add_parser("export", help="write this device's and every known device's public key")
    p.add_argument("-o", "--output", help="file (default: stdout)")
    p.set_defaults(func=cmd_keys_export)
    p = keys.add_parser("import", help="add public keys exported by another device")
    p.add_argument("file")
    p.set_defaults(func=cmd_keys_import)

    p = sub.add_parser("followups", help="poor ratings to call back, overdue first; --close ID to close one")
    p.add_argument("--close", type=int, metavar="ID", help="record the call and close this follow-up")
    p.add_argument("--clerk", help="with --close: the clerk who called (username)")
    p.add_argument("--note", help="with --close: what was said and done")
    p.set_defaults(func=cmd_followups)
    p = sub.add_parser("worklist", help="在办清单: tickets in the lab and waiting for pickup, late ones first")
    p.add_argument("--late", action="store_true", help="only late lab work and overdue pickups")
    p.add_argument("--csv", action="store_true", help="CSV with the full phone numbers, for a spreadsheet")
    p.set_defaults(func=cmd_worklist)
    p = sub.add_parser("enroll", help="join the central system with a one-time code from `kiosk central add-device`")
    p.add_argument("url", help="the central system, e.g. http://central.local:8400")
    p.add_argument("code")
    p.set_defaults(func=cmd_enroll)
    p = sub.add_parser("sync", help="push the outbox and pull changes once (the running app does this by itself)")
    p.add_argument("--daemon", action="store_true", help="keep syncing; back off while the central system is away")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between passes with --daemon")
    p.add_argument("--parked", action="store_true", help="list the events the central system refused")
    p.set_defaults(func=cmd_sync)

    ticket = sub.add_parser("ticket", help="tickets").add_subparsers(dest="ticket_command", required=True)
    p = ticket.add_parser("verify", help="decode a ticket code (the QR's text) and check its signature")
    p.add_argument("code", nargs="+", help="the code as scanned; spaces and line breaks are ignored")
    p.set_defaults(func=cmd_ticket_verify)
    clerk = sub.add_parser("clerk", help="the clerk desk; clerk accounts (add, remove, list)")
    clerk.set_defaults(func=cmd_clerk_desk)
    clerks = clerk.add_subparsers(dest="clerk_command")
    p = clerks.add_parser("add", help="add a clerk; the PIN (4-12 digits) is asked twice, or read from stdin")
    p.add_argument("username")
    p.add_argument("--name", required=True, help="the name shown on screens and receipts")
    p.add_argument("--admin", action="store_true", help="may open the satisfaction screen (满意度统计)")
    p.set_defaults(func=cmd_clerk_add)
    p = clerks.add_parser("remove", help="a clerk can no longer unlock the desk")
    p.add_argument("username")
    p.set_defaults(func=cmd_clerk_remove)
    clerks.add_parser("list", help="the clerks who can unlock the desk").set_defaults(func=cmd_clerk_list)
    p = clerks.add_parser("admin", help="give (--on) or take (--off) the right to open the satisfaction screen")
    p.add_argument("username")
    onoff = p.add_mutually_exclusive_group(required=True)
    onoff.add_argument("--on", dest="on", action="store_true")
    onoff.add_argument("--off", dest="on", action="store_false")
    p.set_defaults(func=cmd_clerk_admin)

    # Browser kiosk mode: kiosk/ops/serve.py (and textual-serve) imported only when used.
    p = sub.add_parser("serve", help="serve the kiosk to a browser (a touch panel in kiosk mode) with textual-serve")
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1: this machine only (no authentication)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--desk", action="store_true", help="serve the clerk desk instead of the kiosk")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host; anyone who reaches the port gets the app")
    p.set_defaults(func=lambda args, config: __import__("kiosk.ops.serve").serve.serve(args, config))

    # The central system: its own parser in central/cli.py, imported only when used.
    # prefix_chars="+": `kiosk central --help` and every option pass through untouched.
    p = sub.add_parser("central", help="the central system: serve, add-device, revoke-device, devices, "
                                       "catalog import, office-token", add_help=False, prefix_chars="+")
    p.add_argument("central_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda args, config: __import__("central.cli").cli.main(args.central_args, config))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as e:
        if getattr(args, "func", None) is cmd_doctor:  # the doctor reports it as one of its checks
            return cmd_doctor(args, None, config_error=str(e))
        print(f"{t('cli.bad_config', 'zh')} / {t('cli.bad_config', 'en')}: {e}", file=sys.stderr)
        return EXIT_ERROR
    if args.db:
        from dataclasses import replace

        config = replace(config, database=Path(args.db))
    func = getattr(args, "func", cmd_run)
    if func not in (cmd_run, cmd_clerk_desk):  # those two own the terminal: they log to a file
        from kiosk.ops.logs import configure_logging

        configure_logging(config.data_dir, args.log, tui=False)
    try:
        return func(args, config)
    except CommandError as e:
        print(e, file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # `kiosk catalog export | head`: the reader went away; no traceback for that.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as e:
        # A full disk, a read-only or damaged database met mid-command: said, not a traceback.
        from db.backup import problem_kind

        if type(e).__module__ not in ("sqlite3", "peewee") or problem_kind(e) is None:
            raise
        print(f"{t('cli.database', config.language)}: {_db_problem(e, config.language)}", file=sys.stderr)
        return EXIT_ERROR
