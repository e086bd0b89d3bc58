"""The institute's file (the kiosk's institute.toml) kept at central, in one place: loaded with
`kiosk central institute --load FILE`, stored as a version (schema 17, `institute_file`,
deduplicated by SHA-256), published to every device as ONE `institute.info` change carrying the
whole text (central/feed.py; kiosk/sync/feed.py stores it and the welcome screen shows it in
place of the kiosk's own file), and shown by the public site (central/public/info.py).

The file is checked by the devices' own parser (kiosk/domain/institute.py) before it is stored, so
a version central publishes is one every device takes (a device still checks it again, and keeps
its own file if it refuses it).

No version loaded: $CENTRAL_INSTITUTE_FILE, else the demo institute's shipped with the kiosk
(as the notices name it: central/notices/config.py).
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from kiosk.domain.clock import utc_now
from kiosk.domain.institute import InstituteFileError, InstituteInfo, parse_institute

from . import feed, settings
from .storage import Storage, ts

KIND = "institute.info"
MAX_TEXT = 64 * 1024  # bytes: the demo's is 3 KB
TABLE = """CREATE TABLE institute_file (
    id {pk},
    sha256 TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    text TEXT NOT NULL,
    loaded_at {ts} NOT NULL)"""


def parse(text: str, source: str) -> InstituteInfo:
    """InstituteFileError: too long, not TOML, or not what the devices take."""
    if len(text.encode("utf-8")) > MAX_TEXT:
        raise InstituteFileError(f"{source}: over {MAX_TEXT} bytes")
    return parse_institute(text, source)


@dataclass(frozen=True)
class Loaded:
    version: int
    sha256: str
    new: bool  # False: the same text was already a version


def load(storage: Storage, text: str, source: str) -> Loaded:
    """Checks the text (InstituteFileError, nothing written), stores it as a version and
    publishes it to every device; the same text twice is not a new version."""
    text = text.removeprefix("\ufeff")
    parse(text, source)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with storage.transaction() as tx:
        known = tx.one("SELECT id FROM institute_file WHERE sha256 = ?", (digest,))
        if known is not None:
            return Loaded(known[0], digest, False)
        version = tx.one("INSERT INTO institute_file (sha256, source, text, loaded_at) VALUES (?, ?, ?, ?) "
                         "RETURNING id", (digest, source[-200:], text, ts(utc_now())))[0]
        feed.publish(tx, KIND, data={"version": version, "sha256": digest, "text": text})
    _cache.clear()
    return Loaded(version, digest, True)


def stored(storage: Storage) -> tuple[int, str] | None:
    """The latest stored version and its text, if any."""
    with storage.read() as tx:
        row = tx.one("SELECT id, text FROM institute_file ORDER BY id DESC LIMIT 1")
    return None if row is None else (row[0], row[1])


def from_file() -> InstituteInfo:
    """$CENTRAL_INSTITUTE_FILE, else the demo institute's shipped with the kiosk."""
    path: Path | None = settings.institute_file()
    if path is None:
        return parse(files("kiosk").joinpath("data/institute.toml").read_text("utf-8"), "institute.toml")
    try:
        return parse(path.read_text("utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as e:
        raise InstituteFileError(f"{path}: {e}") from None


# Per storage (weakly: a storage closed and gone takes its entry; an id() could be reused by the next).
_cache: weakref.WeakKeyDictionary[Storage, tuple[float, InstituteInfo]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
FRESH = 10.0  # seconds a page may show the version it read before (a load clears it at once in its process)


def current(storage: Storage) -> InstituteInfo:
    """The latest stored version, else the file; re-read at most every FRESH seconds."""
    with _lock:
        hit = _cache.get(storage)
    if hit is not None and time.monotonic() - hit[0] < FRESH:
        return hit[1]
    found = stored(storage)
    info = from_file() if found is None else parse(found[1], f"institute version {found[0]}")
    with _lock:
        _cache[storage] = (time.monotonic(), info)
    return info
