"""A ticket's progress for its customer: the ticket number and the last four digits of the
phone given at registration, posted (never in the address: a URL lands in histories, proxies'
logs and Referers).

Built to be probed:
- per client address, at most LOOKUP_BURST look-ups, then one per LOOKUP_EVERY seconds (429);
- a ticket number is locked for LOCK_MINUTES after LOCK_AFTER misses within that time, whether
  the number exists or not (misses are counted by the number typed, schema 17
  `public_lookup_miss`, in the database: every worker and restart sees them), so a locked answer
  says nothing about the number either;
- a wrong number and wrong digits give the same page, byte for byte, and every look-up answers
  after FLOOR seconds at least, whatever it found (the database's work is under it), so neither
  the answer nor its time tells a number that exists from one that does not;
- a match shows the status, dates and promise, and the lines (instrument, service, quantity,
  state): never the organisation, the contact, the phone or any serial number.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from kiosk.domain.clock import local, utc_now
from kiosk.domain.vocabulary import normalise_token
from kiosk.i18n import date_text, t
from kiosk.i18n.status_text import line_status_text, status_text, work_text

from ..api.params import BadParameter, form
from ..readmodels.ticket_state import fold_number, phone_digits
from ..storage import Storage, as_datetime, ts
from ..words import STATUSES
from .guard import Buckets, client_address
from .pages import PREFIX, lang_of, page, words
from .schedule import current as current_schedule

router = APIRouter(include_in_schema=False)

LOCK_AFTER = 5
LOCK_MINUTES = 15
LOOKUP_BURST = 10
LOOKUP_EVERY = 60  # seconds: one more look-up per address each minute after the burst
FLOOR = 0.35  # seconds every look-up takes at least
NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,29}$")
NO_PHONE = "\x00" * 4  # compared with when nothing is stored: never equal to four digits

words.update({
    "progress": ("进度查询", "Follow a ticket"),
    "pr_intro": ("输入受理单号和登记时所留手机号码的后四位，查看仪器办理进度。",
                 "Enter the ticket number and the last four digits of the phone number given at registration."),
    "pr_number": ("受理单号", "Ticket number"),
    "pr_tail": ("手机号后四位", "Last four digits of the phone"),
    "pr_submit": ("查询", "Look up"),
    "pr_miss": ("受理单号或手机号后四位不正确。", "The ticket number or the four digits are not right."),
    "pr_rules": ("同一受理单号连续输错 5 次将锁定 15 分钟。",
                 "Five misses for one ticket number lock it for 15 minutes."),
    "pr_locked": ("该受理单号输错次数过多，请 15 分钟后再试，或到窗口咨询。",
                  "Too many misses for this ticket number: try again in 15 minutes, or ask at a counter."),
    "pr_busy": ("查询过于频繁，请稍后再试。", "Too many look-ups: please wait a minute and try again."),
    "pr_bad_number": ("请输入受理单上的单号，例如 K7Q-261124-0007。",
                      "Enter the number printed on the ticket, e.g. K7Q-261124-0007."),
    "pr_bad_tail": ("请输入 4 位数字。", "Enter four digits."),
    "pr_lines": ("仪器", "Instruments"),
    "pr_again": ("查询其他受理单", "Look up another ticket"),
    "pr_status": ("状态", "Status"),
    "pr_private": ("为保护隐私，本页不显示单位、联系人和电话。",
                   "For privacy this page shows no organisation, contact or phone."),
})


def _buckets(request: Request) -> Buckets:
    state = request.app.state
    if getattr(state, "public_lookups", None) is None:
        state.public_lookups = Buckets(rate=60 / LOOKUP_EVERY, burst=LOOKUP_BURST)
    return state.public_lookups


@router.get(PREFIX + "/progress")
def progress_form(request: Request) -> HTMLResponse:
    return page(request, "public/progress.html", "progress", problem=None, found=None)


@router.post(PREFIX + "/progress")
async def progress_lookup(request: Request) -> HTMLResponse:
    started = time.monotonic()
    lang = lang_of(request)
    try:
        fields = form(request.headers.get("content-type"), await request.body())
    except BadParameter:
        fields = {}
    number = normalise_token(fields.get("number", "")).strip().upper()[:40]
    tail = normalise_token(fields.get("tail", "")).strip()
    status, problem, found = 200, None, None
    if _buckets(request).take(client_address(request.scope)):
        status, problem = 429, "pr_busy"
    elif not NUMBER.match(number):
        problem = "pr_bad_number"
    elif not (len(tail) == 4 and tail.isascii() and tail.isdecimal()):
        problem = "pr_bad_tail"
    else:
        outcome, found = await run_in_threadpool(lookup, request.app.state.storage, number, tail)
        problem = None if outcome == "found" else ("pr_locked" if outcome == "locked" else "pr_miss")
    shown = None if found is None else await run_in_threadpool(_shown, request, found, lang)
    rest = FLOOR - (time.monotonic() - started)
    if rest > 0:
        await asyncio.sleep(rest)
    response = page(request, "public/progress.html", "progress", status, problem=problem, found=shown)
    if status == 429:
        response.headers["Retry-After"] = str(LOOKUP_EVERY)
    return response


def lookup(storage: Storage, number: str, tail: str) -> tuple[str, dict | None]:
    """("found", the ticket's row), ("miss", None) or ("locked", None)."""
    key = fold_number(number)
    now = utc_now()
    since = ts(now - timedelta(minutes=LOCK_MINUTES))
    with storage.read() as tx:
        misses = tx.one("SELECT COUNT(*) FROM public_lookup_miss WHERE number_key = ? AND missed_at >= ?",
                        (key, since))[0]
        if misses >= LOCK_AFTER:
            return "locked", None
        row = tx.one("SELECT uid, number, status, phone, ready_on, urgent_hours, registered_at, received_at, "
                     "ready_at, picked_up_at FROM ticket_state WHERE number_fold = ? ORDER BY first_at LIMIT 1",
                     (key,))
    digits = phone_digits(row[3] or "") if row is not None else ""
    stored = digits[-4:] if len(digits) >= 4 else NO_PHONE
    if row is not None and hmac.compare_digest(stored.encode(), tail.encode()):
        with storage.transaction() as tx:
            tx.execute("DELETE FROM public_lookup_miss WHERE number_key = ?", (key,))
        names = ("uid", "number", "status", "phone", "ready_on", "urgent_hours", "registered_at", "received_at",
                 "ready_at", "picked_up_at")
        return "found", {name: value for name, value in zip(names, row) if name != "phone"}
    with storage.transaction() as tx:
        tx.execute("DELETE FROM public_lookup_miss WHERE missed_at < ?", (since,))
        tx.execute("INSERT INTO public_lookup_miss (number_key, missed_at) VALUES (?, ?)", (key, ts(now)))
    return "miss", None


def _day(value, lang: str) -> str:
    moment = as_datetime(value)
    return date_text(local(moment).date(), lang) if moment else ""


def _shown(request: Request, row: dict, lang: str) -> dict:
    """What the page says of a ticket: status, dates, promise, lines. Nothing personal."""
    storage: Storage = request.app.state.storage
    status = STATUSES[row["status"]]
    lines = _lines(storage, row["uid"])
    services = [ln["service"] for ln in lines]
    schedule = current_schedule(storage)
    said = {
        "registered": t("progress.registered", lang, date=_day(row["registered_at"], lang)),
        "received": t("progress.received", lang, date=_day(row["received_at"], lang), work=work_text(services, lang)),
        "ready": t("progress.ready", lang, date=_day(row["ready_at"], lang)),
        "picked_up": t("progress.picked_up", lang, date=_day(row["picked_up_at"], lang)),
    }[status]
    promise = None
    if status in ("registered", "received") and row["ready_on"]:
        promise = t("progress.ready_on", lang, date=date_text(date.fromisoformat(row["ready_on"]), lang))
    urgent = None
    received = as_datetime(row["received_at"])
    if status == "received" and row["urgent_hours"] and received is not None:
        by = local(received + timedelta(hours=int(row["urgent_hours"])))
        urgent = t("progress.urgent_by", lang, date=date_text(by.date(), lang), time=f"{by:%H:%M}")
    shown_lines = []
    for ln in lines:
        fee = schedule.by_code.get(ln["code"])
        name = (fee.name_zh if lang == "zh" else fee.name_en) if fee else ln["code"]
        state = line_status_text(status, ln["service"], lang) or status_text(status, [ln["service"]], lang)
        shown_lines.append({"name": name, "service": ln["service"], "quantity": ln["quantity"], "state": state,
                            "ready": status in ("ready", "picked_up")})
    return {"number": row["number"], "status": status_text(status, services, lang), "said": said,
            "promise": promise, "urgent": urgent, "lines": shown_lines}


def _lines(storage: Storage, uid: str) -> list[dict]:
    """The lines as taken in (refused ones left out), else as registered: code, service, quantity."""
    with storage.read() as tx:
        rows = tx.all(f"SELECT kind, {storage.json_text('payload')} FROM event WHERE ticket = ? AND void_id IS NULL "
                      "AND kind IN ('ticket.registered', 'ticket.received') ORDER BY created_at, uid", (uid,))
    by_kind: dict[str, dict] = {}
    for kind, payload in rows:
        by_kind.setdefault(kind, json.loads(payload))
    source = by_kind.get("ticket.received") or by_kind.get("ticket.registered") or {}
    lines = []
    for ln in source.get("lines") or ():
        if isinstance(ln, dict) and not ln.get("refused"):
            lines.append({"code": str(ln.get("code", "")), "service": str(ln.get("service", "verification")),
                          "quantity": int(ln.get("quantity") or 1)})
    return lines
