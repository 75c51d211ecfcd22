"""Auth on every route but /health, Nango's error shape everywhere, the OpenAPI document,
and the lifespan."""

from __future__ import annotations

import httpx
import pytest
from support.server_harness import SECRET, Harness, anonymous

from nango_scripts.server import create_app

pytestmark = pytest.mark.anyio

UNAUTHORIZED = {
    "error": {
        "code": "unauthorized",
        "message": "Authentication failed: send the secret key as"
        " 'Authorization: Bearer <secret key>'.",
    }
}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {SECRET}", f"Bearer {SECRET}x", SECRET],
)
async def test_a_missing_or_wrong_key_is_a_401_that_reveals_nothing(
    harness: Harness, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    routes = [("GET", "/connections"), ("GET", "/no/such/route"), ("POST", "/sync/trigger")]
    async with anonymous(harness) as client:
        for method, path in routes:
            answer = await client.request(method, path, headers=headers, content=b"{not json")
            assert answer.status_code == 401, (method, path)
            assert answer.json() == UNAUTHORIZED
            assert answer.headers["www-authenticate"] == "Bearer"


async def test_the_right_key_opens_the_routes_and_health_needs_none(harness: Harness) -> None:
    assert (await harness.client.get("/connections")).status_code == 200
    lower = await harness.client.get("/connections", headers={"Authorization": f"bearer {SECRET}"})
    assert lower.status_code == 200
    async with anonymous(harness) as bare:
        health = await bare.get("/health")
        assert (health.status_code, health.json()) == (200, {"result": "ok"})
        assert (await bare.get("/openapi.json")).status_code == 401


async def test_unknown_routes_and_methods_have_nangos_error_shape(harness: Harness) -> None:
    missing = await harness.client.get("/nope")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "No route GET /nope."}}
    wrong = await harness.client.delete("/records")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


async def test_openapi_document_declares_routes_errors_and_bearer_auth(harness: Harness) -> None:
    answer = await harness.client.get("/openapi.json")
    assert answer.status_code == 200
    doc = answer.json()
    paths = doc["paths"]
    for path in [
        "/records",
        "/records/prune",
        "/sync/trigger",
        "/sync/status",
        "/sync/update-connection-frequency",
        "/action/trigger",
        "/action/{action_id}",
        "/proxy/{path}",
        "/connections",
        "/connections/metadata",
        "/connections/{connection_id}",
        "/integrations",
        "/integrations/{key}",
        "/scripts/config",
    ]:
        assert path in paths, path
    assert doc["components"]["securitySchemes"]["secretKey"]["scheme"] == "bearer"
    assert paths["/health"]["get"]["security"] == []
    records = paths["/records"]["get"]["responses"]
    assert "422" not in records
    assert records["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert set(paths["/proxy/{path}"]) == {"get", "post", "put", "patch", "delete"}


async def test_the_lifespan_starts_and_stops_the_service(harness: Harness) -> None:
    # A second app over a fresh service of the same settings: start, answer, stop.
    from nango_scripts.engine import Service

    service = Service.open(harness.service.settings, tick_s=0.05)
    app = create_app(service)
    async with app.router.lifespan_context(app):
        assert service.project.scripts  # loaded at start
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {SECRET}"},
        ) as client:
            names = [
                c["connection_id"] for c in (await client.get("/connections")).json()["connections"]
            ]
            assert names == ["c1"]
    with pytest.raises(Exception, match="closed"):
        service.connections.summaries()
