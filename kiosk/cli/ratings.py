"""`kiosk ratings`: 好差评 as the standard has it, from this node's database (a clerk desk's):
poor ratings' work orders (the call-back record, the close with the customer's rating of the
fix), appeals and a supervisor's decision (the rating stays), and the window pads' ratings by
counter, clerk, stage and week. Every change is an outbox event, synced like every step."""

from __future__ import annotations

import sys

from kiosk.cli.common import CommandError, open_node
from kiosk.i18n import t
from kiosk.i18n.keys import APPEAL_STATES, FEEDBACK_LEVELS, FEEDBACK_REASONS, FIX_LEVELS, RATING_STAGES, RATING_VIEWS
from kiosk.settings.config import Config


def _clerk(username: str | None, lang: str):
    from db.models import Clerk

    clerk = Clerk.get_or_none((Clerk.username == (username or "").strip().lower()) & Clerk.removed_at.is_null())
    if clerk is None:
        raise CommandError("followups.no_clerk", str(username), lang)
    return clerk


def _at_a_desk(lang: str) -> None:
    from kiosk.sync.enrolment import enrolment

    enrolled = enrolment()
    if enrolled is not None and enrolled.role == "kiosk":  # central would refuse it (wrong_role)
        raise CommandError("ratings.at_a_kiosk", "", lang)


def _level(rating: int, lang: str) -> str:
    from kiosk.domain.feedback import LEVELS

    return t(FEEDBACK_LEVELS[LEVELS[rating]], lang)


def cmd_orders(args, config: Config) -> int:
    from kiosk.domain.clock import local
    from kiosk.i18n.textwidth import pad
    from kiosk.store.window_ratings import work_orders

    lang = config.language
    open_node(config)
    for w in work_orders(include_closed=args.all):
        stage = t(RATING_STAGES[w.stage], lang) if w.stage else "-"
        what = _level(w.rating, lang) + (t("receipt.colon", lang) + t(FEEDBACK_REASONS[w.reason], lang)
                                         if w.reason else "")
        callback = f"{local(w.callback_by):%m-%d %H:%M}" if w.callback_by else "-"
        state = (t(FIX_LEVELS[w.fix], lang) if w.fix else t("ratings.closed", lang)) if w.status != "open" \
            else t("ratings.calls", lang, n=w.calls)
        print("  ".join((pad(str(w.id), 4, ">"), f"{w.due_on:%Y-%m-%d}", pad(callback, 11),
                         pad(w.number or t("followups.anonymous", lang), 16), pad(stage, 6),
                         pad(w.staff_number or "-", 8), pad(state, 10), what)).rstrip())
    return 0


def cmd_call(args, config: Config) -> int:
    from kiosk.store.registration import ensure_device
    from kiosk.store.window_ratings import RatingError, call_back

    lang = config.language
    open_node(config)
    _at_a_desk(lang)
    try:
        call_back(args.id, _clerk(args.clerk, lang), args.reached, args.note or "", ensure_device())
    except RatingError as e:
        raise CommandError("ratings.refused", str(e), lang) from None
    print(t("ratings.called", lang, id=args.id))
    return 0


def cmd_close(args, config: Config) -> int:
    from kiosk.domain.feedback import FollowupError
    from kiosk.store.registration import ensure_device
    from kiosk.store.window_ratings import RatingError, close_work_order

    lang = config.language
    open_node(config)
    _at_a_desk(lang)
    try:
        close_work_order(args.id, _clerk(args.clerk, lang), args.note or "", args.fix, ensure_device())
    except (RatingError, FollowupError) as e:
        raise CommandError("ratings.refused", str(e), lang) from None
    print(t("followups.closed", lang, id=args.id))
    return 0


def cmd_appeal(args, config: Config) -> int:
    from kiosk.store.registration import ensure_device
    from kiosk.store.window_ratings import RatingError, appeal

    lang = config.language
    open_node(config)
    _at_a_desk(lang)
    try:
        appeal_id = appeal(args.rating, _clerk(args.clerk, lang), args.reason or "", ensure_device())
    except RatingError as e:
        raise CommandError("ratings.refused", str(e), lang) from None
    print(t("ratings.appealed", lang, id=appeal_id))
    return 0


def cmd_decide(args, config: Config) -> int:
    from kiosk.store.registration import ensure_device
    from kiosk.store.window_ratings import RatingError, decide

    lang = config.language
    open_node(config)
    _at_a_desk(lang)
    try:
        decide(args.id, _clerk(args.supervisor, lang), "upheld" if args.upheld else "rejected", args.reason or "",
               ensure_device())
    except RatingError as e:
        raise CommandError("ratings.refused", str(e), lang) from None
    print(t("ratings.decided", lang, id=args.id, decision=t(APPEAL_STATES["upheld" if args.upheld else "rejected"],
                                                                lang)))
    return 0


def cmd_appeals(args, config: Config) -> int:
    from db.models import Appeal, Feedback
    from kiosk.domain.clock import local
    from kiosk.i18n.textwidth import pad

    lang = config.language
    open_node(config)
    for a in Appeal.select(Appeal, Feedback).join(Feedback).order_by(Appeal.id):
        state = t(APPEAL_STATES[a.decision or "waiting"], lang)
        print("  ".join((pad(str(a.id), 4, ">"), f"{local(a.created_at):%Y-%m-%d}", pad(state, 10),
                         pad(a.feedback.ticket_number or "-", 16), pad(_level(a.feedback.rating, lang), 10),
                         a.reason, a.decision_reason or "")).rstrip())
    return 0


def cmd_window(args, config: Config) -> int:
    """The pads' ratings of the last N weeks by counter, clerk, stage and week."""
    from datetime import timedelta

    from kiosk.domain.clock import today
    from kiosk.domain.ratings_export import window_groups
    from kiosk.domain.satisfaction import period
    from kiosk.i18n.textwidth import pad
    from kiosk.store.satisfaction import local_midnight
    from kiosk.store.window_ratings import clerk_names, export_ratings

    lang = config.language
    if not 1 <= args.weeks <= 520:
        raise CommandError("admin.bad_weeks", f"--weeks: 1 to 520, not {args.weeks}", lang)
    open_node(config)
    first, last = period(args.weeks, today())
    found = export_ratings(local_midnight(first), local_midnight(last + timedelta(days=1)))
    groups = window_groups(found, clerk_names())
    for view in ("counter", "clerk", "stage", "week"):
        print(t(RATING_VIEWS[view], lang))
        for g in groups[view]:
            key = (t(RATING_STAGES[g.key], lang) if view == "stage" and g.key else
                   t("pad.counter", lang, counter=g.key) if view == "counter" and g.key else
                   g.key or t("ratings.unknown", lang))
            print("  " + "  ".join((pad(key, 20), pad(str(g.count), 5, ">"), pad(f"{g.rate:.0%}", 5, ">"),
                                    t("ratings.poor", lang, n=g.poor))))
    if not found:
        print(t("ratings.none", lang), file=sys.stderr)
    return 0


def register(sub) -> None:
    ratings = sub.add_parser("ratings", help="好差评: work orders, call-backs, appeals, the window pads' ratings")
    cmds = ratings.add_subparsers(dest="ratings_command", required=True)
    p = cmds.add_parser("orders", help="poor ratings' work orders, the earliest due first")
    p.add_argument("--all", action="store_true", help="closed ones too")
    p.set_defaults(func=cmd_orders)
    p = cmds.add_parser("call", help="record a call-back made for a work order")
    p.add_argument("id", type=int)
    p.add_argument("--clerk", required=True, help="who called (username)")
    reached = p.add_mutually_exclusive_group(required=True)
    reached.add_argument("--reached", dest="reached", action="store_true")
    reached.add_argument("--not-reached", dest="reached", action="store_false")
    p.add_argument("--note", help="what was said")
    p.set_defaults(func=cmd_call)
    p = cmds.add_parser("close", help="close a work order: what was done, and the customer's rating of the fix")
    p.add_argument("id", type=int)
    p.add_argument("--clerk", required=True)
    p.add_argument("--note", required=True)
    p.add_argument("--fix", choices=("satisfied", "basic", "dissatisfied"),
                   help="the customer's rating of the fix: 满意 基本满意 不满意 (leave out if not given)")
    p.set_defaults(func=cmd_close)
    p = cmds.add_parser("appeal", help="ask a supervisor to review a rating (mistaken or malicious)")
    p.add_argument("rating", help="the rating's id or uid")
    p.add_argument("--clerk", required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_appeal)
    p = cmds.add_parser("decide", help="a supervisor's decision on an appeal (the rating is never deleted)")
    p.add_argument("id", type=int)
    p.add_argument("--supervisor", required=True, help="an admin clerk's username")
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--upheld", dest="upheld", action="store_true")
    decision.add_argument("--rejected", dest="upheld", action="store_false")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_decide)
    cmds.add_parser("appeals", help="appeals and their decisions").set_defaults(func=cmd_appeals)
    p = cmds.add_parser("window", help="the window pads' ratings by counter, clerk, stage and week")
    p.add_argument("--weeks", type=int, default=12)
    p.set_defaults(func=cmd_window)
