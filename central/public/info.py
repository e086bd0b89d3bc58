"""The home page: what the institute does, promises, when and where (the institute's file as
central holds it: central/institute.py), and the services it prices (the current catalogue)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .pages import CSS, PREFIX, STYLESHEET, page, words

router = APIRouter(include_in_schema=False)

words.update({
    "home": ("服务与承诺", "Services and commitments"),
    "services": ("服务项目", "Services"),
    "commitments": ("服务承诺", "Our commitments"),
    "hours": ("办公时间", "Opening hours"),
    "counters": ("窗口", "Counters"),
    "receiving": ("收件", "Receiving"),
    "dispatch": ("发件", "Dispatch"),
    "notices": ("送检须知", "Notices"),
    "service_verification": ("检定：依据检定规程（JJG），给出合格与否的结论，强制检定项目用于规定用途时免费。",
                             ("Verification: against a regulation (JJG), pass or fail; free for compulsory "
                             "instruments in the uses the law names.")),
    "service_calibration": ("校准：依据校准规范（JJF），出具带测量结果和不确定度的校准证书。",
                            ("Calibration: against a specification (JJF), a certificate with measured values "
                            "and their uncertainty.")),
    "service_testing": ("检测：按标准或客户要求检测。", "Testing: against a standard or as the customer asks."),
    "service_repair": ("修理：检定不合格的器具可按约定修理。", ("Repair: an instrument that fails can be repaired, "
                                                          "as agreed.")),
    "look_fees": ("查看收费标准", "See the fee schedule"),
    "look_progress": ("查询送检进度", "Follow a ticket"),
})
DEFAULT_SERVICES = ("service_verification", "service_calibration", "service_testing", "service_repair")


@router.get(PREFIX)
@router.get(PREFIX + "/")
def home(request: Request) -> HTMLResponse:
    return page(request, "public/info.html", "home", default_services=DEFAULT_SERVICES)


@router.get(STYLESHEET)
def stylesheet() -> Response:
    """The same for everyone, no personal data: a browser may keep it a day."""
    return Response(CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=86400"})


def to_home() -> RedirectResponse:
    """`/` on the public site's own port."""
    return RedirectResponse(PREFIX + "/", 303)
