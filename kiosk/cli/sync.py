"""`kiosk enroll` (join the central system) and `kiosk sync` (push and pull, once or for ever)."""

from __future__ import annotations

import json
import logging

from kiosk.cli.common import CommandError, open_node, open_node_with_key
from kiosk.domain.clock import local
from kiosk.i18n import date_text, t
from kiosk.settings.config import Config


def cmd_enroll(args, config: Config) -> int:
    """Trade the one-time code from `kiosk central add-device` for this device's token, signed
    with the device's key to prove it is this device."""
    from kiosk.store.registration import ensure_device
    from kiosk.sync.client import SyncError
    from kiosk.sync.enrolment import enroll

    open_node_with_key(config)
    device = ensure_device(config.device_prefix)
    try:
        done = enroll(args.url, args.code, device)
    except (SyncError, ValueError) as e:
        raise CommandError("cli.enroll_failed", str(e), config.language) from None
    # Read back just after enroll() stored it: central's answer always has an expiry
    # (kiosk/sync/client.py _token); only a token from before tokens expired lacks one.
    assert done.expires_at is not None
    print(t("cli.enrolled", config.language, url=done.url, role=done.role, device=device.uid,
            expires=date_text(local(done.expires_at), config.language)))
    return 0


async def _direct(fn, *args):
    return fn(*args)


def cmd_sync(args, config: Config) -> int:
    """One pass (push, then pull), or `--daemon`: passes for ever, with backoff when offline."""
    import asyncio
    import time

    from kiosk.store.registration import ensure_device
    from kiosk.sync.client import Central, SyncError, retry_delay
    from kiosk.sync.enrolment import enrolment
    from kiosk.sync.loop import sync_pass

    open_node(config)
    lang = args.lang or config.language
    if args.parked:
        _print_parked(lang)
        return 0
    enrolled = enrolment()
    if enrolled is None:
        raise CommandError("cli.not_enrolled", str(config.database), lang)
    central, own = Central(enrolled.url, enrolled.token), ensure_device().uid
    failures = 0
    while True:
        try:
            report = asyncio.run(sync_pass(central, _direct, own, net_call=_direct))
        except Exception as e:  # the daemon never stops: said, then tried again with backoff
            if not args.daemon:
                if isinstance(e, SyncError):
                    raise CommandError("cli.sync_failed", str(e), lang) from None
                raise
            if not isinstance(e, SyncError):  # not the network: a bug or the disk, logged whole
                logging.getLogger(__name__).exception("sync pass failed; tried again later")
            failures += 1
            time.sleep(retry_delay(e, failures))
            continue
        failures = 0
        assert report.backlog is not None  # sync_pass counts it last, in every pass it returns from
        print(json.dumps({"pushed": report.pushed, "parked": report.parked, "pulled": report.pulled,
                          "waiting": report.backlog.waiting, "parked_total": report.backlog.parked,
                          "changes_parked": report.applied.parked,
                          "changes_parked_total": report.backlog.changes_parked}), flush=True)
        if not args.daemon:
            return 0
        time.sleep(args.interval)


def _print_parked(lang: str) -> None:
    """What central refused of this node's pushes (uid, kind, reason), then the changes this
    node set aside (seq, or - for a scanned code; kind; reason; when), each under a heading;
    nothing at all when there is neither."""
    from kiosk.store.parked import parked
    from kiosk.sync.outbox import parked_events

    refused, aside = parked_events(), parked()
    if refused:
        print(t("cli.parked.refused", lang, count=len(refused)))
        for uid, kind, reason in refused:
            print(f"{uid}\t{kind}\t{reason}")
    if aside:
        print(t("cli.parked.aside", lang, count=len(aside)))
        for change in aside:
            seq = "-" if change.seq is None else change.seq
            print(f"{seq}\t{change.kind or '?'}\t{change.reason}\t{local(change.parked_at):%Y-%m-%d %H:%M}")


def register(sub) -> None:
    p = sub.add_parser("enroll", help="join the central system with a one-time code from `kiosk central add-device`")
    p.add_argument("url", help="the central system, e.g. http://central.local:8400")
    p.add_argument("code")
    p.set_defaults(func=cmd_enroll)
    p = sub.add_parser("sync", help="push the outbox and pull changes once (the running app does this by itself)")
    p.add_argument("--daemon", action="store_true", help="keep syncing; back off while the central system is away")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between passes with --daemon")
    p.add_argument("--parked", action="store_true",
                   help="list the events the central system refused and the changes this device set aside")
    p.add_argument("--lang", choices=("zh", "en"))
    p.set_defaults(func=cmd_sync)
