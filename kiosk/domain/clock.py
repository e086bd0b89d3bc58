"""The institute's clock: one time zone for every date a person sees or a rule counts.

Times are stored as timezone-aware UTC. A ticket number's day, a ready date, a follow-up
deadline, lateness and every time shown are read in the institute's zone, never in the
machine's: a kiosk image or a server set to UTC must not date a customer who comes at
07:30 Beijing time on the day before. The zone is a setting (`kiosk.time_zone`, central's
$INSTITUTE_TIME_ZONE), Asia/Shanghai unless said otherwise, set once at start.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # zoneinfo (and the sysconfig it reads) loads with the first date, not before a first frame
    from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"

_zone: ZoneInfo | None = None  # None: DEFAULT_ZONE, made when first asked for


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone `name`, or ValueError in words (a typo must not shift every date)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as {DEFAULT_ZONE})") from None


def set_zone(name: str) -> None:
    global _zone
    _zone = zone_named(name)


def use_default_zone() -> None:
    """Back to DEFAULT_ZONE (known good: not read until a date needs it)."""
    global _zone
    _zone = None


def zone() -> ZoneInfo:
    global _zone
    if _zone is None:
        _zone = zone_named(DEFAULT_ZONE)
    return _zone


def utc_now() -> datetime:
    return datetime.now(UTC)


def local(moment: datetime) -> datetime:
    """`moment` on the institute's clock (a naive moment is taken as UTC, as stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone())


def today(now: datetime | None = None) -> date:
    """The institute's date at `now` (default: this instant)."""
    return local(now or utc_now()).date()


def start_of(day: date) -> datetime:
    """Midnight at the start of `day` on the institute's clock."""
    return datetime.combine(day, time(), zone())
