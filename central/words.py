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


# What the alerts show for a reason's word (the refusals of central/trust.py and events.py, and
# what a device parks: kiosk/sync/feed.py, kiosk/store/desk.py), zh and en; an unknown word as it is.
REASONS = {
    "wrong_role": ("该角色的设备不能发送此类事件", "a device of that role may not send this kind"),
    "not_your_event": ("以其他设备的名义发送", "sent in another device's name"),
    "wrong_prefix": ("受理号不是本机的前缀", "the ticket number is not this device's prefix"),
    "bad_clock": ("设备时钟不可信", "the device's clock cannot be right"),
    "uid_taken": ("事件编号已被其他设备使用", "another device used the event id"),
    "ticket_taken": ("受理单已由其他登记占有", "another registration holds the ticket"),
    "number_taken": ("受理号已属于另一张受理单", "the number belongs to another ticket"),
    "other_site": ("属于其他站点", "belongs to another site"),
    "unknown_ticket": ("受理单未知", "unknown ticket"),
    "no_followup": ("回访单未知", "unknown follow-up"),
    "invalid": ("内容不合格式", "not in the expected shape"),
    "unknown_kind": ("新版本的事件类型，待升级", "a newer version's kind: upgrade the device"),
    "malformed": ("内容不合格式", "not in the expected shape"),
    "conflict": ("与本机数据冲突", "conflicts with what the device holds"),
    "price_mismatch": ("同一收费标准算出的金额与票据不符", "priced differently from its receipt"),
}


def reason_words(word: str) -> str:
    """A reason's word for a person: 受理号已属于另一张受理单 · the number belongs to another ticket."""
    zh, en = REASONS.get(word, (word, ""))
    return f"{zh} · {en}" if en else word
