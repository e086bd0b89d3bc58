"""A device's push quota, kept in its own `device` row (schema 9), so that it holds across
`--workers N` processes and restarts (central/api/quotas.py says the figures and why).

Each limit is a token bucket: `quota_pushes` (pushes), `quota_push_hour` and `quota_push_day`
(bytes) hold the levels at `quota_at` (epoch seconds; NULL: a full bucket). A push's cost is
taken by the UPDATE of the pushing device's row that its transaction begins with anyway
(central/ingest.py apply): the levels are refilled for the time since `quota_at`, capped at a
full bucket, less the push, all in that one statement, which returns them. A level below 0:
over quota, the transaction rolls back (nothing stored, nothing counted) and the device gets a
429 with the seconds until the bucket holds enough. The row is locked by that UPDATE, so two
workers' pushes from one device are counted one after the other, never both from the same level.

A push that stores nothing (malformed, or refused by the rules) is counted all the same, in a
transaction of its own (`charge`): a token cannot push garbage without a limit.

The clock is the wall clock (epoch seconds), the same in every worker and after a restart; if it
goes back, no time has passed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from .storage import Storage

COLUMNS = ("quota_pushes", "quota_push_hour", "quota_push_day")
UPGRADE = ("ALTER TABLE device ADD COLUMN quota_at DOUBLE PRECISION",
           *(f"ALTER TABLE device ADD COLUMN {column} DOUBLE PRECISION" for column in COLUMNS))
EPSILON = 1e-9  # a level this far below 0 is 0 (float rounding of the refill)


class OverQuota(Exception):
    """Answered 429 with Retry-After (central/api/errors.py)."""

    def __init__(self, detail: str, retry_after: float, device_uid: str):
        super().__init__(detail)
        self.retry_after, self.device_uid = max(1, math.ceil(retry_after)), device_uid


@dataclass(frozen=True)
class Limit:
    capacity: int  # 0: no limit
    seconds: float  # to refill an empty bucket
    says: str  # in the 429's detail: "60 pushes a minute"

    @property
    def rate(self) -> float:
        return self.capacity / self.seconds


class Charge:
    """What one push costs, at the moment it was asked: `sql` goes after `SET ... ,` in the
    UPDATE of the device's row, `returning` after its RETURNING; `check` reads what it returned."""

    def __init__(self, limits: dict[str, Limit], pushes: int, size: int, now: float):
        self.live = [(column, limit) for column, limit in limits.items() if limit.capacity]
        sets, params = [], []
        for column, limit in self.live:
            # Never more than a full bucket: a push bigger than the hour's bytes passes alone.
            amount = min(pushes if column == "quota_pushes" else size, limit.capacity)
            refill = f"{column} + (CASE WHEN ? > quota_at THEN ? - quota_at ELSE 0 END) * ?"
            refill_params = (now, now, limit.rate)
            sets.append(f"{column} = (CASE WHEN {column} IS NULL OR quota_at IS NULL THEN ? "
                        f"WHEN {refill} >= ? THEN ? ELSE {refill} END) - ?")
            cap = float(limit.capacity)
            params += [cap, *refill_params, cap, cap, *refill_params, float(amount)]
        # A limit turned off: its bucket is full if it is turned on again.
        sets += [f"{column} = NULL" for column, limit in limits.items() if not limit.capacity]
        if self.live:
            sets.append("quota_at = ?")
            params.append(now)
        self.sql, self.params = ", ".join(sets), tuple(params)
        self.returning = ", ".join(column for column, _ in self.live)

    def check(self, levels, device_uid: str) -> None:
        """OverQuota if a level the UPDATE returned is below 0 (the caller's transaction must
        then roll back)."""
        waits = [(-level / limit.rate, limit) for level, (_, limit) in zip(levels, self.live, strict=True)
                 if level < -EPSILON]
        if waits:
            wait, limit = max(waits, key=lambda w: w[0])
            raise OverQuota(f"over this device's quota of {limit.says}; retry in {math.ceil(wait)} s", wait,
                            device_uid)


class PushQuota:
    """The push limits by column; `clock`: epoch seconds."""

    def __init__(self, limits: dict[str, Limit], clock: Callable[[], float] = time.time):
        self.limits, self.clock = limits, clock

    def cost(self, size: int) -> Charge | None:
        """One push of `size` bytes, now; None when no limit is set (nothing to write)."""
        if not any(limit.capacity for limit in self.limits.values()):
            return None
        return Charge(self.limits, 1, size, self.clock())

    def charge(self, storage: Storage, device_id: int, device_uid: str, size: int) -> None:
        """Count a push that stored nothing, in a transaction of its own; OverQuota if over."""
        charge = self.cost(size)
        if charge is None:
            return
        with storage.transaction() as tx:
            row = tx.one(f"UPDATE device SET {charge.sql} WHERE id = ? RETURNING {charge.returning}",
                         (*charge.params, device_id))
            if row is not None:
                charge.check(tuple(row), device_uid)
