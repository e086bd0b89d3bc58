"""Back-office accounts: each role reaches what it may and nothing more (an auditor never sees a
customer's phone or organisation), passwords under scrypt, sessions that end (idle, absolute,
sign-out), CSRF tokens on every form, lock-out after failures, and an audit log of every view and
export of personal data. On SQLite and PostgreSQL, through the real app."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import sys
from datetime import timedelta

import pytest

import central.accounts
import central.audit
import central.office_sessions
from central.accounts import MAX_ADDRESS_FAILURES, MAX_FAILURES, password_matches
from central.followups import followups
from central.schema import open_storage
from kiosk.cli import main
from kiosk.domain.clock import today, utc_now

from .nodes import enrol, push
from .office_users import PASSWORD, SAME_SITE, csrf, form_csrf, office, office_user, sign_in
from .test_office_safety import served
from .test_schema_upgrade import make_v1

PHONE, ORGANISATION, CONTACT = "13812345678", "示范燃气有限公司", "王建国"
PERSONAL_PAGES = ("/office/followups", "/office/due?within=3660d", "/office/worklist")
PERSONAL_DATA = ("/api/v1/office/followups", "/api/v1/office/due?within=3660d", "/api/v1/office/worklist",
                 "/office/due.csv?within=3660d", "/office/worklist.csv", *PERSONAL_PAGES)
FIGURES = ("/office", "/api/v1/office/summary", "/office/satisfaction", "/api/v1/office/satisfaction",
           "/office/satisfaction.csv")
AUDIT = ("/office/audit", "/office/audit.csv")


@pytest.fixture
def clock(monkeypatch):
    """Central's clock for sessions, lock-outs and the audit log: `clock.now += timedelta(...)`."""

    class Clock:
        now = utc_now()

    for module in (central.office_sessions, central.accounts, central.audit):
        monkeypatch.setattr(module, "utc_now", lambda: Clock.now)
    return Clock


def customers(client, storage) -> str:
    """Tickets handed back and in the lab, and a poor rating with a call-back phone: the follow-up's uid."""
    served(client, storage, (ORGANISATION,), picked_up=today() - timedelta(days=170))
    served(client, storage, (ORGANISATION,))
    kiosk = enrol(client, storage)
    poor = kiosk.feedback(1, phone=PHONE, comment=f"{CONTACT}说收费不清")
    push(client, kiosk, poor, kiosk.feedback(5))
    return poor["payload"]["followup"]["uid"]


def audit_rows(storage) -> list[tuple]:
    with storage.read() as tx:
        return tx.all("SELECT who, role, action, route, query, row_count FROM office_audit ORDER BY id")


# ---- roles ----------------------------------------------------------------------------------


def test_each_role_reaches_what_it_may_and_is_refused_the_rest(client, storage):
    uid = customers(client, storage)
    may = {"director": (*FIGURES, *PERSONAL_DATA, *AUDIT), "clerk": (*FIGURES, *PERSONAL_DATA),
           "auditor": FIGURES}
    for role, allowed in may.items():
        headers = office(storage, role)
        for path in (*FIGURES, *PERSONAL_DATA, *AUDIT):
            got = client.get(path, headers=headers)
            assert got.status_code == (200 if path in allowed else 403), (role, path, got.status_code)
            if got.status_code == 403 and not path.startswith("/api/"):
                assert "不能查看" in got.text and "may not see" in got.text  # a page saying why
        nav = client.get("/office", headers=headers).text
        assert ("/office/due'" in nav) == (role != "auditor") and ("/office/audit'" in nav) == (role == "director")
    # Closing a follow-up: a clerk or a director, never an auditor (neither way).
    auditor = office(storage, "auditor")
    assert client.post(f"/api/v1/office/followups/{uid}/close", json={"note": "已回电"},
                       headers=auditor).status_code == 403
    assert client.post(f"/office/followups/{uid}/close", data={"note": "已回电", "csrf": csrf(auditor)},
                       headers=auditor).status_code == 403
    assert followups(storage)["open"][0]["uid"] == uid
    clerk = office(storage, "clerk")
    assert client.post(f"/office/followups/{uid}/close", data={"note": "已回电", "csrf": csrf(clerk)},
                       headers=clerk, follow_redirects=False).status_code == 303
    # The closer is the signed-in user, by the name they were given, not one typed in the form.
    assert {k: followups(storage)["closed"][0]["closed"][k] for k in ("name", "username", "via")} == {
        "name": "李娜", "username": "clerk", "via": "office"}


def test_an_auditor_never_sees_a_phone_digit_or_an_organisation_anywhere(client, storage):
    customers(client, storage)
    headers = office(storage, "auditor")
    routes = [path for path, ops in client.get("/openapi.json").json()["paths"].items()
              if path.startswith(("/office", "/api/v1/office")) and "get" in ops and "{" not in path]
    assert len(routes) >= 15
    shown = 0
    for path in routes:
        got = client.get(path, params={"within": "3660d"} if "due" in path else {}, headers=headers)
        assert got.status_code in (200, 403), (path, got.status_code)
        if got.status_code == 200:
            shown += 1
            # a masked phone too ("138****5678"; the last 4 digits alone also turn up in random uids)
            for secret in (PHONE, PHONE[:3] + "*", "*" + PHONE[-4:], ORGANISATION, CONTACT):
                assert secret not in got.text, (path, secret)
    assert shown >= 6  # the overview, the satisfaction figures, their JSON and CSV, the sign-in page


# ---- passwords ------------------------------------------------------------------------------


def test_passwords_are_scrypt_hashes_with_their_parameters_and_a_salt_each(storage):
    a, b = office_user(storage, "clerk"), office_user(storage, "auditor")  # the same password
    with storage.read() as tx:
        hashes = dict(tx.all("SELECT name, password_hash FROM office_user"))
    assert hashes[a.name] != hashes[b.name] and PASSWORD not in hashes[a.name]
    scheme, n, r, p, salt, key = hashes[a.name].split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**15, 8, 1) and int(n) >= 2**14
    assert len(base64.b64decode(salt)) == 16
    assert base64.b64decode(key) == hashlib.scrypt(PASSWORD.encode(), salt=base64.b64decode(salt), n=2**15, r=8, p=1,
                                                   maxmem=64 * 1024 * 1024, dklen=32)
    assert password_matches(hashes[a.name], PASSWORD) and not password_matches(hashes[a.name], PASSWORD + " ")
    # Older, cheaper parameters stored with a hash still check (the parameters travel with it).
    old_salt = b"0123456789abcdef"
    old = "$".join(("scrypt", str(2**14), "8", "1", base64.b64encode(old_salt).decode(), base64.b64encode(
        hashlib.scrypt(b"an older password", salt=old_salt, n=2**14, r=8, p=1, dklen=32)).decode()))
    assert password_matches(old, "an older password") and not password_matches("not a hash", "x")


# ---- sessions -------------------------------------------------------------------------------


def test_a_browser_signs_in_with_a_strict_http_only_cookie_that_ends_when_idle_or_old(client, storage, clock):
    office_user(storage, "clerk")
    first = client.get("/office/worklist", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/office/login?next=%2Foffice%2Fworklist"
    got = sign_in(client, "clerk", next_page="/office/worklist")
    assert got.status_code == 303 and got.headers["location"] == "/office/worklist"
    cookie = next(h for h in got.headers.get_list("set-cookie") if h.startswith("office_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags and "secure" not in flags  # plain http here
    token = client.cookies["office_session"]
    with storage.read() as tx:  # stored as its hash only
        assert tx.one("SELECT COUNT(*) FROM office_session WHERE token_hash = ?", (token,))[0] == 0
    page = client.get("/office/worklist")
    assert page.status_code == 200 and "李娜（业务员 Clerk）" in page.text and "退出 · Sign out" in page.text

    clock.now += timedelta(minutes=29)
    assert client.get("/office/worklist", follow_redirects=False).status_code == 200
    clock.now += timedelta(minutes=30)  # 30 minutes without a request
    assert client.get("/office/worklist", follow_redirects=False).status_code == 303
    with storage.read() as tx:
        assert tx.one("SELECT COUNT(*) FROM office_session")[0] == 0  # the expired one is gone

    assert sign_in(client, "clerk").status_code == 303
    for _ in range(12 * 3 - 1):  # busy all day, a request every 20 minutes: 11 h 40 min
        clock.now += timedelta(minutes=20)
        assert client.get("/office", follow_redirects=False).status_code == 200
    clock.now += timedelta(minutes=20)  # 12 hours after signing in
    assert client.get("/office", follow_redirects=False).status_code == 303


def test_the_cookie_is_secure_over_https_or_when_the_setting_says_so(storage, monkeypatch):
    from fastapi.testclient import TestClient

    from central.app import create_app

    office_user(storage, "auditor")
    with TestClient(create_app(storage), base_url="https://testserver") as client:
        got = sign_in(client, "auditor", headers={"Origin": "https://testserver"})
        cookie = next(h for h in got.headers.get_list("set-cookie") if h.startswith("office_session="))
        assert got.status_code == 303 and "; secure" in cookie.lower()
    # Behind a proxy that serves https, central itself is reached over http: the setting says so.
    monkeypatch.setenv("CENTRAL_SECURE_COOKIES", "on")
    with TestClient(create_app(storage)) as client:
        cookie = client.get("/office/login").headers["set-cookie"]
        assert cookie.startswith("office_sign_in=") and "; secure" in cookie.lower()


def test_signing_out_ends_the_session(client, storage):
    office_user(storage, "director")
    assert sign_in(client, "director").status_code == 303
    token = client.cookies["office_session"]
    page = client.get("/office").text
    assert client.post("/office/logout", data={"csrf": "wrong"}, headers=SAME_SITE).status_code == 403
    assert client.get("/office", follow_redirects=False).status_code == 200  # still signed in
    got = client.post("/office/logout", data={"csrf": form_csrf(page)}, headers=SAME_SITE, follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"] == "/office/login"
    client.cookies.set("office_session", token)  # the old cookie, kept by someone
    assert client.get("/office", follow_redirects=False).status_code == 303
    with storage.read() as tx:
        assert tx.one("SELECT COUNT(*) FROM office_session")[0] == 0
    # A script's session: signed in and out by the API.
    got = client.post("/api/v1/office/session", json={"name": "director", "password": PASSWORD})
    assert got.status_code == 200 and got.json()["role"] == "director" and got.json()["idle_minutes"] == 30
    bearer = {"Authorization": f"Bearer {got.json()['token']}"}
    assert client.get("/api/v1/office/due", headers=bearer).status_code == 200
    assert client.delete("/api/v1/office/session", headers=bearer).status_code == 204
    assert client.get("/api/v1/office/due", headers=bearer).status_code == 401
    assert [row[2] for row in audit_rows(storage) if row[2].startswith("sign")] == [
        "sign_in", "sign_out", "sign_in", "sign_out"]


# ---- CSRF -----------------------------------------------------------------------------------


def test_every_form_post_needs_the_sessions_token_and_to_come_from_central(client, storage):
    uid = customers(client, storage)
    office_user(storage, "clerk")
    assert sign_in(client, "clerk").status_code == 303
    page = client.get("/office/followups").text
    token = form_csrf(page)
    assert page.count(f"name='csrf' value='{token}'") == 2  # the follow-up's form and the sign-out form
    form = f"/office/followups/{uid}/close"
    wrong = token[:-1] + ("1" if token.endswith("0") else "0")
    for data, headers in (({"note": "好"}, SAME_SITE),  # no token
                          ({"note": "好", "csrf": wrong}, SAME_SITE),  # a wrong one
                          ({"note": "好", "csrf": csrf(office(storage, "clerk"))}, SAME_SITE),  # another session's
                          ({"note": "好", "csrf": token}, {}),  # neither Origin nor Sec-Fetch-Site
                          ({"note": "好", "csrf": token}, {"Origin": "https://evil.example"}),
                          ({"note": "好", "csrf": token}, {"Sec-Fetch-Site": "same-site"})):
        got = client.post(form, data=data, headers=headers, follow_redirects=False)
        assert got.status_code == 403, (data, headers)
    # JSON with the browser's cookie (a page's own script) needs the token as a header.
    api = f"/api/v1/office/followups/{uid}/close"
    assert client.post(api, json={"note": "好"}).json()["error"] == "csrf"
    assert followups(storage)["open"][0]["uid"] == uid  # nothing was closed
    assert client.post(form, data={"note": "已回电", "csrf": token}, headers={"Sec-Fetch-Site": "same-origin"},
                       follow_redirects=False).status_code == 303
    # The sign-in form carries a token of its own, paired with its cookie.
    client.cookies.clear()
    login = client.get("/office/login").text
    for data, headers in (({"name": "clerk", "password": PASSWORD}, SAME_SITE),
                          ({"name": "clerk", "password": PASSWORD, "csrf": "x" * 43}, SAME_SITE),
                          ({"name": "clerk", "password": PASSWORD, "csrf": form_csrf(login)}, {})):
        assert client.post("/office/login", data=data, headers=headers).status_code == 403, (data, headers)
    assert "office_session" not in client.cookies


# ---- lock-out -------------------------------------------------------------------------------


def test_repeated_failures_lock_a_name_out_then_an_address(client, storage, clock):
    office_user(storage, "clerk")
    office_user(storage, "director")
    for _ in range(MAX_FAILURES):
        got = sign_in(client, "clerk", "wrong password!")
        assert got.status_code == 401 and "用户名或密码不正确" in got.text and "Wrong user name or password" in got.text
    got = sign_in(client, "clerk")  # the right password, too late
    assert got.status_code == 429 and "15" in got.text and "office_session" not in client.cookies
    assert client.post("/api/v1/office/session", json={"name": "clerk", "password": PASSWORD}).status_code == 429
    assert sign_in(client, "director").status_code == 303  # another name from here is not locked yet
    client.cookies.clear()
    clock.now += timedelta(minutes=15, seconds=1)
    assert sign_in(client, "clerk").status_code == 303

    client.cookies.clear()
    for i in range(MAX_ADDRESS_FAILURES):  # guessing names from the same address
        assert sign_in(client, f"guess{i}", "wrong password!").status_code == 401
    assert sign_in(client, "director").status_code == 429  # 20 failures from this address in 15 minutes
    clock.now += timedelta(minutes=16)
    assert sign_in(client, "director").status_code == 303
    failed = [row for row in audit_rows(storage) if row[2] == "sign_in_failed"]
    # the clerk's 5 and 2 more while locked, the 20 guesses, the director's while the address was locked
    assert len(failed) == MAX_FAILURES + 2 + MAX_ADDRESS_FAILURES + 1
    assert {row[0] for row in failed} >= {"clerk", "guess0"}
    assert all(PASSWORD not in str(row) and "wrong password!" not in str(row) for row in audit_rows(storage))


def test_behind_a_proxy_each_client_is_locked_out_by_its_own_address(storage, clock, monkeypatch):
    """Over real HTTP (uvicorn). A TLS proxy on central's machine forwards every browser from
    127.0.0.1: its X-Forwarded-For names the browser, so one guesser locks out one address, not
    the whole office. A proxy elsewhere is named in FORWARDED_ALLOW_IPS; any other client's
    X-Forwarded-For is ignored (it cannot pick an address to dodge the lock-out)."""
    import requests

    from central.server import serve_in_thread

    office_user(storage, "director")
    monkeypatch.setattr(central.accounts, "MAX_ADDRESS_FAILURES", 3)  # each guess hashes: fewer, same rule
    guesses = central.accounts.MAX_ADDRESS_FAILURES

    def attempts(server, forwarded: str, name: str = "director", password: str = PASSWORD) -> int:
        """A browser's sign-in through the proxy: the page, then the form's post."""
        with requests.Session() as browser:
            page = browser.get(server.url + "/office/login", timeout=30)
            return browser.post(server.url + "/office/login", timeout=30, allow_redirects=False,
                                data={"name": name, "password": password, "csrf": form_csrf(page.text)},
                                headers={"Origin": server.url, "X-Forwarded-For": forwarded}).status_code

    with serve_in_thread(storage) as server:
        for i in range(guesses):
            assert attempts(server, "203.0.113.7", f"guess{i}", "wrong password!") == 401
        assert attempts(server, "203.0.113.7") == 429  # the guesser's address
        assert attempts(server, "198.51.100.2") == 303  # a colleague behind the same proxy
    with storage.read() as tx:
        seen = tx.all("SELECT address, COUNT(*) FROM office_audit GROUP BY address ORDER BY address")
    assert seen == [("198.51.100.2", 1), ("203.0.113.7", guesses + 1)]

    clock.now += timedelta(minutes=16)
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.9")  # the proxy is another machine: 127.0.0.1 is a client
    with serve_in_thread(storage) as server:
        assert attempts(server, "198.51.100.2", "guess", "wrong password!") == 401
    with storage.read() as tx:
        assert tx.one("SELECT address FROM office_audit ORDER BY id DESC LIMIT 1") == ("127.0.0.1",)


# ---- the audit log --------------------------------------------------------------------------


def test_every_view_and_export_of_personal_data_is_logged_without_the_data(client, storage):
    customers(client, storage)
    clerk, director = office(storage, "clerk"), office(storage, "director")
    export = client.get("/office/due.csv", params={"within": "3660d", "lang": "en"}, headers=clerk)
    due_rows = len(list(csv.reader(io.StringIO(export.text)))) - 1
    assert export.status_code == 200 and due_rows >= 1
    listed = len(client.get("/api/v1/office/worklist", headers=clerk).json()["items"])
    client.get("/office/satisfaction", headers=clerk)  # figures: not personal data, not logged
    client.get("/office", headers=office(storage, "auditor"))  # an auditor's overview has none either
    rows = audit_rows(storage)
    assert rows[0] == ("clerk", "clerk", "export", "/office/due.csv", "within=3660d&lang=en", due_rows)
    assert rows[1] == ("clerk", "clerk", "view", "/api/v1/office/worklist", "", listed) and listed >= 1
    assert len(rows) == 2
    with storage.read() as tx:
        everything = str(tx.all("SELECT * FROM office_audit"))
    assert PHONE[-4:] not in everything and ORGANISATION not in everything

    page = client.get("/office/audit", headers=director)
    assert page.status_code == 200 and "/office/due.csv" in page.text and "within=3660d&amp;lang=en" in page.text
    assert "导出 exported" in page.text and "李娜" not in page.text  # the sign-in name, as typed at sign-in
    # A name typed at a failed sign-in is kept as text, and a CSV cell never starts a formula.
    sign_in(client, '=HYPERLINK("http://evil.example")', "wrong password!")
    got = client.get("/office/audit.csv", headers=director)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    exported = list(csv.DictReader(io.StringIO(got.text)))
    assert [r["action"] for r in exported] == ["export", "view", "sign_in_failed", "export"]
    assert exported[2]["who"] == "'=HYPERLINK(\"http://evil.example\")" and exported[0]["rows"] == str(due_rows)
    assert exported[3]["route"] == "/office/audit.csv"  # the export of the log is in the log
    with storage.read() as tx:  # its rows: those it sent, counted as they streamed
        assert tx.one("SELECT row_count FROM office_audit WHERE route = '/office/audit.csv'")[0] == 4


def test_the_audit_csv_streams_an_id_range_at_a_time_and_counts_what_it_sent(client, storage, monkeypatch):
    """No count of the whole log: the export's row says the rows it sent, written when it ends
    (also when the download stops midway); the first batch is sent before the next is read."""
    user = office_user(storage, "director")
    for i in range(7):
        central.audit.record(storage, user, "view", "/office/due", f"within={i}d", i)
    monkeypatch.setattr(central.audit, "EXPORT_BATCH", 3)
    got = client.get("/office/audit.csv", headers=office(storage))
    lines = list(csv.DictReader(io.StringIO(got.text)))
    assert [r["query"] for r in lines[:7]] == [f"within={i}d" for i in range(7)] and len(lines) >= 8
    with storage.read() as tx:
        assert tx.one("SELECT row_count FROM office_audit WHERE route = '/office/audit.csv'")[0] == len(lines)
    entry = central.audit.record(storage, user, "export", "/office/audit.csv")
    chunks = central.audit.csv_chunks(storage, entry)
    header, first = next(chunks), next(chunks)
    assert header.startswith(b"id,at,who") and first.decode().count("\n") == 3
    chunks.close()  # the download stopped after one batch: its rows say so
    with storage.read() as tx:
        assert tx.one("SELECT row_count FROM office_audit WHERE id = ?", (entry,))[0] == 3


def test_the_audit_log_pages_newest_first(client, storage):
    user = office_user(storage, "director")
    for i in range(central.audit.PAGE_ROWS + 5):
        central.audit.record(storage, user, "view", "/office/due", f"within={i}d", i)
    headers = office(storage)
    first = client.get("/office/audit", headers=headers).text
    assert first.count("<tr>") == central.audit.PAGE_ROWS + 1 and "within=54d" in first and "within=4d<" not in first
    older = re.search(r"/office/audit\?before=(\d+)", first).group(1)
    second = client.get("/office/audit", params={"before": older}, headers=headers).text
    assert second.count("<tr>") == 5 + 1 and "within=4d" in second and "before=" not in second


# ---- the first director, the CLI ------------------------------------------------------------


def test_the_sign_in_page_says_how_to_make_the_first_director(client, storage):
    page = client.get("/office/login")
    assert page.status_code == 200 and "kiosk central add-user" in page.text and "No back-office user yet" in page.text
    assert "<nav>" not in page.text  # nothing to open before signing in
    office_user(storage, "auditor")
    assert "kiosk central add-user" not in client.get("/office/login").text


@pytest.fixture
def cli(tmp_path, capsys, monkeypatch):
    """kiosk central ARGS on an SQLite file, the password on stdin (not a terminal): (status, out, err)."""
    db = str(tmp_path / "central.sqlite3")
    config = tmp_path / "en.toml"
    config.write_text('[kiosk]\nlanguage = "en"\n', "utf-8")

    def invoke(*argv: str, stdin: str = ""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        status = main(["--config", str(config), "central", argv[0], "--db", db, *argv[1:]])
        out = capsys.readouterr()
        return status, out.out, out.err

    invoke.url = f"sqlite:///{db}"
    return invoke


def test_add_user_makes_the_first_director_and_friends_look_after_users(cli):
    assert cli("add-user", "zhang", "--full-name", "张主任", stdin=PASSWORD + "\n")[:2] == (
        0, "Added office user zhang (director); they sign in at /office/login\n")
    status, _, err = cli("add-user", "li", stdin=PASSWORD + "\n")
    assert status == 1 and "give --role" in err
    assert cli("add-user", "li", "--role", "clerk", stdin=PASSWORD + "\n")[0] == 0
    status, _, err = cli("add-user", "wang", "--role", "auditor", stdin="short\n")
    assert status == 1 and "at least 10 characters" in err
    assert cli("add-user", "li", "--role", "auditor", stdin=PASSWORD + "\n")[0] == 1  # taken
    status, out, _ = cli("list-users")
    assert status == 0 and out.splitlines() == ["li\tclerk\tli\tactive", "zhang\tdirector\t张主任\tactive"]

    storage = open_storage(cli.url)
    try:
        assert central.accounts.sign_in(storage, "li", PASSWORD, None).role == "clerk"
        session = central.office_sessions.open_session(storage, central.accounts.sign_in(storage, "li", PASSWORD, None))
        assert cli("set-password", "li", stdin="a new password\n")[0] == 0
        assert central.office_sessions.find_session(storage, session.token) is None  # its sessions ended
        with pytest.raises(central.accounts.SignInRefused):
            central.accounts.sign_in(storage, "li", PASSWORD, None)
        session = central.office_sessions.open_session(storage, central.accounts.sign_in(storage, "li",
                                                                                          "a new password", None))
        assert cli("disable-user", "li")[0] == 0
        assert central.office_sessions.find_session(storage, session.token) is None
        with pytest.raises(central.accounts.SignInRefused):
            central.accounts.sign_in(storage, "li", "a new password", None)
        assert cli("disable-user", "nobody")[2] == "No office user nobody\n"
        assert cli("list-users", "--json")[1].count('"disabled_at": null') == 1
    finally:
        storage.close()


def test_a_version_4_central_upgrades_to_accounts(database_url):
    make_v1(database_url, upgrades=4)
    storage = open_storage(database_url)
    try:
        office_user(storage, "director")
        assert central.accounts.has_users(storage)
    finally:
        storage.close()
