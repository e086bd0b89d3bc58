"""The notices' settings: a TOML file ($CENTRAL_NOTICES_FILE, central/settings.py), its secrets from the
environment. Every section is optional; a channel without its section is off (its notices wait,
queued, until it is configured: nothing is lost).

    [schedule]
    pickup_days = 30          # the pickup period: the deadline is the ready day + this
    pickup_warn_days = 5      # "pickup period ending" goes this many days before the deadline
    due_advance_days = 30     # "verification due" goes this many days before the due date
    send_hour = 9             # scheduled notices go out from this hour, institute time
    quiet_from = 21           # no notice on quiet_channels from this hour to quiet_until, institute time:
    quiet_until = 8           # one due then (a step synced late, a retry) waits for the morning; equal: none
    quiet_channels = ["sms"]  # a text message wakes the customer; a mail does not
    max_tries = 8             # then parked, with the last reason
    backoff_seconds = 60      # the first retry; doubled each try, up to backoff_max_seconds
    backoff_max_seconds = 21600
    lease_seconds = 120       # a claimed notice not marked within this is claimed again (a sender died)

    [email]                   # SMTP (smtplib)
    host = "smtp.example.cn"
    port = 25
    security = "none"         # "starttls", "ssl"
    user = ""                 # password: $CENTRAL_SMTP_PASSWORD
    sender = "noreply@example.cn"
    timeout = 10

    [sms]                     # an HTTP gateway; the request's shape is the provider's
    url = "https://sms.example.cn/send"
    method = "POST"
    format = "json"           # or "form" (application/x-www-form-urlencoded)
    timeout = 10
    sign_name = "示范计量院"   # the signature (签名) registered with the provider
    idempotency_header = "Idempotency-Key"   # "" if the gateway takes the key in the body (or not at all)
    signature_header = ""     # e.g. "X-Signature": HMAC-SHA256 (hex) of the body with $CENTRAL_SMS_SECRET
    [sms.headers]             # sent as they are
    [sms.body]                # each string's {placeholders} filled: phone, sign_name, template_id, params_json,
                              # text, key, lang, kind; a string that is exactly "{params}" becomes the object
    [sms.templates]           # the provider's template id per kind and language: ready_zh = "SMS_1001", ...
    [sms.success]
    status = [200]            # HTTP statuses that may be a success (4xx others: permanent; 5xx, 408, 429: retried)
    field = "Code"            # a dotted path in the JSON answer; "": the status alone decides
    ok = ["OK"]
    duplicate = []            # "already sent with this key": counted sent
    permanent = []            # park at once (a number the provider refuses, a template not approved)
    ref = "BizId"             # the provider's message id, kept (optional)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import settings

KINDS = ("ready", "pickup_ending", "due_soon", "overdue")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    pickup_days: int = 30
    pickup_warn_days: int = 5
    due_advance_days: int = 30
    send_hour: int = 9
    quiet_from: int = 21
    quiet_until: int = 8
    quiet_channels: tuple[str, ...] = ("sms",)
    max_tries: int = 8
    backoff_seconds: float = 60.0
    backoff_max_seconds: float = 21600.0
    lease_seconds: float = 120.0

    def backoff(self, tries: int) -> float:
        """Seconds to wait after the `tries`-th failed try: 60, 120, 240, ... up to the cap."""
        return min(self.backoff_seconds * 2 ** max(tries - 1, 0), self.backoff_max_seconds)

    def quiet(self, hour: int) -> bool:
        """Is `hour` (institute time) in the quiet hours? They may run over midnight (21 to 8)."""
        if self.quiet_from <= self.quiet_until:
            return self.quiet_from <= hour < self.quiet_until
        return hour >= self.quiet_from or hour < self.quiet_until


@dataclass(frozen=True)
class EmailSettings:
    host: str
    port: int = 25
    security: str = "none"
    user: str = ""
    password: str = ""
    sender: str = ""
    timeout: float = 10.0


@dataclass(frozen=True)
class SmsSettings:
    url: str
    method: str = "POST"
    format: str = "json"
    timeout: float = 10.0
    sign_name: str = ""
    idempotency_header: str = "Idempotency-Key"
    signature_header: str = ""
    secret: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)
    success_status: tuple[int, ...] = (200,)
    success_field: str = ""
    ok: tuple[str, ...] = ()
    duplicate: tuple[str, ...] = ()
    permanent: tuple[str, ...] = ()
    ref: str = ""


@dataclass(frozen=True)
class NoticeConfig:
    schedule: Schedule = Schedule()
    email: EmailSettings | None = None
    sms: SmsSettings | None = None


def _pick(cls, table: dict, where: str, **extra):
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: a table")
    names = {f for f in cls.__dataclass_fields__}
    unknown = set(table) - names
    if unknown:
        raise ConfigError(f"{where}: unknown {', '.join(sorted(unknown))}")
    try:
        return cls(**table, **extra)
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from None


def parse(text: str, source: str = "notices") -> NoticeConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    table = dict(data.get("schedule", {}))
    if "quiet_channels" in table:
        table["quiet_channels"] = tuple(table["quiet_channels"])
    schedule = _pick(Schedule, table, f"{source}: [schedule]")
    if not (1 <= schedule.pickup_warn_days < schedule.pickup_days and 0 <= schedule.send_hour <= 23
            and schedule.max_tries >= 1 and schedule.due_advance_days >= 1):
        raise ConfigError(f"{source}: [schedule]: pickup_warn_days 1..pickup_days-1, send_hour 0-23, "
                          "max_tries and due_advance_days at least 1")
    if not (0 <= schedule.quiet_from <= 23 and 0 <= schedule.quiet_until <= 23
            and set(schedule.quiet_channels) <= {"sms", "email"} and not schedule.quiet(schedule.send_hour)):
        raise ConfigError(f"{source}: [schedule]: quiet_from and quiet_until 0-23, send_hour outside them, "
                          "quiet_channels of sms and email")
    email = None
    if "email" in data:
        email = _pick(EmailSettings, data["email"], f"{source}: [email]",
                      password=settings.secret("CENTRAL_SMTP_PASSWORD"))
        if email.security not in ("none", "starttls", "ssl") or not email.sender:
            raise ConfigError(f"{source}: [email]: security none/starttls/ssl, and a sender")
    sms = None
    if "sms" in data:
        table = dict(data["sms"])
        success = table.pop("success", {})
        if not isinstance(success, dict):
            raise ConfigError(f"{source}: [sms.success]: a table")
        sms = _pick(SmsSettings, table, f"{source}: [sms]", secret=settings.secret("CENTRAL_SMS_SECRET"),
                    success_status=tuple(success.get("status", (200,))), success_field=success.get("field", ""),
                    ok=tuple(success.get("ok", ())), duplicate=tuple(success.get("duplicate", ())),
                    permanent=tuple(success.get("permanent", ())), ref=success.get("ref", ""))
        if sms.format not in ("json", "form") or sms.method.upper() not in ("POST", "PUT", "GET"):
            raise ConfigError(f"{source}: [sms]: format json/form, method POST/PUT/GET")
    return NoticeConfig(schedule, email, sms)


def load(path: Path | None = None) -> NoticeConfig:
    """From `path`, else $CENTRAL_NOTICES_FILE, else the defaults with no channel."""
    path = path or settings.notices_file()
    if path is None:
        return NoticeConfig()
    try:
        return parse(path.read_text("utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: {e}") from None


_current: dict[tuple, NoticeConfig] = {}


def current() -> NoticeConfig:
    """The settings as the push path reads them: loaded again when the file changes; a file that cannot
    be read gives the defaults (logged by name, never stopping a push)."""
    path = settings.notices_file()
    stamp: tuple[str, int | None] | tuple[str]  # (path, mtime); mtime None: unreadable; ("",): no file
    try:
        stamp = (str(path), path.stat().st_mtime_ns) if path else ("",)
    except OSError:
        stamp = (str(path), None)
    if stamp not in _current:
        try:
            loaded = load(path)
        except ConfigError as e:
            import logging

            logging.getLogger(__name__).warning("notices settings not read, defaults used: %s", str(e)[:200])
            loaded = NoticeConfig()
        _current.clear()
        _current[stamp] = loaded
    return _current[stamp]
