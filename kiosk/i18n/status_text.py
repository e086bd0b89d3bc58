"""A ticket's status in words, the one owner of them: the desk's counters (screens/clerk/) and
the lobby's progress inquiry (screens/progress.py) say the same.

In the lab a line is 检定中, 校准中, 检测中 or 修理中 by its service: a calibration is not a
verification, and the customer's certificate will say which it was. A ticket whose lines have
different services names each service once, in the catalogue's order (已收件，检定中、校准中):
a single word such as 在检 would say 检定 for a calibration again, and a vague 处理中 would
hide what the clerk can tell the customer exactly."""

from __future__ import annotations

from collections.abc import Iterable

from kiosk.domain.vocabulary import SERVICES
from kiosk.i18n import t
from kiosk.i18n.keys import TICKET_STATUSES, WORK_STATES


def work_text(services: Iterable[str], lang: str) -> str:
    """What is being done to the lines taken in: each service once, in SERVICES order;
    none known (every line refused, or a ticket this node knows only by its status): 办理中."""
    given = set(services)
    words = [t(WORK_STATES[s], lang) for s in SERVICES if s in given]
    return t("desk.work.joiner", lang).join(words) if words else t("desk.work.unknown", lang)


def status_text(status: str, services: Iterable[str], lang: str) -> str:
    """The ticket's status; `services`: those of its lines in the lab (used while received)."""
    return t(TICKET_STATUSES[status], lang, work=work_text(services, lang))


def line_status_text(status: str, service: str, lang: str) -> str:
    """One line's state while the ticket is in the lab (its service's word), else nothing: the
    ticket's status says it for every line."""
    return t(WORK_STATES[service], lang) if status == "received" else ""
