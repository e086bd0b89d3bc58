"""The estimate engine: an itemized, reproducible fee estimate from catalogue rows.

Pure: plain data in, plain data out; no database, no Textual, no printer.

Rules, in the order they are applied to each line (all integer fen):
1. Per instrument: the row's base price, plus each add-on the row prices
   (extra measuring points, extra ranges, started metres beyond the included length),
   and the AC+DC percentage of the base price (交直流两用加收基本量限的百分比).
2. Line amount = per-instrument amount x quantity, raised to the row's minimum charge
   (最低收费 is per line: one item in one consignment, e.g. 量块 12元/块, 最低100元).
3. A verification line whose use is one the compulsory catalogue names for its row
   (`FeeRow.compulsory_uses`: a scale in trade, a pressure gauge in safety) is free
   (财税〔2017〕20号); the line still shows what it would have cost (`waived_fen`) and why it
   is free. A row of the catalogue verified for another use is charged, and says why
   (`charge_reason`).
4. Data the regulation does not require (要求出具规程未要求的数据), when the customer asks for
   it and the policy offers it (`extra_data_percent`): that percentage of the line amount of
   rule 2 (add-ons and minimum included: the extra data is taken on the whole job), as its own
   add-on "extra_data" (a LINE_ADDONS kind: its amount is the line's, not per instrument), added
   to the line amount. Not on a free compulsory line: the surcharge is a share of the fee
   charged, and charging a share of a waived verification fee would charge for compulsory
   verification; the add-on is still listed there, at 0, so the request is seen.
5. Urgent surcharge: the policy's percentage of the line amount (extra data included: urgent
   buys speed for the whole job), only on charged lines of rows that allow urgent work;
   never on compulsory free verification.
6. Discounts from the policy are their own lines, computed on the amounts of the lines
   they apply to (before the urgent surcharge: a surcharge buys speed, not the service).
   They do not stack: a line takes its best qualifying discount. A quantity threshold
   counts the same fee item across all lines of the request (同一项目同批).
Percentages round half up to the fen: (amount * percent + 50) // 100.
A row without a price is "quoted at the counter": its amount is None and the total
counts only priced lines (`quoted_lines` says how many are missing).

Storage past the pickup period is not part of an estimate: it is charged at pickup, from the
ticket's charged total and the days since it was ready (`storage_charge`, the policy's `storage`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from math import ceil
from pathlib import Path

from kiosk.domain.catalog import SERVICE_WORDS, SERVICES, USES, FeeRow, normalise_token

URGENT_TIERS = ("72h", "24h", "8h")
URGENT_HOURS = {"72h": 72, "24h": 24, "8h": 8}
MAX_QUANTITY = 999  # one consignment form; more is a typo, not a customer
MAX_LINES = 100
MAX_POINTS = 1000
MAX_RANGES = 100
MAX_METRES = 10_000


def percent_of(amount_fen: int, percent: int) -> int:
    """Half-up rounding to the fen, in integers (no float ever touches money)."""
    return (amount_fen * percent + 50) // 100


# ---- policy --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Discount:
    """A preferential measure, shown as its own line so nobody has to trust a hidden number."""

    id: str
    name_zh: str
    name_en: str
    percent: int  # taken off the base amount of each qualifying line
    services: frozenset[str] = frozenset(SERVICES)
    min_quantity: int = 1  # a line qualifies from this quantity of the same row


@dataclass(frozen=True, slots=True)
class StorageTier:
    """From the day after `after_days` days since the ticket was ready, each day costs
    `percent_per_day` % of the ticket's charged total (until the next tier starts)."""

    after_days: int
    percent_per_day: int


@dataclass(frozen=True, slots=True)
class Storage:
    """Storage charges past the pickup period (one institute: 2 % a day after 30 days, 4 % after 60).
    Policy JSON: {"tiers": [{"after_days": 30, "percent_per_day": 2}, {"after_days": 60, "percent_per_day": 4}]};
    tiers in increasing `after_days`; the first one's `after_days` is the free pickup period."""

    tiers: tuple[StorageTier, ...]

    @property
    def free_days(self) -> int:
        return self.tiers[0].after_days


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    urgent_percent: Mapping[str, int]
    discounts: tuple[Discount, ...] = ()
    extra_data_percent: int = 0  # data the regulation does not require; 0: not offered
    storage: Storage | None = None  # None: no storage charge


class PolicyError(ValueError):
    pass


MAX_STORAGE_DAYS = 3650


def _policy_whole(value, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PolicyError(f"pricing policy: {where} must be a whole number {low}–{high}, not {value!r}")
    return value


def _storage_from_dict(data) -> Storage | None:
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) != {"tiers"}:
        raise PolicyError('pricing policy: storage must be {"tiers": [...]}')
    raw = data["tiers"]
    if not isinstance(raw, list) or not raw:
        raise PolicyError("pricing policy: storage.tiers must be a non-empty list")
    tiers: list[StorageTier] = []
    for i, tier in enumerate(raw):
        at = f"storage.tiers[{i}]"
        if not isinstance(tier, dict) or set(tier) != {"after_days", "percent_per_day"}:
            raise PolicyError(f"pricing policy: {at} must be {{\"after_days\": …, \"percent_per_day\": …}}")
        after = _policy_whole(tier["after_days"], f"{at}.after_days", 0, MAX_STORAGE_DAYS)
        if tiers and after <= tiers[-1].after_days:
            raise PolicyError(f"pricing policy: {at}.after_days must be more than {tiers[-1].after_days} "
                              "(the tier before it)")
        tiers.append(StorageTier(after, _policy_whole(tier["percent_per_day"], f"{at}.percent_per_day", 1, 100)))
    return Storage(tuple(tiers))


def policy_from_dict(data: dict) -> Policy:
    try:
        urgent = {tier: int(data["urgent_percent"][tier]) for tier in URGENT_TIERS}
        discounts = tuple(
            Discount(
                id=str(d["id"]),
                name_zh=str(d["name_zh"]),
                name_en=str(d["name_en"]),
                percent=int(d["percent"]),
                services=frozenset(d.get("services", SERVICES)),
                min_quantity=int(d.get("min_quantity", 1)),
            )
            for d in data.get("discounts", [])
        )
        policy = Policy(id=str(data["id"]), urgent_percent=urgent, discounts=discounts,
                        extra_data_percent=_policy_whole(data.get("extra_data_percent", 0), "extra_data_percent",
                                                         0, 100),
                        storage=_storage_from_dict(data.get("storage")))
    except PolicyError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise PolicyError(f"pricing policy: missing or malformed {e}") from None
    if any(not 0 <= p <= 300 for p in urgent.values()):
        raise PolicyError("pricing policy: urgent percentages must be 0–300")
    for d in discounts:
        if not 0 < d.percent <= 100 or d.min_quantity < 1 or not d.services <= set(SERVICES):
            raise PolicyError(f"pricing policy: discount {d.id!r} is malformed")
    return policy


@cache  # read once: the packaged file does not change, and a desk catching up prices a ticket per change
def default_policy() -> Policy:
    # A path beside the package, as kiosk/data is installed (kiosk/settings/institute.py reads its
    # file the same way): importlib.resources would bring zipfile in before the lobby's first frame.
    text = (Path(__file__).parent.parent / "data" / "policy.json").read_text("utf-8")
    return policy_from_dict(json.loads(text))


# ---- storage past the pickup period ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class StorageDays:
    """The days of one tier charged, and what they cost: percent_of(base, percent_per_day x days)."""

    after_days: int
    percent_per_day: int
    days: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class StorageCharge:
    """What keeping the instruments past the pickup period costs, its own line at pickup."""

    days: int  # calendar days from the day the ticket was ready to the pickup day
    free_days: int
    base_fen: int  # the ticket's charged total
    tiers: tuple[StorageDays, ...]  # the tiers with days charged, in order; () within the free period
    amount_fen: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> StorageCharge:
        """The inverse of to_dict, also after a JSON round trip (the pickup step keeps it)."""
        return cls(**{**data, "tiers": tuple(StorageDays(**t) for t in data["tiers"])})


def storage_charge(storage: Storage, base_fen: int, ready_on: date, picked_up_on: date) -> StorageCharge:
    """Day n after the ready day (day 1 is the next calendar day) is charged at the tier whose
    `after_days` is the largest below n; each tier's days are rounded once, half up, so the charge
    never falls as the days grow and is 0 within the free period. Dates on the institute's clock."""
    days = max(0, (picked_up_on - ready_on).days)  # a desk clock behind the ready step: nothing owed
    charged = []
    for tier, following in zip(storage.tiers, (*storage.tiers[1:], None)):
        end = days if following is None else min(days, following.after_days)
        if end > tier.after_days:
            in_tier = end - tier.after_days
            charged.append(StorageDays(tier.after_days, tier.percent_per_day, in_tier,
                                       percent_of(base_fen, tier.percent_per_day * in_tier)))
    return StorageCharge(days, storage.free_days, base_fen, tuple(charged), sum(t.amount_fen for t in charged))


# ---- request -------------------------------------------------------------------------


class EstimateError(ValueError):
    """A request that cannot be estimated. `where` names the offending field."""

    def __init__(self, where: str, message: str):
        self.where = where
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class LineRequest:
    item: str  # fee-standard number of the priced row
    quantity: int = 1
    use: str = "other"
    service: str | None = None  # must match the row's service when given
    points: int | None = None  # total measuring points
    ranges: int | None = None  # total ranges / functions
    metres: Decimal | None = None  # length of the instrument (tapes)
    ac_dc: bool = False
    extra_data: bool = False  # data the regulation does not require, asked for by the customer


@dataclass(frozen=True, slots=True)
class EstimateRequest:
    lines: tuple[LineRequest, ...]
    urgent: str | None = None


def _whole(value, where: str, low: int, high: int) -> int:
    if isinstance(value, str):
        value = normalise_token(value)  # full-width digits from an IME
        # isdecimal, not isdigit: "፩" or "²" are digits int() refuses; the length cap keeps
        # a 5000-digit string away from int()'s own limit.
        if not (value.isascii() and value.isdecimal() and len(value) <= 9):
            raise EstimateError(where, f"not a whole number: {value!r}")
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise EstimateError(where, f"not a whole number: {value!r}")
    if not low <= value <= high:
        raise EstimateError(where, f"{value} is outside {low}–{high}")
    return value


def _choice(value, where: str, choices) -> str:
    if not isinstance(value, str) or normalise_token(value).lower() not in choices:
        raise EstimateError(where, f"{value!r} is not one of {', '.join(choices)}")
    return normalise_token(value).lower()


def _service(value, where: str) -> str:
    """English keys or the words of the fee table (检定 / 校准 / 检测 / 修理)."""
    if isinstance(value, str) and normalise_token(value) in SERVICE_WORDS:
        return SERVICE_WORDS[normalise_token(value)]
    return _choice(value, where, SERVICES)


def request_from_dict(data) -> EstimateRequest:
    """Validate a JSON request (see `kiosk estimate`). Every error names its field."""
    if not isinstance(data, dict):
        raise EstimateError("request", "must be a JSON object")
    unknown = set(data) - {"lines", "urgent"}
    if unknown:
        raise EstimateError("request", f"unknown field(s): {', '.join(sorted(unknown))}")
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise EstimateError("lines", "must be a non-empty list")
    if len(raw_lines) > MAX_LINES:
        raise EstimateError("lines", f"more than {MAX_LINES} lines")
    urgent = data.get("urgent")
    if urgent is not None:
        urgent = _choice(urgent, "urgent", URGENT_TIERS)
    lines = []
    known = {"item", "quantity", "use", "service", "points", "ranges", "metres", "ac_dc", "extra_data"}
    for i, raw in enumerate(raw_lines):
        at = f"lines[{i}]"
        if not isinstance(raw, dict):
            raise EstimateError(at, "must be an object")
        unknown = set(raw) - known
        if unknown:
            raise EstimateError(at, f"unknown field(s): {', '.join(sorted(unknown))}")
        item = raw.get("item")
        if not isinstance(item, str) or not normalise_token(item):
            raise EstimateError(f"{at}.item", "a fee-standard number is required")
        metres = raw.get("metres")
        if metres is not None:
            try:
                metres = Decimal(normalise_token(str(metres))) if not isinstance(metres, bool) else None
            except InvalidOperation:
                metres = None
            # At most millimetres: keeps the Decimal arithmetic exact (28 digits would round).
            # (A finite Decimal's exponent is an int; only NaN and infinity have a letter there.)
            if (metres is None or not metres.is_finite() or not 0 < metres <= MAX_METRES
                    or not isinstance(exponent := metres.as_tuple().exponent, int) or exponent < -3):
                raise EstimateError(f"{at}.metres",
                                    f"not a length in metres (0–{MAX_METRES}], to the mm: {raw['metres']!r}")
        ac_dc = raw.get("ac_dc", False)
        if not isinstance(ac_dc, bool):
            raise EstimateError(f"{at}.ac_dc", "must be true or false")
        extra_data = raw.get("extra_data", False)
        if not isinstance(extra_data, bool):
            raise EstimateError(f"{at}.extra_data", "must be true or false")
        lines.append(
            LineRequest(
                item=normalise_token(item).upper(),
                quantity=_whole(raw.get("quantity", 1), f"{at}.quantity", 1, MAX_QUANTITY),
                use=_choice(raw.get("use", "other"), f"{at}.use", USES),
                service=None if raw.get("service") is None else _service(raw["service"], f"{at}.service"),
                points=None if raw.get("points") is None else _whole(raw["points"], f"{at}.points", 1, MAX_POINTS),
                ranges=None if raw.get("ranges") is None else _whole(raw["ranges"], f"{at}.ranges", 1, MAX_RANGES),
                metres=metres,
                ac_dc=ac_dc,
                extra_data=extra_data,
            )
        )
    return EstimateRequest(lines=tuple(lines), urgent=urgent)


# ---- result --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddOn:
    kind: str  # extra_points | extra_ranges | extra_metres | ac_dc | extra_data
    count: int  # extra units charged (0 for a percentage)
    unit_fen: int | None  # price per extra unit; None for a percentage
    percent: int | None
    amount_fen: int | None  # per instrument; a LINE_ADDONS kind: the line's (None: on a quoted line)


LINE_ADDONS = frozenset({"extra_data"})  # taken on the line amount (rule 4), not per instrument


@dataclass(frozen=True, slots=True)
class EstimateLine:
    index: int
    code: str
    name_zh: str
    name_en: str
    spec_zh: str
    spec_en: str
    accuracy_class: str
    service: str
    use: str
    regulation: str
    unit: str
    quantity: int
    unit_price_fen: int | None  # the row's base price
    addons: tuple[AddOn, ...]
    unit_amount_fen: int | None  # per instrument, add-ons included
    minimum_fen: int | None  # top-up that raised the line to the row's minimum charge
    amount_fen: int | None  # what the customer pays for the line, before urgent and discounts
    waived_fen: int  # what a free line would have cost
    free_reason: str | None  # compulsory_verification
    quoted: bool  # price given at the counter
    urgent_percent: int | None
    urgent_fen: int | None
    urgent_note: str | None  # why urgent was not applied to this line, when it was asked for
    turnaround_days: int
    # Why a line one might expect free is charged: not_compulsory_for_use (the row is compulsory
    # for other uses than this line's). A default, so estimates stored before it still load.
    charge_reason: str | None = None


@dataclass(frozen=True, slots=True)
class DiscountLine:
    id: str
    name_zh: str
    name_en: str
    percent: int
    lines: tuple[int, ...]  # indexes of the lines it applies to
    base_fen: int
    amount_fen: int  # negative


@dataclass(frozen=True, slots=True)
class Estimate:
    policy_id: str
    urgent: str | None
    lines: tuple[EstimateLine, ...]
    discounts: tuple[DiscountLine, ...]
    subtotal_fen: int  # sum of line amounts
    urgent_fen: int
    discount_fen: int  # negative
    total_fen: int
    waived_fen: int  # the value of free compulsory verification
    quoted_lines: int  # lines whose price the counter gives; total excludes them
    turnaround_days: int  # longest promise among non-urgent lines
    urgent_hours: int | None
    catalog_version: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Estimate:
        """The inverse of to_dict, also after a JSON round trip: a stored ticket's estimate,
        exactly as the customer saw it (receipts and reprints never re-price)."""
        lines = tuple(EstimateLine(**{**ln, "addons": tuple(AddOn(**a) for a in ln["addons"])})
                      for ln in data["lines"])
        discounts = tuple(DiscountLine(**{**d, "lines": tuple(d["lines"])}) for d in data["discounts"])
        return cls(**{**data, "lines": lines, "discounts": discounts})


def _per_instrument(row: FeeRow, req: LineRequest, at: str) -> tuple[int | None, tuple[AddOn, ...]]:
    for name, priced in (("points", row.per_point_fen), ("ranges", row.per_range_fen),
                         ("metres", row.per_metre_fen), ("ac_dc", row.ac_dc_percent)):
        if getattr(req, name) not in (None, False) and priced is None:
            raise EstimateError(f"{at}.{name}", f"{row.code} is not priced by {name.replace('_', '+')}")
    if row.price_fen is None:
        return None, ()
    addons: list[AddOn] = []
    subtotal = row.price_fen
    extras = (
        ("extra_points", row.per_point_fen, max(0, (req.points or 0) - row.points_included)),
        ("extra_ranges", row.per_range_fen, max(0, (req.ranges or 0) - row.ranges_included)),
        ("extra_metres", row.per_metre_fen,
         max(0, ceil((req.metres or 0) - row.metres_included))),  # every started metre
    )
    for kind, unit_fen, count in extras:
        if unit_fen is not None and count:
            addons.append(AddOn(kind, count, unit_fen, None, unit_fen * count))
            subtotal += unit_fen * count
    if req.ac_dc and row.ac_dc_percent:
        # "交直流两用加收基本量限50%": the percentage of the basic range's price (the row's base),
        # not of the extra ranges or points, which are priced on their own.
        extra = percent_of(row.price_fen, row.ac_dc_percent)
        addons.append(AddOn("ac_dc", 0, None, row.ac_dc_percent, extra))
        subtotal += extra
    return subtotal, tuple(addons)


def is_free(row: FeeRow, service: str, use: str) -> bool:
    """Compulsory verification: the instrument *and* its use make it so (2019年第48号)."""
    return service == "verification" and use in row.compulsory_uses


def estimate(
    request: EstimateRequest,
    rows: Mapping[str, FeeRow],
    policy: Policy,
    catalog_version: int | None = None,
) -> Estimate:
    """Price every line. `rows` maps fee-standard number -> row of one catalogue version."""
    lines: list[EstimateLine] = []
    urgent_pct = policy.urgent_percent[request.urgent] if request.urgent else None
    for i, req in enumerate(request.lines):
        at = f"lines[{i}]"
        row = rows.get(req.item)
        if row is None:
            raise EstimateError(f"{at}.item", f"unknown fee-standard number {req.item!r}")
        if req.service is not None and req.service != row.service:
            raise EstimateError(f"{at}.service", f"{row.code} is priced for {row.service}, not {req.service}")
        unit_amount, addons = _per_instrument(row, req, at)
        free = is_free(row, row.service, req.use)
        full = None if unit_amount is None else unit_amount * req.quantity
        minimum = None
        if full is not None and row.min_fen is not None and full < row.min_fen:
            minimum, full = row.min_fen - full, row.min_fen
        amount = 0 if free else full
        waived = (full or 0) if free else 0
        if req.extra_data:
            if not policy.extra_data_percent:
                raise EstimateError(f"{at}.extra_data", "data beyond the regulation is not offered by the policy")
            extra = None  # quoted at the counter: the percentage of its quote
            if amount is not None:
                extra = percent_of(amount, policy.extra_data_percent)  # 0 on a free line (rule 4)
                amount += extra
            addons = (*addons, AddOn("extra_data", 0, None, policy.extra_data_percent, extra))
        surcharge = note = pct = None
        if urgent_pct is not None:  # an urgent request
            if free:
                note = "urgent_not_for_free_verification"
            elif not row.urgent_allowed:
                note = "urgent_not_offered"
            else:
                pct = urgent_pct
                surcharge = None if amount is None else percent_of(amount, pct)
        lines.append(
            EstimateLine(
                index=i, code=row.code, name_zh=row.name_zh, name_en=row.name_en, spec_zh=row.spec_zh,
                spec_en=row.spec_en, accuracy_class=row.accuracy_class, service=row.service, use=req.use,
                regulation=row.regulation, unit=row.unit, quantity=req.quantity, unit_price_fen=row.price_fen,
                addons=addons,
                unit_amount_fen=unit_amount, minimum_fen=minimum, amount_fen=amount, waived_fen=waived,
                free_reason="compulsory_verification" if free else None,
                quoted=amount is None, urgent_percent=pct, urgent_fen=surcharge, urgent_note=note,
                turnaround_days=row.turnaround_days,
                charge_reason="not_compulsory_for_use"
                if row.service == "verification" and row.compulsory_uses and not free else None,
            )
        )

    # "同一项目同批": the quantity that qualifies is the item's across the whole request
    # (one item may sit on several lines, e.g. for different uses).
    batch: dict[str, int] = {}
    for ln in lines:
        batch[ln.code] = batch.get(ln.code, 0) + ln.quantity
    # Preferential measures do not stack: each line takes its best qualifying discount
    # (the first in the policy on a tie), so no line is ever discounted below zero.
    best: dict[int, Discount] = {}
    for ln in lines:
        for d in policy.discounts:
            qualifies = ln.amount_fen and ln.service in d.services and batch[ln.code] >= d.min_quantity
            if qualifies and (ln.index not in best or d.percent > best[ln.index].percent):
                best[ln.index] = d
    discounts = []
    for d in policy.discounts:
        applies = [ln for ln in lines if best.get(ln.index) is d]
        if applies:
            base = sum(ln.amount_fen or 0 for ln in applies)  # all priced: only those qualify
            discounts.append(DiscountLine(d.id, d.name_zh, d.name_en, d.percent,
                                          tuple(ln.index for ln in applies), base, -percent_of(base, d.percent)))

    subtotal = sum(ln.amount_fen or 0 for ln in lines)
    urgent_total = sum(ln.urgent_fen or 0 for ln in lines)
    discount_total = sum(d.amount_fen for d in discounts)
    normal = [ln.turnaround_days for ln in lines if ln.urgent_percent is None]
    return Estimate(
        policy_id=policy.id,
        urgent=request.urgent,
        lines=tuple(lines),
        discounts=tuple(discounts),
        subtotal_fen=subtotal,
        urgent_fen=urgent_total,
        discount_fen=discount_total,
        total_fen=subtotal + urgent_total + discount_total,
        waived_fen=sum(ln.waived_fen for ln in lines),
        quoted_lines=sum(ln.quoted for ln in lines),
        turnaround_days=max(normal, default=0),
        urgent_hours=URGENT_HOURS[request.urgent] if request.urgent and len(normal) < len(lines) else None,
        catalog_version=catalog_version,
    )
