"""Central's small shared vocabulary: ticket statuses and the shapes of ids. Only the event
shapes (kiosk/domain/events.py, msgspec, a runtime dependency) besides the standard library, so
the CLI can use it without the server's extra packages."""

from __future__ import annotations

import re

from kiosk.domain.events import UUID_PATTERN  # the shape of ids, shared with the devices

# Ticket status facts, in the only order a ticket moves: the current status is the furthest.
STATUSES = ("registered", "received", "ready", "picked_up")
RANK = {name: i for i, name in enumerate(STATUSES)}

_UUID_RE = re.compile(UUID_PATTERN)

# Events (`event e`) in the order central received them: by push, then, within one push, as the
# device dated them. Where a fact may be said twice (a ticket's rating, a follow-up's close),
# the first received counts: a device cannot replace one by sending another with an earlier time.
ARRIVAL = "e.received_at, e.created_at, e.id"


def is_uuid(value) -> bool:
    return isinstance(value, str) and _UUID_RE.match(value) is not None
