"""What a device and central agree on when a device joins and keeps its token: the message
that proves the device holds its key, and how long a token lives.

The one-time code is secret and used once, so it serves as the challenge: the device signs
the code, its uid, prefix and public key with the Ed25519 key its ticket codes are signed
with. Whoever knows a device's public key (every desk does) but not its private key cannot
enrol as it, and a signature made for one code is worth nothing with another.
"""

from __future__ import annotations

from datetime import datetime, timedelta

PROOF_CONTEXT = b"metrology-kiosk enrol v1\n"
# How long a token lives. A device that syncs renews it once less than half is left
# (`renewal_due`), so only a device offline for the whole lifetime must enrol again.
TOKEN_LIFETIME = timedelta(days=90)


def normalise_code(code: str) -> str:
    """As typed: any case, with or without the hyphens or spaces."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def proof_message(code: str, device_uid: str, prefix: str, public_key: str) -> bytes:
    """What the device signs to enrol; `public_key`: base64 of the raw 32-byte key, as sent."""
    return PROOF_CONTEXT + "\n".join((normalise_code(code), device_uid, prefix, public_key)).encode("utf-8")


def renewal_due(expires_at: datetime | None, now: datetime) -> bool:
    """Whether a device should ask for a new token: less than half its life left, or an
    expiry it does not know (a token from before tokens expired)."""
    return expires_at is None or expires_at - now < TOKEN_LIFETIME / 2
