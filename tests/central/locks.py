"""Two writers at once on PostgreSQL: wait until the second one waits for a lock."""

from __future__ import annotations

import time


def until_it_waits(storage, waiting: dict, done, timeout: float = 10) -> None:
    """Return once the backend whose pid is `waiting["pid"]` waits on a lock (or `done` is set,
    or `timeout` seconds passed: the caller's assertion then says what happened)."""
    deadline = time.monotonic() + timeout
    with storage.read() as watch:
        while time.monotonic() < deadline and not done.is_set():
            pid = waiting.get("pid")
            if pid and watch.one("SELECT wait_event_type FROM pg_stat_activity WHERE pid = ?", (pid,))[0] == "Lock":
                return
