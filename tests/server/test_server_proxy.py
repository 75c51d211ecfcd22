"""/proxy/{path}: forwarded to the integration's API with the connection's credentials,
the upstream answer relayed as is."""

from __future__ import annotations

from typing import Any

import pytest
from fakeapi import FakeApi, Received
from server_harness import Harness

pytestmark = pytest.mark.anyio

CONN = {"Connection-Id": "c1", "Provider-Config-Key": "fake", "Base-Url-Override": ""}


def echo(request: Received) -> tuple[int, dict[str, str], Any]:
    return 200, {"X-Upstream": "yes"}, {"method": request.method, "path": request.path}


async def test_get_with_query_headers_and_credentials(harness: Harness) -> None:
    harness.api.route("/v1/users", echo)
    answer = await harness.client.get(
        "/proxy/v1/users?q=x+y&ids=1&ids=2",
        headers={**CONN, "Nango-Proxy-X-Custom": "v", "Nango-Activity-Log-Id": ""},
    )
    assert answer.status_code == 200
    assert answer.json() == {"method": "GET", "path": "/v1/users"}
    assert answer.headers["x-upstream"] == "yes"
    assert answer.headers["content-type"] == "application/json"
    sent = harness.api.requests_to("/v1/users")[-1]
    assert sent.query_all == {"q": ["x y"], "ids": ["1", "2"]}
    assert sent.headers["x-custom"] == "v"
    assert sent.headers["x-key"] == "upstream-key"
    assert "authorization" not in sent.headers  # our secret key never goes upstream
    assert "connection-id" not in sent.headers


async def test_body_and_content_type_are_forwarded(harness: Harness) -> None:
    harness.api.route("/v1/items", lambda r: (201, {}, {"got": r.json()}))
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        answer = await harness.client.request(
            method, "/proxy/v1/items", json={"name": "thing"}, headers=CONN
        )
        assert (answer.status_code, answer.json()) == (201, {"got": {"name": "thing"}})
        sent = harness.api.requests_to("/v1/items")[-1]
        assert sent.method == method
        assert sent.headers["content-type"] == "application/json"
    text = await harness.client.post(
        "/proxy/v1/items",
        content=b'"plain"',
        headers={
            **CONN,
            "Content-Type": "text/plain",
            "Nango-Proxy-Content-Type": "application/json",
        },
    )
    assert text.status_code == 201
    assert harness.api.requests_to("/v1/items")[-1].headers["content-type"] == "application/json"


async def test_upstream_errors_are_passed_through_as_they_are(harness: Harness) -> None:
    harness.api.route(
        "/v1/missing", lambda r: (404, {"Content-Type": "text/plain"}, "no such thing")
    )
    answer = await harness.client.get("/proxy/v1/missing", headers=CONN)
    assert answer.status_code == 404
    assert answer.text == "no such thing"
    assert answer.headers["content-type"] == "text/plain"
    harness.api.route("/v1/broken", lambda r: (503, {}, {"upstream": "down"}))
    broken = await harness.client.get("/proxy/v1/broken", headers=CONN)
    assert (broken.status_code, broken.json()) == (503, {"upstream": "down"})
    assert len(harness.api.requests_to("/v1/broken")) == 1  # no retries unless asked


async def test_retries_header_retries_5xx(harness: Harness) -> None:
    calls: list[int] = []

    def flaky(_: Received) -> tuple[int, dict[str, str], Any]:
        calls.append(1)
        if len(calls) < 2:
            return 503, {"Retry-After": "0"}, {"try": "again"}
        return 200, {}, {"ok": True}

    harness.api.route("/v1/flaky", flaky)
    answer = await harness.client.get("/proxy/v1/flaky", headers={**CONN, "Retries": "2"})
    assert (answer.status_code, answer.json()) == (200, {"ok": True})
    assert len(calls) == 2


async def test_base_url_override(harness: Harness) -> None:
    with FakeApi() as other:
        other.route("/alt/v1/users", echo)
        answer = await harness.client.get(
            "/proxy/v1/users", headers={**CONN, "Base-Url-Override": other.url + "/alt"}
        )
        assert answer.status_code == 200
        assert answer.json()["path"] == "/alt/v1/users"
        assert other.requests[-1].headers["x-key"] == "upstream-key"
    assert not harness.api.requests_to("/v1/users")


async def test_unreachable_api_is_a_502_and_bad_headers_are_400(harness: Harness) -> None:
    down = await harness.client.get(
        "/proxy/v1/users", headers={**CONN, "Base-Url-Override": "http://127.0.0.1:9"}
    )
    assert down.status_code == 502
    assert down.json()["error"]["code"] == "upstream_unreachable"
    missing = await harness.client.get("/proxy/v1/users", headers={"Provider-Config-Key": "fake"})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "invalid_headers"
    ghost = await harness.client.get(
        "/proxy/v1/users", headers={"Connection-Id": "ghost", "Provider-Config-Key": "fake"}
    )
    assert ghost.status_code == 400
    assert ghost.json()["error"]["code"] == "unknown_connection"
    retries = await harness.client.get("/proxy/v1/users", headers={**CONN, "Retries": "many"})
    assert retries.status_code == 400
    assert "Retries" in retries.json()["error"]["message"]
