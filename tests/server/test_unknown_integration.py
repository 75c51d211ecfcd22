"""An integration that nango.toml does not define: one answer on every route that names one.

A route that acts on or reads through an integration (the ``Provider-Config-Key`` header,
a ``provider_config_key`` parameter or body field) answers 400 ``unknown_provider_config``
naming it, before it looks for a connection. Where the integration is the resource itself
(``/integrations/{key}...``) the answer is 404 ``not_found``; a list filter matches nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.server_harness import Harness

pytestmark = pytest.mark.anyio

UNKNOWN = "nope"
HEADERS = {"Connection-Id": "c1", "Provider-Config-Key": UNKNOWN}
SYNC = {"syncs": ["items"], "provider_config_key": UNKNOWN, "connection_id": "c1"}
API_KEY_CREDENTIALS = {"type": "API_KEY", "apiKey": "k"}

# (method, path, request options): every route taking an integration to act on
ACTING_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/records", {"headers": HEADERS, "params": {"model": "Item"}}),
    (
        "PATCH",
        "/records/prune",
        {"headers": HEADERS, "json": {"model": "Item", "until_cursor": "x"}},
    ),
    ("POST", "/sync/trigger", {"json": SYNC}),
    ("POST", "/sync/trigger", {"headers": HEADERS, "json": {"syncs": ["items"]}}),
    ("POST", "/sync/start", {"json": SYNC}),
    ("POST", "/sync/pause", {"json": SYNC}),
    ("GET", "/sync/status", {"params": {**SYNC, "syncs": "items"}}),
    (
        "PUT",
        "/sync/update-connection-frequency",
        {
            "json": {
                "sync_name": "items",
                "provider_config_key": UNKNOWN,
                "connection_id": "c1",
                "frequency": "every hour",
            }
        },
    ),
    ("POST", "/action/trigger", {"headers": HEADERS, "json": {"action_name": "ping"}}),
    ("GET", "/proxy/items", {"headers": HEADERS}),
    ("POST", "/proxy/items", {"headers": HEADERS, "json": {}}),
    ("PUT", "/proxy/items", {"headers": HEADERS, "json": {}}),
    ("PATCH", "/proxy/items", {"headers": HEADERS, "json": {}}),
    ("DELETE", "/proxy/items", {"headers": HEADERS}),
    (
        "POST",
        "/connections",
        {
            "json": {
                "provider_config_key": UNKNOWN,
                "connection_id": "c2",
                "credentials": API_KEY_CREDENTIALS,
            }
        },
    ),
    (
        "GET",
        "/connections/metadata",
        {"params": {"connection_id": "c1", "provider_config_key": UNKNOWN}},
    ),
    (
        "POST",
        "/connections/metadata",
        {"json": {"connection_id": "c1", "provider_config_key": UNKNOWN, "metadata": {}}},
    ),
    (
        "PATCH",
        "/connections/metadata",
        {"json": {"connection_id": "c1", "provider_config_key": UNKNOWN, "metadata": {}}},
    ),
    ("GET", "/connections/c1", {"params": {"provider_config_key": UNKNOWN}}),
    (
        "PATCH",
        "/connections/c1",
        {"params": {"provider_config_key": UNKNOWN}, "json": {"credentials": API_KEY_CREDENTIALS}},
    ),
    ("DELETE", "/connections/c1", {"params": {"provider_config_key": UNKNOWN}}),
    # the generated endpoints of the harness's scripts (they stand for /records, /action/trigger)
    ("GET", "/items", {"headers": HEADERS}),
    ("POST", "/greet", {"headers": HEADERS, "json": {"name": "x"}}),
    ("POST", "/ping", {"headers": HEADERS}),
    ("POST", "/slow", {"headers": HEADERS}),
]

# The integration is the resource: 404 not_found, as for any missing resource.
RESOURCE_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", f"/integrations/{UNKNOWN}", {}),
    ("GET", f"/integrations/{UNKNOWN}/templates", {}),
    ("POST", f"/integrations/{UNKNOWN}/templates/enable", {"json": {"names": ["issues"]}}),
    ("POST", f"/integrations/{UNKNOWN}/templates/disable", {"json": {"names": ["issues"]}}),
]

# Filters of lists: an integration that is not configured matches nothing (the log and the
# connections of an integration since removed from nango.toml stay listable).
FILTER_ROUTES: list[tuple[str, str, dict[str, Any], str]] = [
    ("GET", "/connections", {"params": {"integrationId": UNKNOWN}}, "connections"),
    ("GET", "/logs", {"params": {"integration": UNKNOWN}}, "operations"),
    ("GET", "/logs", {"params": {"provider_config_key": UNKNOWN}}, "operations"),
]

# The integrations' own routes that only say integrations are configured in nango.toml.
READ_ONLY_ROUTES = {("PATCH", "/integrations/{key}"), ("DELETE", "/integrations/{key}")}

INTEGRATION_INPUTS = {"provider-config-key", "provider_config_key", "integrationid", "integration"}


def _id(route: tuple[Any, ...]) -> str:
    method, path, options = route[:3]
    where = ",".join(sorted(k for k in ("headers", "params", "json") if k in options))
    return f"{method} {path} ({where})"


@pytest.mark.parametrize("route", ACTING_ROUTES, ids=_id)
async def test_an_unknown_integration_is_400_unknown_provider_config(
    harness: Harness, route: tuple[str, str, dict[str, Any]]
) -> None:
    method, path, options = route
    before = harness.service.connections.summaries()

    answer = await harness.client.request(method, path, **options)

    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "unknown_provider_config"
    assert f"'{UNKNOWN}'" in error["message"]
    assert "nango.toml" in error["message"]
    assert harness.service.connections.summaries() == before


@pytest.mark.parametrize("route", RESOURCE_ROUTES, ids=_id)
async def test_an_unknown_integration_as_the_resource_is_404(
    harness: Harness, route: tuple[str, str, dict[str, Any]]
) -> None:
    method, path, options = route

    answer = await harness.client.request(method, path, **options)

    assert answer.status_code == 404, answer.text
    error = answer.json()["error"]
    assert error["code"] == "not_found"
    assert f"'{UNKNOWN}'" in error["message"]


@pytest.mark.parametrize("route", FILTER_ROUTES, ids=_id)
async def test_an_unknown_integration_as_a_filter_matches_nothing(
    harness: Harness, route: tuple[str, str, dict[str, Any], str]
) -> None:
    method, path, options, field = route

    answer = await harness.client.request(method, path, **options)

    assert answer.status_code == 200, answer.text
    assert answer.json()[field] == []


async def test_every_route_taking_an_integration_is_checked(harness: Harness) -> None:
    schema = (await harness.client.get("/openapi.json")).json()
    taking: set[tuple[str, str]] = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            names = {p["name"].lower() for p in operation.get("parameters", [])}
            body = operation.get("requestBody", {}).get("content", {})
            ref = body.get("application/json", {}).get("schema", {}).get("$ref", "")
            if ref:
                model = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
                names |= {name.lower() for name in model.get("properties", {})}
            if names & INTEGRATION_INPUTS or "{key}" in path:
                taking.add((method.upper(), path))

    checked = {
        (method, "/proxy/{path}" if path.startswith("/proxy/") else path)
        for method, path, *_ in [*ACTING_ROUTES, *RESOURCE_ROUTES, *FILTER_ROUTES]
    }
    checked = {
        (m, "/connections/{connection_id}" if p == "/connections/c1" else p) for m, p in checked
    }
    checked = {
        (m, p.replace(f"/integrations/{UNKNOWN}", "/integrations/{key}")) for m, p in checked
    }
    assert taking - READ_ONLY_ROUTES == checked
