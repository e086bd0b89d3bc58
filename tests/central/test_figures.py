"""统计 · Figures in the back office (/office/figures, its JSON and CSV), on SQLite and PostgreSQL:
tickets pushed through the API as desks take them in (the estimate as priced, kiosk/domain/fees.py)
give the counts, revenue, waived verification, turnaround, on-time rate and satisfaction a director
checks, week and month boundaries on the institute's clock (Asia/Shanghai, whatever the machine's)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from central import readmodels
from central.devices import revoke
from central.readmodels import figures
from central.voiding import void
from kiosk.domain.catalog import parse_csv
from kiosk.domain.fees import EstimateRequest, LineRequest, default_policy, estimate
from kiosk.store.catalog import demo_csv

from .nodes import enrol, push
from .office_users import office

ROWS = {row.code: row for row in parse_csv(demo_csv(), "demo.csv")}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def intake_line(code: str, quantity: int, use: str, service: str, *, refused: bool = False) -> dict:
    return {"ticket_line_id": 1, "code": code, "quantity": quantity, "service": service, "use": use,
            "condition": "", "accessories": "", "serial_number": "", "refused": refused}


class Counter:
    """A kiosk that registers and a desk that takes in, priced as the desk prices (the estimate of
    the lines kept), and marks ready."""

    def __init__(self, client, storage):
        self.client = client
        self.kiosk = enrol(client, storage, name="大厅1号机")
        self.desk = enrol(client, storage, "clerk", name="1号窗口")

    def serve(self, lines: list[dict], received: datetime, ready: datetime | None = None, *, ready_on: str,
              urgent: str | None = None, organisation: str = "示范燃气有限公司") -> dict:
        promise = {"ready_on": ready_on} | ({"urgent_hours": int(urgent.removesuffix("h"))} if urgent else {})
        reg = self.kiosk.registered(at=received - timedelta(hours=1), promise=promise, organisation=organisation)
        t = reg["payload"]["ticket"]
        kept = [ln for ln in lines if not ln["refused"]]
        priced = estimate(EstimateRequest(tuple(LineRequest(ln["code"], ln["quantity"], ln["use"], ln["service"])
                                                for ln in kept), urgent), ROWS, default_policy(), 1)
        intake = self.desk.step("received", t["uid"], t["number"], at=received, lines=lines)
        intake["payload"] |= {"total_fen": priced.total_fen, "estimate": priced.to_dict()}
        steps = [intake] + ([self.desk.step("ready", t["uid"], t["number"], at=ready)] if ready else [])
        assert push(self.client, self.kiosk, reg).status_code == 200
        assert push(self.client, self.desk, *steps).status_code == 200
        return t


def serve_three(client, storage) -> Counter:
    """Three tickets across the weeks 2026-W48 / W49 and the months November / December, in Shanghai."""
    counter = Counter(client, storage)
    # A: Monday 23 Nov 00:30 in Shanghai (Sunday in UTC): 3 pressure gauges verified free for
    # safety (3 x 30.00 waived), 5 calibrated (5 x 40.00), one refused; ready 58 hours later, on time.
    counter.serve([intake_line("L-001-001", 3, "safety", "verification"),
                   intake_line("L-001-012", 5, "safety", "calibration"),
                   intake_line("L-001-002", 1, "safety", "verification", refused=True)],
                  utc(2026, 11, 22, 16, 30), utc(2026, 11, 25, 2, 30), ready_on="2026-11-30")
    # B: Sunday 29 Nov 23:59 in Shanghai: 10 thermometers (10 x 20.00, batch 10% off: 180.00) and a
    # length gauge (15.00); ready 00:30 on 2 Dec, half an hour after the receipt's day ended: late.
    counter.serve([intake_line("R-001-001", 10, "other", "verification"),
                   intake_line("C-001-001", 1, "other", "verification")],
                  utc(2026, 11, 29, 15, 59), utc(2026, 12, 1, 16, 30), ready_on="2026-12-01")
    # C: Tuesday 1 Dec 00:30 in Shanghai (30 Nov in UTC), urgent 24 h: 2 meters not for trade
    # (2 x 15.00, +100%: 60.00); ready 30 hours later: late, whatever the receipt's day says.
    counter.serve([intake_line("D-001-001", 2, "other", "verification")],
                  utc(2026, 11, 30, 16, 30), utc(2026, 12, 1, 22, 30), ready_on="2026-12-08", urgent="24h")
    # Registered, never taken in: in no figure.
    assert push(client, counter.kiosk, counter.kiosk.registered(at=utc(2026, 11, 24, 3))).status_code == 200
    # Ratings: 23:30 on Sunday 22 Nov (W47) anonymous 4; 24 Nov 5; 1 Dec (30 Nov in UTC) 1.
    for stars, at in ((4, utc(2026, 11, 22, 15, 30)), (5, utc(2026, 11, 24, 2)), (1, utc(2026, 11, 30, 16, 5))):
        assert push(client, counter.kiosk, counter.kiosk.feedback(stars, at=at)).status_code == 200
    return counter


def get(client, headers, **query) -> dict:
    got = client.get("/api/v1/office/figures", params=query, headers=headers)
    assert got.status_code == 200, got.text
    return got.json()


def test_the_figures_a_director_checks_by_week_and_by_month(client, storage):
    serve_three(client, storage)
    director = office(storage, "director")

    weeks = get(client, director, by="week", **{"from": "2026-11-16", "to": "2026-12-06"})
    assert [(p["period"], p["from"], p["to"]) for p in weeks["periods"]] == [
        ("2026-W47", "2026-11-16", "2026-11-22"), ("2026-W48", "2026-11-23", "2026-11-29"),
        ("2026-W49", "2026-11-30", "2026-12-06")]
    w47, w48, w49 = weeks["periods"]
    assert (w47["tickets"], w48["tickets"], w49["tickets"]) == (0, 2, 1)  # A and B on Shanghai's Monday..Sunday
    assert (w48["instruments"], w49["instruments"]) == (3 + 5 + 10 + 1, 2)  # the refused gauge not counted
    assert (w48["revenue_fen"], w49["revenue_fen"]) == (20000 + 18000 + 1500, 6000)
    assert (w48["waived_fen"], w48["waived_instruments"], w49["waived_fen"]) == (9000, 3, 0)
    # Ready A in W48 (on time); B and C in W49, both late.
    assert (w48["ready"], w48["on_time"], w48["on_time_rate"]) == (1, 1, 1.0)
    assert (w49["ready"], w49["on_time"], w49["promised"], w49["on_time_rate"]) == (2, 0, 2, 0.0)
    assert w48["mean_hours"] == 58.0 and w49["mean_hours"] == round((2911 + 1800) / 2 / 60, 1)
    assert [(p["ratings"], p["satisfaction_rate"]) for p in weeks["periods"]] == [(1, 1.0), (1, 1.0), (1, 0.0)]
    days = {d["day"]: d["tickets"] for d in weeks["days"]}
    assert len(days) == 21 and days["2026-11-23"] == 1 and days["2026-11-29"] == 1 and days["2026-12-01"] == 1
    assert days["2026-11-22"] == 0 and days["2026-11-30"] == 0

    months = get(client, director, by="month", **{"from": "2026-11-01", "to": "2026-12-31"})
    november, december = months["periods"]
    assert (november["period"], december["period"]) == ("2026-11", "2026-12")
    assert (november["tickets"], december["tickets"]) == (2, 1)  # C is December's in Shanghai
    assert (november["revenue_fen"], december["revenue_fen"]) == (39500, 6000)
    assert (november["ready"], november["on_time_rate"]) == (1, 1.0)
    assert (december["ready"], december["on_time_rate"]) == (2, 0.0)
    assert (november["ratings"], december["ratings"]) == (2, 1)

    fields = {f["field"]: f for f in months["fields"]}
    assert sorted(fields) == ["C", "D", "L", "R"]
    assert {k: f["revenue_fen"] for k, f in fields.items()} == {"C": 1500, "D": 6000, "L": 20000, "R": 18000}
    assert (fields["L"]["name_zh"], fields["L"]["name_en"]) == ("力学", "Mechanics and pressure")
    assert {s["service"]: (s["instruments"], s["revenue_fen"], s["waived_fen"]) for s in fields["L"]["services"]} \
        == {"calibration": (5, 20000, 0), "verification": (3, 0, 9000)}
    assert (fields["L"]["on_time_rate"], fields["R"]["on_time_rate"], fields["D"]["on_time_rate"]) == (1.0, 0.0, 0.0)
    assert fields["L"]["mean_hours"] == 58.0
    total = months["total"]
    assert (total["tickets"], total["revenue_fen"], total["waived_fen"], total["ready"], total["on_time"]) \
        == (3, 45500, 9000, 3, 1)
    assert total["mean_hours"] == round((3480 + 2911 + 1800) / 3 / 60, 1)

    # The pushes kept what a build makes.
    kept = readmodels.snapshot(storage)
    assert kept["figure_day"] and len(kept["figure_ticket"]) == 3
    with storage.transaction() as tx:
        readmodels.build(tx, storage)
    assert readmodels.snapshot(storage) == kept


def test_the_page_draws_its_charts_in_itself_and_the_csv_is_safe(client, storage):
    serve_three(client, storage)
    Counter(client, storage).serve([intake_line("L-001-012", 1, "safety", "calibration")], utc(2026, 11, 24, 3),
                                   ready_on="2026-11-30")
    for role in ("director", "clerk", "auditor"):  # no personal data: every role
        page = client.get("/office/figures", params={"by": "week", "from": "2026-11-16", "to": "2026-12-06"},
                          headers=office(storage, role))
        assert page.status_code == 200, role
    text = page.text
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org", "")
    assert text.count("<svg class='chart'") == 5 and "<title>2026-11-23: 1 / 8</title>" in text
    assert "2026-W48" in text and "力学 Mechanics and pressure" in text
    assert "<b>￥495.00</b>" in text and "<b>￥90.00</b>" in text  # revenue (a 4th ticket: 40.00 more); waived
    assert "href='/office/figures'" in client.get("/office", headers=office(storage, "auditor")).text  # in the nav

    got = client.get("/office/figures.csv", params={"by": "month", "from": "2026-11-01", "to": "2026-12-31"},
                     headers=office(storage, "auditor"))
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.text)))
    header, body = rows[0], rows[1:]
    by = {(r[0], r[3], r[5]): dict(zip(header, r)) for r in body}
    november = by[("2026-11", "*", "*")]
    assert (november["受理单 tickets"], november["收入(元) revenue (CNY)"], november["免收强检费(元) waived (CNY)"]) \
        == ("3", "435.00", "90.00")
    assert november["评价 ratings"] == "2" and by[("2026-12", "*", "*")]["按时率 on-time rate"] == "0.0"
    assert by[("2026-11", "L", "calibration")]["器具 instruments"] == "6"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    weekly = client.get("/office/figures.csv", params={"by": "week", "from": "2026-11-18", "to": "2026-12-06"},
                        headers=office(storage, "auditor")).text
    totals = [r for r in csv.reader(io.StringIO(weekly)) if r[3:6] == ["*", "全部 All", "*"]]
    assert [(r[0], r[1], r[6]) for r in totals] == [("2026-W47", "2026-11-18", "0"), ("2026-W48", "2026-11-23", "3"),
                                                    ("2026-W49", "2026-11-30", "1")]


def test_bad_parameters_are_said_and_the_default_is_the_last_twelve_periods(client, storage, monkeypatch):
    import central.figures

    monkeypatch.setattr(central.figures, "institute_today", lambda: date(2026, 12, 2))
    director = office(storage, "director")
    weeks = get(client, director)
    assert (weeks["by"], weeks["from"], weeks["to"]) == ("week", "2026-09-14", "2026-12-02")
    assert len(weeks["periods"]) == 12 and weeks["periods"][-1]["period"] == "2026-W49"
    months = get(client, director, by="month")
    assert (months["from"], len(months["periods"]), months["periods"][0]["period"]) == ("2026-01-01", 12, "2026-01")
    for query in ({"by": "year"}, {"from": "2026-12-03", "to": "2026-12-01"}, {"from": "2020-01-01"}):
        assert client.get("/api/v1/office/figures", params=query, headers=director).status_code == 422
        page = client.get("/office/figures", params=query, headers=director)
        assert page.status_code == 422 and "统计" in page.text
    assert client.get("/api/v1/office/figures").status_code == 401


def test_a_voided_intake_and_a_later_earlier_ready_move_the_sums(client, storage):
    counter = serve_three(client, storage)
    t = counter.serve([intake_line("Z-001-001", 1, "other", "verification")], utc(2026, 11, 25, 2),
                      utc(2026, 11, 28, 2), ready_on="2026-11-27")  # late
    director = office(storage, "director")
    query = {"by": "week", "from": "2026-11-23", "to": "2026-11-29"}
    assert get(client, director, **query)["periods"][0]["on_time"] == 1
    # A second desk, offline, had marked it ready earlier (on time): the earliest ready counts.
    other = enrol(client, storage, "clerk")
    assert push(client, other, other.step("ready", t["uid"], t["number"], at=utc(2026, 11, 26, 2))).status_code == 200
    w48 = get(client, director, **query)["periods"][0]
    assert (w48["tickets"], w48["ready"], w48["on_time"], w48["revenue_fen"]) == (3, 2, 2, 39500 + 20000)
    # The first desk is revoked and its statements since before these tickets voided: what is left
    # is what the kiosk registered (no intake: no figures).
    revoke(storage, counter.desk.uid)
    void(storage, counter.desk.uid, utc(2026, 11, 1), "stolen")
    w48 = get(client, director, **query)["periods"][0]
    assert (w48["tickets"], w48["revenue_fen"], w48["ready"]) == (0, 0, 0)
    kept = readmodels.snapshot(storage)
    assert kept["figure_ticket"] == [] and kept["figure_day"] == []  # no row of zeros left behind
    with storage.transaction() as tx:
        readmodels.build(tx, storage)
    assert readmodels.snapshot(storage) == kept


def test_a_contribution_stored_before_schema_21_is_replaced_and_the_sums_stay(client, storage):
    """Schema 21 stores a digest of the basis and the cells without trailing zeros; a row written
    before (its full basis, every zero) is made again when its ticket is next refreshed: the same
    cells, so the sums do not move, and the row is then the one a build writes."""
    serve_three(client, storage)
    built = readmodels.snapshot(storage)
    assert all(len(basis) == 32 and ",0]" not in cells for _, basis, cells in built["figure_ticket"])
    with storage.transaction() as tx:  # each row as schema 20 wrote it
        for ticket, _, cells in built["figure_ticket"]:
            state = tx.one("SELECT uid, intake_event, received_at, ready_at, ready_on, urgent_hours, "
                           "registration_event, taken_in_fen FROM ticket_state WHERE uid = ?", (ticket,))
            old_basis = "|".join(str(v) for v in (state[1], figures.ts(figures.as_datetime(state[3]))
                                                  if state[3] else "", *state[4:]))
            full = [[*cell[:3], *cell[3:], *[0] * (len(figures.MEASURES) - len(cell[3:]))]
                    for cell in json.loads(cells)]
            tx.execute("UPDATE figure_ticket SET basis = ?, cells = ? WHERE ticket = "  # by its id (schema 26)
                       "(SELECT id FROM ticket_state WHERE uid = ?)",
                       (old_basis, json.dumps(full, separators=(",", ":")), ticket))
    with storage.transaction() as tx:
        figures.refresh(tx, storage, [ticket for ticket, _, _ in built["figure_ticket"]])
    assert readmodels.snapshot(storage) == built


def test_each_field_is_held_to_the_promise_of_its_own_lines(client, storage):
    """Urgent 24 h: the free compulsory gauges are not urgent (no surcharge on free verification),
    so their field is promised the receipt's day; the charged meters, 24 hours from intake."""
    counter = Counter(client, storage)
    counter.serve([intake_line("L-001-001", 2, "safety", "verification"),
                   intake_line("D-001-001", 1, "other", "verification")],
                  utc(2026, 11, 24, 2), utc(2026, 11, 25, 8), ready_on="2026-11-27", urgent="24h")
    fields = {f["field"]: f for f in get(client, office(storage, "auditor"), by="week",
                                         **{"from": "2026-11-23", "to": "2026-11-29"})["fields"]}
    assert (fields["L"]["on_time_rate"], fields["D"]["on_time_rate"]) == (1.0, 0.0)
    assert fields["D"]["revenue_fen"] == 3000 and fields["L"]["waived_fen"] == 6000


def test_contribution_splits_a_discount_to_the_fen():
    assert figures._shares([3333, 3333, 3334], -1000) == [-333, -333, -334]
    assert sum(figures._shares([1, 2, 3, 4], -7)) == -7


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles"])
def test_the_week_of_a_ticket_is_shanghai_s_whatever_the_machine_s(client, storage, monkeypatch, zone):
    monkeypatch.setenv("TZ", zone)
    import time

    time.tzset()
    try:
        serve_three(client, storage)
        w = get(client, office(storage, "auditor"), by="week", **{"from": "2026-11-23", "to": "2026-11-29"})
        assert w["periods"][0]["tickets"] == 2
    finally:
        monkeypatch.undo()  # the machine's own zone again, for the tests after this one
        time.tzset()


@pytest.mark.parametrize("seed", [1, 2])
def test_pushed_in_any_order_and_voided_the_sums_are_what_a_build_and_the_events_say(storage, seed):
    """Random intakes (priced, some urgent, some batches with a discount), steps from two desks
    (some twice, some before their registration), batches in any order and sent again, a desk
    voided midway: the rows are a build's, and the totals the earliest intakes' in force."""
    import random

    from fastapi.testclient import TestClient

    from central.api.quotas import Quotas
    from central.app import create_app

    from .test_read_models import batches

    rng = random.Random(seed)
    codes = [("L-001-001", "safety"), ("L-001-012", "safety"), ("R-001-001", "other"), ("Z-001-001", "trade"),
             ("D-001-001", "other"), ("C-001-001", "other")]
    with TestClient(create_app(storage, Quotas.parse("off"))) as client:
        kiosk = enrol(client, storage)
        desks = [enrol(client, storage, "clerk") for _ in range(2)]
        thief = enrol(client, storage, "clerk")
        said = []
        for i in range(40):
            at = utc(2026, 11, 1) + timedelta(hours=rng.randrange(24 * 40))
            urgent = rng.choice([None, None, "24h", "72h"])
            promise = {"ready_on": (at + timedelta(days=rng.randint(2, 9))).date().isoformat()}
            reg = kiosk.registered(at=at, promise=promise | ({"urgent_hours": int(urgent[:-1])} if urgent else {}))
            t = reg["payload"]["ticket"]
            said.append((kiosk, reg))
            for status in ("received", "ready")[:rng.randint(0, 2)]:
                for _ in range(rng.choice((1, 1, 2))):
                    desk = rng.choice([*desks, thief])
                    step_at = at + timedelta(hours=rng.randint(-1, 24 * 8))
                    lines = [intake_line(code, rng.choice((1, 3, 12)), use,
                                         "calibration" if code == "L-001-012" else "verification")
                             for code, use in (rng.choice(codes) for _ in range(rng.randint(1, 3)))]
                    step = desk.step(status, t["uid"], t["number"], at=step_at, lines=lines)
                    if status == "received":
                        priced = estimate(EstimateRequest(tuple(LineRequest(ln["code"], ln["quantity"], ln["use"],
                                                                            ln["service"]) for ln in lines), urgent),
                                          ROWS, default_policy(), 1)
                        step["payload"] |= {"total_fen": priced.total_fen, "estimate": priced.to_dict()}
                    said.append((desk, step))
        planned = batches(rng, said)
        half = len(planned) // 2
        for device, batch in planned[:half]:
            assert push(client, device, *batch).status_code == 200
        revoke(storage, thief.uid)
        for device, batch in planned[half:]:
            if device is not thief:
                assert push(client, device, *batch).status_code == 200
        void(storage, thief.uid, utc(2026, 1, 1))
    kept = readmodels.snapshot(storage)
    with storage.transaction() as tx:
        readmodels.build(tx, storage)
    assert readmodels.snapshot(storage) == kept
    # The totals: the earliest intake in force of each ticket, by (created_at, uid).
    with storage.read() as tx:
        intakes = tx.all(f"SELECT ticket, {storage.json_field('payload', 'total_fen')} FROM event "
                         "WHERE status = 1 AND void_id IS NULL ORDER BY created_at, uid")
    earliest: dict[str, int] = {}
    for ticket, total in intakes:
        earliest.setdefault(ticket, int(total))
    totals = [row for row in kept["figure_day"] if row[:2] == ("*", "*")]
    assert sum(row[3] for row in totals) == len(earliest) > 10
    assert sum(row[5] for row in totals) == sum(earliest.values())
