"""Schema migrations, in order. The schema version is SQLite's `PRAGMA user_version`.

Each migration runs in one IMMEDIATE transaction together with the version bump
(SQLite DDL is transactional), so a crash mid-upgrade leaves the old schema intact.
"""

from . import (
    m0001_catalog,
    m0002_tickets,
    m0003_search_keys,
    m0004_print_spool,
    m0005_ticket_codes,
    m0006_clerk_desk,
    m0007_sync,
    m0008_feedback,
    m0009_followups_everywhere,
    m0010_organisations,
    m0011_parked_changes,
    m0012_compulsory_uses,
    m0013_extra_data,
    m0014_one_waiting_print_job,
    m0015_certificate_checks,
    m0016_window_ratings,
    m0017_institute_info,
    m0018_desk_work_orders,
)

MIGRATIONS: list[list[str]] = [
    m0001_catalog.STATEMENTS,
    m0002_tickets.STATEMENTS,
    m0003_search_keys.STATEMENTS,
    m0004_print_spool.STATEMENTS,
    m0005_ticket_codes.STATEMENTS,
    m0006_clerk_desk.STATEMENTS,
    m0007_sync.STATEMENTS,
    m0008_feedback.STATEMENTS,
    m0009_followups_everywhere.STATEMENTS,
    m0010_organisations.STATEMENTS,
    m0011_parked_changes.STATEMENTS,
    m0012_compulsory_uses.STATEMENTS,
    m0013_extra_data.STATEMENTS,
    m0014_one_waiting_print_job.STATEMENTS,
    m0015_certificate_checks.STATEMENTS,
    m0016_window_ratings.STATEMENTS,
    m0017_institute_info.STATEMENTS,
    m0018_desk_work_orders.STATEMENTS,
]
LATEST = len(MIGRATIONS)
