"""The public site's forms and queries probed as an unfriendly visitor would (hypothesis): whatever
is sent, an answer that is a page of the site (never a 500, never a traceback), nothing sent comes
back as markup, and the look-up never finds a ticket without its digits."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.app import create_app
from central.catalog import import_catalog
from central.public import progress
from central.public.guard import Buckets
from central.schema import open_storage

from .nodes import enrol, push

pytestmark = pytest.mark.reliability

SEED = Path(__file__).parents[2] / "db" / "seed" / "demo_catalog.csv"
MARKUP = "<b id=x>"
# What a visitor types, and what a prober sends: text of any script, markup, full-width digits,
# control characters, the site's own words, very long values.
TEXT = st.one_of(st.text(max_size=80), st.sampled_from(["", MARKUP, "压力表", "ＹＬＢ", "L-001-001", "0" * 300,
                                                        "%00", "\u202e", "1e309", "-1", "999999999999"]))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "central.sqlite3"
    storage = open_storage(f"sqlite:///{path}")
    import_catalog(storage, SEED.read_text("utf-8"), "demo_catalog.csv")
    main = TestClient(create_app(storage))
    kiosk = enrol(main, storage)
    registered = kiosk.registered(phone="13812345678")
    assert push(main, kiosk, registered).status_code == 200
    app = create_app(storage, serves="public")
    app.state.public_lookups = Buckets(rate=60_000, burst=100_000)
    for middleware in app.user_middleware:  # the page limit too: this is one very busy visitor
        if middleware.cls.__name__ == "PublicGuard":
            middleware.kwargs["buckets"] = Buckets(rate=60_000, burst=100_000)
    old_floor, progress.FLOOR = progress.FLOOR, 0.0
    with TestClient(app) as client:
        yield client, registered["payload"]["ticket"]["number"]
    progress.FLOOR = old_floor
    storage.close()


def _a_page(got) -> None:
    assert got.status_code in (200, 303, 404, 413, 429), (got.status_code, got.text[:300])
    assert got.headers["content-security-policy"].startswith("default-src 'none'")
    if got.status_code != 303:
        assert got.headers["content-type"].startswith("text/html")
        assert MARKUP not in got.text and "Traceback" not in got.text


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["q", "page", "service", "lang", "code", "qty", "use", "add", "drop",
                                           "urgent", "x"]), TEXT), max_size=12))
def test_any_query_of_the_schedule_and_the_estimate_is_a_page(site, pairs):
    client, _ = site
    for path in ("/public/fees", "/public/estimate", "/public/", "/public/progress"):
        _a_page(client.get(path, params=pairs, follow_redirects=False))


@FUZZ
@given(number=TEXT, tail=TEXT, extra=st.dictionaries(st.text(max_size=10), TEXT, max_size=4))
def test_any_look_up_form_is_a_page_and_finds_nothing_without_the_digits(site, number, tail, extra):
    client, ticket = site
    got = client.post("/public/progress", data={**extra, "number": number, "tail": tail})
    _a_page(got)
    assert ticket not in got.text or tail.strip()[-4:] in ("5678", "５６７８")


@FUZZ
@given(body=st.binary(max_size=3000), kind=st.sampled_from(["application/x-www-form-urlencoded", "text/plain",
                                                              "multipart/form-data; boundary=x", ""]))
def test_any_body_posted_is_a_page(site, body, kind):
    client, _ = site
    _a_page(client.post("/public/progress", content=body, headers={"content-type": kind} if kind else {}))
    _a_page(client.post("/public/fees", content=body))  # no such form: the site's 404 or 405 as a page
