"""The back office's pages for follow-ups, satisfaction, the due list and the work list: plain HTML, Chinese
first with English beside it, charts as CSS bars (no script, nothing from another server:
the office network may be closed). Every text from a device is escaped.

Phones: a follow-up's call-back number in full (staff make the call); the due list and the
work list mask the customer's phone (their CSVs, for the staff who call, have it in full).
"""

from __future__ import annotations

import html
from datetime import date
from urllib.parse import quote, urlencode

from kiosk.i18n import t as kiosk_t
from kiosk.i18n.keys import FEEDBACK_HEARTS, FEEDBACK_LEVELS, FEEDBACK_REASONS
from kiosk.i18n.status_text import work_text

from .office import _when, head, mask_phone

e = html.escape

BAR_STYLE = ("td:first-child{white-space:nowrap}"
             ".bar{display:inline-block;width:16em;height:.9em;background:#eee;vertical-align:middle}"
             ".bar span{display:inline-block;height:100%}.good{background:#3a8f3a}.poor{background:#c0392b}"
             ".plain{background:#4a78b5}.overdue td{background:#fdecea}.mark{color:#c0392b;font-weight:bold}"
             "form.close textarea{width:18em;height:3em}form.close input{width:10em}"
             ".msg{padding:.6em 1em;border:1px solid #c0392b;background:#fdecea;display:inline-block}")


def _label(keys: dict[str, str], value: str | None) -> str:
    """A kiosk label, both languages ("非常满意 Very satisfied"); the value itself if it has none."""
    if not value:
        return "—"
    if value not in keys:
        return value
    return f"{kiosk_t(keys[value], 'zh')} {kiosk_t(keys[value], 'en')}"


def _rating(f: dict) -> str:
    return f"{f['rating']} · {e(_label(FEEDBACK_LEVELS, f['level']))}"


def _number(f: dict) -> str:
    return e(f["number"]) if f["number"] else "匿名 anonymous"


# ---- follow-ups ------------------------------------------------------------------------------


def followups_html(data: dict, notice: str | None = None) -> str:
    parts = [head("回访 · Follow-ups", style=BAR_STYLE), "<h1>回访 · Follow-ups</h1>"]
    if notice:
        parts.append(f"<p class='msg'>{e(notice)}</p>")
    opened = data["open"]
    parts.append(f"<p>待回访 {len(opened)} 件，其中逾期 {data['overdue']} 件 · {len(opened)} open, "
                 f"{data['overdue']} overdue (今天 today {e(data['today'])})</p>")
    if opened:
        parts.append("<table><tr><th>回访期限 Due</th><th>受理号 Ticket</th><th>评价 Rating</th>"
                     "<th>原因 Reason</th><th>意见 Comment</th><th>回访电话 Call back</th><th>评价时间 Given</th>"
                     "<th>评价终端 Kiosk</th><th>办结 Close</th></tr>")
        for f in opened:
            overdue = " class='overdue'" if f["overdue"] else ""
            mark = " <span class='mark'>已逾期 overdue</span>" if f["overdue"] else ""
            reason = e(_label(FEEDBACK_REASONS, f["reason"]))
            if f["reason_text"]:
                reason += f"<br>{e(f['reason_text'])}"
            action = f"/office/followups/{quote(f['uid'])}/close"
            parts.append(
                f"<tr{overdue}><td>{e(f['due_on'])}{mark}</td><td>{_number(f)}</td><td>{_rating(f)}</td>"
                f"<td>{reason}</td><td>{e(f['comment']) or '—'}</td><td>{e(f['phone'] or '—')}</td>"
                f"<td>{e(_when(f['given_at']))}</td><td>{e(f['kiosk'])}</td>"
                f"<td><form class='close' method='post' action='{e(action)}'>"
                "<input name='name' required maxlength='200' placeholder='回访人 Your name'><br>"
                "<textarea name='note' required maxlength='500' placeholder='回访情况 What was done'></textarea><br>"
                "<button type='submit'>办结 Close</button></form></td></tr>")
        parts.append("</table>")
    closed = data["closed"]
    parts.append(f"<h2>最近办结 · Recently closed ({len(closed)})</h2>")
    if closed:
        parts.append("<table><tr><th>办结时间 Closed</th><th>受理号 Ticket</th><th>评价 Rating</th>"
                     "<th>回访期限 Due</th><th>办结人 By</th><th>办结地点 Where</th><th>回访情况 Note</th></tr>")
        for f in closed:
            c = f["closed"]
            parts.append(f"<tr><td>{e(_when(c['at']))}</td><td>{_number(f)}</td><td>{_rating(f)}</td>"
                         f"<td>{e(f['due_on'])}</td><td>{e(c['name'] or '—')}</td><td>{e(c['device'])}</td>"
                         f"<td>{e(c['note']) or '—'}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def message_html(title: str, message: str, back: str = "/office/followups") -> str:
    """A refusal as a page: what is wrong, and the way back."""
    return (f"{head(title, style=BAR_STYLE)}<h1>{e(title)}</h1><p class='msg'>{e(message)}</p>"
            f"<p><a href='{e(back)}'>返回 · Back</a></p></body></html>")


# ---- satisfaction -----------------------------------------------------------------------------


def _percent(g: dict) -> str:
    return f"{g['rate'] * 100:.1f}%" if g["count"] else "—"


def _bar(g: dict, top: int) -> str:
    """Good and poor ratings as one bar, its length the group's count against the largest."""
    if not top:
        return "<span class='bar'></span>"
    good, poor = g["good"] / top * 100, g["poor"] / top * 100
    return (f"<span class='bar' title='{g['good']} / {g['poor']}'><span class='good' style='width:{good:.2f}%'>"
            f"</span><span class='poor' style='width:{poor:.2f}%'></span></span>")


def _groups(title: str, groups: list[dict], label) -> list[str]:
    parts = [f"<h2>{title}</h2>"]
    if not groups:
        return [*parts, "<p>暂无评价 · No ratings</p>"]
    top = max(g["count"] for g in groups)
    parts.append("<table><tr><th></th><th class='n'>评价 Ratings</th><th>好评 / 差评 Good / poor</th>"
                 "<th class='n'>满意率 Rate</th><th class='n'>平均分 Mean</th></tr>")
    for g in groups:
        mean = f"{g['mean']:.2f}" if g["count"] else "—"
        parts.append(f"<tr><td>{label(g)}</td><td class='n'>{g['count']}</td><td>{_bar(g, top)} "
                     f"{g['good']} / {g['poor']}</td><td class='n'>{_percent(g)}</td><td class='n'>{mean}</td></tr>")
    parts.append("</table>")
    return parts


def satisfaction_html(data: dict) -> str:
    query = urlencode({k: data[k] for k in ("from", "to") if data[k]})
    o = data["overall"]
    parts = [head("满意度统计 · Satisfaction", style=BAR_STYLE), "<h1>满意度统计 · Satisfaction</h1>",
             ("<form method='get' action='/office/satisfaction'>"
             f"自 From <input type='date' name='from' value='{e(data['from'] or '')}'> "
             f"至 To <input type='date' name='to' value='{e(data['to'] or '')}'> "
             "<button type='submit'>查看 Show</button> "
             f"<a href='/office/satisfaction.csv{'?' + e(query) if query else ''}'>下载CSV · CSV</a></form>"),
             (f"<p>评价 {o['count']} 条 · {o['count']} ratings；好评 good {o['good']}，差评 poor {o['poor']}；"
             f"满意率 rate <b>{_percent(o)}</b>；平均分 mean {o['mean']:.2f}</p>"),
             "<table><tr><th>评价 Level</th><th class='n'>数量 Count</th><th></th></tr>"]
    levels = ("very_dissatisfied", "dissatisfied", "basic", "satisfied", "very_satisfied")
    top = max(o["levels"]) if o["count"] else 0
    for rating in range(5, 0, -1):
        n = o["levels"][rating - 1]
        width = n / top * 100 if top else 0
        kind = "poor" if rating <= 2 else "good"
        parts.append(f"<tr><td>{rating} · {e(_label(FEEDBACK_LEVELS, levels[rating - 1]))}</td>"
                     f"<td class='n'>{n}</td><td><span class='bar'><span class='{kind}' "
                     f"style='width:{width:.2f}%'></span></span></td></tr>")
    parts.append("</table>")
    parts += _groups("按周（近12周）· By week (last 12)", data["weeks"],
                     lambda g: f"{e(g['key'])}（{e(g['monday'])}起 from）")
    parts += _groups("按窗口 · By counter", data["counters"], lambda g: e(g["key"]) or "未知 unknown")
    parts += _groups("按人员 · By clerk", data["clerks"], lambda g: e(g["key"]) or "未知 unknown")
    parts += _groups("五心服务 · Five hearts", data["hearts"], lambda g: e(_label(FEEDBACK_HEARTS, g["key"])))
    parts.append("<p>满意率 = （非常满意 + 满意 + 基本满意）/ 全部 · rate = (very satisfied + satisfied + "
                 "fairly satisfied) / all</p></body></html>")
    return "".join(parts)


# ---- the due list -----------------------------------------------------------------------------


def due_html(report, within_text: str) -> str:
    today: date = report.today
    query = urlencode({"within": within_text, "overdue": "1" if report.overdue_included else "0"})
    other = urlencode({"within": within_text, "overdue": "0" if report.overdue_included else "1"})
    parts = [head("周检到期 · Verification due", style=BAR_STYLE), "<h1>周检到期 · Verification due</h1>",
             ("<form method='get' action='/office/due'>"
             f"今后 Within <input name='within' value='{e(within_text)}' size='6'> （如 e.g. 30d, 6w） "
             f"<input type='hidden' name='overdue' value='{'1' if report.overdue_included else '0'}'>"
             "<button type='submit'>查看 Show</button> "
             f"<a href='/office/due.csv?{e(query)}'>下载CSV（含完整电话）· CSV (full phone numbers)</a> "
             f"<a href='/office/due?{e(other)}'>"
             f"{'不含已过期 · without overdue' if report.overdue_included else '含已过期 · with overdue'}</a></form>")]
    if report.catalog_version is None:
        parts.append("<p class='msg'>尚未导入收费目录，不知道检定周期 · No fee catalogue imported: "
                     "no verification cycles known</p>")
    overdue = sum(1 for i in report.items if i.due_on < today)
    parts.append(f"<p>共 {len(report.items)} 项，其中已过期 {overdue} 项"
                 f"（{today.isoformat()} 起 {report.within_days} 天内）"
                 f" · {len(report.items)} due, {overdue} overdue (within {report.within_days} days of "
                 f"{today.isoformat()}; catalogue v{report.catalog_version or '—'})</p>")
    if report.items:
        parts.append("<table><tr><th>到期日 Due</th><th>受理号 Ticket</th><th>送检单位 Organisation</th>"
                     "<th>联系人 Contact</th><th>电话 Phone</th><th>仪器 Instrument</th><th>收费标准号 Fee no.</th>"
                     "<th>出厂编号 Serial</th><th class='n'>数量 Qty</th><th>取件日 Picked up</th>"
                     "<th class='n'>周期 Cycle</th></tr>")
        for i in report.items:
            late = i.due_on < today
            mark = " <span class='mark'>已过期 overdue</span>" if late else ""
            row = " class='overdue'" if late else ""
            parts.append(
                f"<tr{row}><td>{i.due_on.isoformat()}{mark}</td><td>{e(i.number)}</td>"
                f"<td>{e(i.organisation) or '—'}</td><td>{e(i.contact) or '—'}</td>"
                f"<td>{e(mask_phone(i.phone)) or '—'}</td><td>{e(i.name_zh)} {e(i.name_en)}</td><td>{e(i.code)}</td>"
                f"<td>{e(i.serial_number) or '—'}</td><td class='n'>{i.quantity}</td>"
                f"<td>{i.picked_up_on.isoformat()}</td><td class='n'>{i.cycle_months} 月 months</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


# ---- the work list ------------------------------------------------------------------------------


def worklist_html(worklist) -> str:
    days = worklist.pickup_days
    parts = [head("在办清单 · Work list", style=BAR_STYLE), "<h1>在办清单 · Work list</h1>",
             ("<form method='get' action='/office/worklist'>"
              f"取件期限 Pickup period <input name='days' value='{days}' size='4'> 天 days "
              "<button type='submit'>查看 Show</button> "
              f"<a href='/office/worklist.csv?days={days}'>下载CSV（含完整电话）· CSV (full phone numbers)</a></form>"),
             (f"<p>在检 {worklist.in_lab} 单，逾期 {worklist.in_lab_late}；"
              f"待取 {worklist.waiting} 单，超过 {days} 天未取 "
              f"{worklist.waiting_overdue} · in the lab {worklist.in_lab} ({worklist.in_lab_late} late); ready "
              f"{worklist.waiting} ({worklist.waiting_overdue} waiting over {days} days)</p>")]
    if worklist.items:
        parts.append("<table><tr><th>状态 State</th><th>承诺/等待 Promise / waiting</th><th>受理号 Ticket</th>"
                     "<th>送检单位 Organisation</th><th>联系人 Contact</th><th>电话 Phone</th>"
                     "<th class='n'>件数 Qty</th><th>收件/完成 Since</th></tr>")
        for i in worklist.items:
            if i.status == "ready":
                state = "待取 ready"
                promise = f"{i.waiting_days} 天 days" + (" <span class='mark'>超期 overdue</span>" if i.late else "")
            else:
                state = f"{e(work_text(i.in_work, 'zh'))} {e(work_text(i.in_work, 'en'))}"  # the desk's words
                due = i.due
                promise = "—" if due is None else (f"加急 urgent {i.urgent_by:%Y-%m-%d %H:%M}" if i.urgent_by == due
                                                   else f"{i.ready_on.isoformat()}")
                if i.late:
                    promise += " <span class='mark'>逾期 late</span>"
            row = " class='overdue'" if i.late else ""
            parts.append(f"<tr{row}><td>{state}</td><td>{promise}</td><td>{e(i.number)}</td>"
                         f"<td>{e(i.organisation) or '—'}</td><td>{e(i.contact) or '—'}</td>"
                         f"<td>{e(mask_phone(i.phone)) or '—'}</td><td class='n'>{i.instruments}</td>"
                         f"<td>{i.since:%Y-%m-%d %H:%M}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)
