"""What the service records: sync runs (logs, requests, retries, results, errors,
cancellation), actions, proxy calls and connection changes, as ``GET /logs`` shows them."""

from __future__ import annotations

from typing import Any

import pytest
from support.activity_harness import Harness
from support.waiting import eventually_async

from nango_scripts.store import ScheduleKey

pytestmark = pytest.mark.anyio

CONN = {"Connection-Id": "c1", "Provider-Config-Key": "fake"}


def messages(operation: dict[str, Any], level: str | None = None) -> list[dict[str, Any]]:
    return [m for m in operation["messages"] if level is None or m["level"] == level]


def texts(operation: dict[str, Any]) -> list[str]:
    return [m["message"] for m in operation["messages"]]


async def test_a_sync_run_is_one_operation_with_logs_requests_retry_and_results(
    harness: Harness,
) -> None:
    await harness.trigger("items")
    op = await harness.finished_operation(type="sync", script="items")

    assert op["state"] == "success", op
    assert (op["type"], op["integration_id"], op["connection_id"]) == ("sync", "fake", "c1")
    assert op["title"] == "sync items"
    assert op["error"] is None
    assert op["finished_at"] is not None and op["duration_ms"] >= 0
    # the script's own lines, with their fields
    logged = {m["message"]: m for m in op["messages"]}
    assert logged["fetching items"]["level"] == "info"
    assert logged["fetching items"]["fields"] == {"page": 1}
    assert logged["saved the items"]["level"] == "warning"
    # every HTTP request: method, scrubbed URL, status and duration
    requests = [m for m in op["messages"] if m["fields"].get("method") == "GET"]
    statuses = [m["fields"]["status"] for m in requests if "duration_ms" in m["fields"]]
    assert statuses == [500, 200]
    for m in requests:
        if "duration_ms" in m["fields"]:
            assert m["fields"]["url"].endswith("/items")
            assert m["fields"]["duration_ms"] >= 0
    # the retry and its wait (the 500 asked for 50 ms)
    (retry,) = [m for m in op["messages"] if m["message"].startswith("retrying")]
    assert retry["level"] == "warning"
    assert retry["fields"]["wait_s"] == pytest.approx(0.05)
    assert retry["fields"]["attempt"] == 1
    # the invalid record and its reason, the per-model counts
    (invalid,) = [m for m in op["messages"] if m["message"].startswith("invalid Item")]
    assert invalid["fields"]["record_id"] == "bad" and invalid["fields"]["field"] == "n"
    assert "Item: 5 added, 0 updated, 0 deleted, 0 unchanged, 1 invalid" in texts(op)
    assert op["result"]["models"]["Item"]["added"] == 5
    assert op["result"]["models"]["Item"]["invalid"] == 1
    assert op["result"]["invalid_records"][0]["id"] == "bad"
    assert "valid integer" in op["result"]["invalid_records"][0]["reason"]
    assert op["result"]["run_type"] == "INITIAL"
    # messages come in the order they were logged
    order = texts(op)
    assert order.index("fetching items") < order.index(retry["message"])
    assert order.index(retry["message"]) < order.index("saved the items")


async def test_a_failed_run_records_its_error_and_cause(harness: Harness) -> None:
    await harness.trigger("broken")
    op = await harness.finished_operation(script="broken")

    assert op["state"] == "failed"
    assert "GET" in op["error"] and "/missing" in op["error"] and "404" in op["error"]
    assert op["result"]["error_type"] == "http_error"
    (error,) = messages(op, "error")
    assert error["message"] == op["error"]
    assert error["fields"] == {"type": "http_error"}
    assert [m["fields"]["status"] for m in op["messages"] if "duration_ms" in m["fields"]] == [404]


async def test_a_cancelled_run_is_recorded_as_cancelled(harness: Harness) -> None:
    await harness.trigger("slow")
    key = ScheduleKey("dev", "fake", "c1", "slow")
    await eventually_async(lambda: harness.api.requests_to("/slow"), "the run's request to /slow")
    running = (await harness.client.get("/logs", params={"state": "running"})).json()
    assert [o["script"] for o in running["operations"]] == ["slow"]

    assert await harness.service.scheduler.cancel(key, reason="cancelled by the test")
    harness.release_slow.set()
    op = await harness.finished_operation(script="slow")
    assert op["state"] == "cancelled"
    assert op["error"] == "cancelled by the test"


async def test_actions_are_recorded_now_and_in_the_background(harness: Harness) -> None:
    answer = await harness.client.post(
        "/action/trigger", headers=CONN, json={"action_name": "greet", "input": {"name": "ada"}}
    )
    assert answer.status_code == 200, answer.text
    op = await harness.finished_operation(type="action")
    assert (op["state"], op["script"], op["title"]) == ("success", "greet", "action greet")
    assert "greeting ada" in texts(op)
    assert [m["fields"]["status"] for m in op["messages"] if "duration_ms" in m["fields"]] == [200]
    assert op["result"]["output"] == {"text": "hello ada"}

    answer = await harness.client.post(
        "/action/trigger",
        headers={**CONN, "X-Async": "true"},
        json={"action_name": "greet", "input": {"name": "nobody"}},
    )
    assert answer.status_code == 202, answer.text
    await harness.service.actions.wait_idle()
    op = await harness.finished_operation(type="action", state="failed")
    assert op["error"] == "nobody to greet"
    assert op["result"]["error_type"] == "action_error"
    assert "greeting nobody" in texts(op)


async def test_a_proxy_call_is_recorded(harness: Harness) -> None:
    answer = await harness.client.get(
        "/proxy/hello?name=bob",
        headers={**CONN, "Nango-Proxy-Authorization": "Bearer forwarded-secret-1234"},
    )
    assert answer.status_code == 200
    op = await harness.finished_operation(type="proxy")
    assert op["state"] == "success"
    assert op["title"] == "proxy GET /hello"
    assert op["result"]["status"] == 200
    assert op["result"]["headers"] == {"authorization": "***"}
    (request,) = op["messages"]
    assert request["fields"]["status"] == 200 and request["fields"]["url"].endswith("?name=bob")

    missing = await harness.client.get("/proxy/nothing-here", headers=CONN)
    assert missing.status_code == 404
    op = await harness.finished_operation(type="proxy", state="failed")
    assert op["error"].startswith("the API answered 404")


async def test_connection_changes_are_recorded(harness: Harness) -> None:
    created = await harness.client.post(
        "/connections",
        json={
            "provider_config_key": "fake",
            "connection_id": "new",
            "credentials": {"type": "API_KEY", "apiKey": "k-123456"},
            "metadata": {"team": "a"},
        },
    )
    assert created.status_code == 201, created.text
    patched = await harness.client.post(
        "/connections/metadata",
        json={"connection_id": "new", "provider_config_key": "fake", "metadata": {"x": 1}},
    )
    assert patched.status_code == 201, patched.text
    deleted = await harness.client.delete("/connections/new")
    assert deleted.status_code == 200, deleted.text

    listed = (await harness.client.get("/logs", params={"type": "connection"})).json()
    titles = [o["title"] for o in listed["operations"] if o["connection_id"] == "new"]
    assert titles == ["connection deleted", "connection metadata replaced", "connection created"]
    assert all(o["state"] == "success" for o in listed["operations"])
    op = await harness.finished_operation(type="connection", connection="new", state="success")
    assert op["title"] == "connection deleted"


async def test_logs_filter_and_page_over_http(harness: Harness) -> None:
    await harness.trigger("items")
    await harness.finished_operation(script="items")
    await harness.trigger("broken", connection="c2")
    await harness.finished_operation(script="broken")
    for name in ("x", "y", "z"):
        answer = await harness.client.post(
            "/action/trigger", headers=CONN, json={"action_name": "greet", "input": {"name": name}}
        )
        assert answer.status_code == 200

    async def ids(**query: Any) -> list[str]:
        answer = await harness.client.get("/logs", params=query)
        assert answer.status_code == 200, answer.text
        return [o["script"] for o in answer.json()["operations"]]

    assert await ids(type="sync") == ["broken", "items"]
    assert await ids(state="failed") == ["broken"]
    assert await ids(state=["failed", "success"], type="sync") == ["broken", "items"]
    assert await ids(connection="c2") == ["broken"]
    assert await ids(connection_id="c1", type="sync") == ["items"]
    assert await ids(integration="fake", script="greet") == ["greet"] * 3
    assert await ids(provider_config_key="oauthy") == []
    assert await ids(**{"from": "2999-01-01T00:00:00Z"}) == []
    assert len(await ids(to="2999-01-01T00:00:00")) == 5

    seen: list[str] = []
    cursor = None
    while True:
        query: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await harness.client.get("/logs", params=query)).json()
        assert len(page["operations"]) <= 2
        seen += [o["id"] for o in page["operations"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = (await harness.client.get("/logs", params={"limit": 500})).json()
    assert seen == [o["id"] for o in everything["operations"]]
    assert len(seen) == 5
    starts = [o["started_at"] for o in everything["operations"]]
    assert starts == sorted(starts, reverse=True)


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"state": "done"}, "state"),
        ({"type": "sync,nope"}, "type"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2024-13-01"}, "to"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"integration": "a", "provider_config_key": "b"}, "integration"),
    ],
)
async def test_bad_input_is_a_400_naming_the_parameter(
    harness: Harness, query: dict[str, str], name: str
) -> None:
    answer = await harness.client.get("/logs", params=query)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_query_params"
    assert error["message"].startswith(name)


async def test_one_operation_by_id_and_auth(harness: Harness) -> None:
    missing = await harness.client.get("/logs/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    anonymous = await harness.client.get("/logs", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    schema = (await harness.client.get("/openapi.json")).json()
    listing = schema["paths"]["/logs"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listing["schema"] == {"$ref": "#/components/schemas/OperationList"}
    assert "/logs/{operation_id}" in schema["paths"]
