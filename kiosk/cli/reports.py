"""The staff's lists from this node's database: `kiosk due` (周检), `kiosk followups` (poor
ratings to call back), `kiosk satisfaction` (满意度统计) and `kiosk worklist` (在办清单)."""

from __future__ import annotations

import sys

from kiosk.cli.common import CommandError, open_node, write_csv
from kiosk.domain.clock import today
from kiosk.i18n import t
from kiosk.i18n.keys import FEEDBACK_LEVELS, FEEDBACK_REASONS
from kiosk.settings.config import Config


def cmd_due(args, config: Config) -> int:
    """Instruments falling due for periodic verification (周检): a table, or CSV for the staff
    who call the customers (the CSV has the full phone number; the table masks it)."""
    from kiosk.domain.due import parse_within
    from kiosk.i18n.due_text import format_table, to_csv
    from kiosk.store.due import due_instruments

    lang = args.lang or config.language
    try:
        days = parse_within(args.within)
    except ValueError as e:
        raise CommandError("due.bad_within", str(e), lang) from None
    open_node(config)
    items = due_instruments(days, overdue=args.overdue)
    if args.csv or args.output:
        write_csv(to_csv(items, lang), args.output)
    else:
        print(format_table(items, lang))
    return 0


def cmd_followups(args, config: Config) -> int:
    """Open follow-ups of poor ratings, overdue first, with what the customer said and the
    number to call (staff only: the phone is in full); `close ID --clerk NAME --note TEXT`."""
    from kiosk.domain.feedback import LEVELS, FollowupError
    from kiosk.i18n.textwidth import pad
    from kiosk.store.feedback import close_followup, open_followups

    lang = config.language
    open_node(config)
    if args.close is not None:
        from db.models import Clerk
        from kiosk.store.registration import ensure_device
        from kiosk.sync.enrolment import enrolment

        enrolled = enrolment()
        if enrolled is not None and enrolled.role == "kiosk":  # central would refuse it (wrong_role)
            raise CommandError("followups.at_a_kiosk", str(args.close), lang)

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
        what = t(FEEDBACK_LEVELS[LEVELS[f.rating]], lang)
        if f.reason:
            what += t("receipt.colon", lang) + t(FEEDBACK_REASONS[f.reason], lang)
        words = " ".join(x for x in (f.reason_text, f.comment) if x)
        print("  ".join((pad(str(f.id), 4, ">"), f"{f.due_on:%Y-%m-%d}",
                         pad(t("followups.overdue", lang) if f.overdue else "", 6),
                         pad(f.number or t("followups.anonymous", lang), 16), pad(f.phone or "-", 13), what,
                         words)).rstrip())
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
    open_node(config)
    if getattr(args, "export", None):
        return _export(args, config)
    summary = load_summary(args.weeks, today())
    if args.csv or args.output:
        write_csv(csv_text(list(summary.ratings)), args.output)
    else:
        print(format_report(summary, lang))
    return 0


def _export(args, config: Config) -> int:
    """`kiosk satisfaction --export csv|json`: the last N weeks' ratings in the provincial
    platform's shape (kiosk/domain/ratings_export.py: no personal data)."""
    from pathlib import Path

    from kiosk.domain import ratings_export
    from kiosk.domain.satisfaction import period
    from kiosk.settings.institute import load_institute
    from kiosk.store.satisfaction import local_midnight
    from kiosk.store.window_ratings import export_ratings

    first, last = period(args.weeks, today())
    from datetime import timedelta

    found = export_ratings(local_midnight(first), local_midnight(last + timedelta(days=1)))
    department = load_institute(config.info_file, config.holidays_file).ratings.department
    if args.export == "csv":
        write_csv(ratings_export.to_csv(found, department), args.output)
    else:
        text = ratings_export.to_json(found, department) + "\n"
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    return 0


def cmd_worklist(args, config: Config) -> int:
    """在办清单, as the desk's F12 shows it: late lab work and overdue pickups first, with the
    number to call (staff only: the phone in full); --late for those only, --csv for a sheet."""
    from kiosk.domain.holidays import load_calendar
    from kiosk.domain.worklist import to_csv
    from kiosk.i18n.textwidth import pad
    from kiosk.i18n.worklist_text import state_text
    from kiosk.store.worklist import work_list

    lang = config.language
    open_node(config)
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


def register(sub) -> None:
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
    p.add_argument("--export", choices=("csv", "json"),
                   help="好差评 for the provincial platform: stage, transaction and staff numbers, department, level, "
                        "reasons, time, rater type (no personal data)")
    p.add_argument("-o", "--output", help="write CSV to this file (UTF-8 with BOM, for Excel)")
    p.add_argument("--lang", choices=("zh", "en"))
    p.set_defaults(func=cmd_satisfaction)

    p = sub.add_parser("followups", help="poor ratings to call back, overdue first; --close ID to close one")
    p.add_argument("--close", type=int, metavar="ID", help="record the call and close this follow-up")
    p.add_argument("--clerk", help="with --close: the clerk who called (username)")
    p.add_argument("--note", help="with --close: what was said and done")
    p.set_defaults(func=cmd_followups)
    p = sub.add_parser("worklist", help="在办清单: tickets in the lab and waiting for pickup, late ones first")
    p.add_argument("--late", action="store_true", help="only late lab work and overdue pickups")
    p.add_argument("--csv", action="store_true", help="CSV with the full phone numbers, for a spreadsheet")
    p.set_defaults(func=cmd_worklist)
