"""The fee schedule, searched as the kiosk searches it (Chinese, pinyin, initials, English,
aliases, fee numbers), PAGE_SIZE rows a page: each row's fee-standard number, regulation, price
and add-ons, and for which uses its verification is compulsory, and so free (财税〔2017〕20号)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kiosk.domain.catalog import SERVICES, USES, FeeRow
from kiosk.domain.vocabulary import COMPULSORY_USES, FIELDS
from kiosk.i18n import use_name

from .estimate import carry, read_list
from .pages import PREFIX, lang_of, page, words
from .schedule import current

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
MAX_QUERY = 60

words.update({
    "fees": ("收费标准", "Fee schedule"),
    "fees_intro": (("可用中文、拼音、拼音首字母、英文或收费标准号查找，"
                    "例如：压力表、yalibiao、ylb、pressure gauge、L-001。"),
                   ("Search in Chinese, pinyin, pinyin initials, English or by fee number, e.g. 压力表, yalibiao, "
                    "ylb, pressure gauge, L-001.")),
    "fees_search": ("查找", "Search"),
    "fees_all_services": ("全部服务", "All services"),
    "fees_found": ("共 {count} 项", "{count} rows"),
    "fees_none": ("没有找到匹配的项目。", "Nothing matches."),
    "fees_page": ("第 {page}/{pages} 页", "Page {page} of {pages}"),
    "fees_prev": ("上一页", "Previous"),
    "fees_next": ("下一页", "Next"),
    "fee_number": ("收费标准号", "Fee no."),
    "fee_regulation": ("依据", "Regulation"),
    "fee_price": ("收费", "Fee"),
    "fee_minimum": ("最低收费", "Minimum"),
    "fee_point": ("每增加一个测量点（含 {n} 点）", "Each point beyond {n}"),
    "fee_range": ("每增加一个量程（含 {n} 个）", "Each range beyond {n}"),
    "fee_metre": ("超过 {n} 米每米", "Each metre beyond {n} m"),
    "fee_ac_dc": ("交直流两用加收", "AC and DC"),
    "fee_cycle": ("检定周期", "Verification cycle"),
    "fee_cycle_months": ("{n} 个月", "{n} months"),
    "fee_days": ("承诺时限", "Promised"),
    "fee_days_n": ("{n} 个工作日", "{n} working days"),
    "fee_free_for": ("强制检定，以下用途免费：{uses}", "Compulsory verification, free when used for: {uses}"),
    "fee_free_other": ("其他用途按标准收费。", "Other uses are charged."),
    "fee_not_compulsory": ("不属强制检定目录，按标准收费。", "Not in the compulsory catalogue: charged."),
    "fee_no_urgent": ("不办理加急", "No urgent service"),
    "fee_add": ("加入估算", "Add to estimate"),
    "fee_field": ("专业", "Field"),
})


def _page_number(text: str | None) -> int:
    text = (text or "1").strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 5 and int(text) >= 1 else 1


@router.get(PREFIX + "/fees")
def fees_page(request: Request) -> Response:
    schedule = current(request.app.state.storage)
    lang = lang_of(request)
    params = request.query_params
    query = (params.get("q") or "")[:MAX_QUERY]
    service = params.get("service") if params.get("service") in SERVICES else ""
    found = [row for row in schedule.find(query) if not service or row.service == service]
    pages = max(1, -(-len(found) // PAGE_SIZE))
    number = min(_page_number(params.get("page")), pages)
    listed, _ = read_list(request, schedule)  # an estimate's list, kept in the links to it
    return page(request, "public/fees.html", "fees", schedule=schedule, query=query, service=service,
                services=SERVICES, rows=found[(number - 1) * PAGE_SIZE:number * PAGE_SIZE], count=len(found),
                page_number=number, pages=pages, carried=carry(listed), fields=FIELDS,
                free_uses=lambda row: free_uses(row, lang))


def free_uses(row: FeeRow, lang: str) -> str:
    """The uses that make the row's verification compulsory and free, in USES order."""
    named = [use_name(use, lang) for use in USES if use in COMPULSORY_USES and use in row.compulsory_uses]
    return ("、" if lang == "zh" else ", ").join(named)
