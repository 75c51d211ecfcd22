"""The proxy: requests reach the integration's API (the fake API on 127.0.0.1) with the
connection's credentials; its answer comes back as an ``httpx.Response``."""

from __future__ import annotations

from typing import Any

import pytest
from support.fakeapi import Received
from support.server_harness import API_KEY, Harness

from nango_scripts.client import AsyncNango, NangoAPIError, NangoNotFoundError

pytestmark = pytest.mark.anyio


def _echo(request: Received) -> tuple[int, dict[str, str], Any]:
    return (
        200,
        {"X-Upstream": "yes"},
        {
            "method": request.method,
            "path": request.path,
            "query": request.query_all,
            "headers": request.headers,
            "body": request.body.decode(),
        },
    )


@pytest.fixture
def echo(harness: Harness) -> None:
    harness.api.route("/echo", _echo)
    harness.api.route("/v1/echo", _echo)


async def test_get_with_params_and_headers(echo: None, anango: AsyncNango) -> None:
    response = await anango.get(
        "/echo?z=1", "fake", "c1", params={"q": "x y", "n": [1, 2]}, headers={"X-Custom": "v"}
    )
    assert response.status_code == 200
    assert response.headers["x-upstream"] == "yes"
    seen = response.json()
    assert (seen["method"], seen["path"]) == ("GET", "/echo")
    assert seen["query"] == {"z": ["1"], "q": ["x y"], "n": ["1", "2"]}
    assert seen["headers"]["x-custom"] == "v"
    assert seen["headers"]["x-key"] == API_KEY  # the connection's credentials
    assert "authorization" not in seen["headers"]  # our secret key stays here


async def test_bodies_and_methods(echo: None, anango: AsyncNango) -> None:
    posted = (await anango.post("v1/echo", "fake", "c1", json={"a": [1, "é"]})).json()
    assert (posted["method"], posted["path"]) == ("POST", "/v1/echo")
    assert posted["headers"]["content-type"] == "application/json"
    assert posted["body"] == '{"a":[1,"é"]}'
    text = await anango.put(
        "/echo", "fake", "c1", data="plain", headers={"Content-Type": "text/plain"}
    )
    assert (text.json()["body"], text.json()["headers"]["content-type"]) == ("plain", "text/plain")
    assert (await anango.patch("/echo", "fake", "c1", data=b"raw")).json()["method"] == "PATCH"
    assert (await anango.delete("/echo", "fake", "c1")).json()["method"] == "DELETE"
    generic = await anango.proxy("get", "/echo", "fake", "c1")
    assert generic.json()["method"] == "GET"
    with pytest.raises(ValueError, match="json or data"):
        await anango.post("/echo", "fake", "c1", json={}, data="x")


async def test_the_apis_errors_and_ours(harness: Harness, anango: AsyncNango) -> None:
    harness.api.route("/missing", lambda _: (404, {}, {"message": "no such thing"}))
    with pytest.raises(NangoNotFoundError) as upstream:
        await anango.get("/missing", "fake", "c1")
    assert upstream.value.code == "http_404"  # not Nango's shape: the API's own answer
    assert upstream.value.response is not None
    assert upstream.value.response.json() == {"message": "no such thing"}
    with pytest.raises(NangoAPIError) as unreachable:
        await anango.get("/echo", "fake", "c1", base_url_override="http://127.0.0.1:9")
    assert (unreachable.value.status, unreachable.value.code) == (502, "upstream_unreachable")


async def test_retries_are_nangos(harness: Harness, anango: AsyncNango) -> None:
    answers = iter([(429, {"Retry-After": "0"}, {"slow": "down"}), (200, {}, {"ok": True})])
    harness.api.route("/flaky", lambda _: next(answers))
    response = await anango.get("/flaky", "fake", "c1", retries=2)
    assert response.json() == {"ok": True}
    assert len(harness.api.requests_to("/flaky")) == 2
