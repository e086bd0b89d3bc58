"""The last gate (严把证书质量的最后一关): every certificate checked at the dispatch counter before
it leaves the building, the rule. Plain data in, plain data out: the desk (kiosk/store/
certificate_checks.py), the sync handler and the back office (central/certificate_checks.py) judge
with the same functions.

A check is of one instrument (a line of three gauges has three certificates): its intake line's
position and the instrument's index in the line, both from 0. The clerk types or scans the
certificate's number and taps each point that is wrong (by eye, against the intake):

- `instrument`: the instrument's name as taken in;
- `serial`: its serial number (出厂编号) as taken in;
- `holder`: the certificate holder's name (证书单位) as the customer asked;
- `conclusion`: the conclusion given (合格 / 不合格 for verification; results for the others):
  none chosen is itself a wrong point (a missing conclusion);
- `due_date`: the next due date consistent with the instrument's cycle (verification passed only);
- `copies`: the number of certificates ordered.

Any wrong point sends the certificate back to the lab (`returned`) with the reasons (the points
plus words) and a promise for the corrected one (`RETURN_DAYS` working days); the corrected one is
checked again (a re-check names the returned check). Otherwise it `passed`. A returned
certificate holds the instrument's pickup until it passes, unless the customer takes it as it is
(their choice and the clerk's note recorded).

An instrument verified and found 不合格 gets a 检定结果通知书 (result notice) instead of a
certificate: `document` "notice"; it has no next due date, and the due list does not remind for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kiosk.domain.holidays import WEEKENDS_ONLY, Calendar
from kiosk.domain.workdays import add_working_days

POINTS = ("instrument", "serial", "holder", "conclusion", "due_date", "copies")
CONCLUSIONS = ("pass", "fail", "results")  # 合格, 不合格, calibration / test results given
OUTCOMES = ("passed", "returned")
STATES = ("unchecked", "passed", "returned", "taken_as_is")
DOCUMENTS = ("certificate", "notice")
RETURN_DAYS = 2  # working days the lab is given to correct a returned certificate


def conclusions_for(service: str) -> tuple[str, ...]:
    """The conclusions a certificate of `service` may give: verification passes or fails;
    calibration and testing give results; a repair is verified or calibrated after it (either)."""
    if service == "verification":
        return ("pass", "fail")
    if service == "repair":
        return CONCLUSIONS
    return ("results",)


def points_for(service: str, conclusion: str | None) -> tuple[str, ...]:
    """The points checked on this certificate: the next due date only on a passed verification."""
    due = service == "verification" and conclusion in (None, "pass")
    return tuple(p for p in POINTS if p != "due_date" or due)


def document_for(service: str, conclusion: str | None) -> str:
    """A failed verification gets a 检定结果通知书, not a certificate."""
    return "notice" if conclusion == "fail" and service in ("verification", "repair") else "certificate"


def wrong_points(service: str, conclusion: str | None, tapped: Iterable[str]) -> tuple[str, ...]:
    """The points found wrong, in POINTS order: those tapped (that apply), and the conclusion when
    none (or one the service cannot give) was chosen."""
    applies = points_for(service, conclusion)
    wrong = {p for p in tapped if p in applies}
    if conclusion not in conclusions_for(service):
        wrong.add("conclusion")
    return tuple(p for p in POINTS if p in wrong)


def outcome_of(wrong: Iterable[str]) -> str:
    return "returned" if any(True for _ in wrong) else "passed"


def return_promise(at: datetime, cal: Calendar = WEEKENDS_ONLY, days: int = RETURN_DAYS) -> date:
    """The date the corrected certificate is promised by: `days` working days after the local day
    of the return (`at` on the institute's clock, as the caller gives it)."""
    return add_working_days(at.date(), days, cal.holidays, cal.workdays)


def week_of(day: date) -> date:
    """The Monday of `day`'s week: the figures count by week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class CheckFact:
    """One recorded step about a certificate: a check (passed or returned) or the customer taking
    a returned one as it is. `at` aware; `uid` the step's own."""

    uid: str
    position: int
    instrument: int
    kind: str  # "check" | "taken_as_is"
    at: datetime
    outcome: str = ""  # a check's: passed | returned
    certificate: str = ""
    conclusion: str | None = None
    document: str = "certificate"
    wrong: tuple[str, ...] = ()
    reason: str = ""
    promised_on: date | None = None
    refers_to: str | None = None  # a re-check's returned check; a taking's returned check
    clerk: str | None = None


@dataclass(frozen=True)
class CertificateState:
    """Where one instrument's certificate stands after its steps, in order."""

    position: int
    instrument: int
    state: str  # STATES
    checks: int = 0  # how many times it was checked
    returns: int = 0  # how many times it was sent back
    last: CheckFact | None = None  # the latest check (its number, conclusion, document)
    returned: CheckFact | None = None  # while returned: the check that sent it back
    promised_on: date | None = None  # while returned: the corrected one's promise

    @property
    def holds_pickup(self) -> bool:
        return self.state == "returned"

    @property
    def failed_verification(self) -> bool:
        """Found 不合格: a result notice, no certificate, no next due date."""
        return self.last is not None and self.last.document == "notice" and self.state != "returned"


def _order(fact: CheckFact):
    return (fact.at, fact.uid)


def states(facts: Iterable[CheckFact]) -> dict[tuple[int, int], CertificateState]:
    """(position, instrument) -> its state, from its steps in time order (ties by uid, so two
    desks' facts give one answer wherever they are folded). The latest check decides; a taking
    as it is stands only over the return it names while that return is the latest check."""
    found: dict[tuple[int, int], CertificateState] = {}
    for f in sorted(facts, key=_order):
        key = (f.position, f.instrument)
        s = found.get(key) or CertificateState(f.position, f.instrument, "unchecked")
        if f.kind == "check":
            returned = f.outcome == "returned"
            s = CertificateState(f.position, f.instrument, "returned" if returned else "passed", s.checks + 1,
                                 s.returns + (1 if returned else 0), f, f if returned else None,
                                 f.promised_on if returned else None)
        elif f.kind == "taken_as_is" and s.state == "returned" and (f.refers_to in (None, s.returned.uid
                                                                                    if s.returned else None)):
            s = CertificateState(f.position, f.instrument, "taken_as_is", s.checks, s.returns, s.last)
        found[key] = s
    return found


def holding(found: dict[tuple[int, int], CertificateState]) -> list[CertificateState]:
    """The certificates that hold the pickup (returned, not taken as they are), in line order."""
    return [s for _, s in sorted(found.items()) if s.holds_pickup]


def promised_by(found: dict[tuple[int, int], CertificateState]) -> date | None:
    """The earliest promise of the certificates returned for correction (None: none returned)."""
    return min((s.promised_on for s in found.values() if s.holds_pickup and s.promised_on), default=None)


# ---- the institute's figures: checked, returned and why, by lab field and week ---------------------


@dataclass(frozen=True)
class CheckRow:
    """One check as the figures count it."""

    week: date  # its Monday (local)
    field: str  # the lab field's letter (kiosk.domain.vocabulary FIELDS), "?" unknown
    outcome: str
    wrong: tuple[str, ...]
    recheck: bool = False


@dataclass(frozen=True)
class CheckFigure:
    week: date
    field: str
    checked: int
    returned: int
    rechecked: int
    reasons: dict[str, int]  # point -> times it sent one back

    @property
    def error_rate(self) -> float:
        """Returned of checked, 0..1 (the certificate error rate the quality check is for)."""
        return self.returned / self.checked if self.checked else 0.0


def figures(rows: Iterable[CheckRow]) -> list[CheckFigure]:
    """Per (week, field), newest week first, then field: checks, returns, re-checks and the points
    that sent them back."""
    sums: dict[tuple[date, str], list] = {}
    for r in rows:
        s = sums.setdefault((r.week, r.field), [0, 0, 0, {}])
        s[0] += 1
        s[2] += 1 if r.recheck else 0
        if r.outcome == "returned":
            s[1] += 1
            for p in r.wrong:
                s[3][p] = s[3].get(p, 0) + 1
    return [CheckFigure(week, field, c, ret, re, {p: reasons[p] for p in POINTS if p in reasons})
            for (week, field), (c, ret, re, reasons) in sorted(sums.items(), key=lambda kv: (-kv[0][0].toordinal(),
                                                                                              kv[0][1]))]


FIGURE_COLUMNS = ("week", "field", "checked", "returned", "rechecked", "error_rate", *(f"wrong_{p}" for p in POINTS))


def figure_rows(found: list[CheckFigure]) -> list[tuple]:
    """As the CSV writes them: the error rate as a percentage with one decimal (text, never a float)."""
    out = []
    for f in found:
        permille = (f.returned * 1000 + f.checked // 2) // f.checked if f.checked else 0
        out.append((f.week.isoformat(), f.field, f.checked, f.returned, f.rechecked,
                    f"{permille // 10}.{permille % 10}", *(f.reasons.get(p, 0) for p in POINTS)))
    return out


def to_csv(found: list[CheckFigure]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIGURE_COLUMNS)
    writer.writerows(figure_rows(found))
    return out.getvalue()
