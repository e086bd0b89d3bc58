"""The institute's file kept in one place: loaded at central (`kiosk central institute --load`),
shown by the public site, pulled by a kiosk over real HTTP and shown on its welcome screen in place
of its own file; a file the kiosk cannot read is parked there, and its own stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from central import feed, institute
from kiosk.settings.institute import load_institute
from tests.sync.conftest import central, nodes  # noqa: F401 - fixtures

SHIPPED = Path(__file__).parents[2] / "kiosk" / "data" / "institute.toml"


def test_a_kiosk_shows_the_file_central_holds_in_place_of_its_own(central, nodes):  # noqa: F811
    from kiosk.store.institute import synced_info, synced_text

    kiosk = nodes("lobby", prefix="K1")
    local = load_institute(None)
    with kiosk.open():
        kiosk.enroll(central)
        assert synced_info(local) is local  # nothing synced: its own file
        text = SHIPPED.read_text("utf-8").replace("示范市计量检定测试院", "黔中计量院").replace(
            "1号收件窗口", "东楼收件窗口")
        done = institute.load(central.storage, text, "institute.toml")
        report = kiosk.sync()
        assert report.applied.institute == 1 and report.applied.parked == 0
        shown = synced_info(local)
        assert shown.name.zh == "黔中计量院" and shown.receiving_counter.zh == "东楼收件窗口"
        assert shown.calendar is local.calendar  # the kiosk's own holidays stay
        assert synced_text() == (done.version, text)
        assert kiosk.sync().applied.institute == 0  # nothing new


def test_a_file_this_kiosk_cannot_read_is_parked_and_its_own_stays(central, nodes):  # noqa: F811
    from kiosk.store.institute import synced_info

    kiosk = nodes("lobby", prefix="K1")
    with kiosk.open():
        kiosk.enroll(central)
        # Central checks a file with the devices' parser and refuses this one, nothing stored ...
        text = SHIPPED.read_text("utf-8").replace("days = 15", "days = \"fifteen\"")
        with pytest.raises(institute.InstituteFileError, match="ratings"):
            institute.load(central.storage, text, "institute.toml")
        assert institute.stored(central.storage) is None
        # ... but a central of another version may publish what this kiosk refuses: parked.
        with central.storage.transaction() as tx:
            feed.publish(tx, institute.KIND, data={"version": 1, "sha256": "0" * 64, "text": text})
        report = kiosk.sync()
        assert report.applied.parked == 1 and report.applied.institute == 0
        local = load_institute(None)
        assert synced_info(local) is local


async def test_the_welcome_screen_shows_the_synced_file_and_a_newer_one_when_it_comes():
    from datetime import UTC, datetime

    from kiosk.store.institute import store_synced
    from tests.kiosk_pilot import make_app, screen_text, settle

    app = make_app()
    text = SHIPPED.read_text("utf-8")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "示范市计量检定测试院" in screen_text(app)  # its own file: nothing synced yet
        first = text.replace("示范市计量检定测试院", "黔中计量院")
        assert await app.in_db_thread(store_synced, 1, first, datetime.now(UTC))
        app.institute_arrived()  # as the sync loop calls it when a pass stored one
        await settle(pilot)
        shown = screen_text(app)
        assert "黔中计量院" in shown and "示范市计量检定测试院" not in shown
    again = make_app()  # a restart shows the synced one from the first frame's data on
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "黔中计量院" in screen_text(again)
