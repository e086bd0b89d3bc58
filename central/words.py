"""Central's small shared vocabulary: ticket statuses and the shapes of ids. No dependencies,
so the CLI can use it without the server's extra packages."""

from __future__ import annotations

import re

# Ticket status facts, in the only order a ticket moves: the current status is the furthest.
STATUSES = ("registered", "received", "ready", "picked_up")
RANK = {name: i for i, name in enumerate(STATUSES)}

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"  # canonical, lower case
NUMBER_PATTERN = r"^[0-9A-Z]{1,8}-[0-9]{6}-[0-9]{4,6}$"  # K7Q-261124-0007 (kiosk/domain/ids.py)
_UUID_RE = re.compile(UUID_PATTERN)


def is_uuid(value) -> bool:
    return isinstance(value, str) and _UUID_RE.match(value) is not None
