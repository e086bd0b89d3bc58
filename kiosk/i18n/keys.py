"""The closed sets the code words by value (a printer fault, a rating, a ticket's status, a column...):
each a table from the value to its message key, written out in full. No key is put together at run time,
so tests/test_i18n.py reads every key the code can ask for from the source, and checks each table covers
its set.

A value a table lacks (a kind nobody has worded yet) does not raise: it maps to a key no catalogue holds,
which t() shows in brackets and logs once."""

from __future__ import annotations

from os.path import commonprefix


class MessageKeys(dict[str, str]):
    """value -> message key; a missing value gives `family:value` (a colon is in no key)."""

    def __missing__(self, value: object) -> str:
        family = commonprefix(list(self.values())).rstrip("._")
        return f"{family}:{value}"


# ---- registration and the ticket --------------------------------------------------------------
USES = MessageKeys({
    "trade": "use.trade", "safety": "use.safety", "medical": "use.medical", "environment": "use.environment",
    "other": "use.other",
})
USE_CHOICES = MessageKeys({  # the same uses as the customer picks one: what each means in everyday words
    "trade": "use.choice.trade", "safety": "use.choice.safety", "medical": "use.choice.medical",
    "environment": "use.choice.environment", "other": "use.choice.other",
})
PICKUP_WAYS = MessageKeys({"in_person": "customer.pickup_in_person", "post": "customer.pickup_post"})
ADDONS = MessageKeys({  # EstimateLine add-on kinds (kiosk/domain/fees.py)
    "extra_points": "addon.extra_points", "extra_ranges": "addon.extra_ranges",
    "extra_metres": "addon.extra_metres", "ac_dc": "addon.ac_dc", "extra_data": "addon.extra_data",
})
FREE_REASONS = MessageKeys({"compulsory_verification": "free.compulsory_verification"})
CHARGE_REASONS = MessageKeys({"not_compulsory_for_use": "charge.not_compulsory_for_use"})  # EstimateLine
URGENT_NOTES = MessageKeys({  # why a line asked to be urgent is not
    "urgent_not_for_free_verification": "urgent.urgent_not_for_free_verification",
    "urgent_not_offered": "urgent.urgent_not_offered",
})
PRINT_STATES = MessageKeys({"pending": "print.pending", "printing": "print.printing", "printed": "print.printed"})
PRINT_REASONS = MessageKeys({  # printer.backends.PrinterError kinds
    "offline": "print.reason.offline", "paper_out": "print.reason.paper_out",
    "cover_open": "print.reason.cover_open", "disconnected": "print.reason.disconnected",
    "timeout": "print.reason.timeout", "config": "print.reason.config", "error": "print.reason.error",
    "unconfirmed": "print.reason.unconfirmed",
})
TICKET_CODE_ERRORS = MessageKeys({  # kiosk.domain.ticketcode.KINDS
    "not_a_code": "ticketcode.not_a_code", "damaged": "ticketcode.damaged",
    "bad_signature": "ticketcode.bad_signature", "unknown_device": "ticketcode.unknown_device",
    "revoked": "ticketcode.revoked", "unsupported_version": "ticketcode.unsupported_version",
})
PRINT_DOCUMENTS = MessageKeys({  # db.models.PrintJob kinds, as `kiosk reprint --kind` names them
    "ticket": "cli.document.ticket", "voucher": "cli.document.voucher", "pickup_slip": "cli.document.pickup_slip",
})

# ---- the clerk desk ---------------------------------------------------------------------------
DESK_SCAN_ERRORS = MessageKeys({  # kiosk.store.desk.ScanResult.error
    "not_a_code": "desk.not_a_code", "damaged": "desk.damaged", "bad_signature": "desk.bad_signature",
    "unknown_device": "desk.unknown_device", "revoked": "desk.revoked",
    "unsupported_version": "desk.unsupported_version", "not_local": "desk.not_local",
    "number_taken": "desk.number_taken",
})
TICKET_STATUSES = MessageKeys({
    "registered": "desk.status.registered", "received": "desk.status.received", "ready": "desk.status.ready",
    "picked_up": "desk.status.picked_up",
})
WORK_STATES = MessageKeys({  # a line taken in and in the lab, by its service (kiosk.domain.vocabulary.SERVICES)
    "verification": "desk.work.verification", "calibration": "desk.work.calibration",
    "testing": "desk.work.testing", "repair": "desk.work.repair",
})
DESK_STEPS = MessageKeys({  # a step done already: 已于…由…{step}
    "received": "desk.step.received", "ready": "desk.step.ready", "picked_up": "desk.step.picked_up",
})
DESK_DONE = MessageKeys({  # a step just done
    "received": "desk.done.received", "ready": "desk.done.ready", "picked_up": "desk.done.picked_up",
})

# ---- feedback, progress, satisfaction ---------------------------------------------------------
FEEDBACK_LEVELS = MessageKeys({  # by kiosk.store.feedback.LEVELS' names
    "very_satisfied": "feedback.level.very_satisfied", "satisfied": "feedback.level.satisfied",
    "basic": "feedback.level.basic", "dissatisfied": "feedback.level.dissatisfied",
    "very_dissatisfied": "feedback.level.very_dissatisfied",
})
FEEDBACK_REASONS = MessageKeys({
    "slow": "feedback.reason.slow", "attitude": "feedback.reason.attitude", "fees": "feedback.reason.fees",
    "unclear": "feedback.reason.unclear", "quality": "feedback.reason.quality", "other": "feedback.reason.other",
})
FEEDBACK_HEARTS = MessageKeys({
    "warm": "feedback.heart.warm", "careful": "feedback.heart.careful", "patient": "feedback.heart.patient",
    "dedicated": "feedback.heart.dedicated", "reassuring": "feedback.heart.reassuring",
})
FEEDBACK_TICKET_ERRORS = MessageKeys({  # TicketLookup.error and PhoneCheck.error (kiosk/store/feedback.py)
    "not_found": "feedback.error.not_found", "damaged": "feedback.error.damaged",
    "not_here": "feedback.error.not_here", "invalid": "feedback.error.invalid", "failed": "feedback.error.failed",
    "not_served": "feedback.error.not_served", "no_phone": "feedback.error.no_phone",
    "locked": "feedback.error.locked", "digits": "feedback.error.digits", "wrong": "feedback.error.wrong_digits",
})
RETURNING_ERRORS = MessageKeys({  # kiosk.store.returning.Found.error, and "failed"
    "not_here": "returning.error.not_here", "not_found": "returning.error.not_found",
    "damaged": "returning.error.damaged", "invalid": "returning.error.invalid", "no_phone": "returning.error.no_phone",
    "locked": "returning.error.locked", "failed": "returning.error.failed",
})
PROGRESS_ERRORS = MessageKeys({  # kiosk.store.progress.Progress.error
    "not_found": "progress.error.not_found", "damaged": "progress.error.damaged",
    "not_here": "progress.error.not_here", "invalid": "progress.error.invalid", "failed": "progress.error.failed",
})
SATISFACTION_VIEWS = MessageKeys({  # kiosk.i18n.satisfaction_text.VIEWS: a view's title
    "week": "admin.view.week", "counter": "admin.view.counter", "clerk": "admin.view.clerk",
    "heart": "admin.view.heart",
})
SATISFACTION_GROUPS = MessageKeys({  # the same views: the heading of their first column
    "week": "admin.col.week", "counter": "admin.col.counter", "clerk": "admin.col.clerk", "heart": "admin.col.heart",
})
DUE_COLUMNS = MessageKeys({  # kiosk.i18n.due_text.COLUMNS
    "due_on": "due.col.due_on", "number": "due.col.number", "organisation": "due.col.organisation",
    "contact": "due.col.contact", "phone": "due.col.phone", "instrument": "due.col.instrument",
    "code": "due.col.code", "serial": "due.col.serial", "quantity": "due.col.quantity",
})

# ---- the machine: `kiosk doctor`, database and backup problems --------------------------------
DOCTOR_CHECKS = MessageKeys({  # kiosk.ops.doctor.Check.name
    "config": "doctor.config", "database": "doctor.database", "integrity": "doctor.integrity",
    "schema": "doctor.schema", "printer": "doctor.printer", "labels": "doctor.labels", "fonts": "doctor.fonts",
    "central": "doctor.central",
    "clock": "doctor.clock",
    "disk": "doctor.disk", "pin": "doctor.pin", "backups": "doctor.backups",
})
FONT_SAMPLES = MessageKeys({  # kiosk.ops.doctor.FONT_SAMPLE groups
    "ascii": "doctor.fonts.sample.ascii", "gb2312": "doctor.fonts.sample.gb2312", "gbk": "doctor.fonts.sample.gbk",
    "gb18030": "doctor.fonts.sample.gb18030", "money": "doctor.fonts.sample.money",
})
DATABASE_PROBLEMS = MessageKeys({  # db.backup.problem_kind, db.connection.DatabaseUnusable.kind
    "full": "dbproblem.full", "readonly": "dbproblem.readonly", "corrupt": "dbproblem.corrupt",
    "locked": "dbproblem.locked", "cantopen": "dbproblem.cantopen", "io": "dbproblem.io",
    "upgrade_backup": "dbproblem.upgrade_backup", "other": "dbproblem.other",
})
BACKUP_PROBLEMS = MessageKeys({  # db.backup.BackupError.kind
    "missing": "backup.why.missing", "in_use": "backup.why.in_use", "not_kiosk": "backup.why.not_kiosk",
    "damaged_file": "backup.why.damaged_file", "too_new": "backup.why.too_new", "low_space": "backup.why.low_space",
})
# ---- 一次一评 and 好差评 (kiosk/i18n/messages/pad.py) --------------------------------------------------
RATING_STAGES = MessageKeys({  # kiosk.domain.feedback.STAGES
    "intake": "pad.stage.intake", "completion": "pad.stage.completion",
})
FIX_LEVELS = MessageKeys({  # kiosk.domain.feedback.FIX_LEVELS
    "satisfied": "ratings.fix.satisfied", "basic": "ratings.fix.basic", "dissatisfied": "ratings.fix.dissatisfied",
})
APPEAL_STATES = MessageKeys({  # kiosk.domain.feedback.APPEAL_DECISIONS, and waiting
    "upheld": "ratings.appeal.upheld", "rejected": "ratings.appeal.rejected", "waiting": "ratings.appeal.waiting",
})
RATING_VIEWS = MessageKeys({  # kiosk.domain.ratings_export.window_groups
    "counter": "ratings.by.counter", "clerk": "ratings.by.clerk", "stage": "ratings.by.stage",
    "week": "ratings.by.week",
})
