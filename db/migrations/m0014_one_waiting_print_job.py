"""Schema 14: one receipt per request.
A reprint of a job that has not printed yet is that job, retried (kiosk/printing/spool.py
request_reprint); a reprint of one that has printed is a new job, marked as a copy (补打).

- is_copy: 1 for a job printing a receipt again after one printed (the paper says 补打 / COPY).
- print_job_one_waiting: at most one unprinted job (pending, printing or failed) per ticket and
  kind, so two processes asking at once (`kiosk reprint` beside the kiosk's spool) still make one.

Before the index, the extra waiting copies that `kiosk reprint` used to add are dropped (each
would have printed one receipt too many), keeping the earliest; a kept job after a printed one
of its ticket and kind is a copy.

Frozen: a released migration is never edited; change the schema with a new one.
"""

STATEMENTS = [
    "ALTER TABLE print_job ADD COLUMN is_copy INTEGER NOT NULL DEFAULT 0",
    """UPDATE print_job SET is_copy = 1
       WHERE state IN ('pending', 'printing', 'failed')
         AND EXISTS (SELECT 1 FROM print_job AS p
                     WHERE p.ticket_id = print_job.ticket_id AND p.kind = print_job.kind
                       AND p.state NOT IN ('pending', 'printing', 'failed') AND p.id < print_job.id)""",
    """DELETE FROM print_job
       WHERE state IN ('pending', 'printing', 'failed')
         AND id > (SELECT MIN(p.id) FROM print_job AS p
                   WHERE p.ticket_id = print_job.ticket_id AND p.kind = print_job.kind
                     AND p.state IN ('pending', 'printing', 'failed'))""",
    """CREATE UNIQUE INDEX print_job_one_waiting ON print_job (ticket_id, kind)
       WHERE state IN ('pending', 'printing', 'failed')""",
]
