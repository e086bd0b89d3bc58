"""What every command group shares: the error said at the terminal, reading a new PIN, opening
this node's database (first start included), and writing a CSV sheet."""

from __future__ import annotations

import sys
from pathlib import Path

from kiosk.i18n import t
from kiosk.settings.config import Config

EXIT_ERROR = 1


class CommandError(Exception):
    """A clear message for the person at the terminal; exit status non-zero."""

    def __init__(self, headline_key: str, detail: str, lang: str):
        super().__init__(f"{t(headline_key, lang)}: {detail}")


def read_pin(lang: str, error_key: str, *, from_stdin: bool | None = None) -> str:
    """A new PIN: twice with getpass at a terminal, or the first line of stdin (a second, if
    given, must repeat it). `from_stdin`: None, stdin when it is not a terminal; False, only
    from a terminal."""
    if from_stdin is None:
        from_stdin = not sys.stdin.isatty()
    if not from_stdin:
        if not sys.stdin.isatty():
            raise CommandError(error_key, t("maintenance_pin.no_terminal", lang), lang)
        import getpass

        pin = getpass.getpass(t("clerk.pin_prompt", lang))
        if getpass.getpass(t("clerk.pin_again", lang)) != pin:
            raise CommandError(error_key, t("clerk.pin_mismatch", lang), lang)
        return pin
    lines = [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
    if len(lines) > 1 and lines[1] != lines[0]:
        raise CommandError(error_key, t("clerk.pin_mismatch", lang), lang)
    return lines[0] if lines else ""


def open_node(config: Config):
    """Open the database, first start included: schema, demo catalogue, device identity."""
    from db.connection import SchemaError, open_database
    from kiosk.store.catalog import ensure_catalog
    from kiosk.store.registration import ensure_device

    try:
        # An older schema is backed up there before it is upgraded (not upgraded if that fails).
        db = open_database(config.database, backup_dir=config.data_dir / "backups")
    except (SchemaError, OSError) as e:
        raise CommandError("cli.database", db_problem(e, config.language), config.language) from None
    ensure_catalog()
    ensure_device(config.device_prefix)
    return db


def open_node_with_key(config: Config):
    """open_node, with an unusable signing key (readable by others, missing, changed) said clearly."""
    from kiosk.store.keys import KeyFileError

    try:
        return open_node(config)
    except KeyFileError as e:
        raise CommandError("keys.unusable", str(e), config.language) from None


def db_problem(e: BaseException, lang: str) -> str:
    """A full, read-only or damaged database said in words, then the technical detail."""
    from kiosk.ops.doctor import database_problem

    problem = database_problem(e)
    return f"{problem.text(lang)}\n  ({e})" if problem else str(e)


def write_csv(text: str, output: str | None) -> None:
    """To the file, with a BOM (Excel, which institutes open these in, needs it to read
    UTF-8), or to stdout."""
    if output:
        Path(output).write_text(text, encoding="utf-8-sig")
    else:
        sys.stdout.write(text)
