"""一次一评: the desk asks its counter's rating pad (kiosk/store/window_ratings.py has the rest).
A leaf of kiosk/store (it imports no other store module), so kiosk/store/desk.py can call
`ask_rating` inside a step's transaction without an import circle.

The window a desk serves is the process's (`kiosk clerk --counter N`, else $KIOSK_COUNTER,
else 1): one desk app per process, also under `kiosk serve --desk` (a process per browser)."""

from __future__ import annotations

import threading
from datetime import datetime

from db.inserts import insert
from db.models import Clerk, RatingRequest, Ticket
from kiosk.domain.feedback import STAGE_OF_STEP
from kiosk.domain.validation import FieldError, clean_text

DEFAULT_COUNTER = "1"
_counter = DEFAULT_COUNTER
_counter_lock = threading.Lock()


def clean_counter(text: str | int) -> str:
    """A window's number as given (`--counter 3`): 1-20 characters, no spaces."""
    value = clean_text(str(text), required=True, max_length=20).replace(" ", "")
    if not value:
        raise FieldError("error.required")
    return value


def set_counter(counter: str | int) -> None:
    """The window this process's desk serves: its steps ask that window's pad."""
    global _counter
    with _counter_lock:
        _counter = clean_counter(counter)


def desk_counter() -> str:
    return _counter


def ask_rating(ticket: Ticket, step: str, step_id: int, clerk, now: datetime) -> int | None:
    """Called by kiosk/store/desk.py `_step` inside its transaction: a rating request for the
    intake or pickup just taken, for this desk's counter; the counter's older waiting ones are
    superseded. Other steps: nothing. The request's id."""
    stage = STAGE_OF_STEP.get(step)
    if stage is None:
        return None
    counter = desk_counter()
    name, staff = "", ""
    clerk_id = getattr(clerk, "id", None)
    if clerk_id is not None:
        row = Clerk.get_or_none(Clerk.id == clerk_id)
        if row is not None:
            name, staff = row.display_name, row.staff_number or row.username
    RatingRequest.update(state="superseded", updated_at=now).where(
        (RatingRequest.counter == counter) & (RatingRequest.state == "waiting")).execute()
    return insert(RatingRequest, counter=counter, ticket=ticket.id, step=step_id, stage=stage, clerk=clerk_id,
                  clerk_name=name, staff_number=staff, state="waiting", created_at=now, updated_at=now)
