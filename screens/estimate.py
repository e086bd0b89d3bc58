"""费用预估 Estimate: every line with its fee-standard number, regulation and amount, free lines
with their reason, discounts as their own lines, the total, and who has the final word."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from kiosk.domain.catalog import fee_number
from kiosk.domain.fees import Estimate, EstimateError, estimate
from kiosk.i18n import money, name_of, quantity_text, service_name, spec_of, t
from kiosk.i18n.estimate_text import closing_notes, line_notes, total_rows

from .base import REGISTRATION_CSS, KioskScreen, big_button

if TYPE_CHECKING:
    from textual import getters

    from screens.host import KioskHost


def estimate_table(est: Estimate, lang: str) -> Table:
    """Rich measures CJK in cells and wraps whole glyphs, so nothing is cut mid-character."""
    table = Table(expand=True, show_edge=False, pad_edge=False, box=None, header_style="bold")
    table.add_column(t("col.code", lang), no_wrap=True)
    table.add_column(t("col.item", lang), ratio=1)
    table.add_column(t("col.quantity", lang), justify="right", no_wrap=True)
    table.add_column(t("col.unit_price", lang), justify="right", no_wrap=True)
    table.add_column(t("col.amount", lang), justify="right", no_wrap=True)
    for ln in est.lines:
        item = Text(name_of(ln, lang), style="bold")
        item.append(f"  {service_name(ln.service, lang)}")
        for detail, style in ((spec_of(ln, lang), "dim"), (ln.regulation, "dim"),
                              *((note, "") for note in line_notes(ln, est.urgent, lang))):
            if detail:
                item.append(f"\n{detail}", style=style)
        table.add_row(fee_number(ln.code), item, quantity_text(ln.quantity, ln.unit, lang),
                      money(ln.unit_price_fen, lang), money(ln.amount_fen, lang))
    for d in est.discounts:
        table.add_row("", Text(d.name_zh if lang == "zh" else d.name_en), "", "", money(d.amount_fen, lang))
    return table


def totals_table(est: Estimate, lang: str) -> Table:
    # As wide as its words and amounts: the notes beside it take the rest of the line.
    table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 0, 0, 2))
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    for key, fen in total_rows(est):
        style = "bold" if key == "total.total" else ""
        table.add_row(Text(t(key, lang), style=style), Text(money(fen, lang), style=style))
    return table


class EstimateScreen(KioskScreen):
    CSS_PATH = REGISTRATION_CSS
    TITLE_KEY = "welcome.register"
    STEP = 3
    FOCUS = "#confirm"

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self) -> None:
        super().__init__()
        self.estimate: Estimate | None = None

    def compose_body(self) -> ComposeResult:
        # The lines scroll; the total stays in sight below them, above 确认登记, at 80x24 too.
        with VerticalScroll(id="estimate-scroll"):
            yield Static(id="estimate-lines")
        with Horizontal(id="estimate-footer"):
            yield Static(id="estimate-notes")
            yield Static(id="estimate-totals")

    def compose_actions(self) -> ComposeResult:
        yield big_button("flow.back_edit", "back")
        yield big_button("flow.confirm", "confirm", "success")

    def on_mount(self) -> None:
        app = self.app
        # the steps before chose from the catalogue: it has loaded, with the policy
        assert app.catalog is not None and app.policy is not None
        try:
            self.estimate = estimate(app.draft.request(), app.catalog.by_code, app.policy, app.catalog.version)
        except EstimateError as e:  # the draft was built from the catalogue: a bug, but say it plainly
            self.notify(str(e), severity="error")
        super().on_mount()

    def relabel(self) -> None:
        super().relabel()
        if self.estimate is None:
            return
        lang, est = self.lang, self.estimate
        self.query_one("#estimate-lines", Static).update(estimate_table(est, lang))
        self.query_one("#estimate-totals", Static).update(totals_table(est, lang))
        *notes, confirm = closing_notes(est, lang)
        self.query_one("#estimate-notes", Static).update("\n".join([*notes, f"[b]{confirm}[/b]"]))
        if self.app.submitting:
            self.query_one("#confirm", Button).label = t("flow.registering", lang)


    def action_confirm(self) -> None:
        if self.estimate is None:
            return
        if self.app.submit_registration():
            confirm = self.query_one("#confirm", Button)
            confirm.disabled = True
            confirm.label = t("flow.registering", self.lang)
