"""office_count: how many tickets are in each status now, one row a status, so the overview
reads four rows instead of counting every ticket. Kept by the changes ticket_state reports,
written last before the change feed's clock (central/feed.py): every push updates these rows,
and holding them only from there to COMMIT adds no waiting the feed clock does not already."""

from __future__ import annotations

from ..storage import Tx
from ..words import STATUSES

STATEMENTS = (
    "CREATE TABLE office_count (status SMALLINT PRIMARY KEY, n BIGINT NOT NULL)",
    "INSERT INTO office_count (status, n) VALUES " + ", ".join(f"({rank}, 0)" for rank in range(len(STATUSES))),
)


def adjust(tx: Tx, moved: dict[int, int]) -> None:
    """Add `moved` (status rank -> change) before the transaction commits."""
    pending = tx.state.get("office_count")
    if pending is None:
        pending = tx.state["office_count"] = {}
        tx.before_commit(lambda: _write(tx, pending))
    for status, n in moved.items():
        pending[status] = pending.get(status, 0) + n


def _write(tx: Tx, pending: dict[int, int]) -> None:
    for status, n in sorted(pending.items()):  # in status order: two pushes never wait on each other crosswise
        if n:
            tx.execute("UPDATE office_count SET n = n + ? WHERE status = ?", (n, status))


def rebuild(tx: Tx) -> None:
    """Counted again from ticket_state (a build)."""
    tx.execute("UPDATE office_count SET n = (SELECT count(*) FROM ticket_state s WHERE s.status = office_count.status)")


def counts(tx: Tx) -> dict[str, int]:
    found = dict.fromkeys(STATUSES, 0)
    for status, n in tx.all("SELECT status, n FROM office_count"):
        found[STATUSES[status]] = n
    return found
