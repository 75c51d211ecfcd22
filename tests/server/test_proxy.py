"""/proxy/{path}: forwarded to the integration's API with the connection's credentials,
the upstream answer relayed as is."""

from __future__ import annotations

from typing import Any

import pytest
from support.fakeapi import FakeApi, Received
from support.server_harness import Harness

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


def elsewhere(api: FakeApi) -> str:
    """The same server under another host name: not the integration's host."""
    return api.url.replace("127.0.0.1", "localhost")


async def test_a_url_as_the_path_stays_a_path_under_the_base_url(harness: Harness) -> None:
    with FakeApi() as other:
        other.route("/steal", echo)
        foreign, same_host = elsewhere(other), other.url
        for target in (f"{foreign}/steal", f"{same_host}/steal", "//localhost/steal"):
            answer = await harness.client.get(f"/proxy/{target}", headers=CONN)
            assert answer.status_code == 404  # the API's own answer: no such path there
        assert other.requests == []
    # Only Base-Url-Override changes the host: each URL went to the API as a path.
    assert [r.target for r in harness.api.requests] == [
        f"/{foreign}/steal",
        f"/{same_host}/steal",
        "/localhost/steal",
    ]
    assert all("x-key" in r.headers for r in harness.api.requests)


@pytest.mark.parametrize(
    "path", ["%2e%2e/%2e%2e/etc/passwd", "v1/%2E%2E/%2e./etc/passwd", "..%2f..%2fetc/passwd"]
)
async def test_dot_segments_never_leave_the_base_path(harness: Harness, path: str) -> None:
    harness.api.route("/etc/passwd", echo)
    answer = await harness.client.get(
        f"/proxy/{path}", headers={**CONN, "Base-Url-Override": harness.api.url + "/v1"}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_request"
    assert "climb above the base URL's path" in answer.json()["error"]["message"]
    assert harness.api.requests == []


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ("http://127.0.0.1:99999", "port 99999 is not in 1..65535"),
        ("http://[::1", "Invalid port"),
        ("http://u:pw-PLANTED@h:abc", "Invalid port: 'abc'"),
    ],
)
async def test_an_unusable_base_url_override_is_a_400(
    harness: Harness, override: str, reason: str
) -> None:
    answer = await harness.client.get(
        "/proxy/v1/users", headers={**CONN, "Base-Url-Override": override}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_request"
    assert reason in answer.json()["error"]["message"]
    assert "PLANTED" not in answer.text


async def test_framing_and_host_cannot_be_forwarded(harness: Harness) -> None:
    harness.api.route("/v1/items", echo)
    for name in ("Content-Length", "Transfer-Encoding", "Host"):
        answer = await harness.client.post(
            "/proxy/v1/items",
            content=b"hello world",
            headers={**CONN, f"Nango-Proxy-{name}": "1"},
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "invalid_headers"
        assert f"Nango-Proxy-{name} cannot be forwarded" in answer.json()["error"]["message"]
    assert harness.api.requests_to("/v1/items") == []


async def test_header_bytes_are_relayed_as_they_came(harness: Harness) -> None:
    harness.api.route("/v1/users", echo)
    answer = await harness.client.get(
        "/proxy/v1/users", headers=[*CONN.items(), (b"Nango-Proxy-X-Name", b"caf\xe9 \xff")]
    )
    assert answer.status_code == 200, answer.text
    assert harness.api.requests_to("/v1/users")[-1].headers["x-name"] == "caf\xe9 \xff"
