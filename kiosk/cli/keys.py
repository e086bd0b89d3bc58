"""`kiosk keys export|import`: device public keys, so another node can verify ticket codes."""

from __future__ import annotations

import sys
from pathlib import Path

from kiosk.cli.common import CommandError, open_node_with_key
from kiosk.i18n import t
from kiosk.settings.config import Config


def cmd_keys_export(args, config: Config) -> int:
    from kiosk.store.keys import export_public_keys

    open_node_with_key(config)
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
    open_node_with_key(config)
    try:
        added = import_public_keys(text)
    except KeyImportError as e:
        raise CommandError("keys.bad_file", f"{path}: {e}", lang) from None
    print(t("keys.imported", lang, count=added))
    return 0


def register(sub) -> None:
    keys = sub.add_parser("keys", help="device public keys, to verify ticket codes").add_subparsers(
        dest="keys_command", required=True)
    p = keys.add_parser("export", help="write this device's and every known device's public key")
    p.add_argument("-o", "--output", help="file (default: stdout)")
    p.set_defaults(func=cmd_keys_export)
    p = keys.add_parser("import", help="add public keys exported by another device")
    p.add_argument("file")
    p.set_defaults(func=cmd_keys_import)
