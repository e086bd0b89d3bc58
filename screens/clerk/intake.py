"""The intake at the receiving counter: the lines as registered, corrected by the clerk.

`IntakeDraft` is the screen's model of the intake being taken in (never the widgets: a
language switch or a redraw must not lose it). `IntakeEditor` corrects one line: a modal with
a typed result, the edited `IntakeLineInput`, or None when cancelled. The fee row code is
checked against the ticket's own catalogue version (in memory, loaded in the database
thread), so the clerk sees at once what a code means; a service the row is not priced for
moves the line to the same instrument's row for that service, when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Static

from kiosk.domain.catalog import fee_number
from kiosk.domain.vocabulary import SERVICES, USES, normalise_token
from kiosk.i18n import name_of, service_name, spec_of, t, unit_price
from kiosk.i18n.keys import USES as USE_KEYS
from kiosk.store.desk import Intake, IntakeLineInput
from screens.base import LabelledInput, labelled, relabel_marked
from screens.clerk.editor import Editor

# The longest texts a clerk may type; the service cleans and caps at 200 (kiosk/store/desk.py).
TEXTS = (("condition", "intake.condition", 200), ("accessories", "intake.accessories", 200),
         ("serial_number", "line.serial_number", 60))
MAX_CODE = 20


@dataclass
class IntakeDraft:
    """The intake of one registered ticket while the clerk corrects it, and its price."""

    ticket_id: int
    number: str
    registered: tuple[IntakeLineInput, ...]
    registered_total: int
    names: tuple[str, ...]  # per registered line, its name (zh) until the catalogue is loaded
    lines: list[IntakeLineInput] = field(default_factory=list)
    generation: int = 0  # counts the changes; a price of an older generation is stale
    rows: Mapping | None = None  # the ticket's catalogue version: code -> FeeRow
    version: int | None = None
    amounts: tuple[int | None, ...] | None = None  # per line, of the current generation
    total_fen: int | None = None
    failed: bool = False  # the last pricing refused the draft (the message says why)
    basis: str = "same"  # this desk's catalogue and policy beside the kiosk's (kiosk/domain/repricing.py BASES)
    differences: tuple = ()  # kiosk/domain/repricing.py LineDifference: the receipt's figures beside these

    @classmethod
    def of(cls, summary) -> IntakeDraft:
        return cls(summary.id, summary.number, summary.lines, summary.total_fen, summary.names, list(summary.lines))

    def edited(self, index: int) -> bool:
        """The line differs from the registration in anything but being refused."""
        return replace(self.lines[index], refused=False) != replace(self.registered[index], refused=False)

    @property
    def changed(self) -> bool:
        return self.lines != list(self.registered)

    def intake(self) -> Intake:
        return Intake(tuple(self.lines))

    def set_line(self, index: int, line: IntakeLineInput) -> None:
        self.lines[index] = line
        self.generation += 1
        self.amounts = self.total_fen = None
        self.failed = False

    def name(self, index: int, lang: str) -> str:
        row = self.rows.get(self.lines[index].code) if self.rows else None
        return name_of(row, lang) if row else self.names[index]


def variant(rows: Mapping, row, service: str):
    """The same instrument's row for another service (the same spec when there is one)."""
    same = [r for r in rows.values() if r.name_zh == row.name_zh and r.service == service]
    return next((r for r in same if r.spec_zh == row.spec_zh), same[0] if same else None)


def bands(rows: Mapping, row) -> list:
    """The other rows published under `row`'s fee-standard number for its service."""
    return [r for r in rows.values()
            if r.code != row.code and r.service == row.service and fee_number(r.code) == fee_number(row.code)]


def fold_code(text: str) -> str:
    """A fee row code as typed: full-width and lower case fold (ｌ－００１ reads L-001)."""
    return normalise_token(text).upper()


# What a line's price depends on beyond its row: field, the row's price for it (None: the row
# does not price it, and the field is hidden), label, the kiosk's error key and its bounds.
ADD_ONS = (("points", "per_point_fen", "line.points", "error.points", 6),
           ("ranges", "per_range_fen", "line.ranges", "error.ranges", 4),
           ("metres", "per_metre_fen", "line.metres", "error.metres", 8))


def add_on_values(code: str, texts: Mapping[str, str]) -> tuple[dict, dict]:
    """The add-ons typed (name -> text; "" is none), checked by the kiosk's own rules (kiosk/domain/
    fees.py request_from_dict, which `receive` applies too): (values, errors as FieldErrors)."""
    from kiosk.domain.fees import MAX_POINTS, MAX_RANGES, EstimateError, request_from_dict
    from kiosk.domain.validation import FieldError

    bounds: dict[str, dict[str, object]] = {"points": {"min": 1, "max": MAX_POINTS},
                                            "ranges": {"min": 1, "max": MAX_RANGES}, "metres": {}}
    values: dict = {}
    errors: dict = {}
    for name, _, _, error_key, _ in ADD_ONS:
        text = texts.get(name, "")
        if not text.strip():
            values[name] = None
            continue
        try:
            values[name] = getattr(request_from_dict({"lines": [{"item": code or "?", name: text}]}).lines[0], name)
        except EstimateError:
            errors[name] = FieldError(error_key, bounds[name])
    return values, errors


class IntakeEditor(Editor[IntakeLineInput | None]):
    """One intake line: fee row, quantity, service, use, what its price depends on (points,
    ranges, metres, AC+DC, extra data: only those the row, or the policy, prices), condition,
    accessories, serial number, refused. Tab moves between the fields, Enter or Save keeps, Esc
    cancels; every field takes a tap too."""

    def __init__(self, line: IntakeLineInput, index: int, number: str, rows: Mapping, version: int | None) -> None:
        super().__init__()
        self.line, self.index, self.number = line, index, number
        self.rows, self.version = rows, version
        self.code = line.code
        self.service = line.service
        self.problem: tuple[str, dict] | None = None  # why the fee row does not fit, as an i18n key

    def compose(self) -> ComposeResult:
        line = self.line
        with Vertical(id="editor"):
            yield Static(id="editor-title")
            body = VerticalScroll(id="editor-body")
            body.can_focus = False
            with body:
                yield LabelledInput("code", "intake.code", value=line.code, max_length=MAX_CODE)
                yield Static(id="intake-row")
                yield LabelledInput("quantity", "line.quantity", value=str(line.quantity), max_length=6)
                yield RadioSet(*(RadioButton("", value=line.service == s, id=f"service-{s}") for s in SERVICES),
                               id="service")
                yield RadioSet(*(labelled(RadioButton("", value=line.use == u, id=f"use-{u}"), USE_KEYS[u])
                                 for u in USES), id="use")
                for name, _, key, _, limit in ADD_ONS:
                    value = getattr(line, name)
                    yield LabelledInput(name, key, value="" if value is None else str(value), max_length=limit)
                yield labelled(Checkbox("", value=line.ac_dc, id="ac_dc"), "line.ac_dc")
                yield Checkbox("", value=line.extra_data, id="extra_data")  # labelled in relabel: its percent
                for name, key, limit in TEXTS:
                    # Room to paste too much: the clerk is told the limit instead of losing the end.
                    yield LabelledInput(name, key, value=getattr(line, name), max_length=limit * 2)
                yield labelled(Checkbox("", value=line.refused, id="refused"), "intake.refused")
            with Horizontal(classes="actions"):
                yield labelled(Button("", id="cancel", classes="big"), "flow.cancel")
                yield labelled(Button("", id="save", variant="primary", classes="big"), "line.save")

    def on_mount(self) -> None:
        self.check_row()
        self.relabel()
        self.show_add_ons()
        self.query_one("#field-code", Input).focus()

    @property
    def extra_data_percent(self) -> int:
        """Data the regulation does not require: offered when this desk's policy prices it."""
        from kiosk.settings.pricing import configured_policy

        return configured_policy().extra_data_percent

    def priced_add_ons(self) -> set[str]:
        """The add-ons the current row prices (and extra data, when the policy does)."""
        row = self.rows.get(self.code)
        priced = {name for name, column, *_ in ADD_ONS if row is not None and getattr(row, column) is not None}
        if row is not None and row.ac_dc_percent is not None:
            priced.add("ac_dc")
        if self.extra_data_percent:
            priced.add("extra_data")
        return priced

    def show_add_ons(self) -> None:
        """Only the fields the row prices: another row, other fields (Tab skips hidden ones)."""
        priced = self.priced_add_ons()
        for name, *_ in ADD_ONS:
            self.field(name).display = name in priced
        for name in ("ac_dc", "extra_data"):
            self.query_one(f"#{name}", Checkbox).display = name in priced

    def relabel(self) -> None:
        lang = self.lang
        self.query_one("#editor-title", Static).update(
            Content(t("intake.title", lang, number=self.number, line=self.index + 1)))
        for s in SERVICES:
            self.query_one(f"#service-{s}", RadioButton).label = service_name(s, lang)
        self.query_one("#service", RadioSet).border_title = t("intake.service", lang)
        self.query_one("#use", RadioSet).border_title = t("line.use", lang)
        self.query_one("#extra_data", Checkbox).label = t("line.extra_data", lang, percent=self.extra_data_percent)
        relabel_marked(self, lang)
        self.show_row()

    # ---- the fee row ---------------------------------------------------------------------

    def check_row(self) -> None:
        """Does the code name a row of this catalogue version, priced for the service?"""
        row = self.rows.get(self.code)
        if not self.code:
            self.problem = ("error.required", {})
        elif row is None:
            self.problem = ("intake.no_row", {"code": self.code, "version": self.version or ""})
        elif row.service != self.service:
            self.problem = ("intake.wrong_service", {"code": row.code, "row_service": row.service,
                                                     "service": self.service})
        else:
            self.problem = None

    def show_row(self) -> None:
        lang = self.lang
        shown = self.query_one("#intake-row", Static)
        shown.set_class(self.problem is not None, "-error")
        if self.problem:
            key, values = self.problem
            values = {k: (service_name(v, lang) if k.endswith("service") else v) for k, v in values.items()}
            if key == "intake.wrong_service" and not variant(self.rows, self.rows[self.code], self.service):
                key, values = "intake.no_variant", {"name": name_of(self.rows[self.code], lang),
                                                    "service": values["service"]}
            shown.update(Content(t(key, lang, **values)))
            return
        row = self.rows[self.code]
        gap = "　" if lang == "zh" else "  "
        text = gap.join((name_of(row, lang), spec_of(row, lang), service_name(row.service, lang),
                         unit_price(row.price_fen, row.unit, lang)))
        # A published number printed on several bands (量块 三、四等 / 五、六等 under C001): the
        # clerk who typed the number as the table prints it sees the other bands' codes to pick from.
        others = bands(self.rows, row)
        if others:
            listed = "; ".join(f"{r.code} {spec_of(r, lang)} {unit_price(r.price_fen, r.unit, lang)}" for r in others)
            text += "\n" + t("intake.bands", lang, bands=listed)
        shown.update(Content(text))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "field-code":
            return
        event.stop()
        self.code = fold_code(event.value)
        row = self.rows.get(self.code)
        if row is not None and row.service != self.service:
            self.set_service(row.service)  # the row says what it is priced for
        self.field("code").set_class(False, "invalid")
        self.check_row()
        self.show_row()
        self.show_add_ons()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        if event.radio_set.id != "service":
            return
        event.stop()
        pressed = event.pressed.id
        assert pressed is not None  # every service's button has its id (compose)
        self.service = pressed.removeprefix("service-")
        row = self.rows.get(self.code)
        if row is not None and row.service != self.service:
            other = variant(self.rows, row, self.service)
            if other is not None:
                self.code = other.code
                self.query_one("#field-code", Input).value = other.code
        self.check_row()
        self.show_row()
        self.show_add_ons()

    def field(self, name: str) -> LabelledInput:
        return next(f for f in self.query(LabelledInput) if f.field_name == name)

    def set_service(self, service: str) -> None:
        self.service = service
        button = self.query_one(f"#service-{service}", RadioButton)
        if not button.value:
            button.value = True

    # ---- keeping or not -----------------------------------------------------------------

    def action_save(self) -> None:
        from kiosk.domain.validation import FieldError, clean_quantity, clean_text

        fields = {f.field_name: f for f in self.query(LabelledInput)}
        errors: dict[str, FieldError] = {}
        values: dict = {}
        for name, clean in (("quantity", clean_quantity),
                            *((n, lambda v, n=limit: clean_text(v, max_length=n)) for n, _, limit in TEXTS)):
            try:
                values[name] = clean(fields[name].value)
            except FieldError as e:
                errors[name] = e
        priced = self.priced_add_ons()
        add_ons, add_on_errors = add_on_values(self.code, {name: fields[name].value for name, *_ in ADD_ONS
                                                           if name in priced})
        errors.update(add_on_errors)
        refused = self.query_one("#refused", Checkbox).value
        self.check_row()
        # A refused line is not priced: its fee row need not fit, only be short and printable.
        bad_code = self.problem is not None and not (refused and self.code and len(self.code) <= MAX_CODE)
        for name, f in fields.items():
            if name != "code":
                f.show_error(errors.get(name))
        fields["code"].set_class(bad_code, "invalid")
        self.show_row()
        if bad_code or errors:
            first = fields["code"] if bad_code else next(f for n, f in fields.items() if n in errors)
            first.input.focus()
            first.scroll_visible(animate=False)
            return
        pressed = self.query_one("#use", RadioSet).pressed_button
        use = self.line.use
        if pressed:
            assert pressed.id is not None  # every use's button has its id (compose)
            use = pressed.id.removeprefix("use-")
        ac_dc, extra_data = (self.query_one(f"#{name}", Checkbox).value and name in priced
                             for name in ("ac_dc", "extra_data"))
        self.dismiss(replace(self.line, code=self.code, service=self.service, use=use, refused=refused, **values,
                             **add_ons, ac_dc=ac_dc, extra_data=extra_data))
