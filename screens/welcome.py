"""欢迎 Welcome: who the institute is, what it does and promises, and the four big actions; its first
line says that a registration prepared on the institute's website (预约送检) is scanned here."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from kiosk.i18n import field_name, t
from kiosk.i18n.textwidth import cell_width

from .base import KioskScreen, big_button

if TYPE_CHECKING:
    from textual import getters

    from screens.host import KioskHost

HINTS = ("welcome.prepared", "welcome.prepared_short")  # longest first
HINT_MARGIN = 6  # the screen's cells the welcome text does not get (the body's padding, a scroll bar)


class WelcomeScreen(KioskScreen):
    TITLE_KEY = "app.title"
    FOCUS = "#register"
    # No height class (the app's -short/-tall): nothing here is styled by it, and adding it after
    # the first styling would restyle every widget of the first frame again.
    # Textual 8.2.8 declares it `ClassVar[list[tuple[int, str]]] | None`, which is no ClassVar to mypy.
    VERTICAL_BREAKPOINTS: ClassVar = []  # type: ignore[misc]
    BINDINGS: ClassVar = [("f5", "register", "送检登记"), ("f6", "fees", "收费查询"), ("f7", "feedback", "服务评价"),
                          ("f8", "progress", "进度查询")]

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def compose_body(self) -> ComposeResult:
        # One widget for all of it: the first frame a walk-in customer sees comes sooner with
        # fewer widgets to style, and the institute's own text is never read as markup.
        # The prepared-code hint is its first line, not a widget of its own: a docked line cost
        # 1 % more start-up (bench/startup.py), and first it is seen without scrolling.
        yield Static(id="welcome")

    def compose_actions(self) -> ComposeResult:
        # Lean: no Button's style sheet to parse before the first frame (screens/base.py LeanButton).
        yield big_button("welcome.register", "register", "primary", lean=True)
        yield big_button("welcome.fees", "fees", lean=True)
        yield big_button("welcome.progress", "progress", lean=True)
        yield big_button("welcome.feedback", "feedback", lean=True)

    def relabel(self) -> None:
        super().relabel()
        self.show_welcome()

    def catalog_ready(self) -> None:
        self.show_welcome()

    hint = ""

    def on_resize(self) -> None:
        if self.prepared_hint() != self.hint:  # drawn again only if the hint's wording changes
            self.show_welcome()

    def prepared_hint(self) -> str:
        """The longest wording of the hint that fits the text's width in display cells (a CJK
        character takes two); the shortest wraps if even it does not."""
        room = self.query_one("#welcome").content_size.width or self.app.size.width - HINT_MARGIN
        lang = self.lang
        return next((t(key, lang) for key in HINTS if cell_width(t(key, lang)) <= room), t(HINTS[-1], lang))

    def show_welcome(self) -> None:
        lang, info = self.lang, self.app.info
        muted = "$foreground-muted"
        self.hint = self.prepared_hint()
        parts = [
            (self.hint, "$text-accent"), "\n", (info.name(lang), "bold"), "\n",
            (f"{t('welcome.hours', lang)}{info.hours(lang)}", muted), "\n\n",
            (t("welcome.fields", lang), "bold"), "\n", *self.fields(), "\n\n",
            (t("welcome.commitments", lang), "bold"), "\n",
            "\n".join(f"・{c(lang)}" for c in info.commitments),
        ]
        if info.notices:
            parts += ["\n", ("\n".join(n(lang) for n in info.notices), muted)]
        self.query_one("#welcome", Static).update(Content.assemble(*parts))

    def fields(self) -> list:
        """What the institute verifies and calibrates, by field: 压力 (12 items) …"""
        catalog, lang = self.app.catalog, self.lang
        if catalog is None:
            return [t("app.loading", lang)]
        names: dict[str, list[str]] = {}
        for row in catalog.rows:
            bucket = names.setdefault(row.field, [])
            name = row.name_zh if lang == "zh" else row.name_en
            if name not in bucket:
                bucket.append(name)
        counts = Counter({letter: len(items) for letter, items in names.items()})
        separator = t("list.separator", lang)
        shown = 3
        parts: list = []
        for letter, n in counts.most_common():
            more = t("welcome.more", lang, total=n) if n > shown else ""
            parts += ["\n" if parts else "", (field_name(letter, lang), "bold"),
                      f"  {separator.join(names[letter][:shown])}{more}"]
        return parts

    def action_register(self) -> None:
        from .customer import CustomerScreen

        self.app.push_screen(CustomerScreen())

    def action_fees(self) -> None:
        from .fee_lookup import FeeLookupScreen

        self.app.push_screen(FeeLookupScreen())

    def action_feedback(self) -> None:
        from .feedback import FeedbackStartScreen

        self.app.push_screen(FeedbackStartScreen())

    def action_progress(self) -> None:
        from .progress import ProgressScreen

        self.app.push_screen(ProgressScreen())

    def action_back(self) -> None:
        """The welcome screen is the bottom: nothing to go back to."""
