"""The channels, behind one interface: `send(message) -> Outcome`. A channel never raises for what the
far side does (a timeout, a reset, a 5xx, a refusal): it says Sent, Retry or Permanent, with a reason
made of words and codes only (never an address, a phone or a body: reasons are logged and shown).

- Email: SMTP through smtplib to the configured host. The Message-ID is the notice's key, so a mail
  sent twice (the at-least-once window, central/notices/__init__.py) is the same message to a client
  that collapses duplicates; SMTP itself has no idempotency.
- Sms: an HTTP gateway whose request is the provider's (config.SmsSettings): URL, method, a JSON or form
  body from a template, headers, an optional HMAC signature of the body, and the rule that says what
  answer is a success. The notice's key goes as the idempotency header and/or `{key}` in the body
  (e.g. Aliyun's OutId), so a gateway that keeps keys sends a repeat once.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

from .config import EmailSettings, SmsSettings


@dataclass(frozen=True)
class Message:
    key: str  # the notice's idempotency key (hex)
    kind: str
    lang: str
    to: str  # a phone or an e-mail address
    subject: str
    text: str
    params: dict[str, str] = field(default_factory=dict)  # the template's values (SMS templates)


@dataclass(frozen=True)
class Outcome:
    state: str  # "sent", "retry", "permanent"
    reason: str = ""  # words and codes only
    ref: str = ""  # the gateway's message id, when it gives one

    @property
    def sent(self) -> bool:
        return self.state == "sent"


def sent(reason: str = "", ref: str = "") -> Outcome:
    return Outcome("sent", reason, ref)


def retry(reason: str) -> Outcome:
    return Outcome("retry", reason[:200])


def permanent(reason: str) -> Outcome:
    return Outcome("permanent", reason[:200])


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> Outcome: ...


class Email:
    name = "email"

    def __init__(self, settings: EmailSettings):
        self.settings = settings

    def send(self, message: Message) -> Outcome:
        s = self.settings
        mail = EmailMessage()
        mail["From"] = s.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{message.key}@notices.central>"
        mail.set_content(message.text)
        try:
            if s.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                                        context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with client:
                if s.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if s.user:
                    client.login(s.user, s.password)
                refused = client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as e:
            codes = sorted({code for code, _ in e.recipients.values()})
            return (permanent if all(c >= 500 for c in codes) else retry)(f"smtp recipient refused {codes}")
        except smtplib.SMTPSenderRefused as e:
            return (permanent if e.smtp_code >= 500 else retry)(f"smtp sender refused {e.smtp_code}")
        except smtplib.SMTPAuthenticationError as e:
            return retry(f"smtp authentication {e.smtp_code}")  # a setting to fix: retried, then parked
        except smtplib.SMTPResponseException as e:
            return (permanent if e.smtp_code >= 500 and e.smtp_code != 554 else retry)(f"smtp {e.smtp_code}")
        except (smtplib.SMTPException, OSError) as e:  # disconnected, refused, reset, timed out
            return retry(f"smtp {type(e).__name__}")
        if refused:
            return permanent("smtp recipient refused")
        return sent()


def _fill(template: Any, values: dict[str, Any]) -> Any:
    """A body template with its placeholders filled: strings formatted, "{params}" the object itself."""
    if isinstance(template, str):
        if template.startswith("{") and template.endswith("}") and template[1:-1] in values \
                and not isinstance(values[template[1:-1]], str):
            return values[template[1:-1]]
        return template.format_map(values)
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


class Sms:
    name = "sms"

    def __init__(self, settings: SmsSettings):
        self.settings = settings

    def request(self, message: Message) -> urllib.request.Request:
        s = self.settings
        template_id = s.templates.get(f"{message.kind}_{message.lang}", s.templates.get(message.kind, ""))
        values = {"phone": message.to, "sign_name": s.sign_name, "template_id": template_id,
                  "params": message.params, "params_json": json.dumps(message.params, ensure_ascii=False),
                  "text": message.text, "key": message.key, "lang": message.lang, "kind": message.kind}
        body = _fill(s.body or {"phone": "{phone}", "text": "{text}"}, values)
        headers = dict(s.headers)
        method = s.method.upper()
        url = s.url
        if s.format == "json":
            data = json.dumps(body, ensure_ascii=False, sort_keys=True).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        else:
            data = urllib.parse.urlencode({k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                                           for k, v in body.items()}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        if method == "GET":
            url = f"{url}{'&' if '?' in url else '?'}{data.decode()}"
            data = b""
        if s.idempotency_header:
            headers[s.idempotency_header] = message.key
        if s.signature_header:
            headers[s.signature_header] = hmac.new(s.secret.encode(), data or url.encode(), hashlib.sha256).hexdigest()
        return urllib.request.Request(url, data=data or None, headers=headers, method=method)

    def send(self, message: Message) -> Outcome:
        s = self.settings
        try:
            with urllib.request.urlopen(self.request(message), timeout=s.timeout) as answer:
                status, raw = answer.status, answer.read(65536)
        except urllib.error.HTTPError as e:
            status, raw = e.code, b""
            e.close()
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as e:
            why = getattr(e, "reason", e)
            return retry(f"sms {type(why).__name__ if not isinstance(why, str) else 'unreachable'}")
        if status not in s.success_status:
            if status >= 500 or status in (408, 425, 429):
                return retry(f"sms http {status}")
            return permanent(f"sms http {status}")
        if not s.success_field:
            return sent()
        try:
            answer_json = json.loads(raw)
        except ValueError:
            return retry(f"sms http {status} not json")
        value = _dig(answer_json, s.success_field)
        word = str(value) if value is not None else ""
        ref = str(_dig(answer_json, s.ref) or "")[:100] if s.ref else ""
        if word in s.ok:
            return sent(ref=ref)
        if word in s.duplicate:
            return sent("duplicate", ref)
        code = "".join(ch for ch in word[:40] if ch.isalnum() or ch in "._-") or "none"
        if word in s.permanent:
            return permanent(f"sms gateway {code}")
        return retry(f"sms gateway {code}")  # a 200 that says it failed


def channels(config) -> dict[str, Channel]:
    """The channels the settings configure, by name."""
    found: dict[str, Channel] = {}
    if config.email is not None:
        found["email"] = Email(config.email)
    if config.sms is not None:
        found["sms"] = Sms(config.sms)
    return found
