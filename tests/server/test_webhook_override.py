"""A connection's ``webhook_url_override`` through the API: set on import or PATCH,
shown by GET, removed with null or "", and refused (400 naming the field) unless it is an
http(s) URL. Where the webhooks then go is tests/webhooks/test_webhook_override.py."""

from __future__ import annotations

from typing import Any

import pytest
from support.server_harness import Harness

pytestmark = pytest.mark.anyio

PCK = {"provider_config_key": "fake"}


async def override_of(harness: Harness, connection: str = "c1") -> Any:
    got = await harness.client.get(f"/connections/{connection}", params=PCK)
    assert got.status_code == 200, got.text
    return got.json()["webhook_url_override"]


async def patch(harness: Harness, body: dict[str, Any], connection: str = "c1") -> Any:
    return await harness.client.patch(f"/connections/{connection}", params=PCK, json=body)


async def test_patch_sets_shows_and_removes_the_override(harness: Harness) -> None:
    assert await override_of(harness) is None
    answer = await patch(harness, {"webhook_url_override": "https://hooks.example.com/a?k=1"})
    assert (answer.status_code, answer.json()) == (200, {"success": True})
    assert await override_of(harness) == "https://hooks.example.com/a?k=1"
    assert harness.service.connections.get_webhook_url_override("fake", "c1") == (
        "https://hooks.example.com/a?k=1"
    )
    # A PATCH without the field leaves it alone.
    rotated = await patch(harness, {"credentials": {"type": "API_KEY", "apiKey": "k9"}})
    assert rotated.status_code == 200
    assert await override_of(harness) == "https://hooks.example.com/a?k=1"
    # Surrounding spaces are dropped; null and "" remove it.
    await patch(harness, {"webhook_url_override": "  http://127.0.0.1:8080/h  "})
    assert await override_of(harness) == "http://127.0.0.1:8080/h"
    for removal in (None, ""):
        await patch(harness, {"webhook_url_override": "https://x.example.com/"})
        assert (await patch(harness, {"webhook_url_override": removal})).status_code == 200
        assert await override_of(harness) is None


async def test_the_import_takes_it_and_a_new_import_keeps_it_unless_given(
    harness: Harness,
) -> None:
    body = {
        "provider_config_key": "fake",
        "connection_id": "c2",
        "credentials": {"type": "API_KEY", "apiKey": "k2"},
    }
    made = await harness.client.post(
        "/connections", json={**body, "webhook_url_override": "https://mine.example.com/h"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["webhook_url_override"] == "https://mine.example.com/h"
    again = await harness.client.post("/connections", json=body)  # the field left out
    assert again.json()["webhook_url_override"] == "https://mine.example.com/h"
    cleared = await harness.client.post("/connections", json={**body, "webhook_url_override": None})
    assert cleared.json()["webhook_url_override"] is None
    assert await override_of(harness, "c2") is None


BAD_URLS = [
    "ftp://example.com/hook",
    "example.com/hook",
    "/hook",
    "https://",
    "http:///path-only",
    "javascript:alert(1)",
    "https://exa mple.com/",
    "https://example.com/\nInjected: 1",
    "http://example.com:port/",
    "https://" + "a" * 2050 + ".com/",
]


@pytest.mark.parametrize("url", BAD_URLS)
async def test_a_url_that_is_not_http_is_a_400_naming_the_field(harness: Harness, url: str) -> None:
    await patch(harness, {"webhook_url_override": "https://kept.example.com/"})
    refused = await patch(harness, {"webhook_url_override": url})
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_body"
    assert error["message"].startswith("webhook_url_override "), error
    assert await override_of(harness) == "https://kept.example.com/"  # nothing changed
    imported = await harness.client.post(
        "/connections",
        json={
            "provider_config_key": "fake",
            "connection_id": "c3",
            "credentials": {"type": "API_KEY", "apiKey": "k3"},
            "webhook_url_override": url,
        },
    )
    assert imported.status_code == 400
    assert imported.json()["error"]["message"].startswith("webhook_url_override ")
    assert [s.connection_id for s in harness.service.connections.summaries()] == ["c1"]


async def test_a_non_string_override_is_a_400(harness: Harness) -> None:
    refused = await patch(harness, {"webhook_url_override": 12})
    assert refused.status_code == 400
    assert "webhook_url_override" in refused.json()["error"]["message"]


async def test_changes_are_in_the_activity_log_without_the_url(harness: Harness) -> None:
    secret_url = "https://hooks.example.com/h?token=very-secret-token"
    await patch(harness, {"webhook_url_override": secret_url})
    await patch(harness, {"webhook_url_override": None})
    logs = await harness.client.get("/logs", params={"type": "connection"})
    assert logs.status_code == 200, logs.text
    titles = [op["title"] for op in logs.json()["operations"]]
    assert titles[:2] == [
        "connection webhook URL override removed",
        "connection webhook URL override set",
    ]
    assert "very-secret-token" not in logs.text
