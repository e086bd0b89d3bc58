"""The certificate checks' figures (证书核对, central/certificate_checks.py) at an institute's scale
on PostgreSQL: the `/office/certificate-checks` page's 12-week summary and first page, and its
JSON's page, with N checks generated directly in SQL as `certificate_check` rows (their weeks the
last 12, fields, outcomes, points found wrong and re-checks in plausible shares), beside

- `rows`: the schema-13 aggregate the summary made before schema 27 (every check of the period
  read and grouped: `certificate_check`'s rows, void ones left out), timed in the same run;
- the floor: a keyset page of 50 checks by event id (the primary key), median of 21.

If the code has the totals read model (`certificate_check_sum`, schema 27), it is built from the
generated rows first, as the upgrade builds it, and that build is timed.

    python -m bench.certificate_checks --checks 1000000          # a fresh database, dropped after
    python -m bench.certificate_checks --reuse cc_bench_ab12cd34  # one kept with --keep
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from bench.common import median
from bench.office_scale import PG_URL, pg_problem

OLD = ("SELECT '', c.field, c.outcome, c.wrong, c.recheck, count(*) FROM certificate_check c "
       "WHERE c.event_id NOT IN (SELECT v.id FROM event v WHERE v.void_id IS NOT NULL) AND c.week >= %s "
       "AND c.week <= %s GROUP BY c.field, c.outcome, c.wrong, c.recheck")


def generate(url: str, checks: int) -> None:
    import psycopg

    from kiosk.domain.certificate_check import week_of
    from kiosk.domain.clock import today

    newest = week_of(today())
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO certificate_check (event_id, uid, ticket, line, instrument, site, week, field, outcome, "
            "document, wrong, recheck, at) "
            "SELECT i, 'chk-' || i, 'T' || (i / 3), i %% 3, 0, 'main', "
            "to_char(%s::date - 7 * (i %% 12), 'YYYY-MM-DD'), "
            "(ARRAY['C','L','Z','R','D','H','G','?'])[1 + (i * 7 + i / 5) %% 8], "
            "CASE WHEN i %% 13 = 0 THEN 'returned' ELSE 'passed' END, "
            "CASE WHEN i %% 19 = 0 THEN 'notice' ELSE 'certificate' END, "
            "CASE WHEN i %% 13 <> 0 THEN '' ELSE (ARRAY['serial','holder','conclusion','due_date','copies',"
            "'instrument','serial,holder','conclusion,due_date'])[1 + (i / 13) %% 8] END, "
            "CASE WHEN i %% 17 = 0 THEN 1 ELSE 0 END, "
            "%s::date - 7 * (i %% 12) + interval '9 hours' + (i %% 5) * interval '1 day' "
            "FROM generate_series(1, %s) i", (newest, newest, checks))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE certificate_check")


def timed(call, runs: int) -> tuple[float, object]:
    samples, found = [], None
    for _ in range(runs):
        began = time.perf_counter()
        found = call()
        samples.append((time.perf_counter() - began) * 1000)
    return median(samples), found


def measure(url: str, runs: int) -> None:
    import psycopg

    from central import certificate_checks
    from central.api.certificate_checks import WEEKS
    from central.schema import open_storage
    from kiosk.domain.certificate_check import week_of
    from kiosk.domain.clock import today

    last = today()
    first = week_of(last) - timedelta(weeks=WEEKS - 1)
    storage = open_storage(url, pool_size=2)
    try:
        with psycopg.connect(url) as conn:
            n = conn.execute("SELECT count(*) FROM certificate_check").fetchone()[0]
            has_sums = conn.execute("SELECT to_regclass('certificate_check_sum') IS NOT NULL").fetchone()[0]
        print(f"# {n:,} checks; totals read model: {'yes' if has_sums else 'no'}")
        if has_sums and hasattr(certificate_checks, "build_sums"):
            began = time.perf_counter()
            with storage.transaction() as tx:
                certificate_checks.build_sums(tx, storage)
            print(f"built certificate_check_sum from the rows (the upgrade's step): "
                  f"{time.perf_counter() - began:.2f} s")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE certificate_check_sum")
                sums = conn.execute("SELECT count(*) FROM certificate_check_sum").fetchone()[0]
            print(f"# certificate_check_sum: {sums:,} rows")
        with psycopg.connect(url) as conn:
            def floor():
                return conn.execute("SELECT event_id, ticket, week, field, outcome FROM certificate_check "
                                    "WHERE event_id > %s ORDER BY event_id LIMIT 50", (n // 2,)).fetchall()

            def rows():
                return conn.execute(OLD, (first.isoformat(), last.isoformat())).fetchall()

            floor_ms, _ = timed(floor, 21)
            rows_ms, old = timed(rows, runs)
        summary_ms, (total, fields) = timed(lambda: certificate_checks.summary(storage, first, last), runs)
        page_ms, found = timed(lambda: certificate_checks.page(storage, first, last), runs)
        assert total is not None and total.checked == sum(r[-1] for r in old), (total, len(old))
        print(f"floor (50 checks by event id, keyset): {floor_ms:.2f} ms")
        for name, ms in (("rows aggregate, 12 weeks (the summary before schema 27)", rows_ms),
                         ("certificate_checks.summary, 12 weeks (the page's totals)", summary_ms),
                         ("certificate_checks.page, first 30 rows (page and JSON)", page_ms),
                         ("page + summary (the HTML page's reads)", page_ms + summary_ms)):
            print(f"{name}: {ms:.1f} ms, {ms / floor_ms:.0f}x the floor")
        print(f"# {total.checked:,} checks in 12 weeks, {len(fields)} fields, {len(found.rows)} rows on page 1")
    finally:
        storage.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reuse", help="a database kept by --keep (no rows generated)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    problem = pg_problem()
    if problem:
        print(f"# skipped: {problem}", file=sys.stderr)
        return 1
    import psycopg

    name = args.reuse or f"cc_bench_{uuid.uuid4().hex[:8]}"
    url = urlunsplit(urlsplit(PG_URL)._replace(path=f"/{name}"))
    if not args.reuse:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
    try:
        if not args.reuse:
            from central.schema import open_storage

            open_storage(url, pool_size=1).close()
            began = time.perf_counter()
            generate(url, args.checks)
            print(f"# generated {args.checks:,} checks in {time.perf_counter() - began:.1f} s")
        measure(url, args.runs)
    finally:
        if args.keep or args.reuse:
            print(f"# database kept: {name}", file=sys.stderr)
        else:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
