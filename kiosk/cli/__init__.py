"""The `kiosk` command: the top-level parser, built from one module per command group, and the
dispatch every command shares (configuration, logging, errors said without a traceback).

This is the composition root, the only part of kiosk/ that starts the Textual apps (screens/).
Heavy imports (Textual, escpos, pypinyin, central) are deferred to the commands that need them,
so `kiosk estimate` and friends start fast."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kiosk.cli import (
    catalog,
    central,
    checks,
    clerks,
    database,
    doctor,
    estimate,
    keys,
    maintenance_pin,
    ratings,
    registering,
    reports,
    run,
    sync,
    tickets,
)
from kiosk.cli.common import EXIT_ERROR, CommandError, db_problem
from kiosk.i18n import t
from kiosk.settings.config import ConfigError, load_config

# In the order `kiosk --help` lists their commands (the kiosk app first, the central system last).
GROUPS = (run, estimate, registering, catalog, tickets, reports, checks, ratings, database, doctor, maintenance_pin,
          keys, sync, clerks, central)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Instrument reception kiosk 仪器送检自助终端")
    parser.add_argument("--config", help="configuration file (TOML); default $KIOSK_CONFIG or the platform config dir")
    parser.add_argument("--db", help="database file; overrides the configuration")
    parser.add_argument("--log", choices=("json", "text", "journal"),
                        help="log format; run/clerk log to DATA_DIR/kiosk.log, other commands then log INFO to "
                             "stderr (default $KIOSK_LOG, json under journald, else warnings only); journal: "
                             "JSON lines to the system journal (/dev/log), also for run/clerk")
    sub = parser.add_subparsers(dest="command")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as e:
        if getattr(args, "func", None) is doctor.cmd_doctor:  # the doctor reports it as one of its checks
            return doctor.cmd_doctor(args, None, config_error=str(e))
        print(f"{t('cli.bad_config', 'zh')} / {t('cli.bad_config', 'en')}: {e}", file=sys.stderr)
        return EXIT_ERROR
    if args.db:
        from dataclasses import replace

        config = replace(config, database=Path(args.db))
    func = getattr(args, "func", run.cmd_run)
    if func not in run.TERMINAL_APPS:
        from kiosk.settings.logs import configure_logging

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
        print(f"{t('cli.database', config.language)}: {db_problem(e, config.language)}", file=sys.stderr)
        return EXIT_ERROR
