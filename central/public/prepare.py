"""预约送检 (prepared registration) on the public site (issue 22 items 2 and 3): a customer enters the
organisation, contact, phone and instruments (found in the fee schedule as the kiosk finds them, or
read from an e-CQS ledger export or the institute's template: kiosk/domain/ledger.py), sees the
estimate by the kiosk's engine, and gets the registration as QR codes (kiosk/domain/prepared.py)
on the phone and on a printable page; the lobby kiosk reads them offline.

No script: the whole form is one POST (multipart, so that a ledger can ride along) to PREFIX +
"/prepare", the button pressed (`do`) says what to do, and everything typed so far travels in the
body (the instruments as hidden fields `l<n>_<field>`), checked again on every post as if typed:
nothing personal is ever in a URL, a cookie or a log, and nothing is stored at central unless the
customer ticks "keep it for me" (central/prepared.py: 30 days, a link that carries a random token
and nothing else, erasable by the customer).

`do`: search (the first button: Enter in any field searches, which loses nothing), add, upload,
remove-<n>, update (the estimate again), finish (the QR page), edit (back from it). Limits: the
body (guard.LARGER_BODIES, MAX_BODY), an upload (ledger.MAX_BYTES, MAX_ROWS), MAX_FIELDS form
fields, MAX_LINES instruments (what a registration and the estimate engine take).
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email.parser import BytesParser
from typing import Literal, cast
from urllib.parse import parse_qsl

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from kiosk.domain import ledger as ledger_rules
from kiosk.domain.catalog import SERVICES, USES, FeeRow
from kiosk.domain.clock import local, today, utc_now
from kiosk.domain.fees import (
    MAX_METRES,
    MAX_POINTS,
    MAX_RANGES,
    URGENT_TIERS,
    Estimate,
    EstimateError,
    EstimateRequest,
    LineRequest,
    estimate,
)
from kiosk.domain.prepared import PreparedCodeError, PreparedInstrument, PreparedRegistration, decode, encode
from kiosk.domain.validation import (
    FieldError,
    clean_credit_code,
    clean_organisation,
    clean_person,
    clean_phone,
    clean_quantity,
    clean_text,
    mask_phone,
)
from kiosk.domain.vocabulary import normalise_token
from kiosk.i18n import name_of, service_name, t, use_name
from kiosk.i18n.estimate_text import closing_notes, line_notes, total_rows
from kiosk.i18n.ledger_text import problem_text

from .. import prepared as kept_store
from . import guard
from .pages import PREFIX, lang_of, page, word, words
from .schedule import Schedule, current

router = APIRouter(include_in_schema=False)

FORM = PREFIX + "/prepare"
MAX_BODY = ledger_rules.MAX_BYTES + 256 * 1024  # an upload and the form's fields (100 lines ~ 60 KB)
guard.LARGER_BODIES[FORM] = MAX_BODY
MAX_FIELDS = 2000
MAX_LINES = 100  # kiosk/domain/prepared.py, the estimate engine (fees.MAX_LINES)
SHOWN_FOUND = 12
MAX_QUERY = 60
# The instrument's own texts, each field's name in the form and its longest (as the kiosk takes them).
TEXTS = {"name": 60, "model": 60, "range": 60, "acc": 30, "serial": 60, "maker": 60, "place": 60, "req": 200}
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
# QR's alphanumeric mode, for the codes (Base32). The cast is true: MODE_ALPHA_NUM is 2, which
# qrcode's stubs (types-qrcode) declare a plain int while QRData takes only its mode literals.
ALPHA_NUM = cast(Literal[2], qrcode.util.MODE_ALPHA_NUM)

words.update({
    "prepare": ("预约送检", "Prepare a visit"),
    "prep_intro": (("在手机上填好单位、联系人和器具，得到一个二维码：到大厅自助机上扫一扫，核对后即可取号，"
                   "不用再逐项输入。"),
                   ("Fill in your organisation, contact and instruments here and get a QR code: scan it at the lobby "
                   "kiosk, check, and take your ticket, without typing it all again.")),
    "prep_private": ("本站不保存您填写的内容，除非您勾选「为我保存」；二维码就是您的登记。",
                     ("This site stores nothing you enter unless you tick \"keep it for me\": the QR code is your "
                     "registration.")),
    "prep_customer": ("送检单位", "Your organisation"),
    "prep_org": ("单位名称", "Organisation"),
    "prep_contact": ("联系人", "Contact person"),
    "prep_phone": ("联系电话", "Phone"),
    "prep_credit": ("统一社会信用代码（可不填）", "Unified social credit code (optional)"),
    "prep_add": ("逐台添加器具", "Add an instrument"),
    "prep_search": ("按名称、拼音或收费标准号查找", "Find by name, pinyin or fee number"),
    "prep_search_button": ("查找", "Search"),
    "prep_pick": ("请选择一项", "Choose one"),
    "prep_none_found": ("没有找到匹配的项目。", "Nothing matches."),
    "prep_quantity": ("数量", "Quantity"),
    "prep_use": ("用途", "Use"),
    "prep_model": ("型号规格", "Model / spec"),
    "prep_range": ("测量范围", "Range"),
    "prep_acc": ("准确度等级", "Accuracy class"),
    "prep_serial": ("出厂编号", "Serial number"),
    "prep_maker": ("生产厂家", "Manufacturer"),
    "prep_place": ("使用地点", "Location"),
    "prep_req": ("特殊要求", "Special requirements"),
    "prep_more": ("按测量点、量程或长度计费的项目", "Items priced by points, ranges or length"),
    "prep_points": ("测量点数", "Measuring points"),
    "prep_ranges": ("量程数", "Ranges"),
    "prep_metres": ("长度（米）", "Length (m)"),
    "prep_add_button": ("加入清单", "Add to the list"),
    "prep_upload": ("上传台账", "Upload a ledger"),
    "prep_upload_help": (("可上传e-CQS导出的强检器具台账，或填好的本院模板（.xlsx或.csv，最大{kb} KB，最多{rows}行）。"
                         "有问题的行会逐行列出，其余的行照常加入。"),
                         ("Upload an e-CQS ledger export or the institute's template filled in (.xlsx or .csv, at "
                         "most {kb} KB and {rows} rows). Rows with problems are listed one by one; the others are "
                         "added.")),
    "prep_template": ("下载模板", "Download the template"),
    "prep_upload_button": ("上传并加入", "Upload and add"),
    "prep_no_file": ("请先选择要上传的文件。", "Choose a file to upload first."),
    "prep_uploaded": ("从文件中加入了{added}台器具。", "{added} instruments added from the file."),
    "prep_duplicates": ("{count}行已在清单中，未重复加入。", "{count} rows were in the list already: not added again."),
    "prep_problems": ("以下{count}行没有加入：请改正后只上传这些行，或在上方逐台添加。",
                      ("These {count} rows were not added: correct them and upload only those rows, or add them above "
                      "by hand.")),
    "prep_list": ("器具清单", "Instruments"),
    "prep_empty": ("清单为空：请逐台添加或上传台账。", "The list is empty: add instruments or upload a ledger."),
    "prep_remove": ("移除", "Remove"),
    "prep_full": ("清单最多{most}项，其余未加入。", "The list holds at most {most} items: the rest were not added."),
    "prep_line_gone": ("第{n}项（{code}）已不在现行收费标准中，已移除。",
                       "Item {n} ({code}) is no longer in the fee schedule: removed."),
    "prep_line_bad": ("第{n}项内容无效，已移除。", "Item {n} could not be read: removed."),
    "prep_estimate": ("费用估算", "Estimate"),
    "prep_urgent": ("加急", "Urgent"),
    "prep_not_urgent": ("不加急", "Not urgent"),
    "prep_update": ("重新计算", "Update"),
    "prep_keep": ("为我保存30天（可随时删除），以便稍后再打开二维码",
                  "Keep it for me for 30 days (erasable any time) to open the QR code later"),
    "prep_finish": ("生成二维码", "Make the QR code"),
    "prep_fix": ("请先改正标出的内容。", "Please correct what is marked first."),
    "prep_no_lines": ("请至少加入一台器具。", "Add at least one instrument."),
    "prep_pick_first": ("请先在查找结果中选择一项。", "Choose one of the results first."),
    "prep_not_priced": ("此项目不按{what}计费，请留空。", "This item is not priced by {what}: leave it empty."),
    "prep_bad_number": ("应为{low}到{high}之间的数", "A number from {low} to {high}"),
    "prep_no_catalog": ("收费标准尚未发布，暂不能预约。", "No fee schedule has been published yet: try again later."),
    "prep_qr_title": ("预约送检二维码", "Your prepared registration"),
    "prep_qr_how": ("到大厅自助机的欢迎页，把二维码对准扫码口；核对后确认即可取号。",
                    "At the lobby kiosk's welcome screen, hold the code to the scanner; check and take a ticket."),
    "prep_qr_parts": ("共{count}个二维码，请依次扫描（顺序不限）。", "{count} codes: scan each (in any order)."),
    "prep_qr_part": ("第{n}/{count}个", "Code {n} of {count}"),
    "prep_qr_print": ("打印本页：用浏览器的「打印」。", "To print this page, use your browser's Print."),
    "prep_qr_kept": ("已为您保存到{until}。以后用这个链接打开（请勿转发给他人）：",
                     "Kept for you until {until}. Open it again with this link (do not share it):"),
    "prep_qr_erase": ("现在删除保存的内容", "Erase it now"),
    "prep_qr_erased": ("已删除。", "Erased."),
    "prep_qr_gone": ("没有找到：可能已过30天被删除，或已由您删除。",
                     "Not found: it may have been erased after 30 days, or by you."),
    "prep_qr_too_large": ("内容太多，无法生成二维码：请减少器具或备注文字，或分两次预约。",
                          "Too much for the QR codes: fewer instruments or shorter texts, or prepare two visits."),
    "prep_edit": ("返回修改", "Change it"),
    "prep_summary": ("登记内容", "What you registered"),
    "prep_instruments": ("{count}项器具", "{count} items"),
    "prep_fee_no": ("收费标准号", "Fee no."),
})


def _w(key: str, lang: str, **values) -> str:
    text = word(key, lang)
    return text.format(**values) if values else text


# ---- the form's body ------------------------------------------------------------------------------


class BadForm(ValueError):
    pass


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """multipart/form-data, read by the standard library's MIME parser: the text fields (first value)
    and the files' bytes, by field name."""
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise BadForm("no parts")
    fields: dict[str, str] = {}
    uploads: dict[str, bytes] = {}
    for number, part in enumerate(message.iter_parts()):
        if number >= MAX_FIELDS:
            raise BadForm("too many fields")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not 0 < len(name) <= 100:
            raise BadForm("a part without a name")
        payload = part.get_payload(decode=True)  # decoded: bytes, or None for a part that is itself multipart
        content = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            uploads.setdefault(name, content)
            continue
        try:
            fields.setdefault(name, content.decode("utf-8"))
        except UnicodeDecodeError:
            raise BadForm("a field not in UTF-8") from None
    if message.defects and not fields and not uploads:
        raise BadForm("not readable")
    return fields, uploads


def read_body(content_type: str | None, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        return _multipart(content_type or "", body)
    if kind == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS,
                              strict_parsing=False, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise BadForm("not readable") from None
        fields: dict[str, str] = {}
        for key, value in pairs:
            fields.setdefault(key, value)
        return fields, {}
    raise BadForm("not a form")


# ---- what the form holds --------------------------------------------------------------------------


@dataclass
class Line:
    """One instrument (or `quantity` alike) of the list, checked."""

    row: FeeRow
    quantity: int = 1
    use: str = "other"
    texts: dict[str, str] = field(default_factory=dict)  # TEXTS keys
    points: int | None = None
    ranges: int | None = None
    metres: Decimal | None = None

    def fields(self, n: int) -> list[tuple[str, str]]:
        """Its hidden fields in the form."""
        values = {"code": self.row.code, "qty": str(self.quantity), "use": self.use, **self.texts,
                  "points": "" if self.points is None else str(self.points),
                  "ranges": "" if self.ranges is None else str(self.ranges),
                  "metres": "" if self.metres is None else str(self.metres)}
        return [(f"l{n}_{key}", value) for key, value in values.items() if value]

    def same(self) -> tuple:
        return (self.row.code, self.quantity, self.use, tuple(sorted(self.texts.items())), self.points, self.ranges,
                self.metres)


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)  # the customer's fields as typed
    lines: list[Line] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # field -> what is wrong (words)
    notes: list[str] = field(default_factory=list)  # what happened to the list (words)
    problems: list[str] = field(default_factory=list)  # an upload's rows left out (words)
    found: list[FeeRow] = field(default_factory=list)
    searched: bool = False


CUSTOMER = ("organisation", "contact", "phone", "credit_code")
ADD = ("pick", "a_qty", "a_use", *(f"a_{key}" for key in TEXTS), "a_points", "a_ranges", "a_metres")


def _field_error(error: FieldError, lang: str) -> str:
    return t(error.key, lang, **error.values)


def _whole(text: str, low: int, high: int) -> int:
    text = normalise_token(text)
    if not (text.isascii() and text.isdecimal() and len(text) <= 6) or not low <= int(text) <= high:
        raise ValueError
    return int(text)


def _metres(text: str) -> Decimal:
    try:
        value = Decimal(normalise_token(text))
    except InvalidOperation:
        raise ValueError from None
    exponent = value.as_tuple().exponent
    if not value.is_finite() or not 0 < value <= MAX_METRES or not isinstance(exponent, int) or exponent < -3:
        raise ValueError
    return value


def check_line(values: dict[str, str], prefix: str, schedule: Schedule, lang: str
               ) -> tuple[Line | None, dict[str, str]]:
    """A line from the form's fields `<prefix>code`, `<prefix>qty`...: checked as the kiosk checks
    typing. The line, or the errors by field (without the prefix)."""
    errors: dict[str, str] = {}
    code = normalise_token(values.get(prefix + "code", "")).upper()[:30]
    row = schedule.by_code.get(code)
    if row is None:
        return None, {"code": _w("prep_pick_first", lang)}
    try:
        quantity = clean_quantity(values.get(prefix + "qty", "") or "1")
    except FieldError as e:
        errors["qty"], quantity = _field_error(e, lang), 1
    use = values.get(prefix + "use", "other") or "other"
    if use not in USES:
        errors["use"], use = t("ledger.use.unknown", lang, text=use[:20]), "other"
    texts = {}
    for key, most in TEXTS.items():
        try:
            if cleaned := clean_text(values.get(prefix + key, ""), max_length=most):
                texts[key] = cleaned
        except FieldError as e:
            errors[key] = _field_error(e, lang)
    numbers: dict[str, object] = {}
    for key, priced, high, what in (("points", row.per_point_fen, MAX_POINTS, "prep_points"),
                                    ("ranges", row.per_range_fen, MAX_RANGES, "prep_ranges"),
                                    ("metres", row.per_metre_fen, MAX_METRES, "prep_metres")):
        text = normalise_token(values.get(prefix + key, ""))
        if not text:
            numbers[key] = None
            continue
        if priced is None:
            errors[key] = _w("prep_not_priced", lang, what=_w(what, lang))
            continue
        try:
            numbers[key] = _metres(text) if key == "metres" else _whole(text, 1, high)
        except ValueError:
            errors[key] = _w("prep_bad_number", lang, low=1 if key != "metres" else 0, high=high)
    if errors:
        return None, errors
    points, ranges, metres = numbers.get("points"), numbers.get("ranges"), numbers.get("metres")
    return Line(row, quantity, use, texts, points if isinstance(points, int) else None,
                ranges if isinstance(ranges, int) else None, metres if isinstance(metres, Decimal) else None), {}


def read_form(values: dict[str, str], schedule: Schedule, lang: str) -> Form:
    form = Form(values={key: values.get(key, "")[:200] for key in (*CUSTOMER, "urgent", "keep", "q", *ADD)})
    numbers = sorted({int(m.group(1)) for key in values if (m := re.fullmatch(r"l(\d{1,3})_code", key))})
    for n in numbers[:MAX_LINES]:
        line, errors = check_line(values, f"l{n}_", schedule, lang)
        if line is not None:
            form.lines.append(line)
        elif "code" in errors:
            code = normalise_token(values.get(f"l{n}_code", ""))[:30]
            form.notes.append(_w("prep_line_gone", lang, n=n + 1, code=code))
        else:
            form.notes.append(_w("prep_line_bad", lang, n=n + 1))
    if len(numbers) > MAX_LINES:
        form.notes.append(_w("prep_full", lang, most=MAX_LINES))
    return form


def check_customer(form: Form, lang: str) -> dict[str, str]:
    cleaned = {}
    for key, clean in (("organisation", clean_organisation), ("contact", clean_person), ("phone", clean_phone),
                       ("credit_code", clean_credit_code)):
        try:
            cleaned[key] = clean(form.values.get(key, ""))
        except FieldError as e:
            form.errors[key] = _field_error(e, lang)
    return cleaned


def _urgent(form: Form) -> str | None:
    tier = form.values.get("urgent")
    return tier if tier in URGENT_TIERS else None


def add_lines(form: Form, new: list[Line], lang: str) -> tuple[int, int]:
    """Append what is not in the list already, up to MAX_LINES: (added, duplicates)."""
    have = {line.same() for line in form.lines}
    added = duplicates = 0
    for line in new:
        if line.same() in have:
            duplicates += 1
            continue
        if len(form.lines) >= MAX_LINES:
            form.notes.append(_w("prep_full", lang, most=MAX_LINES))
            break
        form.lines.append(line)
        have.add(line.same())
        added += 1
    return added, duplicates


_matchers: dict[int, tuple[Schedule, ledger_rules.Matcher]] = {}


def matcher(schedule: Schedule) -> ledger_rules.Matcher:
    """The ledger's matcher on the schedule's own search index, once per schedule built."""
    known = _matchers.get(id(schedule))
    if known is None or known[0] is not schedule:
        _matchers.clear()
        known = _matchers[id(schedule)] = (schedule, ledger_rules.Matcher(schedule.rows, schedule.index))
    return known[1]


def from_ledger(item: ledger_rules.LedgerLine) -> Line:
    texts = {"name": item.name, "model": item.model, "range": item.range, "acc": item.accuracy,
             "serial": item.serial, "maker": item.manufacturer, "place": item.location}
    if item.on_site:
        texts["req"] = f"送检方式：{item.delivery}"
    return Line(item.row, item.quantity, item.use, {k: v for k, v in texts.items() if v})


def upload(form: Form, data: bytes, schedule: Schedule, lang: str) -> None:
    if not data:
        form.errors["ledger"] = _w("prep_no_file", lang)
        return
    read = ledger_rules.read_ledger(data, matcher(schedule))
    added, duplicates = add_lines(form, [from_ledger(item) for item in read.lines], lang)
    if read.lines:
        form.notes.append(_w("prep_uploaded", lang, added=added))
    if duplicates:
        form.notes.append(_w("prep_duplicates", lang, count=duplicates))
    form.problems = [problem_text(problem, lang) for problem in read.problems]


def priced(form: Form, schedule: Schedule) -> Estimate | None:
    if not form.lines:
        return None
    asked = EstimateRequest(tuple(LineRequest(item=line.row.code, quantity=line.quantity, use=line.use,
                                              points=line.points, ranges=line.ranges, metres=line.metres)
                                  for line in form.lines), _urgent(form))
    try:
        return estimate(asked, schedule.by_code, schedule.policy, schedule.version)
    except EstimateError:  # checked line by line before: a schedule that changed under the form
        return None


# ---- the QR codes ---------------------------------------------------------------------------------


def qr_svg(text: str, label: str) -> Markup:
    """One part as an inline SVG (qrcode's path factory): alphanumeric mode, error correction M, the
    quiet zone in the picture; no size of its own (the page's CSS gives it the screen's width)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                         image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(qrcode.util.QRData(text, mode=ALPHA_NUM))
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    svg = re.sub(r'^<svg width="[^"]*" height="[^"]*"', "<svg", svg)
    svg = svg.replace("<svg ", f"<svg class='qr' role='img' aria-label='{label}' data-version='{code.version}' ", 1)
    return Markup(svg)  # the text is Base32: nothing to escape


def qr_version(text: str) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(qrcode.util.QRData(text, mode=ALPHA_NUM))
    code.make(fit=True)
    return code.version


def registration(form: Form, customer: dict[str, str], schedule: Schedule) -> PreparedRegistration:
    instruments = tuple(PreparedInstrument(
        code=line.row.code, service=line.row.service, quantity=line.quantity, use=line.use, points=line.points,
        ranges=line.ranges, metres=line.metres, name=line.texts.get("name", ""), model=line.texts.get("model", ""),
        measuring_range=line.texts.get("range", ""), accuracy=line.texts.get("acc", ""),
        serial_number=line.texts.get("serial", ""), manufacturer=line.texts.get("maker", ""),
        location=line.texts.get("place", ""), requirements=line.texts.get("req", "")) for line in form.lines)
    return PreparedRegistration(organisation=customer["organisation"], contact=customer["contact"],
                                phone=customer["phone"], credit_code=customer.get("credit_code", ""),
                                urgent=_urgent(form), instruments=instruments,
                                catalog_version=schedule.version or 0, prepared_on=today())


# ---- pages ----------------------------------------------------------------------------------------


def _helpers(lang: str) -> dict:
    """What the pages need beside what every public page gets (central/public/pages.py render)."""
    return {"pw": lambda key, **v: _w(key, lang, **v)}


def form_page(request: Request, form: Form, schedule: Schedule, status: int = 200) -> HTMLResponse:
    lang = lang_of(request)
    est = priced(form, schedule)
    lines = [{"n": n, "line": line, "hidden": line.fields(n), "priced": est.lines[n] if est else None,
              "texts": {key: line.texts.get(key, "") for key in TEXTS},
              "notes": line_notes(est.lines[n], est.urgent, lang) if est else []}
             for n, line in enumerate(form.lines)]
    values = {key: form.values.get(key, "") for key in (*CUSTOMER, "urgent", "keep", "q", *ADD)}
    return page(request, "public/prepare.html", "prepare", status, form=form, values=values, lines=lines,
                estimate=est, totals=total_rows(est) if est else [], closing=closing_notes(est, lang) if est else [],
                uses=USES, tiers=URGENT_TIERS, services=SERVICES, texts=TEXTS, schedule=schedule,
                max_kb=ledger_rules.MAX_BYTES // 1024, max_rows=ledger_rules.MAX_ROWS, **_helpers(lang))


def qr_page(request: Request, reg: PreparedRegistration, parts: list[str], schedule: Schedule, *,
            form: Form | None = None, kept: str | None = None, until=None, status: int = 200) -> HTMLResponse:
    lang = lang_of(request)
    codes = [qr_svg(text, _w("prep_qr_part", lang, n=i + 1, count=len(parts))) for i, text in enumerate(parts)]
    rows = []
    for item in reg.instruments:
        row = schedule.by_code.get(item.code)
        rows.append({"name": name_of(row, lang) if row else item.name or item.code, "code": item.code,
                     "service": service_name(item.service, lang) if item.service in SERVICES else item.service,
                     "use": use_name(item.use, lang) if item.use in USES else item.use, "quantity": item.quantity,
                     "said": [x for x in (item.model, item.measuring_range, item.accuracy, item.serial_number,
                                          item.manufacturer, item.location, item.requirements) if x]})
    hidden = []
    if form is not None:  # everything typed, to go back and change it
        hidden = [(key, form.values[key]) for key in (*CUSTOMER, "urgent") if form.values.get(key)]
        hidden += [pair for n, line in enumerate(form.lines) for pair in line.fields(n)]
    return page(request, "public/prepare_qr.html", "prep_qr_title", status, reg=reg, codes=codes, rows=rows,
                phone=mask_phone(reg.phone), hidden=hidden, kept=kept,
                until=f"{local(until):%Y-%m-%d}" if until else "",
                versions=[qr_version(text) for text in parts], **_helpers(lang))


def _schedule_or_message(request: Request) -> Schedule | HTMLResponse:
    schedule = current(request.app.state.storage)
    if schedule.version is None:
        return page(request, "public/message.html", "prepare", 503, text=_w("prep_no_catalog", lang_of(request)))
    return schedule


@router.get(FORM)
def prepare_start(request: Request) -> Response:
    schedule = _schedule_or_message(request)
    if isinstance(schedule, HTMLResponse):
        return schedule
    return form_page(request, Form(), schedule)


@router.post(FORM)
async def prepare_post(request: Request) -> Response:
    body = await request.body()
    try:
        values, files = read_body(request.headers.get("content-type"), body)
    except BadForm:
        return page(request, "public/message.html", "prepare", 400, text=word("bad_form", lang_of(request)))
    return await run_in_threadpool(_handle, request, values, files)  # the database and the search off the loop


def _handle(request: Request, values: dict[str, str], files: dict[str, bytes]) -> Response:
    schedule = _schedule_or_message(request)
    if isinstance(schedule, HTMLResponse):
        return schedule
    lang = lang_of(request)
    form = read_form(values, schedule, lang)
    action = values.get("do", "")
    if action == "search" or (action == "add" and not values.get("pick")):
        query = form.values.get("q", "")[:MAX_QUERY]
        form.found = schedule.find(query)[:SHOWN_FOUND] if query.strip() else []
        form.searched = bool(query.strip())
        if action == "add":
            form.errors["pick"] = _w("prep_pick_first", lang)
    elif action == "add":
        line, errors = check_line({k.removeprefix("a_"): v for k, v in values.items()
                                   if k.startswith("a_")} | {"code": values.get("pick", "")}, "", schedule, lang)
        if line is None:
            form.errors.update({f"a_{key}": message for key, message in errors.items()})
            picked = schedule.by_code.get(normalise_token(values.get("pick", "")).upper())
            form.found = [picked] if picked else []
        else:
            add_lines(form, [line], lang)
            for key in ADD:
                form.values[key] = ""
            form.values["q"] = ""
    elif action == "upload":
        upload(form, files.get("ledger", b""), schedule, lang)
    elif action.startswith("remove-"):
        number = action.removeprefix("remove-")
        if number.isascii() and number.isdecimal() and int(number) < len(form.lines):
            del form.lines[int(number)]
    elif action == "finish":
        customer = check_customer(form, lang)
        if not form.lines:
            form.errors["lines"] = _w("prep_no_lines", lang)
        if form.errors:
            form.notes.insert(0, _w("prep_fix", lang))
            return form_page(request, form, schedule, 422)
        reg = registration(form, customer, schedule)
        try:
            parts = encode(reg)
        except (PreparedCodeError, ValueError):
            form.notes.insert(0, _w("prep_qr_too_large", lang))
            return form_page(request, form, schedule, 422)
        token = until = None
        if form.values.get("keep") == "1":
            now = utc_now()
            token = kept_store.keep(request.app.state.storage, parts, now)
            found = kept_store.fetch(request.app.state.storage, token, now)
            until = found[1] if found else None
        return qr_page(request, reg, parts, schedule, form=form, kept=token, until=until)
    return form_page(request, form, schedule)


@router.get(FORM + "/kept/{token}")
def prepare_kept(request: Request, token: str) -> Response:
    schedule = current(request.app.state.storage)
    found = kept_store.fetch(request.app.state.storage, token, utc_now()) if TOKEN.fullmatch(token) else None
    if found is None:
        return page(request, "public/message.html", "prepare", 404, text=_w("prep_qr_gone", lang_of(request)))
    parts, until = found
    try:
        reg = decode(parts)
    except PreparedCodeError:
        return page(request, "public/message.html", "prepare", 404, text=_w("prep_qr_gone", lang_of(request)))
    return qr_page(request, reg, parts, schedule, kept=token, until=until)


@router.post(FORM + "/kept/{token}/erase")
def prepare_erase(request: Request, token: str) -> Response:
    gone = TOKEN.fullmatch(token) is not None and kept_store.erase(request.app.state.storage, token)
    key = "prep_qr_erased" if gone else "prep_qr_gone"
    return page(request, "public/message.html", "prepare", 200 if gone else 404, text=_w(key, lang_of(request)))


@router.get(FORM + "/template.csv")
def template_csv() -> Response:
    return Response(ledger_rules.template_csv(), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": "attachment; filename=\"prepare-template.csv\"",
        "cache-control": "public, max-age=3600"})


@router.get(FORM + "/template.xlsx")
def template_xlsx() -> Response:
    return Response(ledger_rules.template_xlsx(),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers={
                        "content-disposition": "attachment; filename=\"prepare-template.xlsx\"",
                        "cache-control": "public, max-age=3600"})


PRINT_CSS = b"""/* The prepared registration's pages (central/public/prepare.py): the QR codes at the screen's
   width, and a printout of the codes and the list only. */
svg.qr{display:block;width:100%;max-width:26em;height:auto;margin:.4em auto;background:#fff}
.qrpart{text-align:center;page-break-inside:avoid;break-inside:avoid}
fieldset{border:0;padding:0;margin:0}
.err{color:#c0392b;font-size:.9em;margin:.1em 0 .4em}
.pick{display:flex;gap:.5em;align-items:flex-start;padding:.35em 0;border-bottom:1px solid #eee}
.pick input{margin-top:.35em;flex:none}
.hint{color:#555;font-size:.9em}
details{margin:.5em 0}
input[type=file]{max-width:100%;font-size:15px}
input[type=checkbox]{width:1.2em;height:1.2em;vertical-align:middle}
ul.problems{padding-left:1.2em}
@media print{
  header,nav,footer,form,.noprint{display:none!important}
  body{background:#fff}
  main{max-width:none;padding:0}
  section,.item{border:0;margin:.2em 0;padding:0}
  svg.qr{max-width:9cm}
}
"""


@router.get(FORM + "/prepare.css")
def prepare_css() -> Response:
    return Response(PRINT_CSS, media_type="text/css; charset=utf-8", headers={"cache-control": "public, max-age=3600"})
