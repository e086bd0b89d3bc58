"""A registration prepared at home (预约送检), scanned on the welcome screen.

The welcome screen has no field: a keyboard-wedge scanner's characters arrive as keys, and its
Enter (or Tab) would press 送检登记. So the app hands every key and paste to `take_scan` first
(screens/app.py on_event) while the welcome screen (or this module's status box over it) is on
top: characters that spell the start of a prepared code (`YY` + Base32, kiosk/domain/prepared.py)
are kept, the Enter or Tab that ends one is taken, and the code is read. Anything else passes on.

A code is untrusted input: anyone can make one. `fill` puts each value into the customer's draft
only after the check the kiosk applies to the same value typed on its step (kiosk/domain/validation.py,
the line editor's limits, the catalogue's own rows and the policy's options); what fails is left out
and said, in the customer's language, in a box over the step the flow stops at (the first step still
needing something, else the estimate). No lookup at central: the code carries everything.

Privacy: the parts read so far are kept in the draft (`Draft.prepared`), wiped with it after the
ticket, on the idle timeout or on 关闭; the boxes here are screens over the welcome screen, popped by
the same wipe. Nothing of a code is logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kiosk.i18n import service_name, t
from kiosk.i18n.keys import MessageKeys

from .base import Worded

if TYPE_CHECKING:
    from textual import getters

    from kiosk.domain.prepared import PreparedRegistration
    from screens.host import KioskHost

    from .draft import Draft

ERRORS = MessageKeys({  # PreparedCodeError kinds (kiosk/domain/prepared.py KINDS)
    "not_a_code": "prepared.error.not_a_code", "damaged": "prepared.error.damaged",
    "checksum": "prepared.error.checksum", "too_large": "prepared.error.too_large",
    "unknown_version": "prepared.error.unknown_version", "incomplete": "prepared.error.incomplete",
    "mixed": "prepared.error.mixed",
})
SCAN_GAP = 2.0  # seconds between two keys of one scan at most: a scanner types a code in well under a second
_SAFE_CODE = re.compile(r"[A-Za-z0-9.\-]{1,20}")  # an item code shown back as it is; anything else as "?"

# ---- the scan ------------------------------------------------------------------------------------


def _scanning_screen(app) -> bool:
    from .welcome import WelcomeScreen

    return not app.out_of_service and isinstance(app.screen, (WelcomeScreen, PreparedStatus))


def take_scan(app, event: events.Event) -> bool:
    """Whether `event` (a key or a paste, before anything else sees it) belongs to a prepared code:
    then it is taken, and the code read once whole."""
    from kiosk.domain.prepared import MAX_SCAN_CHARS, PREFIX, looks_like_part

    if not _scanning_screen(app):
        app.scan_keys = ""
        return False
    if isinstance(event, events.Paste):
        chunks = [c for c in event.text.split() if looks_like_part(c)]
        for chunk in chunks:
            read_scan(app, chunk)
        return bool(chunks)
    if not isinstance(event, events.Key):
        return False
    now = app.clock()
    if now - app.scan_at > SCAN_GAP:
        app.scan_keys = ""
    app.scan_at = now
    if event.key in ("enter", "tab"):
        typed, app.scan_keys = app.scan_keys, ""
        if looks_like_part(typed):
            read_scan(app, typed)
            return True
        return False
    char = event.character
    if char is None or len(char) != 1 or not char.isprintable():
        if not event.key.startswith("f"):  # a function key (F2 the language) is no reason to forget a scan
            app.scan_keys = ""
        return False
    typed = (app.scan_keys + char)[:MAX_SCAN_CHARS + 64]  # too long: read_part says too_large
    folded = typed.upper().replace("\uff39", "Y")  # full-width Ｙ as an input method in full-width mode types it
    if PREFIX.startswith(folded[:len(PREFIX)]) and (len(folded) < len(PREFIX) or folded.startswith(PREFIX)):
        app.scan_keys = typed
        return True  # a scan in progress: no widget needs its letters
    app.scan_keys = ""
    return False


def read_scan(app, text: str) -> None:
    """One part scanned: kept with the others of its registration; once all are in, the draft is
    filled and the steps open. A part that cannot be read is said, and the parts held are kept."""
    from kiosk.domain.prepared import Parts, PreparedCodeError

    draft = app.draft
    parts = draft.prepared or Parts()
    try:
        part = parts.add(text)
    except PreparedCodeError as e:
        show_status(app, ERRORS[e.kind], parts)
        return
    draft.prepared = parts
    if not parts.complete:
        show_status(app, "prepared.part_read", parts, part=part.number)
        return
    if app.catalog is None or app.policy is None:
        show_status(app, "prepared.error.loading", parts)
        return
    draft.prepared = None
    try:
        reg = parts.registration()
    except PreparedCodeError as e:  # the whole does not match its id, or does not unpack: start again
        show_status(app, ERRORS[e.kind], None)
        return
    open_prepared(app, reg)


def show_status(app, key: str, parts, **values) -> None:
    """The box over the welcome screen that says what the last scan did (made, or re-worded)."""
    have = len(parts.parts) if parts is not None else 0
    held = (have, parts.total, parts.missing) if parts is not None and parts.missing else None
    if isinstance(app.screen, PreparedStatus):
        app.screen.say(key, values, held)
    else:
        app.push_screen(PreparedStatus(key, values, held))


def _numbers(missing: tuple[int, ...], lang: str) -> str:
    return t("list.separator", lang).join(map(str, missing))


class PreparedStatus(Worded, ModalScreen[None]):
    """What a scan of a prepared code did: a part read (which are still to come), or why it could not
    be read. 关闭 (or Esc) forgets the parts read so far."""

    CSS_PATH = Path(__file__).parent / "prepared.tcss"
    BINDINGS: ClassVar = [Binding("escape", "close", show=False)]

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self, key: str, values: dict, held: tuple[int, int, tuple[int, ...]] | None) -> None:
        super().__init__()
        self.key, self.values, self.held = key, values, held
        self.worded = False

    def compose(self) -> ComposeResult:
        with Vertical(id="prepared-status", classes="prepared-box"):
            yield Static(id="prepared-status-title", classes="prepared-title")
            yield Static(id="prepared-status-text")
            yield Static(id="prepared-status-held")
            with Horizontal(classes="actions"):
                yield Button("", id="prepared-close", classes="big")

    def on_mount(self) -> None:
        if not self.query("#prepared-status-text"):  # popped before it was ever shown (parts pasted at once)
            return
        self.worded = True
        self.relabel()

    def say(self, key: str, values: dict, held) -> None:
        self.key, self.values, self.held = key, values, held
        if self.worded:  # else on_mount words it (parts pasted at once come before it is mounted)
            self.relabel()

    def relabel(self) -> None:
        if not self.worded:
            return
        lang = self.app.language
        self.query_one("#prepared-status-title", Static).update(t("prepared.title", lang))
        values = dict(self.values)
        if self.key == "prepared.part_read" and self.held:
            values.update(total=self.held[1], missing=_numbers(self.held[2], lang))
        self.query_one("#prepared-status-text", Static).update(t(self.key, lang, **values))
        held = self.query_one("#prepared-status-held", Static)
        held.display = bool(self.held) and self.key != "prepared.part_read"
        if self.held:
            have, total, missing = self.held
            held.update(t("prepared.parts_held", lang, have=have, total=total, missing=_numbers(missing, lang)))
        self.query_one("#prepared-close", Button).label = t("prepared.close", lang)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        self.app.draft.prepared = None
        self.dismiss(None)


# ---- filling the steps ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Something of the code not filled in as it was: `key` and `values` say what (i18n), `label` the
    field's label key, `line` the 1-based instrument line."""

    step: int  # 0 customer, 1 instruments, 2 options: the step where the customer can put it right
    key: str
    values: dict = field(default_factory=dict)
    label: str | None = None
    line: int | None = None

    def text(self, lang: str) -> str:
        values = dict(self.values)
        if "error" in values:  # a FieldError of the kiosk's own checks: (key, values)
            error_key, error_values = values["error"]
            values["error"] = t(error_key, lang, **error_values)
        if "service" in values:
            values["service"] = service_name(values["service"], lang)
        if self.label is not None:
            values["field"] = t(self.label, lang)
        said = t(self.key, lang, **values)
        return said if self.line is None else t("prepared.line", lang, line=self.line, text=said)


CUSTOMER_FIELDS = (  # draft field, label key, the customer step's check
    ("organisation", "customer.organisation"),
    ("credit_code", "customer.credit_code"),
    ("contact", "customer.contact"),
    ("phone", "customer.phone"),
)
LINE_TEXTS = (("model", "line.model", 60), ("serial_number", "line.serial_number", 60),
              ("manufacturer", "line.manufacturer", 60))
LEDGER = (("name", "prepared.ledger.name", 60), ("measuring_range", "prepared.ledger.range", 60),
          ("accuracy", "prepared.ledger.accuracy", 30), ("location", "prepared.ledger.location", 60))
MAX_REQUIREMENTS = 200


def _shown_code(code: str) -> str:
    return code if _SAFE_CODE.fullmatch(code) else "?"


def fill(draft: Draft, reg: PreparedRegistration, by_code: dict, extra_data_percent: int) -> list[Problem]:
    """Put `reg` into the (cleared) draft as if the customer had typed it on each step: every value
    through the check that step applies to it. What does not pass is left out and listed."""
    from kiosk.domain.validation import (
        FieldError,
        clean_count,
        clean_credit_code,
        clean_email,
        clean_organisation,
        clean_person,
        clean_phone,
        clean_text,
    )

    from .draft import _urgent_allowed

    draft.clear()
    problems: list[Problem] = []

    def checked(step: int, label: str, clean, value, *, line: int | None = None, default="", dropped=False):
        """`value` through `clean`; else the problem said and `default` (a field left empty, or the
        line left out when `dropped`)."""
        try:
            return clean(value)
        except FieldError as e:
            problems.append(Problem(step, "prepared.line.dropped" if dropped else "prepared.field",
                                    {"error": (e.key, e.values)}, label, line))
            return default

    cleaners = {"organisation": clean_organisation, "credit_code": clean_credit_code, "contact": clean_person,
                "phone": clean_phone}
    for name, label in CUSTOMER_FIELDS:
        value = getattr(reg, name)
        if name == "credit_code" or value.strip():  # empty required fields: the customer step says so
            setattr(draft, name, checked(0, label, cleaners[name], value))
    if reg.pickup in ("in_person", "post"):
        draft.pickup = reg.pickup
    else:
        problems.append(Problem(0, "prepared.pickup_bad"))
    if reg.address.strip():
        draft.address = checked(0, "customer.address", lambda v: clean_text(v, max_length=100), reg.address)

    _fill_lines(draft, reg, by_code, extra_data_percent, problems, checked)

    # options
    if reg.urgent is not None:
        from kiosk.domain.fees import URGENT_TIERS

        if reg.urgent not in URGENT_TIERS:
            problems.append(Problem(2, "prepared.urgent_bad"))
        elif not any(_urgent_allowed(by_code[ln.code], ln) for ln in draft.lines):
            problems.append(Problem(2, "prepared.urgent_impossible"))
        else:
            draft.urgent = reg.urgent
    try:
        draft.certificates = clean_count(reg.certificates, 1, 10, "error.certificates")
    except FieldError as e:
        problems.append(Problem(2, "prepared.field_reset", {"error": (e.key, e.values), "value": 1},
                                "options.certificates"))
    draft.certificate_name = checked(2, "options.certificate_name", lambda v: clean_text(v, max_length=100),
                                     reg.certificate_name)
    draft.email = checked(2, "notice.email", clean_email, reg.email)
    draft.notify = bool(reg.notify)
    if draft.notify and "email" in draft.options_errors():
        problems.append(Problem(2, "prepared.notify_nowhere"))
    return problems


def _fill_lines(draft: Draft, reg: PreparedRegistration, by_code: dict, extra_data_percent: int,
                problems: list[Problem], checked) -> None:
    from kiosk.domain.catalog import USES
    from kiosk.domain.fees import MAX_LINES
    from kiosk.domain.validation import FieldError, clean_count, clean_quantity, clean_text

    from .draft import DraftLine
    from .line_editor import _metres

    instruments = reg.instruments
    if len(instruments) > MAX_LINES:
        problems.append(Problem(1, "prepared.too_many_lines", {"count": len(instruments), "max": MAX_LINES}))
        instruments = instruments[:MAX_LINES]
    for number, ins in enumerate(instruments, 1):
        row = by_code.get(ins.code) if isinstance(ins.code, str) else None
        if row is None:
            problems.append(Problem(1, "prepared.line.unknown_item", {"code": _shown_code(ins.code)}, line=number))
            continue
        if ins.service != row.service:
            problems.append(Problem(1, "prepared.line.other_service", {"code": row.code, "service": row.service},
                                    line=number))
            continue
        quantity = checked(1, "line.quantity", clean_quantity, ins.quantity, line=number, default=None, dropped=True)
        if quantity is None:
            continue
        use = ins.use
        if use not in USES:
            problems.append(Problem(1, "prepared.line.bad_use", line=number))
            use = "other"
        values: dict = {}

        def addon(name: str, label: str, value, offered: bool, clean) -> None:
            if value is None or value is False:
                return
            if not offered:
                problems.append(Problem(1, "prepared.line.ignored", label=label, line=number))  # noqa: B023
                return
            try:
                values[name] = clean(value)  # noqa: B023
            except FieldError as e:
                problems.append(Problem(1, "prepared.field", {"error": (e.key, e.values)}, label, number))  # noqa: B023

        addon("points", "line.points", ins.points, row.per_point_fen is not None,
              lambda v: clean_count(v, 1, 1000, "error.points"))
        addon("ranges", "line.ranges", ins.ranges, row.per_range_fen is not None,
              lambda v: clean_count(v, 1, 100, "error.ranges"))
        addon("metres", "line.metres", ins.metres, row.per_metre_fen is not None, lambda v: _metres(_plain(v)))
        addon("ac_dc", "line.ac_dc", ins.ac_dc, row.ac_dc_percent is not None, bool)
        addon("extra_data", "prepared.line.extra_data", ins.extra_data, bool(extra_data_percent), bool)
        addon("repair_if_fails", "line.repair", ins.repair_if_fails, row.service != "repair", bool)
        for name, label, length in LINE_TEXTS:
            values[name] = checked(1, label, lambda v, n=length: clean_text(v, max_length=n), getattr(ins, name),
                                   line=number)
        values["requirements"] = _requirements(ins, row, number, problems, checked)
        draft.add_line(DraftLine(code=row.code, quantity=quantity, use=use, **values))


def _plain(value) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _requirements(ins, row, number: int, problems: list[Problem], checked) -> str:
    """The line's special requirements, then the ledger's columns the ticket has none for (器具名称
    when it is not the catalogue's, 测量范围, 准确度等级, 使用地点), for the counter: in Chinese."""
    from kiosk.domain.validation import clean_text

    own = checked(1, "line.requirements", lambda v: clean_text(v, max_length=MAX_REQUIREMENTS), ins.requirements,
                  line=number)
    said = []
    for name, key, length in LEDGER:
        value = checked(1, "line.requirements", lambda v, n=length: clean_text(v, max_length=n), getattr(ins, name),
                        line=number)
        if value and not (name == "name" and value == row.name_zh):
            said.append(t(key, "zh", value=value))
    ledger = t("prepared.ledger.separator", "zh").join(said)
    joined = t("prepared.ledger.separator", "zh").join(x for x in (own, ledger) if x)
    if len(joined) > MAX_REQUIREMENTS:
        problems.append(Problem(1, "prepared.line.ledger_too_long", line=number))
        return own
    return joined


def open_prepared(app, reg: PreparedRegistration) -> None:
    """Fill the draft from `reg` and open the steps up to the first that still needs something
    (else the estimate), with what was left out said over it."""
    from .customer import CustomerScreen
    from .estimate import EstimateScreen
    from .instruments import InstrumentsScreen
    from .options import OptionsScreen

    app.back_to_start()
    draft = app.draft
    problems = fill(draft, reg, app.catalog.by_code, app.policy.extra_data_percent)
    if draft.customer_errors():
        stop = 0
    elif not draft.lines:
        stop = 1
    elif draft.options_errors():
        stop = 2
    else:
        stop = 3
    for step, screen in enumerate((CustomerScreen, InstrumentsScreen, OptionsScreen, EstimateScreen)):
        if step <= stop:
            app.push_screen(screen())
    if problems:
        app.push_screen(PreparedProblems(problems))


class PreparedProblems(Worded, ModalScreen[None]):
    """What of the prepared registration was not filled in as it came, over the step reached."""

    CSS_PATH = Path(__file__).parent / "prepared.tcss"
    BINDINGS: ClassVar = [Binding("escape", "close", show=False)]

    if TYPE_CHECKING:  # the kiosk's app, typed (screens/host.py)
        app = getters.app(KioskHost)

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__()
        self.problems = problems

    def compose(self) -> ComposeResult:
        with Vertical(id="prepared-problems", classes="prepared-box"):
            yield Static(id="prepared-problems-title", classes="prepared-title")
            with VerticalScroll(id="prepared-problems-scroll"):
                yield Static(id="prepared-problems-list")
            with Horizontal(classes="actions"):
                yield Button("", id="prepared-ok", variant="primary", classes="big")

    def on_mount(self) -> None:
        self.relabel()
        self.query_one("#prepared-ok", Button).focus()

    def relabel(self) -> None:
        lang = self.app.language
        self.query_one("#prepared-problems-title", Static).update(t("prepared.problems", lang))
        self.query_one("#prepared-problems-list", Static).update(
            Text("\n".join(f"・{p.text(lang)}" for p in self.problems)))  # never markup: a code's text
        self.query_one("#prepared-ok", Button).label = t("prepared.ok", lang)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
