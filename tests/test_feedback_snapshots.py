"""The feedback screens, zh and en, at 80x24 and 120x40 (pytest-textual-snapshot).

The screens are pushed with a draft as the flow would hand it over (a fixed ticket number:
a registered ticket's number carries today's date); choices are made through the screens'
own methods, not clicks (a clicked button is caught mid press-effect)."""

from datetime import date

import pytest

from kiosk.domain.feedback import FeedbackDraft
from kiosk.domain.validation import FieldError
from screens.feedback import DetailsScreen, FeedbackThanks, PhoneCheckScreen, RatingScreen, ReasonScreen

from .kiosk_pilot import make_app, settle

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
NUMBER = "K1A-261124-0007"


async def start(pilot):
    """A number this kiosk does not know: the message says so and offers the anonymous way."""
    await settle(pilot)
    await pilot.click("#feedback")
    await pilot.press(*"K1A", "minus", *"261124", "minus", *"9999", "enter")
    await settle(pilot)


async def phone_check(pilot):
    """A ticket found by its number: the last four digits of the contact phone, asked."""
    await settle(pilot)
    await pilot.app.push_screen(PhoneCheckScreen(FeedbackDraft(ticket_id=7, number=NUMBER)))


async def phone_wrong(pilot):
    """The same after a wrong try (shown as the screen shows the check's answer)."""
    await phone_check(pilot)
    await pilot.pause()
    field = pilot.app.screen.field
    field.input.value = "1234"
    field.show_error(FieldError("feedback.error.wrong_digits", {"tries": 2}))
    field.input.select_all()


async def rating(pilot):
    await settle(pilot)
    await pilot.app.push_screen(RatingScreen(FeedbackDraft(ticket_id=7, number=NUMBER)))


async def reason(pilot):
    await settle(pilot)
    draft = FeedbackDraft(ticket_id=7, number=NUMBER, rating=2, reason="fees", reason_text="检定费和校准费分不清")
    await pilot.app.push_screen(ReasonScreen(draft))


async def details(pilot):
    await settle(pilot)
    draft = FeedbackDraft(ticket_id=7, number=NUMBER, rating=4, hearts={"warm", "patient"}, comment="讲解很耐心",
                          callback=True, phone="13812345678")
    await pilot.app.push_screen(DetailsScreen(draft))


async def thanks(pilot):
    await settle(pilot)
    now = pilot.app.clock()
    pilot.app.clock = lambda: now  # the countdown must not race the snapshot
    await pilot.app.push_screen(FeedbackThanks(due=date(2026, 12, 15), callback=True))


SCREENS = [start, phone_check, phone_wrong, rating, reason, details, thanks]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("steps", SCREENS, ids=lambda f: f.__name__)
def test_feedback_screen(snap_compare, steps, language, size):
    async def run_before(pilot):
        await steps(pilot)
        await pilot.pause()

    assert snap_compare(make_app(language), terminal_size=SIZES[size], run_before=run_before)
