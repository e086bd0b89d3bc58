"""满意度统计 from this node's database, and its CSV export. No Textual here.

The arithmetic is kiosk/domain/satisfaction.py's (pure); this module only reads the Feedback table
into `Rating`s and writes the CSV file. Both run in the station's database thread (or the CLI).

Who served the customer: the step that handed the instruments back (picked_up), or, failing
that, the one that took them in (received), as the feedback row recorded them. The counter
is that step's device, named by its enrolled name at the central system (DeviceKey.name)
when known, else this node's own ticket prefix for it, else the end of its uid; the clerk is
the local clerk's display name, else the username the step carried. Two clerks (or desks) of
one name stay apart: the username (or end of uid) follows the name (distinct_labels).
"""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from db.models import Appeal, Clerk, Feedback, Ticket
from kiosk.domain.clock import start_of
from kiosk.domain.feedback import HEARTS, LEVELS
from kiosk.domain.satisfaction import Rating, Summary, csv_text, distinct_labels, period, summarise
from kiosk.store.feedback import device_names

SHORT_UID = 8  # the random end of a device uid, when the device has no name here


def ratings_from_db(since: datetime | None = None, until: datetime | None = None) -> list[Rating]:
    """The ratings stored here given from `since` (included) to `until` (excluded), oldest
    first; both aware datetimes, or None for no bound. A rating an upheld appeal set aside is
    kept in the database and left out here (好差评: never deleted, not counted)."""
    set_aside = Appeal.select(Appeal.feedback).where(Appeal.decision == "upheld")
    query = (Feedback.select(Feedback.created_at, Feedback.rating, Feedback.hearts, Feedback.reason,
                             Feedback.ticket, Feedback.ticket_number, Feedback.received_device,
                             Feedback.received_clerk, Feedback.picked_up_device, Feedback.picked_up_clerk)
             .where(Feedback.id.not_in(set_aside))
             .order_by(Feedback.created_at, Feedback.id))
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    if until is not None:
        query = query.where(Feedback.created_at < until)
    rows = list(query)
    devices = distinct_labels(device_names(), short=lambda uid: uid[-SHORT_UID:])
    clerks = distinct_labels({c.username: c.display_name for c in Clerk.select(Clerk.username, Clerk.display_name)})
    # A rating stored before schema 9 carries no number of its own: its ticket's.
    missing = {r.ticket_id for r in rows if r.ticket_id is not None and not r.ticket_number}
    numbers: dict[int | None, str] = (  # None, an anonymous rating's ticket, finds none
        {t.id: t.number for t in Ticket.select(Ticket.id, Ticket.number).where(Ticket.id.in_(list(missing)))}
        if missing else {})
    result = []
    for r in rows:
        if r.rating not in LEVELS:
            continue  # not a rating the scale knows; never stored by give_feedback
        if r.picked_up_device or r.picked_up_clerk:
            device, username = r.picked_up_device, r.picked_up_clerk
        else:
            device, username = r.received_device, r.received_clerk
        counter = (devices.get(device) or device[-SHORT_UID:]) if device else None
        clerk = (clerks.get(username) or username) if username else None
        hearts = tuple(h for h in HEARTS if h in (r.hearts or "").split(","))
        number = r.ticket_number or numbers.get(r.ticket_id)  # None: anonymous
        result.append(Rating(r.created_at, r.rating, hearts, counter, clerk, number, r.reason))
    return result


def local_midnight(day: date) -> datetime:
    return start_of(day)


def load_summary(weeks: int, today: date) -> Summary:
    """The last `weeks` weeks (this one included, to `today`) of ratings, by every view."""
    first, last = period(weeks, today)
    ratings = ratings_from_db(local_midnight(first), local_midnight(last + timedelta(days=1)))
    return summarise(ratings, weeks, today)


def export_name(today: date) -> str:
    return f"satisfaction-{today:%Y-%m-%d}.csv"


def export_csv(ratings, directory: Path, today: date) -> Path:
    """Write the ratings as CSV (UTF-8 with BOM: Excel reads it so) to `directory` (made if
    missing), named by the day; atomically: a temporary file, synced, renamed over any
    earlier export of the same day. OSError (disk full, read-only, a file where the folder
    should be) reaches the caller; no temporary file stays behind."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / export_name(today)
    data = csv_text(list(ratings)).encode("utf-8-sig")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".satisfaction-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return target  # a platform without directory handles: the rename is done
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
    return target
