"""The apps: `kiosk run` (the lobby kiosk, the default), the clerk desk (`kiosk clerk`, whose
sub-parser kiosk/cli/clerks.py owns) and `kiosk serve` (either app in a browser). This is the
composition root's edge: the Textual apps are imported here, inside the commands, never at import."""

from __future__ import annotations

import os

from kiosk.cli.common import CommandError
from kiosk.settings.config import Config


def _log_to_file(config: Config, fmt: str | None = None) -> None:
    """While the kiosk runs the terminal is its screen: logs go to a file (kiosk/settings/logs.py). This
    also stops python-escpos, whose import calls logging.basicConfig(), from writing over it."""
    from kiosk.settings.logs import configure_logging

    configure_logging(config.data_dir, fmt, tui=True)


def _inherited_env() -> tuple[str, ...]:
    """Variables the app must not inherit. Under `kiosk serve` (textual-serve's web driver)
    COLUMNS is the browser's width, which the driver reads at start: kept there."""
    if "web_driver" in os.environ.get("TEXTUAL_DRIVER", ""):
        return ("TEXTUAL_ALLOW_SIGNALS", "LINES")
    return ("TEXTUAL_ALLOW_SIGNALS", "LINES", "COLUMNS")


def cmd_run(args, config: Config) -> int:
    from kiosk.settings.institute import InstituteFileError
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


def cmd_clerk_desk(args, config: Config) -> int:
    """`kiosk clerk`: the clerk desk (receiving and dispatch counters)."""
    from screens.clerk.app import DeskApp

    _desk_counter(args, config)
    for name in _inherited_env():
        os.environ.pop(name, None)
    _log_to_file(config, args.log)
    app = DeskApp(config)
    app.run()
    return app.return_code or 0


def _desk_counter(args, config: Config) -> str:
    """The window this desk serves (`--counter N`, else $KIOSK_COUNTER, else 1): its intakes and
    pickups ask that window's rating pad (kiosk/store/window_ratings.py)."""
    from kiosk.domain.validation import FieldError
    from kiosk.store.window_ratings import DEFAULT_COUNTER, set_counter

    counter = getattr(args, "counter", None) or os.environ.get("KIOSK_COUNTER") or DEFAULT_COUNTER
    try:
        set_counter(counter)
    except FieldError:
        raise CommandError("cli.bad_counter", str(counter)[:40], config.language) from None
    os.environ["KIOSK_COUNTER"] = str(counter)  # `kiosk serve --desk` runs the desk as a child
    return str(counter)


def cmd_pad(args, config: Config) -> int:
    """`kiosk pad --counter N`: the window's rating pad, facing the customer, beside desk N."""
    from kiosk.domain.validation import FieldError
    from screens.pad.app import PadApp

    for name in _inherited_env():
        os.environ.pop(name, None)
    _log_to_file(config, args.log)
    try:
        app = PadApp(config, args.counter)
    except FieldError:
        raise CommandError("cli.bad_counter", str(args.counter)[:40], config.language) from None
    app.run()
    return app.return_code or 0


# They own the terminal: they log to a file, where every other command logs to stderr.
TERMINAL_APPS = (cmd_run, cmd_clerk_desk, cmd_pad)


def cmd_serve(args, config: Config) -> int:
    # Browser kiosk mode: kiosk/ops/serve.py (and textual-serve) imported only when used.
    from kiosk.ops.serve import serve

    return serve(args, config)


def register(sub) -> None:
    sub.add_parser("run", help="start the kiosk (the default)").set_defaults(func=cmd_run)
    p = sub.add_parser("pad", help="一次一评: the counter's rating pad, facing the customer (same machine as the desk)")
    p.add_argument("--counter", default="1",
                   help="the window's number, as its desk's `kiosk clerk --counter` (default 1)")
    p.set_defaults(func=cmd_pad)

    p = sub.add_parser("serve", help="serve the kiosk to a browser (a touch panel in kiosk mode) with textual-serve")
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1: this machine only (no authentication)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--desk", action="store_true", help="serve the clerk desk instead of the kiosk")
    p.add_argument("--pad", metavar="COUNTER", help="serve window COUNTER's rating pad (a tablet facing the customer)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --host; anyone who reaches the port gets the app")
    p.set_defaults(func=cmd_serve)
