"""`kiosk clerk`: the clerk desk itself (kiosk/cli/run.py starts it), and the clerk accounts
under it: add, remove, list, admin."""

from __future__ import annotations

import sys

from kiosk.cli.common import CommandError, open_node, read_pin
from kiosk.cli.run import cmd_clerk_desk
from kiosk.domain.clock import local
from kiosk.i18n import t
from kiosk.settings.config import Config


def cmd_clerk_add(args, config: Config) -> int:
    from kiosk.store.clerks import ClerkError, add_clerk, check_pin_format, normalise_username

    lang = config.language
    try:
        normalise_username(args.username)  # before the PIN is asked for
        pin = check_pin_format(read_pin(lang, "clerk.error"))
        open_node(config)
        clerk = add_clerk(args.username, args.name, pin, admin=args.admin)
        if getattr(args, "staff_number", None):
            from kiosk.store.window_ratings import set_staff_number

            set_staff_number(clerk.username, args.staff_number)
    except ClerkError as e:
        raise CommandError("clerk.error", str(e), lang) from None
    print(t("clerk.added", lang, username=clerk.username, name=clerk.display_name))
    return 0


def cmd_clerk_remove(args, config: Config) -> int:
    from kiosk.store.clerks import ClerkError, remove_clerk

    open_node(config)
    try:
        remove_clerk(args.username)
    except ClerkError as e:
        raise CommandError("clerk.error", str(e), config.language) from None
    print(t("clerk.removed", config.language, username=args.username.strip().lower()))
    return 0


def cmd_clerk_list(args, config: Config) -> int:
    from db.models import utc_now
    from kiosk.store.clerks import list_clerks

    open_node(config)
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

    open_node(config)
    try:
        set_admin(args.username, args.on)
    except ClerkError as e:
        raise CommandError("clerk.error", str(e), config.language) from None
    print(t("clerk.admin_on" if args.on else "clerk.admin_off", config.language,
            username=args.username.strip().lower()))
    return 0


def cmd_clerk_staff_number(args, config: Config) -> int:
    """`kiosk clerk staff-number USERNAME NUMBER`: the clerk's 工号 on the rating pad."""
    from kiosk.store.clerks import ClerkError
    from kiosk.store.window_ratings import set_staff_number

    open_node(config)
    try:
        number = set_staff_number(args.username, args.number)
    except ClerkError as e:
        raise CommandError("clerk.error", str(e), config.language) from None
    print(t("clerk.staff_number_set", config.language, username=args.username.strip().lower(), number=number))
    return 0


def register(sub) -> None:
    clerk = sub.add_parser("clerk", help="the clerk desk; clerk accounts (add, remove, list)")
    clerk.set_defaults(func=cmd_clerk_desk)
    clerk.add_argument("--counter", help="the window this desk serves: its rating pad is `kiosk pad --counter N` "
                                         "(default $KIOSK_COUNTER, else 1)")
    clerks = clerk.add_subparsers(dest="clerk_command")
    p = clerks.add_parser("add", help="add a clerk; the PIN (4-12 digits) is asked twice, or read from stdin")
    p.add_argument("username")
    p.add_argument("--name", required=True, help="the name shown on screens and receipts")
    p.add_argument("--admin", action="store_true", help="may open the satisfaction screen (满意度统计)")
    p.add_argument("--staff-number", help="工号, shown on the counter's rating pad (default: the username)")
    p.set_defaults(func=cmd_clerk_add)
    p = clerks.add_parser("staff-number", help="set a clerk's 工号 (staff number), shown on the rating pad")
    p.add_argument("username")
    p.add_argument("number")
    p.set_defaults(func=cmd_clerk_staff_number)
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
