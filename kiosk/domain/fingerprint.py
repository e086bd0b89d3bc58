"""Content hashes of what a price is computed from: a catalogue version's rows and a pricing
policy. The signed ticket code carries a short prefix of both (kiosk/domain/ticketcode.py), so a
desk that knows a ticket only from its code can tell whether its own catalogue and policy are
the ones the kiosk priced with (then its price must be the receipt's) or not (then it keeps the
receipt's figures and says why).

Pure. Computed from the content, never from an id or a database number: two nodes that
imported the same rows, or read the same policy file, get the same hash. Every field of a row
and of a policy counts, whatever columns the catalogue grows (dataclass fields, read
generically); rows in a canonical order (their own canonical text, sorted), so the order a
table was published in does not matter.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from decimal import Decimal

from kiosk.domain.catalog import FeeRow
from kiosk.domain.fees import Policy


def _plain(value):
    """A value as canonical JSON data: dataclasses by field name, mappings by sorted key, sets sorted."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, frozenset | set):
        return sorted((_plain(v) for v in value), key=_text)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value.normalize())
    return value


def _text(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def catalog_hash(rows: Iterable[FeeRow]) -> bytes:
    """SHA-256 of a catalogue version's rows, in canonical order."""
    lines = sorted(_text(_plain(row)) for row in rows)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).digest()


def policy_hash(policy: Policy) -> bytes:
    """SHA-256 of a pricing policy's content (its id alone would let an edited file pass for the same)."""
    return hashlib.sha256(_text(_plain(policy)).encode("utf-8")).digest()
