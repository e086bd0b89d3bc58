"""Per-device quotas: how often a device may push and pull, and how many bytes it may push.

Each is a token bucket per device: full at first, refilled steadily, so a device may spend a
whole bucket at once (a desk back from a week offline drains its queue in one go) and then
as fast as it refills. Over quota: 429 `{"error": "quota", "detail"}` with `Retry-After`
(the seconds until the bucket holds enough); the device treats a 429 as "offline, retry
later" (kiosk/sync/client.py) and keeps its outbox and its cursor, so nothing is lost.

The push buckets live in the device's row (central/push_quota.py, schema 9), taken by the
UPDATE its push's transaction begins with anyway: they hold across `--workers N` processes and
restarts, and cost the push no extra statement. The pull bucket lives in this process (a pull is
a read, and a write per pull would cost more than the pull): with `--workers N` a device may
pull up to N times the figure, and a restart fills it again.

Why these figures (sizes measured with kiosk/store/registration.py: 1.1 KB for one instrument,
2.4 KB for five, 34 KB for 100; a desk's intake of 100 lines 93 KB):
- pushes: 60 a minute. A kiosk pushes a few times a minute; a desk draining a week offline
  (~12,000 events) needs ~25 pushes of 500.
- bytes pushed: 32 MB an hour, 128 MB a day. A busy desk's day is ~3 MB and a kiosk's under
  1 MB: a week's backlog drains at once, a month's in a day; a token can no longer store
  ~15 MB a push for ever.
- pulls: 600 a minute (10 a second sustained). A new desk catching up pulls pages of 500: a
  minute of pulls at once is 300,000 changes, then 5,000 changes a second, faster than a desk
  applies them; a desk polling every 10-30 s uses a few a minute.

`CENTRAL_QUOTAS` (central/settings.py) changes them or turns them off (benchmarks).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Annotated

from fastapi import Depends, Request

from ..auth import Device
from ..push_quota import Limit, OverQuota, PushQuota
from .deps import Me

__all__ = ["MB", "Meter", "OverQuota", "Puller", "Quotas"]

MB = 1024 * 1024


@dataclass(frozen=True)
class Quotas:
    """The figures, per device; 0 = no limit."""

    pushes_per_minute: int = 60
    push_mb_per_hour: int = 32
    push_mb_per_day: int = 128
    pulls_per_minute: int = 600

    @classmethod
    def parse(cls, text: str) -> Quotas:
        """`off`, or `name=N,...` (names as above) over the defaults. ValueError if unreadable."""
        text = text.strip()
        if text.lower() == "off":
            return cls(**{f.name: 0 for f in fields(cls)})
        known = {f.name for f in fields(cls)}
        given = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, value = item.partition("=")
            if name.strip() not in known or not value.strip().isdigit():
                raise ValueError(f"CENTRAL_QUOTAS: {item!r}: expected off or name=N with name one of {sorted(known)}")
            given[name.strip()] = int(value)
        return cls(**given)


class _Bucket:
    def __init__(self, limit: Limit, now: float):
        self.limit, self.rate = limit, limit.rate
        self.level, self.at = float(limit.capacity), now

    def wait(self, amount: float, now: float) -> float:
        """Seconds until `amount` can be taken (0: now)."""
        self.level = min(self.limit.capacity, self.level + max(0.0, now - self.at) * self.rate)
        self.at = now
        return max(0.0, (amount - self.level) / self.rate)


class Meter:
    """A device's quotas: `pushes` in its row (central/push_quota.py), pulls in this process
    (thread-safe). `clock`: wall-clock seconds (the pushes' buckets outlive the process)."""

    def __init__(self, quotas: Quotas, clock: Callable[[], float] = time.time):
        self.quotas, self.clock = quotas, clock
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()
        q = quotas
        self.pushes = PushQuota({
            "quota_pushes": Limit(q.pushes_per_minute, 60, f"{q.pushes_per_minute} pushes a minute"),
            "quota_push_hour": Limit(q.push_mb_per_hour * MB, 3600, f"{q.push_mb_per_hour} MB pushed an hour"),
            "quota_push_day": Limit(q.push_mb_per_day * MB, 86400, f"{q.push_mb_per_day} MB pushed a day")}, clock)
        self._pulls = Limit(q.pulls_per_minute, 60, f"{q.pulls_per_minute} pulls a minute")

    def pull(self, device: Device) -> None:
        """One pull, or OverQuota (then nothing is counted)."""
        if not self._pulls.capacity:
            return
        with self._lock:
            now = self.clock()
            bucket = self._buckets.get(device.id)
            if bucket is None:
                bucket = self._buckets[device.id] = _Bucket(self._pulls, now)
            wait = bucket.wait(1, now)
            if wait > 0:
                raise OverQuota(f"over this device's quota of {self._pulls.says}; retry in {math.ceil(wait)} s",
                                wait, device.uid)
            bucket.level -= 1


def meter(request: Request) -> Meter:
    return request.app.state.meter


def pull_allowed(me: Me, request: Request) -> Device:
    meter(request).pull(me)
    return me


Puller = Annotated[Device, Depends(pull_allowed)]
"""The device asking for changes, within its pull quota."""
