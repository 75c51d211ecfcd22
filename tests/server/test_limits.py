"""The service's door (``server/_limits.py``) as clients meet it: bodies over the size
limit, NUL in an id, JSON nested too deep or holding a lone surrogate. ``nango-scripts
serve`` runs as a subprocess, on SQLite and on PostgreSQL; a few cases the HTTP server
itself would refuse (NUL in a header) and a database failure run in-process."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from support.fakeapi import FakeApi
from support.postgres_schema import BACKENDS, postgres_schema
from support.server_harness import (
    API_KEY,
    SECRET,
    Harness,
    free_port,
    make_project,
    serve,
    stop,
    wait_healthy,
)

from nango_scripts.settings import load_settings
from nango_scripts.store import ConnectionStore

MAX_BODY = 4096
CONNECTION = {"Connection-Id": "c1", "Provider-Config-Key": "fake"}
DRIVER_WORDS = ("postgres", "0x00", "psycopg", "sqlite", "database", "traceback")


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state/nango.db"
        return
    with postgres_schema() as url:
        yield url


class Served:
    def __init__(self, url: str, env: dict[str, str], log: Path, api: FakeApi) -> None:
        self.url = url
        self.env = env
        self.log = log
        self.api = api
        self.client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=20
        )

    def store(self) -> ConnectionStore:
        return ConnectionStore.open(load_settings(self.env["NANGO_SCRIPTS_PROJECT"], self.env))


@pytest.fixture
def served(database_url: str, tmp_path: Path, fake_api: FakeApi) -> Iterator[Served]:
    """``serve`` over the project of server_harness, with a body limit of 4 KiB and the
    connection ``fake``/``c1`` imported through the API."""
    env = {
        **os.environ,
        **make_project(tmp_path, fake_api),
        "NANGO_SECRET_KEY": SECRET,
        "NANGO_SCRIPTS_DATABASE_URL": database_url,
        "NANGO_SCRIPTS_SERVER_MAX_BODY_BYTES": str(MAX_BODY),
    }
    fake_api.route("/hello", lambda r: (200, {}, {"text": f"hello {r.query.get('name')}"}))
    port = free_port()
    log = tmp_path / "serve.log"
    process = serve(env, port, log)
    served = Served(f"http://127.0.0.1:{port}", env, log, fake_api)
    try:
        wait_healthy(served.url, process, log)
        created = served.client.post(
            "/connections",
            json={
                "provider_config_key": "fake",
                "connection_id": "c1",
                "credentials": {"type": "API_KEY", "apiKey": API_KEY},
                "metadata": {"team": "a"},
            },
        )
        assert created.status_code == 201, created.text
        yield served
    finally:
        served.client.close()
        stop(process, log)


def assert_refused(answer: httpx.Response, status: int, code: str, *words: str) -> None:
    assert answer.status_code == status, (answer.request.url, answer.text)
    error = answer.json()["error"]
    assert error["code"] == code, answer.text
    for word in words:
        assert word in error["message"], answer.text
    shown = answer.text.lower()
    assert not any(word in shown for word in DRIVER_WORDS), answer.text


def metadata_of(served: Served) -> Any:
    answer = served.client.get(
        "/connections/metadata", params={"connection_id": "c1", "provider_config_key": "fake"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["metadata"]


# -- JSON nesting --------------------------------------------------------------------------


def test_json_nested_too_deep_is_refused_naming_the_limit_wherever_it_is_sent(
    served: Served,
) -> None:
    deep = nested(300)
    client = served.client
    sent = [
        client.post(
            "/connections/metadata",
            json={"metadata": deep, "connection_id": "c1", "provider_config_key": "fake"},
        ),
        client.patch(
            "/connections/metadata",
            json={"metadata": deep, "connection_id": "c1", "provider_config_key": "fake"},
        ),
        client.post(
            "/connections",
            json={
                "provider_config_key": "fake",
                "connection_id": "c1",
                "credentials": {"type": "API_KEY", "apiKey": API_KEY},
                "metadata": deep,
            },
        ),
        client.post(
            "/connections",
            json={
                "provider_config_key": "oauthy",
                "connection_id": "c2",
                "credentials": {"type": "OAUTH2", "access_token": "t", "raw": deep},
            },
        ),
        client.post(
            "/action/trigger",
            headers=CONNECTION,
            json={"action_name": "greet", "input": {"name": "ada", "extra": deep}},
        ),
    ]
    for answer in sent:
        assert_refused(answer, 400, "invalid_body", "nests deeper than 64 levels")
    # every reader keeps working, and nothing changed
    assert client.get("/connections").status_code == 200
    assert metadata_of(served) == {"team": "a"}
    assert served.api.requests_to("/hello") == []
    assert [c["connection_id"] for c in client.get("/connections").json()["connections"]] == ["c1"]


def test_a_stored_value_no_reader_could_serve_no_longer_breaks_the_listing(
    served: Served,
) -> None:
    """Stored before the limits existed (the database is written directly): the listing,
    the connection and its metadata are answered, and the metadata can be replaced."""
    with served.store() as store:
        store.create("fake", "c2", {"type": "API_KEY", "apiKey": API_KEY})
        store._db.execute(
            "UPDATE connections SET metadata = ? WHERE connection_id = ?",
            (json.dumps(nested(300)), "c1"),
        )
    client = served.client
    listed = client.get("/connections")
    assert listed.status_code == 200, listed.text
    assert {c["connection_id"]: c["metadata"] for c in listed.json()["connections"]} == {
        "c1": None,
        "c2": None,
    }
    assert client.get("/connections/c1").status_code == 200
    assert metadata_of(served) == {}
    replaced = client.post(
        "/connections/metadata",
        json={"metadata": {"team": "b"}, "connection_id": "c1", "provider_config_key": "fake"},
    )
    assert replaced.status_code == 201, replaced.text
    assert metadata_of(served) == {"team": "b"}


# -- lone surrogates -----------------------------------------------------------------------


def test_a_lone_surrogate_is_refused_before_anything_runs(served: Served) -> None:
    client = served.client
    json_type = {"Content-Type": "application/json"}
    action = client.post(
        "/action/trigger",
        headers={**CONNECTION, **json_type},
        content=b'{"action_name": "greet", "input": {"name": "\\ud800"}}',
    )
    assert_refused(action, 400, "invalid_body", "lone surrogate")
    assert served.api.requests_to("/hello") == []  # the action never ran
    raw_bytes = client.post(
        "/connections/metadata",
        headers=json_type,
        content=b'{"metadata": {"x": "\xed\xa0\x80"}, "connection_id": "c1",'
        b' "provider_config_key": "fake"}',
    )
    assert_refused(raw_bytes, 400, "invalid_body", "lone surrogate")
    escaped = client.patch(
        "/connections/metadata",
        headers=json_type,
        content=b'{"metadata": {"\\udc00": 1}, "connection_id": "c1",'
        b' "provider_config_key": "fake"}',
    )
    assert_refused(escaped, 400, "invalid_body", "lone surrogate")
    assert metadata_of(served) == {"team": "a"}
    # a whole pair, escaped, is a character like any other
    emoji = client.post(
        "/action/trigger",
        headers={**CONNECTION, **json_type},
        content=b'{"action_name": "greet", "input": {"name": "\\ud83d\\ude00"}}',
    )
    assert emoji.status_code == 200, emoji.text
    assert emoji.json() == {"text": "hello \U0001f600"}


# -- NUL in ids ----------------------------------------------------------------------------


def test_nul_in_any_id_is_a_400_that_shows_no_database_message(served: Served) -> None:
    client = served.client
    gets: list[tuple[str, dict[str, str], str]] = [
        ("/records?model=Item%00", CONNECTION, "invalid_query_params"),
        ("/records?model=Item&ids=1%00", CONNECTION, "invalid_query_params"),
        ("/connections/c%001", {}, "invalid_uri_params"),
        ("/connections/metadata?connection_id=c%00&provider_config_key=fake", {}, ""),
        ("/logs?script=a%00", {}, "invalid_query_params"),
        ("/logs/a%00b", {}, "invalid_uri_params"),
        ("/sync/status?syncs=items%00&provider_config_key=fake&connection_id=c1", {}, ""),
        ("/action/a%00", {}, "invalid_uri_params"),
        ("/proxy/items%00", CONNECTION, "invalid_uri_params"),
    ]
    for target, headers, code in gets:
        answer = client.get(target, headers=headers)
        assert_refused(answer, 400, code or "invalid_query_params", "NUL")
    bodies: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/sync/trigger", {"syncs": ["items"], "connection_id": "c\x00"}),
        ("POST", "/sync/pause", {"syncs": ["items\x00"], "connection_id": "c1"}),
        ("POST", "/connections/metadata", {"metadata": {}, "connection_id": "c1\x00"}),
        ("POST", "/connections", {"connection_id": "c\x00", "credentials": {}}),
    ]
    for method, path, body in bodies:
        answer = client.request(method, path, json={"provider_config_key": "fake", **body})
        assert_refused(answer, 400, "invalid_body", "NUL")
    # the Activity page, logged in: its operation ids and filters are ids too
    page = httpx.Client(base_url=served.url, timeout=20)
    try:
        login = page.post("/login", data={"key": SECRET})
        assert login.status_code in (200, 303), login.text
        for target in ("/activity/%00", "/activity/a%00/fragment", "/?integration=%00"):
            answer = page.get(target)
            assert_refused(answer, 400, answer.json()["error"]["code"], "NUL")
    finally:
        page.close()
    assert "Traceback" not in served.log.read_text()


# -- body size -----------------------------------------------------------------------------


def _raw_request(url: str, head: bytes, body: bytes) -> bytes:
    """Send ``head`` and the start of a body, never the rest, then read the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=5) as sock:
        sock.sendall(head + body)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            raise AssertionError(f"no whole answer while the body is unsent: {answer!r}") from None
    return answer


def test_a_body_over_the_limit_is_413_before_it_is_read_whole(served: Served) -> None:
    # 100 MB announced, 1 KB sent: the answer comes without waiting for the rest
    head = (
        b"POST /connections/metadata HTTP/1.1\r\nHost: test\r\n"
        b"Authorization: Bearer " + SECRET.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
    )
    answer = _raw_request(served.url, head, b"{" + b" " * 1023)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large", answer
    assert answer.rstrip().endswith(b"}"), answer  # whole, with 1 KB of 100 MB sent
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "payload_too_large"
    assert "4 KiB (4096 bytes)" in body["error"]["message"]
    assert "max_body_bytes" in body["error"]["message"]

    client = served.client
    over = {"metadata": {"a": "x" * MAX_BODY}, "connection_id": "c1", "provider_config_key": "fake"}
    assert_refused(client.post("/connections/metadata", json=over), 413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: read only up to the limit
        yield json.dumps(over).encode()

    chunked = client.post(
        "/connections/metadata", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_refused(chunked, 413, "payload_too_large")
    under = {"metadata": {"a": "x" * 3000}, "connection_id": "c1", "provider_config_key": "fake"}
    assert client.post("/connections/metadata", json=under).status_code == 201
    assert metadata_of(served) == {"a": "x" * 3000}


# -- in-process: what the HTTP server refuses first, and a failing database ----------------


@pytest.mark.anyio
async def test_nul_in_a_header_used_as_an_id_is_a_400(harness: Harness) -> None:
    answer = await harness.client.get(
        "/records", params={"model": "Item"}, headers={**CONNECTION, "Connection-Id": "c\x00"}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_headers"
    assert "connection-id" in answer.json()["error"]["message"]


@pytest.mark.anyio
async def test_metadata_over_its_size_limit_is_refused_and_nothing_changes(
    harness: Harness,
) -> None:
    """Under the body limit (10 MiB by default), over the stored metadata's (1 MiB)."""
    big = {"a": "x" * (1024 * 1024)}
    client = harness.client
    for answer in (
        await client.post(
            "/connections/metadata",
            json={"metadata": big, "connection_id": "c1", "provider_config_key": "fake"},
        ),
        await client.post(
            "/connections",
            json={
                "provider_config_key": "fake",
                "connection_id": "c1",
                "credentials": {"type": "API_KEY", "apiKey": "replaced"},
                "metadata": big,
            },
        ),
    ):
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "invalid_body"
        assert "over the limit of 1 MiB" in answer.json()["error"]["message"]
    kept = harness.service.connections.get("fake", "c1")
    assert (kept.metadata, kept.credentials["apiKey"]) == ({"team": "a"}, API_KEY)


@pytest.mark.anyio
async def test_a_database_failure_shows_no_driver_message(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.service.connections._db.close()
    with caplog.at_level("ERROR", logger="nango_scripts.server"):
        answer = await harness.client.get(
            "/connections/metadata?connection_id=c1&provider_config_key=fake"
        )
    assert answer.status_code == 500
    assert answer.json() == {
        "error": {
            "code": "server_error",
            "message": "The database failed to answer; see the server log.",
        }
    }
    assert "The connections database failed" in caplog.text  # the detail, for the operator
