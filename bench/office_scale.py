"""The back office at an institute's scale (issue 20): tickets and their events generated INSIDE
PostgreSQL, then the office's answers timed through the real server beside an indexed query.

Data: a fresh database (`office_bench_<hex>`, created and dropped; nothing the tests use is
touched) with central's own schema (central/schema.py open_storage), the demo fee catalogue
imported as central imports it, kiosks and clerk desks as device rows, and N tickets whose
events are built by `generate_series` in central's stored shapes (kiosk/domain/events.py): a
registration with 1-5 lines (catalogue codes, serial numbers an organisation brings back every
cycle), the intake, ready, pickup, for one ticket in ten a rating (poor ones open a follow-up,
most of them closed), spread over five years of working hours up to yesterday; organisations,
contacts and phones from a small vocabulary (a few organisations bring most tickets). About
four events a ticket, as in the issue's measurement (804,100 events for 200,000 tickets).
Events are inserted in the order they happened, in chunks, with uuid7 uids as devices write
them, and then the `ticket` table is filled as schema 4's upgrade does; VACUUM ANALYZE after.
The load uses both cores (`--workers`): two connections insert the chunks (each event given the
id the identity gives it in event order), event's and ticket's indexes but event's primary key
are dropped during the insert and made again after it, as they were, and the read models are
built by `readmodels.build_parallel` (two processes over halves of the tickets); the database is
the one `--workers 1 --live-indexes` (the load before) makes, row for row and index for index.

figures: the median of `--runs` GETs of each office answer (the page, JSON or CSV as a browser or
a tool gets it, over HTTP from `kiosk central serve`, one worker), with the rows and bytes it
answered. floor: a plain indexed query on the same data in the same run, from this process:
a keyset page of 50 tickets by number (the `ticket` table's unique index) with each one's
organisation and phone read from its registration event by primary key: what a paginated page
over an index costs. goal: the issue's, <= 300 ms at the median (there at 10 million tickets),
for a page or JSON answer whole, for a CSV export (streamed) at its first byte, its whole time
reported beside it.

Two more views of the same data, for notes/issue20-readmodels.md: `--explain` calls each office
derivation in process and splits its time into SQL (every statement timed, the costliest shapes
EXPLAIN ANALYZEd) and Python; `--readmodels` builds candidate read models from the events in a
schema `rm` (as an upgrade would), times page and search queries on them, and what keeping them
current costs per batch of 500 tickets (as a push would pay it).

    python -m bench.office_scale                      # 200,000 tickets, load + timings
    python -m bench.office_scale --tickets 1000000 --load-only --keep
    python -m bench.office_scale --reuse office_bench_ab12cd34ef --explain
    python -m bench.office_scale --reuse office_bench_ab12cd34ef --readmodels
    python -m bench.office_scale --reuse office_bench_ab12cd34ef --satisfaction
    python -m bench.office_scale --reuse office_bench_ab12cd34ef --worklist
    psql -c 'DROP DATABASE office_bench_ab12cd34ef'    # a kept or reused database is yours to drop
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from bench.common import Figure, median

TICKETS = int(os.environ.get("BENCH_OFFICE_TICKETS", "200000"))
PG_URL = os.environ.get("CENTRAL_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
KIOSKS, DESKS, YEARS, ORGANISATIONS = 12, 8, 5, 3000
CHUNK = 250_000  # events per INSERT statement (one transaction each)
WORKERS = 2  # processes building the read models' per-ticket rows (readmodels.build_parallel): the cores
INDEX_MEMORY = "1GB"  # maintenance_work_mem while event's and ticket's indexes are made after the load
RUNS, FLOOR_RUNS = 3, 21
GOAL_MS = 300.0
ZONE = "Asia/Shanghai"  # central's default institute zone (kiosk/domain/clock.py)
CATALOG = Path(__file__).resolve().parent.parent / "db" / "seed" / "demo_catalog.csv"

# The office's answers, as a browser or a tool asks for them.
REQUESTS = ("/office", "/api/v1/office/summary", "/office/due?within=30d", "/office/due.csv?within=30d",
            "/office/satisfaction", "/office/satisfaction.csv", "/office/worklist", "/office/worklist?page=100",
            "/office/followups",
            # The figures (central/figures.py): 12 weeks, 12 months, and the months' CSV.
            "/office/figures", "/office/figures?by=month", "/office/figures.csv?by=month",
            # The alerts (central/alerts.py): silent devices, parked events.
            "/api/v1/office/alerts",
            # The window ratings (central/ratings_export.py): the last 12 weeks, and every year.
            "/office/ratings", "/office/ratings?from=2000-01-01")

# ---- generation, in SQL --------------------------------------------------------------------

HELPERS = (
    # A uniform number in [0, 1) from (row, stream): deterministic, so every event of a ticket
    # sees the same draws, and a run is repeatable.
    """CREATE FUNCTION bench_r(i bigint, s bigint) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE
       AS $$ SELECT (hashint8extended(i, s) & 16777215)::float8 / 16777216 $$""",
    # RFC 9562 uuid7 as devices write them (kiosk/domain/ids.py): time-ordered, canonical text.
    """CREATE FUNCTION bench_uuid7(at timestamptz, seed text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
       AS $$ SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(m, 1, 3) || '-' ||
                    substr('89ab', 1 + (get_byte(decode(substr(m, 4, 2), 'hex'), 0) & 3), 1) ||
                    substr(m, 6, 3) || '-' || substr(m, 9, 12)
             FROM (SELECT lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') AS h,
                          md5(seed) AS m) x $$""",
    """CREATE FUNCTION bench_iso(at timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
       AS $$ SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00' $$""",
    """CREATE FUNCTION bench_device(role text, n int) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
       AS $$ SELECT md5(role || n)::uuid::text $$""",
)

# Words the organisations, contacts and clerks are made of (a few thousand names in all).
CITIES = ["贵阳", "遵义", "六盘水", "安顺", "毕节", "铜仁", "凯里", "都匀", "兴义", "仁怀"]
TRADES = ["燃气", "水务", "制药", "化工", "电力", "钢铁", "食品", "建材", "人民医院", "中医院", "疾控中心",
          "加油站", "汽车检测", "环境监测", "质检", "酒业", "轮胎", "铝业", "磷化工", "烟草"]
SUFFIXES = ["有限公司", "股份有限公司", "有限责任公司", "集团", "分公司"]
CONTACTS = ["李工", "王工", "张经理", "刘工", "陈主任", "杨工", "赵科长", "黄工", "周经理", "吴工"]
CLERKS = ["张敏", "王芳", "李静", "刘洋", "陈杰", "杨帆", "赵磊", "黄丽", "周婷", "吴昊", "徐娜", "孙伟"]
HEARTS = ["warm", "careful", "patient", "dedicated", "reassuring"]
REASONS = ["slow", "attitude", "fees", "unclear", "quality", "other"]
LEVELS = ["very_dissatisfied", "dissatisfied", "basic", "satisfied", "very_satisfied"]  # rating 1..5
USES = ["safety", "safety", "safety", "trade", "trade", "medical", "environment", "other"]

TICKET_TABLE = """
CREATE UNLOGGED TABLE gen_ticket AS
WITH base AS (
    SELECT i, (i - 1) * %(days)s / %(n)s AS day,
           mod((i - 1) * %(days)s, %(n)s)::float8 / %(n)s AS frac
    FROM generate_series(1::bigint, %(n)s::bigint) AS i
), timed AS (
    SELECT i, day,
           ((%(first_day)s::date + day::int) + interval '8 hours 30 minutes' + frac * interval '9 hours')
               AT TIME ZONE %(zone)s AS created_at,
           1 + mod(i - 1, %(kiosks)s)::int AS kiosk,
           (i - 1 - (day * %(n)s + %(days)s - 1) / %(days)s) / %(kiosks)s + 1 AS seq,
           1 + floor(%(orgs)s * bench_r(i, 1) ^ 2)::int AS org
    FROM base
), steps AS (
    SELECT *, CASE WHEN bench_r(i, 2) >= 0.03
                   THEN created_at + (5 + 115 * bench_r(i, 3)) * interval '1 minute' END AS received_at
    FROM timed
), ready AS (
    SELECT *, received_at + (1 + 11 * bench_r(i, 4)) * interval '1 day' AS ready_at0 FROM steps
), picked AS (
    SELECT *, CASE WHEN ready_at0 <= %(now)s THEN ready_at0 END AS ready_at,
           CASE WHEN bench_r(i, 6) >= 0.02 THEN ready_at0 + (0.1 + 30 * bench_r(i, 5) ^ 3) * interval '1 day'
           END AS picked_at0
    FROM ready
), rated AS (
    SELECT *, CASE WHEN picked_at0 <= %(now)s THEN picked_at0 END AS picked_at,
           CASE WHEN picked_at0 + interval '11 minutes' <= %(now)s AND bench_r(i, 7) < 0.10
                THEN picked_at0 + (1 + 10 * bench_r(i, 8)) * interval '1 minute' END AS feedback_at,
           CASE WHEN bench_r(i, 9) < 0.55 THEN 5 WHEN bench_r(i, 9) < 0.85 THEN 4 WHEN bench_r(i, 9) < 0.95 THEN 3
                WHEN bench_r(i, 9) < 0.98 THEN 2 ELSE 1 END AS rating
    FROM picked
), windowed AS (  -- the window pads' ratings (一次一评): 7 intakes in 10, 6 pickups in 10, 8 in 100 poor
    SELECT *, CASE WHEN received_at + interval '3 minutes' <= %(now)s AND bench_r(i, 50) < 0.70
                   THEN received_at + (1 + 2 * bench_r(i, 51)) * interval '1 minute' END AS wi_at,
           CASE WHEN picked_at + interval '3 minutes' <= %(now)s AND bench_r(i, 52) < 0.60
                THEN picked_at + (0.5 + 2 * bench_r(i, 53)) * interval '1 minute' END AS wc_at,
           CASE WHEN bench_r(i, 54) < 0.60 THEN 5 WHEN bench_r(i, 54) < 0.88 THEN 4 WHEN bench_r(i, 54) < 0.92 THEN 3
                WHEN bench_r(i, 54) < 0.97 THEN 2 ELSE 1 END AS wi_rating,
           CASE WHEN bench_r(i, 55) < 0.60 THEN 5 WHEN bench_r(i, 55) < 0.88 THEN 4 WHEN bench_r(i, 55) < 0.92 THEN 3
                WHEN bench_r(i, 55) < 0.97 THEN 2 ELSE 1 END AS wc_rating
    FROM rated
)
SELECT i, created_at, kiosk, org,
       'K' || lpad(kiosk::text, 3, '0') || '-' || to_char((created_at AT TIME ZONE %(zone)s)::date, 'YYMMDD')
           || '-' || lpad(seq::text, greatest(4, length(seq::text)), '0') AS number,
       bench_uuid7(created_at, i || ':t') AS uid,
       1 + floor(%(desks)s * bench_r(i, 11))::int AS rdesk, 1 + floor(%(desks)s * bench_r(i, 12))::int AS pdesk,
       CASE WHEN bench_r(i, 13) < 0.40 THEN 1 WHEN bench_r(i, 13) < 0.65 THEN 2 WHEN bench_r(i, 13) < 0.80 THEN 3
            WHEN bench_r(i, 13) < 0.90 THEN 4 ELSE 5 END AS nlines,
       CASE WHEN bench_r(i, 14) < 0.04 THEN 24 WHEN bench_r(i, 14) < 0.10 THEN 72 END AS urgent_hours,
       received_at, ready_at, picked_at, feedback_at,
       CASE WHEN feedback_at IS NOT NULL THEN rating END AS rating,
       CASE WHEN feedback_at IS NOT NULL AND rating <= 2 AND bench_r(i, 10) < 0.85
                 AND feedback_at + (1 + 13 * bench_r(i, 15)) * interval '1 day' <= %(now)s
            THEN feedback_at + (1 + 13 * bench_r(i, 15)) * interval '1 day' END AS closed_at,
       wi_at, wc_at, wi_rating, wc_rating,
       CASE WHEN wi_rating <= 2 AND bench_r(i, 56) < 0.3 AND wi_at + interval '1 hour' <= %(now)s
            THEN wi_at + interval '1 hour' END AS appealed_at,
       CASE WHEN wi_rating <= 2 AND bench_r(i, 56) < 0.3 AND wi_at + interval '1 day' <= %(now)s
            THEN wi_at + interval '1 day' END AS decided_at
FROM windowed
"""

# Every event of every ticket, in the order they happened (k: 0..3 the status facts,
# 4 feedback.given, 5 followup.closed; 6, 7 the window pads' ratings of the intake and the
# completion, 8 an appeal of a poor intake rating, 9 its decision).
EVENT_ORDER = """
CREATE UNLOGGED TABLE gen_event AS
SELECT row_number() OVER (ORDER BY at, i, k) AS n, i, k, at FROM (
    SELECT i, 0 AS k, created_at AS at FROM gen_ticket
    UNION ALL SELECT i, 1, received_at FROM gen_ticket WHERE received_at IS NOT NULL
    UNION ALL SELECT i, 2, ready_at FROM gen_ticket WHERE ready_at IS NOT NULL
    UNION ALL SELECT i, 3, picked_at FROM gen_ticket WHERE picked_at IS NOT NULL
    UNION ALL SELECT i, 4, feedback_at FROM gen_ticket WHERE feedback_at IS NOT NULL
    UNION ALL SELECT i, 5, closed_at FROM gen_ticket WHERE closed_at IS NOT NULL
    UNION ALL SELECT i, 6, wi_at FROM gen_ticket WHERE wi_at IS NOT NULL
    UNION ALL SELECT i, 7, wc_at FROM gen_ticket WHERE wc_at IS NOT NULL
    UNION ALL SELECT i, 8, appealed_at FROM gen_ticket WHERE appealed_at IS NOT NULL
    UNION ALL SELECT i, 9, decided_at FROM gen_ticket WHERE decided_at IS NOT NULL) AS s
"""

# One line j of ticket t: the same draws for its registration and its intake.
LINE = """(SELECT jsonb_agg({object} ORDER BY j) FROM generate_series(1, t.nlines) AS j
          JOIN gen_code c ON c.idx = 1 + floor(%(codes)s * bench_r(t.i * 8 + j, 20) ^ 1.5)::int)"""
REGISTERED_LINE = LINE.format(object="""jsonb_build_object(
    'position', j - 1, 'code', c.code, 'quantity', 1 + floor(4 * bench_r(t.i * 8 + j, 21) ^ 3)::int,
    'service', c.service, 'use', (%(uses)s::text[])[1 + floor(8 * bench_r(t.i * 8 + j, 25))::int],
    'amount_fen', c.amount_fen, 'model', 'Y-' || (100 + floor(60 * bench_r(t.i * 8 + j, 26))::int),
    'serial_number', CASE WHEN bench_r(t.i * 8 + j, 22) < 0.8
                          THEN 'S' || t.org || '-' || floor(40 * bench_r(t.i * 8 + j, 23))::int END,
    'manufacturer', '', 'requirements', '', 'free_reason', NULL, 'points', NULL, 'ranges', NULL,
    'metres', NULL, 'ac_dc', false, 'extra_data', false, 'repair_if_fails', false)""")
RECEIVED_LINE = LINE.format(object="""jsonb_build_object(
    'ticket_line_id', t.i * 8 + j, 'code', c.code, 'quantity', 1 + floor(4 * bench_r(t.i * 8 + j, 21) ^ 3)::int,
    'service', c.service, 'use', (%(uses)s::text[])[1 + floor(8 * bench_r(t.i * 8 + j, 25))::int],
    'condition', '', 'accessories', '',
    'serial_number', CASE WHEN bench_r(t.i * 8 + j, 22) < 0.8
                          THEN 'S' || t.org || '-' || floor(40 * bench_r(t.i * 8 + j, 23))::int ELSE '' END,
    'refused', bench_r(t.i * 8 + j, 24) < 0.02)""")

CLERK = """jsonb_build_object(
    'username', 'clerk' || lpad(({desk} * 3 + floor(3 * bench_r(t.i, {s}))::int)::text, 3, '0'),
    'name', (%(clerks)s::text[])[1 + mod({desk} * 3 + floor(3 * bench_r(t.i, {s}))::int, %(nclerks)s)])"""


def _step(desk: str, stream: int, extra: str = "") -> str:
    return f"""jsonb_build_object('event', bench_uuid7(e.at, t.i || ':s' || e.k), 'ticket', t.uid, 'number', t.number,
        'device', bench_device('desk', {desk}), 'at', bench_iso(e.at),
        'clerk', {CLERK.format(desk=desk, s=stream)}{extra})"""


def _window(stage: str, at: str, rating: str, desk: str, tag: str, step: str) -> str:
    """A window pad's `feedback.given` (kiosk/store/window_ratings.py rate()): half name the step's
    clerk, the rest no step (central takes the clerk from ticket_state); 70% with a 工号."""
    clerk = f"'clerk' || lpad(({desk} * 3 + floor(3 * bench_r(t.i, 31))::int)::text, 3, '0')"
    return f"""jsonb_build_object('feedback', bench_uuid7({at}, t.i || ':{tag}'),
    'device', bench_device('desk', {desk}), 'at', bench_iso({at}), 'rating', {rating},
    'level', (%(levels)s::text[])[{rating}], 'ticket', t.uid, 'number', t.number, 'hearts', '[]'::jsonb,
    'reason', CASE WHEN {rating} <= 2 THEN (%(reasons)s::text[])[1 + mod(t.i, 6)] END, 'callback', {rating} <= 2,
    'language', 'zh', 'stage', '{stage}', 'clerk', {clerk}, 'counter', (1 + mod(t.i, 3))::text,
    'staff_number', CASE WHEN bench_r(t.i, 58) < 0.7 THEN 'GZ' || lpad(({desk} * 3)::text, 4, '0') END,
    'steps', CASE WHEN bench_r(t.i, 59) < 0.5 THEN '{{}}'::jsonb ELSE jsonb_build_object('{step}',
        jsonb_build_object('device', bench_device('desk', {desk}), 'clerk', {clerk})) END,
    'followup', CASE WHEN {rating} <= 2 THEN jsonb_build_object('uid', bench_uuid7({at}, t.i || ':{tag}f'),
        'due_on', to_char(({at} AT TIME ZONE %(zone)s)::date + 7, 'YYYY-MM-DD'),
        'callback_by', bench_iso({at} + interval '48 hours')) END)"""


CUSTOMER = """jsonb_build_object(
    'organisation', o.name, 'credit_code', '915201' || lpad(t.org::text, 6, '0') || 'MA6DKJ',
    'address', o.city || '市' || (%(districts)s::text[])[1 + mod(t.org, 6)] || t.org || '号',
    'contact', (%(contacts)s::text[])[1 + mod(t.org * 7 + floor(2 * bench_r(t.i, 30))::int, 10)],
    'phone', '13' || mod(t.org, 10) || lpad((t.org * 7919 + floor(2 * bench_r(t.i, 30))::int)::text, 8, '0'))"""

PAYLOAD = f"""CASE e.k
WHEN 0 THEN jsonb_build_object(
    'ticket', jsonb_build_object('uid', t.uid, 'number', t.number, 'device', bench_device('kiosk', t.kiosk),
        'created_at', bench_iso(t.created_at), 'total_fen', 3000 * t.nlines + 500 * mod(t.i, 7),
        'catalog_version', 1, 'certificates', 1,
        'urgent', CASE t.urgent_hours WHEN 24 THEN '24h' WHEN 72 THEN '72h' END,
        'pickup', 'in_person', 'certificate_name', o.name, 'policy', 'demo-2026',
        'code', 'JL' || repeat(upper(md5(t.uid)), 6 + t.nlines),
        'ready_on', to_char((t.created_at AT TIME ZONE %(zone)s)::date + 10, 'YYYY-MM-DD'),
        'urgent_hours', t.urgent_hours),
    'customer', {CUSTOMER},
    'lines', {REGISTERED_LINE})
WHEN 1 THEN {_step('t.rdesk', 31, f", 'total_fen', 3000 * t.nlines + 500 * mod(t.i, 7), 'lines', {RECEIVED_LINE}")}
WHEN 2 THEN {_step('t.rdesk', 32)}
WHEN 3 THEN {_step('t.pdesk', 33, ", 'certificates', jsonb_build_object('0', jsonb_build_array("
                                  "'JD' || to_char(e.at, 'YYYY') || '-' || lpad(t.i::text, 7, '0'))), 'storage', NULL")}
WHEN 4 THEN jsonb_build_object('feedback', bench_uuid7(t.feedback_at, t.i || ':fb'),
    'device', bench_device('kiosk', t.kiosk), 'at', bench_iso(t.feedback_at), 'rating', t.rating,
    'level', (%(levels)s::text[])[t.rating], 'ticket', t.uid, 'number', t.number,
    'hearts', CASE WHEN t.rating >= 4 THEN jsonb_build_array((%(hearts)s::text[])[1 + mod(t.i, 5)]) ELSE '[]' END,
    'reason', CASE WHEN t.rating <= 2 THEN (%(reasons)s::text[])[1 + mod(t.i, 6)] END,
    'reason_text', NULL, 'comment', CASE WHEN t.rating <= 2 THEN '取件等了很久' END,
    'callback', t.rating <= 2, 'phone', CASE WHEN t.rating <= 2 THEN '139' || lpad(t.org::text, 8, '0') END,
    'language', 'zh', 'steps', '{{}}'::jsonb,
    'followup', CASE WHEN t.rating <= 2 THEN jsonb_build_object('uid', bench_uuid7(t.feedback_at, t.i || ':fu'),
        'due_on', to_char((t.feedback_at AT TIME ZONE %(zone)s)::date + 21, 'YYYY-MM-DD')) END)
WHEN 5 THEN jsonb_build_object('followup', bench_uuid7(t.feedback_at, t.i || ':fu'),
    'feedback', bench_uuid7(t.feedback_at, t.i || ':fb'), 'device', bench_device('desk', t.rdesk),
    'at', bench_iso(e.at), 'note', '已电话回访，客户表示理解', 'clerk', {CLERK.format(desk='t.rdesk', s=34)},
    'via', 'desk')
WHEN 6 THEN {_window('intake', 't.wi_at', 't.wi_rating', 't.rdesk', 'wi', 'received')}
WHEN 7 THEN {_window('completion', 't.wc_at', 't.wc_rating', 't.pdesk', 'wc', 'picked_up')}
WHEN 8 THEN jsonb_build_object('appeal', bench_uuid7(t.appealed_at, t.i || ':ap'),
    'feedback', bench_uuid7(t.wi_at, t.i || ':wi'), 'device', bench_device('desk', t.rdesk),
    'at', bench_iso(e.at), 'reason', '顾客误触', 'clerk', {CLERK.format(desk='t.rdesk', s=31)})
WHEN 9 THEN jsonb_build_object('appeal', bench_uuid7(t.appealed_at, t.i || ':ap'),
    'feedback', bench_uuid7(t.wi_at, t.i || ':wi'), 'device', bench_device('desk', t.rdesk),
    'at', bench_iso(e.at), 'decision', CASE WHEN bench_r(t.i, 57) < 0.5 THEN 'upheld' ELSE 'rejected' END,
    'reason', '监控', 'supervisor', jsonb_build_object('username', 'zhao', 'name', '赵主任'), 'via', 'desk')
END"""

KINDS = ["ticket.registered", "ticket.received", "ticket.ready", "ticket.picked_up", "feedback.given",
         "followup.closed", "feedback.given", "feedback.given", "rating.appealed", "appeal.decided"]

EVENT_INSERT = f"""
INSERT INTO event (id, uid, kind, device_id, ticket, status, created_at, received_at, payload) OVERRIDING SYSTEM VALUE
SELECT %(first_id)s + e.n, bench_uuid7(e.at, t.i || ':' || e.k), (%(kinds)s::text[])[e.k + 1],
       CASE WHEN e.k IN (0, 4) THEN t.kiosk WHEN e.k IN (3, 7) THEN %(kiosks)s + t.pdesk ELSE %(kiosks)s + t.rdesk END,
       CASE WHEN e.k <= 3 THEN t.uid END, CASE WHEN e.k <= 3 THEN e.k END,
       e.at, e.at + (2 + 60 * bench_r(e.n, 40)) * interval '1 second', {PAYLOAD}
FROM gen_event e JOIN gen_ticket t ON t.i = e.i JOIN gen_org o ON o.id = t.org
WHERE e.n > %(after)s AND e.n <= %(upto)s ORDER BY e.n
"""


@dataclass(frozen=True)
class Loaded:
    tickets: int
    events: int
    seconds: float  # generating and inserting the events, filling `ticket`
    vacuum_seconds: float  # VACUUM ANALYZE of the loaded tables
    bytes: int  # the database's size


class Database:
    """A fresh database for one run, dropped afterwards unless kept; `url` reaches it."""

    def __init__(self, reuse: str | None = None, keep: bool = False):
        self.name = reuse or f"office_bench_{uuid.uuid4().hex[:10]}"
        self.reused, self.keep = bool(reuse), keep or bool(reuse)
        parts = urlsplit(PG_URL)
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))

    def __enter__(self) -> Self:
        import psycopg

        if not self.reused:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {self.name}")
        return self

    def __exit__(self, *exc) -> None:
        import psycopg

        if self.keep:
            print(f"# database kept: {self.url}", file=sys.stderr)
            return
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {self.name} WITH (FORCE)")


def _vocabulary() -> dict:
    from kiosk.domain.catalog import parse_csv

    rows = parse_csv(CATALOG.read_text("utf-8"))
    return {"uses": USES, "clerks": CLERKS, "nclerks": len(CLERKS), "contacts": CONTACTS, "levels": LEVELS,
            "hearts": HEARTS, "reasons": REASONS, "kinds": KINDS, "codes": len(rows),
            "districts": ["观山湖区", "南明区", "云岩区", "花溪区", "白云区", "乌当区"], "zone": ZONE,
            "catalog": [(i + 1, r.code, r.service, r.price_fen) for i, r in enumerate(rows)]}


def load(url: str, tickets: int, kiosks: int = KIOSKS, desks: int = DESKS, years: int = YEARS,
         say=lambda text: print(text, file=sys.stderr, flush=True), workers: int = WORKERS,
         live_indexes: bool = False, inserters: int = WORKERS) -> Loaded:
    """Central's schema, devices, catalogue, and `tickets` tickets with their events, up to yesterday."""
    import psycopg

    from central.catalog import import_catalog
    from central.schema import open_storage
    from kiosk.domain.organisations import search_key

    storage = open_storage(url, pool_size=1)
    import_catalog(storage, CATALOG.read_text("utf-8"), CATALOG.name)
    storage.close()
    words = _vocabulary()
    now = datetime.now(UTC).replace(microsecond=0)
    days = years * 365
    last_day = now.astimezone(ZoneInfo(ZONE)).date() - timedelta(days=1)  # yesterday, in the institute's zone
    params = words | {"n": tickets, "days": days, "first_day": last_day - timedelta(days=days - 1), "now": now,
                      "kiosks": kiosks, "desks": desks, "orgs": ORGANISATIONS}
    start = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET maintenance_work_mem = '256MB'")
        for statement in HELPERS:
            conn.execute(statement)
        conn.execute("CREATE UNLOGGED TABLE gen_code (idx int PRIMARY KEY, code text, service text, amount_fen int)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO gen_code VALUES (%s, %s, %s, %s)", words["catalog"])
        conn.execute("CREATE UNLOGGED TABLE gen_org (id int PRIMARY KEY, name text, city text)")
        organisations = []
        for n in range(1, ORGANISATIONS + 1):
            city = CITIES[n % len(CITIES)]
            trade = TRADES[(n // len(CITIES)) % len(TRADES)]
            branch = n // (len(CITIES) * len(TRADES))
            name = f"{city}{trade}{SUFFIXES[n % len(SUFFIXES)]}" + (f"第{branch}分部" if branch else "")
            organisations.append((n, name, city))
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO gen_org VALUES (%s, %s, %s)", organisations)
        with conn.cursor() as cur:
            enrolled = now - timedelta(days=days + 30)
            cur.executemany("INSERT INTO device (uid, name, role, prefix, public_key, enrolled_at, last_seen_at, site) "
                            "VALUES (bench_device(%s, %s), %s, %s, %s, 'bench', %s, %s, 'main')",
                            [("kiosk", k, f"大厅自助机 {k}", "kiosk", f"K{k:03d}", enrolled, now)
                             for k in range(1, kiosks + 1)]
                            + [("desk", d, f"受理柜台 {d}", "clerk", f"D{d:03d}", enrolled, now)
                               for d in range(1, desks + 1)])
        ids = [row[0] for row in conn.execute("SELECT id FROM device ORDER BY id")]
        if ids != list(range(1, kiosks + desks + 1)):
            raise RuntimeError(f"device ids are not 1..{kiosks + desks}: {ids[:5]}...")
        conn.execute("INSERT INTO organisation_name (key, name, first_seen) SELECT k, n, %s FROM unnest(%s::text[], "
                     "%s::text[]) AS x (k, n) ON CONFLICT DO NOTHING",
                     (now - timedelta(days=days), [search_key(o[1]) for o in organisations],
                      [o[1] for o in organisations]))
        step = time.perf_counter()
        conn.execute(TICKET_TABLE, params)
        conn.execute("ALTER TABLE gen_ticket ADD PRIMARY KEY (i)")
        conn.execute(EVENT_ORDER)
        total = conn.execute("SELECT count(*) FROM gen_event").fetchone()[0]
        conn.execute("CREATE INDEX ON gen_event (n)")
        say(f"# {tickets:,} tickets, {total:,} events planned in {time.perf_counter() - step:.1f} s")
        dropped = [] if live_indexes else drop_owner_indexes(conn)
        step, cpu = time.perf_counter(), CpuMeter(url)
        insert_events(url, conn, params, total, inserters, say)
        say(f"# events inserted in {time.perf_counter() - step:.1f} s ({cpu.stop()})")
        # The owners of the tickets, as schema 4's upgrade fills them (central/trust.py claim_stored).
        conn.execute("INSERT INTO ticket (uid, number, device_id, site, event_id, registered_at) "
                     "SELECT ticket, payload #>> '{ticket,number}', device_id, 'main', id, created_at FROM event "
                     "WHERE kind = 'ticket.registered' ORDER BY id")
        for table in ("gen_event", "gen_ticket", "gen_org", "gen_code"):
            conn.execute(f"DROP TABLE {table}")
        if dropped:
            step, cpu = time.perf_counter(), CpuMeter(url)
            make_owner_indexes(conn, dropped)
            say(f"# event's and ticket's {len(dropped)} indexes made in {time.perf_counter() - step:.1f} s "
                f"({cpu.stop()})")
        step, cpu = time.perf_counter(), CpuMeter(url)
        build_read_models_as_central(url, workers)  # the events bypassed the push path, which keeps them
        say(f"# central's read models built from the events in {time.perf_counter() - step:.1f} s ({cpu.stop()})")
        seconds = time.perf_counter() - start
        step = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        vacuum = time.perf_counter() - step
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    say(f"# loaded {tickets:,} tickets, {total:,} events in {seconds:.1f} s (+ VACUUM ANALYZE {vacuum:.1f} s), "
        f"{size / 1e6:,.0f} MB")
    return Loaded(tickets, total, seconds, vacuum, size)


class CpuMeter:
    """CPU seconds spent by this process and its children (the build's workers, once joined) and by
    the database's PostgreSQL backends (each one's /proc/<pid>/stat, looked at every half second
    until it ends: a backend's last half second may be missed), from now to `stop`: on a machine
    shared with other work, what a phase costs apart from the wait for a core."""

    def __init__(self, url: str):
        import threading

        self.url, self.backends, self.done = url, {}, threading.Event()
        self.python = self._python()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    @staticmethod
    def _python() -> float:
        import resource

        return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                      resource.getrusage(resource.RUSAGE_CHILDREN)))

    def _watch(self) -> None:
        import psycopg

        tick = os.sysconf("SC_CLK_TCK")
        with psycopg.connect(self.url, autocommit=True) as conn:
            me = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            before = True  # the backends there at the start count from now, those after from their start
            while True:
                for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND pid <> %s", (me,)).fetchall():
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    used = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
                    self.backends.setdefault(pid, [used if before else 0.0, used])[1] = used
                before = False
                if self.done.wait(0.5):
                    return

    def stop(self) -> str:
        python = self._python() - self.python
        self.done.set()
        self.thread.join()
        backends = sum(last - first for first, last in self.backends.values())
        return f"CPU: Python {python:.1f} s, PostgreSQL {backends:.1f} s"


def insert_events(url: str, conn, params: dict, total: int, inserters: int, say) -> None:
    """gen_event's rows into `event` by chunks of CHUNK, each its own INSERT (and transaction), on
    `inserters` connections at once (PostgreSQL runs no INSERT ... SELECT in parallel by itself).
    Each event's id is the one the identity would give it in event order (its place n after the
    ids there), so the rows are those one connection inserting in order makes; the identity is
    then set past them."""
    import queue
    import threading

    import psycopg

    first_id = conn.execute("SELECT COALESCE(max(id), 0) FROM event").fetchone()[0]
    chunks: queue.Queue[int] = queue.Queue()
    for after in range(0, total, CHUNK):
        chunks.put(after)
    failed: list[BaseException] = []

    def insert(into) -> None:
        while not failed:
            try:
                after = chunks.get_nowait()
            except queue.Empty:
                return
            step = time.perf_counter()
            into.execute(EVENT_INSERT, params | {"after": after, "upto": after + CHUNK, "first_id": first_id})
            say(f"#   events {after + 1:,}..{min(total, after + CHUNK):,} in {time.perf_counter() - step:.1f} s")

    def other() -> None:
        try:
            with psycopg.connect(url, autocommit=True) as into:
                into.execute("SET work_mem = '256MB'")
                insert(into)
        except BaseException as e:  # noqa: BLE001 - said by the caller
            failed.append(e)

    threads = [threading.Thread(target=other) for _ in range(inserters - 1)]
    for thread in threads:
        thread.start()
    try:
        insert(conn)
    finally:
        for thread in threads:
            thread.join()
    if failed:
        raise failed[0]
    conn.execute("SELECT setval(pg_get_serial_sequence('event', 'id'), max(id)) FROM event")


def build_read_models_as_central(url: str, workers: int = WORKERS) -> None:
    """central/readmodels/ from the events, as schema 6's upgrade builds them (bulk: indexes made
    after the rows), the per-ticket part in `workers` processes over ranges of the tickets (one:
    the upgrade's own `readmodels.build`, in one transaction)."""
    from central import readmodels
    from central.schema import open_storage

    storage = open_storage(url, pool_size=1)
    try:
        if workers > 1:
            readmodels.build_parallel(storage, workers)
        else:
            with storage.transaction() as tx:
                readmodels.build(tx, storage, bulk=True)
    finally:
        storage.close()


# The generator's insert skips the push path (central/ingest.py), so event's and ticket's indexes
# can be made once after the rows instead of an entry a row (event_uid_key is filled in random
# order: its leaf pages split half full). The same names and definitions come back (constraints as
# constraints); event's primary key stays (ids arrive in order: appended, cheap).
OWNER_TABLES = ("event", "ticket")
KEPT = ("event_pkey",)


def drop_owner_indexes(conn) -> list[tuple[str, str, str | None]]:
    """(table, index, constraint definition or None) of every index dropped, then the definitions
    of the plain ones as pg_indexes has them."""
    found = conn.execute(
        "SELECT t.relname, c.relname, pg_get_indexdef(i.indexrelid), pg_get_constraintdef(k.oid) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
        "LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid "
        "WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace AND NOT c.relname = ANY(%s) "
        "ORDER BY t.relname, c.relname", (list(OWNER_TABLES), list(KEPT))).fetchall()
    for table, name, _, constraint in found:
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}" if constraint else f"DROP INDEX {name}")
    return [(table, name, f"ALTER TABLE {table} ADD CONSTRAINT {name} {constraint}" if constraint else definition)
            for table, name, definition, constraint in found]


def make_owner_indexes(conn, dropped: list[tuple[str, str, str]]) -> None:
    """The indexes `drop_owner_indexes` dropped, made again as they were (each one sorted pass, on
    parallel workers as PostgreSQL sees fit)."""
    conn.execute(f"SET maintenance_work_mem = '{INDEX_MEMORY}'")
    for _, _, statement in dropped:
        conn.execute(statement)


# ---- timing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    path: str
    median_ms: float  # the whole answer
    first_ms: float  # its first byte: what a CSV export, streamed, is judged by
    rows: int
    bytes: int

    @property
    def streamed(self) -> bool:
        return ".csv" in self.path or "/export.json" in self.path

    @property
    def judged_ms(self) -> float:
        """A page or JSON answer is there when it is whole; an export is under way at its first
        byte, and then runs at the network's pace (its whole time is reported beside it)."""
        return self.first_ms if self.streamed else self.median_ms


def _rows(path: str, body: bytes) -> int:
    """What the answer lists: table rows of a page (headers too), lines of a CSV, items of JSON."""
    if ".csv" in path:
        return max(0, body.count(b"\n") - 1)
    if "/export.json" in path:  # the ratings export: one record a rating
        return body.count(b'\n  {')
    if path.startswith("/api/"):
        import json

        data = json.loads(body)
        recent = data.get("tickets", {}).get("recent", {})
        return (sum(len(v) for v in recent.values()) + len(data.get("devices", ())) + len(data.get("items", ()))
                + len(data.get("unsynced", ())) + len(data.get("parked", ())))
    return body.count(b"<tr")


def time_requests(port: int, token: str, paths=REQUESTS, runs: int = RUNS) -> list[Timed]:
    """`token`: a director's session (`office_session`), as a script sends it."""
    auth = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    found = []
    for path in paths:
        samples, firsts, body = [], [], b""
        for _ in range(runs):
            start = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": auth})
            response = conn.getresponse()
            body = response.read(1)
            firsts.append(time.perf_counter() - start)
            body += response.read()
            samples.append(time.perf_counter() - start)
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
        found.append(Timed(path, median(samples) * 1000, median(firsts) * 1000, _rows(path, body), len(body)))
    conn.close()
    return found


FLOOR_SQL = ("SELECT t.number, e.payload #>> '{customer,organisation}', e.payload #>> '{customer,phone}' "
             "FROM ticket t JOIN event e ON e.id = t.event_id WHERE t.number < %s ORDER BY t.number DESC LIMIT 50")


def floor_ms(url: str, runs: int = FLOOR_RUNS) -> float:
    """A keyset page of 50 tickets by number with each one's organisation and phone."""
    import psycopg

    with psycopg.connect(url) as conn:
        samples = []
        after = "ZZZ"
        for _ in range(runs):
            start = time.perf_counter()
            rows = conn.execute(FLOOR_SQL, (after,)).fetchall()
            samples.append(time.perf_counter() - start)
            after = rows[-1][0] if len(rows) == 50 else "ZZZ"
    return median(samples) * 1000


def office_session(storage) -> str:
    """A session of the office user `bench`, a director (made on first use): every page is theirs
    to open. Each page it opens with customers' data writes its audit row, as anyone's would."""
    import secrets

    from central.accounts import OfficeUser, add_user
    from central.office_sessions import open_session

    with storage.read() as tx:
        row = tx.one("SELECT id, name, full_name, role FROM office_user WHERE name = 'bench'")
    user = OfficeUser(*row) if row else add_user(storage, "bench", "director", secrets.token_urlsafe(16))
    return open_session(storage, user).token


def search_requests(url: str) -> tuple[str, ...]:
    """The ticket list's searches (central/search.py), each with a value taken from the data: a
    number's start, an organisation's part (a common trade and a rarer name), a phone's last 4
    digits, a serial number, a status, and page 100 by its cursor (the link page 99 gives)."""
    from urllib.parse import quote, urlencode

    import psycopg

    from central.search import PAGE_SIZE, Cursor

    with psycopg.connect(url) as conn:
        number, tail = conn.execute("SELECT number, phone_tail FROM ticket_state WHERE phone_tail IS NOT NULL "
                                    "ORDER BY uid LIMIT 1 OFFSET 1000").fetchone()
        serial = conn.execute("SELECT serial_key FROM ticket_serial ORDER BY ticket LIMIT 1 OFFSET 1000").fetchone()[0]
        at, uid = conn.execute("SELECT first_at, uid FROM ticket_state ORDER BY first_at DESC, uid DESC "
                               "LIMIT 1 OFFSET %s", (99 * PAGE_SIZE - 1,)).fetchone()
    return tuple(f"/office/tickets?{urlencode(query)}" for query in (
        {"q": number[:8]}, {"q": "燃气"}, {"q": "铜仁酒业"}, {"q": tail}, {"q": serial}, {"status": "received"},
        {"page": Cursor(at, uid).link(True)})) + (f"/api/v1/office/tickets?{urlencode({'q': tail})}",
                                                   # a ticket's page (central/ticket_page.py), and as JSON
                                                   f"/office/tickets/{quote(number)}",
                                                   f"/api/v1/office/tickets/{quote(number)}")


def measure(url: str, runs: int = RUNS) -> tuple[list[Timed], float]:
    from bench.sync_drain import Central
    from central.schema import open_storage

    storage = open_storage(url, pool_size=1)
    token = office_session(storage)
    storage.close()
    server = Central(url)
    try:
        time_requests(server.port, token, ("/office",), 1)  # the worker's first request: imports, pools
        timed = time_requests(server.port, token, REQUESTS + search_requests(url), runs)
    finally:
        server.close()
    return timed, floor_ms(url)


def table(loaded: Loaded | None, timed: list[Timed], floor: float) -> str:
    head = "" if loaded is None else (f"{loaded.tickets:,} tickets, {loaded.events:,} events, "
                                      f"{loaded.bytes / 1e6:,.0f} MB\n\n")
    lines = [head + "| request | median ms | first byte ms | rows | bytes | ratio to the indexed floor |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| `{t.path}` | {t.median_ms:,.0f} | {t.first_ms:,.0f} | {t.rows:,} | {t.bytes:,} | "
              f"{t.judged_ms / floor:,.0f}x{' (first byte)' if t.streamed else ''} |" for t in timed]
    lines.append(f"| floor: 50 tickets by number, keyset, indexed (SQL) | {floor:.2f} | | 50 | | 1x |")
    return "\n".join(lines)


def _figures(loaded_tickets: int, timed: list[Timed], floor: float) -> list[Figure]:
    return [Figure(f"office GET {t.path} at {loaded_tickets:,} tickets ({t.rows:,} rows, {t.bytes / 1e6:.2f} MB"
                   + (f", whole in {t.median_ms / 1000:,.1f} s): first byte" if t.streamed else ")"),
                   t.judged_ms, "ms", "a keyset page of 50 tickets by number, indexed, SQL", floor,
                   f"median <= {GOAL_MS:.0f} ms", t.judged_ms <= GOAL_MS) for t in timed]


# ---- the window ratings (--ratings) --------------------------------------------------------------

RATINGS_REQUESTS = ("/office/ratings", "/office/ratings?from=2000-01-01", "/api/v1/office/ratings?from=2000-01-01",
                    # the 好差评 export, every rating (streamed: judged at its first byte, its whole time beside it)
                    "/office/ratings/export.csv", "/office/ratings/export.json",
                    # the appeals by state (schema 28; the default above: waiting)
                    "/office/ratings?appeals_state=decided", "/office/ratings?appeals_state=upheld",
                    "/office/ratings?appeals_state=all", "/api/v1/office/ratings?appeals_state=rejected")


def ratings_timings(url: str, runs: int = 9) -> str:
    """The window report (central/ratings_export.py window_report) at this central's schema: its
    upgrade if one is due, timed; `rating.window` and the whole report in process for 12 weeks and
    all time, each `rating.window` statement EXPLAIN ANALYZEd; the pages over HTTP beside the floor."""
    import psycopg

    from bench.sync_drain import Central
    from central import appeals, ratings_export
    from central.api.satisfaction import figures_period
    from central.readmodels import rating
    from central.schema import SCHEMA_VERSION, open_storage
    from central.storage import Tx

    with psycopg.connect(url) as conn:
        before = int(conn.execute("SELECT value FROM central_meta WHERE key = 'schema_version'").fetchone()[0])
        windowed = conn.execute("SELECT count(*) FROM rating WHERE stage IS NOT NULL").fetchone()[0]
    start = time.perf_counter()
    storage = open_storage(url, pool_size=1)
    lines = [(f"schema {before} -> {SCHEMA_VERSION}: opened (upgrade) in {time.perf_counter() - start:.1f} s; "
              f"{windowed:,} window ratings")]
    with storage.read() as tx:
        lines.append(f"rating_sum rows: {tx.one('SELECT count(*) FROM rating_sum')[0]:,}")
    lines += ["", "| window report, in process | rating.window median ms | window_report median ms |",
              "|---|---:|---:|"]
    statements: list[tuple[str, list]] = []
    for label, asked in (("12 weeks", figures_period(None, None)), ("all time", (None, None))):
        inner, whole = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            with storage.read() as tx:
                rating.window(tx, *asked)
            inner.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ratings_export.window_report(storage, *asked)
            whole.append(time.perf_counter() - t0)
        lines.append(f"| {label} | {median(inner) * 1000:,.1f} | {median(whole) * 1000:,.1f} |")
    header = "| appeals by state, in process (appeals.page) | first page median ms | last page median ms | appeals |"
    lines += ["", header, "|---|---:|---:|---:|"]
    for state in appeals.STATES:
        first = appeals.page(storage, appeals.Asked(state=state))
        deep, last = appeals.Asked(state=state), first
        while last.next is not None:
            deep = appeals.Asked(after=last.next, state=state)
            last = appeals.page(storage, deep)
        samples = {"first": [], "last": []}
        for _ in range(runs):
            for label, asked_page in (("first", appeals.Asked(state=state)), ("last", deep)):
                t0 = time.perf_counter()
                appeals.page(storage, asked_page)
                samples[label].append(time.perf_counter() - t0)
        lines.append(f"| {state} | {median(samples['first']) * 1000:,.1f} | {median(samples['last']) * 1000:,.1f} | "
                     f"{first.count:,}{'+' if first.more else ''} |")
    original = Tx.all

    def recorded(self, sql, params=()):
        statements.append((sql, list(params)))
        return original(self, sql, params)

    Tx.all = recorded  # type: ignore[method-assign]
    try:
        with storage.read() as tx:
            rating.window(tx, None, None)  # all time
    finally:
        Tx.all = original  # type: ignore[method-assign]
    for sql, params in statements:
        if "device" in sql and "rating" not in sql:
            continue
        plan = explain(url, sql, params)
        lines.append(f"EXPLAIN rating.window all time: {plan['ms']:.1f} ms, {plan['rows']:,} rows, "
                     f"{plan['blocks']:,} blocks; {'; '.join(plan['scans'])}")
    token = office_session(storage)
    storage.close()
    server = Central(url)
    try:
        time_requests(server.port, token, ("/office",), 1)
        timed = time_requests(server.port, token, RATINGS_REQUESTS, runs)
    finally:
        server.close()
    lines += ["", table(None, timed, floor_ms(url))]
    return "\n".join(lines)


# ---- satisfaction over any period (--satisfaction) ----------------------------------------------

SATISFACTION_QUERIES = (("12 weeks (the default)", ""), ("all time", "?from=2000-01-01"))


def satisfaction_by_ratings(storage, start, end):
    """The satisfaction figures as central made them before schema 20: four GROUP BYs over every
    rating of the period (central/readmodels/rating.py counts), timed beside the sums' answer."""
    from central import satisfaction
    from central.readmodels import rating
    from kiosk.domain.clock import today
    from kiosk.domain.satisfaction import UNKNOWN, summed, tally

    with storage.read() as tx:
        names = dict(tx.all("SELECT uid, name FROM device"))
        days, counters, clerks, hearts = (rating.counts(tx, by, start, end)
                                          for by in ("day", "counter", "clerk", "hearts"))
    labels = satisfaction._labels(names, counters, clerks)
    by_day = tally(days)
    return satisfaction.Report(
        start, end, today(), by_day,
        tally((labels.counters.get(device) or UNKNOWN, stars, n) for device, stars, n in counters),
        tally((labels.clerks.get(username) or UNKNOWN, stars, n) for username, _, stars, n in clerks),
        tally(hearts), summed(by_day.values()))


def satisfaction_timings(url: str, runs: int = 9) -> str:
    """The figures for 12 weeks and for all time: in process, the sums (schema 20) and the GROUP
    BYs over the ratings they replace, interleaved, checked equal; over HTTP, the page and the
    JSON; and the floor, all in this run. The first open of a schema-19 database upgrades it
    (the sums built from the ratings), timed."""
    from bench.sync_drain import Central
    from central.api.satisfaction import _figures_period
    from central.satisfaction import report
    from central.schema import open_storage

    step = time.perf_counter()
    storage = open_storage(url, pool_size=2)
    opened = time.perf_counter() - step
    lines = [f"open (with the upgrade to schema 20, if it was older): {opened:.1f} s"]
    with storage.read() as tx:
        counted = tx.one("SELECT count(*) FROM rating WHERE set_aside = 0")[0]
        sums = tx.one("SELECT count(*) FROM rating_sum")[0]
    lines.append(f"{counted:,} ratings counted, {sums:,} rating_sum rows")
    lines += ["", "| figures, in process | sums (schema 20) median ms | GROUP BY ratings median ms | ratio |",
              "|---|---:|---:|---:|"]
    for label, query in SATISFACTION_QUERIES:
        first, last = _figures_period("2000-01-01" if query else None, None)
        new, old = [], []
        for _ in range(runs):
            for samples, compute in ((new, report), (old, satisfaction_by_ratings)):
                step = time.perf_counter()
                samples.append((compute(storage, first, last).figures(), time.perf_counter() - step))
        if new[-1][0] != old[-1][0]:
            raise RuntimeError(f"satisfaction {label}: the sums and the ratings disagree")
        a, b = median([t for _, t in new]) * 1000, median([t for _, t in old]) * 1000
        lines.append(f"| {label} | {a:,.1f} | {b:,.1f} | {b / a:,.1f}x |")
    token = office_session(storage)
    storage.close()
    server = Central(url)
    try:
        time_requests(server.port, token, ("/office",), 1)
        paths = [f"{base}{query}" for _, query in SATISFACTION_QUERIES
                 for base in ("/office/satisfaction", "/api/v1/office/satisfaction")]
        timed = time_requests(server.port, token, paths, runs)
    finally:
        server.close()
    floor = floor_ms(url)
    lines += ["", table(None, timed, floor)]
    return "\n".join(lines)


def _offset_rows(tx, storage, where, params, order, limit, offset):
    """A range's page as central/worklist.py read it before schema 20: whole rows, OFFSET over them."""
    from central.readmodels import ticket_state

    return ticket_state.rows_where(tx, f"WHERE {where} ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}",
                                   params)


def worklist_timings(url: str, runs: int = 9) -> str:
    """Work-list pages 1, 10, 100 and the last, in process: the uids from the index then the rows
    (schema 20) beside OFFSET over whole rows (before), interleaved, checked equal; over HTTP the
    same pages; and the floor, all in this run."""
    from bench.sync_drain import Central
    from central import worklist
    from central.schema import open_storage

    storage = open_storage(url, pool_size=2)
    with storage.read() as tx:
        listed = tx.one("SELECT count(*) FROM ticket_state WHERE status IN (1, 2) AND received_at IS NOT NULL")[0]
    last = worklist.work_page(storage, 1).pages
    pages = sorted({1, 10, 100, last})
    lines = [f"{listed:,} open tickets, {last} pages", "",
             "| work list page, in process | uids, then rows (schema 20) median ms | OFFSET rows median ms |",
             "|---|---:|---:|"]
    keyed = worklist._range_page
    try:
        for page in pages:
            samples: dict = {keyed: [], _offset_rows: []}
            for _ in range(runs):
                found = []
                for how, taken in samples.items():
                    worklist._range_page = how
                    step = time.perf_counter()
                    found.append([i.ticket_id for i in worklist.work_page(storage, page).items])
                    taken.append(time.perf_counter() - step)
                if found[0] != found[1]:
                    raise RuntimeError(f"work list page {page}: the two reads disagree")
            new, old = (median(samples[how]) * 1000 for how in (keyed, _offset_rows))
            lines.append(f"| {page} | {new:,.1f} | {old:,.1f} |")
    finally:
        worklist._range_page = keyed
    token = office_session(storage)
    storage.close()
    server = Central(url)
    try:
        time_requests(server.port, token, ("/office",), 1)
        timed = time_requests(server.port, token, [f"/office/worklist?page={n}" for n in pages], runs)
    finally:
        server.close()
    lines += ["", table(None, timed, floor_ms(url))]
    return "\n".join(lines)


# ---- where the time goes (--explain) ----------------------------------------------------------

def derivations() -> dict:
    """The office's derivations, called in process as the routes call them (no HTTP, no rendering)."""
    from central import due, followups, office, satisfaction, worklist

    return {"summary (/office, /api/v1/office/summary)": office.summary,
            "due list 30 d (page, CSV)": lambda storage: due.due_report(storage, 30),
            "satisfaction": lambda storage: satisfaction.report(storage).figures(),
            "work list": worklist.work_list,
            "follow-ups": followups.followups}


@dataclass
class Traced:
    seconds: float = 0.0
    sql_seconds: float = 0.0
    statements: int = 0
    by_sql: dict | None = None  # SQL text -> [count, seconds, first params]


def trace(url: str) -> dict[str, Traced]:
    """Each derivation timed whole and per statement (Tx.execute wrapped in this process only:
    psycopg's client-side cursor has the rows when execute returns)."""
    from central import storage as central_storage
    from central.schema import open_storage

    storage = open_storage(url, pool_size=2)
    original = central_storage.Tx.execute
    current: list[Traced] = []

    def execute(self, sql, params=()):
        start = time.perf_counter()
        cursor = original(self, sql, params)
        elapsed = time.perf_counter() - start
        if current:
            t = current[0]
            t.sql_seconds += elapsed
            t.statements += 1
            entry = t.by_sql.setdefault(sql, [0, 0.0, params])
            entry[0] += 1
            entry[1] += elapsed
        return cursor

    central_storage.Tx.execute = execute
    found = {}
    try:
        for name, derive in derivations().items():
            derive(storage)  # warm: the catalogue parsed, pages cached as a busy office has them
            t = Traced(by_sql={})
            current[:] = [t]
            start = time.perf_counter()
            derive(storage)
            t.seconds = time.perf_counter() - start
            current.clear()
            found[name] = t
    finally:
        central_storage.Tx.execute = original
        storage.close()
    return found


def explain(url: str, sql: str, params) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of one of central's statements, as it ran."""
    import json

    import psycopg

    from central.storage import _pg_sql

    with psycopg.connect(url) as conn:
        plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + _pg_sql(sql), params).fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    top = plan[0]
    nodes, scans = [top["Plan"]], []
    while nodes:
        node = nodes.pop()
        if "Scan" in node["Node Type"]:
            scans.append(f"{node['Node Type']} {node.get('Index Name') or node.get('Relation Name', '')}"
                         f" ({node['Actual Rows'] * node.get('Actual Loops', 1):,} rows)")
        nodes += node.get("Plans", [])
    p = top["Plan"]
    return {"ms": top["Execution Time"], "rows": p["Actual Rows"],
            "blocks": p.get("Shared Hit Blocks", 0) + p.get("Shared Read Blocks", 0), "scans": scans}


def where_time_goes(url: str) -> str:
    lines = ["| derivation | total ms | SQL ms | statements |", "|---|---:|---:|---:|"]
    shapes = ["| derivation | statement (its three costliest shapes) | runs × ms | EXPLAIN ANALYZE of its first run |",
              "|---|---|---:|---|"]
    for name, t in trace(url).items():
        lines.append(f"| {name} | {t.seconds * 1000:,.0f} | {t.sql_seconds * 1000:,.0f} | {t.statements:,} |")
        for sql, (count, seconds, params) in sorted(t.by_sql.items(), key=lambda kv: -kv[1][1])[:3]:
            plan = explain(url, sql, params)
            shapes.append(f"| {name} | `{' '.join(sql.split())[:160]}...` | {count:,} × {seconds / count * 1000:,.1f} "
                          f"| "
                          f"{plan['ms']:,.1f} ms, {plan['rows']:,} rows, {plan['blocks']:,} blocks; "
                          f"{'; '.join(plan['scans'][:4])} |")
    return "\n".join([*lines, "", *shapes])


# ---- candidate read models (--readmodels): built from the events, then asked --------------------
# A prototype in its own schema `rm` of the bench database, for notes/issue20-readmodels.md: how
# long an upgrade takes to build each from the events, its size, what a page costs on it, and what
# keeping it current costs a push (the same statement scoped to the tickets a batch touched).

TICKET_STATE = """
WITH facts AS (
    SELECT ticket, max(status) AS status,
           min(created_at) FILTER (WHERE status = 0) AS registered_at,
           min(created_at) FILTER (WHERE status = 1) AS received_at,
           min(created_at) FILTER (WHERE status = 2) AS ready_at,
           min(created_at) FILTER (WHERE status = 3) AS picked_up_at
    FROM event WHERE ticket IS NOT NULL AND void_id IS NULL {scope} GROUP BY ticket
), firsts AS (  -- the earliest registration, intake and pickup of each ticket (created_at, uid)
    SELECT DISTINCT ON (ticket, status) ticket, status, device_id, payload FROM event
    WHERE ticket IS NOT NULL AND void_id IS NULL AND status IN (0, 1, 3) {scope}
    ORDER BY ticket, status, created_at, uid
)
SELECT f.ticket AS uid, COALESCE(r.payload #>> '{{ticket,number}}', i.payload ->> 'number') AS number,
       f.status::smallint AS status,
       CASE f.status WHEN 0 THEN f.registered_at WHEN 1 THEN f.received_at WHEN 2 THEN f.ready_at
                     ELSE f.picked_up_at END AS status_at,
       f.registered_at, f.received_at, f.ready_at, f.picked_up_at, r.device_id AS kiosk_id,
       r.payload #>> '{{customer,organisation}}' AS organisation,
       lower(replace(r.payload #>> '{{customer,organisation}}', ' ', '')) AS org_key,
       r.payload #>> '{{customer,contact}}' AS contact, r.payload #>> '{{customer,phone}}' AS phone,
       (r.payload #>> '{{ticket,total_fen}}')::bigint AS total_fen, (i.payload ->> 'total_fen')::bigint AS taken_in_fen,
       (r.payload #>> '{{ticket,ready_on}}')::date AS ready_on,
       (r.payload #>> '{{ticket,urgent_hours}}')::smallint AS urgent_hours,
       i.device_id AS received_by, i.payload #>> '{{clerk,username}}' AS received_clerk,
       p.device_id AS picked_up_by, p.payload #>> '{{clerk,username}}' AS picked_up_clerk
FROM facts f
LEFT JOIN firsts r ON r.ticket = f.ticket AND r.status = 0
LEFT JOIN firsts i ON i.ticket = f.ticket AND i.status = 1
LEFT JOIN firsts p ON p.ticket = f.ticket AND p.status = 3
"""

TICKET_LINE = """
SELECT DISTINCT ON (e.ticket) e.ticket, e.payload -> 'lines' AS lines FROM event e
WHERE e.status = 1 AND e.void_id IS NULL {scope} ORDER BY e.ticket, e.created_at, e.uid
"""
TICKET_LINES = f"""
SELECT x.ticket, (l.n - 1)::smallint AS position, l.v ->> 'code' AS code, (l.v ->> 'quantity')::int AS quantity,
       l.v ->> 'service' AS service, COALESCE(l.v ->> 'serial_number', '') AS serial_number,
       upper(COALESCE(l.v ->> 'serial_number', '')) AS serial_key, COALESCE((l.v ->> 'refused')::bool, false) AS refused
FROM ({TICKET_LINE}) x, jsonb_array_elements(x.lines) WITH ORDINALITY AS l (v, n)
"""

# Latest catalogue's cycles: rm.fee_cycle, filled from central's parser (central/due.py latest_catalog).
DUE_ITEM = """
WITH picked AS (
    SELECT l.*, s.number, s.organisation, s.contact, s.phone, s.picked_up_at, c.cycle_months,
           ((s.picked_up_at AT TIME ZONE %(zone)s)::date + c.cycle_months * interval '1 month')::date AS due_on,
           (s.picked_up_at AT TIME ZONE %(zone)s)::date AS picked_up_on
    FROM rm.ticket_line l JOIN rm.ticket_state s ON s.uid = l.ticket JOIN rm.fee_cycle c ON c.code = l.code
    WHERE s.picked_up_at IS NOT NULL AND NOT l.refused AND l.service = 'verification' {scope}
)
SELECT * FROM (SELECT DISTINCT ON (code, serial_key) * FROM picked WHERE serial_key <> ''
               ORDER BY code, serial_key, picked_up_at DESC, ticket DESC) latest
UNION ALL SELECT * FROM picked WHERE serial_key = ''
"""

RATING = """
SELECT DISTINCT ON (COALESCE(e.payload ->> 'ticket', e.uid)) e.uid AS event, e.payload ->> 'ticket' AS ticket,
       (e.payload ->> 'at')::timestamptz AS given_at,
       ((e.payload ->> 'at')::timestamptz AT TIME ZONE %(zone)s)::date AS day,
       (e.payload ->> 'rating')::smallint AS rating,
       ARRAY(SELECT jsonb_array_elements_text(e.payload -> 'hearts')) AS hearts,
       COALESCE(e.payload #>> '{{steps,picked_up,device}}', pd.uid, e.payload #>> '{{steps,received,device}}', rd.uid)
           AS counter,
       COALESCE(e.payload #>> '{{steps,picked_up,clerk}}', s.picked_up_clerk, e.payload #>> '{{steps,received,clerk}}',
                s.received_clerk) AS clerk
FROM event e LEFT JOIN rm.ticket_state s ON s.uid = e.payload ->> 'ticket' {join_scope}
LEFT JOIN device pd ON pd.id = s.picked_up_by LEFT JOIN device rd ON rd.id = s.received_by
WHERE e.kind = 'feedback.given' AND e.void_id IS NULL {scope}
ORDER BY COALESCE(e.payload ->> 'ticket', e.uid), e.received_at, e.created_at, e.id
"""

RATING_DAY = "SELECT day, counter, clerk, rating, count(*) AS n FROM rm.rating WHERE true {scope} " \
             "GROUP BY day, counter, clerk, rating"

# (name, the statement that builds it from the events, its indexes, the relation whose size is reported)
READ_MODELS = (
    ("ticket_state", f"CREATE TABLE rm.ticket_state AS {TICKET_STATE.format(scope='')}",
     ("ALTER TABLE rm.ticket_state ADD PRIMARY KEY (uid)",
      "CREATE INDEX ON rm.ticket_state (status, status_at DESC, uid)",
      'CREATE INDEX ON rm.ticket_state (number COLLATE "C")',
      "CREATE INDEX ON rm.ticket_state (org_key, registered_at DESC)",
      "CREATE INDEX ON rm.ticket_state (phone)",
      "CREATE INDEX ON rm.ticket_state (right(phone, 4), registered_at DESC)",
      "CREATE INDEX ON rm.ticket_state (status, received_at) WHERE status IN (1, 2)"), "rm.ticket_state"),
    ("ticket_line", f"CREATE TABLE rm.ticket_line AS {TICKET_LINES.format(scope='')}",
     ("ALTER TABLE rm.ticket_line ADD PRIMARY KEY (ticket, position)",
      "CREATE INDEX ON rm.ticket_line (serial_key, code)"), "rm.ticket_line"),
    ("due_item", f"CREATE TABLE rm.due_item AS {DUE_ITEM.format(scope='')}",
     ("CREATE INDEX ON rm.due_item (due_on, number, code, serial_key)",
      "CREATE INDEX ON rm.due_item (code, serial_key)", "CREATE INDEX ON rm.due_item (ticket)"), "rm.due_item"),
    # A rating found by its ticket: what keeping `rating` current needs.
    ("event index: a rating by its ticket", None,
     ("CREATE INDEX rm_event_rating ON event ((payload ->> 'ticket')) WHERE kind = 'feedback.given'",),
     "rm_event_rating"),
    ("rating", f"CREATE TABLE rm.rating AS {RATING.format(scope='', join_scope='')}",
     ("CREATE INDEX ON rm.rating (day)", "CREATE INDEX ON rm.rating (ticket)"), "rm.rating"),
    ("rating_day", f"CREATE TABLE rm.rating_day AS {RATING_DAY.format(scope='')}",
     ("CREATE INDEX ON rm.rating_day (day)",), "rm.rating_day"),
    ("trigram: ticket_state.organisation", None,
     ("CREATE INDEX rm_org_trgm ON rm.ticket_state USING gin (organisation gin_trgm_ops)",), "rm.rm_org_trgm"),
    ("trigram: ticket_state.number", None,
     ("CREATE INDEX rm_number_trgm ON rm.ticket_state USING gin (number gin_trgm_ops)",), "rm.rm_number_trgm"),
    ("trigram: ticket_line.serial_key", None,
     ("CREATE INDEX rm_serial_trgm ON rm.ticket_line USING gin (serial_key gin_trgm_ops)",), "rm.rm_serial_trgm"),
    ("trigram: organisation_name.name", None,
     ("CREATE INDEX rm_org_name_trgm ON organisation_name USING gin (name gin_trgm_ops)",), "rm_org_name_trgm"),
)


def _size(conn, relation: str) -> int:
    return conn.execute("SELECT pg_total_relation_size(%s::regclass)", (relation,)).fetchone()[0]


def build_read_models(url: str) -> list[tuple[str, float, float, int]]:
    """(read model, seconds to build from the events, seconds for its indexes, bytes) each."""
    import psycopg

    from central.due import latest_catalog
    from central.schema import open_storage

    storage = open_storage(url, pool_size=1)
    with storage.read() as tx:
        _, rows = latest_catalog(tx)
    storage.close()
    built = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET work_mem = '64MB'")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        conn.execute("DROP SCHEMA IF EXISTS rm CASCADE")
        conn.execute("DROP INDEX IF EXISTS rm_org_name_trgm")
        conn.execute("DROP INDEX IF EXISTS rm_event_rating")
        conn.execute("CREATE SCHEMA rm")
        conn.execute("CREATE TABLE rm.fee_cycle (code text PRIMARY KEY, cycle_months int NOT NULL)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO rm.fee_cycle VALUES (%s, %s)",
                            [(r.code, r.cycle_months) for r in rows.values() if r.cycle_months])
        for name, create, indexes, relation in READ_MODELS:
            start = time.perf_counter()
            if create:
                conn.execute(create, {"zone": ZONE})
            made = time.perf_counter()
            for statement in indexes:
                conn.execute(statement)
            built.append((name, made - start, time.perf_counter() - made, _size(conn, relation)))
        # event too: the statistics of the expression index the ratings are kept current by
        conn.execute("VACUUM ANALYZE event, rm.ticket_state, rm.ticket_line, rm.due_item, rm.rating, rm.rating_day")
    return built


# What the pages would ask of the read models: (what, SQL); %(...)s from `_samples`.
PAGE_QUERIES = (
    ("tickets by status: count(*) over ticket_state", "SELECT status, count(*) FROM rm.ticket_state GROUP BY status"),
    ("the 50 latest picked up (overview)", ("SELECT uid, number, organisation, phone, status_at FROM rm.ticket_state "
     "WHERE status = 3 ORDER BY status_at DESC, uid LIMIT 50")),
    ("due page 1 of 'within 30 d, overdue included'", ("SELECT * FROM rm.due_item WHERE due_on <= %(today)s + 30 "
     "ORDER BY due_on, number, code, serial_key LIMIT 50")),
    ("due page 1 from today", ("SELECT * FROM rm.due_item WHERE due_on BETWEEN %(today)s AND %(today)s + 30 "
     "ORDER BY due_on, number, code, serial_key LIMIT 50")),
    ("due count, next 30 d", "SELECT count(*) FROM rm.due_item WHERE due_on BETWEEN %(today)s AND %(today)s + 30"),
    ("due count, overdue", "SELECT count(*) FROM rm.due_item WHERE due_on < %(today)s"),
    ("satisfaction: overall, by counter, by clerk (rating_day)", ("SELECT counter, clerk, rating, sum(n) FROM "
     "rm.rating_day GROUP BY GROUPING SETS ((rating), (counter, rating), (clerk, rating))")),
    ("satisfaction: 12 weeks (rating_day)", ("SELECT date_trunc('week', day), rating, sum(n) FROM rm.rating_day "
     "WHERE day > %(today)s - 84 GROUP BY 1, 2")),
    ("satisfaction: overall over rating rows", "SELECT rating, count(*) FROM rm.rating GROUP BY rating"),
    ("work list page 1 (open tickets, partial index)", ("SELECT uid, number, status, organisation, phone, received_at, "
     "ready_at, ready_on, urgent_hours FROM rm.ticket_state WHERE status IN (1, 2) "
     "ORDER BY status, received_at LIMIT 50")),
    ("work list: every open ticket (what the rule's order needs)", (
        "SELECT uid, number, status, received_at, ready_at, ready_on, urgent_hours FROM rm.ticket_state "
        "WHERE status IN (1, 2)")),
    ("search: number prefix (btree, C collation)", ('SELECT uid, number FROM rm.ticket_state WHERE number COLLATE "C" '
     '>= %(prefix)s AND number COLLATE "C" < %(prefix_end)s ORDER BY number COLLATE "C" LIMIT 50')),
    ("search: number substring (trigram)", ("SELECT uid, number FROM rm.ticket_state WHERE number LIKE %(number_part)s "
     "ORDER BY registered_at DESC LIMIT 50")),
    ("search: organisation names (trigram, organisation_name)", ("SELECT name FROM organisation_name "
     "WHERE name LIKE %(org_part)s LIMIT 20")),
    ("search: one organisation's tickets, latest 50 (btree)", ("SELECT uid, number FROM rm.ticket_state "
     "WHERE org_key = %(org_key)s ORDER BY registered_at DESC LIMIT 50")),
    ("search: organisation substring over tickets (trigram)", ("SELECT uid, number FROM rm.ticket_state "
     "WHERE organisation LIKE %(org_part)s ORDER BY registered_at DESC LIMIT 50")),
    ("search: phone, whole (btree)", ("SELECT uid, number FROM rm.ticket_state WHERE phone = %(phone)s "
     "ORDER BY registered_at DESC LIMIT 50")),
    ("search: phone, last 4 digits (btree on right(phone, 4))", ("SELECT uid, number FROM rm.ticket_state "
     "WHERE right(phone, 4) = %(phone4)s ORDER BY registered_at DESC LIMIT 50")),
    ("search: serial number, whole (btree)", ("SELECT s.uid, s.number FROM rm.ticket_line l JOIN rm.ticket_state s "
     "ON s.uid = l.ticket WHERE l.serial_key = %(serial)s ORDER BY s.registered_at DESC LIMIT 50")),
    ("search: serial number substring (trigram)", ("SELECT l.ticket FROM rm.ticket_line l "
     "WHERE l.serial_key LIKE %(serial_part)s LIMIT 50")),
)


def _samples(conn) -> dict:
    """Values to search for, taken from the data: a busy organisation, a phone, a serial, a number."""
    from zoneinfo import ZoneInfo

    latest = "SELECT number, org_key, organisation, phone FROM rm.ticket_state ORDER BY registered_at DESC LIMIT 1"
    number, org_key, organisation, phone = conn.execute(latest).fetchone()
    serial = conn.execute("SELECT serial_key FROM rm.ticket_line WHERE serial_key <> '' LIMIT 1").fetchone()[0]
    prefix = number[:9]  # K001-2612: a kiosk's month
    return {"today": datetime.now(ZoneInfo(ZONE)).date(), "prefix": prefix,
            "prefix_end": prefix[:-1] + chr(ord(prefix[-1]) + 1),
            "number_part": f"%{number[5:11]}-00%", "org_key": org_key, "org_part": f"%{organisation[2:4]}%",
            "phone": phone, "phone4": phone[-4:], "serial": serial, "serial_part": f"%{serial[1:4]}%"}


def time_queries(url: str, runs: int = FLOOR_RUNS) -> list[tuple[str, float, int]]:
    """(what, median ms, rows) of each page query on the read models."""
    import psycopg

    found = []
    with psycopg.connect(url, autocommit=True) as conn:
        values = _samples(conn)
        for what, sql in PAGE_QUERIES:
            samples, rows = [], 0
            for _ in range(runs):
                start = time.perf_counter()
                rows = len(conn.execute(sql, values).fetchall())
                samples.append(time.perf_counter() - start)
            found.append((what, median(samples) * 1000, rows))
    return found


# Keeping them current: each read model's rows for the tickets a batch touched, recomputed by the
# same statement that built them (scoped), in one transaction, as a push would.
SCOPED = {"ticket": "AND ticket = ANY(%(tickets)s)", "e": "AND e.ticket = ANY(%(tickets)s)"}
# Every line of the tickets touched, and of the instruments (fee row, serial) they name: two index
# lookups (an OR of both would scan every line).
DUE_SCOPE = ("AND (l.ticket, l.position) IN (SELECT ticket, position FROM rm.ticket_line "
             "WHERE ticket = ANY(%(tickets)s) UNION SELECT t.ticket, t.position FROM touched "
             "JOIN rm.ticket_line t USING (serial_key, code))")
KEEP_CURRENT = (
    ("ticket_state", (
        "DELETE FROM rm.ticket_state WHERE uid = ANY(%(tickets)s)",
        f"INSERT INTO rm.ticket_state {TICKET_STATE.format(scope=SCOPED['ticket'])}")),
    ("ticket_line", (
        "DELETE FROM rm.ticket_line WHERE ticket = ANY(%(tickets)s)",
        f"INSERT INTO rm.ticket_line {TICKET_LINES.format(scope=SCOPED['e'])}")),
    ("due_item", (
        ("CREATE TEMP TABLE touched ON COMMIT DROP AS SELECT DISTINCT code, serial_key FROM rm.ticket_line "
        "WHERE ticket = ANY(%(tickets)s) AND serial_key <> ''"),
        "DELETE FROM rm.due_item WHERE ticket = ANY(%(tickets)s)",
        "DELETE FROM rm.due_item d USING touched t WHERE d.code = t.code AND d.serial_key = t.serial_key",
        "INSERT INTO rm.due_item " + DUE_ITEM.format(scope=DUE_SCOPE))),
    ("rating", (
        "DELETE FROM rm.rating WHERE ticket = ANY(%(tickets)s)",
        "INSERT INTO rm.rating " + RATING.format(scope="AND e.payload ->> 'ticket' = ANY(%(tickets)s)",
                                                 join_scope="AND s.uid = ANY(%(tickets)s)"))),
    ("rating_day", (
        "CREATE TEMP TABLE days ON COMMIT DROP AS SELECT DISTINCT day FROM rm.rating WHERE ticket = ANY(%(tickets)s)",
        "DELETE FROM rm.rating_day WHERE day IN (SELECT day FROM days)",
        "INSERT INTO rm.rating_day " + RATING_DAY.format(scope="AND day IN (SELECT day FROM days)"))),
)


# The other way to keep ticket_state current: merge the batch's facts into the rows, no event read
# again. Every column is a min or a max of the facts (or "the one of the earliest fact"), so the
# merge is order-independent and equals the rebuild (ties on created_at would also compare event uids).
BATCH_FACTS = """
SELECT DISTINCT ON (e.ticket) e.ticket AS uid, e.status, e.created_at AS at, e.device_id,
       COALESCE(e.payload #>> '{ticket,number}', e.payload ->> 'number') AS number,
       e.payload #>> '{customer,organisation}' AS organisation, e.payload #>> '{customer,contact}' AS contact,
       e.payload #>> '{customer,phone}' AS phone, (e.payload #>> '{ticket,total_fen}')::bigint AS total_fen,
       (e.payload ->> 'total_fen')::bigint AS taken_in_fen, (e.payload #>> '{ticket,ready_on}')::date AS ready_on,
       (e.payload #>> '{ticket,urgent_hours}')::smallint AS urgent_hours, e.payload #>> '{clerk,username}' AS clerk
FROM event e WHERE e.ticket = ANY(%(tickets)s) AND e.void_id IS NULL ORDER BY e.ticket, e.created_at DESC
"""
MERGE_FACTS = """
INSERT INTO rm.ticket_state AS s (uid, number, status, status_at, registered_at, received_at, ready_at, picked_up_at,
    kiosk_id, organisation, org_key, contact, phone, total_fen, taken_in_fen, ready_on, urgent_hours, received_by,
    received_clerk, picked_up_by, picked_up_clerk)
SELECT uid, number, status, at, CASE WHEN status = 0 THEN at END, CASE WHEN status = 1 THEN at END,
       CASE WHEN status = 2 THEN at END, CASE WHEN status = 3 THEN at END, CASE WHEN status = 0 THEN device_id END,
       organisation, lower(replace(organisation, ' ', '')), contact, phone, total_fen, taken_in_fen, ready_on,
       urgent_hours, CASE WHEN status = 1 THEN device_id END, CASE WHEN status = 1 THEN clerk END,
       CASE WHEN status = 3 THEN device_id END, CASE WHEN status = 3 THEN clerk END
FROM json_to_recordset(%(facts)s::json) AS f (uid text, status smallint, at timestamptz, device_id bigint,
    number text, organisation text, contact text, phone text, total_fen bigint, taken_in_fen bigint, ready_on date,
    urgent_hours smallint, clerk text)
ON CONFLICT (uid) DO UPDATE SET
    status = GREATEST(s.status, EXCLUDED.status),
    status_at = CASE WHEN EXCLUDED.status > s.status THEN EXCLUDED.status_at
                     WHEN EXCLUDED.status = s.status THEN LEAST(s.status_at, EXCLUDED.status_at) ELSE s.status_at END,
    registered_at = LEAST(s.registered_at, EXCLUDED.registered_at),
    received_at = LEAST(s.received_at, EXCLUDED.received_at),
    ready_at = LEAST(s.ready_at, EXCLUDED.ready_at),
    picked_up_at = LEAST(s.picked_up_at, EXCLUDED.picked_up_at),
    number = CASE WHEN EXCLUDED.registered_at < s.registered_at OR s.number IS NULL THEN EXCLUDED.number
                  ELSE s.number END,
    organisation = CASE WHEN EXCLUDED.registered_at < s.registered_at OR s.registered_at IS NULL
                        THEN COALESCE(EXCLUDED.organisation, s.organisation) ELSE s.organisation END,
    phone = CASE WHEN EXCLUDED.registered_at < s.registered_at OR s.registered_at IS NULL
                 THEN COALESCE(EXCLUDED.phone, s.phone) ELSE s.phone END,
    taken_in_fen = CASE WHEN EXCLUDED.received_at < s.received_at OR s.received_at IS NULL
                        THEN COALESCE(EXCLUDED.taken_in_fen, s.taken_in_fen) ELSE s.taken_in_fen END,
    received_by = CASE WHEN EXCLUDED.received_at < s.received_at OR s.received_at IS NULL
                       THEN COALESCE(EXCLUDED.received_by, s.received_by) ELSE s.received_by END,
    picked_up_by = CASE WHEN EXCLUDED.picked_up_at < s.picked_up_at OR s.picked_up_at IS NULL
                        THEN COALESCE(EXCLUDED.picked_up_by, s.picked_up_by) ELSE s.picked_up_by END
"""


def _batch(recent: list[str], b: int, batches: int, size: int) -> list[str]:
    """The b-th batch of `size` tickets: every 4th of the most recent (a fortnight or so at 200,000
    tickets), fewer apart when the bench has fewer tickets."""
    spread = max(1, min(4, len(recent) // (batches * size)))
    return recent[b * size * spread:(b + 1) * size * spread:spread]


def merge_cost(url: str, batches: int = 11, size: int = 500) -> float:
    """Median ms to merge a batch's facts (each of `size` recent tickets' newest) into ticket_state."""
    import json

    import psycopg

    spent = []
    with psycopg.connect(url, autocommit=True) as conn:
        recent = [uid for (uid,) in conn.execute(
            "SELECT uid FROM rm.ticket_state ORDER BY registered_at DESC LIMIT %s", (batches * size * 4,))]
        for b in range(min(batches, max(1, len(recent) // size))):  # a small bench has fewer
            cur = conn.execute(BATCH_FACTS, {"tickets": _batch(recent, b, batches, size)})
            names = [c.name for c in cur.description]
            facts = json.dumps([dict(zip(names, row)) for row in cur.fetchall()], default=str)
            start = time.perf_counter()
            with conn.transaction():
                conn.execute(MERGE_FACTS, {"facts": facts})
            spent.append(time.perf_counter() - start)
    return median(spent) * 1000


def keep_current_cost(url: str, batches: int = 11, size: int = 500) -> list[tuple[str, float]]:
    """(read model, median ms per batch of `size` tickets): recent tickets, as a push brings them."""
    import psycopg

    spent: dict[str, list[float]] = {name: [] for name, _ in KEEP_CURRENT}
    with psycopg.connect(url, autocommit=True) as conn:  # each batch its own transaction
        recent = [uid for (uid,) in conn.execute(
            "SELECT uid FROM rm.ticket_state ORDER BY registered_at DESC LIMIT %s", (batches * size * 4,))]
        for b in range(min(batches, max(1, len(recent) // size))):  # a small bench has fewer
            tickets = _batch(recent, b, batches, size)
            with conn.transaction():
                for name, statements in KEEP_CURRENT:
                    start = time.perf_counter()
                    for statement in statements:
                        conn.execute(statement, {"tickets": tickets, "zone": ZONE})
                    spent[name].append(time.perf_counter() - start)
    return [(name, median(times) * 1000) for name, times in spent.items()]


def read_models_report(url: str) -> str:
    built = build_read_models(url)
    lines = ["| read model / index | build s | indexes s | MB |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {made:.1f} | {indexed:.1f} | {size / 1e6:,.1f} |" for name, made, indexed, size in built]
    lines += ["", "| page query on the read models | median ms | rows |", "|---|---:|---:|"]
    lines += [f"| {what} | {ms:.2f} | {rows:,} |" for what, ms, rows in time_queries(url)]
    lines += ["", "| kept current for a batch of 500 tickets | median ms |", "|---|---:|"]
    lines += [f"| {name} | {ms:.1f} |" for name, ms in keep_current_cost(url)]
    lines.append(f"| ticket_state, merging the batch's facts instead (one upsert) | {merge_cost(url):.1f} |")
    return "\n".join(lines)


def pg_problem() -> str | None:
    from bench.sync_drain import pg_problem as problem

    return problem()


def run(tickets: int = TICKETS) -> list[Figure]:
    problem = pg_problem()
    if problem:
        print(f"# office_scale skipped: {problem}", file=sys.stderr)
        return []
    with Database() as db:
        loaded = load(db.url, tickets)
        timed, floor = measure(db.url)
    print(table(loaded, timed, floor), file=sys.stderr)
    return _figures(tickets, timed, floor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.office_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=TICKETS, help="tickets to generate (default %(default)s)")
    parser.add_argument("--kiosks", type=int, default=KIOSKS)
    parser.add_argument("--desks", type=int, default=DESKS)
    parser.add_argument("--years", type=int, default=YEARS)
    parser.add_argument("--runs", type=int, default=RUNS, help="GETs of each request (the median is reported)")
    parser.add_argument("--load-only", action="store_true", help="generate, report the load, time nothing")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--workers", type=int, default=WORKERS,
                        help="connections inserting the events and processes building the read models "
                             "(1: one connection, and readmodels.build in one transaction)")
    parser.add_argument("--live-indexes", action="store_true",
                        help="insert the events with event's and ticket's indexes in place (as before)")
    parser.add_argument("--reuse", metavar="DATABASE", help="time an existing bench database (kept)")
    parser.add_argument("--readmodels", action="store_true",
                        help="instead of the HTTP timings: build candidate read models, time pages and upkeep")
    parser.add_argument("--explain", action="store_true",
                        help="instead of the HTTP timings: each derivation's SQL and Python time, EXPLAIN ANALYZE")
    parser.add_argument("--satisfaction", action="store_true",
                        help="instead of the HTTP timings: satisfaction for 12 weeks and all time, sums and ratings")
    parser.add_argument("--ratings", action="store_true",
                        help="instead of the HTTP timings: the window ratings (upgrade, in process, EXPLAIN, HTTP)")
    parser.add_argument("--worklist", action="store_true",
                        help="instead of the HTTP timings: work-list pages 1 to the last, by uids and by OFFSET")
    args = parser.parse_args(argv)
    problem = pg_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    with Database(args.reuse, args.keep) as db:
        loaded = None if args.reuse else load(db.url, args.tickets, args.kiosks, args.desks, args.years,
                                              workers=args.workers, live_indexes=args.live_indexes,
                                              inserters=args.workers)
        if args.load_only:
            return 0
        if args.explain:
            print(where_time_goes(db.url))
            return 0
        if args.readmodels:
            print(read_models_report(db.url))
            return 0
        if args.satisfaction:
            print(satisfaction_timings(db.url, max(args.runs, 9)))
            return 0
        if args.ratings:
            print(ratings_timings(db.url, max(args.runs, 9)))
            return 0
        if args.worklist:
            print(worklist_timings(db.url, max(args.runs, 9)))
            return 0
        timed, floor = measure(db.url, args.runs)
        tickets = loaded.tickets if loaded else _count(db.url)
    print(table(loaded, timed, floor))
    for figure in _figures(tickets, timed, floor):
        print(figure.line())
    return 0


def _count(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM ticket").fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
