"""欢迎 Welcome: who the institute is, what it does and promises, and the three big actions."""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Static

from kiosk.i18n import field_name, t

from .base import KioskScreen, big_button, labelled


class WelcomeScreen(KioskScreen):
    TITLE_KEY = "app.title"
    FOCUS = "#register"
    BINDINGS: ClassVar = [("f5", "register", "送检登记"), ("f6", "fees", "收费查询"), ("f7", "feedback", "服务评价")]

    def compose_body(self) -> ComposeResult:
        yield Static(id="institute-name")
        yield Static(id="hours")
        yield labelled(Static(classes="heading"), "welcome.fields")
        yield Static(id="fields")
        yield labelled(Static(classes="heading"), "welcome.commitments")
        yield Static(id="commitments")
        yield Static(id="notices")

    def compose_actions(self) -> ComposeResult:
        yield big_button("welcome.register", "register", "primary")
        yield big_button("welcome.fees", "fees")
        yield big_button("welcome.feedback", "feedback")

    def relabel(self) -> None:
        super().relabel()
        lang, info = self.lang, self.app.info
        self.query_one("#institute-name", Static).update(info.name(lang))
        self.query_one("#hours", Static).update(f"{t('welcome.hours', lang)}{info.hours(lang)}")
        self.query_one("#commitments", Static).update("\n".join(f"・{c(lang)}" for c in info.commitments))
        self.query_one("#notices", Static).update("\n".join(n(lang) for n in info.notices))
        self.show_fields()

    def catalog_ready(self) -> None:
        self.show_fields()

    def show_fields(self) -> None:
        """What the institute verifies and calibrates, by field: 压力 (12 items) …"""
        catalog, lang = self.app.catalog, self.lang
        if catalog is None:
            self.query_one("#fields", Static).update(t("app.loading", lang))
            return
        names: dict[str, list[str]] = {}
        for row in catalog.rows:
            bucket = names.setdefault(row.field, [])
            name = row.name_zh if lang == "zh" else row.name_en
            if name not in bucket:
                bucket.append(name)
        counts = Counter({letter: len(items) for letter, items in names.items()})
        separator = t("list.separator", lang)
        shown = 3
        lines = [
            f"[b]{field_name(letter, lang)}[/b]  {separator.join(names[letter][:shown])}"
            + (t("welcome.more", lang, total=n) if n > shown else "")
            for letter, n in counts.most_common()
        ]
        self.query_one("#fields", Static).update("\n".join(lines))

    def action_register(self) -> None:
        from .customer import CustomerScreen

        self.app.push_screen(CustomerScreen())

    def action_fees(self) -> None:
        from .fee_lookup import FeeLookupScreen

        self.app.push_screen(FeeLookupScreen())

    def action_feedback(self) -> None:
        self.app.notify(t("welcome.feedback_soon", self.lang))

    def action_back(self) -> None:
        """The welcome screen is the bottom: nothing to go back to."""
