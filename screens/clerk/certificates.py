"""Certificate numbers at the dispatch counter: one optional number per instrument of each line
as taken in (three gauges get three certificates; a refused line has none). A modal with a typed
result: {intake-line position: the numbers of its instruments, in order ("": none)}, or None when
cancelled. The numbers print on the pickup slip."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Static

from kiosk.i18n import quantity_text, service_name, t
from kiosk.store.desk import MAX_CERTIFICATE
from screens.base import labelled, relabel_marked
from screens.clerk.editor import Editor


class CertificateEditor(Editor[dict[int, tuple[str, ...]] | None]):

    def __init__(self, number: str, lines, numbers: dict[int, tuple[str, ...]]) -> None:
        """`lines`: kiosk.domain.intake.CounterLine, in intake order; `numbers`: what was noted so far."""
        super().__init__()
        self.number, self.lines, self.numbers = number, tuple(lines), dict(numbers)
        self.errors: dict[tuple[int, int], tuple[str, dict]] = {}  # (line, instrument) -> why

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"):
            yield Static(id="editor-title")
            body = VerticalScroll(id="editor-body")
            body.can_focus = False
            with body:
                yield Static(id="cert-hint")
                for i, ln in enumerate(self.lines):
                    with Vertical(classes="cert-line", id=f"cert-line-{i}"):
                        yield Static(classes="cert-label")
                        if not ln.refused:
                            noted = self.numbers.get(i, ())
                            for k in range(ln.quantity):
                                # Room to paste too much: the clerk is told the limit instead of losing the end.
                                yield Input(noted[k] if k < len(noted) else "", id=f"cert-{i}-{k}",
                                            max_length=MAX_CERTIFICATE * 2)
                                yield Static(classes="cert-error", id=f"cert-error-{i}-{k}")
            with Horizontal(classes="actions"):
                yield labelled(Button("", id="cancel", classes="big"), "flow.cancel")
                yield labelled(Button("", id="save", variant="primary", classes="big"), "cert.save")

    def on_mount(self) -> None:
        self.relabel()
        first = next(iter(self.query(Input)), None)
        if first is not None:
            first.focus()

    def relabel(self) -> None:
        lang = self.lang
        self.query_one("#editor-title", Static).update(Content(t("cert.title", lang, number=self.number)))
        self.query_one("#cert-hint", Static).update(Content(t("cert.hint", lang, max=MAX_CERTIFICATE)))
        for i, ln in enumerate(self.lines):
            box = self.query_one(f"#cert-line-{i}")
            name = ln.name_zh if lang == "zh" else ln.name_en
            parts = [f"{i + 1}. {name}", quantity_text(ln.quantity, ln.unit, lang), service_name(ln.service, lang)]
            if ln.serial_number:
                parts.append(f"{t('voucher.serial', lang)} {ln.serial_number}")
            if ln.refused:
                parts.append(t("cert.refused", lang))
            head = ("　" if lang == "zh" else "  ").join(parts)
            box.query_one(".cert-label", Static).update(Content(head))
            if not ln.refused:
                for k in range(ln.quantity):
                    if ln.quantity > 1:  # which instrument the field is for
                        box.query_one(f"#cert-{i}-{k}", Input).placeholder = t(
                            "cert.instrument", lang, n=k + 1, of=ln.quantity)
                    key, values = self.errors.get((i, k), ("", {}))
                    error = box.query_one(f"#cert-error-{i}-{k}", Static)
                    error.update(Content(t(key, lang, **values) if key else ""))
                    error.display = bool(key)
                box.set_class(any(at[0] == i for at in self.errors), "invalid")
        relabel_marked(self, lang)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next number (a scanned certificate ends with Enter); after the last, keeps."""
        event.stop()
        event.prevent_default()  # not Editor's: Enter keeps at once there
        inputs = list(self.query(Input))
        at = inputs.index(event.input)
        if at + 1 < len(inputs):
            inputs[at + 1].focus()
        else:
            self.action_save()

    def action_save(self) -> None:
        from kiosk.domain.validation import FieldError, clean_text

        given: dict[int, list[str]] = {}
        self.errors = {}
        for field in self.query(Input):
            assert field.id is not None  # every number's field is cert-<line>-<instrument> (compose)
            i, k = (int(x) for x in field.id.removeprefix("cert-").split("-"))
            try:
                value = clean_text(field.value, max_length=MAX_CERTIFICATE)
            except FieldError as e:
                self.errors[(i, k)] = (e.key, e.values)
                value = ""
            given.setdefault(i, []).append(value)
        self.relabel()
        if self.errors:
            first = self.query_one("#cert-{}-{}".format(*min(self.errors)), Input)
            first.focus()
            first.scroll_visible(animate=False)
            return
        numbers = {}
        for i, values in given.items():  # trailing blanks dropped, a line with none left out (as pick_up does)
            while values and not values[-1]:
                values.pop()
            if values:
                numbers[i] = tuple(values)
        self.dismiss(numbers)
