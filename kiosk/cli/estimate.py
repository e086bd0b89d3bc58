"""`kiosk estimate`: price a JSON request read on stdin, as the kiosk would."""

from __future__ import annotations

import json
import sys

from kiosk.cli.common import CommandError, open_node
from kiosk.settings.config import Config


def read_request(lang: str):
    """The JSON request on stdin (`kiosk estimate`, `kiosk register`), or a CommandError."""
    try:
        return json.loads(sys.stdin.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CommandError("cli.bad_json", str(e), lang) from None


def cmd_estimate(args, config: Config) -> int:
    from kiosk.domain.fees import EstimateError, estimate, request_from_dict
    from kiosk.i18n.estimate_text import format_estimate
    from kiosk.settings.pricing import configured_policy
    from kiosk.store.catalog import load_catalog

    lang = args.lang or config.language
    data = read_request(lang)
    policy = configured_policy()
    try:
        request = request_from_dict(data)  # validated before the database is opened
        open_node(config)
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


def register(sub) -> None:
    p = sub.add_parser("estimate", help="price a JSON request read on stdin")
    p.add_argument("--table", action="store_true", help="a readable table instead of JSON")
    p.add_argument("--lang", choices=("zh", "en"))
    p.add_argument("--version", type=int, help="catalogue version (default: the latest)")
    p.set_defaults(func=cmd_estimate)
