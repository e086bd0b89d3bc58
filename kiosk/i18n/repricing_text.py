"""The receipt's figure beside the counter's, in words (kiosk/domain/repricing.py): one line per
line that differs, e.g. "第1行 收据￥120.00，现￥80.00：测量点由20改为10"."""

from __future__ import annotations

from kiosk.domain.repricing import LineDifference, PricedLine
from kiosk.i18n import money, service_name, t, use_name

# What changed, in words: a detail's before and after (kiosk/domain/repricing.py DETAILS) ...
DETAIL_KEYS = {"code": "desk.diff.code", "service": "desk.diff.service", "use": "desk.diff.use",
               "quantity": "desk.diff.quantity", "points": "desk.diff.points", "ranges": "desk.diff.ranges",
               "metres": "desk.diff.metres", "ac_dc": "desk.diff.ac_dc", "extra_data": "desk.diff.extra_data"}
# ... or what happened to the line, or why nothing the clerk did explains its figure (its basis).
EVENT_KEYS = {"refused": "desk.diff.refused", "added": "desk.diff.added", "repriced": "desk.diff.repriced"}
BASIS_KEYS = {"catalogue_differs": "desk.diff.catalogue_differs", "policy_differs": "desk.diff.policy_differs",
              "unknown": "desk.diff.unknown"}
# The counter's note while a ticket is taken in as registered under another basis: the receipt stands.
BASIS_NOTES = {"catalogue_differs": "desk.basis.catalogue_differs", "policy_differs": "desk.basis.policy_differs",
               "unknown": "desk.basis.unknown"}


def figure_text(line: PricedLine | None, lang: str) -> str:
    """A line's figure, its urgent surcharge named when it has one."""
    if line is None:
        return t("desk.diff.not_on_receipt", lang)
    if line.refused:
        return t("desk.diff.not_charged", lang)
    if line.amount_fen is None:
        return money(None, lang)  # quoted at the counter
    if line.urgent_fen:
        return t("desk.diff.with_urgent", lang, amount=money(line.figure_fen, lang),
                 urgent=money(line.urgent_fen, lang))
    return money(line.amount_fen, lang)


def _value(what: str, value, lang: str) -> str:
    if what == "service":
        return service_name(value, lang)
    if what == "use":
        return use_name(value, lang)
    if isinstance(value, bool):
        return t("desk.diff.yes" if value else "desk.diff.no", lang)
    if value is None:
        return t("desk.diff.unset", lang)
    return t("desk.diff.in_metres", lang, metres=value) if what == "metres" else str(value)


def reason_text(diff: LineDifference, lang: str) -> str:
    parts = []
    for change in diff.changes:
        if change.what == "basis":
            parts.append(t(BASIS_KEYS[str(change.before)], lang))
        elif change.what in EVENT_KEYS:
            parts.append(t(EVENT_KEYS[change.what], lang))
        else:
            parts.append(t(DETAIL_KEYS[change.what], lang, before=_value(change.what, change.before, lang),
                           after=_value(change.what, change.after, lang)))
    return t("desk.diff.sep", lang).join(parts)


def difference_text(diff: LineDifference, lang: str) -> str:
    return t("desk.diff.line", lang, line=diff.position + 1, receipt=figure_text(diff.receipt, lang),
             now=figure_text(diff.now, lang), why=reason_text(diff, lang))


def basis_note(basis: str, lang: str) -> str:
    """What the counter says while the receipt's figures stand under another basis ("" for the same)."""
    return t(BASIS_NOTES[basis], lang) if basis in BASIS_NOTES else ""
