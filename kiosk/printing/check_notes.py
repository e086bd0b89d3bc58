"""The pickup slip's words about certificate checks (kiosk/domain/certificate_check.py): an
instrument found 不合格 gets a 检定结果通知书 instead of a certificate, and the slip says so in plain
words, line by line (kiosk/printing/receipts.py pickup_slip_document)."""

from __future__ import annotations

from kiosk.i18n import t
from printer.document import Text


def failed_instruments(facts) -> dict[int, int]:
    """{intake line position: its instruments found 不合格 (their latest check a result notice)}; empty
    when nothing failed, or the checks cannot be read."""
    from db.models import Ticket, database_proxy
    from kiosk.store.certificate_checks import failed_verifications

    if database_proxy.obj is None:  # a slip drawn without a database (a preview of given facts)
        return {}
    ticket = Ticket.get_or_none(Ticket.number == facts.number)
    return failed_verifications(ticket.uid) if ticket is not None else {}


def notice_blocks(facts, lang: str, failed: dict[int, int] | None = None) -> list:
    """One line per intake line with instruments found 不合格 (`failed`: failed_instruments's, read
    when not given); none when nothing failed."""
    if failed is None:
        failed = failed_instruments(facts)
    blocks: list = []
    for position, count in sorted(failed.items()):
        ln = facts.lines[position] if position < len(facts.lines) else None
        name = "" if ln is None else (ln.name_zh if lang == "zh" else ln.name_en)
        of = f" {count}/{ln.quantity}" if ln is not None and ln.quantity > 1 else ""
        blocks.append(Text(f"{position + 1}. {name}{of}：" if lang == "zh" else f"{position + 1}. {name}{of}:",
                           bold=True))
        blocks.append(Text(f"   {t('check.slip.notice', lang)}"))
    return blocks
