"""POST /action/trigger (now and with X-Async) and GET /action/{id}."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from support.server_harness import Harness

pytestmark = pytest.mark.anyio

CONN = {"Connection-Id": "c1", "Provider-Config-Key": "fake"}


async def trigger(
    harness: Harness, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Any:
    return await harness.client.post("/action/trigger", json=body, headers=headers or CONN)


async def test_the_output_is_the_bare_body(harness: Harness) -> None:
    answer = await trigger(harness, {"action_name": "greet", "input": {"name": "ann", "times": 2}})
    assert (answer.status_code, answer.json()) == (200, {"text": "hello annhello ann"})
    hello = harness.api.requests_to("/hello")[-1]
    assert hello.headers["x-key"] == "upstream-key"  # the connection's credentials
    no_input = await trigger(harness, {"action_name": "ping"})
    assert (no_input.status_code, no_input.json()) == (200, ["pong", 1])


async def test_an_action_error_is_action_script_failure_with_its_payload(harness: Harness) -> None:
    answer = await trigger(harness, {"action_name": "greet", "input": {"name": "nobody"}})
    assert answer.status_code == 500
    assert answer.json() == {
        "error": {
            "code": "action_script_failure",
            "message": "The action script failed with an error: nobody to greet",
            "payload": {"message": "nobody to greet", "code": "empty"},
        }
    }


@pytest.mark.parametrize(
    ("body", "headers", "status", "code", "words"),
    [
        (
            {"action_name": "greet", "input": {"nom": "x"}},
            CONN,
            400,
            "invalid_action_input",
            "input.name",
        ),
        (
            {"action_name": "greet", "input": {"name": "x", "times": "many"}},
            CONN,
            400,
            "invalid_action_input",
            "input.times",
        ),
        ({"action_name": "greet"}, CONN, 400, "invalid_action_input", "input.name"),
        ({"action_name": "nope"}, CONN, 404, "not_found", "nope"),
        ({"input": {}}, CONN, 400, "invalid_body", "action_name"),
        ({"action_name": "ping", "extra": 1}, CONN, 400, "invalid_body", "extra"),
        (
            {"action_name": "ping"},
            {"Provider-Config-Key": "fake"},
            400,
            "invalid_headers",
            "Connection-Id",
        ),
        (
            {"action_name": "ping"},
            {"Connection-Id": "ghost", "Provider-Config-Key": "fake"},
            400,
            "unknown_connection",
            "ghost",
        ),
        (
            {"action_name": "ping"},
            {"Connection-Id": "c1", "Provider-Config-Key": "nope"},
            400,
            "unknown_provider_config",
            "nope",
        ),
    ],
)
async def test_bad_action_requests(
    harness: Harness,
    body: dict[str, Any],
    headers: dict[str, str],
    status: int,
    code: str,
    words: str,
) -> None:
    answer = await trigger(harness, body, headers)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert words in error["message"]


async def test_invalid_input_lists_each_field(harness: Harness) -> None:
    answer = await trigger(harness, {"action_name": "greet", "input": {"times": "x"}})
    errors = answer.json()["error"]["errors"]
    assert [e["path"] for e in errors] == [["input", "name"], ["input", "times"]]
    assert not harness.api.requests_to("/hello")  # nothing ran


async def test_malformed_json_is_invalid_body(harness: Harness) -> None:
    answer = await harness.client.post(
        "/action/trigger",
        content=b'{"action_name": ',
        headers={**CONN, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_body"
    assert "not valid JSON" in answer.json()["error"]["message"]


async def test_async_action_202_then_its_result(harness: Harness) -> None:
    answer = await trigger(
        harness, {"action_name": "greet", "input": {"name": "bo"}}, {**CONN, "X-Async": "true"}
    )
    assert answer.status_code == 202
    body = answer.json()
    assert set(body) == {"id", "statusUrl"}
    uuid.UUID(body["id"])
    assert body["statusUrl"] == f"/action/{body['id']}"
    assert answer.headers["location"] == body["statusUrl"]
    await harness.service.actions.wait_idle()
    result = await harness.client.get(body["statusUrl"])
    assert (result.status_code, result.json()) == (200, {"text": "hello bo"})
    again = await harness.client.get(body["statusUrl"])
    assert again.json() == {"text": "hello bo"}  # kept: a client may ask twice


async def test_async_action_running_then_done(harness: Harness) -> None:
    answer = await trigger(harness, {"action_name": "slow"}, {**CONN, "X-Async": "true"})
    status_url = answer.json()["statusUrl"]
    running = await harness.client.get(status_url)
    assert running.status_code == 404
    assert running.json()["error"]["code"] == "not_found"
    assert running.json()["error"]["payload"] == {"status": "running"}
    harness.release_slow.set()
    async with asyncio.timeout(10):
        await harness.service.actions.wait_idle()
    done = await harness.client.get(status_url)
    assert (done.status_code, done.json()) == (200, {"slow": "done"})


async def test_async_action_error_is_kept_with_its_payload(harness: Harness) -> None:
    answer = await trigger(
        harness, {"action_name": "greet", "input": {"name": "nobody"}}, {**CONN, "X-Async": "true"}
    )
    await harness.service.actions.wait_idle()
    result = await harness.client.get(answer.json()["statusUrl"])
    assert result.status_code == 500
    assert result.json()["error"]["code"] == "action_script_failure"
    assert result.json()["error"]["payload"] == {"message": "nobody to greet", "code": "empty"}


async def test_a_424_that_quotes_the_upstream_body_masks_the_credentials(
    harness: Harness,
) -> None:
    # An API that echoes the key it was sent, in an error body the 424 quotes.
    harness.api.route("/hello", lambda r: (500, {}, {"bad key": r.headers.get("x-key")}))
    now = await trigger(harness, {"action_name": "greet", "input": {"name": "ann"}})
    assert now.status_code == 424, now.text
    assert now.json()["error"]["code"] == "script_http_error"
    assert '{"bad key": "***"}' in now.json()["error"]["message"]
    later = await trigger(
        harness, {"action_name": "greet", "input": {"name": "ann"}}, {**CONN, "X-Async": "true"}
    )
    await harness.service.actions.wait_idle()
    kept = await harness.client.get(later.json()["statusUrl"])
    assert kept.status_code == 424
    assert '{"bad key": "***"}' in kept.json()["error"]["message"]
    for answer in (now, kept):
        assert "upstream-key" not in answer.text


async def test_unknown_and_malformed_action_ids(harness: Harness) -> None:
    unknown = await harness.client.get(f"/action/{uuid.uuid4()}")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    malformed = await harness.client.get("/action/not-a-uuid")
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "invalid_uri_params"


async def test_a_stopped_service_records_running_actions_as_interrupted(harness: Harness) -> None:
    answer = await trigger(harness, {"action_name": "slow"}, {**CONN, "X-Async": "true"})
    run_id = answer.json()["id"]
    await harness.service.actions.stop()
    run = harness.service.action_runs.get(run_id)
    assert run is not None and run.status == "failed"
    assert run.error is not None and run.error["type"] == "interrupted"
    result = await harness.client.get(f"/action/{run_id}")
    assert result.status_code == 500
    assert result.json()["error"]["code"] == "action_interrupted"
