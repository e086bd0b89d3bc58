"""A phone in Debian's Chromium for the public site's tests (central/public/): 360x740 CSS pixels
at twice the density, touch, the user agent of WeChat's built-in browser, zh-CN, and JavaScript
off (the site must work without it); central's public-only app served by real uvicorn. What the
page logged as an error, failed to load or was refused is kept, and every URL it asked for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from central.app import create_app
from central.server import serve_in_thread

from .test_browser import CHROMIUM_FLAGS

SEED = Path(__file__).parents[2] / "db" / "seed" / "demo_catalog.csv"
WECHAT = ("Mozilla/5.0 (Linux; Android 12; V2055A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Version/4.0 Chrome/86.0.4240.99 XWEB/4317 MMWEBSDK/20220903 Mobile Safari/537.36 "
          "MicroMessenger/8.0.28.2240(0x28001C3B) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64")
WIDTH, HEIGHT = 360, 740


@dataclass
class Phone:
    page: Page
    shots: Path
    refused: list[str] = field(default_factory=list)  # console errors, failed loads, answers >= 400
    taken: list[str] = field(default_factory=list)  # every URL requested

    def look(self, name: str, full: bool = True) -> Path:
        """A screenshot (`name`.png in `shots`), and what a phone shows: nothing wider than its screen."""
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full)
        wide = self.page.evaluate("document.documentElement.scrollWidth")
        assert wide <= WIDTH, (name, wide)
        over = self.page.eval_on_selector_all(
            "main *", f"els => els.filter(e => e.getBoundingClientRect().right > {WIDTH} + 0.5)"
                      ".map(e => e.tagName + ' ' + e.textContent.slice(0, 30))")
        assert not over, (name, over)
        return path


@contextmanager
def phone(chromium: Path, storage, shots: Path) -> Iterator[tuple[object, Phone]]:
    """Central's public site on its own server, and a phone's page: (the server, the phone)."""
    shots.mkdir(parents=True, exist_ok=True)
    with serve_in_thread(storage, app=create_app(storage, serves="public")) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=2,
                                          is_mobile=True, has_touch=True, user_agent=WECHAT, locale="zh-CN",
                                          java_script_enabled=False)
            held = Phone(context.new_page(), shots)
            page, refused = held.page, held.refused
            page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
            page.on("requestfailed", lambda r: refused.append(f"failed {r.url}"))
            page.on("response", lambda r: refused.append(f"{r.status} {r.url}")
                    if r.status >= 400 and "favicon" not in r.url else None)
            page.on("request", lambda r: held.taken.append(r.url))
            yield server, held
        finally:
            browser.close()
