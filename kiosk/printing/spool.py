"""The print spool: print jobs are rows written with their ticket; this prints them after
the commit, from durable state, so a dead printer or a crash loses nothing.

A job goes pending -> printing -> printed, or -> failed (with the error) and is tried
again after a backoff, up to MAX_ATTEMPTS times by itself; after that it waits for a
person (`kiosk reprint`, or the retry button on the ticket screen). Printed means the
printer said so after the job's bytes; a job whose every byte went out without that answer
(a printer that cannot answer, or did not, or reported a fault after it) is `unconfirmed`:
it may still come out, so it is never tried again by itself, only when a person asks. A job found
`printing` at start-up was cut off mid-print: it goes back to pending, since a duplicate
receipt is better than a lost one.

Three steps so that the kiosk can run the database parts on its database thread and the
device part on its print thread: `claim_job` (database), `send_job` (printer, no
database: kiosk/printing/send.py; the kiosk and the desk run it in their print worker's
child process, kiosk/printing/worker.py), `finish_job` (database). `print_job` chains them
for the command line, in its own process.

A database that cannot be written (a full disk) stops a pass with the database's error, for
the app to say so. Nothing is lost: a claim that fails is rolled back (the job stays due);
the outcome of a job the printer already had, and a person's "print again", are kept in the
app's `Backlog` and written first at the next pass, so no receipt is printed twice (only a
restart in between prints it again: the job is still `printing`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from db.models import PrintJob, Ticket, database_proxy, utc_now
from kiosk.printing.labels import ticket_labels
from kiosk.printing.receipts import job_document
from kiosk.printing.send import ClaimedJob, PrinterSettings, send_job  # no database: the print worker's too
from kiosk.settings.institute import InstituteInfo

log = logging.getLogger(__name__)  # job ids and error kinds only: never customer data

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (10, 30, 90, 300)  # wait after the 1st, 2nd, 3rd, later failures


@dataclass(frozen=True)
class PrintOutcome:
    job_id: int
    ticket_id: int
    state: str  # printed | failed | unconfirmed
    error_kind: str | None = None  # printer.backends.PrinterError.kind
    retry_at: datetime | None = None  # None: no automatic retry (printed, or out of attempts)


@dataclass(frozen=True)
class Unrecorded:
    """A job the printer had, whose outcome the database could not take."""

    claimed: ClaimedJob
    error: Any  # None: printed; else the PrinterError
    at: datetime  # when it was printed (or failed)


@dataclass
class Backlog:
    """What an app keeps between passes, to be written at the start of the next: outcomes a
    database error kept out, and failed jobs a person asked to print again (`retry_now`)."""

    unrecorded: list[Unrecorded] = field(default_factory=list)
    asked: list[int] = field(default_factory=list)


class ReprintError(LookupError):
    """No such ticket; or (`never_printed`) no paper of that kind was ever printed for it here."""

    def __init__(self, ticket_number: str, never_printed: bool = False) -> None:
        super().__init__(ticket_number)
        self.never_printed = never_printed


# Not printed yet: at most one such job per ticket and kind (the unique index print_job_one_waiting,
# db/migrations/m0014, whose frozen SQL names the same states).
UNPRINTED = ("pending", "printing", "failed")


@dataclass(frozen=True)
class Reprint:
    """What a person's "print it again" became: `how` is replaced (the job not printed yet,
    due now with fresh attempts), copy (a new job after one printed or may have, marked
    补打 / COPY) or printing (the job is on its way to the printer now: nothing added)."""

    job_id: int
    how: str


def recover_interrupted() -> int:
    """Jobs cut off mid-print by a crash or power loss go back to the queue."""
    return PrintJob.update(state="pending", next_attempt_at=None, updated_at=utc_now()).where(
        PrintJob.state == "printing").execute()


def due_jobs(now: datetime | None = None) -> list[int]:
    now = now or utc_now()
    waiting = (PrintJob.state == "pending") | (
        (PrintJob.state == "failed") & (PrintJob.attempts < MAX_ATTEMPTS)
        & (PrintJob.next_attempt_at.is_null() | (PrintJob.next_attempt_at <= now)))
    return [job.id for job in PrintJob.select(PrintJob.id).where(waiting).order_by(PrintJob.id)]


def next_retry_at() -> datetime | None:
    """When the earliest failed job may be tried again by itself."""
    job = (PrintJob.select(PrintJob.next_attempt_at)
           .where((PrintJob.state == "failed") & (PrintJob.attempts < MAX_ATTEMPTS)
                  & PrintJob.next_attempt_at.is_null(False))
           .order_by(PrintJob.next_attempt_at).first())
    return job.next_attempt_at if job else None


def claim_job(job_id: int, info: InstituteInfo, now: datetime | None = None) -> ClaimedJob | None:
    """Take a job for printing (one transaction); None if another process took it first."""
    now = now or utc_now()
    with database_proxy.atomic():
        taken = PrintJob.update(state="printing", attempts=PrintJob.attempts + 1, updated_at=now).where(
            (PrintJob.id == job_id) & PrintJob.state.in_(("pending", "failed"))).execute()
        if not taken:
            return None
        job = PrintJob.get_by_id(job_id)
    document = (ticket_labels(job.ticket_id, job.lang) if job.kind == "labels"  # one per instrument taken in
                else job_document(job.kind, job.ticket_id, info, job.lang, job.is_copy))  # ticket | voucher | slip
    return ClaimedJob(job.id, job.ticket_id, job.attempts, document)


def finish_job(claimed: ClaimedJob, error, now: datetime | None = None) -> PrintOutcome:
    now = now or utc_now()
    if error is None:
        PrintJob.update(state="printed", printed_at=now, last_error=None, next_attempt_at=None,
                        updated_at=now).where(PrintJob.id == claimed.job_id).execute()
        log.info("print job %d printed (attempt %d)", claimed.job_id, claimed.attempt)
        return PrintOutcome(claimed.job_id, claimed.ticket_id, "printed")
    if error.delivered:
        PrintJob.update(state="unconfirmed", last_error=f"{error.kind}: {error}", next_attempt_at=None,
                        updated_at=now).where(PrintJob.id == claimed.job_id).execute()
        log.warning("print job %d unconfirmed (attempt %d): %s", claimed.job_id, claimed.attempt, error.kind)
        return PrintOutcome(claimed.job_id, claimed.ticket_id, "unconfirmed", error.kind)
    retry_at = None
    if claimed.attempt < MAX_ATTEMPTS:
        wait = BACKOFF_SECONDS[min(claimed.attempt, len(BACKOFF_SECONDS)) - 1]
        retry_at = now + timedelta(seconds=wait)
    PrintJob.update(state="failed", last_error=f"{error.kind}: {error}", next_attempt_at=retry_at,
                    updated_at=now).where(PrintJob.id == claimed.job_id).execute()
    log.warning("print job %d failed (attempt %d): %s; retry at %s", claimed.job_id, claimed.attempt,
                error.kind, retry_at.isoformat(timespec="seconds") if retry_at else "none (out of attempts)")
    return PrintOutcome(claimed.job_id, claimed.ticket_id, "failed", error.kind, retry_at)


def print_job(job_id: int, settings: PrinterSettings, info: InstituteInfo,
              open_printer: Callable | None = None) -> PrintOutcome | None:
    claimed = claim_job(job_id, info)
    if claimed is None:
        return None
    return finish_job(claimed, send_job(claimed, settings, open_printer))


async def print_due(run_in_db, run_in_printer, settings: PrinterSettings, info: InstituteInfo,
                    report: Callable | None = None, backlog: Backlog | None = None) -> datetime | None:
    """Print every due job, for an app: `run_in_db(fn, *args)` and `run_in_printer(fn, *args)`
    await `fn` on its database and its print thread. `report(ticket_id, job_id, state,
    error_kind)` hears each step. Returns when the earliest failed job may be tried again.

    `backlog`, the app's to keep between passes, is written first (and between rounds: a
    person may ask while a pass runs); an outcome that cannot be written is added to it
    before the database's error is raised."""
    backlog = Backlog() if backlog is None else backlog
    while True:
        await _write_backlog(run_in_db, backlog, report)
        job_ids = await run_in_db(due_jobs)
        if not job_ids:
            break
        for job_id in job_ids:
            claimed = await run_in_db(claim_job, job_id, info)  # fails whole: the job stays due
            if claimed is None:
                continue  # another process (kiosk reprint) took it
            if report:
                report(claimed.ticket_id, job_id, "printing", None)
            error = await run_in_printer(send_job, claimed, settings)
            done_at = utc_now()
            try:
                outcome = await run_in_db(finish_job, claimed, error, done_at)
            except Exception:
                backlog.unrecorded.append(Unrecorded(claimed, error, done_at))
                raise
            if report:
                report(outcome.ticket_id, job_id, outcome.state, outcome.error_kind)
    return await run_in_db(next_retry_at)


async def _write_backlog(run_in_db, backlog: Backlog, report: Callable | None) -> None:
    """Each entry leaves the backlog only once written."""
    while backlog.unrecorded:
        left = backlog.unrecorded[0]
        outcome = await run_in_db(finish_job, left.claimed, left.error, left.at)
        backlog.unrecorded.pop(0)
        if report:
            report(outcome.ticket_id, outcome.job_id, outcome.state, outcome.error_kind)
    while backlog.asked:
        await run_in_db(retry_now, backlog.asked[0])
        backlog.asked.pop(0)


def retry_now(job_id: int) -> None:
    """A person asked: try this failed job again at once, with a fresh set of attempts. An
    unconfirmed one too, marked as a copy (the first may have come out), unless another job
    of its ticket and kind is waiting already (a reprint asked meanwhile): that one prints."""
    now = utc_now()
    with database_proxy.atomic():
        PrintJob.update(state="pending", attempts=0, next_attempt_at=None, updated_at=now).where(
            (PrintJob.id == job_id) & (PrintJob.state == "failed")).execute()
        job = PrintJob.get_or_none((PrintJob.id == job_id) & (PrintJob.state == "unconfirmed"))
        if job is None or PrintJob.select().where(
                (PrintJob.ticket == job.ticket_id) & (PrintJob.kind == job.kind)
                & PrintJob.state.in_(UNPRINTED)).exists():
            return
        PrintJob.update(state="pending", attempts=0, next_attempt_at=None, is_copy=True, updated_at=now).where(
            PrintJob.id == job_id).execute()


def request_reprint(ticket_number: str, lang: str | None = None, kind: str = "ticket") -> Reprint:
    """One receipt per request: the ticket's job of `kind` that has not printed yet is the one
    printed, never a second beside it (three tries while the printer is off print one receipt once
    it is back); after one printed, a new job marked as a copy. In the original language unless
    given. One IMMEDIATE transaction, and the unique index under it, keep it one job when
    `kiosk reprint` and the kiosk's spool ask at once. A voucher or pickup slip only once this
    node has printed one (a reception ticket may come from another node by sync)."""
    ticket = Ticket.get_or_none(Ticket.number == ticket_number.strip().upper())
    if ticket is None:
        raise ReprintError(ticket_number)
    now = utc_now()
    with database_proxy.atomic():
        jobs = list(PrintJob.select().where((PrintJob.ticket == ticket.id) & (PrintJob.kind == kind))
                    .order_by(PrintJob.id))
        if not jobs and kind != "ticket":
            raise ReprintError(ticket_number, never_printed=True)
        waiting = next((job for job in jobs if job.state in UNPRINTED), None)
        if waiting is not None and waiting.state == "printing":
            return Reprint(waiting.id, "printing")
        if waiting is not None:
            PrintJob.update(state="pending", attempts=0, next_attempt_at=None, updated_at=now,
                            lang=lang or waiting.lang).where(PrintJob.id == waiting.id).execute()
            return Reprint(waiting.id, "replaced")
        job_id = PrintJob.insert(ticket=ticket.id, kind=kind, state="pending", attempts=0, created_at=now,
                                 updated_at=now, lang=lang or (jobs[0].lang if jobs else "zh"), is_copy=True).execute()
    return Reprint(job_id, "copy")
