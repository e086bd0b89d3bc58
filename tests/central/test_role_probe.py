"""Every route central serves, probed by each kind of caller (issue 20): a route added later is
in no list someone must remember to extend, it is found by walking the app, and the test fails
until POLICY says who may reach it.

Each route is called as nobody, with a made-up, expired or signed-out session, with the session
of a disabled or deleted user, as each office role (a script's bearer token and a browser's
cookie), with the office token, and as a kiosk, a clerk desk, a revoked device and a device whose
token expired; its path filled with real values (a ticket, a follow-up, an appeal pushed here), so
that no 404 stands in for a missing check. The answer must be exactly what the policy says (the
route's success, or 401/303 to sign in, or 403 with a page saying why in Chinese and English),
no answer to a caller who may not see personal data carries any (the phone, the organisation, the
contact pushed here), and a refused call changes nothing. Then the form posts without or with
another session's CSRF token or from another site, and the devices' and the office's credentials
each on the other's routes.

One data set for the module, on PostgreSQL (a schema of its own)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

import pytest
from fastapi.testclient import TestClient

from central import devices as central_devices
from central import prepared
from central.accounts import add_user
from central.app import create_app
from central.auth import hash_secret, rotate_office_token
from central.catalog import import_catalog
from central.devices import add_device
from central.office_sessions import csrf_token, end_session, find_session, open_session
from central.public import progress
from central.public.guard import Buckets
from central.schema import open_storage
from central.storage import Storage
from kiosk.domain import events
from kiosk.domain.clock import today, utc_now
from kiosk.store.catalog import demo_csv

from .conftest import pg_schema
from .nodes import T0, Node, enrol, event, push, signed_enrolment
from .office_users import PASSWORD, SAME_SITE, form_csrf, office_user
from .test_due_office import line, noon
from .test_window_ratings_office import window_rating

PHONE, ORG, CONTACT, COMMENT = "13812345678", "示范燃气有限公司", "李工", "王建国说收费不清"
# What no caller but a clerk, a director or a clerk desk may ever get back: the phone, whole or
# masked ("138****5678"), the organisation, the contact, a customer's comment.
SECRETS = (PHONE, PHONE[:3] + "*", "*" + PHONE[-4:], ORG, CONTACT, COMMENT)
EVIL = "https://evil.example"
SIGNER = "signer"  # an auditor the sign-in routes sign in

# ---- the policy: who may reach each route ----------------------------------------------------
# Who an identity is, for the policy: an office role ("director", "clerk", "auditor"), the office
# token ("office-token"), a device's role ("kiosk", "desk"). ANYONE: no credentials needed.
ANYONE = frozenset({"*"})
DEVICES = frozenset({"kiosk", "desk"})  # each pushed event's kind then by its role (central/trust.py)
FIGURES = frozenset({"director", "clerk", "auditor", "office-token"})  # counts: no personal data
PERSONAL = frozenset({"director", "clerk"})  # customers' names, phones, organisations
CLOSE = PERSONAL  # closing a follow-up
DIRECTOR = frozenset({"director"})  # the audit log, deciding appeals
SESSION = frozenset({"director", "clerk", "auditor"})  # a person's session (signing out)

POLICY: dict[str, frozenset[str]] = {
    # FastAPI's description, the health check, the device's enrolment
    "GET /openapi.json": ANYONE,
    "GET /api/v1/health": ANYONE,
    "POST /api/v1/enroll": ANYONE,  # a one-time code and the key's proof are the credential
    # the devices
    "POST /api/v1/token": DEVICES,
    "POST /api/v1/events": DEVICES,
    "GET /api/v1/changes": DEVICES,
    # the back office: figures
    "GET /api/v1/office/summary": FIGURES,
    "GET /api/v1/office/alerts": FIGURES,
    "GET /office": FIGURES,
    "GET /office/office.css": ANYONE,
    "GET /api/v1/office/satisfaction": FIGURES,
    "GET /office/satisfaction": FIGURES,
    "GET /office/satisfaction.csv": FIGURES,
    "GET /api/v1/office/ratings": FIGURES,
    "GET /office/ratings": FIGURES,
    "GET /office/ratings/export.csv": FIGURES,
    "GET /office/ratings/export.json": FIGURES,
    "GET /api/v1/office/figures": FIGURES,
    "GET /office/figures": FIGURES,
    "GET /office/figures.csv": FIGURES,
    "GET /api/v1/office/certificate-checks": FIGURES,
    "GET /office/certificate-checks": FIGURES,
    "GET /office/certificate-checks.csv": FIGURES,
    # the back office: customers
    "GET /api/v1/office/tickets": PERSONAL,
    "GET /office/tickets": PERSONAL,
    "GET /api/v1/office/tickets/{number}": PERSONAL,
    "GET /office/tickets/{number}": PERSONAL,
    "GET /api/v1/office/followups": PERSONAL,
    "GET /office/followups": PERSONAL,
    "POST /api/v1/office/followups/{uid}/close": CLOSE,
    "POST /office/followups/{uid}/close": CLOSE,
    "GET /api/v1/office/due": PERSONAL,
    "GET /office/due": PERSONAL,
    "GET /office/due.csv": PERSONAL,
    "GET /api/v1/office/worklist": PERSONAL,
    "GET /office/worklist": PERSONAL,
    "GET /office/worklist.csv": PERSONAL,
    "GET /api/v1/office/notices": PERSONAL,
    "GET /office/notices": PERSONAL,
    # the back office: the director's
    "POST /api/v1/office/appeals/{uid}/decide": DIRECTOR,
    "POST /office/ratings/appeals/{uid}/decide": DIRECTOR,
    "GET /office/audit": DIRECTOR,
    "GET /office/audit.csv": DIRECTOR,
    # signing in and out
    "GET /office/login": ANYONE,
    "POST /office/login": ANYONE,
    "POST /office/logout": SESSION,
    "POST /api/v1/office/session": ANYONE,
    "DELETE /api/v1/office/session": FIGURES,  # the office token's is a 204 that ends nothing
    # the public site: no credentials at all, and never a customer's data
    "GET /public": ANYONE,
    "GET /public/": ANYONE,
    "GET /public/public.css": ANYONE,
    "GET /public/fees": ANYONE,
    "GET /public/estimate": ANYONE,
    "GET /public/progress": ANYONE,
    "POST /public/progress": ANYONE,  # a ticket's number and its phone's last 4 digits
    "GET /public/prepare": ANYONE,
    "POST /public/prepare": ANYONE,
    "GET /public/prepare/kept/{token}": ANYONE,  # the kept link's token is the credential
    "POST /public/prepare/kept/{token}/erase": ANYONE,
    "GET /public/prepare/template.csv": ANYONE,
    "GET /public/prepare/template.xlsx": ANYONE,
    "GET /public/prepare/prepare.css": ANYONE,
    "GET /public/{rest:path}": ANYONE,
    "POST /public/{rest:path}": ANYONE,
}

# The other ways central is served (central/app.py create_app `serves`): the routes whose endpoint
# is not the one the whole app has at that key. Pointers to another port, and the public port's own.
OFFICE_PORT, PUBLIC_PORT = 8001, 8002
MODES: dict[str, dict] = {"devices": {"serves": "devices", "office_port": OFFICE_PORT, "public_port": PUBLIC_PORT},
                          "office": {"serves": "office"}, "public": {"serves": "public"},
                          "public elsewhere": {"public_port": PUBLIC_PORT}}
ELSEWHERE: dict[str, dict[str, frozenset[str]]] = {
    "devices": {f"{method} {path}": ANYONE for method in ("GET", "POST")
                for path in ("/office", "/office/{rest:path}", "/api/v1/office", "/api/v1/office/{rest:path}",
                             "/public", "/public/{rest:path}")},
    "office": {},
    "public": {"GET /": ANYONE, **{f"{method} /{{rest:path}}": ANYONE
                                   for method in ("GET", "POST", "PUT", "DELETE", "PATCH")}},
    "public elsewhere": {f"{method} {path}": ANYONE for method in ("GET", "POST")
                         for path in ("/public", "/public/{rest:path}")},
}


def served(app) -> dict[str, str | None]:
    """Every route the app answers, as "METHOD path" -> its endpoint's name: included routers walked,
    routes left out of the OpenAPI description too. A route with no methods (a mount, a
    websocket) is "* path", so that it too must be named. HEAD beside GET is the GET."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.16x: included routers are kept as such
        routes = list(iter_route_contexts(app.routes))
    except ImportError:
        routes = list(app.routes)
    found: dict[str, str | None] = {}
    for route in routes:
        methods = set(getattr(route, "methods", None) or {"*"})
        if "GET" in methods:
            methods.discard("HEAD")
        for method in methods:
            endpoint = getattr(route, "endpoint", None)
            found[f"{method} {route.path}"] = f"{endpoint.__module__}.{endpoint.__qualname__}" if endpoint else None
    return found


# ---- who asks ----------------------------------------------------------------------------------


@dataclass
class Credentials:
    headers: dict
    csrf: str | None = None  # what the session's forms hold


@dataclass
class Who:
    """A caller. `role`: as POLICY names it (None: nobody central knows). `office`: central should
    take it as a signed-in office user (or the office token); `device`: as an enrolled device.
    `make()`: its credentials; made once (`keep`), else anew for each call (an expired session is
    deleted by the call it fails). After a call that may end a session (ENDS_SESSIONS), new ones."""

    name: str
    role: str | None
    make: Callable[[], Credentials]
    office: bool = False
    device: bool = False
    cookie: bool = False
    refused_device: str = "bad_token"  # the word of a device route's 401 to it
    keep: bool = True
    kept: Credentials | None = None

    def credentials(self, fresh: bool = False) -> Credentials:
        if fresh or not self.keep or self.kept is None:
            self.kept = self.make()
        return self.kept

    def may(self, rule: frozenset[str]) -> bool:
        if rule is ANYONE:
            return True
        if rule <= DEVICES:
            return self.device and self.role in rule
        return self.office and self.role in rule

    @property
    def sees_personal_data(self) -> bool:
        return (self.office and self.role in PERSONAL) or (self.device and self.role == "desk")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def cookie(token: str) -> dict:
    return {"Cookie": f"office_session={token}"}


def session_of(storage, user, *, as_cookie: bool = False, idle: timedelta | None = None) -> Credentials:
    """A new session of `user`; `idle`: as if its last request were that long ago."""
    token = open_session(storage, user).token
    if idle is not None:
        with storage.transaction() as tx:
            tx.execute("UPDATE office_session SET seen_at = ? WHERE token_hash = ?",
                       (storage.timestamp(utc_now() - idle), hash_secret(token)))
    return Credentials(cookie(token) if as_cookie else bearer(token), csrf_token(token))


# ---- what is pushed, once for the module -------------------------------------------------------


@dataclass
class Data:
    number: str  # a ticket in the lab (organisation, contact and phone on it)
    in_lab: dict  # its registration
    followup: str  # an open follow-up no refused call may close
    appeal: str  # an appeal no refused call may decide
    kept: str  # a prepared registration kept at central (its link's token)
    followups: list[str] = field(default_factory=list)  # one each for the calls allowed to close
    appeals: list[str] = field(default_factory=list)
    kept_to_erase: list[str] = field(default_factory=list)


@dataclass
class Site:
    client: TestClient
    storage: Storage
    data: Data
    kiosk: Node
    desk: Node
    identities: list[Who]
    users: dict
    prefixes: list[int] = field(default_factory=lambda: [0])

    def who(self, name: str) -> Who:
        return next(who for who in self.identities if who.name == name)

    def enrolment(self) -> dict:
        """A new device's enrolment with a code of its own."""
        self.prefixes[0] += 1
        return signed_enrolment(add_device(self.storage, "kiosk"), str(uuid.uuid4()), f"RP{self.prefixes[0]}")

    def batch(self, who: Who) -> dict:
        """What `who` may push, if it is a device of that role: a lobby rating from a kiosk, a step on
        a ticket of its site from a desk (a repeat: the ticket stays where it is)."""
        if who.role == "desk":
            ticket = self.data.in_lab["payload"]["ticket"]
            return {"events": [self.desk.step("received", ticket["uid"], ticket["number"],
                                              at=noon(today() - timedelta(days=10)))]}
        return {"events": [self.kiosk.feedback(5)]}


def quiet(app):
    """One very busy visitor: the public site's per-address limits have their own tests
    (tests/central/test_public_site.py), and would answer 429 to the probe's hundreds of calls."""
    app.state.public_lookups = Buckets(rate=60_000, burst=100_000)
    for middleware in app.user_middleware:
        if middleware.cls.__name__ == "PublicGuard":
            middleware.kwargs["buckets"] = Buckets(rate=60_000, burst=100_000)
    return app


def appealed(desk: Node, rating: dict) -> tuple[str, dict]:
    uid = str(uuid.uuid4())
    at = T0 + timedelta(hours=3)
    return uid, event("rating.appealed", at, json.loads(events.to_json(events.RatingAppealed(
        appeal=uid, feedback=rating["payload"]["feedback"], device=desk.uid, at=at, reason="顾客误触",
        clerk=events.Clerk(username="wang", name="王芳")))))


def keep_a_prepared_registration(client) -> str:
    """Through the public form, as a customer who ticks "keep it for me": the link's token."""
    customer = {"organisation": "贵州黔源燃气设备制造有限公司", "contact": "王建华", "phone": "13985012345"}
    empty = {"ledger": ("", b"", "application/octet-stream")}
    page = client.post("/public/prepare", data={**customer, "do": "add", "pick": "L-001-004", "a_qty": "2",
                                                 "a_use": "safety"}, files=empty).text
    carried = dict(re.findall(r"<input type='hidden' name='(l\d+_\w+)' value='([^']*)'>", page))
    assert carried, page[-2000:]
    got = client.post("/public/prepare", data={**customer, **carried, "do": "finish", "keep": "1"}, files=empty)
    link = re.search(r"href='/public/prepare/kept/([A-Za-z0-9_-]+)'", got.text)
    assert link, got.text[-2000:]
    return link.group(1)


def push_the_data(client, storage) -> tuple[Data, Node, Node]:
    import_catalog(storage, demo_csv(), "demo.csv")
    kiosk = enrol(client, storage, name="大厅1号机")
    desk = enrol(client, storage, "clerk", name="1号窗口")
    handed, in_lab = (kiosk.registered(organisation=ORG, phone=PHONE) for _ in range(2))
    assert push(client, kiosk, handed, in_lab).status_code == 200
    picked_up = today() - timedelta(days=170)  # a 6-month cycle: due within days (the due list)
    t, lab = handed["payload"]["ticket"], in_lab["payload"]["ticket"]
    steps = [desk.step("received", t["uid"], t["number"], at=noon(picked_up - timedelta(days=10)),
                       lines=[line("L-001-001", "S1")]),
             desk.step("ready", t["uid"], t["number"], at=noon(picked_up - timedelta(days=1))),
             desk.step("picked_up", t["uid"], t["number"], at=noon(picked_up)),
             desk.step("received", lab["uid"], lab["number"], at=noon(today() - timedelta(days=10)),
                       lines=[line("L-001-001", "S2")])]
    assert push(client, desk, *steps).status_code == 200
    # Poor ratings with a call-back phone: follow-ups (the first stays open; the rest, one for each
    # call that may close one), and a desk's pad ratings appealed (the same).
    poor = [kiosk.feedback(1, phone=PHONE, comment=COMMENT, ticket=lab["uid"], number=lab["number"], reason="other",
                           reason_text=f"{CONTACT}说等太久") for _ in range(13)]
    praise = kiosk.feedback(5, comment=f"感谢{CONTACT}", hearts=("warm",))
    assert push(client, kiosk, *poor, praise).status_code == 200
    rated = [window_rating(desk, in_lab, "intake", 1, at=T0 + timedelta(hours=1, minutes=i), reason="slow")
             for i in range(9)]
    appeals = [appealed(desk, rating) for rating in rated]
    # The work order (the first of the stage's ratings) called back and closed, its notes naming the
    # customer: notes a clerk or a director reads, an auditor never (central/api/ratings.py _shown).
    first = rated[0]["payload"]
    call = event("followup.called", T0 + timedelta(hours=4), json.loads(events.to_json(events.FollowupCalled(
        call=str(uuid.uuid4()), followup=first["followup"]["uid"], feedback=first["feedback"], device=desk.uid,
        at=T0 + timedelta(hours=4), reached=True, note=f"{CONTACT}已接通", clerk=events.Clerk("wang", "王芳")))))
    closed = desk.closed(rated[0], at=T0 + timedelta(hours=5), note=f"{CONTACT}表示满意")
    # A certificate returned at dispatch, the reason naming the holder: the checks' figures count it.
    checked = event("certificate.checked", T0 + timedelta(hours=6), json.loads(events.to_json(events.CertificateChecked(
        check=str(uuid.uuid4()), ticket=lab["uid"], number=lab["number"], device=desk.uid, at=T0 + timedelta(hours=6),
        line=0, instrument=0, outcome="returned", code="L-001-001", wrong=["holder"], reason=f"持证单位应为{ORG}"))))
    assert push(client, desk, *rated, *(e for _, e in appeals), call, closed, checked).status_code == 200
    kept = keep_a_prepared_registration(client)
    to_erase = [prepared.keep(storage, ["YYAAAA"], utc_now()) for _ in range(25)]  # erased, whatever they hold
    followups = [e["payload"]["followup"]["uid"] for e in poor]
    return Data(lab["number"], in_lab, followups[0], appeals[0][0], kept, followups[1:],
                [uid for uid, _ in appeals[1:]], to_erase), kiosk, desk


def cheap_hash(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**10, r=8, p=1, dklen=32)
    return "$".join(("scrypt", str(2**10), "8", "1", base64.b64encode(salt).decode(), base64.b64encode(key).decode()))


def identities(client, storage, kiosk: Node, desk: Node) -> tuple[list[Who], dict]:
    users = {role: office_user(storage, role) for role in ("director", "clerk", "auditor")}
    former = add_user(storage, "former", "director", PASSWORD, "前主任")
    gone = add_user(storage, "gone", "director", PASSWORD, "已删除")
    gone_token = open_session(storage, gone).token
    with storage.transaction() as tx:
        # Disabled as if by another path than `disable-user` (which also ends the sessions): the
        # session row stays, so only the check of the user's state can refuse it.
        tx.execute("UPDATE office_user SET disabled_at = ? WHERE id = ?", (storage.timestamp(utc_now()), former.id))
        tx.execute("DELETE FROM office_session WHERE user_id = ?", (gone.id,))
        tx.execute("DELETE FROM office_user WHERE id = ?", (gone.id,))
    # Who the sign-in routes sign in, every caller: a real stored hash of smaller parameters (they
    # travel with the hash, central/accounts.py), so that 36 sign-ins take milliseconds, not seconds.
    signer = add_user(storage, SIGNER, "auditor", PASSWORD, "签到员")
    with storage.transaction() as tx:
        tx.execute("UPDATE office_user SET password_hash = ? WHERE id = ?", (cheap_hash(PASSWORD), signer.id))
    office_token = rotate_office_token(storage)
    revoked = enrol(client, storage, name="退役机")
    assert central_devices.revoke(storage, revoked.uid)
    expired = enrol(client, storage, "clerk", name="旧窗口")
    with storage.transaction() as tx:
        tx.execute("UPDATE device SET token_expires_at = ? WHERE uid = ?",
                   (storage.timestamp(utc_now() - timedelta(minutes=1)), expired.uid))

    def signed_out() -> Credentials:
        token = open_session(storage, users["director"]).token
        end_session(storage, token)
        return Credentials(bearer(token), csrf_token(token))

    who = [
        Who("nobody", None, lambda: Credentials({})),
        Who("a made-up bearer token", None, lambda: Credentials(bearer(secrets.token_urlsafe(32)))),
        Who("a made-up session cookie", None, lambda: Credentials(cookie(secrets.token_urlsafe(32))), cookie=True),
        Who("a director's session idle 31 minutes", "director",
            lambda: session_of(storage, users["director"], idle=timedelta(minutes=31)), keep=False),
        Who("a director's session signed out", "director", signed_out),
        Who("a disabled director's session (cookie)", "director",
            lambda: session_of(storage, former, as_cookie=True), cookie=True),
        Who("a deleted director's session", "director",
            lambda: Credentials(bearer(gone_token), csrf_token(gone_token))),
        *(Who(f"{role} (script)", role, partial(session_of, storage, users[role]), office=True) for role in users),
        *(Who(f"{role} (browser)", role, partial(session_of, storage, users[role], as_cookie=True), office=True,
              cookie=True) for role in users),
        Who("the office token", "office-token", lambda: Credentials(bearer(office_token)), office=True),
        Who("a kiosk", "kiosk", lambda: Credentials(kiosk.headers), device=True, keep=False),  # renewed on the way
        Who("a clerk desk", "desk", lambda: Credentials(desk.headers), device=True, keep=False),
        Who("a revoked kiosk", "kiosk", lambda: Credentials(revoked.headers)),
        Who("a desk whose token expired", "desk", lambda: Credentials(expired.headers), refused_device="token_expired"),
    ]
    return who, users


@pytest.fixture(scope="module")
def site():
    patch = pytest.MonkeyPatch()
    patch.setattr(progress, "FLOOR", 0.0)  # every look-up's time floor: its own test (test_public_site.py)
    with pg_schema() as url:
        storage = open_storage(url)
        try:
            with TestClient(quiet(create_app(storage))) as client:
                data, kiosk, desk = push_the_data(client, storage)
                who, users = identities(client, storage, kiosk, desk)
                client.cookies.clear()
                yield Site(client, storage, data, kiosk, desk, who, users)
        finally:
            patch.undo()
            storage.close()


# ---- how each route is called --------------------------------------------------------------------


@dataclass
class Probe:
    """How to call a route: `ok` its answer to a caller it lets in; `params` the query; `fill` its
    path parameters from Data; `takes` the pool of Data an allowed call uses up (a follow-up it
    closes), a refused one getting the one that must stay as it is; `body` the request's keywords."""

    ok: int = 200
    params: dict | None = None
    fill: dict = field(default_factory=dict)
    takes: str | None = None
    body: Callable[[Site, Who, Credentials], dict] | None = None
    says: tuple[str, str] = ("无权访问", "Not allowed")  # a 403 page's why, in zh and en


def form(fields: dict) -> Callable[[Site, Who, Credentials], dict]:
    """A form posted from central's own page, with the session's CSRF token (a made-up one
    without a session): what is probed is who may post, not where from (test below)."""
    return lambda site, who, creds: {"data": {**fields, "csrf": creds.csrf or "x" * 64},
                                     "headers": SAME_SITE}


def api_json(body: dict) -> Callable[[Site, Who, Credentials], dict]:
    """JSON as a page's own script posts it: a cookie session's CSRF token in its header."""
    return lambda site, who, creds: {"json": body, "headers": {"X-CSRF-Token": creds.csrf} if creds.csrf else {}}


def office_sign_in(site: Site, who: Who, creds: Credentials) -> dict:
    """The sign-in page's form, its token and cookie, as a browser posts it."""
    page = site.client.get("/office/login")
    token = site.client.cookies["office_sign_in"]
    site.client.cookies.clear()
    jar = "; ".join(filter(None, (creds.headers.get("Cookie"), f"office_sign_in={token}")))
    return {"data": {"name": SIGNER, "password": PASSWORD, "csrf": form_csrf(page.text), "next": "/office"},
            "headers": {**SAME_SITE, "Cookie": jar}}


ALL_TIME = {"from": "2000-01-01"}
NOTE = {"note": "已回电"}
DECISION = {"decision": "rejected", "reason": "监控显示正常"}
PROBES: dict[str, Probe] = {
    "POST /api/v1/enroll": Probe(body=lambda site, who, creds: {"json": site.enrolment()}),
    "POST /api/v1/events": Probe(body=lambda site, who, creds: {"json": site.batch(who)}),
    "GET /api/v1/changes": Probe(params={"limit": "1000"}),
    "GET /api/v1/office/tickets": Probe(params={"q": "{number}"}),
    "GET /office/tickets": Probe(params={"q": "{number}"}),
    "GET /api/v1/office/tickets/{number}": Probe(fill={"number": "number"}),
    "GET /office/tickets/{number}": Probe(fill={"number": "number"}),
    "POST /api/v1/office/followups/{uid}/close": Probe(fill={"uid": "followup"}, takes="followups",
                                                       body=api_json(NOTE)),
    "POST /office/followups/{uid}/close": Probe(303, fill={"uid": "followup"}, takes="followups", body=form(NOTE)),
    "GET /api/v1/office/satisfaction": Probe(params=ALL_TIME),
    "GET /office/satisfaction": Probe(params=ALL_TIME),
    "GET /office/satisfaction.csv": Probe(params=ALL_TIME),
    "GET /api/v1/office/ratings": Probe(params=ALL_TIME),
    "GET /office/ratings": Probe(params=ALL_TIME),
    "GET /office/ratings/export.csv": Probe(params=ALL_TIME),
    "GET /office/ratings/export.json": Probe(params=ALL_TIME),
    "POST /api/v1/office/appeals/{uid}/decide": Probe(fill={"uid": "appeal"}, takes="appeals", body=api_json(DECISION)),
    "POST /office/ratings/appeals/{uid}/decide": Probe(303, fill={"uid": "appeal"}, takes="appeals",
                                                       body=form(DECISION)),
    "GET /api/v1/office/due": Probe(params={"within": "3660d"}),
    "GET /office/due": Probe(params={"within": "3660d"}),
    "GET /office/due.csv": Probe(params={"within": "3660d"}),
    "POST /office/login": Probe(303, body=office_sign_in),
    "POST /office/logout": Probe(303, body=form({}), says=("登录页已过期", "had expired")),
    "POST /api/v1/office/session": Probe(body=lambda site, who, creds: {
        "json": {"name": SIGNER, "password": PASSWORD}}),
    "DELETE /api/v1/office/session": Probe(204),
    "POST /public/progress": Probe(body=lambda site, who, creds: {
        "data": {"number": site.data.number, "tail": PHONE[-4:]}}),
    "POST /public/prepare": Probe(body=lambda site, who, creds: {
        "data": {"do": "search", "q": "ylb"}, "files": {"ledger": ("", b"", "application/octet-stream")}}),
    "GET /public/prepare/kept/{token}": Probe(fill={"token": "kept"}),
    "POST /public/prepare/kept/{token}/erase": Probe(fill={"token": "kept"}, takes="kept_to_erase"),
    "GET /public/{rest:path}": Probe(404),
    "POST /public/{rest:path}": Probe(404),
}
ELSEWHERE_PROBES: dict[str, dict[str, Probe]] = {  # the other modes' routes: a pointer, or the public port's own
    "devices": {**{f"{m} {p}": Probe(307) for m in ("GET", "POST")
                   for p in ("/office", "/office/{rest:path}", "/public", "/public/{rest:path}")},
                **{f"{m} {p}": Probe(404) for m in ("GET", "POST")
                   for p in ("/api/v1/office", "/api/v1/office/{rest:path}")}},
    "office": {},
    "public": {"GET /": Probe(303), **{f"{m} /{{rest:path}}": Probe(404)
                                       for m in ("GET", "POST", "PUT", "DELETE", "PATCH")}},
    "public elsewhere": {f"{m} {p}": Probe(307) for m in ("GET", "POST") for p in ("/public", "/public/{rest:path}")},
}
ENDS_SESSIONS = ("POST /office/logout", "DELETE /api/v1/office/session")
FILL = {"rest": "worklist"}  # a {rest:path}: a page of the office, on the public site none


def call(site: Site, client, key: str, rule: frozenset[str], probe: Probe, who: Who, taken: list):
    """`key` called as `who`, its answer; a value an allowed call took from a pool is added to `taken`."""
    method, path = key.split(" ", 1)
    creds = who.credentials()
    for name, attr in probe.fill.items():
        given = getattr(site.data, attr)
        if probe.takes and who.may(rule):
            given = getattr(site.data, probe.takes).pop()
            taken.append((probe.takes, given))
        path = path.replace(f"{{{name}}}", given)
    for name, given in FILL.items():
        path = path.replace(f"{{{name}:path}}", given).replace(f"{{{name}}}", given)
    kwargs = probe.body(site, who, creds) if probe.body else {}
    headers = {**creds.headers, **kwargs.pop("headers", {})}
    params = {k: v.format(number=site.data.number) for k, v in (probe.params or {}).items()}
    try:
        got = client.request(method, path, params=params, headers=headers, follow_redirects=False, **kwargs)
    finally:
        client.cookies.clear()  # each call carries its own credentials only
        if key in ENDS_SESSIONS:
            who.kept = None
    return got


def judge(key: str, rule: frozenset[str], probe: Probe, who: Who, got) -> list[str]:
    """What is wrong with the answer `got` to `who` on `key` (nothing: [])."""
    path = key.split(" ", 1)[1]
    api = path.startswith("/api/")
    wrong = []
    if who.may(rule):
        expected = probe.ok
        if key == "GET /office/login" and who.cookie and who.office:
            expected = 303  # signed in already: on to the office
        if got.status_code != expected:
            wrong.append(f"{got.status_code}, not {expected} (allowed): {got.text[:200]!r}")
    elif rule <= DEVICES:
        if got.status_code != 401 or got.json().get("error") != who.refused_device:
            wrong.append(f"{got.status_code} {got.text[:200]!r}, not 401 {who.refused_device}")
        elif not got.headers.get("www-authenticate", "").startswith("Bearer"):
            wrong.append("a 401 without its WWW-Authenticate")
    elif not who.office:  # not signed in: a script is told 401, a person sent to sign in
        if api and (got.status_code != 401 or got.json().get("error") != "bad_token"):
            wrong.append(f"{got.status_code} {got.text[:200]!r}, not 401 bad_token")
        if not api and (got.status_code != 303 or not got.headers["location"].startswith("/office/login?next=")):
            wrong.append(f"{got.status_code} to {got.headers.get('location')!r}, not 303 to the sign-in page")
    elif api:
        if got.status_code != 403 or got.json().get("error") != "forbidden":
            wrong.append(f"{got.status_code} {got.text[:200]!r}, not 403 forbidden")
    elif got.status_code != 403 or not got.headers["content-type"].startswith("text/html"):
        wrong.append(f"{got.status_code} {got.text[:200]!r}, not a 403 page")
    elif not all(words in got.text for words in probe.says):
        wrong.append(f"a 403 page that does not say why in zh and en ({probe.says}): {got.text[:300]!r}")
    if not who.sees_personal_data:
        shown = [s for s in SECRETS if s in got.text]
        if who.role == "kiosk" and key == "GET /api/v1/changes":  # organisation.known: names go to every device
            shown = [s for s in shown if s != ORG]
        if shown:
            wrong.append(f"personal data {shown} in the answer to a caller who may not see it")
    return wrong


# ---- the tests -----------------------------------------------------------------------------------


def test_every_route_of_every_way_central_is_served_is_in_the_policy(site):
    whole = served(site.client.app)
    assert len(whole) >= 60
    missing = sorted(set(whole) - set(POLICY))
    assert not missing, f"routes no one decided who may reach: add them to POLICY: {missing}"
    assert not sorted(set(POLICY) - set(whole)), "POLICY names routes central no longer serves"
    for mode, options in MODES.items():
        routes = served(create_app(site.storage, **options))
        own = {key for key, endpoint in routes.items() if whole.get(key) != endpoint}
        assert own == set(ELSEWHERE[mode]), (mode, sorted(own ^ set(ELSEWHERE[mode])))


def test_each_route_answers_each_caller_as_the_policy_says_and_refused_ones_change_nothing(site):
    wrong: list[str] = []
    taken: list[tuple[str, str]] = []
    shown_to_staff: set[str] = set()
    calls = 0

    def probe_all(client, routes: dict[str, frozenset[str]], probes: dict[str, Probe]) -> None:
        nonlocal calls
        for key, rule in routes.items():
            probe = probes.get(key, Probe())
            for who in site.identities:
                got = call(site, client, key, rule, probe, who, taken)
                calls += 1
                if who.may(rule) and key == "POST /api/v1/token" and got.status_code == 200:
                    (site.kiosk if who.role == "kiosk" else site.desk).token = got.json()["token"]
                wrong.extend(f"{key} as {who.name}: {why}" for why in judge(key, rule, probe, who, got))
                if who.sees_personal_data:
                    shown_to_staff.update(secret for secret in SECRETS if secret in got.text)

    with site.storage.read() as tx:
        events_before = tx.one("SELECT COUNT(*) FROM event")[0]
        closed_before = {uid for (uid,) in tx.all("SELECT uid FROM followup WHERE closed_event IS NOT NULL")}
    probe_all(site.client, POLICY, PROBES)
    for mode, options in MODES.items():
        if ELSEWHERE[mode]:
            with TestClient(quiet(create_app(site.storage, **options))) as client:
                probe_all(client, ELSEWHERE[mode], ELSEWHERE_PROBES[mode])
    routes = len(POLICY) + sum(map(len, ELSEWHERE.values()))
    print(f"\n{routes} routes x {len(site.identities)} callers: {calls} calls")
    assert not wrong, f"{len(wrong)} of {calls} answers not as the policy says:\n" + "\n".join(wrong)
    assert {PHONE, ORG, CONTACT, COMMENT} <= shown_to_staff  # the data is there: its absence above means something
    director, auditor = (site.who(name).credentials().headers for name in ("director (script)", "auditor (script)"))
    assert f"{CONTACT}已接通" in site.client.get("/api/v1/office/ratings", params=ALL_TIME, headers=director).text
    assert f"{CONTACT}已接通" not in site.client.get("/api/v1/office/ratings", params=ALL_TIME, headers=auditor).text
    # The provincial export: the reason a rater typed for a clerk or a director, its label only for an auditor.
    # The typed reasons' export is in the audit log (who, the ratings it gave); the labels' is not.
    for path in ("/office/ratings/export.csv", "/office/ratings/export.json"):
        logged = exports_logged(site.storage, path)
        assert f"其他原因：{CONTACT}说等太久" in site.client.get(path, params=ALL_TIME, headers=director).text
        assert "其他原因" in site.client.get(path, params=ALL_TIME, headers=auditor).text
        assert exports_logged(site.storage, path)[len(logged):] == [("director", "director")]
        assert all(rows >= 1 for (rows,) in exports_logged(site.storage, path, counts=True))

    # Only the calls let in changed anything: the follow-up and the appeal every refused call
    # named are as they were, the pushes let in are the events added (a desk's and a kiosk's each).
    with site.storage.read() as tx:
        assert tx.one("SELECT closed_event FROM followup WHERE uid = ?", (site.data.followup,))[0] is None
        closed = {uid for (uid,) in tx.all("SELECT uid FROM followup WHERE closed_event IS NOT NULL")}
        assert tx.one("SELECT decided_event FROM appeal WHERE appeal = ?", (site.data.appeal,))[0] is None
        decided = {uid for (uid,) in tx.all("SELECT appeal FROM appeal WHERE decided_event IS NOT NULL")}
        added = tx.one("SELECT COUNT(*) FROM event")[0] - events_before
    closed -= closed_before
    assert closed == {uid for pool, uid in taken if pool == "followups"} and len(closed) == 8  # 2 forms x 4 callers
    assert decided == {uid for pool, uid in taken if pool == "appeals"} and len(decided) == 4
    assert added == 2 + len(closed) + len(decided)  # a kiosk's push and a desk's, the office's closes and decisions


def exports_logged(storage, route: str, counts: bool = False) -> list:
    """The audit log's exports of `route`: (who, role) each, or the rows each gave."""
    with storage.read() as tx:
        return tx.all(f"SELECT {'row_count' if counts else 'who, role'} FROM office_audit "
                      "WHERE action = 'export' AND route = ? ORDER BY id", (route,))


def state(storage) -> tuple[int, int, int, int]:
    """What a forged or misdirected call must not change: events, follow-ups closed, appeals
    decided, office sessions."""
    with storage.read() as tx:
        return (tx.one("SELECT COUNT(*) FROM event")[0],
                tx.one("SELECT COUNT(*) FROM followup WHERE closed_event IS NOT NULL")[0],
                tx.one("SELECT COUNT(*) FROM appeal WHERE decided_event IS NOT NULL")[0],
                tx.one("SELECT COUNT(*) FROM office_session")[0])


EXPIRED = ("页面已过期", "The page has expired")
ELSEWHERE_FORM = ("请从后台页面提交", "Please use the back-office page")


def test_a_form_post_without_its_sessions_token_or_from_another_site_is_refused_and_changes_nothing(site):
    client, storage = site.client, site.storage
    director = open_session(storage, site.users["director"]).token
    other = csrf_token(open_session(storage, site.users["director"]).token)  # the same user's other session
    own = csrf_token(director)
    forged = [("no token", {}, SAME_SITE), ("a made-up token", {"csrf": "0" * 64}, SAME_SITE),
              ("another session's token", {"csrf": other}, SAME_SITE),
              ("another site's page (Origin)", {"csrf": own}, {"Origin": EVIL}),
              ("another site's page (Sec-Fetch-Site)", {"csrf": own}, {**SAME_SITE, "Sec-Fetch-Site": "cross-site"}),
              ("a sandboxed page (Origin null)", {"csrf": own}, {"Origin": "null"}),
              ("saying neither Origin nor Sec-Fetch-Site", {"csrf": own}, {})]
    forms = {f"/office/followups/{site.data.followups.pop()}/close": (NOTE, EXPIRED, ELSEWHERE_FORM, 1),
             f"/office/ratings/appeals/{site.data.appeals.pop()}/decide": (DECISION, EXPIRED, ELSEWHERE_FORM, 2),
             "/office/logout": ({"go": "out"}, ("登录页已过期", "had expired"),
                                ("请从后台登录页提交", "sign-in page"), 3)}
    for path, (fields, expired, elsewhere, changes) in forms.items():
        before = state(storage)
        for what, posted, headers in forged:
            got = client.post(path, data={**fields, **posted}, headers={**headers, **cookie(director)},
                              follow_redirects=False)
            says = expired if posted.get("csrf") != own else elsewhere
            assert got.status_code == 403 and all(words in got.text for words in says), (path, what, got.text[:300])
            assert state(storage) == before, (path, what)
        assert find_session(storage, director) is not None  # still signed in
        # The same post from central's own page, with its token: done (the refusals above were the checks).
        got = client.post(path, data={**fields, "csrf": own}, headers={**SAME_SITE, **cookie(director)},
                          follow_redirects=False)
        assert got.status_code == 303, (path, got.text[:300])
        after = state(storage)
        assert after[changes] == before[changes] + (-1 if path == "/office/logout" else 1), path
        client.cookies.clear()
    assert find_session(storage, director) is None  # signed out last

    # JSON with a browser's cookie (a page's own script) needs the session's token as a header.
    browser = open_session(storage, site.users["director"]).token
    for path, body, changes in ((f"/api/v1/office/followups/{site.data.followups.pop()}/close", NOTE, 1),
                                (f"/api/v1/office/appeals/{site.data.appeals.pop()}/decide", DECISION, 2)):
        before = state(storage)
        for header in ({}, {"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": other}):
            got = client.post(path, json=body, headers={**header, **cookie(browser)})
            assert got.status_code == 403 and got.json()["error"] == "csrf", (path, header)
            assert state(storage) == before, (path, header)
        got = client.post(path, json=body, headers={"X-CSRF-Token": csrf_token(browser), **cookie(browser)})
        assert got.status_code == 200 and state(storage)[changes] == before[changes] + 1, (path, got.text)

    # Signing in: a post from another site, or without the sign-in page's token, opens no session.
    page = client.get("/office/login")
    form_token, sign_in_cookie = form_csrf(page.text), client.cookies["office_sign_in"]
    client.cookies.clear()
    typed = {"name": SIGNER, "password": PASSWORD, "next": "/office"}
    before = state(storage)
    for what, data, headers in (("another site's page", {**typed, "csrf": form_token}, {"Origin": EVIL}),
                                ("cross-site", {**typed, "csrf": form_token}, {"Sec-Fetch-Site": "cross-site"}),
                                ("no token", typed, SAME_SITE),
                                ("another page's token", {**typed, "csrf": "x" * 43}, SAME_SITE)):
        got = client.post("/office/login", data=data, follow_redirects=False,
                          headers={**headers, "Cookie": f"office_sign_in={sign_in_cookie}"})
        assert got.status_code == 403 and "office_session" not in got.cookies, what
        assert ("请从后台登录页提交" in got.text and "sign-in page" in got.text) or (
            "登录页已过期" in got.text and "had expired" in got.text), (what, got.text[:300])
        assert state(storage) == before, what
        client.cookies.clear()


def test_a_device_token_opens_no_office_route_and_an_office_session_no_device_route(site):
    client, storage, data = site.client, site.storage, site.data
    before = state(storage)
    kiosk, desk = site.kiosk, site.desk
    for node in (kiosk, desk):  # the desk's feed has the phones; the office's routes are not its
        for path in ("/api/v1/office/followups", "/api/v1/office/summary", f"/api/v1/office/tickets/{data.number}"):
            got = client.get(path, headers=node.headers)
            assert got.status_code == 401 and got.json()["error"] == "bad_token", (node.role, path)
        for path in ("/office/followups", "/office", f"/office/tickets/{data.number}"):
            for headers in (node.headers, cookie(node.token)):  # as a bearer token, or slipped in as the cookie
                got = client.get(path, headers=headers, follow_redirects=False)
                assert got.status_code == 303 and got.headers["location"].startswith("/office/login"), (path, headers)
        got = client.post(f"/api/v1/office/followups/{data.followup}/close", json=NOTE, headers=node.headers)
        assert got.status_code == 401
        got = client.post(f"/office/followups/{data.followup}/close", data={**NOTE, "csrf": "x" * 64},
                          headers={**SAME_SITE, **node.headers}, follow_redirects=False)
        assert got.status_code == 303 and got.headers["location"].startswith("/office/login")
    director = open_session(storage, site.users["director"]).token
    office_token = rotate_office_token(storage)
    before = state(storage)
    for headers in (bearer(director), cookie(director), bearer(office_token)):
        for device in ("a kiosk", "a clerk desk"):  # what each may push, under the office's credentials
            assert client.post("/api/v1/events", json=site.batch(site.who(device)), headers=headers).status_code == 401
        got = client.get("/api/v1/changes", headers=headers)
        assert got.status_code == 401 and PHONE not in got.text
        assert client.post("/api/v1/token", headers=headers).status_code == 401
    assert state(storage) == before
    # A device's role decides what it may push (central/trust.py): a kiosk no step, a desk no registration.
    ticket = data.in_lab["payload"]["ticket"]
    for node, wrong in ((kiosk, kiosk.step("ready", ticket["uid"], ticket["number"])),
                        (desk, desk.registered(organisation=ORG, phone=PHONE))):
        got = push(client, node, wrong)
        assert got.status_code == 422 and got.json()["rejected"][0]["error"].startswith("wrong_role"), got.text
    assert state(storage) == before
