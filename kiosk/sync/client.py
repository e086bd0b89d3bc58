"""The central system's HTTP API as the device calls it (central/README-API.md), one request at
a time, with the standard library's http.client: the kiosk process carries no HTTP stack
beyond what Python has (memory, start-up). No database here.
"""

from __future__ import annotations

import base64
import http.client
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from kiosk.domain.enrolment import proof_message

PULL_LIMIT = 500
PARKED_HEADER = "X-Parked"  # events=N;changes=N;reasons=a,b (central/devices.py parse_parked)
TIMEOUT = 15.0  # seconds for one request; a dead network fails over to backoff, never hangs


class SyncError(Exception):
    """`kind`: offline (no answer, reset, timeout, 5xx) | auth (401/403: enrol again) |
    too_large (413: the batch, see kiosk/sync/loop.py) | refused (another 4xx) | bad_response
    (an answer that is not the contract's). `error`: central's stable word, if it gave one
    (e.g. `token_expired`)."""

    def __init__(self, kind: str, message: str, error: str | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.kind, self.error = kind, error
        self.retry_after = retry_after  # seconds central asked for (Retry-After on a 429 or 503)


@dataclass(frozen=True)
class Token:
    token: str
    role: str  # at enrolment; "" from a renewal
    expires_at: datetime


@dataclass(frozen=True)
class PushAnswer:
    acked: list[str]
    rejected: dict[str, str]  # uid -> why


class Central:
    """The central system's HTTP API, one request at a time (stdlib http.client)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = TIMEOUT):
        parts = urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout
        self.parked: str | None = None  # see changes()
        self._parts = parts
        self._host = parts.hostname  # a str: checked above

    def request(self, method: str, path: str, body: dict | None = None,
                extra: dict[str, str] | None = None) -> tuple[int, object]:
        p = self._parts
        cls = http.client.HTTPSConnection if p.scheme == "https" else http.client.HTTPConnection
        conn = cls(self._host, p.port, timeout=self.timeout)
        headers = {"Accept": "application/json", **(extra or {})}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request(method, p.path + path, body=data, headers=headers)
            response = conn.getresponse()
            status, raw = response.status, response.read()
            retry_after = _seconds(response.getheader("Retry-After"))
        except (OSError, http.client.HTTPException) as e:  # TimeoutError and resets are OSErrors
            raise SyncError("offline", f"{method} {path}: {type(e).__name__}: {e}") from None
        finally:
            conn.close()
        try:
            answer = json.loads(raw) if raw else None
        except ValueError:
            answer = None
        if status in (401, 403):
            raise SyncError("auth", f"{method} {path}: {status} {_detail(answer)}", _word(answer))
        if status >= 500 or status in (408, 429):
            raise SyncError("offline", f"{method} {path}: {status} {_detail(answer)}", _word(answer), retry_after)
        return status, answer

    def health(self) -> bool:
        status, answer = self.request("GET", "/api/v1/health")
        return status == 200 and isinstance(answer, dict) and answer.get("ok") is True

    def enroll(self, code: str, device_uid: str, prefix: str, signing_key) -> Token:
        """Trade the one-time code for a token, proving this device holds `signing_key` (its
        Ed25519PrivateKey: the one its ticket codes are signed with). The role comes back too."""
        public_key = base64.b64encode(signing_key.public_key().public_bytes_raw()).decode("ascii")
        signature = signing_key.sign(proof_message(code, device_uid, prefix, public_key))
        status, answer = self.request("POST", "/api/v1/enroll", {
            "code": code, "device_uid": device_uid, "prefix": prefix, "public_key": public_key,
            "signature": base64.b64encode(signature).decode("ascii")})
        if status != 200:
            raise SyncError("refused", f"enrolment refused: {status} {_detail(answer)}")
        return _token(answer, "enroll")

    def renew_token(self) -> Token:
        """A new token for this device (the current one stays good until the new one is used)."""
        status, answer = self.request("POST", "/api/v1/token")
        if status != 200:
            raise SyncError("refused", f"token renewal refused: {status} {_detail(answer)}", _word(answer))
        return _token(answer, "token")

    def push(self, events: list[dict]) -> PushAnswer:
        status, answer = self.request("POST", "/api/v1/events", {"events": events})
        if status == 200 and isinstance(answer, dict) and isinstance(answer.get("acked"), list):
            return PushAnswer([str(u) for u in answer["acked"]], {})
        if status == 422 and isinstance(answer, dict) and isinstance(answer.get("rejected"), list):
            rejected = {str(r.get("uid")): str(r.get("error")) for r in answer["rejected"] if isinstance(r, dict)}
            if rejected:
                return PushAnswer([], rejected)
        if status == 413:
            raise SyncError("too_large", f"push refused: {len(events)} events are too large together")
        if 400 <= status < 500:
            raise SyncError("refused", f"push refused: {status} {_detail(answer)}")
        raise SyncError("bad_response", f"push: unexpected answer {status}")

    def changes(self, after: int, limit: int = PULL_LIMIT) -> tuple[list[dict], int, bool]:
        """A page of the feed. With `self.parked` set (what this device keeps parked,
        kiosk/sync/outbox.py ParkedReport.header(); kiosk/sync/loop.py sets it each pass), it is
        told to central in `X-Parked` for the back office's alerts; a central that does not know
        the header ignores it."""
        extra = {PARKED_HEADER: self.parked} if self.parked is not None else None
        status, answer = self.request("GET", f"/api/v1/changes?after={int(after)}&limit={int(limit)}", extra=extra)
        if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("changes"), list):
            raise SyncError("bad_response" if status == 200 else "refused", f"changes: {status} {_detail(answer)}")
        return answer["changes"], int(answer.get("next", after)), bool(answer.get("more"))


def _token(answer, call: str) -> Token:
    try:
        return Token(str(answer["token"]), answer.get("role", ""), _utc(answer["expires_at"]))
    except (TypeError, KeyError, ValueError):
        raise SyncError("bad_response", f"{call}: no token and expiry in the answer") from None


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a time without its zone")
    return moment.astimezone(UTC)


def _word(answer) -> str | None:
    return str(answer["error"]) if isinstance(answer, dict) and answer.get("error") else None


def _detail(answer) -> str:
    return str(answer.get("detail"))[:200] if isinstance(answer, dict) and answer.get("detail") else ""


def _seconds(header: str | None) -> float | None:
    """Retry-After in seconds (central sends seconds, never an HTTP date)."""
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None


def retry_delay(error: BaseException, failures: int, rng=random.random) -> float:
    """How long to wait after a failed pass: what central asked for (over quota, busy), with a
    little jitter and never more than the backoff's cap, else the backoff. A 429 is not the
    network failing: waiting longer than asked only delays the queue."""
    asked = getattr(error, "retry_after", None)
    if asked is not None:
        return min(300.0, asked * (1 + 0.2 * rng()))
    return backoff(failures, rng=rng)


def backoff(failures: int, base: float = 2.0, cap: float = 300.0, rng=random.random) -> float:
    """Seconds to wait after `failures` failed passes in a row: exponential, capped, with full
    jitter (0.5-1.5x), so a hundred kiosks coming back after an outage do not knock together."""
    return min(cap, base * 2 ** max(0, failures - 1)) * (0.5 + rng())
