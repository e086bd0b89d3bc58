"""What the notices talk to, run in the test: a real SMTP server (aiosmtpd) and a local HTTP server standing in
for an SMS gateway (a provider's shape: JSON body, signature header, Code in the answer), each with faults the
test asks for. `delivered` is what the customer's phone or mailbox got."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections import deque
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd on loopback. `faults`: what the next RCPTs get ("451": try later, "550": no such user,
    "drop": the connection closed before DATA's answer, after the mail was taken)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.mails: list = []
        self.faults: deque[str] = deque()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        fault = self.faults[0] if self.faults else None
        if fault in ("451", "550"):
            self.faults.popleft()
            return "451 4.3.0 try again later" if fault == "451" else "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.mails.append(message_from_bytes(envelope.content, policy=default_policy))
        if self.faults and self.faults[0] == "drop":
            self.faults.popleft()
            session.transport.abort()  # taken, but the sender never hears 250
            return "250 OK"
        return "250 OK"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class Gateway:
    """An SMS gateway on loopback. It keeps the idempotency keys it has seen: a request with one seen before
    is answered {"Code": "DUPLICATE"} and sends nothing (as providers with an out-id do). `faults`, one per
    request: "timeout" (no answer until the test ends), "500", "error_body" (200 with a failure code),
    "reset" (the connection reset), "bad_number" (200, a permanent failure), "sent_then_500" (the SMS goes out,
    the answer is a 500)."""

    def __init__(self, *, keeps_keys: bool = True):
        self.requests: list[dict] = []
        self.delivered: list[dict] = []
        self.seen: set[str] = set()
        self.faults: deque[str] = deque()
        self.keeps_keys = keeps_keys
        self.release = threading.Event()
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with gateway.lock:
                    fault = gateway.faults.popleft() if gateway.faults else None
                    request = {"headers": dict(self.headers), "body": json.loads(body), "fault": fault}
                    gateway.requests.append(request)
                if fault == "timeout":
                    gateway.release.wait(10)
                    return
                if fault == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    return
                if fault == "500":
                    return self.answer(500, {"Code": "InternalError"})
                if fault == "error_body":
                    return self.answer(200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "limit"})
                if fault == "not_json":
                    raw = b"<html>gateway maintenance</html>"
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                    return
                if fault == "bad_number":
                    return self.answer(200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL"})
                key = self.headers.get("Idempotency-Key") or ""
                with gateway.lock:
                    if gateway.keeps_keys and key in gateway.seen:
                        return self.answer(200, {"Code": "DUPLICATE"})
                    gateway.seen.add(key)
                    gateway.delivered.append(request)
                if fault == "sent_then_500":
                    return self.answer(500, {"Code": "InternalError"})
                return self.answer(200, {"Code": "OK", "BizId": f"biz-{len(gateway.delivered)}"})

            def answer(self, status: int, data: dict):
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def notices_toml(gateway: Gateway | None, mailbox: Mailbox | None, **schedule) -> str:
    """A notices settings file for these peers (the shape of an Aliyun-like provider)."""
    # Quiet hours off unless a test asks: the others send at whatever hour the suite runs.
    schedule = {"backoff_seconds": 60, "lease_seconds": 120, "quiet_from": 0, "quiet_until": 0, **schedule}
    lines = ["[schedule]", *(f"{k} = {v}" for k, v in schedule.items())]
    if mailbox:
        lines += ["[email]", 'host = "127.0.0.1"', f"port = {mailbox.port}", 'sender = "noreply@example.cn"',
                  "timeout = 5"]
    if gateway:
        lines += ["[sms]", f'url = "{gateway.url}"', 'format = "json"', "timeout = 2", 'sign_name = "示范计量院"',
                  'idempotency_header = "Idempotency-Key"', 'signature_header = "X-Signature"',
                  "[sms.body]", 'PhoneNumbers = "{phone}"', 'SignName = "{sign_name}"',
                  'TemplateCode = "{template_id}"', 'TemplateParam = "{params_json}"', 'OutId = "{key}"',
                  "[sms.templates]", 'ready_zh = "SMS_1001"', 'ready_en = "SMS_1002"', 'pickup_ending = "SMS_1003"',
                  'due_soon = "SMS_1004"', 'overdue = "SMS_1005"',
                  "[sms.success]", "status = [200]", 'field = "Code"', 'ok = ["OK"]', 'duplicate = ["DUPLICATE"]',
                  'permanent = ["isv.MOBILE_NUMBER_ILLEGAL"]', 'ref = "BizId"']
    return "\n".join(lines) + "\n"


def stalling(gateway: Gateway) -> threading.Event:
    """The next request is delivered (the SMS goes out) and then never answered; the event is set when it
    arrived: the moment to kill the sender."""
    arrived = threading.Event()
    handler = gateway.server.RequestHandlerClass
    plain = handler.do_POST

    def do_post(self):
        if gateway.faults and gateway.faults[0] == "deliver_and_stall":
            gateway.faults.popleft()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = {"headers": dict(self.headers), "body": json.loads(body), "fault": "deliver_and_stall"}
            with gateway.lock:
                gateway.requests.append(request)
                gateway.delivered.append(request)
                gateway.seen.add(self.headers.get("Idempotency-Key") or "")
            arrived.set()
            gateway.release.wait(10)
            return
        plain(self)

    handler.do_POST = do_post
    gateway.faults.append("deliver_and_stall")
    return arrived
