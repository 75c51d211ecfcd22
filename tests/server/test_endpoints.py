"""Generated endpoints over HTTP against ``serve`` (a subprocess): a sync's path answers
exactly what ``/records`` answers, parameter by parameter, for a one-model and a
two-model sync; an action's path answers what ``/action/trigger`` answers, now and with
``X-Async``; the same 4xx for a missing or unknown connection or integration; the
endpoints are in ``/openapi.json`` and ``/scripts/config``."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from support.endpoints_harness import Api
from support.server_harness import SECRET

pytestmark = pytest.mark.slow


def _same(a: httpx.Response, b: httpx.Response) -> None:
    assert (a.status_code, a.json()) == (b.status_code, b.json())


def test_a_one_model_syncs_endpoint_is_records_for_every_parameter(api: Api) -> None:
    first = api.get("/items")
    assert first.status_code == 200 and len(first.json()["records"]) == 5
    _same(first, api.get("/records", model="Item"))
    modified = first.json()["records"][2]["_nango_metadata"]["last_modified_at"]
    for params in (
        {"limit": 2},
        {"modified_after": modified},
        {"delta": modified},
        {"filter": "added"},
        {"filter": "deleted"},
        {"ids": "1,3"},
        {"limit": 0},
        {"cursor": "not-a-cursor"},
        {"modified_after": "yesterday"},
    ):
        _same(api.get("/items", **params), api.get("/records", model="Item", **params))
    # paging with the cursors each answer gives
    page = api.get("/items", limit=2).json()
    seen = [r["id"] for r in page["records"]]
    while page["next_cursor"]:
        same = api.get("/records", model="Item", limit=2, cursor=page["next_cursor"]).json()
        page = api.get("/items", limit=2, cursor=page["next_cursor"]).json()
        assert page == same
        seen += [r["id"] for r in page["records"]]
    assert sorted(seen) == ["0", "1", "2", "3", "4"]
    _same(api.get("/items", model="Item"), api.get("/records", model="Item"))


def test_a_two_model_sync_is_read_model_by_model(api: Api) -> None:
    for model, count in (("Left", 3), ("Right", 2)):
        answer = api.get("/pairs", model=model)
        assert len(answer.json()["records"]) == count
        _same(answer, api.get("/records", model=model))
    missing = api.get("/pairs")
    assert missing.status_code == 400 and "Left, Right" in missing.json()["error"]["message"]
    wrong = api.get("/pairs", model="Item")
    assert wrong.status_code == 400 and "no model 'Item'" in wrong.json()["error"]["message"]


def test_unknown_or_missing_connection_and_integration_get_the_records_4xx(api: Api) -> None:
    _same(
        api.get("/items", connection="nope"), api.get("/records", connection="nope", model="Item")
    )
    _same(
        api.get("/items", integration="nope"), api.get("/records", integration="nope", model="Item")
    )
    bare = api.client.get("/items")
    assert bare.status_code == api.client.get("/records", params={"model": "Item"}).status_code
    assert bare.status_code == 400
    other = api.get("/items", integration="other")
    assert other.status_code == 404 and "does not serve GET /items" in other.text
    assert httpx.get(str(api.client.base_url) + "/items").status_code == 401  # the key applies


def test_an_actions_endpoint_is_action_trigger(api: Api) -> None:
    headers = {"Connection-Id": "c1", "Provider-Config-Key": "fake"}
    now = api.client.post("/greet", json={"name": "ann", "times": 2}, headers=headers)
    assert now.status_code == 200 and now.json() == {"text": "hi annhi ann"}
    _same(
        now,
        api.client.post(
            "/action/trigger",
            json={"action_name": "greet", "input": {"name": "ann", "times": 2}},
            headers=headers,
        ),
    )
    failed = api.client.post("/greet", json={"name": "nobody"}, headers=headers)
    _same(
        failed,
        api.client.post(
            "/action/trigger",
            json={"action_name": "greet", "input": {"name": "nobody"}},
            headers=headers,
        ),
    )
    invalid = api.client.post("/greet", json={"times": "x"}, headers=headers)
    assert invalid.status_code == 400
    later = api.client.post("/greet", json={"name": "bo"}, headers={**headers, "X-Async": "true"})
    assert later.status_code == 202, later.text
    status_url = later.json()["statusUrl"]
    deadline = time.monotonic() + 10
    while (done := api.client.get(status_url)).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert done.json() == {"text": "hi bo"}
    assert api.client.post("/ping", headers=headers).json() == ["pong", 1]
    assert api.client.post("/greet", content=b"{nope", headers=headers).status_code == 400


def test_the_endpoints_are_documented(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    items = document["paths"]["/items"]["get"]
    names = {p["name"] for p in items["parameters"]}
    assert {
        "Connection-Id",
        "Provider-Config-Key",
        "modified_after",
        "limit",
        "cursor",
        "filter",
        "ids",
    } <= names
    schema = items["responses"]["200"]["content"]["application/json"]["schema"]
    ref = schema["properties"]["records"]["items"]["$ref"].rsplit("/", 1)[1]
    assert set(document["components"]["schemas"][ref]["properties"]) == {"id", "n"}
    pairs = document["paths"]["/pairs"]["get"]
    assert next(p for p in pairs["parameters"] if p["name"] == "model")["required"] is True
    greet = document["paths"]["/greet"]["post"]
    body_ref = greet["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref.endswith("Greeting")
    config = api.client.get("/scripts/config").json()
    fake = next(i for i in config if i["providerConfigKey"] == "fake")
    endpoints = {s["name"]: s["endpoints"] for s in fake["syncs"] + fake["actions"]}
    assert endpoints["items"] == [{"method": "GET", "path": "/items", "group": None}]
    assert endpoints["pairs"] == [{"method": "GET", "path": "/pairs", "group": "Pairs"}]
    assert endpoints["greet"] == [{"method": "POST", "path": "/greet", "group": None}]


def test_every_built_in_route_is_a_path_scripts_cannot_claim(tmp_path: Path) -> None:
    from nango_scripts.dsl import built_in_clash
    from nango_scripts.engine import Service
    from nango_scripts.server import create_app
    from nango_scripts.settings import load_settings

    settings = load_settings(tmp_path, {"NANGO_SECRET_KEY": SECRET})
    service = Service.open(settings)
    try:
        app = create_app(service)
        paths = {getattr(route, "path", "") for route in app.routes}
    finally:
        service.close()
    uncovered = sorted(
        p for p in paths if p and built_in_clash(p.split("{")[0].rstrip("/") or "/") is None
    )
    assert not uncovered, f"add these to dsl/_endpoints.py BUILT_IN_PREFIXES: {uncovered}"


def test_the_python_client_calls_a_generated_endpoint(api: Api) -> None:
    from nango_scripts.client import Nango

    with Nango(secret_key=SECRET, host=str(api.client.base_url).rstrip("/")) as nango:
        page = nango.call_endpoint("fake", "c1", "GET", "/items", params={"limit": 2})
        assert page == api.get("/records", model="Item", limit=2).json()
        lefts = nango.call_endpoint("fake", "c1", "GET", "/pairs", params={"model": "Left"})
        assert len(lefts["records"]) == 3
        assert nango.call_endpoint("fake", "c1", "POST", "/greet", input={"name": "cy"}) == {
            "text": "hi cy"
        }
