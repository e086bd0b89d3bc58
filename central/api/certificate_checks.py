"""证书核对 in the back office (central/certificate_checks.py): certificates checked at the dispatch
counters, returned and why, by lab field and week, with the error rate; as JSON, a page and CSV. No
personal data: every role that may see the figures."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from kiosk.domain import certificate_check as rule
from kiosk.domain.clock import today

from .. import certificate_checks
from ..templating import render
from .deps import Office, Store
from .params import DAY, BadParameter, described, period
from .responses import BAD_QUERY, BUSY, CSV, PAGE, UNAUTHORISED, csv_response, invalid, json_response

router = APIRouter(tags=["office"])

Start = Annotated[str | None, Query(alias="from", **described(DAY, "the first local day, YYYY-MM-DD (its week "
                                                                    "counts whole); default: 12 weeks back"))]
End = Annotated[str | None, Query(alias="to", **described(DAY, "the last local day, not before `from`; "
                                                                "default: today"))]
TITLE = "证书核对 · Certificate checks"
WEEKS = 12


def _read(store, start: str | None, end: str | None) -> tuple[date, date, list[rule.CheckFigure]]:
    first, last = period(start, end)
    last = last or today()
    first = first or rule.week_of(last) - timedelta(weeks=WEEKS - 1)
    return first, last, certificate_checks.figures(store, first, last)


def _dict(f: rule.CheckFigure) -> dict:
    return {"week": f.week.isoformat(), "field": f.field, "checked": f.checked, "returned": f.returned,
            "rechecked": f.rechecked, "error_rate": round(f.error_rate, 4), "reasons": f.reasons}


@router.get("/api/v1/office/certificate-checks", responses={**BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_certificate_checks(_: Office, store: Store, start: Start = None, end: End = None) -> Response:
    try:
        first, last, found = _read(store, start, end)
    except BadParameter as e:
        return invalid(e)
    return json_response({"from": first.isoformat(), "to": last.isoformat(), "rows": [_dict(f) for f in found]})


@router.get("/office/certificate-checks", response_class=HTMLResponse, responses=PAGE)
def office_certificate_checks_page(viewer: Office, store: Store, start: Start = None,
                                   end: End = None) -> HTMLResponse:
    from urllib.parse import urlencode

    from kiosk.i18n import field_name
    from kiosk.i18n.checks_text import reasons_text

    from ..office_pages import message_html

    try:
        first, last, found = _read(store, start, end)
    except BadParameter as e:
        return HTMLResponse(message_html(TITLE, str(e), "/office/certificate-checks", viewer), 422)
    total = rule.figures(rule.CheckRow(first, "*", r.outcome, r.wrong, r.recheck)
                         for r in certificate_checks.check_rows(store, first, last))
    fields = rule.figures(rule.CheckRow(first, r.field, r.outcome, r.wrong, r.recheck)
                          for r in certificate_checks.check_rows(store, first, last))

    def field(letter: str) -> str:
        return f"{letter} {field_name(letter, 'zh')} · {field_name(letter, 'en')}" if letter not in ("?", "*") \
            else "—"

    return HTMLResponse(render(
        "certificate_checks.html", title=TITLE, viewer=viewer, first=first, last=last, rows=found,
        total=total[0] if total else None, fields=fields, field=field,
        reasons=lambda r: f"{reasons_text(r, 'zh')} · {reasons_text(r, 'en')}" if r else "—",
        percent=lambda f: f"{f.error_rate * 100:.1f}%",
        query=urlencode({"from": first.isoformat(), "to": last.isoformat()})))


@router.get("/office/certificate-checks.csv", response_class=Response,
            responses={**CSV, **BAD_QUERY, **UNAUTHORISED, **BUSY})
def office_certificate_checks_csv(_: Office, store: Store, start: Start = None, end: End = None) -> Response:
    try:
        first, last, found = _read(store, start, end)
    except BadParameter as e:
        return invalid(e)
    return csv_response(rule.to_csv(found), f"certificate-checks-{first}-{last}.csv")
