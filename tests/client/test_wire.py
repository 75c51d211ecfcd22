"""What goes on the wire: the requests of Nango's Node client (docs/nango-node-client.md),
captured at the transport seam."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from nango_scripts.client import Nango

KEY = "sk_wire"


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.reply: Callable[[httpx.Request], httpx.Response] = lambda _: httpx.Response(
            200, json={}
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.reply(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self) -> Any:
        return json.loads(self.last.content)


@pytest.fixture
def wire() -> Recorder:
    return Recorder()


@pytest.fixture
def nango(wire: Recorder) -> Iterator[Nango]:
    with Nango(
        secret_key=KEY, host="http://nango.test:1/", transport=httpx.MockTransport(wire)
    ) as n:
        yield n


def test_list_records_as_the_node_client_sends_it(wire: Recorder, nango: Nango) -> None:
    wire.reply = lambda _: httpx.Response(200, json={"records": [], "next_cursor": None})
    nango.list_records(
        "github",
        "acme",
        "My Model",
        modified_after="2024-01-01T00:00:00.000Z",
        limit=50,
        filter=["added", "updated"],
        cursor="abc==",
        ids=[1, "a b"],
    )
    sent = wire.last
    assert (sent.method, sent.url.host, sent.url.path) == ("GET", "nango.test", "/records/")
    assert sent.url.query.decode() == (
        "model=My+Model&modified_after=2024-01-01T00%3A00%3A00.000Z&limit=50"
        "&filter=added%2Cupdated&cursor=abc%3D%3D&ids=1&ids=a+b"
    )
    assert sent.headers["Connection-Id"] == "acme"
    assert sent.headers["Provider-Config-Key"] == "github"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.headers["User-Agent"].startswith("nango-scripts-python/")
    assert "content-type" not in sent.headers
    assert sent.content == b""


def test_sync_calls(wire: Recorder, nango: Nango) -> None:
    nango.trigger_sync("pck", ["s1"], "c1", reset=True)
    assert wire.last.url.path == "/sync/trigger"
    assert wire.last.content == (
        b'{"syncs":["s1"],"provider_config_key":"pck","connection_id":"c1",'
        b'"opts":{"reset":true,"emptyCache":false}}'
    )
    assert wire.last.headers["Content-Type"] == "application/json"
    nango.trigger_sync("pck")
    assert wire.body() == {"syncs": [], "provider_config_key": "pck"}
    nango.pause_sync("pck", ["s1", "s2"])
    assert (wire.last.url.path, wire.body()) == (
        "/sync/pause",
        {"syncs": ["s1", "s2"], "provider_config_key": "pck"},
    )
    nango.start_sync("pck", "s1", "c1")
    assert (wire.last.url.path, wire.body()) == (
        "/sync/start",
        {"syncs": ["s1"], "provider_config_key": "pck", "connection_id": "c1"},
    )
    wire.reply = lambda _: httpx.Response(200, json={"syncs": []})
    assert nango.sync_status("pck", ["s1", "s2::v"], "c1") == []
    assert dict(wire.last.url.params) == {
        "syncs": "s1,s2::v",
        "provider_config_key": "pck",
        "connection_id": "c1",
    }
    nango.sync_status("pck")
    assert dict(wire.last.url.params) == {"syncs": "*", "provider_config_key": "pck"}
    wire.reply = lambda _: httpx.Response(200, json={"frequency": "every day"})
    assert nango.update_sync_connection_frequency("pck", "s1::v", "c1", None) == "every day"
    assert (wire.last.method, wire.last.content) == (
        "PUT",
        b'{"sync_name":"s1","sync_variant":"v","provider_config_key":"pck",'
        b'"connection_id":"c1","frequency":null}',
    )


def test_action_calls(wire: Recorder, nango: Nango) -> None:
    wire.reply = lambda _: httpx.Response(200, json="out")
    assert nango.trigger_action("pck", "c1", "act") == "out"
    assert wire.last.content == b'{"action_name":"act"}'  # no input: no key
    assert "X-Async" not in wire.last.headers
    wire.reply = lambda _: httpx.Response(202, json={"id": "u1", "statusUrl": "/action/u1"})
    handle = nango.trigger_action_async("pck", "c1", "act", {"a": None})
    assert wire.body() == {"action_name": "act", "input": {"a": None}}
    assert wire.last.headers["X-Async"] == "true"
    wire.reply = lambda _: httpx.Response(200, json=[1])
    assert nango.get_async_action_result(handle) == [1]
    assert str(wire.last.url) == "http://nango.test:1/action/u1"
    assert "Connection-Id" not in wire.last.headers


def test_connection_calls(wire: Recorder, nango: Nango) -> None:
    details = {"id": 1, "connection_id": "a b/c", "provider_config_key": "p", "provider": "p"}
    wire.reply = lambda _: httpx.Response(200, json={**details, "metadata": None, "new": 1})
    connection = nango.get_connection("p&k", "a b/c")
    assert connection.model_extra == {"new": 1}  # unknown fields are kept
    assert wire.last.url.raw_path.decode() == (
        "/connections/a%20b%2Fc?provider_config_key=p%26k&force_refresh=false"
        "&refresh_token=false&refresh_github_app_jwt_token=false"
    )
    assert nango.get_metadata("p", "x") == {}  # null metadata
    nango.set_metadata("p", "c1", {"k": "v"})
    assert (wire.last.method, wire.last.url.path, wire.last.content) == (
        "POST",
        "/connections/metadata",
        b'{"metadata":{"k":"v"},"connection_id":"c1","provider_config_key":"p"}',
    )
    nango.update_metadata("p", ("c1", "c2"), {"k": "v"})
    assert (wire.last.method, wire.body()["connection_id"]) == ("PATCH", ["c1", "c2"])
    nango.delete_connection("p", "c/1")
    assert (wire.last.method, wire.last.url.raw_path) == (
        "DELETE",
        b"/connections/c%2F1?provider_config_key=p",
    )
    nango.patch_connection("p", "c/1", webhook_url_override="https://h.test/x")
    assert (wire.last.method, wire.last.url.raw_path, wire.last.content) == (
        "PATCH",
        b"/connections/c%2F1?provider_config_key=p",
        b'{"webhook_url_override":"https://h.test/x"}',
    )
    nango.patch_connection("p", "c1", webhook_url_override=None, tags={"t": "1"})
    assert wire.last.content == b'{"tags":{"t":"1"},"webhook_url_override":null}'
    wire.reply = lambda _: httpx.Response(200, json={**details, "credentials": {}})
    nango.import_connection("p", "c1", {}, webhook_url_override="https://h.test/y")
    assert wire.body()["webhook_url_override"] == "https://h.test/y"
    nango.import_connection("p", "c1", {})
    assert "webhook_url_override" not in wire.body()
    wire.reply = lambda _: httpx.Response(200, json={"connections": []})
    nango.list_connections(integration_id=["a", "b"], limit=10)
    assert wire.last.url.query == b"integrationId=a%2Cb&limit=10"


def test_proxy_headers(wire: Recorder, nango: Nango) -> None:
    nango.proxy(
        "GET",
        "v1/users",
        "pck",
        "c1",
        params=[("q", "x y")],
        headers={"X-Custom": "v"},
        retries=3,
        base_url_override="https://other",
    )
    sent = wire.last
    assert sent.url.raw_path == b"/proxy/v1/users?q=x+y"
    assert sent.headers["Nango-Proxy-X-Custom"] == "v"
    assert "X-Custom" not in sent.headers
    assert (sent.headers["Retries"], sent.headers["Base-Url-Override"]) == ("3", "https://other")
    assert (sent.headers["Connection-Id"], sent.headers["Provider-Config-Key"]) == ("c1", "pck")


def test_a_host_with_a_path_prefix(wire: Recorder) -> None:
    wire.reply = lambda _: httpx.Response(200, json={"data": []})
    transport = httpx.MockTransport(wire)
    with Nango(secret_key=KEY, host="https://gw.test/nango/", transport=transport) as nango:
        assert nango.list_integrations() == []
    assert str(wire.last.url) == "https://gw.test/nango/integrations"


def test_answers_that_are_not_json(wire: Recorder, nango: Nango) -> None:
    wire.reply = lambda _: httpx.Response(200, text="just a string")
    assert nango.trigger_action("p", "c", "a") == "just a string"
    wire.reply = lambda _: httpx.Response(204)
    assert nango.trigger_action("p", "c", "a") is None
