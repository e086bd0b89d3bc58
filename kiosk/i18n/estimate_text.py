"""An estimate as a plain-text table, laid out by display width (zh takes two cells)."""

from __future__ import annotations

from kiosk.domain.catalog import SERVICES, fee_number
from kiosk.domain.fees import LINE_ADDONS, Estimate, EstimateLine, StorageCharge
from kiosk.i18n import money, name_of, quantity_text, service_name, spec_of, t, use_name
from kiosk.i18n.keys import ADDONS, CHARGE_REASONS, FREE_REASONS, URGENT_NOTES
from kiosk.i18n.textwidth import cell_width, pad


def line_notes(line: EstimateLine, tier: str | None, lang: str) -> list[str]:
    """Add-ons, minimum, free reason, quoted, urgent: what a line's amount is made of, in the
    words of the estimate screen, the CLI and the receipt alike."""
    notes = [t(ADDONS[a.kind], lang, count=a.count, percent=a.percent) + " " + money(a.amount_fen, lang)
             for a in line.addons if a.kind not in LINE_ADDONS]
    if line.minimum_fen:
        notes.append(t("addon.minimum", lang) + " " + money(line.minimum_fen, lang))
    for a in line.addons:  # taken after the minimum, on the line (kiosk/domain/fees.py rule 4)
        if a.kind in LINE_ADDONS:
            notes.append(t("addon.extra_data_free", lang) if line.free_reason else
                         t(ADDONS[a.kind], lang, percent=a.percent) + " " + money(a.amount_fen, lang))
    if line.free_reason:
        notes.append(t(FREE_REASONS[line.free_reason], lang, use=use_name(line.use, lang)))
    if line.charge_reason:
        notes.append(t(CHARGE_REASONS[line.charge_reason], lang, use=use_name(line.use, lang)))
    if line.quoted:
        notes.append(t("quoted", lang))
    if line.urgent_percent is not None:
        notes.append(t("urgent.line", lang, tier=tier, percent=line.urgent_percent) + " "
                     + money(line.urgent_fen, lang))
    if line.urgent_note:
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
    out += [pad(t(key, lang), width - 13) + " " + pad(money(fen, lang), 12, ">") for key, fen in total_rows(est)]
    out.extend(closing_notes(est, lang))
    return "\n".join(out)


def total_rows(est: Estimate) -> list[tuple[str, int]]:
    """The totals under the lines, in the order every place shows them (screen, CLI, receipt):
    subtotal, urgent and discounts when any, the total, the value waived when any."""
    rows = [("total.subtotal", est.subtotal_fen)]
    if est.urgent_fen:
        rows.append(("total.urgent", est.urgent_fen))
    if est.discount_fen:
        rows.append(("total.discount", est.discount_fen))
    rows.append(("total.total", est.total_fen))
    if est.waived_fen:
        rows.append(("total.waived", est.waived_fen))
    return rows


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


def storage_rows(charge: StorageCharge, lang: str) -> list[tuple[str, str]]:
    """Storage past the pickup period as (label, amount) rows, for the dispatch counter and the
    pickup slip: its own line, the days of each tier under it, then what is due with it. None
    within the free period."""
    if not charge.tiers:
        return []
    rows = [(t("storage.line", lang, days=charge.days, free=charge.free_days), money(charge.amount_fen, lang))]
    rows += [("  " + t("storage.tier", lang, first=tier.after_days + 1, percent=tier.percent_per_day, days=tier.days),
              money(tier.amount_fen, lang)) for tier in charge.tiers]
    rows.append((t("storage.due", lang), money(charge.base_fen + charge.amount_fen, lang)))
    return rows
