"""The read models' backfill after an upgrade (schema 22, central/backfill.py), at an institute's
scale on PostgreSQL: how long the upgrade's own transaction holds the schema lock, how long the
backfill takes, its longest single transaction (a push waits for one at most), and that the rows
in the end are the ones the old one-transaction build gave.

Data: bench/office_scale.py's generated central (`--reuse NAME`, or a fresh one of `--tickets`),
its read models built as central builds them; then every table, column and index after schema
`--from` (default 5: before any read model) dropped, as a central of that schema had it, and
central started on it (open_storage: the upgrade, which leaves the backfill due), then the
backfill run as `kiosk central backfill` runs it. Each read model's rows compared before and after
by an MD5 of their text in key order.

    python -m bench.backfill --tickets 200000            # a fresh database, dropped after
    python -m bench.backfill --reuse office_bench_ab12cd34ef --chunk 1000
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.office_scale import Database, load, pg_problem
from bench.rewind import back_to

# The read models and the order their rows are compared in (s.uid: the ticket's, schema 26's tables by
# ticket id; the ids themselves, which a backfill gives anew, are compared as the uids they stand for).
KEYS = {"ticket_state": "t.uid", "ticket_serial": "t.serial_key, s.uid",
        "ticket_facet": "t.facet, t.value, t.first_at, s.uid", "due_item": "s.uid, t.line", "figure_ticket": "s.uid",
        "figure_day": "field, service, day", "rating": "rated", "rating_sum": "span, period, kind, k1, k2, rating",
        "followup": "uid", "office_count": "status"}
BY_ID = ("ticket_serial", "ticket_facet", "due_item", "figure_ticket")


def digests(url: str) -> dict[str, tuple[int, str]]:
    import psycopg

    found = {}
    with psycopg.connect(url) as conn:
        for table, key in KEYS.items():
            row, source = "t::text", f"{table} t"
            if table == "ticket_state":
                row = "(to_jsonb(t) - 'id')::text"
            elif table in BY_ID:
                row = "(to_jsonb(t) || jsonb_build_object('ticket', s.uid))::text"
                source += " LEFT JOIN ticket_state s ON s.id = t.ticket"
            found[table] = conn.execute(f"SELECT count(*), md5(string_agg({row}, '|' ORDER BY {key})) "
                                        f"FROM {source}").fetchone()
    return found


def measure(url: str, version: int, chunk: int, inline: bool = False) -> str:
    import psycopg

    from central import backfill, readmodels, schema
    from central.schema import open_storage

    before = digests(url)
    rewound = open_storage(url, pool_size=1)
    try:
        back_to(rewound, version)
        if version == 23:  # as central 23 left them (tests/central/test_window_ratings_read_model.py)
            with rewound.transaction() as tx:
                tx.execute("DELETE FROM rating_sum WHERE kind IN ('w_stage', 'w_counter', 'w_clerk')")
                tx.execute("UPDATE rating SET last_upheld = set_aside")
    finally:
        rewound.close()
    if inline:  # schema 24's upgrade as released: its sums built inside the upgrade's transaction
        schema.FROM_STORED[24] = readmodels.build_24
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    began = time.perf_counter()
    storage = open_storage(url, pool_size=2)  # the upgrade, as `kiosk central serve` does it first
    upgrade = time.perf_counter() - began
    chunks: list[float] = []
    last = [time.perf_counter()]

    phases: list[str] = []

    def say(progress, run) -> None:
        now = time.perf_counter()
        chunks.append(now - last[0])
        phases.append(progress.phase)
        last[0] = now
        if len(chunks) % 50 == 0:
            print(f"#   {progress.phase} tickets {progress.tickets_done:,}/{progress.tickets_total:,} "
                  f"events {progress.events_done:,}/{progress.events_total:,} {run.seconds:.1f} s",
                  file=sys.stderr, flush=True)

    try:
        done = backfill.run(storage, size=chunk, say=say)
    finally:
        storage.close()
    after = digests(url)
    ordered = sorted(chunks) or [0.0]
    lines = [f"upgrade from schema {version}: its transaction {upgrade:.1f} s (the schema lock held)",
             (f"backfill: {done.chunks} chunks of {chunk} tickets in {done.seconds:.1f} s; one transaction: "
              f"median {ordered[len(ordered) // 2] * 1000:.0f} ms, p95 {ordered[int(len(ordered) * 0.95)] * 1000:.0f} "
              f"ms, longest {done.longest * 1000:.0f} ms; retried {done.retried}")]
    # phase: the phase after the chunk (its last: the next one's)
    for phase in ("tickets", "ratings", "window", "finish"):
        spent = [c for c, p in zip(chunks, phases) if p == phase]
        if spent:
            lines.append(f"  chunks ending in {phase}: {len(spent)}, longest {max(spent) * 1000:.0f} ms")
    for table in KEYS:
        lines.append(f"{table}: {before[table][0]:,} rows, {'same' if before[table] == after[table] else 'DIFFERENT'}"
                     + ("" if before[table] == after[table] else f" (after: {after[table][0]:,} rows)"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backfill", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--reuse", metavar="DATABASE", help="an existing bench database (kept; it is changed)")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--from", dest="version", type=int, default=5, help="the schema to upgrade from")
    parser.add_argument("--chunk", type=int, default=500, help="tickets a transaction")
    parser.add_argument("--inline", action="store_true",
                        help="--from 23: schema 24's sums built in the upgrade's transaction, as released")
    args = parser.parse_args(argv)
    problem = pg_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    with Database(args.reuse, args.keep) as db:
        if not args.reuse:
            load(db.url, args.tickets)
        print(measure(db.url, args.version, args.chunk, args.inline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
