"""What the screens use of their app, for the type checker only: nothing imports this module at run
time. The screens cannot import the apps themselves (screens/app.py and screens/station.py import
them: no import circles, pyproject's [tool.importlinter]), so they type `self.app` with these
(`app = getters.app(KioskHost)` under TYPE_CHECKING, as Textual's own MessagePump does), and
functions given the app take the protocols. screens/station.py and screens/app.py check that
Station and KioskApp have all of it (their `_serves_screens`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from textual.app import App

if TYPE_CHECKING:
    from db.models import Device
    from kiosk.domain.fees import Policy
    from kiosk.domain.search import SearchIndex
    from kiosk.ime.dictionary import PinyinDictionary
    from kiosk.settings.config import Config
    from kiosk.settings.institute import InstituteInfo
    from kiosk.store.catalog import LoadedCatalog
    from screens.draft import Draft


class SyncShown(Protocol):
    """What the screens read of screens.station.SyncState (the title bar's indicator, KioskScreen.show_sync)."""

    @property
    def enrolled(self) -> bool: ...
    @property
    def online(self) -> bool | None: ...
    @property
    def waiting(self) -> int: ...
    @property
    def problem(self) -> str | None: ...
    @property
    def last_sync(self) -> datetime | None: ...


class StationSurface(Protocol):
    """screens.station.Station: the kiosk's and the desk's."""

    language: str
    config: Config
    info: InstituteInfo

    @property
    def ON_SCREEN_KEYBOARD(self) -> bool: ...  # the class constant, read
    @property
    def sync_state(self) -> SyncShown: ...
    @property
    def out_of_service(self) -> bool: ...

    async def in_db_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...
    def back_to_start(self) -> None: ...
    def wall_now(self) -> datetime: ...
    def sync_soon(self) -> None: ...
    def print_again(self, job_id: int) -> None: ...


class KioskSurface(StationSurface, Protocol):
    """screens.app.KioskApp: the customer kiosk."""

    catalog: LoadedCatalog | None  # None until loaded, after the first frame
    index: SearchIndex | None
    policy: Policy | None
    device: Device | None
    pinyin: PinyinDictionary | None
    submitting: bool
    scan_keys: str
    scan_at: float

    @property
    def draft(self) -> Draft: ...

    def clock(self) -> float: ...
    def wipe(self) -> None: ...
    def submit_registration(self) -> bool: ...


class StationHost(App[Any], StationSurface):
    """`self.app` of a screen or field of both stations (screens/base.py)."""


class KioskHost(StationHost, KioskSurface):
    """`self.app` of a kiosk screen."""
