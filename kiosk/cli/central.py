"""`kiosk central ...`: the central system's own command line (central/cli.py), passed through."""

from __future__ import annotations

import argparse

from kiosk.settings.config import Config


def cmd_central(args, config: Config) -> int:
    # Imported only when used: `import kiosk.cli` loads neither central nor FastAPI.
    from central.cli import main

    return main(args.central_args, config)


def register(sub) -> None:
    # prefix_chars="+": `kiosk central --help` and every option pass through untouched.
    p = sub.add_parser("central", help="the central system: serve, add-device, revoke-device, voidings, devices, "
                                       "catalog import, office-token", add_help=False, prefix_chars="+")
    p.add_argument("central_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_central)
