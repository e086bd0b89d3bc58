"""Changes this node could not apply, kept aside with why: a change pulled from the central
system that failed here (kiosk/sync/feed.py), or a ticket code scanned at a desk whose number
another ticket here holds (kiosk/store/desk.py). Nothing is lost and nothing stops: the
change is kept whole, so a person (`kiosk sync --parked`, `kiosk doctor`) or a later version
can deal with it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from db.models import ParkedChange, utc_now

MAX_REASON = 500


@dataclass(frozen=True)
class Parked:
    seq: int | None  # the feed's seq; None: a scanned code
    kind: str | None
    reason: str
    parked_at: datetime


def park(seq: int | None, kind: str | None, data: object, reason: str, now: datetime | None = None) -> None:
    """Keep a change with the reason. The same feed change (its seq) is kept once; the same
    scanned code too."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)
    if seq is None and ParkedChange.select().where(ParkedChange.seq.is_null() & (ParkedChange.kind == kind)
                                                   & (ParkedChange.data == text)).exists():
        return
    ParkedChange.insert(seq=seq, kind=kind, data=text, reason=reason[:MAX_REASON],
                        parked_at=now or utc_now()).on_conflict_ignore().execute()


def parked() -> list[Parked]:
    """Every change kept aside, oldest first: what an operator looks at."""
    return [Parked(row.seq, row.kind, row.reason, row.parked_at)
            for row in ParkedChange.select().order_by(ParkedChange.id)]


def parked_count() -> int:
    return ParkedChange.select().count()
