"""The Activity page in-process (no browser): login with the secret key, the session
cookie and its CSRF token, the list and its filters, an operation, the Scripts view's
toggle and trigger, and the line between the page and the API."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from support.server_harness import SECRET, Harness, anonymous
from support.waiting import eventually_async

from nango_scripts.server._session import COOKIE_NAME, PageSessions

pytestmark = pytest.mark.anyio

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def browser(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with no key, that keeps cookies, logged in."""
    async with anonymous(harness) as client:
        answer = await client.post("/login", data={"key": SECRET, "next": "/"})
        assert answer.status_code == 303, answer.text
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found is not None, html[:2000]
    return found.group(1)


async def test_login_sets_a_lax_http_only_cookie_without_the_key(harness: Harness) -> None:
    async with anonymous(harness) as client:
        form = await client.get("/")
        assert form.status_code == 200
        assert 'action="/login"' in form.text and 'type="password"' in form.text
        assert "Log out" not in form.text

        wrong = await client.post("/login", data={"key": SECRET + "x", "next": "/scripts-view"})
        assert wrong.status_code == 401
        assert "That is not the secret key." in wrong.text
        assert 'name="next" value="/scripts-view"' in wrong.text  # kept for the next try
        assert "set-cookie" not in wrong.headers and not client.cookies

        right = await client.post("/login", data={"key": SECRET, "next": "/scripts-view"})
        assert (right.status_code, right.headers["location"]) == (303, "/scripts-view")
        cookie = right.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE_NAME}=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
        assert SECRET not in cookie
        page = await client.get("/")
        assert page.status_code == 200 and "Log out" in page.text and "Filter" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
        assert page.headers["cache-control"] == "no-store"

        # next must stay on this site
        away = await client.post("/login", data={"key": SECRET, "next": "//evil.example/x"})
        assert away.headers["location"] == "/"


async def test_over_https_the_cookie_is_secure_too(harness: Harness) -> None:
    async with httpx.AsyncClient(
        transport=harness.transport, base_url="https://testserver"
    ) as client:
        right = await client.post("/login", data={"key": SECRET, "next": "/"})
        assert right.status_code == 303
        cookie = right.headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        page = await client.get("/")
        assert page.status_code == 200 and "Log out" in page.text


async def test_the_cookie_opens_the_page_only_and_the_key_opens_the_api_only(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    assert (await browser.get("/logs")).status_code == 401  # the API wants the key
    assert (await browser.get("/connections")).status_code == 401
    # and the key is no session: the page shows the login form to a bearer
    page = await harness.client.get("/scripts-view")
    assert page.status_code == 200 and 'action="/login"' in page.text
    fragment = await harness.client.get("/fragments/operations")
    assert fragment.status_code == 401
    schema = (await harness.client.get("/openapi.json")).json()
    assert not [p for p in schema["paths"] if p == "/" or "scripts-view" in p or "activity" in p]


async def test_logout_needs_the_csrf_token_and_ends_the_session(
    browser: httpx.AsyncClient,
) -> None:
    page = await browser.get("/")
    refused = await browser.post("/logout", data={"csrf": "0" * 64})
    assert refused.status_code == 403
    assert (await browser.get("/scripts-view")).text.count("Log out") == 1
    token = browser.cookies[COOKIE_NAME]
    out = await browser.post("/logout", data={"csrf": csrf_of(page.text)})
    assert (out.status_code, out.headers["location"]) == (303, "/")
    assert COOKIE_NAME not in browser.cookies
    browser.cookies.set(COOKIE_NAME, token)  # a copy of the old cookie is refused too
    again = await browser.get("/scripts-view")
    assert 'action="/login"' in again.text


def test_session_tokens_expire_and_are_bound_to_the_key() -> None:
    now = [1_000_000.0]
    sessions = PageSessions("key-one", max_age_s=60, clock=lambda: now[0])
    token = sessions.issue()
    session = sessions.check(token)
    assert session is not None and sessions.csrf_ok(session, session.csrf)
    assert not sessions.csrf_ok(session, None) and not sessions.csrf_ok(session, "x")
    assert PageSessions("key-two", clock=lambda: now[0]).check(token) is None
    issued, nonce, mac = token.split(".")
    assert sessions.check(f"{int(issued) + 1}.{nonce}.{mac}") is None  # tampered
    assert sessions.check("garbage") is None and sessions.check(None) is None
    now[0] += 61
    assert sessions.check(token) is None
    assert sessions.key_matches("key-one") and not sessions.key_matches("key-one ")


async def test_the_list_filters_pages_and_opens_an_operation(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    harness.service.connections.create("fake", "c2", {"type": "API_KEY", "apiKey": "nope"})
    await harness.run_items("c1")
    await harness.run_items("c2")  # 401 from the API: failed

    failed = await browser.get("/", params={"state": "failed"})
    rows = re.findall(r'<tr data-operation-id="([^"]+)" data-state="([a-z]+)"', failed.text)
    assert [state for _, state in rows] == ["failed"]
    everything = await browser.get("/")
    all_rows = re.findall(r'<tr data-operation-id="([^"]+)" data-state="([a-z]+)"', everything.text)
    assert len(all_rows) > len(rows)  # the connection changes and the successful run too
    assert {s for _, s in all_rows} == {"success", "failed"}

    detail = await browser.get(f"/activity/{rows[0][0]}")
    assert detail.status_code == 200
    assert 'class="error"' in detail.text and "401" in detail.text
    assert "GET" in detail.text and "data-final" in detail.text

    fragment = await browser.get("/fragments/operations", params={"state": "failed"})
    assert fragment.status_code == 200 and rows[0][0] in fragment.text
    assert "<html" not in fragment.text

    first = await browser.get("/", params={"limit": "1"})
    older = re.search(r'href="/\?(limit=1&amp;cursor=[^"]+)">Older', first.text)
    assert older is not None
    second = await browser.get("/?" + older.group(1).replace("&amp;", "&"))
    first_ids = re.findall(r'data-operation-id="([^"]+)"', first.text)
    second_ids = re.findall(r'data-operation-id="([^"]+)"', second.text)
    assert len(first_ids) == len(second_ids) == 1 and first_ids != second_ids

    bad = await browser.get("/", params={"state": "done"})
    assert bad.status_code == 400 and "state: &#39;done&#39; is not one of" in bad.text
    missing = await browser.get("/activity/nope")
    assert missing.status_code == 404 and "No such operation" in missing.text


async def test_the_toggle_stops_the_sync_for_every_connection_and_back(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    view = await browser.get("/scripts-view")
    assert view.status_code == 200
    assert 'role="switch" aria-checked="true"' in view.text and "greet" in view.text
    csrf = csrf_of(view.text)
    toggle = {"integration": "fake", "sync": "items", "enabled": "false"}

    stale = await browser.post("/scripts-view/toggle", data={**toggle, "csrf": "f" * 64})
    assert stale.status_code == 403
    assert await harness.service.scheduler.is_enabled("fake", "items")

    off = await browser.post("/scripts-view/toggle", data={**toggle, "csrf": csrf})
    assert off.status_code == 303 and "notice=disabled" in off.headers["location"]
    assert not await harness.service.scheduler.is_enabled("fake", "items")
    view = await browser.get(off.headers["location"])
    assert 'aria-checked="false"' in view.text and ">disabled<" in view.text
    assert "is off: it runs for no connection" in view.text
    refused = await browser.post(
        "/scripts-view/trigger", data={"integration": "fake", "sync": "items", "csrf": csrf}
    )
    assert refused.status_code == 400 and "switch it on" in refused.text

    on = await browser.post(
        "/scripts-view/toggle", data={**toggle, "enabled": "true", "csrf": csrf}
    )
    assert on.status_code == 303
    assert await harness.service.scheduler.is_enabled("fake", "items")

    unknown = await browser.post(
        "/scripts-view/toggle", data={**toggle, "sync": "nope", "csrf": csrf}
    )
    assert unknown.status_code == 400 and "No sync &#39;nope&#39;" in unknown.text


async def test_the_trigger_button_runs_the_sync(
    harness: Harness, browser: httpx.AsyncClient
) -> None:
    csrf = csrf_of((await browser.get("/scripts-view")).text)
    answer = await browser.post(
        "/scripts-view/trigger",
        data={"integration": "fake", "sync": "items", "connection": "c1", "csrf": csrf},
    )
    assert answer.status_code == 303 and "count=1" in answer.headers["location"]
    await eventually_async(
        lambda: asyncio.to_thread(
            lambda: harness.service.schedules.latest_run(harness.key(), finished=True)
        ),
        "the triggered run to finish",
    )
    await harness.service.scheduler.wait_idle()
    view = await browser.get("/scripts-view")
    assert "Triggered" not in view.text  # the notice is for the redirect only
    assert re.search(r'data-connection="c1">.*?state-success', view.text, re.S)
    ghost = await browser.post(
        "/scripts-view/trigger",
        data={"integration": "fake", "sync": "items", "connection": "ghost", "csrf": csrf},
    )
    assert ghost.status_code == 400 and "No connection" in ghost.text


async def test_forms_must_be_urlencoded_and_small(browser: httpx.AsyncClient) -> None:
    as_json = await browser.post("/scripts-view/toggle", json={"sync": "items"})
    assert as_json.status_code == 415
    huge = await browser.post("/scripts-view/toggle", content=b"a=" + b"x" * 100_000, headers=FORM)
    assert huge.status_code == 413
    assets = await browser.get("/assets/page.js")
    assert assets.status_code == 200 and "data-poll" in assets.text
    # only the page's own paths are open to a session: anything else wants the key
    assert (await browser.get("/assets/nope.js")).status_code == 401


@pytest.mark.parametrize(
    "cookie",
    [
        b"1.abc.\xe9",  # not ASCII: compare_digest refuses a str like that
        "\u00b2.abc.def".encode(),  # "²".isdigit() is True, int("²") fails
        b"9" * 40 + b".abc.def",
        b"..",
        b"a.b.c.d",
    ],
)
async def test_a_cookie_of_any_bytes_gets_the_login_form(harness: Harness, cookie: bytes) -> None:
    async with anonymous(harness) as client:
        for path in ("/", "/scripts-view", "/activity/nope", "/login"):
            answer = await client.get(
                path, headers=[(b"cookie", COOKIE_NAME.encode() + b"=" + cookie)]
            )
            assert answer.status_code == 200, (path, answer.text[:300])
            assert 'action="/login"' in answer.text
        fragment = await client.get(
            "/fragments/operations", headers=[(b"cookie", COOKIE_NAME.encode() + b"=" + cookie)]
        )
        assert fragment.status_code == 401


@pytest.mark.parametrize("csrf", ["\u00e9", "\u00e9" * 64, "", "\U0001f600"])
async def test_a_csrf_token_of_any_text_is_refused_not_an_error(
    harness: Harness, browser: httpx.AsyncClient, csrf: str
) -> None:
    toggle = {"integration": "fake", "sync": "items", "enabled": "false", "csrf": csrf}
    for path, data in (
        ("/logout", {"csrf": csrf}),
        ("/scripts-view/toggle", toggle),
        ("/scripts-view/trigger", {"integration": "fake", "sync": "items", "csrf": csrf}),
    ):
        answer = await browser.post(path, data=data)
        assert answer.status_code == 403, (path, answer.text[:300])
    assert await harness.service.scheduler.is_enabled("fake", "items")
    assert "Log out" in (await browser.get("/")).text  # still logged in


@pytest.mark.parametrize(
    "limit", ["\u00b2", "9" * 5000, "0", "501", "-1", "1e2", "\uff11\uff10", " 12x"]
)
async def test_a_bad_limit_on_the_page_is_a_400_naming_it(
    browser: httpx.AsyncClient, limit: str
) -> None:
    for path in ("/", "/fragments/operations"):
        answer = await browser.get(path, params={"limit": limit})
        assert answer.status_code == 400, (path, answer.text[:300])
        assert "limit: " in answer.text and "is not a number from 1 to 500" in answer.text
        assert len(answer.text) < 50_000  # the 5,000 digits are not echoed whole
    good = await browser.get("/", params={"limit": "500"})
    assert good.status_code == 200


def test_session_checks_take_any_text() -> None:
    sessions = PageSessions("key-one")
    session = sessions.check(sessions.issue())
    assert session is not None
    for token in ("1.abc.\xe9", "\u00b2.a.b", "\u0661.a.b", "1" * 13 + ".a.b", ".", "x" * 201):
        assert sessions.check(token) is None
    for given in ("\xe9", "\ud800", session.csrf[:-1] + "\xe9", ""):
        assert not sessions.csrf_ok(session, given)
    assert sessions.csrf_ok(session, session.csrf)


async def test_the_icon_browsers_ask_for_is_served_without_the_key(harness: Harness) -> None:
    async with anonymous(harness) as client:
        icon = await client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.startswith(b"<svg")
