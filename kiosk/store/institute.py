"""The institute's file as the central system publishes it (`institute.info` changes, schema 17
`institute_info`): stored by sync, shown by the welcome screen in place of the kiosk's own file.

A text this version's parser refuses is not stored (the change is parked with why), so the
newest stored text always parses; the kiosk's own holiday calendar is kept (it is a setting of
this machine, `holidays_file`, not part of the institute's file).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from datetime import datetime

from db.models import database_proxy
from kiosk.settings.institute import InstituteFileError, InstituteInfo, parse_institute

log = logging.getLogger(__name__)

MAX_TEXT = 64 * 1024  # bytes, as central refuses more (central/institute.py)


def store_synced(version: int, text: str, now: datetime) -> bool:
    """Keep a version central published; False when this text is here already. InstituteFileError:
    a text this kiosk cannot read (too large, not TOML, a text without both languages)."""
    if len(text.encode("utf-8")) > MAX_TEXT:
        raise InstituteFileError(f"institute version {version}: over {MAX_TEXT} bytes")
    parse_institute(text, f"institute version {version}")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if database_proxy.execute_sql("SELECT 1 FROM institute_info WHERE sha256 = ?", (digest,)).fetchone():
        return False
    database_proxy.execute_sql("INSERT INTO institute_info (version, sha256, text, received_at) VALUES (?, ?, ?, ?)",
                               (version, digest, text, now.isoformat()))
    return True


def synced_text() -> tuple[int, str] | None:
    """The newest version pulled and its text, if any."""
    row = database_proxy.execute_sql("SELECT version, text FROM institute_info ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def synced_info(local: InstituteInfo) -> InstituteInfo:
    """The newest synced version, with this kiosk's calendar; else `local` (its own file)."""
    found = synced_text()
    if found is None:
        return local
    try:
        return replace(parse_institute(found[1], f"institute version {found[0]}"), calendar=local.calendar)
    except InstituteFileError:  # stored by an older version that read it differently: the kiosk's own then
        log.warning("the synced institute file (version %s) cannot be read here: the local one is shown", found[0])
        return local
