"""好差评 for the provincial platform: one record per rating in the shape provincial evaluation
interfaces take (per rating: stage, transaction number, staff number, department, level, reasons,
time, rater type), as CSV and as JSON, from the device's database (`kiosk satisfaction --export`)
and from central's events (the back office): one owner of the shape, this module. Pure.

No personal data: no phone, no comment, no customer or clerk name; the reason's words are the
rater's own. A lobby kiosk's rating (no stage of its own) is exported under the stage the ticket
had reached (picked up: 办结, else 受理) with the serving clerk's username for want of a 工号; an
anonymous one has neither. Appeals: the decision is a column; an upheld appeal's rating is
exported, marked, never left out (ratings are never deleted)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from kiosk.domain.clock import local
from kiosk.domain.feedback import LEVELS, POOR, STAGE_CODES, STAGE_LABELS, STAGES, STANDARD_LABELS
from kiosk.domain.spreadsheet import safe_row

REASON_LABELS = {"slow": "等候或办理太久", "attitude": "服务态度不好", "fees": "收费不清楚",
                 "unclear": "说明解释不清", "quality": "证书或仪器有问题", "other": "其他原因"}
CHANNELS = {"window": "窗口评价器", "kiosk": "自助终端"}
# Who rated: the institute's customers are organisations (a ticket names one): 法人; a rating
# without a ticket: not known.
RATER_TYPES = {"organisation": ("2", "法人"), "unknown": ("0", "未知")}
APPEAL_LABELS = {"upheld": "申诉成立", "rejected": "申诉不成立", "waiting": "申诉待审核"}

FIELDS = ("id", "stage", "stage_name", "transaction_number", "staff_number", "department", "level", "level_name",
          "poor", "reasons", "rated_at", "rater_type", "rater_type_name", "channel", "counter", "appeal")


@dataclass(frozen=True)
class ExportRating:
    uid: str
    given_at: datetime  # aware
    rating: int  # 1..5, 5 best
    stage: str | None  # intake | completion | None (anonymous)
    number: str | None  # the ticket's number (办件编号)
    staff_number: str | None
    counter: str | None
    reason: str | None
    reason_text: str = ""
    channel: str = "kiosk"  # window | kiosk
    appeal: str | None = None  # upheld | rejected | waiting | None


def from_payload(payload: dict, appeal: str | None = None) -> ExportRating | None:
    """A `feedback.given` payload (kiosk/domain/events.py FeedbackGiven, as stored) as exported;
    None when it cannot count (no 1-5 rating, no time)."""
    rating = payload.get("rating")
    try:
        given_at = datetime.fromisoformat(payload.get("at") or "")
    except (TypeError, ValueError):
        return None
    if isinstance(rating, bool) or rating not in LEVELS or given_at.tzinfo is None:
        return None
    steps = payload.get("steps") or {}
    stage = payload.get("stage")
    window = stage is not None
    if not window and payload.get("ticket"):
        stage = "completion" if "picked_up" in steps else "intake"
    served = (steps.get("picked_up") or steps.get("received") or {}) if isinstance(steps, dict) else {}
    staff = payload.get("staff_number") or (served.get("clerk") if isinstance(served, dict) else None)
    return ExportRating(str(payload.get("feedback") or ""), given_at, rating, stage, payload.get("number"),
                        staff, payload.get("counter"), payload.get("reason"), payload.get("reason_text") or "",
                        "window" if window else "kiosk", appeal)


def record(r: ExportRating, department: str) -> dict:
    """One rating as the platform takes it (field names: FIELDS)."""
    rater = RATER_TYPES["organisation" if r.number else "unknown"]
    reasons = REASON_LABELS.get(r.reason or "", "") if r.rating in POOR else ""
    if reasons and r.reason_text:
        reasons = f"{reasons}：{r.reason_text}"
    return {
        "id": r.uid,
        "stage": STAGE_CODES.get(r.stage or "", ""),
        "stage_name": STAGE_LABELS.get(r.stage or "", ""),
        "transaction_number": r.number or "",
        "staff_number": r.staff_number or "",
        "department": department,
        "level": r.rating,
        "level_name": STANDARD_LABELS[r.rating],
        "poor": r.rating in POOR,
        "reasons": reasons,
        "rated_at": local(r.given_at).isoformat(timespec="seconds"),
        "rater_type": rater[0],
        "rater_type_name": rater[1],
        "channel": CHANNELS.get(r.channel, r.channel),
        "counter": r.counter or "",
        "appeal": APPEAL_LABELS.get(r.appeal or "", ""),
    }


def records(ratings: Iterable[ExportRating], department: str) -> list[dict]:
    """Oldest first."""
    return [record(r, department) for r in sorted(ratings, key=lambda r: (r.given_at, r.uid))]


def to_csv(ratings: Iterable[ExportRating], department: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in records(ratings, department):
        writer.writerow(safe_row([("1" if row[f] else "0") if f == "poor" else row[f] for f in FIELDS]))
    return out.getvalue()


def to_json(ratings: Iterable[ExportRating], department: str) -> str:
    return json.dumps({"department": department, "ratings": records(ratings, department)}, ensure_ascii=False,
                      indent=1)


# ---- the pads' ratings by counter, clerk, stage and week (the back office, `kiosk ratings window`) ----


def window_groups(ratings: Iterable[ExportRating], clerks: dict[str, str] | None = None) -> dict[str, list]:
    """The window ratings (channel "window") grouped four ways, each a list of
    kiosk.domain.satisfaction.Group (most ratings first; weeks oldest first): "counter",
    "clerk" (by 工号, labelled `clerks[staff]` + 工号 when a name is known), "stage", "week".
    A rating an upheld appeal set aside is left out of the counts."""
    return window_counts(((r, 1) for r in ratings), clerks)


def window_counts(counted: Iterable[tuple[ExportRating, int]], clerks: dict[str, str] | None = None
                  ) -> dict[str, list]:
    """window_groups of ratings given as (a rating, how many ratings alike): what central's rating
    read model sums in SQL (alike: the same channel, stage, counter, 工号, local day, level, appeal)."""
    from kiosk.domain.satisfaction import UNKNOWN, Group, week_of

    kept = [(r, n) for r, n in counted if r.channel == "window" and r.appeal != "upheld"]
    names = clerks or {}

    def grouped(key) -> list:
        buckets: dict[str, list[int]] = {}
        for r, n in kept:
            levels = buckets.setdefault(key(r) or UNKNOWN, [0] * 5)
            levels[r.rating - 1] += n
        return [Group(k, tuple(v)) for k, v in buckets.items()]

    def clerk(r: ExportRating) -> str | None:
        if not r.staff_number:
            return None
        name = names.get(r.staff_number)
        return f"{name}（{r.staff_number}）" if name else r.staff_number

    def ranked(groups: list) -> list:
        return sorted(groups, key=lambda g: (g.key == UNKNOWN, -g.count, g.key))

    return {"counter": ranked(grouped(lambda r: r.counter)), "clerk": ranked(grouped(clerk)),
            "stage": sorted(grouped(lambda r: r.stage), key=lambda g: STAGES.index(g.key) if g.key in STAGES else 9),
            "week": sorted(grouped(lambda r: week_of(r.given_at)), key=lambda g: g.key)}
