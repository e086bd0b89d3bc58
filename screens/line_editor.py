"""One instrument line: how many, what for, and what the consignment form asks about it.
A modal with a typed result: the new DraftLine, REMOVE, or None (cancelled)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, RadioButton, RadioSet, Static

from kiosk.domain.catalog import USES, FeeRow
from kiosk.domain.validation import FieldError, clean_count, clean_quantity, clean_text
from kiosk.i18n import name_of, service_name, spec_of, t, unit_price
from kiosk.i18n.keys import USE_CHOICES
from screens.draft import DraftLine

from .base import REGISTRATION_CSS, LabelledInput, Worded, labelled, offer_keyboard, relabel_marked

if TYPE_CHECKING:
    from textual import getters

    from screens.host import KioskHost

REMOVE = "remove"
TEXTS = (("model", "line.model", 60), ("serial_number", "line.serial_number", 60),
         ("manufacturer", "line.manufacturer", 60), ("requirements", "line.requirements", 200))


class LineEditor(Worded, ModalScreen[DraftLine | str | None]):
    CSS_PATH = REGISTRATION_CSS
    BINDINGS: ClassVar = [("escape", "cancel", "")]

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self, row: FeeRow, line: DraftLine | None = None) -> None:
        super().__init__()
        self.row = row
        self.editing = line is not None
        self.line = line or DraftLine(code=row.code)

    @property
    def lang(self) -> str:
        return self.app.language

    @property
    def extra_data_percent(self) -> int:
        """Data the regulation does not require: offered when the policy prices it."""
        assert self.app.policy is not None  # lines are edited once the catalogue has loaded, with the policy
        return self.app.policy.extra_data_percent

    def compose(self) -> ComposeResult:
        row, line = self.row, self.line
        with Vertical(id="editor"):
            yield Static(id="editor-title")
            body = VerticalScroll(id="editor-body")
            body.can_focus = False
            # Two columns, read (and tabbed) one after the other: what is priced on the left, what
            # the consignment form asks on the right, so that at 80x24 the serial number and the
            # manufacturer are in sight without scrolling, the on-screen keyboard up or not.
            with body, Horizontal(id="editor-columns"):
                with Vertical(id="editor-pricing", classes="editor-column"):
                    yield LabelledInput("quantity", "line.quantity", value=str(line.quantity), max_length=6)
                    yield RadioSet(*(labelled(RadioButton("", value=line.use == use, id=f"use-{use}"),
                                              USE_CHOICES[use]) for use in USES), id="use")
                    if row.per_point_fen is not None:
                        yield LabelledInput("points", "line.points", value=str(line.points or ""), max_length=6)
                    if row.per_range_fen is not None:
                        yield LabelledInput("ranges", "line.ranges", value=str(line.ranges or ""), max_length=4)
                    if row.per_metre_fen is not None:
                        yield LabelledInput("metres", "line.metres", value=str(line.metres or ""), max_length=8)
                    if row.ac_dc_percent is not None:
                        yield labelled(Checkbox("", value=line.ac_dc, id="ac_dc"), "line.ac_dc")
                with Vertical(id="editor-form", classes="editor-column"):
                    for name, key, length in TEXTS:
                        yield LabelledInput(name, key, value=getattr(line, name), max_length=length)
                    if self.extra_data_percent:  # a special requirement the policy prices (labelled in relabel)
                        yield Checkbox("", value=line.extra_data, id="extra_data")
                    if row.service != "repair":
                        yield labelled(Checkbox("", value=line.repair_if_fails, id="repair"), "line.repair")
            with Horizontal(classes="actions"):
                yield labelled(Button("", id="cancel", classes="big"), "flow.cancel")
                if self.editing:
                    yield labelled(Button("", id="remove", variant="error", classes="big"), "line.remove")
                yield labelled(Button("", id="save", variant="primary", classes="big"),
                               "line.save" if self.editing else "line.add")

    def on_mount(self) -> None:
        self.relabel()
        self.query_one("#field-quantity").focus()

    def on_descendant_focus(self, event) -> None:
        offer_keyboard(self.query_one("#editor"), event.widget)  # the on-screen keyboard, inside the box

    def relabel(self) -> None:
        lang, row = self.lang, self.row
        self.query_one("#editor-title", Static).update(
            f"[b]{name_of(row, lang)}[/b]  {service_name(row.service, lang)}  "
            f"{unit_price(row.price_fen, row.unit, lang)}\n{row.standard}  {spec_of(row, lang)}")
        self.query_one("#use", RadioSet).border_title = t("line.use", lang)
        for box in self.query("#extra_data").results(Checkbox):
            box.label = t("line.extra_data", lang, percent=self.extra_data_percent)
        relabel_marked(self, lang)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
        elif event.button.id == "remove":
            self.dismiss(REMOVE)
        elif event.button.id == "save":
            self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event) -> None:
        event.stop()
        self.action_save()  # Enter in any field adds the line (the checks still apply)

    def action_save(self) -> None:
        fields = {f.field_name: f for f in self.query(LabelledInput)}
        errors: dict[str, FieldError] = {}
        values: dict = {}

        def check(name: str, clean) -> None:
            if name in fields:
                try:
                    values[name] = clean(fields[name].value)
                except FieldError as e:
                    errors[name] = e

        check("quantity", clean_quantity)
        check("points", lambda v: clean_count(v, 1, 1000, "error.points") if v.strip() else None)
        check("ranges", lambda v: clean_count(v, 1, 100, "error.ranges") if v.strip() else None)
        check("metres", _metres)
        for name, _, length in TEXTS:
            check(name, lambda v, n=length: clean_text(v, max_length=n))
        for name, field in fields.items():
            field.show_error(errors.get(name))
        if errors:
            first = next(f for n, f in fields.items() if n in errors)
            first.input.focus()
            first.scroll_visible(animate=False)
            return
        pressed = self.query_one("#use", RadioSet).pressed_button
        if pressed is None:
            use = "other"
        else:
            assert pressed.id is not None  # each use's choice has its id (compose)
            use = pressed.id.removeprefix("use-")
        checkbox = {c.id: c.value for c in self.query(Checkbox)}
        self.dismiss(DraftLine(code=self.row.code, use=use, ac_dc=checkbox.get("ac_dc", False),
                               extra_data=checkbox.get("extra_data", False),
                               repair_if_fails=checkbox.get("repair", False), **values))


def _metres(text: str) -> Decimal | None:
    from kiosk.domain.catalog import normalise_token

    text = normalise_token(text)
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FieldError("error.metres") from None
    if not value.is_finite() or not 0 < value <= 10_000:
        raise FieldError("error.metres")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: not 'n', 'N' or 'F' (NaN, sNaN, infinity)
    if exponent < -3:
        raise FieldError("error.metres")
    return value
