"""A fee estimate for a list of instruments, by the kiosk's engine (kiosk/domain/fees.py) on
central's current catalogue (central/public/schedule.py), without script: one GET form.

The list is the query: `code`, `qty` and `use` repeated, one of each per line, in order (no
personal data, so a list may be bookmarked or sent on). `add=CODE` adds a line, `drop=N` takes
line N out, and each answers with a 303 to the list as it then is (a reload adds nothing twice);
`q` searches the schedule beside the list; `urgent` is 72h, 24h or 8h.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kiosk.domain.catalog import USES, FeeRow
from kiosk.domain.fees import URGENT_TIERS, EstimateRequest, LineRequest, estimate
from kiosk.domain.vocabulary import normalise_token
from kiosk.i18n.estimate_text import closing_notes, line_notes, total_rows

from .pages import PREFIX, href, lang_of, page, word, words
from .schedule import Schedule, current

router = APIRouter(include_in_schema=False)

MOST_LINES = 40  # a phone's list; the kiosk's engine takes 100
MOST_QUANTITY = 999
SHOWN_FOUND = 8  # search results beside the list
MAX_QUERY = 60

words.update({
    "estimate": ("费用估算", "Fee estimate"),
    "est_intro": ("查找仪器加入清单，选择数量和用途，费用按收费标准即时计算。",
                  "Find instruments, add them to the list, choose quantity and use: priced by the fee schedule."),
    "est_search": ("查找仪器", "Find an instrument"),
    "est_search_button": ("查找", "Search"),
    "est_add": ("加入", "Add"),
    "est_list": ("估算清单", "Your list"),
    "est_empty": ("清单为空：请先查找并加入仪器。", "The list is empty: find an instrument and add it."),
    "est_quantity": ("数量", "Quantity"),
    "est_use": ("用途", "Use"),
    "est_service": ("服务", "Service"),
    "est_remove": ("移除", "Remove"),
    "est_update": ("重新计算", "Update"),
    "est_clear": ("清空清单", "Clear the list"),
    "est_urgent": ("加急", "Urgent"),
    "est_not_urgent": ("不加急", "Not urgent"),
    "est_none_found": ("没有找到匹配的仪器。", "No instrument matches."),
    "est_unknown": ("收费标准号 {code} 不在现行收费标准中，已移除。", ("Fee number {code} is not in the current "
                                                         "schedule: removed.")),
    "est_bad_quantity": ("第 {n} 行：数量应为 1～{most} 的整数，已改为 1。", ("Line {n}: the quantity must be a whole "
                                                                 "number 1-{most}; set to 1.")),
    "est_bad_use": ("第 {n} 行：用途无效，已改为“其他”。", "Line {n}: unknown use; set to other."),
    "est_too_many": ("清单最多 {most} 行。", "A list holds at most {most} lines."),
    "est_no_catalog": ("收费标准尚未发布。", "No fee schedule has been published yet."),
    "est_version": ("收费标准版本 {version}", "Fee schedule version {version}"),
    "est_more": ("在收费标准中查看全部结果", "All results in the fee schedule"),
})


@dataclass(frozen=True)
class Line:
    code: str
    quantity: int
    use: str


def read_list(request: Request, schedule: Schedule) -> tuple[list[Line], list[str]]:
    """The list in the query, checked line by line: what is kept, and what was wrong (words)."""
    lang = lang_of(request)
    params = request.query_params
    codes, quantities, uses = params.getlist("code"), params.getlist("qty"), params.getlist("use")
    lines: list[Line] = []
    problems: list[str] = []
    for i, raw in enumerate(codes[:MOST_LINES]):
        n = i + 1
        code = normalise_token(raw).upper()[:30]
        if code not in schedule.by_code:
            problems.append(word("est_unknown", lang).format(code=code or "—"))
            continue
        quantity_text = normalise_token(quantities[i]) if i < len(quantities) else "1"
        quantity = int(quantity_text) if quantity_text.isascii() and quantity_text.isdecimal() \
            and len(quantity_text) <= 4 else 0
        if not 1 <= quantity <= MOST_QUANTITY:
            problems.append(word("est_bad_quantity", lang).format(n=n, most=MOST_QUANTITY))
            quantity = 1
        use = uses[i] if i < len(uses) else "other"
        if use not in USES:
            problems.append(word("est_bad_use", lang).format(n=n))
            use = "other"
        lines.append(Line(code, quantity, use))
    if len(codes) > MOST_LINES:
        problems.append(word("est_too_many", lang).format(most=MOST_LINES))
    return lines, problems


def carry(lines: list[Line]) -> list[tuple[str, str]]:
    """The list as query pairs, for a link that keeps it."""
    return [pair for ln in lines for pair in (("code", ln.code), ("qty", str(ln.quantity)), ("use", ln.use))]


def _urgent(request: Request) -> str | None:
    tier = request.query_params.get("urgent")
    return tier if tier in URGENT_TIERS else None


@router.get(PREFIX + "/estimate")
def estimate_page(request: Request) -> Response:
    schedule = current(request.app.state.storage)
    lang = lang_of(request)
    lines, problems = read_list(request, schedule)
    params = request.query_params
    added, dropped = params.get("add"), params.get("drop")
    if added is not None or dropped is not None:
        if added is not None:
            code = normalise_token(added).upper()[:30]
            if code in schedule.by_code and len(lines) < MOST_LINES:
                lines.append(Line(code, 1, "other"))
        if dropped is not None and dropped.isascii() and dropped.isdecimal() and int(dropped) < len(lines):
            del lines[int(dropped)]
        target = href(PREFIX + "/estimate", lang, carry(lines), urgent=_urgent(request), q=params.get("q"))
        return RedirectResponse(target, 303)
    query = (params.get("q") or "")[:MAX_QUERY]
    found: list[FeeRow] = schedule.find(query)[:SHOWN_FOUND + 1] if query.strip() else []
    urgent = _urgent(request)
    priced = None
    if lines:
        asked = EstimateRequest(tuple(LineRequest(ln.code, ln.quantity, ln.use) for ln in lines), urgent)
        priced = estimate(asked, schedule.by_code, schedule.policy, schedule.version)
    shown = []
    for i, ln in enumerate(lines):
        row = schedule.by_code[ln.code]
        line = priced.lines[i] if priced else None
        shown.append({"index": i, "row": row, "quantity": ln.quantity, "use": ln.use, "line": line,
                      "siblings": schedule.siblings(row),
                      "notes": line_notes(line, urgent, lang) if line else []})
    return page(request, "public/estimate.html", "estimate", schedule=schedule, lines=shown, problems=problems,
                query=query, found=found[:SHOWN_FOUND], more=len(found) > SHOWN_FOUND, uses=USES,
                tiers=URGENT_TIERS, urgent=urgent, estimate=priced,
                totals=total_rows(priced) if priced else [], closing=closing_notes(priced, lang) if priced else [],
                carried=carry(lines))
