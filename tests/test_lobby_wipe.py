"""Every way back to the welcome screen leaves nothing of the last customer for the next one:
上一步, Esc, the idle timeout, after the ticket, after an error, out of service and back, and a
language switch once there. The next person who taps 送检登记 finds every field empty and no
instrument, option or message of the one before."""

import pytest
from textual.widgets import DataTable, Input, RadioSet
from textual.widgets._toast import Toast

from db.models import Ticket
from screens.customer import CustomerScreen
from screens.instruments import InstrumentsScreen
from screens.welcome import WelcomeScreen

from .kiosk_pilot import (
    CUSTOMER,
    FakeClock,
    add_line,
    fill,
    make_app,
    register_one,
    screen_text,
    settle,
    to_instruments,
)

SECRET = "SECRET-42"  # a serial number typed by the last customer
TRACES = (CUSTOMER["organisation"], CUSTOMER["contact"], "1234", SECRET)
FAILED = "登记没有成功"  # the registration's error message (flow.register_failed)


def toasts(app) -> str:
    """The messages (notifications) on the screen."""
    return "\n".join(str(toast.render()) for toast in app.screen.query(Toast))


async def typed_everything(pilot) -> None:
    """The last customer: their details, a line, urgent service and two certificates, back at
    the customer step (where Esc and 上一步 lead home)."""
    app = pilot.app
    await to_instruments(pilot)
    await add_line(pilot, "ylb", quantity="2", serial_number=SECRET)
    await pilot.click("#next")
    await pilot.pause()
    await pilot.click("#urgent-72h")
    app.screen.query_one("#field-certificates", Input).value = "2"
    await pilot.pause()
    await pilot.press("escape")  # options -> instruments
    await pilot.press("escape")  # -> customer
    await pilot.pause()
    assert isinstance(app.screen, CustomerScreen) and app.draft.urgent == "72h" and app.draft.lines


async def by_back_button(pilot) -> None:
    await typed_everything(pilot)
    await pilot.click("#back")


async def by_escape(pilot) -> None:
    await typed_everything(pilot)
    await pilot.press("escape")


async def by_escape_from_the_line_dialog(pilot) -> None:
    """Esc, Esc, Esc ... from a dialog halfway through a line."""
    await to_instruments(pilot)
    await add_line(pilot, "ylb", quantity="2", serial_number=SECRET)
    await pilot.press(*"wyb", "enter", "enter")
    await pilot.pause()
    pilot.app.screen.query_one("#field-serial_number", Input).value = "SECOND-7"
    for _ in range(3):
        await pilot.press("escape")


async def by_idle_timeout(pilot) -> None:
    await typed_everything(pilot)
    pilot.app.clock.now += pilot.app.config.idle_seconds + 1
    pilot.app.idle_tick()


async def after_the_ticket(pilot) -> None:
    await register_one(pilot)
    await pilot.click("#done")


async def after_the_ticket_by_itself(pilot) -> None:
    await register_one(pilot)
    pilot.app.clock.now += pilot.app.config.ticket_seconds + 1
    pilot.app.idle_tick()


async def after_an_error(pilot, monkeypatch) -> None:
    """The registration fails (the database says no): the message shows, the customer walks away."""
    import kiosk.store.registration

    def refuse(*args, **kwargs):
        raise OSError("disk I/O error")

    monkeypatch.setattr(kiosk.store.registration, "register", refuse)
    await typed_everything(pilot)
    await pilot.click("#next")
    await pilot.click("#next")
    await pilot.click("#next")
    await pilot.pause()
    pilot.app.screen.action_confirm()
    await settle(pilot)
    assert FAILED in toasts(pilot.app)
    for _ in range(4):
        await pilot.press("escape")


async def out_of_service_and_back(pilot) -> None:
    from screens.app import StartupFailed

    await typed_everything(pilot)
    pilot.app.post_message(StartupFailed("disk I/O error"))
    await pilot.pause()
    pilot.app.pop_screen()  # staff set it right (maintenance): the kiosk serves again


async def then_a_language_switch(pilot) -> None:
    await by_escape(pilot)
    await pilot.pause()
    await pilot.press("f2")
    await pilot.press("f2")


async def by_cut_and_paste(pilot) -> None:
    """What the last customer cut (ctrl+x) is not there for the next one's ctrl+v."""
    await typed_everything(pilot)
    field = pilot.app.screen.query_one("#field-organisation", Input)
    field.focus()
    field.action_select_all()
    await pilot.press("ctrl+x")
    await pilot.press("escape")


PATHS = [by_back_button, by_escape, by_escape_from_the_line_dialog, by_idle_timeout, after_the_ticket,
         after_the_ticket_by_itself, after_an_error, out_of_service_and_back, then_a_language_switch,
         by_cut_and_paste]


@pytest.mark.parametrize("path", PATHS, ids=lambda f: f.__name__)
async def test_the_next_customer_finds_nothing_of_the_last(path, monkeypatch):
    clock = FakeClock()
    app = make_app(clock=clock, idle_seconds=300, ticket_seconds=30)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await (path(pilot, monkeypatch) if path is after_an_error else path(pilot))
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen) and len(app.screen_stack) == 1
        assert app.draft.is_empty and app.clipboard == ""
        shown = screen_text(app)
        assert not any(trace in shown for trace in TRACES), shown
        assert FAILED not in toasts(app)  # the last customer's error message went with them

        # The next customer taps 送检登记: every field empty, the pickup as it starts.
        await pilot.click("#register")
        await pilot.pause()
        assert isinstance(app.screen, CustomerScreen)
        assert [f.value for f in app.screen.query(Input)] == [""] * 5
        assert app.screen.query_one("#pickup", RadioSet).pressed_button.id == "pickup-in_person"
        organisation = app.screen.query_one("#field-organisation", Input)
        organisation.focus()
        await pilot.press("ctrl+v")
        assert organisation.value == ""
        assert not any(trace in screen_text(app) for trace in TRACES)
        # ... and after their own details, no instrument of anyone else's.
        await fill(pilot, {**CUSTOMER, "organisation": "另一家公司", "contact": "王工"})
        await pilot.click("#next")
        await pilot.pause()
        assert isinstance(app.screen, InstrumentsScreen)
        assert app.screen.query_one("#lines", DataTable).row_count == 0
        assert app.screen.query_one("#search", Input).value == ""
        assert app.draft.lines == [] and app.draft.urgent is None and app.draft.certificates == 1
    if path in (after_the_ticket, after_the_ticket_by_itself):
        assert Ticket.select().count() == 1  # the ticket itself is kept, of course


@pytest.mark.parametrize("button, field_id", [("#fees", "#query"), ("#progress", "#field-scan"),
                                              ("#feedback", "#field-scan")])
async def test_a_search_or_a_number_typed_on_a_welcome_action_is_gone_for_the_next(button, field_id):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.click(button)
        await pilot.pause()
        app.screen.query_one(field_id, Input).value = "K1A-261124-0007"
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.click(button)
        await pilot.pause()
        assert app.screen.query_one(field_id, Input).value == ""
        assert "K1A-261124-0007" not in screen_text(app)


async def test_a_fee_schedule_that_came_during_a_customer_is_taken_when_they_leave():
    """Between customers: the estimate in progress keeps its version; back on the welcome screen
    (here by Esc) the new one is taken, and the welcome screen shows it."""
    from kiosk.store.catalog import export_csv, import_csv

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await to_instruments(pilot)
        old = app.catalog.version
        new = await app.in_db_thread(lambda: import_csv(export_csv().replace("一般压力表", "普通压力表"), "sync"))
        app.catalog_arrived([new])
        await settle(pilot)
        assert app.catalog.version == old
        await pilot.press("escape")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert app.catalog.version == new
        assert "普通压力表" in screen_text(app) and "一般压力表" not in screen_text(app)
