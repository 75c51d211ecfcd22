"""No secret in the Activity log: credentials planted in connections, sent to an API that
echoes them back (body, headers, URLs, errors), logged by scripts, forwarded by the proxy,
never reach the database or ``GET /logs``."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from support.activity_harness import ACCESS_TOKEN, API_KEY, PLANTED, REFRESH_TOKEN, Harness

from nango_scripts.engine import ActivityRecorder
from nango_scripts.engine._redact import MASK, SecretScrubber
from nango_scripts.store import ActivityStore

pytestmark = pytest.mark.anyio


async def test_planted_secrets_never_reach_the_activity_log(harness: Harness) -> None:
    await harness.trigger("echo", "c1", "fake")
    api_key_run = await harness.finished_operation(script="echo", integration="fake")
    await harness.trigger("echo", "o1", "oauthy")
    oauth_run = await harness.finished_operation(script="echo", integration="oauthy")
    for conn, extra in (
        ({"Connection-Id": "c1", "Provider-Config-Key": "fake"}, {}),
        ({"Connection-Id": "o1", "Provider-Config-Key": "oauthy"}, {"q": ACCESS_TOKEN}),
    ):
        answer = await harness.client.get(
            "/proxy/echo",
            params=extra,
            headers={**conn, "Nango-Proxy-Cookie": f"session={REFRESH_TOKEN}"},
        )
        assert answer.status_code == 200
        answer = await harness.client.get("/proxy/echo-fail", headers=conn)
        assert answer.status_code == 400

    # The secrets did travel: the API saw them and answered with them.
    echoed = harness.api.requests_to("/echo")
    assert echoed[0].headers["x-key"] == API_KEY and echoed[0].query["q"] == API_KEY
    assert echoed[1].headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert len(harness.api.requests_to("/leak")) == 2

    # Both runs failed on /echo-fail, whose answer (quoted in the error) held the key.
    for run in (api_key_run, oauth_run):
        assert run["state"] == "failed" and "400" in run["error"] and MASK in run["error"]
    said = [m for m in api_key_run["messages"] if m["message"].startswith("the API said")]
    assert said and MASK in said[0]["message"]
    assert said[0]["fields"]["answer"]["headers"]["x-key"] == MASK

    shown: list[str] = []
    listing = await harness.client.get("/logs", params={"limit": 500})
    shown.append(listing.text)
    operations = listing.json()["operations"]
    assert {o["type"] for o in operations} == {"sync", "proxy"}
    assert len(operations) == 6
    for operation in operations:
        shown.append((await harness.client.get(f"/logs/{operation['id']}")).text)
    shown.append(_dump(harness))
    everything = "\n".join(shown)
    assert everything.count(MASK) > 10
    for secret in PLANTED:
        assert secret not in everything
        assert base64.b64encode(secret.encode()).decode() not in everything


async def test_what_a_caller_sends_is_masked_as_what_the_service_sends(
    harness: Harness,
) -> None:
    """The proxy's caller puts a session in the query and a token in a custom header; the
    API quotes both in its error: neither reaches the Activity log, stored or shown."""
    session, custom = "caller-session-5d1f0a", "caller-custom-header-93be"
    conn = {"Connection-Id": "c1", "Provider-Config-Key": "fake"}
    answer = await harness.client.get(
        "/proxy/echo-fail",
        params={"session": session, "q": "plain-query-value"},
        headers={
            **conn,
            "Nango-Proxy-X-Custom": custom,
            "Nango-Proxy-Accept": "application/json",
        },
    )
    assert answer.status_code == 400
    sent = harness.api.requests_to("/echo-fail")[-1]
    assert (sent.query["session"], sent.headers["x-custom"]) == (session, custom)

    operation = await harness.finished_operation(type="proxy")
    assert operation["result"]["headers"] == {"x-custom": MASK, "accept": "application/json"}
    assert MASK in operation["error"] and "refused" in operation["error"]
    (request,) = operation["messages"]
    assert request["fields"]["url"].endswith("/echo-fail?session=***&q=plain-query-value")
    shown = "\n".join([json.dumps(operation), (await harness.client.get("/logs")).text])
    for where, text in (("/logs", shown), ("the database", _dump(harness, at_least=1))):
        assert session not in text and custom not in text, where


def _dump(harness: Harness, at_least: int = 20) -> str:
    """Every row of the activity tables, as stored (at least that many)."""
    path = harness.service.settings.sqlite_path
    assert path is not None
    with sqlite3.connect(path) as db:
        rows: list[Any] = []
        for table in ("activity_operations", "activity_messages"):
            rows += db.execute(f"SELECT * FROM {table}").fetchall()
    assert len(rows) > at_least
    return json.dumps(rows, default=str)


def test_the_scrubber_masks_every_form_of_a_credential() -> None:
    scrubber = SecretScrubber(
        {
            "type": "OAUTH2",
            "access_token": "tok/en+1=",
            "refresh_token": "r3fr3sh",
            "expires_at": "2030-01-01T00:00:00+00:00",
            "client_id": "public-client",
            "raw": {"access_token": "tok/en+1=", "token_type": "Bearer", "id_token": "jwt-xyz"},
        }
    )
    assert scrubber.text("a tok/en+1= b") == f"a {MASK} b"
    assert scrubber.text("?t=tok%2Fen%2B1%3D") == f"?t={MASK}"
    assert scrubber.text("q=tok%2Fen%2B1%3D&r=r3fr3sh") == f"q={MASK}&r={MASK}"
    assert scrubber.text("id jwt-xyz") == f"id {MASK}"
    # what is not secret stays readable
    assert scrubber.text("Bearer public-client 2030") == "Bearer public-client 2030"

    value = scrubber.value(
        {
            "headers": {"Authorization": "Basic abc", "Cookie": "s=1", "X-Api-Key": "k"},
            "list": ["r3fr3sh", 3, None, True],
            "nested": {"note": "refresh r3fr3sh"},
            "when": 1.5,
        }
    )
    assert value == {
        "headers": {"Authorization": MASK, "Cookie": MASK, "X-Api-Key": MASK},
        "list": [MASK, 3, None, True],
        "nested": {"note": f"refresh {MASK}"},
        "when": 1.5,
    }

    basic = SecretScrubber({"type": "BASIC", "username": "ada", "password": "s3cret-pw"})
    header = "Basic " + base64.b64encode(b"ada:s3cret-pw").decode()
    assert basic.text(header) == f"Basic {MASK}"
    assert basic.text("user ada") == "user ada"

    short = SecretScrubber({"type": "API_KEY", "apiKey": "abc"})
    assert short.text("abc") == "abc"  # too short to mask without masking everything
    short.add({"type": "API_KEY", "apiKey": "a-rotated-key"})
    assert short.text("a-rotated-key") == MASK


async def test_the_service_key_is_masked_in_operations_recorded_at_once(tmp_path: Path) -> None:
    """``finished()`` (what ``record()`` writes: a webhook attempt, an unstarted run) masks the
    service's secret key as an operation opened with ``operation()`` does."""
    key = "sk_live_masked_everywhere_42"
    store = ActivityStore.open(f"sqlite:///{tmp_path}/activity.db")
    recorder = ActivityRecorder(store, masked=[key])
    try:
        recorded = await recorder.record(
            recorder.finished(
                environment="dev",
                type="connection",
                integration_id="fake",
                connection_id="c1",
                script=None,
                title=f"changed with {key}",
                state="failed",
                error=f"refused: {key}",
                messages=[("info", f"said {key}", {"note": key})],
                result={"echo": key},
            )
        )
        await recorder.record_unstarted_run(("dev", "fake", "c1", "items"), f"no run: {key}")
        attempt = recorder.webhook_delivery(
            environment="dev", url=f"https://example.com/hook/{key}", status=500
        )
        assert recorder.write([attempt])
        assert recorded is not None
        operations = store.list_operations("dev", limit=10).operations
        assert len(operations) == 3
        stored = [store.get_operation(o.id) for o in operations]
    finally:
        store.close()
    shown = repr(stored)
    assert key not in shown
    first = next(o for o in stored if o is not None and o.id == recorded)
    assert first.title == f"changed with {MASK}" and first.error == f"refused: {MASK}"
    assert first.messages[0].message == f"said {MASK}"
    assert first.messages[0].fields == {"note": MASK} and first.result == {"echo": MASK}
    assert shown.count(MASK) >= 8
