"""Backups of the kiosk database, putting one back, and naming what is wrong with a file.

A backup is made with SQLite's online backup API (`sqlite3.Connection.backup`): one read
transaction copies every page, so the copy is consistent while the kiosk runs and writes
(WAL: writers are not held up). It is written under a temporary name in the target folder,
switched to a rollback journal (one self-contained file), checked with `PRAGMA
integrity_check`, fsynced, and only then renamed; a failure leaves no file behind and never
touches older backups. Backups hold customers' names and phone numbers: the folder is made
0700 and each file 0600.

Names (the institute's time, kiosk/domain/clock.py, never the machine's zone):
`kiosk-YYYYMMDD-HHMMSS.sqlite3` for plain backups (`kiosk backup`, the
daily timer); `...-before-upgrade.sqlite3` made before a schema upgrade, and
`...-before-restore.sqlite3` made of the database a restore replaces. `rotate` deletes plain
backups only: it keeps the newest KEEP, and of the older ones the newest of each calendar
week for WEEKLY weeks. The before-* copies are never deleted automatically.

`restore` refuses while anything holds the database. No pid file (it would go stale after a
kill -9): SQLite tells by itself. In WAL mode every open connection keeps a SHARED lock on the
database file for as long as it is open, idle or not, so an EXCLUSIVE lock asked for without
waiting fails at once while the kiosk, the desk or any `kiosk` command has the file open.
The new content goes in through the backup API into that locked connection: one
transaction, so a crash mid-way leaves the old database.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kiosk.domain.clock import local, utc_now

from .migrations import LATEST

RESERVE_BYTES = 32 * 1024 * 1024  # a backup must leave this much free: the kiosk still has to write
KEEP, WEEKLY = 7, 4
REASONS = ("upgrade", "restore")
_NAME = re.compile(r"kiosk-(\d{8}-\d{6})(?:-before-(upgrade|restore))?(?:-(\d+))?\.sqlite3")

# SQLite primary result codes -> what is wrong, in words a person can act on.
_CODES = {13: "full", 8: "readonly", 3: "readonly", 11: "corrupt", 26: "corrupt", 5: "locked", 6: "locked",
          14: "cantopen", 10: "io"}
_TEXTS = (("disk is full", "full"), ("readonly database", "readonly"), ("read-only", "readonly"),
          ("malformed", "corrupt"), ("not a database", "corrupt"), ("database is locked", "locked"),
          ("unable to open", "cantopen"), ("disk i/o error", "io"))
_ERRNOS = {errno.ENOSPC: "full", errno.EDQUOT: "full", errno.EFBIG: "full", errno.EROFS: "readonly",
           errno.EACCES: "readonly", errno.EPERM: "readonly", errno.EIO: "io"}
PROBLEMS = ("full", "readonly", "corrupt", "locked", "cantopen", "io")


def problem_kind(error: BaseException) -> str | None:
    """full | readonly | corrupt | locked | cantopen | io when `error` (or one it wraps or
    interrupted) says the file or the disk is the problem; None for anything else (a bug).

    peewee hides SQLITE_FULL behind its own "cannot rollback - no transaction is active"
    (SQLite has already rolled back); the original is found in the exception's context."""
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        e = todo.pop(0)
        if id(e) in seen or len(seen) > 20:
            continue
        seen.add(id(e))
        code = getattr(e, "sqlite_errorcode", None)
        if isinstance(code, int) and (code & 0xFF) in _CODES:
            return _CODES[code & 0xFF]
        if isinstance(e, OSError) and e.errno in _ERRNOS:
            return _ERRNOS[e.errno]
        text = str(e).lower()
        for words, kind in _TEXTS:
            if words in text and "cannot rollback" not in text:
                return kind
        todo.extend(x for x in (*e.args, e.__cause__, e.__context__) if isinstance(x, BaseException))
    return None


def problem_of_file(error: BaseException, path: Path) -> str | None:
    """problem_kind, told more exactly for a file: a WAL database on a read-only disk or in a
    folder it may not write to cannot even be opened (it needs its -shm file): "readonly"."""
    kind = problem_kind(error)
    path = Path(path)
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    return "readonly" if kind == "cantopen" and path.exists() and not writable else kind


class BackupError(Exception):
    """A backup or a restore did not happen; nothing was changed. `kind` is one of PROBLEMS or
    missing | in_use | not_kiosk | too_new | damaged_file (a file to restore from) | low_space;
    `values` fill the message's blanks.
    The message is plain English for logs; it names files, never their content."""

    def __init__(self, kind: str, message: str, **values) -> None:
        super().__init__(message)
        self.kind = kind
        self.values = values


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime  # the institute's time, naive, from the name
    reason: str | None  # None: a plain backup; "upgrade" | "restore": made before one

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def list_backups(directory: Path) -> list[Backup]:
    """The backups in `directory`, newest first (temporary files are not backups)."""
    found = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    for name in names:
        match = _NAME.fullmatch(name)
        if match:
            taken = datetime.strptime(match[1], "%Y%m%d-%H%M%S")
            found.append((taken, int(match[3] or 0), Backup(Path(directory) / name, taken, match[2])))
    found.sort(key=lambda x: x[:2], reverse=True)
    return [b for *_, b in found]


def rotate(directory: Path, keep: int = KEEP, weekly: int = WEEKLY) -> list[Path]:
    """Delete plain backups beyond the newest `keep` and, of the older ones, the newest of
    each week for `weekly` weeks. Returns what was deleted."""
    if keep < 1:
        raise ValueError("keep at least one backup")
    plain = [b for b in list_backups(directory) if b.reason is None]
    kept = {b.path for b in plain[:keep]}
    weeks: list[tuple[int, int]] = []
    for b in plain[keep:]:
        iso = b.taken_at.isocalendar()
        week = (iso.year, iso.week)
        if week not in weeks and len(weeks) < weekly:
            weeks.append(week)
            kept.add(b.path)
    removed = []
    for b in plain:
        if b.path not in kept:
            b.path.unlink(missing_ok=True)
            removed.append(b.path)
    if removed:
        _fsync_dir(directory)
    return removed


def integrity(conn: sqlite3.Connection) -> str:
    """"ok", or the first problems PRAGMA integrity_check names (or the error it stopped at)."""
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check(5)").fetchall()]
    except sqlite3.DatabaseError as e:
        if problem_kind(e) != "corrupt":
            raise
        return str(e)
    return "ok" if rows == ["ok"] else "; ".join(rows)[:300]


def backup_database(source: Path | sqlite3.Connection, directory: Path, *, reason: str | None = None,
                    check: bool = True, now: datetime | None = None, reserve: int | None = None) -> Path:
    """Copy the database (a path, or an open connection) to a new backup in `directory`.
    `check=False` keeps a copy even of a damaged database (before a restore replaces it)."""
    if reason is not None and reason not in REASONS:
        raise ValueError(f"unknown backup reason {reason!r}")
    directory = Path(directory)
    if isinstance(source, sqlite3.Connection):
        src, label = source, "the database"
    else:
        label = str(source)
        if not Path(source).is_file():
            raise BackupError("missing", f"{source}: no database file to back up", file=str(source))
        src = _connect(source)
    try:
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            free = shutil.disk_usage(directory).free
        except OSError as e:
            raise _error(e, f"cannot write to the backup folder {directory}") from None
        try:
            size = src.execute("PRAGMA page_count").fetchone()[0] * src.execute("PRAGMA page_size").fetchone()[0]
        except sqlite3.Error as e:
            raise _error(e, f"{label}: cannot be read") from None
        reserve = RESERVE_BYTES if reserve is None else reserve
        if free < size + reserve:
            raise BackupError("low_space", f"{directory}: {_mb(free)} free, a backup needs {_mb(size + reserve)}",
                              dir=str(directory), free=_mb(free), need=_mb(size + reserve))
        final = _new_name(directory, now or _now(), reason)
        tmp = directory / f".{final.name}.tmp"
        try:
            _copy(src, tmp, check=check)
            os.replace(tmp, final)
            _fsync_dir(directory)
        except BaseException:
            for leftover in (tmp, Path(f"{tmp}-journal")):
                leftover.unlink(missing_ok=True)
            raise
        return final
    except (sqlite3.Error, OSError) as e:
        raise _error(e, f"backup of {label} into {directory} failed") from None
    finally:
        if src is not source:
            src.close()


def _copy(src: sqlite3.Connection, tmp: Path, *, check: bool) -> None:
    dest = sqlite3.connect(tmp, isolation_level=None)
    try:
        os.chmod(tmp, 0o600)
        src.backup(dest)  # all pages in one step: one consistent read transaction
        dest.execute("PRAGMA journal_mode=DELETE")  # the copy says WAL, like its source: one file instead
        if check:
            problems = integrity(dest)
            if problems != "ok":
                raise BackupError("corrupt", f"the copy fails its integrity check ({problems}): the database "
                                  "is damaged; no backup was kept, older ones are untouched")
    finally:
        dest.close()
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())


def check_file(path: Path) -> int:
    """A file fit to restore from: a kiosk database, intact, of a schema this software knows.
    Returns its schema version; reads without writing."""
    path = Path(path)
    if not path.is_file():
        raise BackupError("missing", f"{path}: no such file", file=str(path))
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as e:
        raise _error(e, f"{path}: cannot be opened") from None
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        problems = integrity(conn)
    except sqlite3.DatabaseError as e:
        kind = problem_kind(e)
        if kind == "corrupt" and getattr(e, "sqlite_errorcode", 0) & 0xFF == 26:
            raise BackupError("not_kiosk", f"{path}: not an SQLite database", file=str(path)) from None
        if kind == "corrupt":
            raise BackupError("damaged_file", f"{path}: damaged ({e})", file=str(path)) from None
        raise _error(e, f"{path}: cannot be read") from None
    finally:
        conn.close()
    if problems != "ok":
        raise BackupError("damaged_file", f"{path}: damaged ({problems})", file=str(path))
    if version < 1 or "device" not in tables:
        raise BackupError("not_kiosk", f"{path}: not a kiosk database", file=str(path))
    if version > LATEST:
        raise BackupError("too_new", f"{path}: schema version {version}, this software knows up to {LATEST}",
                          file=str(path), found=version, latest=LATEST)
    return version


@dataclass(frozen=True)
class Restored:
    version: int  # the restored file's schema version (an older one is upgraded at the next start)
    kept: Path | None  # the backup of the database it replaced; None if there was none


def restore(source: Path, database: Path, backup_dir: Path) -> Restored:
    """Put `source` in the place of `database`: refused while anything has the database open;
    the current database is first kept in `backup_dir`; one transaction."""
    source, database = Path(source), Path(database)
    version = check_file(source)
    if database.exists() and database.resolve() == source.resolve():
        raise BackupError("in_use", f"{source} is the database itself")
    existed = database.exists()
    database.parent.mkdir(parents=True, exist_ok=True)
    live = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        try:
            live.execute("PRAGMA locking_mode=EXCLUSIVE")  # kept until close: nobody gets in meanwhile
            live.execute("BEGIN EXCLUSIVE")
            live.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            if problem_kind(e) == "locked":
                raise BackupError("in_use", f"{database} is in use by another program") from None
            if problem_kind(e) != "corrupt":
                raise _error(e, f"{database}: cannot be locked") from None
            live.close()
            return _replace_unreadable(source, database, backup_dir, version)
        kept = backup_database(live, backup_dir, reason="restore", check=False) if existed else None
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=5)
        try:
            live.execute("PRAGMA journal_mode=DELETE")  # a page size of its own is fine in rollback mode
            src.backup(live)  # one write transaction into the locked database
            live.execute("PRAGMA journal_mode=WAL")
            problems = integrity(live)
        except sqlite3.Error as e:
            raise _error(e, f"restoring {source} into {database} failed; the database was not changed") from None
        finally:
            src.close()
        if problems != "ok":
            raise BackupError("corrupt", f"{database}: restored but fails its integrity check ({problems}); "
                              f"the previous database is {kept}")
        return Restored(version, kept)
    finally:
        live.close()


def _replace_unreadable(source: Path, database: Path, backup_dir: Path, version: int) -> Restored:
    """The database's header is unreadable (SQLite cannot even lock it, so nothing can be using
    it): its files are moved aside as they are, and a copy of `source` is renamed in place."""
    backup_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    kept = _new_name(backup_dir, _now(), "restore")
    tmp = database.parent / f".{database.name}.restore.tmp"
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=5)
        try:
            _copy(src, tmp, check=True)
        finally:
            src.close()
        shutil.move(database, kept)
        os.chmod(kept, 0o600)
        for suffix in ("-wal", "-shm"):
            side = Path(f"{database}{suffix}")
            if side.exists():
                shutil.move(side, Path(f"{kept}{suffix}"))
        os.replace(tmp, database)
        _fsync_dir(database.parent)
    except (sqlite3.Error, OSError) as e:
        tmp.unlink(missing_ok=True)
        raise _error(e, f"restoring {source} into {database} failed") from None
    return Restored(version, kept)


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=10, isolation_level=None)
        conn.execute("PRAGMA query_only=1")
    except sqlite3.Error as e:
        raise _error(e, f"{path}: cannot be opened") from None
    return conn


def _now() -> datetime:
    """Now on the institute's clock, naive, as a backup's name carries it."""
    return local(utc_now()).replace(tzinfo=None)


def _new_name(directory: Path, when: datetime, reason: str | None) -> Path:
    stem = f"kiosk-{when:%Y%m%d-%H%M%S}" + (f"-before-{reason}" if reason else "")
    path, n = directory / f"{stem}.sqlite3", 1
    while path.exists():
        path, n = directory / f"{stem}-{n}.sqlite3", n + 1
    return path


def _error(e: BaseException, message: str) -> BackupError:
    if isinstance(e, BackupError):
        return e
    return BackupError(problem_kind(e) or "io", f"{message}: {e}")


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
