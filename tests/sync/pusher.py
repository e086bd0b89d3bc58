"""A kiosk's sync loop in a process of its own, for the kill -9 test (tests/sync/test_faults.py).

    python -m tests.sync.pusher DB URL [--batch N] [--until-empty]

Opens the kiosk database at DB (already enrolled), then runs `kiosk.sync.loop.sync_pass` against
URL (central, or a proxy in front of it) pass after pass, and says on stdout, one flushed line
each, what it is about to do and what it has done, so the test can pick its moment to kill:

    ready
    push N FIRST_UID     before a batch goes out
    answered N           central's answer came back
    recorded N           its acknowledgements are committed here
    pass PUSHED WAITING  a pass ended; WAITING events not yet acknowledged
    failed KIND          a pass failed (SyncError); the loop goes on
    done                 --until-empty, and nothing is waiting: exit 0
"""

from __future__ import annotations

import argparse
import asyncio
import sys


def say(*words) -> None:
    print(*words, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("url")
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--until-empty", action="store_true")
    parser.add_argument("--max-passes", type=int, default=1000)
    args = parser.parse_args(argv)

    from db.connection import open_database
    from db.models import Device
    from kiosk.sync.client import Central, SyncError
    from kiosk.sync.enrolment import enrolment
    from kiosk.sync.loop import sync_pass
    from kiosk.sync.outbox import record_push

    db = open_database(args.db)
    enrolled = enrolment()
    own_uid = Device.select().order_by(Device.id).first().uid
    client = Central(args.url, enrolled.token, timeout=10)

    async def db_call(fn, *a):
        result = fn(*a)
        if fn is record_push:
            say("recorded", len(a[0].acked))
        return result

    async def net_call(fn, *a):
        if fn == client.push:
            say("push", len(a[0]), a[0][0]["uid"])
        result = fn(*a)
        if fn == client.push:
            say("answered", len(result.acked))
        return result

    say("ready")
    try:
        for _ in range(args.max_passes):
            try:
                report = asyncio.run(sync_pass(client, db_call, own_uid, net_call=net_call, batch=args.batch))
            except SyncError as e:
                say("failed", e.kind)
                continue
            say("pass", report.pushed, report.backlog.waiting)
            if args.until_empty and report.backlog.waiting == 0:
                say("done")
                return 0
        return 1
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main())
