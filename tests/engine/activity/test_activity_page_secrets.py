"""No secret on the Activity page: with credentials planted in connections (an API key,
an OAuth2 access and refresh token) and the service's secret key in the environment,
scripts and proxy calls that log them, send them and fail with them, every page the
service renders (login, list, fragments, each operation, the Scripts view, its assets)
holds none of them, in any of the forms they travel in."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import sqlite3
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from support.activity_harness import (
    ACCESS_TOKEN,
    PLANTED,
    REFRESH_TOKEN,
    SECRET,
    Harness,
    open_harness,
)
from support.fakeapi import FakeApi

from nango_scripts.engine._redact import MASK

pytestmark = pytest.mark.anyio


def forms_of(secret: str) -> set[str]:
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        base64.b64encode(secret.encode()).decode(),
        base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    }


async def test_no_planted_secret_on_any_page(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NANGO_SECRET_KEY", SECRET)
    client = harness.client
    await harness.trigger("echo", "c1", "fake")
    await harness.finished_operation(script="echo", integration="fake")
    await harness.trigger("echo", "o1", "oauthy")
    await harness.finished_operation(script="echo", integration="oauthy")
    await harness.trigger("environ", "c1", "fake")
    environ = await harness.finished_operation(script="environ")
    conn = {"Connection-Id": "o1", "Provider-Config-Key": "oauthy"}
    proxied = await client.get(
        "/proxy/echo",
        params={"q": ACCESS_TOKEN},
        headers={**conn, "Nango-Proxy-Cookie": f"session={REFRESH_TOKEN}"},
    )
    assert proxied.status_code == 200
    action = await client.post(
        "/action/trigger",
        headers={"Connection-Id": "c1", "Provider-Config-Key": "fake"},
        json={"action_name": "greet", "input": {"name": "nobody"}},
    )
    assert action.status_code == 500
    # The secrets did travel: the API saw the service key the script read.
    sent = [r for r in harness.api.requests_to("/echo") if "x-service" in r.headers]
    assert sent and sent[0].headers["x-service"] == SECRET and sent[0].query["k"] == SECRET
    assert environ["state"] == "failed" and MASK in environ["error"]

    login = await client.post("/login", data={"key": SECRET})
    assert login.status_code == 303
    pages = {"login response headers": str(login.headers)}

    async def fetch(path: str) -> str:
        answer = await client.get(path)
        assert answer.status_code == 200, (path, answer.text[:500])
        pages[path] = answer.text
        return answer.text

    listing = await fetch("/?limit=500")
    ids = re.findall(r'data-operation-id="([^"]+)"', listing)
    assert len(ids) == 5  # three runs, a proxy call, an action
    for path in (
        "/",
        "/?state=failed",
        "/?type=proxy",
        "/?integration=oauthy",
        "/fragments/operations?limit=500",
        "/fragments/operations?state=failed&integration=fake",
        "/scripts-view",
        "/assets/page.js",
        "/assets/page.css",
    ):
        await fetch(path)
    for operation_id in ids:
        await fetch(f"/activity/{operation_id}")
        await fetch(f"/activity/{operation_id}/fragment")
    anonymous = await client.post("/logout", data={"csrf": _csrf(listing)})
    assert anonymous.status_code == 303
    pages["login form"] = (await client.get("/")).text

    everything = "\n".join(pages.values())
    # The pages did show what was logged, masked: the check below can fail.
    assert "the service key is " + MASK in everything
    assert "failing with the service key " + MASK in everything
    assert everything.count(MASK) > 20
    for secret in (*PLANTED, SECRET):
        for form in forms_of(secret):
            assert form not in everything, f"{form!r} shown on a page"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found is not None
    return found.group(1)


async def test_the_secret_key_in_a_webhook_url_is_masked_everywhere(
    tmp_path: Path, fake_api: FakeApi
) -> None:
    """Webhook attempts are recorded with ``ActivityRecorder.record``'s path (finished
    operations written at once): a webhook URL carrying the service key as a path token
    is masked in /logs, on the page and in the tables, for a delivered and a failed one."""
    fake_api.route(f"/hook/{SECRET}", lambda _: (200, {}, {"ok": True}))
    fake_api.route(f"/down/{SECRET}", lambda _: (500, {}, {"error": f"no {SECRET}"}))
    extra = {
        "NANGO_WEBHOOK_URL": f"{fake_api.url}/hook/{SECRET}",
        "NANGO_WEBHOOK_SECONDARY_URL": f"{fake_api.url}/down/{SECRET}",
        "NANGO_WEBHOOK_MAX_ATTEMPTS": "1",
    }
    async with open_harness(tmp_path, fake_api, extra) as harness:
        client = harness.client
        await harness.trigger("items", "c1", "fake")
        run = await harness.finished_operation(script="items", type="sync")
        assert run["state"] == "success"
        async with asyncio.timeout(10):
            while True:
                listing = await client.get("/logs", params={"type": "webhook", "limit": 500})
                webhooks = listing.json()["operations"]
                if len([w for w in webhooks if w["state"] != "running"]) == 2:
                    break
                await asyncio.sleep(0.02)
        # The key did travel: both URLs were called with it in their path.
        assert fake_api.requests_to(f"/hook/{SECRET}") and fake_api.requests_to(f"/down/{SECRET}")
        assert sorted(w["state"] for w in webhooks) == ["failed", "success"]
        shown = [listing.text]
        for webhook in webhooks:
            detail = await client.get(f"/logs/{webhook['id']}")
            shown.append(detail.text)
            assert f"/hook/{MASK}" in webhook["title"] or f"/down/{MASK}" in webhook["title"]
        assert (await client.post("/login", data={"key": SECRET})).status_code == 303
        for path in (
            "/?type=webhook",
            "/fragments/operations?type=webhook",
            *(f"/activity/{w['id']}" for w in webhooks),
        ):
            page = await client.get(path)
            assert page.status_code == 200, (path, page.text[:300])
            shown.append(page.text)
        shown.append(_dump_tables(harness))
    everything = "\n".join(shown)
    assert everything.count(f"/hook/{MASK}") >= 4 and everything.count(f"/down/{MASK}") >= 4
    for form in forms_of(SECRET):
        assert form not in everything, f"{form!r} shown"


def _dump_tables(harness: Harness) -> str:
    path = harness.service.settings.sqlite_path
    assert path is not None
    with sqlite3.connect(path) as db:
        rows = [
            row
            for table in ("activity_operations", "activity_messages")
            for row in db.execute(f"SELECT * FROM {table}").fetchall()
        ]
    assert rows
    return json.dumps(rows, default=str)
