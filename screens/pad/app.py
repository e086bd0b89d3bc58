"""The counter's rating pad (`kiosk pad --counter N`): a customer-facing screen beside the
clerk's (a small touch panel, or a tablet's browser through `kiosk serve --pad`).

When the clerk at that counter completes an intake (F5) or a pickup (F7), the desk writes a
rating request in the step's own transaction (kiosk/store/window_ratings.py); the pad, on the
same machine and the same database file, sees it at its next look (twice a second) and shows
the ticket's number, the stage (受理 / 办结), the clerk's name and 工号 and the five levels, one
tap each. A poor one asks the reason (one tap; "other" a few words); then thanks, and back to
idle. The customer may decline (不评价); a rating left unanswered expires and the pad goes back
to idle: the rating is never induced. Nothing here needs the network: the rating goes to
central with the desk's outbox, like every step.

Database work runs in one thread of the pad's own; workers post messages; handlers change
widgets. Time is injected (`clock` for the countdowns, `wall` for what is stored), so tests
never sleep.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from kiosk.domain.clock import utc_now
from kiosk.domain.feedback import LEVELS, POOR, REASONS, FeedbackErrors
from kiosk.i18n import t
from kiosk.i18n.keys import FEEDBACK_LEVELS, FEEDBACK_REASONS, RATING_STAGES
from kiosk.settings.config import Config

if TYPE_CHECKING:
    from textual import getters

    from kiosk.domain.feedback import FeedbackResult
    from kiosk.store.window_ratings import PadRequest

POLL_SECONDS = 0.5  # how often the pad looks for the desk's request (an indexed read)
RATE_SECONDS = 120  # a request left unanswered this long expires: back to idle
THANKS_SECONDS = 5


class PadOpened(Message):
    def __init__(self, error: str | None = None) -> None:
        super().__init__()
        self.error = error


class RequestSeen(Message):
    def __init__(self, request: PadRequest | None) -> None:
        super().__init__()
        self.request = request


class RatingSaved(Message):
    def __init__(self, result: FeedbackResult | None = None, error: str | None = None) -> None:
        super().__init__()
        self.result = result
        self.error = error


def _head(app: PadApp) -> Horizontal:
    """The title and the window, and the other language's button (the customer's choice)."""
    lang = app.language
    gap = "　" if lang == "zh" else "  "  # a full-width space in Chinese text, two in English
    return Horizontal(Static(f"{t('pad.title', lang)}{gap}{t('pad.counter', lang, counter=app.counter)}",
                             id="pad-title"),
                      Button(t("app.language", lang), id="pad-language", compact=True), id="pad-head")


class IdleScreen(Screen[None]):
    """Waiting for the counter's next intake or pickup."""

    if TYPE_CHECKING:  # the pad's app, for the type checker only
        app = getters.app(lambda: PadApp)  # defined below

    def compose(self) -> ComposeResult:
        app, lang = self.app, self.app.language
        yield _head(app)
        yield Static(t("pad.idle", lang), classes="pad-text pad-strong")
        yield Static(t("pad.idle_note", lang), classes="pad-text pad-muted")
        yield Static("", id="pad-error", classes="pad-text")


class RateScreen(Screen[None]):
    """The ticket, the stage, who served; five levels, one tap each; or no rating."""

    if TYPE_CHECKING:  # the pad's app, for the type checker only
        app = getters.app(lambda: PadApp)  # defined below

    BINDINGS: ClassVar[list[BindingType]] = [*(Binding(str(n), f"level({n})", show=False) for n in range(1, 6)),
                                             Binding("escape", "skip", show=False)]

    def __init__(self, request: PadRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        app, lang, r = self.app, self.app.language, self.request
        yield _head(app)
        stage = t(RATING_STAGES[r.stage], lang)
        yield Static(t("pad.ticket", lang, number=r.number, stage=stage), id="pad-ticket",
                     classes="pad-text pad-strong")
        if r.clerk_name:
            yield Static(t("pad.served_by", lang, name=r.clerk_name, staff=r.staff_number), id="pad-clerk")
        yield Static(t("pad.ask", lang), classes="pad-text")
        with Grid(id="levels"):
            for rating in sorted(LEVELS, reverse=True):
                yield Button(t(FEEDBACK_LEVELS[LEVELS[rating]], lang), id=f"level-{rating}",
                             variant="error" if rating in POOR else "primary" if rating == 5 else "default")
        with Horizontal(classes="pad-row"):
            yield Button(t("pad.skip", lang), id="skip")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "pad-language":
            return  # the app's
        event.stop()
        if event.button.id == "skip":
            self.action_skip()
        elif event.button.id and event.button.id.startswith("level-"):
            self.action_level(int(event.button.id.removeprefix("level-")))

    def action_level(self, rating: int) -> None:
        if rating in POOR:
            self.app.push_screen(ReasonScreen(self.request, rating))
        else:
            self.app.submit(self.request, rating)

    def action_skip(self) -> None:
        self.app.decline(self.request)


class ReasonScreen(Screen[None]):
    """Why a poor rating: one tap; "other" a few words and Send."""

    if TYPE_CHECKING:  # the pad's app, for the type checker only
        app = getters.app(lambda: PadApp)  # defined below

    BINDINGS: ClassVar = [Binding("escape", "back", show=False)]

    def __init__(self, request: PadRequest, rating: int) -> None:
        super().__init__()
        self.request, self.rating = request, rating
        self.other, self.other_text = False, ""  # "other" tapped, and the words typed

    def compose(self) -> ComposeResult:
        app, lang = self.app, self.app.language
        yield _head(app)
        level = t(FEEDBACK_LEVELS[LEVELS[self.rating]], lang)
        stage = t(RATING_STAGES[self.request.stage], lang)
        gap = "　" if lang == "zh" else "  "
        yield Static(f"{t('pad.ticket', lang, number=self.request.number, stage=stage)}{gap}{level}",
                     classes="pad-text pad-strong")
        yield Static(t("pad.reason_ask", lang), classes="pad-text")
        with Grid(id="reasons"):
            for reason in REASONS:
                yield Button(t(FEEDBACK_REASONS[reason], lang), id=f"reason-{reason}")
        with Horizontal(classes="pad-row", id="other-row") as row:
            row.display = self.other  # kept here, not in the widget: a change of language composes again
            yield Input(self.other_text, placeholder=t("pad.reason_other", lang), max_length=200, id="reason-text")
            yield Button(t("pad.reason_send", lang), id="send", variant="primary")
        with Horizontal(classes="pad-row"):
            yield Button(t("pad.back", lang), id="back")
        yield Static("", id="pad-error")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.other_text = event.value

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "pad-language":
            return  # the app's
        event.stop()
        button = event.button.id or ""
        if button == "back":
            self.action_back()
        elif button == "reason-other":
            self.other = True
            self.query_one("#other-row").display = True
            self.query_one("#reason-text", Input).focus()
        elif button == "send":
            self.send()
        elif button.startswith("reason-"):
            self.app.submit(self.request, self.rating, button.removeprefix("reason-"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.send()

    def send(self) -> None:
        text = self.query_one("#reason-text", Input).value
        if not text.strip():
            self.query_one("#pad-error", Static).update(t("pad.error.reason_text", self.app.language))
            self.query_one("#reason-text", Input).focus()
            return
        self.app.submit(self.request, self.rating, "other", text)

    def action_back(self) -> None:
        self.app.pop_screen()


class ThanksScreen(Screen[None]):
    if TYPE_CHECKING:  # the pad's app, for the type checker only
        app = getters.app(lambda: PadApp)  # defined below

    def __init__(self, key: str, detail: str | None = None) -> None:
        super().__init__()
        self.key, self.detail = key, detail

    def compose(self) -> ComposeResult:
        app, lang = self.app, self.app.language
        yield _head(app)
        yield Static(t(self.key, lang), id="pad-thanks")
        if self.detail:
            yield Static(t(self.detail, lang), classes="pad-text")


class PadApp(App[None], inherit_bindings=False):
    CSS_PATH: ClassVar = [Path(__file__).parent / "pad.tcss"]
    ENABLE_COMMAND_PALETTE = False
    TITLE = "服务评价器"
    BINDINGS: ClassVar = [
        Binding("ctrl+c,ctrl+z,ctrl+backslash,ctrl+p", "ignore", show=False, priority=True, id="lockdown"),
        Binding("ctrl+q", "quit", show=False, priority=True, id="quit"),
        Binding("tab", "focus_next", show=False),
        Binding("shift+tab", "focus_previous", show=False),
    ]

    def __init__(self, config: Config, counter: str = "1", *, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = utc_now, poll_seconds: float = POLL_SECONDS,
                 rate_seconds: float = RATE_SECONDS, thanks_seconds: float = THANKS_SECONDS) -> None:
        super().__init__()
        from kiosk.settings.institute import load_institute
        from kiosk.store.window_ratings import clean_counter

        self.config = config
        self.language = config.language
        self.counter = clean_counter(counter)
        self.clock, self.wall = clock, wall
        self.poll_seconds, self.rate_seconds, self.thanks_seconds = poll_seconds, rate_seconds, thanks_seconds
        self.info = load_institute(config.info_file, config.holidays_file)
        self.db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pad-db")
        self.opened = False
        self.shown: PadRequest | None = None  # the request on screen (rating or reason), or None
        self.shown_at = 0.0
        self.thanks_until: float | None = None
        self.saving = False  # a rating is being written: a second tap does nothing
        self.answered: set[int] = set()  # requests rated or declined here (a poll may still see one waiting)

    async def in_db_thread(self, fn, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(self.db_thread, partial(fn, *args, **kwargs))

    def get_default_screen(self) -> IdleScreen:
        return IdleScreen()

    def on_mount(self) -> None:
        self.title = t("pad.title", self.language)
        self.open_database()
        self.set_interval(self.poll_seconds, self.poll)
        self.set_interval(1, self.tick)

    def on_unmount(self) -> None:
        from screens.station import _close_database

        self.db_thread.submit(_close_database)
        self.db_thread.shutdown(wait=True)

    def action_ignore(self) -> None:
        pass

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """The language button of any screen (the screens' own buttons stop their events)."""
        if event.button.id == "pad-language":
            self.language = "en" if self.language == "zh" else "zh"
            self.title = t("pad.title", self.language)
            for screen in self.screen_stack:
                screen.refresh(recompose=True)

    # ---- the database ---------------------------------------------------------------------------

    @work(exclusive=True, group="pad-open")
    async def open_database(self) -> None:
        try:
            await self.in_db_thread(self._open)
        except Exception as e:  # noqa: BLE001 - said on the screen, never a crash
            self.post_message(PadOpened(str(e)))
        else:
            self.post_message(PadOpened())

    def _open(self) -> None:
        from db.connection import open_database
        from db.models import database_proxy

        current = database_proxy.obj  # the desk's own, when both run in one process (tests)
        if current is None or Path(current.database).resolve() != Path(self.config.database).resolve():
            open_database(self.config.database, backup_dir=self.config.data_dir / "backups")

    def on_pad_opened(self, message: PadOpened) -> None:
        if message.error:
            for error in self.screen.query("#pad-error").results(Static):
                error.update(t("pad.failed", self.language))
            return
        self.opened = True
        self.poll()

    # ---- the desk's requests ----------------------------------------------------------------------

    def poll(self) -> None:
        """Look for the counter's newest request (also what the timer does)."""
        if self.opened and not self.saving:
            self._poll()

    @work(exclusive=True, group="pad-poll")
    async def _poll(self) -> None:
        from kiosk.store.window_ratings import waiting_request

        try:
            request = await self.in_db_thread(waiting_request, self.counter, self.wall())
        except Exception:  # noqa: BLE001 - a busy or failing database: looked at again next time
            return
        self.post_message(RequestSeen(request))

    def on_request_seen(self, message: RequestSeen) -> None:
        request = message.request
        if request is None or self.saving or request.id in self.answered:
            return
        if self.shown is not None and request.id == self.shown.id:
            return
        self.show(request)

    def show(self, request: PadRequest) -> None:
        self.thanks_until = None
        self.shown, self.shown_at = request, self.clock()
        self._to_idle()
        self.push_screen(RateScreen(request))

    def _to_idle(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    # ---- the customer's answer ----------------------------------------------------------------------

    def submit(self, request: PadRequest, rating: int, reason: str | None = None, reason_text: str = "") -> None:
        if self.saving or self.shown is None or request.id != self.shown.id:
            return  # a second tap, or an answer to a request no longer shown
        self.saving = True
        self._save(request.id, rating, reason, reason_text)

    @work(group="pad-save")
    async def _save(self, request_id: int, rating: int, reason: str | None, reason_text: str) -> None:
        from kiosk.store.window_ratings import RatingError, rate

        try:
            result = await self.in_db_thread(rate, request_id, rating, reason, reason_text, language=self.language,
                                             rules=self.info.ratings, holidays=self.info.calendar, now=self.wall())
        except FeedbackErrors:
            self.post_message(RatingSaved(error="pad.error.reason_text"))
        except RatingError:
            self.post_message(RatingSaved(error="pad.rated_already"))
        except Exception:  # noqa: BLE001 - the customer is told to tell the clerk; logged by the store
            self.post_message(RatingSaved(error="pad.failed"))
        else:
            self.post_message(RatingSaved(result))

    def on_rating_saved(self, message: RatingSaved) -> None:
        self.saving = False
        if message.error == "pad.error.reason_text":
            for error in self.screen.query("#pad-error").results(Static):
                error.update(t(message.error, self.language))
            return
        done = self.shown
        self.shown = None
        if done is not None:
            self.answered.add(done.id)
        result = message.result
        key: str
        detail: str | None
        if message.error:
            key, detail = message.error, None
        else:
            assert result is not None  # RatingSaved carries a result or an error (_save)
            if result.already_rated:
                key, detail = "pad.rated_already", None
            else:
                key, detail = "pad.thanks", "pad.thanks_poor" if result.followup_due else None
        self._to_idle()
        self.push_screen(ThanksScreen(key, detail))
        self.thanks_until = self.clock() + self.thanks_seconds

    def decline(self, request: PadRequest, expired: bool = False) -> None:
        if self.shown is None or request.id != self.shown.id:
            return
        self.shown = None
        self.answered.add(request.id)
        self._decline(request.id, expired)
        self._to_idle()

    @work(group="pad-save")
    async def _decline(self, request_id: int, expired: bool) -> None:
        from kiosk.store.window_ratings import decline

        await self.in_db_thread(decline, request_id, expired, self.wall())

    def tick(self) -> None:
        """Once a second: an unanswered request expires; the thanks go back to idle."""
        now = self.clock()
        if self.shown is not None and not self.saving and now - self.shown_at >= self.rate_seconds:
            self.decline(self.shown, expired=True)
        if self.thanks_until is not None and now >= self.thanks_until:
            self.thanks_until = None
            self._to_idle()
