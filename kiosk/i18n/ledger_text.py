"""A ledger's problems (kiosk/domain/ledger.py) in words: where (row and column, as the customer's
spreadsheet heads it) and what to do, in zh or en."""

from __future__ import annotations

from kiosk.domain.ledger import COLUMN_OF, LedgerProblem
from kiosk.i18n import t


def column_name(key: str, lang: str) -> str:
    column = COLUMN_OF.get(key)
    if column is None:
        return key
    return column.zh if lang == "zh" else f"{column.zh} ({column.en})"


def where(problem: LedgerProblem, lang: str) -> str:
    if not problem.line:
        return t("ledger.where.file", lang)
    if problem.column:
        return t("ledger.where.cell", lang, line=problem.line, column=column_name(problem.column, lang))
    return t("ledger.where.row", lang, line=problem.line)


def what(problem: LedgerProblem, lang: str) -> str:
    """The message, its (zh, en) values worded in `lang`."""
    values = {name: (value[0] if lang == "zh" else value[1]) if isinstance(value, tuple) else value
              for name, value in problem.values.items()}
    return t(problem.key, lang, **values)


def problem_text(problem: LedgerProblem, lang: str) -> str:
    """第5行“器具名称”：收费标准中没有“XX表”… / Row 5, 器具名称 (Instrument): …"""
    return f"{where(problem, lang)}{'：' if lang == 'zh' else ': '}{what(problem, lang)}"
