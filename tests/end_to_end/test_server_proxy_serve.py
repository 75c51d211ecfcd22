"""``/proxy`` of ``nango-scripts serve`` itself (a subprocess): bad input that reaches the
proxy only through a real HTTP server (a literal ``..``, a 70,000-character path, a raw
header byte) is a 4xx, never a 500, and no answer quotes the connection's secrets."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.fakeapi import FakeApi, Received
from support.server_harness import SECRET, free_port, make_project, serve, stop, wait_healthy

API_KEY = "k-PLANTED-0123"
REFRESH_TOKEN = "rt-PLANTED-4567"
PLANTED = (API_KEY, REFRESH_TOKEN)


class Serve:
    def __init__(self, url: str, api: FakeApi, log: Path) -> None:
        self.url = url
        self.api = api
        self.log = log
        self.client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=30
        )

    def proxy(self, path: str, integration: str = "fake", **headers: str) -> httpx.Response:
        return self.client.get(
            f"/proxy/{path}",
            headers={"Connection-Id": "c1", "Provider-Config-Key": integration, **headers},
        )

    def raw(self, target: str, extra: bytes = b"") -> tuple[int, bytes]:
        """A request sent byte for byte: what no HTTP client library would send."""
        host, port = self.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(
                f"GET {target} HTTP/1.1\r\nHost: {host}\r\n".encode()
                + f"Authorization: Bearer {SECRET}\r\n".encode()
                + b"Connection-Id: c1\r\nProvider-Config-Key: fake\r\n"
                + extra
                + b"Connection: close\r\n\r\n"
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        return int(head.split(b" ")[1]), body


def _token(request: Received) -> tuple[int, dict[str, str], Any]:
    refresh = request.form().get("refresh_token")
    return 400, {}, {"error": "invalid_grant", "error_description": f"{refresh} was revoked"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    tmp = tmp_path_factory.mktemp("proxy_serve")
    with FakeApi() as api:
        api.route("/v1/users", lambda r: (200, {}, {"x-name": r.headers.get("x-name")}))
        api.route("/token", _token)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NANGO_")}
        env.update(make_project(tmp, api))
        env["NANGO_SECRET_KEY"] = SECRET
        env["NANGO_INTEGRATION_FAKE_BASE_URL"] = api.url + "/v1"
        toml = Path(env["NANGO_SCRIPTS_PROJECT"]) / "nango.toml"
        toml.write_text(
            toml.read_text().replace(
                'token_url = "http://127.0.0.1:9/token"', f'token_url = "{api.url}/token"'
            )
        )
        port = free_port()
        log = tmp / "serve.log"
        process = serve(env, port, log)
        try:
            served = Serve(f"http://127.0.0.1:{port}", api, log)
            wait_healthy(served.url, process, log)
            for integration, credentials in (
                ("fake", {"type": "API_KEY", "apiKey": API_KEY}),
                (
                    "oauthy",
                    {
                        "type": "OAUTH2",
                        "access_token": "at-old",
                        "refresh_token": REFRESH_TOKEN,
                        "expires_at": "2000-01-01T00:00:00Z",
                    },
                ),
            ):
                created = served.client.post(
                    "/connections",
                    json={
                        "connection_id": "c1",
                        "provider_config_key": integration,
                        "credentials": credentials,
                    },
                )
                assert created.status_code == 201, created.text
            yield served
        finally:
            served.client.close()
            stop(process, log)
        assert " 500 " not in log.read_text()
        assert "Traceback" not in log.read_text()


def _refused(status: int, body: bytes | str, code: str, words: str) -> None:
    text = body.decode("latin-1") if isinstance(body, bytes) else body
    assert status == 400, text
    assert f'"code":"{code}"' in text.replace(" ", "")
    assert words in text
    for secret in PLANTED:
        assert secret not in text


def test_a_literal_dot_dot_never_leaves_the_base_path(served: Serve) -> None:
    status, body = served.raw("/proxy/../../etc/passwd")
    _refused(status, body, "invalid_request", "climb above the base URL's path")
    status, body = served.raw("/proxy/v1/../../../etc/passwd")
    _refused(status, body, "invalid_request", "climb above the base URL's path")
    assert [r.path for r in served.api.requests if "passwd" in r.path] == []


def test_a_url_in_the_path_never_reaches_its_host(served: Serve) -> None:
    with FakeApi() as other:
        other.route("/steal", lambda r: (200, {}, {}))
        answer = served.proxy(other.url.replace("127.0.0.1", "localhost") + "/steal")
        assert answer.status_code == 404  # the API's answer: a path it does not have
        assert other.requests == []


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("http://127.0.0.1:99999", "port 99999 is not in 1..65535"),
        ("http://[::1", "Invalid port"),
        ("http://u:p@h:abc", "Invalid port: 'abc'"),
    ],
)
def test_an_unusable_base_url_override_is_a_400(served: Serve, override: str, words: str) -> None:
    answer = served.proxy("users", **{"Base-Url-Override": override})
    _refused(answer.status_code, answer.text, "invalid_request", words)


def test_a_content_length_that_contradicts_the_body_is_a_400(served: Serve) -> None:
    answer = served.client.post(
        "/proxy/users",
        content=b"hello world",
        headers={
            "Connection-Id": "c1",
            "Provider-Config-Key": "fake",
            "Nango-Proxy-Content-Length": "1",
        },
    )
    _refused(answer.status_code, answer.text, "invalid_headers", "Content-Length")


def test_a_header_byte_0xff_is_relayed(served: Serve) -> None:
    status, body = served.raw("/proxy/users", b"Nango-Proxy-X-Name: a\xffb\r\n")
    assert status == 200, body
    assert served.api.requests_to("/v1/users")[-1].headers["x-name"] == "a\xffb"


def test_a_path_of_70000_characters_is_a_400(served: Serve) -> None:
    status, body = served.raw("/proxy/" + "a" * 70_000)
    _refused(status, body, "invalid_request", "characters long; at most 65,536 are allowed")
    assert len(body) < 1_000


def test_a_failed_refresh_is_a_424_that_masks_the_token_it_quotes(served: Serve) -> None:
    answer = served.proxy("users", integration="oauthy")
    assert answer.status_code == 424, answer.text
    assert answer.json()["error"]["code"] == "connection_refresh_failed"
    assert "invalid_grant: *** was revoked" in answer.json()["error"]["message"]
    assert REFRESH_TOKEN not in answer.text
