"""The work list's words (在办清单): a ticket's state as the desk and the `kiosk worklist` command say it."""

from __future__ import annotations

from kiosk.domain.worklist import WorkItem
from kiosk.i18n import t
from kiosk.i18n.status_text import work_text


def state_text(item: WorkItem, lang: str) -> str:
    """检定中 11-23 逾期 / 加急 11-25 08:00 / 待取 36天 超期: the earliest promise (in the lab: what is
    done there, in the counters' words), or the wait."""
    if item.returned:  # certificates sent back at dispatch: their own promise
        when = f"{item.corrected_by:%m-%d}" if item.corrected_by else ""
        text = t("check.worklist.returned", lang, count=item.returned, date=when)
        return text + (" " + t("desk.worklist.late", lang) if item.late else "")
    if item.status == "ready":
        return t("desk.worklist.waiting_overdue" if item.late else "desk.worklist.waiting", lang,
                 days=item.waiting_days)
    due = item.due
    work = work_text(item.in_work, lang)
    if due is None:
        return work
    urgent = item.urgent_by == due
    when = f"{due:%m-%d %H:%M}" if urgent else f"{item.ready_on:%m-%d}"
    text = t("desk.worklist.urgent" if urgent else "desk.worklist.promised", lang, when=when, work=work)
    return text + (" " + t("desk.worklist.late", lang) if item.late else "")
