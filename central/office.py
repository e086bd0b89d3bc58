"""The back office's view: tickets by status (counts and the latest of each), devices with
their role and when each last synced, and what was voided (central/voiding.py: a voided
registration's ticket is counted nowhere and listed there). JSON for tools, one plain HTML page
for people.

Customer phone numbers are masked everywhere here (138****5678): the office needs to see
that a ticket exists and who it is for, not to read contact data off a screen.
"""

from __future__ import annotations

import html
from collections import Counter

from kiosk.domain.clock import local
from kiosk.i18n import money

from . import tickets, voiding
from .devices import list_devices
from .storage import Storage, as_datetime, ts
from .words import STATUSES

RECENT = 50  # tickets listed per status

STATUS_NAMES = {"registered": ("已登记", "registered"), "received": ("已收件", "received"),
                "ready": ("待取件", "ready for pickup"), "picked_up": ("已取件", "picked up")}


def mask_phone(phone: str | None) -> str:
    phone = (phone or "").strip()
    n = len(phone)
    if n >= 8:
        return phone[:3] + "*" * (n - 7) + phone[-4:]
    if n >= 3:
        return phone[0] + "*" * (n - 2) + phone[-1]
    return "*" * n


def _iso(value) -> str | None:
    value = as_datetime(value)
    return None if value is None else ts(value)


def summary(storage: Storage) -> dict:
    recent = {status: [_ticket(view) for view in tickets.latest(storage, status, RECENT)] for status in STATUSES}
    counts = tickets.counts(storage)
    with storage.read() as tx:
        clock = tx.one("SELECT seq FROM feed_clock WHERE id = 1")[0]
        latest = tx.one("SELECT id, sha256, imported_at FROM catalog_version ORDER BY id DESC LIMIT 1")
    return {
        "tickets": {"counts": counts, "total": sum(counts.values()), "recent": recent},
        "devices": list_devices(storage),
        "catalog": None if latest is None else {"version": latest[0], "sha256": latest[1],
                                                "imported_at": _iso(latest[2])},
        "feed_seq": clock,
        "voidings": [_voiding(v) for v in voiding.voidings(storage)[:RECENT]],
    }


def _voiding(v: voiding.Voiding) -> dict:
    return {"id": v.id, "device": v.device_name or v.device_uid, "since": ts(v.since), "reason": v.reason,
            "created_at": ts(v.created_at), "events": len(v.events), "kinds": dict(Counter(e.kind for e in v.events)),
            "tickets": [e.number for e in v.events if e.kind == "ticket.registered"][:RECENT]}


def _ticket(view: tickets.TicketView) -> dict:
    customer = (view.registration or {}).get("customer") or {}
    # The total the customer's receipt and signed code say (the kiosk's, to the fen): the same figure
    # every desk charges for the ticket as registered (kiosk/store/desk.py price_intake).
    total = ((view.registration or {}).get("ticket") or {}).get("total_fen")
    return {"uid": view.uid, "number": view.current.number, "status_at": ts(view.current.since),
            "organisation": customer.get("organisation"), "phone": mask_phone(customer.get("phone")),
            "total_fen": total, "taken_in_fen": view.taken_in_fen}


def _when(text: str | None) -> str:
    if not text:
        return "—"
    return f"{local(as_datetime(text)):%Y-%m-%d %H:%M:%S}"


STYLE = ("body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}"
         "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}"
         ".n{text-align:right}nav{margin-bottom:1em}nav a{margin-right:1.2em}")
# The back office's pages, Chinese first, English beside it.
PAGES = (("/office", "总览", "Overview"), ("/office/followups", "回访", "Follow-ups"),
         ("/office/satisfaction", "满意度", "Satisfaction"), ("/office/due", "周检到期", "Verification due"),
         ("/office/worklist", "在办清单", "Work list"))


def head(title: str, *, refresh: int | None = None, style: str = "") -> str:
    """The start of a back-office page, up to and including its links to the others."""
    meta = f"<meta http-equiv='refresh' content='{refresh}'>" if refresh else ""
    links = "".join(f"<a href='{path}'>{zh} · {en}</a>" for path, zh, en in PAGES)
    return (f"<!doctype html><html lang='zh'><head><meta charset='utf-8'>{meta}<title>{html.escape(title)}</title>"
            f"<style>{STYLE}{style}</style></head><body><nav>{links}</nav>")


def render_html(data: dict) -> str:
    e = html.escape
    counts = data["tickets"]["counts"]
    parts = [
        head("中心系统 · Central", refresh=30),
        "<h1>中心系统 · Central</h1>",
        "<h2>受理单 · Tickets</h2><table><tr><th>状态 Status</th><th class='n'>数量 Count</th></tr>",
    ]
    for status in STATUSES:
        zh, en = STATUS_NAMES[status]
        parts.append(f"<tr><td>{zh} · {en}</td><td class='n'>{counts[status]}</td></tr>")
    parts.append(f"<tr><th>合计 · Total</th><th class='n'>{data['tickets']['total']}</th></tr></table>")
    for status in STATUSES:
        tickets = data["tickets"]["recent"][status]
        if not tickets:
            continue
        zh, en = STATUS_NAMES[status]
        parts.append(f"<h3>{zh} · {en}</h3><table><tr><th>受理号 Number</th><th>送检单位 Customer</th>"
                     "<th>电话 Phone</th><th class='n'>收据金额 Receipt total</th>"
                     "<th class='n'>受理金额 Charged at intake</th><th>时间 Since</th></tr>")
        for t in tickets:
            total, taken_in = ("—" if fen is None else money(fen, "zh") for fen in (t["total_fen"], t["taken_in_fen"]))
            parts.append(f"<tr><td>{e(t['number'])}</td><td>{e(t['organisation'] or '—')}</td>"
                         f"<td>{e(t['phone'] or '—')}</td><td class='n'>{e(total)}</td><td class='n'>{e(taken_in)}</td>"
                         f"<td>{e(_when(t['status_at']))}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>设备 · Devices</h2><table><tr><th>名称 Name</th><th>角色 Role</th><th>前缀 Prefix</th>"
                 "<th>最近同步 Last sync</th><th>状态 State</th></tr>")
    for d in data["devices"]:
        state = "已停用 revoked" if d["revoked_at"] else "在用 active"
        parts.append(f"<tr><td>{e(d['name'] or d['uid'])}</td><td>{e(d['role'])}</td><td>{e(d['prefix'])}</td>"
                     f"<td>{e(_when(d['last_seen_at']))}</td><td>{state}</td></tr>")
    parts.append("</table>")
    if data["voidings"]:
        parts.append("<h2>已作废 · Voided</h2><table><tr><th>设备 Device</th><th>自 Since</th><th>原因 Reason</th>"
                     "<th class='n'>事件 Events</th><th>作废的受理单 Voided tickets</th><th>作废于 Voided at</th></tr>")
        for v in data["voidings"]:
            kinds = "、".join(f"{kind} {count}" for kind, count in sorted(v["kinds"].items()))
            parts.append(f"<tr><td>{e(v['device'])}</td><td>{e(_when(v['since']))}</td><td>{e(v['reason'] or '—')}"
                         f"</td><td class='n'>{v['events']}<br>{e(kinds)}</td><td>{e(' '.join(v['tickets']) or '—')}"
                         f"</td><td>{e(_when(v['created_at']))}</td></tr>")
        parts.append("</table>")
    catalog = data["catalog"]
    if catalog:
        parts.append(f"<p>收费目录 · Fee catalogue: v{catalog['version']} ({e(catalog['sha256'][:12])})</p>")
    parts.append("</body></html>")
    return "".join(parts)
