"""An estimate as a plain-text table, laid out by display width (zh takes two cells)."""

from __future__ import annotations

from kiosk.domain.catalog import SERVICES, fee_number
from kiosk.domain.fees import Estimate, EstimateLine
from kiosk.i18n import money, name_of, quantity_text, service_name, spec_of, t, use_name
from kiosk.i18n.keys import ADDONS, FREE_REASONS, URGENT_NOTES
from kiosk.i18n.textwidth import cell_width, pad


def line_notes(line: EstimateLine, tier: str | None, lang: str, *, urgent: bool = True) -> list[str]:
    """Add-ons, minimum, free reason, quoted, urgent: what a line's amount is made of.
    `urgent=False` (the receipt, which sums urgent fees once): only why a line is not urgent
    when the item cannot be expedited."""
    notes = [t(ADDONS[a.kind], lang, count=a.count, percent=a.percent) + " " + money(a.amount_fen, lang)
             for a in line.addons]
    if line.minimum_fen:
        notes.append(t("addon.minimum", lang) + " " + money(line.minimum_fen, lang))
    if line.free_reason:
        notes.append(t(FREE_REASONS[line.free_reason], lang, use=use_name(line.use, lang)))
    if line.quoted:
        notes.append(t("quoted", lang))
    if line.urgent_percent is not None and urgent:
        notes.append(t("urgent.line", lang, tier=tier, percent=line.urgent_percent) + " "
                     + money(line.urgent_fen, lang))
    if line.urgent_note and (urgent or line.urgent_note == "urgent_not_offered"):
        notes.append(t(URGENT_NOTES[line.urgent_note], lang))
    return notes


def format_estimate(est: Estimate, lang: str = "zh", width: int = 78) -> str:
    service_width = max(cell_width(service_name(s, lang)) for s in SERVICES)
    cols = [("col.code", 11, "<"), ("col.item", 0, "<"), ("col.service", service_width, "<"),
            ("col.quantity", 6, ">"), ("col.unit_price", 10, ">"), ("col.amount", 12, ">")]
    fixed = sum(w for _, w, _ in cols) + len(cols) - 1
    cols[1] = ("col.item", max(10, width - fixed), "<")

    def row(cells: list[str]) -> str:
        return " ".join(pad(c, w, a) for c, (_, w, a) in zip(cells, cols)).rstrip()

    out = [row([t(k, lang) for k, _, _ in cols]), "-" * width]
    for ln in est.lines:
        name = name_of(ln, lang)
        out.append(row([
            fee_number(ln.code), name, service_name(ln.service, lang), quantity_text(ln.quantity, ln.unit, lang),
            money(ln.unit_price_fen, lang), money(ln.amount_fen, lang),
        ]))
        indent = " " * (cols[0][1] + 1)
        # A name too long for its cell is written out whole on the detail line.
        whole_name = name if cell_width(name) > cols[1][1] else ""
        described = "  ".join(x for x in (whole_name, spec_of(ln, lang), ln.regulation) if x)
        for note in ([described] if described else []) + line_notes(ln, est.urgent, lang):
            out.append(indent + note)
    for d in est.discounts:
        label = d.name_zh if lang == "zh" else d.name_en
        out.append(pad(label, width - 13) + " " + pad(money(d.amount_fen, lang), 12, ">"))
    out.append("-" * width)

    def total(key: str, fen: int, **values) -> None:
        label = t(key, lang, **values)
        out.append(pad(label, width - 13) + " " + pad(money(fen, lang), 12, ">"))

    total("total.subtotal", est.subtotal_fen)
    if est.urgent_fen:
        total("total.urgent", est.urgent_fen)
    if est.discount_fen:
        total("total.discount", est.discount_fen)
    total("total.total", est.total_fen)
    if est.waived_fen:
        total("total.waived", est.waived_fen)
    out.extend(closing_notes(est, lang))
    return "\n".join(out)


def closing_notes(est: Estimate, lang: str) -> list[str]:
    """What the total leaves out, when it will be ready, and who has the final word."""
    notes = []
    if est.quoted_lines:
        notes.append(t("total.quoted", lang, count=est.quoted_lines))
    if est.turnaround_days:
        notes.append(t("total.turnaround", lang, days=est.turnaround_days))
    if est.urgent_hours:
        notes.append(t("total.urgent_hours", lang, hours=est.urgent_hours))
    notes.append(t("total.confirm", lang))
    return notes
