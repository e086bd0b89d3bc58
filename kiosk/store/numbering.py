"""A ticket number's day sequence (kiosk/domain/ids.py ticket_number: PREFIX-YYMMDD-NNNN), kept
in a named counter per device prefix and institute day, bumped inside the registration's
transaction (kiosk/store/registration.py).

After `kiosk restore`: the tickets this node numbered after the backup was taken are not in the
backup, but their customers hold them, and central holds them under their numbers. Their numbers
must not be issued again, so today's sequence jumps: to at least RESTORE_JUMP (the next number
is 5001 or more: a lobby kiosk issues a few hundred a day, and a number from 5001 on says "after
a restore" to whoever reads it), and to RESTORE_MARGIN past the highest sequence known (the
backup's own counter and the replaced database's, when that one can still be read: a second
restore on the same day goes on past the first). Only today's sequence can collide: a number
carries its day, and no day before today gets new numbers.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

from db.models import Counter, Device, database_proxy
from kiosk.domain.clock import today
from kiosk.domain.ids import ticket_number

RESTORE_JUMP = 5000
RESTORE_MARGIN = 1000


def counter_name(prefix: str, day: date) -> str:
    return f"ticket:{prefix}:{day.year:04d}{day.month:02d}{day.day:02d}"  # %Y%m%d, without strftime


def issued_today_in(path: Path, now: datetime | None = None) -> int:
    """Today's highest sequence in another database file of this node (read-only), 0 if the
    file cannot be read (damaged, missing) or numbered nothing today."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
    except sqlite3.Error:
        return 0
    try:
        (prefix,) = conn.execute("SELECT prefix FROM device ORDER BY id LIMIT 1").fetchone()
        row = conn.execute("SELECT value FROM counter WHERE name = ?", (counter_name(prefix, today(now)),)).fetchone()
        return row[0] if row else 0
    except (sqlite3.Error, TypeError):  # TypeError: no device row
        return 0
    finally:
        conn.close()


def jump_after_restore(issued_elsewhere: int = 0, now: datetime | None = None) -> tuple[str, int] | None:
    """Move today's sequence of the (just restored) open database past every number this node
    may have issued today (see the module's docstring). Returns the next number it will issue
    and the highest sequence known before the jump; None if the database has no device yet
    (it never numbered anything)."""
    device = Device.select().order_by(Device.id).first()
    if device is None:
        return None
    day = today(now)
    name = counter_name(device.prefix, day)
    with database_proxy.atomic():
        row = Counter.get_or_none(Counter.name == name)
        known = max(row.value if row else 0, issued_elsewhere)
        value = max(RESTORE_JUMP, known + RESTORE_MARGIN)
        Counter.insert(name=name, value=value).on_conflict_replace().execute()
    return ticket_number(device.prefix, day, value + 1), known
