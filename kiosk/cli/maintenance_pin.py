"""`kiosk maintenance-pin set | status`: the PIN that leaves the kiosk (F12), kept hashed in the
database (kiosk/store/maintenance.py), never in the configuration file."""

from __future__ import annotations

from kiosk.cli.common import CommandError, open_node, read_pin
from kiosk.domain.clock import local, utc_now
from kiosk.i18n import t
from kiosk.settings.config import Config


def cmd_pin_set(args, config: Config) -> int:
    from kiosk.store.maintenance import MaintenancePinError, set_pin

    lang = config.language
    pin = read_pin(lang, "maintenance_pin.error", from_stdin=args.pin_stdin)
    open_node(config)
    try:
        set_pin(pin)
    except MaintenancePinError as e:
        raise CommandError("maintenance_pin.error", str(e), lang) from None
    print(t("maintenance_pin.set", lang))
    return 0


def cmd_pin_status(args, config: Config) -> int:
    """Set or not; wrong PINs in a row and a lock-out, if any. Exit 1 while none is set."""
    from kiosk.store.maintenance import lockout, pin_is_set

    lang = config.language
    open_node(config)
    if not pin_is_set():
        print(t("maintenance_pin.status_default", lang))
        return 1
    words = [t("maintenance_pin.status_set", lang)]
    now = utc_now()
    state = lockout().clamped(now)
    if state.failed:
        words.append(t("maintenance_pin.status_failed", lang, failed=state.failed))
    if state.wait(now) is not None and state.until is not None:
        words.append(t("maintenance_pin.status_locked", lang, time=f"{local(state.until):%Y-%m-%d %H:%M:%S}"))
    print(t("list.separator", lang).join(words))
    return 0


def register(sub) -> None:
    group = sub.add_parser("maintenance-pin", help="the maintenance PIN (F12 leaves the kiosk): set, status")
    pins = group.add_subparsers(dest="pin_command", required=True)
    p = pins.add_parser("set", help="set a new PIN (4-12 digits), asked twice without echo; clears a lock-out")
    p.add_argument("--pin-stdin", action="store_true",
                   help="read the PIN from stdin (one line, or the same line twice) instead of the terminal")
    p.set_defaults(func=cmd_pin_set)
    pins.add_parser("status", help="set or not, wrong tries, a lock-out").set_defaults(func=cmd_pin_status)
