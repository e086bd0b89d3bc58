"""What every public page shares: the path prefix, the language, the words, rendering.

    from .pages import PREFIX, page, words
    words.update({"my_key": ("中文", "English")})        # a module's own words, zh and en
    @router.get(PREFIX + "/thing")
    def thing(request: Request) -> HTMLResponse:
        return page(request, "public/thing.html", "my_key", rows=...)

A template extends public/base.html and gets `lang` ("zh" or "en"), `w(key)` (the word in that
language), `href(path, **query)` (a link that keeps an English reader in English even without
cookies), `lang_field()` (the hidden input a form posts for the same), `money(fen)`, and the
kiosk's words (`kt(key, **values)`, `service_name`, `use_name`, `unit_price`, `name_of`, `spec_of`). Autoescaped,
StrictUndefined, as the office's (central/templating.py).

The language: `?lang=zh|en` (which also sets the `lang` cookie: no personal data, a year), else
the cookie, else the browser's Accept-Language (English only if it asks for English before
Chinese), else Chinese.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from kiosk.i18n import money, name_of, service_name, spec_of, t, unit_name, unit_price, use_name

from .. import institute

PREFIX = "/public"
LANGS = ("zh", "en")
LANG_COOKIE = "lang"
STYLESHEET = PREFIX + "/public.css"
CSS = Path(__file__).parent.parent.joinpath("static", "public.css").read_bytes()
TEMPLATES = Path(__file__).parent.parent / "templates"

# key -> (zh, en). Each page module adds its own (words.update) at import.
words: dict[str, tuple[str, str]] = {
    "site": ("公众服务", "Public service"),
    "nav_info": ("服务与承诺", "Services"),
    "nav_fees": ("收费标准", "Fees"),
    "nav_estimate": ("费用估算", "Estimate"),
    "nav_progress": ("进度查询", "Progress"),
    "nav_prepare": ("预约送检", "Prepare a visit"),
    "switch": ("English", "中文"),
    "footer": ("本页不使用脚本，不加载外部资源。", "This page runs no script and loads nothing from elsewhere."),
    "too_many": ("请求过于频繁，请稍后再试。", "Too many requests: please try again shortly."),
    "not_found": ("页面不存在。", "There is no such page."),
    "bad_form": ("表单内容无法读取，请返回重试。", "The form could not be read: go back and try again."),
    "too_large": ("提交的内容过大。", "What was sent is too large."),
    "back_home": ("返回首页", "Home"),
    "free": ("免费", "free"),
    "quoted": ("现场报价", "quoted at the counter"),
}


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGS:
        return cookie
    accept = (request.headers.get("accept-language") or "").lower()
    en, zh = accept.find("en"), accept.find("zh")
    return "en" if en >= 0 and (zh < 0 or en < zh) else "zh"


def word(key: str, lang: str) -> str:
    zh, en = words[key]
    return zh if lang == "zh" else en


def href(path: str, lang: str, carry=(), **query) -> str:
    """`path` with `carry` (pairs, e.g. an estimate's list) and `query` (None or "" left out),
    and lang=en for an English reader."""
    params = [*carry, *((k, v) for k, v in query.items() if v is not None and v != "")]
    if lang != "zh":
        params.append(("lang", lang))
    return path + ("?" + urlencode(params) if params else "")


def fen(value: int | None, lang: str = "zh") -> str:
    return word("quoted", lang) if value is None else money(value, lang)


_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False)
_env.globals.update(prefix=PREFIX, stylesheet=STYLESHEET)
# The menu: (path under PREFIX, word). H4 adds ("/prepare", "nav_prepare") when its pages are in.
NAV = [("/", "nav_info"), ("/fees", "nav_fees"), ("/estimate", "nav_estimate"), ("/prepare", "nav_prepare"),
       ("/progress", "nav_progress")]


def render(request: Request, template: str, title_key: str | None = None, title: str | None = None,
           **values) -> str:
    lang = lang_of(request)
    info = institute.current(request.app.state.storage)
    other = "en" if lang == "zh" else "zh"
    bound = {
        "lang": lang,
        "w": lambda key: word(key, lang),
        "href": lambda path, carry=(), **query: href(path, lang, carry, **query),
        "lang_field": lambda: Markup(f"<input type='hidden' name='lang' value='{lang}'>"),
        "money": lambda value: fen(value, lang),
        # The kiosk's own words (kiosk/i18n): an estimate says here what it says on the kiosk's screen.
        "kt": lambda key, **v: t(key, lang, **v),
        "service_name": lambda s: service_name(s, lang),
        "use_name": lambda u: use_name(u, lang),
        "unit_name": lambda u: unit_name(u, lang),
        "unit_price": lambda f, u: unit_price(f, u, lang),
        "name_of": lambda item: name_of(item, lang),
        "spec_of": lambda item: spec_of(item, lang),
        "here": request.url.path,
        "title": title if title is not None else word(title_key or "site", lang),
        "institute": info,
        "institute_name": info.name(lang),
        "nav": NAV,
        # The other language's link: this page's path, its query (no form's fields: those are posted).
        "href_lang": request.url.path + "?" + urlencode({**dict(request.query_params), "lang": other}),
    }
    return _env.get_template(template).render(**bound, **values)


def page(request: Request, template: str, title_key: str | None = None, status: int = 200,
         title: str | None = None, **values) -> HTMLResponse:
    """The page, and the language cookie when ?lang= chose one."""
    response = HTMLResponse(render(request, template, title_key, title, **values), status)
    asked = request.query_params.get("lang")
    if asked in LANGS and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, path=PREFIX, httponly=True, samesite="lax")
    return response


def message(request: Request, key: str, status: int) -> HTMLResponse:
    """A page that says one thing (an error), in the reader's language."""
    return page(request, "public/message.html", key, status, text=word(key, lang_of(request)))
