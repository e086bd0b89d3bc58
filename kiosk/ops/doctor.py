"""`kiosk doctor`: is this kiosk fit to run? One line per check, each "ok" or what to do.

Checks, in order: configuration, database (opens; read-only or damaged?), integrity
(`PRAGMA integrity_check`), schema version, printer, label printer (`[labels]`: reachable, its
status in its own language, its label stock; none configured is no fault), receipt fonts (which fonts draw raster
receipts and the preview, and what of a sample of receipts none can), central system (with
the changes set aside here), clock, disk space, maintenance PIN, backups. Levels: ok, warn,
fail (and skip, when a check cannot run because an earlier one failed). Exit status: 0 all
ok, 1 a warning, 2 a failure.

A demo is a kiosk on its built-in defaults (no configuration file: the preview printer, the
demo catalogue); a real kiosk has one (the systemd unit names /etc/kiosk/kiosk.toml). Only a demo
may run with the default maintenance PIN: elsewhere that, or no PIN set, is a failure.

The doctor changes nothing: the database is opened read-only (never created, never
migrated; SQLite may leave the empty -wal and -shm files any reader of a WAL database
makes), the preview folder is tested with a temporary file that is removed again, and the
central system is asked `GET /api/v1/health` and, to tell whether this device's token is still
good, one page of the change feed (`GET /api/v1/changes?limit=1`, which central records as a
pull). Printers: usb/serial/tcp printers answer the real-time status queries (DLE EOT 1, 2, 4:
the bytes python-escpos' `is_online()` and `paper_status()` send) through the kiosk's own
EscposBackend.check(), which bounds each answer by the timeout and does not take an empty
answer for "paper ok" as `paper_status()` does.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.domain.clock import local
from kiosk.i18n import t
from kiosk.i18n.keys import BACKUP_PROBLEMS, DATABASE_PROBLEMS, DOCTOR_CHECKS, FONT_SAMPLES, PRINT_REASONS
from kiosk.settings.config import Config

LEVELS = ("ok", "warn", "fail", "skip")
EXIT = {"ok": 0, "skip": 0, "warn": 1, "fail": 2}
TAGS = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "-"}
LOW_DISK = 200 * 1024 * 1024  # warn below this much free space
FULL_DISK = 20 * 1024 * 1024  # fail below this: a backup no longer fits, writes may fail any moment
BACKUP_MAX_AGE = timedelta(hours=36)  # the daily timer, plus a margin
TIMEOUT = 3.0  # seconds for the central system and for a printer's answer
EARLIEST_YEAR, LATEST_YEAR = 2025, 2099  # a clock outside these was reset (a dead RTC battery: 1970, 2000)
CLOCK_SLACK = timedelta(minutes=5)
TIMESTAMPED = ("ticket", "ticket_event", "outbox_event", "feedback")  # tables with created_at


@dataclass(frozen=True)
class Msg:
    """A catalogue message, rendered in either language later (a blank may hold another Msg)."""

    key: str
    values: dict = field(default_factory=dict)

    def text(self, lang: str) -> str:
        return t(self.key, lang, **{k: v.text(lang) if isinstance(v, Msg) else v for k, v in self.values.items()})


@dataclass(frozen=True)
class Listing(Msg):
    """Several messages or words as one list: 、 between them in zh, ", " in en."""

    key: str = ""
    items: tuple = ()

    def text(self, lang: str) -> str:
        return ("、" if lang == "zh" else ", ").join(i.text(lang) if isinstance(i, Msg) else i for i in self.items)


@dataclass(frozen=True)
class Check:
    # config | database | integrity | schema | printer | labels | fonts | central | clock | disk | pin | backups
    name: str
    level: str  # ok | warn | fail | skip
    message: Msg
    data: dict = field(default_factory=dict)  # for --json: numbers, paths; never personal data

    def line(self, lang: str | None = None) -> str:
        """zh and en side by side, or one language."""
        tag, name = f"{TAGS[self.level]:<5}", DOCTOR_CHECKS[self.name]
        if lang in ("zh", "en"):
            return f"{tag} {t(name, lang)}{'：' if lang == 'zh' else ': '}{self.message.text(lang)}"
        return (f"{tag} {t(name, 'zh')}：{self.message.text('zh')}  |  "
                f"{t(name, 'en')}: {self.message.text('en')}")


def problem_message(kind: str, **values) -> Msg:
    """What to say about a database or backup problem (db.backup.problem_kind, BackupError.kind)."""
    if kind == "upgrade_backup":
        return Msg("dbproblem.upgrade_backup", {"reason": problem_message(values.get("reason", "io"))})
    if kind in BACKUP_PROBLEMS:
        return Msg(BACKUP_PROBLEMS[kind], values)
    return Msg(DATABASE_PROBLEMS.get(kind, "dbproblem.other"))


def database_problem(error: BaseException):
    """A database problem (full, read-only, damaged, a failed upgrade backup) as a message; else None."""
    from db.backup import problem_kind
    from db.connection import DatabaseUnusable

    kind = error.kind if isinstance(error, DatabaseUnusable) else problem_kind(error)
    return problem_message(kind, reason=getattr(error, "reason", "io")) if kind else None


def exit_code(checks: list[Check]) -> int:
    return max((EXIT[c.level] for c in checks), default=0)


def to_json(checks: list[Check]) -> dict:
    return {
        "status": ("ok", "warn", "fail")[exit_code(checks)],
        "exit_code": exit_code(checks),
        "checks": [{"name": c.name, "level": c.level, "zh": c.message.text("zh"), "en": c.message.text("en"),
                    "data": c.data} for c in checks],
    }


def format_report(checks: list[Check], lang: str | None = None) -> str:
    return "\n".join(c.line(lang) for c in checks)


# ---- the checks -------------------------------------------------------------------------------


def run_checks(config: Config | None, *, config_error: str | None = None, now: datetime | None = None,
               timeout: float = TIMEOUT) -> list[Check]:
    now = now or datetime.now(UTC)
    if config is None:
        skipped = Msg("doctor.skipped", {"why": Msg("doctor.no_config")})
        return [Check("config", "fail", Msg("doctor.config.bad", {"error": config_error or "?"})),
                *(Check(name, "skip", skipped) for name in
                  ("database", "integrity", "schema", "printer", "labels", "fonts", "central", "clock", "disk",
                   "pin", "backups"))]
    checks = [_config(config)]
    conn, check = _database(config.database)
    checks.append(check)
    why = Msg("doctor.skipped",
              {"why": Msg("doctor.no_database" if config.database.exists() else "doctor.not_created")})
    try:
        if conn is None:
            checks += [Check("integrity", "skip", why), Check("schema", "skip", why)]
        else:
            checks += [_integrity(conn), _schema(conn)]
        checks.append(printer_check(config, timeout))
        checks.append(labels_check(config, timeout))
        checks.append(fonts_check(config))
        checks.append(_central(conn, timeout) if conn is not None else Check("central", "skip", why))
        checks.append(_clock(conn, now))
        pin = _pin(config, conn, now)
    finally:
        if conn is not None:
            conn.close()
    checks += [_disk(config), pin, _backups(config, now)]
    return checks


def _config(config: Config) -> Check:
    if config.source is None:
        return Check("config", "ok", Msg("doctor.config.defaults"))
    return Check("config", "ok", Msg("doctor.config.file", {"file": str(config.source)}), {"file": str(config.source)})


def _database(path: Path) -> tuple[sqlite3.Connection | None, Check]:
    from db.backup import problem_of_file

    data = {"file": str(path)}
    if not path.exists():
        return None, Check("database", "warn", Msg("doctor.db.missing", {"file": str(path)}), data)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        kind = problem_of_file(e, path) or "other"
        data.update(problem=kind, error=str(e))
        return None, Check("database", "fail", Msg("doctor.db.problem", {"problem": problem_message(kind),
                                                                        "file": str(path)}), data)
    # Writable? The kiosk has to write; root passes os.access on a writable mount, not on a read-only one.
    for target in (path, path.parent):
        if not os.access(target, os.W_OK):
            data.update(problem="readonly")
            return conn, Check("database", "fail", Msg("doctor.db.problem", {
                "problem": problem_message("readonly"), "file": str(target)}), data)
    try:
        tickets = conn.execute("SELECT count(*) FROM ticket").fetchone()[0]
    except sqlite3.DatabaseError:
        tickets = 0  # a schema from before tickets: the schema line says so
    data["tickets"] = tickets
    return conn, Check("database", "ok", Msg("doctor.db.ok", {"tickets": tickets, "file": str(path)}), data)


def _integrity(conn: sqlite3.Connection) -> Check:
    from db.backup import integrity

    try:
        result = integrity(conn)
    except sqlite3.DatabaseError as e:
        result = str(e)
    if result == "ok":
        return Check("integrity", "ok", Msg("doctor.integrity.ok"))
    return Check("integrity", "fail", Msg("doctor.integrity.bad", {"detail": result[:120]}), {"detail": result})


def _schema(conn: sqlite3.Connection) -> Check:
    from db.migrations import LATEST

    found = conn.execute("PRAGMA user_version").fetchone()[0]
    data = {"found": found, "latest": LATEST}
    values = {"found": found, "latest": LATEST}
    if found == LATEST:
        return Check("schema", "ok", Msg("doctor.schema.ok", values), data)
    if found > LATEST:
        return Check("schema", "fail", Msg("doctor.schema.new", values), data)
    return Check("schema", "warn", Msg("doctor.schema.old", values), data)


def printer_check(config: Config, timeout: float) -> Check:
    """Reachable, and its status (DLE EOT) where it reports one; also the desk's status line."""
    from printer.backends import PrinterError, open_backend, parse_printer_uri

    uri = config.printer_uri
    try:
        spec = parse_printer_uri(uri)
    except PrinterError as e:
        return _printer_failed(e, uri)
    data = {"uri": uri, "scheme": spec.scheme}
    if spec.scheme == "preview":
        folder = Path(spec.target).expanduser()
        folder = folder if folder.is_absolute() else config.data_dir / folder
        return _preview(folder, data)
    if spec.scheme == "file":
        device = Path(spec.target)
        if device.exists() and os.access(device, os.W_OK):
            return Check("printer", "ok", Msg("doctor.printer.no_status", {"printer": spec.description}), data)
        return _printer_failed(PrinterError(f"{device} is missing or not writable", "offline"), spec.description)
    if spec.scheme == "cups":
        if shutil.which("lp") is None:
            return _printer_failed(PrinterError("the CUPS command lp is not installed", "config"), spec.description)
        return Check("printer", "ok", Msg("doctor.printer.unchecked", {"printer": spec.description}), data)
    spec = replace(spec, timeout=min(spec.timeout, timeout))
    try:
        with open_backend(spec, base_dir=config.data_dir) as backend:
            if spec.status:
                backend.check()
                if getattr(backend, "paper_near_end", False):
                    return Check("printer", "warn", Msg("doctor.printer.paper_low", {"printer": spec.description}),
                                 data)
                return Check("printer", "ok", Msg("doctor.printer.ok", {"printer": spec.description}), data)
            backend._open()  # status=0: the printer cannot answer; reachable is all there is to know
            return Check("printer", "ok", Msg("doctor.printer.no_status", {"printer": spec.description}), data)
    except PrinterError as e:
        return _printer_failed(e, spec.description)


def labels_check(config: Config, timeout: float) -> Check:
    """The label printer (`[labels]`) as the printer line checks the receipt printer, and the
    label stock it is set up for. None configured: said, no fault (the labels print on the
    receipt printer). A printer that reads back is asked its status once in its own language
    (TSPL <ESC>!?, ZPL ~HS: printer/labels/status.py), never DLE EOT, which it does not speak."""
    if not config.label_uri:
        return Check("labels", "ok", Msg("doctor.labels.none"), {"configured": False})
    stock = Msg("doctor.labels.stock", {"language": config.label_language.upper(),
                                        "size": config.label_size.replace("x", "×")})
    check = _label_printer(config, timeout)
    return replace(check, message=Msg("doctor.labels.said", {"said": check.message, "stock": stock}),
                   data={**check.data, "configured": True, "language": config.label_language,
                         "size": config.label_size})


def _label_printer(config: Config, timeout: float) -> Check:
    from printer.backends import PrinterError, open_backend, parse_printer_uri
    from printer.labels.status import LABEL_STATUS, READY

    try:
        spec = parse_printer_uri(config.label_uri)
    except PrinterError as e:
        return _printer_failed(e, config.label_uri, "labels")
    if spec.scheme in ("preview", "file", "cups"):  # nothing to ask: checked as a receipt printer there is
        return replace(printer_check(replace(config, printer_uri=config.label_uri), timeout), name="labels")
    spec = replace(spec, timeout=min(spec.timeout, timeout))
    data = {"uri": config.label_uri, "scheme": spec.scheme}
    status = LABEL_STATUS[config.label_language]
    try:
        with open_backend(spec, base_dir=config.data_dir) as backend:
            backend._open()
            if not (spec.status and backend.can_read()):  # status=0: reachable is all there is to know
                return Check("labels", "ok", Msg("doctor.printer.no_status", {"printer": spec.description}), data)
            reading = backend.label_reading(status)  # as after a labels job, asked once here
    except PrinterError as e:
        return _printer_failed(e, spec.description, "labels")
    if reading is None:
        return _printer_failed(PrinterError(
            f"{spec.description} did not answer {status.query!r} within {spec.timeout:g} s: switched off, not "
            f"connected, or not a {config.label_language.upper()} printer (status=0 in its URI if it cannot "
            "answer)", kind="offline"), spec.description, "labels")
    key = "doctor.printer.ok" if reading == READY else "doctor.labels.busy"
    return Check("labels", "ok", Msg(key, {"printer": spec.description}), data | {"reading": reading})


# What receipts carry, by repertoire: the fonts line says which font draws each, and what no font can.
FONT_SAMPLE = (
    ("ascii", "".join(map(chr, range(0x21, 0x7F)))),  # ticket numbers, amounts, dates, phones, English
    ("gb2312", "某市计量检定测试院单位电话合计元张王李"),
    ("gbk", "䶮"),  # in GBK, not GB 2312 (刘䶮, a name)
    ("gb18030", "𠮷"),  # a GB18030 four-byte character (𠮷野家)
    ("money", "¥€￥"),
)
FONT_SAMPLE_NEEDED = ("ascii", "gb2312")  # a receipt without these is unreadable


def fonts_check(config: Config) -> Check:
    """The fonts drawn receipt lines (profiles short of a GB18030 font) and the preview PNG draw
    with, each with what of `FONT_SAMPLE` it draws, and what no font draws (a boxed ?).
    Fails when ASCII or common hanzi cannot be drawn, or when the configured font is unusable
    and this kiosk draws receipts (a profile that draws lines, or the preview printer)."""
    from printer.backends import PrinterError, parse_printer_uri
    from printer.fonts import FontNotFound, font_chain
    from printer.profiles import PROFILES

    raster = Listing(items=tuple(p.name for p in PROFILES.values() if p.repertoire != "gb18030"))
    try:
        preview = parse_printer_uri(config.printer_uri).scheme == "preview"
    except PrinterError:
        preview = False  # the printer line says what is wrong with it
    drawn_here = preview or PROFILES[config.printer_profile].repertoire != "gb18030"
    try:
        chain = font_chain(config.printer_font)
    except FontNotFound as e:
        return Check("fonts", "fail" if drawn_here else "warn",
                     Msg("doctor.fonts.bad", {"file": str(config.printer_font)}), {"error": str(e)})
    by_font: dict = {}  # font -> {group: the sample characters it draws}
    missing = ""
    for group, sample in FONT_SAMPLE:
        for font, chars in chain.used_for(sample).items():
            if font is None:
                missing += chars
            else:
                by_font.setdefault(font, {})[group] = chars
    order = [p for p in chain.paths if p in by_font]
    fonts = Listing(items=tuple(
        Msg("doctor.fonts.draws", {"file": p.name, "what": Listing(items=tuple(
            Msg(FONT_SAMPLES[group], {"chars": " ".join(chars)}) for group, chars in by_font[p].items()))})
        for p in order))
    data = {"profiles": list(raster.items), "chain": [str(p) for p in chain.paths],
            "fonts": [{"file": str(p), "draws": list(by_font[p])} for p in order], "missing": missing}
    values = {"profiles": raster, "fonts": fonts, "missing": " ".join(missing)}
    needed = "".join(sample for group, sample in FONT_SAMPLE if group in FONT_SAMPLE_NEEDED)
    if any(ch in needed for ch in missing):
        return Check("fonts", "fail", Msg("doctor.fonts.unreadable", values), data)
    return Check("fonts", "ok", Msg("doctor.fonts.gaps" if missing else "doctor.fonts.ok", values), data)


def _printer_failed(error, printer: str, name: str = "printer") -> Check:
    return Check(name, "fail", Msg("doctor.printer.failed", {
        "reason": Msg(PRINT_REASONS[error.kind]), "printer": printer, "detail": str(error)[:160]}),
        {"kind": error.kind, "error": str(error)})


def _preview(folder: Path, data: dict) -> Check:
    from printer.backends import PrinterError

    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if existing == folder:
            with tempfile.TemporaryFile(dir=folder):
                pass  # really written: os.access says yes to root on a read-only mount
        elif not os.access(existing, os.W_OK):
            raise PermissionError(f"{existing} is not writable")
    except OSError as e:
        return _printer_failed(PrinterError(f"cannot write to the preview folder {folder}: {e}", "config"),
                               f"preview {folder}")
    return Check("printer", "ok", Msg("doctor.printer.preview", {"dir": str(folder)}), data)


def _setting(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _count(conn: sqlite3.Connection, sql: str) -> int:
    try:
        return conn.execute(sql).fetchone()[0]
    except sqlite3.DatabaseError:
        return 0  # the table is newer than this database's schema


def _central(conn: sqlite3.Connection, timeout: float) -> Check:
    """Central's answer as today, and changes this node set aside (pulled ones that failed
    here, codes whose number another ticket holds): a warning with the count and the command,
    whatever central answers (they are local), unless the answer is already a failure."""
    check = _central_answer(conn, timeout)
    aside = _count(conn, "SELECT count(*) FROM parked_change")
    if not aside or check.level == "fail":
        return check
    message = Msg("doctor.central.aside", {"count": aside})
    if check.level == "warn":
        message = Msg("doctor.central.and", {"first": check.message, "then": message})
    return Check("central", "warn", message, {**check.data, "changes_parked": aside})


def _central_answer(conn: sqlite3.Connection, timeout: float) -> Check:
    from kiosk.sync.client import Central, SyncError
    from kiosk.sync.settings import CURSOR, TOKEN, TOKEN_EXPIRES, URL

    try:
        url, token, expires = _setting(conn, URL), _setting(conn, TOKEN), _setting(conn, TOKEN_EXPIRES)
        cursor = int(_setting(conn, CURSOR) or 0)
    except sqlite3.DatabaseError:
        url = token = expires = None
    if not (url and token):
        return Check("central", "ok", Msg("doctor.central.standalone"), {"enrolled": False})
    waiting = _count(conn, "SELECT count(*) FROM outbox_event WHERE acked_at IS NULL AND parked_at IS NULL")
    parked = _count(conn, "SELECT count(*) FROM outbox_event WHERE acked_at IS NULL AND parked_at IS NOT NULL")
    data = {"enrolled": True, "url": url, "waiting": waiting, "parked": parked, "token_expires_at": expires}
    values = {"url": url, "waiting": waiting, "parked": parked}
    try:
        central = Central(url, token, timeout=timeout)
        if not central.health():
            raise SyncError("offline", "the health check did not answer ok")
        central.changes(cursor, limit=1)  # the token: 401/403 if this device was revoked
    except SyncError as e:
        data["error"] = str(e)
        if e.kind == "auth":
            why = "doctor.central.expired" if e.error == "token_expired" else "doctor.central.revoked"
            return Check("central", "fail", Msg(why, values), data)
        return Check("central", "warn", Msg("doctor.central.offline", values), data)
    except ValueError as e:  # a stored URL that is not http(s)
        data["error"] = str(e)
        return Check("central", "fail", Msg("doctor.central.revoked", values), data)
    if parked:
        return Check("central", "warn", Msg("doctor.central.parked", values), data)
    if expires:  # renewed by every sync pass past half its life: shown, not judged
        return Check("central", "ok", Msg("doctor.central.ok_until", values | {
            "expires": f"{local(datetime.fromisoformat(expires)):%Y-%m-%d}"}), data)
    return Check("central", "ok", Msg("doctor.central.ok", values), data)


def _clock(conn: sqlite3.Connection | None, now: datetime) -> Check:
    shown = f"{local(now):%Y-%m-%d %H:%M}"
    data = {"now": now.isoformat()}
    if not EARLIEST_YEAR <= now.year <= LATEST_YEAR:
        return Check("clock", "fail", Msg("doctor.clock.year", {"now": shown}), data)
    newest = None
    if conn is not None:  # no database: no record the clock could be behind
        for table in TIMESTAMPED:
            try:
                value = conn.execute(f"SELECT max(created_at) FROM {table}").fetchone()[0]  # fixed table names
            except sqlite3.DatabaseError:
                continue  # not in this schema
            if value:
                try:
                    stamp = datetime.fromisoformat(value)
                except ValueError:
                    continue
                stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
                newest = stamp if newest is None or stamp > newest else newest
    if newest is not None:
        data["newest_record"] = newest.isoformat()
        if now < newest - CLOCK_SLACK:
            return Check("clock", "fail", Msg("doctor.clock.behind", {
                "now": shown, "newest": f"{local(newest):%Y-%m-%d %H:%M}"}), data)
    return Check("clock", "ok", Msg("doctor.clock.ok", {"now": shown}), data)


def _disk(config: Config) -> Check:
    places: dict[int, Path] = {}
    for wanted in (config.data_dir, config.database.parent):
        folder = Path(wanted)
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        places.setdefault(folder.stat().st_dev, folder)
    # The one with the least room left (the first of equals)
    folder, free = min(((folder, shutil.disk_usage(folder).free) for folder in places.values()),
                       key=lambda place: place[1])
    values = {"free": _size(free), "dir": str(folder)}
    data = {"free_bytes": free, "dir": str(folder)}
    if free < FULL_DISK:
        return Check("disk", "fail", Msg("doctor.disk.low", values), data)
    if free < LOW_DISK:
        return Check("disk", "warn", Msg("doctor.disk.low", values), data)
    return Check("disk", "ok", Msg("doctor.disk.ok", values), data)


def is_demo(config: Config) -> bool:
    """Running on the built-in defaults, with no configuration file (see the module's docstring)."""
    return config.source is None


def _pin(config: Config, conn: sqlite3.Connection | None, now: datetime) -> Check:
    """Set (hashed in the database) or not; a plain one left in the configuration; a lock-out."""
    from kiosk.store.maintenance import DEFAULT_PIN, HASH_KEY, LOCKOUT_KEY, parse_lockout

    try:
        stored = _setting(conn, HASH_KEY) if conn is not None else None
        state = parse_lockout(_setting(conn, LOCKOUT_KEY) if conn is not None else None)
    except sqlite3.DatabaseError:  # a schema without the setting table: nothing set
        stored, state = None, parse_lockout(None)
    in_config = config.maintenance_pin not in (None, DEFAULT_PIN)
    data: dict[str, object] = {"set": stored is not None, "in_config": config.maintenance_pin is not None,
                               "failed": state.failed, "demo": is_demo(config)}
    if stored is None and not in_config:
        if is_demo(config):
            return Check("pin", "warn", Msg("doctor.pin.demo"), data)
        return Check("pin", "fail", Msg("doctor.pin.unset"), data)
    if config.maintenance_pin is not None:
        state_msg = Msg("doctor.pin.config_unused" if stored is not None else "doctor.pin.config_pending")
        return Check("pin", "warn", Msg("doctor.pin.in_config", {"state": state_msg}), data)
    state = state.clamped(now)
    if state.wait(now) is not None and state.until is not None:
        data["locked_until"] = state.until.isoformat()
        return Check("pin", "warn", Msg("doctor.pin.locked", {
            "failed": state.failed, "time": f"{local(state.until):%Y-%m-%d %H:%M}"}), data)
    return Check("pin", "ok", Msg("doctor.pin.set"), data)


def _backups(config: Config, now: datetime) -> Check:
    from db.backup import list_backups

    folder = backup_dir(config)
    backups = list_backups(folder)
    data = {"dir": str(folder), "count": len(backups)}
    if not backups:
        return Check("backups", "warn", Msg("doctor.backups.none", {"dir": str(folder)}), data)
    newest = backups[0]
    age = local(now).replace(tzinfo=None) - newest.taken_at  # names are on the institute's clock (db/backup.py)
    hours = max(0, int(age.total_seconds() // 3600))
    shown_age = Msg("doctor.age.days", {"n": hours // 24}) if hours >= 48 else Msg("doctor.age.hours", {"n": hours})
    values = {"when": f"{newest.taken_at:%Y-%m-%d %H:%M}", "age": shown_age, "count": len(backups)}
    data.update(newest=str(newest.path), age_hours=hours)
    if age > BACKUP_MAX_AGE:
        return Check("backups", "warn", Msg("doctor.backups.old", values), data)
    return Check("backups", "ok", Msg("doctor.backups.ok", values), data)


def backup_dir(config: Config) -> Path:
    """Where `kiosk backup`, the daily timer and the upgrade on start put backups."""
    return config.data_dir / "backups"


def _size(n: int) -> str:
    return f"{n / 1024 ** 3:.1f} GB" if n >= 1024 ** 3 else f"{n / 1024 ** 2:.0f} MB"


def dumps(checks: list[Check]) -> str:
    return json.dumps(to_json(checks), ensure_ascii=False, indent=2)
