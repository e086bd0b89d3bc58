"""peewee models. The tables are created by db/migrations (frozen SQL), not by these
classes; tests/test_db.py checks that the two agree column by column.

Each ForeignKeyField `x` also gives `x_id`, the raw id, read without loading the row. peewee adds that
attribute when the class is built, so its stubs cannot see it: each is declared here as a bare
annotation, which creates no field and no column."""

from __future__ import annotations

from datetime import UTC, datetime

from peewee import (
    AutoField,
    BlobField,
    BooleanField,
    DatabaseProxy,
    DateField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from kiosk.domain.clock import utc_now  # noqa: F401  (re-exported: the models' clock)
from kiosk.domain.vocabulary import USES

database_proxy = DatabaseProxy()


class UtcDateTimeField(TextField):
    """Timezone-aware UTC, stored as ISO 8601 text with its offset (sortable, unambiguous)."""

    def db_value(self, value):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC")
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def python_value(self, value):
        return None if value is None else datetime.fromisoformat(value)


class UsesField(TextField):
    """A set of uses (kiosk.domain.vocabulary.USES) as 'trade,medical': in USES order, so one set
    is one text."""

    def db_value(self, value):
        return ",".join(use for use in USES if use in value)

    def python_value(self, value):
        return frozenset(value.split(",")) - {""}


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class Setting(BaseModel):
    key = TextField(primary_key=True)
    value = TextField()


class Device(BaseModel):
    """This node's identity: a time-ordered unique id and the prefix of its ticket numbers."""

    id = AutoField()
    uid = TextField(unique=True)
    prefix = TextField()
    role = TextField()  # kiosk | clerk
    created_at = UtcDateTimeField()


class CatalogVersion(BaseModel):
    id = AutoField()
    source = TextField()  # file name, or "demo"
    sha256 = TextField()  # of the imported rows, to tell identical imports apart
    row_count = IntegerField()
    imported_at = UtcDateTimeField()


class FeeItem(BaseModel):
    """An instrument type in one catalogue version, e.g. 一般压力表."""

    id = AutoField()
    version = ForeignKeyField(CatalogVersion, column_name="version_id", backref="items")
    version_id: int
    name_zh = TextField()
    name_en = TextField()
    aliases = TextField()  # joined with 、


class PricedRow(BaseModel):
    """One priced row of a fee item: service, spec band, price and add-ons (see kiosk.domain.catalog.FeeRow)."""

    id = AutoField()
    version = ForeignKeyField(CatalogVersion, column_name="version_id")
    version_id: int
    item = ForeignKeyField(FeeItem, column_name="item_id", backref="rows")
    item_id: int
    position = IntegerField()  # order in the published table
    code = TextField()
    service = TextField()
    spec_zh = TextField()
    spec_en = TextField()
    accuracy_class = TextField()
    unit = TextField()
    price_fen = IntegerField(null=True)
    min_fen = IntegerField(null=True)
    per_point_fen = IntegerField(null=True)
    points_included = IntegerField()
    per_range_fen = IntegerField(null=True)
    ranges_included = IntegerField()
    per_metre_fen = IntegerField(null=True)
    metres_included = IntegerField()
    ac_dc_percent = IntegerField(null=True)
    regulation = TextField()
    cycle_months = IntegerField(null=True)
    compulsory_uses = UsesField()  # schema 12 (db/migrations/m0012_compulsory_uses.py)
    supervision = TextField()
    turnaround_days = IntegerField()
    urgent_allowed = BooleanField()


class DeviceKey(BaseModel):
    """A device's Ed25519 public key (raw 32 bytes): ticket codes it signed verify with it."""

    id = AutoField()
    device_uid = TextField(unique=True)
    public_key = BlobField()
    source = TextField()  # own | import | sync
    added_at = UtcDateTimeField()
    revoked_at = UtcDateTimeField(null=True)
    name = TextField(null=True)  # as enrolled at the central system, e.g. "1号收件窗口"


class Customer(BaseModel):
    id = AutoField()
    organisation = TextField()
    credit_code = TextField()  # unified social credit code, may be empty
    address = TextField()
    contact = TextField()
    phone = TextField()
    created_at = UtcDateTimeField()


class Ticket(BaseModel):
    id = AutoField()
    uid = TextField(unique=True)  # time-ordered, globally unique (UUIDv7)
    number = TextField(unique=True)  # human-readable: device prefix + local date + sequence
    device = ForeignKeyField(Device, column_name="device_id")
    device_id: int
    customer = ForeignKeyField(Customer, column_name="customer_id", backref="tickets")
    customer_id: int
    version = ForeignKeyField(CatalogVersion, column_name="version_id")
    version_id: int
    policy_id = TextField()
    status = TextField()
    urgent = TextField(null=True)
    pickup = TextField()  # in_person | post
    certificates = IntegerField()
    certificate_name = TextField()
    total_fen = IntegerField()
    quoted_lines = IntegerField()
    estimate_json = TextField()  # the estimate exactly as shown to the customer
    created_at = UtcDateTimeField()
    code = TextField(null=True)  # the signed ticket code its QR carries (kiosk/domain/ticketcode.py)


class TicketLine(BaseModel):
    id = AutoField()
    ticket = ForeignKeyField(Ticket, column_name="ticket_id", backref="lines", on_delete="CASCADE")
    ticket_id: int
    position = IntegerField()
    row = ForeignKeyField(PricedRow, column_name="row_id")
    row_id: int
    code = TextField()
    quantity = IntegerField()
    use = TextField()
    service = TextField()
    points = IntegerField(null=True)
    ranges = IntegerField(null=True)
    metres = TextField(null=True)  # decimal text, never float
    ac_dc = BooleanField()
    extra_data = BooleanField(default=False)  # schema 13 (db/migrations/m0013_extra_data.py)
    model = TextField()
    serial_number = TextField()
    manufacturer = TextField()
    requirements = TextField()
    repair_if_fails = BooleanField()
    amount_fen = IntegerField(null=True)  # None: quoted at the counter
    free_reason = TextField(null=True)


class PrintJob(BaseModel):
    id = AutoField()
    ticket = ForeignKeyField(Ticket, column_name="ticket_id", backref="print_jobs")
    ticket_id: int
    kind = TextField()  # ticket | voucher | pickup_slip | labels
    state = TextField()  # pending | printing | printed | failed | unconfirmed (kiosk.printing.spool)
    attempts = IntegerField()
    last_error = TextField(null=True)  # "<kind>: <message>", e.g. "paper_out: ..."
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()
    lang = TextField(default="zh")  # the receipt's language: the customer's at registration
    next_attempt_at = UtcDateTimeField(null=True)  # a failed job waits until then; NULL: now
    printed_at = UtcDateTimeField(null=True)
    is_copy = BooleanField(default=False)  # a reprint after one printed: the paper says 补打 / COPY


class OutboxEvent(BaseModel):
    # AUTOINCREMENT in the schema: ids are never reused (see m0002).
    seq = AutoField()
    uid = TextField(unique=True)
    kind = TextField()
    payload = TextField()  # JSON
    created_at = UtcDateTimeField()
    acked_at = UtcDateTimeField(null=True)
    parked_at = UtcDateTimeField(null=True)  # refused by the central system: not sent again
    park_reason = TextField(null=True)


class HeldChange(BaseModel):
    """A pulled ticket status change whose ticket has not reached this node yet (kiosk/sync/feed.py)."""

    seq = IntegerField(primary_key=True)
    ticket_uid = TextField()
    data = TextField()  # JSON


class ParkedChange(BaseModel):
    """A change this node could not apply, kept with why (kiosk/store/parked.py): pulled from
    the central system (`seq`), or a ticket code scanned at a desk (`seq` None)."""

    id = AutoField()
    seq = IntegerField(null=True, unique=True)
    kind = TextField(null=True)
    data = TextField()  # JSON, whole: a later version may apply it
    reason = TextField()  # no personal data
    parked_at = UtcDateTimeField()


class Counter(BaseModel):
    """Named monotonic counters, bumped inside the transaction that uses the value."""

    name = TextField(primary_key=True)
    value = IntegerField()


class SearchKey(BaseModel):
    """A catalogue text's search keys (itself, full pinyin, initials), joined by newlines."""

    text = TextField(primary_key=True)
    keys = TextField()


class Organisation(BaseModel):
    """A customer organisation's name the customer screen completes (kiosk/store/organisations.py):
    the name only, never a contact or a phone."""

    key = TextField(primary_key=True)  # kiosk/domain/organisations.py search_key
    name = TextField()
    seen = IntegerField()  # registrations here that named it; 0: known from central only
    last_seen = UtcDateTimeField()


class Clerk(BaseModel):
    """A clerk who unlocks the desk with a PIN (scrypt hash, see kiosk/store/clerks.py)."""

    id = AutoField()
    username = TextField(unique=True)
    display_name = TextField()
    pin_hash = TextField()
    failed_attempts = IntegerField(default=0)  # wrong PINs since the last unlock or lockout
    locked_until = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField()
    removed_at = UtcDateTimeField(null=True)  # kept for the events that name the clerk
    admin = BooleanField(default=False)  # may open the satisfaction screen
    staff_number = TextField(null=True)  # 工号, on the counter's rating pad (schema 16); None: the username


class TicketEvent(BaseModel):
    """One step of a ticket at the counters: received | ready | picked_up; once each."""

    id = AutoField()
    uid = TextField(unique=True)
    ticket = ForeignKeyField(Ticket, column_name="ticket_id", backref="events")
    ticket_id: int
    kind = TextField()
    clerk = ForeignKeyField(Clerk, column_name="clerk_id", null=True)  # None: pulled from central
    clerk_id: int | None
    device = ForeignKeyField(Device, column_name="device_id")
    device_id: int
    payload = TextField()  # JSON
    created_at = UtcDateTimeField()


class IntakeLine(BaseModel):
    """A line as the receiving clerk took it in: corrected, described, or refused."""

    id = AutoField()
    event = ForeignKeyField(TicketEvent, column_name="event_id", backref="intake_lines")
    event_id: int
    ticket_line = ForeignKeyField(TicketLine, column_name="ticket_line_id", null=True)  # None: added at the desk
    ticket_line_id: int | None
    position = IntegerField()
    code = TextField()
    quantity = IntegerField()
    service = TextField()
    use = TextField()
    condition = TextField()
    accessories = TextField()
    serial_number = TextField()
    refused = BooleanField()
    amount_fen = IntegerField(null=True)


class Feedback(BaseModel):
    """A customer's rating (好差评, kiosk/store/feedback.py): one per ticket, or anonymous (no ticket)."""

    id = AutoField()
    uid = TextField(unique=True)
    ticket = ForeignKeyField(Ticket, column_name="ticket_id", null=True)  # None: anonymous
    ticket_id: int | None
    device = ForeignKeyField(Device, column_name="device_id")  # the kiosk it was given at
    device_id: int
    rating = IntegerField()  # 1 very dissatisfied .. 5 very satisfied (feedback.LEVELS)
    hearts = TextField()  # comma list of feedback.HEARTS keys, may be empty
    reason = TextField(null=True)  # feedback.REASONS key; required for a poor rating (1, 2)
    reason_text = TextField()
    comment = TextField()
    callback_phone = TextField(null=True)  # only when the customer asked to be called back
    language = TextField()
    received_device = TextField(null=True)  # uid of the desk that took the ticket in
    received_clerk = TextField(null=True)  # username of the clerk who did
    picked_up_device = TextField(null=True)
    picked_up_clerk = TextField(null=True)
    created_at = UtcDateTimeField()
    ticket_number = TextField(null=True)  # None: anonymous
    stage = TextField(null=True)  # a window rating's: intake | completion (schema 16); None: the lobby kiosk's
    staff_number = TextField(null=True)  # the serving clerk's 工号, as the counter's pad showed it
    counter = TextField(null=True)  # the window's number the pad was at


class Followup(BaseModel):
    """The call back a poor rating calls for, due in 15 working days."""

    id = AutoField()
    uid = TextField(unique=True)
    feedback = ForeignKeyField(Feedback, column_name="feedback_id", unique=True, backref="followups")
    feedback_id: int
    due_on = DateField()
    status = TextField()  # open | closed
    call_note = TextField()
    created_at = UtcDateTimeField()
    closed_at = UtcDateTimeField(null=True)
    closed_by = ForeignKeyField(Clerk, column_name="closed_by", null=True)
    closed_by_id: int | None
    closed_by_name = TextField(null=True)  # closed elsewhere: another desk's clerk, the back office
    callback_by = UtcDateTimeField(null=True)  # the work order's call-back deadline (schema 16); None: no rule
    fix_rating = TextField(null=True)  # the customer's rating of the fix: satisfied | basic | dissatisfied


class RatingRequest(BaseModel):
    """The desk asks its counter's pad for a rating of the step it just took (kiosk/store/window_ratings.py)."""

    id = AutoField()
    counter = TextField()
    ticket = ForeignKeyField(Ticket, column_name="ticket_id")
    ticket_id: int
    step = ForeignKeyField(TicketEvent, column_name="step_id", unique=True)
    step_id: int
    stage = TextField()  # intake | completion
    clerk = ForeignKeyField(Clerk, column_name="clerk_id", null=True)
    clerk_id: int | None
    clerk_name = TextField()
    staff_number = TextField()
    state = TextField()  # waiting | rated | declined | expired | superseded
    feedback = ForeignKeyField(Feedback, column_name="feedback_id", null=True)
    feedback_id: int | None
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()


class FollowupCall(BaseModel):
    """A call-back made for a poor rating's work order."""

    id = AutoField()
    uid = TextField(unique=True)
    followup = ForeignKeyField(Followup, column_name="followup_id", backref="calls")
    followup_id: int
    reached = BooleanField()
    note = TextField()
    clerk = ForeignKeyField(Clerk, column_name="clerk_id", null=True)
    clerk_id: int | None
    clerk_name = TextField(null=True)
    created_at = UtcDateTimeField()
    device = TextField(null=True)  # the desk that recorded it (uid); None: this desk (schema 18)


class Appeal(BaseModel):
    """A clerk's appeal against a rating (mistaken or malicious) and a supervisor's decision; the
    rating itself is never deleted."""

    id = AutoField()
    uid = TextField(unique=True)
    feedback = ForeignKeyField(Feedback, column_name="feedback_id", backref="appeals")
    feedback_id: int
    reason = TextField()
    raised_by = ForeignKeyField(Clerk, column_name="raised_by", null=True)
    raised_by_id: int | None
    raised_by_name = TextField(null=True)
    created_at = UtcDateTimeField()
    decision = TextField(null=True)  # upheld | rejected; None: waiting
    decision_reason = TextField(null=True)
    decided_by = ForeignKeyField(Clerk, column_name="decided_by", null=True)
    decided_by_id: int | None
    decided_by_name = TextField(null=True)
    decided_at = UtcDateTimeField(null=True)
    device = TextField(null=True)  # the desk that filed it (uid); None: this desk (schema 18)
    decided_device = TextField(null=True)  # the desk (or central) that decided it; None: this desk
    decided_via = TextField(null=True)  # desk | office; None: not decided


class CertificateCheck(BaseModel):
    """A step about one instrument's certificate at dispatch (db/migrations/m0015_certificate_checks.py)."""

    id = AutoField()
    uid = TextField(unique=True)
    kind = TextField()  # check | taken_as_is
    ticket_uid = TextField()
    number = TextField()
    position = IntegerField()
    instrument = IntegerField()
    outcome = TextField()  # passed | returned | taken_as_is
    code = TextField()
    service = TextField(null=True)
    certificate = TextField()
    document = TextField()  # certificate | notice
    conclusion = TextField(null=True)
    wrong = TextField()
    reason = TextField()
    promised_on = DateField(null=True)
    refers_to = TextField(null=True)
    clerk = ForeignKeyField(Clerk, column_name="clerk_id", null=True)
    clerk_id: int | None
    clerk_name = TextField(null=True)
    device_uid = TextField()
    created_at = UtcDateTimeField()


MODELS = [Setting, Device, DeviceKey, CatalogVersion, FeeItem, PricedRow, Customer, Ticket, TicketLine, PrintJob,
          OutboxEvent, Counter, SearchKey, Clerk, TicketEvent, IntakeLine,
          HeldChange, ParkedChange, Feedback, Followup, Organisation, RatingRequest, FollowupCall, Appeal,
          CertificateCheck]
