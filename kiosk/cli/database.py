"""`kiosk db status`, `kiosk backup` and `kiosk restore`: this node's database file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from kiosk.cli.common import CommandError, db_problem, open_node
from kiosk.i18n import t
from kiosk.settings.config import Config

log = logging.getLogger(__name__)


def cmd_db_status(args, config: Config) -> int:
    from db.connection import schema_version
    from db.models import OutboxEvent, PrintJob, Ticket
    from kiosk.store.catalog import latest_version
    from kiosk.store.registration import ensure_device

    db = open_node(config)
    device = ensure_device()
    print(json.dumps({
        "database": str(config.database),
        "schema_version": schema_version(db),
        "catalog_version": latest_version(),
        "device": {"uid": device.uid, "prefix": device.prefix, "role": device.role},
        "tickets": Ticket.select().count(),
        "print_jobs_pending": PrintJob.select().where(PrintJob.state == "pending").count(),
        "print_jobs_failed": PrintJob.select().where(PrintJob.state == "failed").count(),
        "print_jobs_unconfirmed": PrintJob.select().where(PrintJob.state == "unconfirmed").count(),
        "outbox_waiting": OutboxEvent.select().where(OutboxEvent.acked_at.is_null()
                                                     & OutboxEvent.parked_at.is_null()).count(),
        "outbox_parked": OutboxEvent.select().where(OutboxEvent.parked_at.is_null(False)
                                                    & OutboxEvent.acked_at.is_null()).count(),
    }, indent=2))
    return 0


def cmd_backup(args, config: Config) -> int:
    """A consistent copy while the kiosk runs (SQLite's online backup), then rotation."""
    from db.backup import BackupError, backup_database, rotate
    from kiosk.ops.doctor import backup_dir, problem_message

    lang = args.lang or config.language
    folder = Path(args.to) if args.to else backup_dir(config)
    if args.keep < 1 or args.weekly < 0:
        raise CommandError("backup.failed", "--keep must be at least 1, --weekly at least 0", lang)
    try:
        path = backup_database(config.database, folder)
    except BackupError as e:
        raise CommandError("backup.failed", f"{problem_message(e.kind, **e.values).text(lang)}\n  ({e})",
                           lang) from None
    print(t("backup.done", lang, file=path, size=f"{path.stat().st_size / 1024 / 1024:.1f} MB"))
    if not args.no_rotate:
        removed = rotate(folder, keep=args.keep, weekly=args.weekly)
        if removed:
            print(t("backup.rotated", lang, count=len(removed)))
    return 0


def cmd_restore(args, config: Config) -> int:
    """Put a backup in the database's place: refused while anything has the database open.
    Then today's ticket numbers jump past any this node issued after the backup was taken
    (kiosk/store/numbering.py), said on the terminal and in the log."""
    from db.backup import BackupError, restore
    from db.connection import SchemaError, open_database
    from kiosk.ops.doctor import backup_dir, problem_message
    from kiosk.store.numbering import issued_today_in, jump_after_restore

    lang = args.lang or config.language
    try:
        done = restore(Path(args.file), config.database, backup_dir(config))
    except BackupError as e:
        raise CommandError("restore.failed", f"{problem_message(e.kind, **e.values).text(lang)}\n  ({e})",
                           lang) from None
    if done.kept is None:
        print(t("restore.done_new", lang, file=args.file, version=done.version))
    else:
        print(t("restore.done", lang, file=args.file, version=done.version, kept=done.kept))
    replaced = issued_today_in(done.kept) if done.kept else 0
    try:
        # An older backup's schema is upgraded here (backed up first), as the next start would.
        db = open_database(config.database, backup_dir=backup_dir(config))
    except (SchemaError, OSError) as e:
        raise CommandError("cli.database", db_problem(e, lang), lang) from None
    try:
        jumped = jump_after_restore(replaced)
    finally:
        db.close()
    if jumped is not None:  # None: a database that never numbered a ticket
        number, known = jumped
        log.warning("restored from %s: today's ticket numbers go on from %s (highest sequence known today: %d)",
                    args.file, number, known)
        print(t("restore.numbers", lang, number=number))
    return 0


def register(sub) -> None:
    dbp = sub.add_parser("db", help="the local database").add_subparsers(dest="db_command", required=True)
    dbp.add_parser("status", help="schema and catalogue versions, queues").set_defaults(func=cmd_db_status)

    p = sub.add_parser("backup", help="back up the database while the kiosk runs; keep the newest (rotation)")
    p.add_argument("--to", metavar="DIR", help="folder (default: backups in the data directory)")
    p.add_argument("--keep", type=int, default=7, help="keep the newest N backups (default 7)")
    p.add_argument("--weekly", type=int, default=4,
                   help="and of older ones the newest of each week, for W weeks (default 4)")
    p.add_argument("--no-rotate", action="store_true", help="delete no old backup")
    p.add_argument("--lang", choices=("zh", "en"))
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="replace the database with a backup (stop the kiosk first)")
    p.add_argument("file", help="a backup, e.g. backups/kiosk-20261124-030000.sqlite3")
    p.add_argument("--lang", choices=("zh", "en"))
    p.set_defaults(func=cmd_restore)
