"""Per-device quotas: how often a device may push and pull, and how many bytes it may push.

Each is a token bucket per device: full at first, refilled steadily, so a device may spend a
whole bucket at once (a desk back from a week offline drains its queue in one go) and then
as fast as it refills. Over quota: 429 `{"error": "quota", "detail"}` with `Retry-After`
(the seconds until the bucket holds enough); the device treats a 429 as "offline, retry
later" (kiosk/sync/client.py) and keeps its outbox and its cursor, so nothing is lost.

The buckets live in this process: with `--workers N` a device's requests spread over the
workers, so it may get up to N times the figures (and a restart fills them again). That
bounds what a token can do, which is the point; an exact fleet-wide count would cost a
database write per request.

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
from .deps import Me

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


class OverQuota(Exception):
    """Answered 429 with Retry-After (central/api/errors.py)."""

    def __init__(self, detail: str, retry_after: float, device_uid: str):
        super().__init__(detail)
        self.retry_after, self.device_uid = max(1, math.ceil(retry_after)), device_uid


@dataclass(frozen=True)
class _Limit:
    capacity: int  # 0: no limit
    seconds: float  # to refill an empty bucket
    says: str  # in the 429's detail: "60 pushes a minute"


class _Bucket:
    def __init__(self, limit: _Limit, now: float):
        self.limit, self.rate = limit, limit.capacity / limit.seconds
        self.level, self.at = float(limit.capacity), now

    def wait(self, amount: float, now: float) -> float:
        """Seconds until `amount` can be taken (0: now)."""
        self.level = min(self.limit.capacity, self.level + (now - self.at) * self.rate)
        self.at = now
        return max(0.0, (amount - self.level) / self.rate)


class Meter:
    """Every device's buckets, in this process; thread-safe. `clock`: monotonic seconds."""

    def __init__(self, quotas: Quotas, clock: Callable[[], float] = time.monotonic):
        self.quotas, self.clock = quotas, clock
        self._buckets: dict[tuple[int, str], _Bucket] = {}
        self._lock = threading.Lock()
        q = quotas
        self._limits = {
            "pushes": _Limit(q.pushes_per_minute, 60, f"{q.pushes_per_minute} pushes a minute"),
            "push_hour": _Limit(q.push_mb_per_hour * MB, 3600, f"{q.push_mb_per_hour} MB pushed an hour"),
            "push_day": _Limit(q.push_mb_per_day * MB, 86400, f"{q.push_mb_per_day} MB pushed a day"),
            "pulls": _Limit(q.pulls_per_minute, 60, f"{q.pulls_per_minute} pulls a minute")}

    def push(self, device: Device, size: int) -> None:
        """One push of `size` bytes, or OverQuota (then nothing is counted)."""
        self._take(device, {"pushes": 1, "push_hour": size, "push_day": size})

    def pull(self, device: Device) -> None:
        self._take(device, {"pulls": 1})

    def _take(self, device: Device, amounts: dict[str, int]) -> None:
        with self._lock:
            now = self.clock()
            taking = []
            for name, amount in amounts.items():
                limit = self._limits[name]
                if limit.capacity:
                    # Never more than a full bucket: a push bigger than the hour's bytes passes alone.
                    taking.append((self._bucket(device.id, name, limit, now), min(amount, limit.capacity)))
            waits = [(bucket.wait(amount, now), bucket) for bucket, amount in taking]
            wait, bucket = max(waits, key=lambda w: w[0], default=(0.0, None))
            if bucket is not None and wait > 0:
                raise OverQuota(f"over this device's quota of {bucket.limit.says}; retry in {math.ceil(wait)} s",
                                wait, device.uid)
            for bucket, amount in taking:
                bucket.level -= amount

    def _bucket(self, device_id: int, name: str, limit: _Limit, now: float) -> _Bucket:
        bucket = self._buckets.get((device_id, name))
        if bucket is None:
            bucket = self._buckets[device_id, name] = _Bucket(limit, now)
        return bucket


def meter(request: Request) -> Meter:
    return request.app.state.meter


def pull_allowed(me: Me, request: Request) -> Device:
    meter(request).pull(me)
    return me


Puller = Annotated[Device, Depends(pull_allowed)]
"""The device asking for changes, within its pull quota."""
