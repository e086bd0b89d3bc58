"""`kiosk central ...`: run the central system and look after it.

    kiosk central serve [--host 127.0.0.1] [--port 8400] [--workers N]
    kiosk central add-device --role kiosk|clerk [--name NAME] [--site SITE]
    kiosk central revoke-device DEVICE_UID [--void-since TIME] [--reason TEXT]
    kiosk central voidings [--json]
    kiosk central devices
    kiosk central catalog import FILE
    kiosk central institute [--load FILE]
    kiosk central office-token
    kiosk central add-user NAME [--role director|clerk|auditor] [--full-name NAME]
    kiosk central set-password NAME
    kiosk central disable-user NAME
    kiosk central list-users [--json]

A password is typed at a prompt (twice), or read as one line from stdin when it is not a terminal;
never an argument (the shell's history and `ps` would show it). `add-user` without --role makes
the first director; after that the role must be given.
    kiosk central backfill [--status] [--chunk N] [--pause S] [--every S]
    kiosk central retention [--dry-run] [--years N] [--now TIME] [--runs] [--json]
    kiosk central notices [--send [--once] [--poll S]] [--retry ID] [--state S] [--json]

Every command takes `--database-url URL` (else $DATABASE_URL; postgresql://... is PostgreSQL)
or `--db PATH` (an SQLite file; default central.sqlite3 in the kiosk's data directory).
Only `serve` needs FastAPI and uvicorn, and only PostgreSQL needs psycopg: a missing one is
named with the command that installs it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from datetime import datetime
from pathlib import Path

from .messages import t

EXIT_ERROR = 1


class CentralError(Exception):
    pass


def _need(*modules: str, lang: str) -> None:
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise CentralError(t("missing_extra", lang, module=module))


def _storage(args, lang: str):
    from .schema import open_storage
    from .settings import database_url
    from .storage import StorageError, describe, is_postgres

    url = database_url(args.database_url, args.central_db)
    if is_postgres(url):
        _need("psycopg", lang=lang)
    try:
        return open_storage(url, pool_size=args.pool_size if hasattr(args, "pool_size") else 2)
    except StorageError as e:
        raise CentralError(f"{t('database', lang)}: {describe(url)}: {e}") from None


def cmd_serve(args, lang: str) -> int:
    _need("fastapi", "uvicorn", "msgspec", "jinja2", lang=lang)
    import os

    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from kiosk.settings.logs import uvicorn_log_config

    from .storage import describe

    storage = _storage(args, lang)  # creates or checks the schema once, before any worker starts
    url = storage.url
    if args.workers > 1 and not storage.postgres:
        raise CentralError(t("sqlite_workers", lang))
    print(t("serving", lang, host=args.host, port=args.port, db=describe(url), workers=args.workers), flush=True)
    filling = _backfill_process(args, url, storage, lang) if args.serves == "all" or args.serves == "devices" else None
    logs = {"log_level": args.log_level, "log_config": uvicorn_log_config() or LOGGING_CONFIG}
    serves = args.serves
    if serves in ("office", "public"):
        os.nice(OFFICE_NICE)  # the devices' pushes first on a busy machine (central/api/elsewhere.py)
        _end_with_parent()
    office = _office_process(args, url) if args.office_port else None
    public = _public_process(args, url) if args.public_port and serves != "public" else None
    try:
        if args.workers == 1 or serves == "public":
            from .app import create_app, settle

            uvicorn.run(settle(create_app(storage, serves="devices" if office else serves,
                                          office_port=args.office_port, public_port=args.public_port)),
                        host=args.host, port=args.port, **logs)
            return 0
        storage.close()
        os.environ["DATABASE_URL"] = url  # each worker process opens its own pool from it
        os.environ["CENTRAL_POOL_SIZE"] = str(args.pool_size)
        os.environ["CENTRAL_SERVES"] = "devices" if office else serves
        os.environ["CENTRAL_OFFICE_PORT"] = str(args.office_port or "")
        os.environ["CENTRAL_PUBLIC_PORT"] = str(args.public_port or "")
        uvicorn.run("central.app:create_app_from_env", factory=True, host=args.host, port=args.port,
                    workers=args.workers, **logs)
        return 0
    finally:
        for process in (office, public, filling):
            if process is not None:
                process.terminate()  # a backfill stopped here resumes at the next start
                process.wait(timeout=30)


OFFICE_NICE = 10  # the back office's own process: a lower CPU priority than the devices'


def _office_process(args, url: str):
    """`kiosk central serve --serves office` on --office-port, one worker, beside this process
    (which it does not outlive: _end_with_parent)."""
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "kiosk", "central", "serve", "--serves", "office",
                             "--host", args.host, "--port", str(args.office_port), "--database-url", url,
                             "--pool-size", str(args.pool_size), "--log-level", args.log_level])


def _public_process(args, url: str):
    """`kiosk central serve --serves public` on --public-port (and --public-host, else --host),
    one worker, beside this process: the public site alone (central/public/mount.py)."""
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "kiosk", "central", "serve", "--serves", "public",
                             "--host", args.public_host or args.host, "--port", str(args.public_port),
                             "--database-url", url, "--pool-size", str(min(args.pool_size, 4)),
                             "--log-level", args.log_level])


def _backfill_process(args, url: str, storage, lang: str):
    """`kiosk central backfill` beside this process when an upgrade left one due (central/backfill.py):
    the devices are served meanwhile, the office says "being built" until it ends."""
    import subprocess

    from . import backfill
    from .api.backfilling import percent

    progress = backfill.pending(storage)
    if progress is None:
        return None
    print(t("backfill_serving", lang, percent=percent(progress)), flush=True)
    return subprocess.Popen([sys.executable, "-m", "kiosk", "central", "backfill", "--database-url", url,
                             "--every", "60"])


def cmd_backfill(args, lang: str) -> int:
    """The read models' backfill an upgrade left due, chunk by chunk, with its progress; resumes
    where a stopped or killed run left it. --status: the progress only."""
    import time

    from . import backfill
    from .api.backfilling import percent

    storage = _storage(args, lang)  # an upgrade due is done first, and may leave a backfill due
    found = backfill.pending(storage)
    if found is None:
        print(t("backfill_none", lang))
        return 0
    said = [time.monotonic()]

    def line(progress, seconds: float) -> str:
        share = progress.share()
        left = int(seconds * (1 - share) / share) if share > 0 else "?"
        return t("backfill_progress", lang, tickets_done=progress.tickets_done, tickets_total=progress.tickets_total,
                 events_done=progress.events_done, events_total=progress.events_total,
                 percent=percent(progress), seconds=int(seconds), left=left)

    if args.status:
        print(t("backfill_status", lang, tickets_done=found.tickets_done, tickets_total=found.tickets_total,
                events_done=found.events_done, events_total=found.events_total, percent=percent(found)))
        return 0

    def say(progress, run) -> None:
        if time.monotonic() - said[0] >= args.every:
            said[0] = time.monotonic()
            print(line(progress, run.seconds), flush=True)

    done = backfill.run(storage, size=args.chunk or backfill.CHUNK, pause=args.pause, say=say)
    print(t("backfill_done", lang, chunks=done.chunks, seconds=f"{done.seconds:.1f}", longest=f"{done.longest:.2f}"),
          flush=True)
    return 0


def _end_with_parent() -> None:
    """SIGTERM to this process when the one that started it ends, however it ends (uvicorn
    re-raises the signal that stopped it, so its `finally` may not run; kill -9 neither)."""
    import ctypes
    import os
    import signal

    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (Linux)
    if os.getppid() != parent:  # it ended before we asked
        raise SystemExit(0)


def cmd_add_device(args, lang: str) -> int:
    from .devices import add_device
    from .settings import sites

    site = args.site or sites()[0]
    try:
        code = add_device(_storage(args, lang), args.role, args.name or "", args.days, site)
    except ValueError:  # the role is one of argparse's choices: the site is unknown
        raise CentralError(t("bad_site", lang, site=site, sites=", ".join(sites()))) from None
    print(t("code", lang, role=args.role, site=site, days=args.days), file=sys.stderr)
    print(code)
    print(t("code_hint", lang, port=8400, code=code), file=sys.stderr)
    return 0


def cmd_revoke_device(args, lang: str) -> int:
    from .devices import revoke

    uid, since = args.device_uid.strip().lower(), None
    if args.void_since is not None:
        since = _since(args.void_since, lang)  # checked before anything is revoked
    storage = _storage(args, lang)
    if revoke(storage, uid):
        print(t("revoked", lang, uid=args.device_uid))
    elif since is None:  # voiding a device revoked before is what --void-since is for
        raise CentralError(t("not_revoked", lang, uid=args.device_uid))
    if since is not None:
        _void(storage, uid, since, args.reason or "", lang)
    return 0


def _institute_clock() -> None:
    """Times typed and shown on central's clock ($INSTITUTE_TIME_ZONE), as the office shows them."""
    from kiosk.domain.clock import set_zone

    from .settings import time_zone

    set_zone(time_zone())


def _since(text: str, lang: str):
    from .voiding import parse_since

    _institute_clock()
    try:
        return parse_since(text)
    except ValueError:
        raise CentralError(t("bad_time", lang, text=text)) from None


def _void(storage, uid: str, since, reason: str, lang: str) -> None:
    from kiosk.domain.clock import local
    from kiosk.domain.validation import FieldError

    from .voiding import VoidError, void

    shown = f"{local(since):%Y-%m-%d %H:%M:%S}"
    try:
        done = void(storage, uid, since, reason)
    except VoidError as e:
        raise CentralError(t(e.code, lang, uid=uid)) from None
    except FieldError:
        raise CentralError(t("bad_reason", lang)) from None
    if done is None:
        print(t("nothing_voided", lang, uid=uid, since=shown))
    else:
        print(t("voided", lang, uid=uid, since=shown, count=len(done.events), id=done.id))


def cmd_voidings(args, lang: str) -> int:
    from kiosk.domain.clock import local

    from .voiding import voidings

    _institute_clock()
    found = voidings(_storage(args, lang))
    if not found:
        print(t("no_voidings", lang), file=sys.stderr)
    if args.json:
        print(json.dumps([v.as_dict() for v in found], ensure_ascii=False, indent=2))
        return 0
    for v in found:
        print(f"{v.id}\t{v.device_uid}\t{v.device_name or '-'}\tsince {local(v.since):%Y-%m-%d %H:%M:%S}\t"
              f"{len(v.events)} events\t{v.reason or '-'}")
        for e in v.events:
            print(f"  {e.uid}\t{e.kind}\t{e.number or '-'}\tsaid {local(e.created_at):%Y-%m-%d %H:%M:%S}\t"
                  f"received {local(e.received_at):%Y-%m-%d %H:%M:%S}")
    return 0


def cmd_devices(args, lang: str) -> int:
    from .devices import list_devices

    def line(d: dict) -> str:
        state = f"revoked {d['revoked_at']}" if d["revoked_at"] else f"last seen {d['last_seen_at'] or '-'}"
        return f"{d['uid']}\t{d['role']}\t{d['prefix']}\t{d['name'] or '-'}\t{state}"

    return _listing(list_devices(_storage(args, lang)), args, lang, "no_devices", line)


def _listing(found: list[dict], args, lang: str, none_key: str, line) -> int:
    """A list command's answer: JSON with --json, else a line each; stderr says when it is empty."""
    if not found:
        print(t(none_key, lang), file=sys.stderr)
    if args.json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return 0
    for item in found:
        print(line(item))
    return 0


def cmd_catalog_import(args, lang: str) -> int:
    from kiosk.domain.catalog import CatalogError, decode_csv_bytes

    from .catalog import import_catalog

    path = Path(args.file)
    try:
        text = decode_csv_bytes(path.read_bytes())
    except FileNotFoundError:
        raise CentralError(f"{t('not_found', lang)}: {path}") from None
    except (OSError, ValueError) as e:
        raise CentralError(f"{t('bad_catalog', lang)}: {path}: {e}") from None
    storage = _storage(args, lang)
    try:
        done = import_catalog(storage, text, path.name)
    except CatalogError as e:
        raise CentralError(f"{t('bad_catalog', lang)}\n{e}") from None
    print(t("imported" if done.new else "same_catalog", lang, version=done.version, rows=done.rows))
    return 0


def cmd_institute(args, lang: str) -> int:
    """`institute --load FILE`: the institute's file kept at central and published to every device;
    without --load, the version central holds (its text, or where it would come from)."""
    from . import institute

    storage = _storage(args, lang)
    if args.load is None:
        found = institute.stored(storage)
        if found is None:
            print(t("institute_none", lang), file=sys.stderr)
            return 0
        print(t("institute_version", lang, version=found[0]), file=sys.stderr)
        print(found[1])
        return 0
    path = Path(args.load)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise CentralError(f"{t('not_found', lang)}: {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CentralError(f"{t('bad_institute', lang)}: {path}: {e}") from None
    try:
        done = institute.load(storage, text, path.name)
    except institute.InstituteFileError as e:
        raise CentralError(f"{t('bad_institute', lang)}\n{e}") from None
    print(t("institute_loaded" if done.new else "institute_same", lang, version=done.version))
    return 0


def cmd_rebuild_read_models(args, lang: str) -> int:
    from . import backfill, readmodels

    storage = _storage(args, lang)
    with storage.transaction() as tx:  # pushes wait meanwhile (about half a minute per million events)
        readmodels.build(tx, storage)
        tx.execute(f"DELETE FROM central_meta WHERE key = '{backfill.KEY}'")  # one an upgrade left due: done too
        tickets, ratings = (tx.one(f"SELECT count(*) FROM {table}")[0] for table in ("ticket_state", "rating"))
    print(t("read_models_built", lang, tickets=tickets, ratings=ratings))
    return 0


def cmd_certificate_checks(args, lang: str) -> int:
    """Certificates checked at the dispatch counters, returned and why, by lab field and week: CSV
    (kiosk/domain/certificate_check.py FIGURE_COLUMNS), or JSON with --json."""
    from datetime import date

    from kiosk.domain.certificate_check import to_csv

    from .certificate_checks import figures

    try:
        since, until = (date.fromisoformat(v) if v else None for v in (args.start, args.end))
    except ValueError as e:
        raise CentralError(f"--from / --to: YYYY-MM-DD ({e})") from None
    found = figures(_storage(args, lang), since, until, args.site)
    if args.json:
        print(json.dumps([{"week": f.week.isoformat(), "field": f.field, "checked": f.checked,
                           "returned": f.returned, "rechecked": f.rechecked, "reasons": f.reasons}
                          for f in found], ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(to_csv(found))
    return 0


def cmd_office_token(args, lang: str) -> int:
    from .auth import rotate_office_token

    token = rotate_office_token(_storage(args, lang))
    print(t("office_token", lang), file=sys.stderr)
    print(token)
    print(t("office_hint", lang), file=sys.stderr)
    return 0


def cmd_retention(args, lang: str) -> int:
    import os

    from kiosk.domain.clock import local, utc_now

    from .retention import run, runs
    from .settings import retention_years

    try:
        years = args.years if args.years is not None else retention_years()
    except ValueError:  # $CENTRAL_RETENTION_YEARS is not a number
        years = 0
    if years < 1:
        given = args.years if args.years is not None else os.environ.get("CENTRAL_RETENTION_YEARS")
        raise CentralError(t("bad_years", lang, years=given))
    now = _since(args.now, lang) if args.now else utc_now()  # --now: the tests' clock, or a run done late
    storage = _storage(args, lang)
    if args.runs:
        found = runs(storage)
        if args.json:
            print(json.dumps(found, ensure_ascii=False, indent=2))
        for r in [] if args.json else found:
            print(t("retention_run", lang, at=f"{local(datetime.fromisoformat(r['at'])):%Y-%m-%d %H:%M}",
                    cutoff=f"{local(datetime.fromisoformat(r['cutoff'])):%Y-%m-%d %H:%M}", tickets=r["tickets"],
                    ratings=r["ratings"], closes=r["closes"], names=r["names"]))
        if not found:
            print(t("no_retention_runs", lang), file=sys.stderr)
        return 0
    done = run(storage, now, years, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(done.as_dict(), ensure_ascii=False, indent=2))
        return 0
    print(t("retention_dry" if args.dry_run else "retention_done", lang, years=years,
            cutoff=f"{local(done.cutoff):%Y-%m-%d %H:%M}", tickets=done.tickets, ratings=done.ratings,
            closes=done.closes, names=done.names))
    return 0


def cmd_notices(args, lang: str) -> int:
    """The notices' outbox: counts and the latest (--state), or the sender (--send: until stopped; --once:
    one pass). central/notices/__init__.py."""
    import signal
    import threading

    from . import institute as institute_file
    from .notices import config as notices_config
    from .notices import outbox, sender
    from .notices.channels import channels as configured

    storage = _storage(args, lang)
    if args.retry is not None:
        if not sender.retry_parked(storage, args.retry):
            raise CentralError(t("notices_not_parked", lang, id=args.retry))
        print(t("notices_retried", lang, id=args.retry))
        return 0
    if not args.send:
        with storage.read() as tx:
            found, rows = outbox.counts(tx), outbox.listing(tx, args.state, args.limit)
        if args.json:
            print(json.dumps({"counts": found, "notices": [outbox.notice_json(n) for n in rows]}, ensure_ascii=False,
                             indent=2))
            return 0
        print(t("notices_counts", lang, **found))
        for n in rows:
            print(f"{n['id']}\t{n['number']}\t{n['kind']}\t{n['channel']}\t{n['shown_state']}\t{n['tries']}\t"
                  f"{n['sent_to'] or '-'}\t{n['last_error'] or '-'}")
        return 0
    _institute_clock()

    def institute(lang: str) -> str:  # as central holds the institute's file now (a load is seen within seconds)
        return institute_file.current(storage).name(lang)

    try:
        cfg = notices_config.load()
        institute("zh")  # a file that cannot be read stops the sender now, not at its first notice
    except (notices_config.ConfigError, institute_file.InstituteFileError) as e:
        raise CentralError(t("notices_bad_settings", lang, error=e)) from None
    channels = configured(cfg)
    if not channels:
        print(t("notices_no_channel", lang), file=sys.stderr)
    if args.once:
        done = sender.send_due(storage, cfg, institute, channels)
        print(json.dumps(done.as_dict()) if args.json else t("notices_pass", lang, **{
            k: v for k, v in done.as_dict().items() if k != "reasons"}))
        return 0
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(t("notices_sending", lang, channels=", ".join(sorted(channels)) or "-", poll=args.poll), file=sys.stderr)
    sender.run(storage, cfg, institute, channels, stop, poll=args.poll)
    return 0


def _password(name: str, lang: str) -> str:
    import getpass

    from .accounts import MIN_PASSWORD

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(t("password_prompt", lang, name=name, min=MIN_PASSWORD))
    if getpass.getpass(t("password_again", lang)) != first:
        raise CentralError(t("password_mismatch", lang))
    return first


def _accounts(action, lang: str):
    from .accounts import AccountError

    try:
        return action()
    except AccountError as e:
        raise CentralError(t(e.code, lang, **e.values)) from None


def cmd_add_user(args, lang: str) -> int:
    from .accounts import add_user

    storage = _storage(args, lang)
    password = _password(args.name, lang)
    user = _accounts(lambda: add_user(storage, args.name, args.role, password, args.full_name or ""), lang)
    print(t("user_added", lang, name=user.name, role=user.role))
    return 0


def cmd_set_password(args, lang: str) -> int:
    from .accounts import set_password

    storage = _storage(args, lang)
    password = _password(args.name, lang)
    _accounts(lambda: set_password(storage, args.name, password), lang)
    print(t("password_set", lang, name=args.name))
    return 0


def cmd_disable_user(args, lang: str) -> int:
    from .accounts import disable_user

    storage = _storage(args, lang)
    _accounts(lambda: disable_user(storage, args.name), lang)
    print(t("user_disabled", lang, name=args.name))
    return 0


def cmd_list_users(args, lang: str) -> int:
    from .accounts import list_users

    def line(u: dict) -> str:
        state = (f"disabled {u['disabled_at']}" if u["disabled_at"] else
                 f"locked until {u['locked_until']}" if u["locked_until"] else "active")
        return f"{u['name']}\t{u['role']}\t{u['full_name']}\t{state}"

    return _listing(list_users(_storage(args, lang)), args, lang, "no_users", line)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="postgresql://USER@HOST/DB, or sqlite:///PATH; default $DATABASE_URL")
    common.add_argument("--db", dest="central_db", help="an SQLite file (when no database URL is given)")

    parser = argparse.ArgumentParser(prog="kiosk central", description="The central system 中心系统")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", parents=[common], help="run the HTTP API (FastAPI under uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=8400)
    p.add_argument("--workers", type=int, default=1, help="worker processes (PostgreSQL only)")
    p.add_argument("--pool-size", type=int, default=8, help="database connections per worker")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.add_argument("--office-port", type=int, help="serve the back office from its own process on this port, "
                   "at a lower CPU priority (the devices' pushes first); this port then serves the devices only")
    p.add_argument("--public-port", type=int, help="serve the public mobile site (/public/) from its own process "
                   "on this port, and nothing else there: the port to expose to the internet")
    p.add_argument("--public-host", help="the public site's address (default: --host)")
    p.add_argument("--serves", default="all", choices=("all", "devices", "office", "public"), help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("add-device", parents=[common], help="print a one-time enrolment code for a device")
    p.add_argument("--role", required=True, choices=("kiosk", "clerk"))
    p.add_argument("--name", help="a name for the back office, e.g. 大厅1号机")
    p.add_argument("--days", type=int, default=7, help="days the code stays valid")
    p.add_argument("--site", help="the site it serves, one of $CENTRAL_SITES (default: the first)")
    p.set_defaults(func=cmd_add_device)

    p = sub.add_parser("revoke-device", parents=[common], help="revoke a device: its token stops working")
    p.add_argument("device_uid")
    p.add_argument("--void-since", metavar="TIME",
                   help="also void what central received from it from TIME on (2026-11-24T09:30, local time, "
                        "or with an offset; a date: from its start): kept for audit, undone everywhere")
    p.add_argument("--reason", help="why, for the audit (with --void-since)")
    p.set_defaults(func=cmd_revoke_device)

    p = sub.add_parser("voidings", parents=[common], help="what was voided: each voiding and its events")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_voidings)

    p = sub.add_parser("devices", parents=[common], help="the enrolled devices and when each last synced")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_devices)

    catalog = sub.add_parser("catalog", help="fee catalogues").add_subparsers(dest="catalog_command", required=True)
    p = catalog.add_parser("import", parents=[common], help="publish a fee table (CSV) as a new catalogue version")
    p.add_argument("file")
    p.set_defaults(func=cmd_catalog_import)

    p = sub.add_parser("institute", parents=[common],
                       help="the institute's file (institute.toml): load it to show on the public site and "
                            "publish it to every kiosk; without --load, print the version held")
    p.add_argument("--load", metavar="FILE", help="an institute.toml to publish")
    p.set_defaults(func=cmd_institute)

    p = sub.add_parser("rebuild-read-models", parents=[common],
                       help="make the office's read models again from the events (after the institute's "
                            "time zone changed, or a fix to a rule)")
    p.set_defaults(func=cmd_rebuild_read_models)

    p = sub.add_parser("backfill", parents=[common],
                       help="build the office's read models an upgrade left to build, by chunks, showing the "
                            "progress (again after a stop: it resumes; `serve` also runs it in the background)")
    p.add_argument("--status", action="store_true", help="show the progress only")
    p.add_argument("--chunk", type=int, help="tickets a transaction (pushes wait at most one; "
                                             "default central/backfill.py CHUNK)")
    p.add_argument("--pause", type=float, default=0.0, help="seconds between chunks (a busy machine's pushes first)")
    p.add_argument("--every", type=float, default=2.0, help="seconds between progress lines")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("certificate-checks", parents=[common],
                       help="证书核对: certificates checked at dispatch, returned and why, by lab field and week (CSV)")
    p.add_argument("--from", dest="start", help="the first local day, YYYY-MM-DD (its week counts whole)")
    p.add_argument("--to", dest="end", help="the last local day, YYYY-MM-DD")
    p.add_argument("--site", help="one site's desks only")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_certificate_checks)

    p = sub.add_parser("office-token", parents=[common],
                       help="a new token for scripts reading the office's figures (the old one stops)")
    p.set_defaults(func=cmd_office_token)

    p = sub.add_parser("add-user", parents=[common], help="a back-office user (the password is asked for)")
    p.add_argument("name", help="the sign-in name")
    p.add_argument("--role", choices=("director", "clerk", "auditor"),
                   help="director: everything; clerk: tickets and follow-ups; auditor: figures only "
                        "(default: director, for the first one only)")
    p.add_argument("--full-name", help="the name shown as who closed a follow-up (default: NAME)")
    p.set_defaults(func=cmd_add_user)

    p = sub.add_parser("set-password", parents=[common], help="a new password for a back-office user")
    p.add_argument("name")
    p.set_defaults(func=cmd_set_password)

    p = sub.add_parser("disable-user", parents=[common], help="a back-office user can no longer sign in")
    p.add_argument("name")
    p.set_defaults(func=cmd_disable_user)

    p = sub.add_parser("list-users", parents=[common], help="the back-office users, their roles and state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list_users)

    p = sub.add_parser("retention", parents=[common],
                       help="erase the personal data of tickets done with for the retention period (run nightly)")
    p.add_argument("--dry-run", action="store_true", help="count what is due, change nothing")
    p.add_argument("--years", type=int, help="years kept after pickup (default $CENTRAL_RETENTION_YEARS, else 3)")
    p.add_argument("--now", metavar="TIME", help="run as at TIME (2026-11-24T09:30, local time, or with an offset)")
    p.add_argument("--runs", action="store_true", help="list the runs done, the latest first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_retention)

    p = sub.add_parser("notices", parents=[common],
                       help="the notices to customers: counts and the latest, or --send them (central/notices/)")
    p.add_argument("--send", action="store_true", help="send what is due, then keep looking until stopped")
    p.add_argument("--once", action="store_true", help="with --send: one pass, then exit (a timer's job)")
    p.add_argument("--poll", type=float, default=15.0, help="with --send: seconds between looks (15)")
    p.add_argument("--retry", type=int, metavar="ID", help="queue a parked notice again (after fixing its cause)")
    p.add_argument("--state", choices=("queued", "failed", "sending", "sent", "parked", "dropped"))
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_notices)
    return parser


def main(argv: list[str] | None = None, config=None) -> int:
    """`kiosk central ...`; `config`: the kiosk's Config (for the language), if any."""
    from .storage import StorageError

    lang = getattr(config, "language", "zh")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, lang)
    except CentralError as e:
        print(e, file=sys.stderr)
        return EXIT_ERROR
    except StorageError as e:
        print(f"{t('database', lang)}: {e}", file=sys.stderr)
        return EXIT_ERROR
