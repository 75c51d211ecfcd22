"""Connections (import, get, list, patch, delete and their effects), metadata,
integrations (read from nango.toml) and the scripts config."""

from __future__ import annotations

from typing import Any

import pytest
from support.server_harness import Harness

from nango_scripts.store import RecordScope

pytestmark = pytest.mark.anyio

OAUTH = {
    "type": "OAUTH2",
    "access_token": "at-1",
    "refresh_token": "rt-1",
    "expires_at": "2030-01-01T00:00:00Z",
}


async def create(harness: Harness, **body: Any) -> Any:
    payload = {
        "provider_config_key": "fake",
        "connection_id": "c2",
        "credentials": {"type": "API_KEY", "apiKey": "k2"},
        **body,
    }
    return await harness.client.post("/connections", json=payload)


async def test_import_a_connection_then_get_it_with_credentials(harness: Harness) -> None:
    answer = await create(harness, metadata={"team": "b"})
    assert answer.status_code == 201, answer.text
    full = answer.json()
    assert full["connection_id"] == "c2"
    assert full["provider_config_key"] == "fake"
    assert full["credentials"] == {"type": "API_KEY", "apiKey": "k2"}
    assert full["metadata"] == {"team": "b"}
    assert full["created_at"].endswith("Z")
    # Schedules are ensured for the new connection (paused: the sync does not auto-start).
    schedule = harness.service.schedules.get(harness.key(connection="c2"))
    assert schedule is not None and schedule.status == "PAUSED"
    got = await harness.client.get(
        "/connections/c2",
        params={
            "provider_config_key": "fake",
            "force_refresh": "false",
            "refresh_token": "false",
            "refresh_github_app_jwt_token": "false",
        },
        headers={"Content-Type": "application/json"},  # as the Node client sends it
    )
    assert got.status_code == 200
    assert got.json()["credentials"] == {"type": "API_KEY", "apiKey": "k2"}
    assert got.json()["id"] == full["id"]


async def test_credentials_are_encrypted_at_rest(harness: Harness) -> None:
    await create(harness, credentials={"type": "API_KEY", "apiKey": "very-secret-value"})
    path = harness.service.settings.sqlite_path
    assert path is not None
    data = b"".join(p.read_bytes() for p in path.parent.glob("nango.db*"))
    assert b"very-secret-value" not in data


async def test_list_has_no_credentials(harness: Harness) -> None:
    await create(harness)
    answer = await harness.client.get("/connections", headers={"Content-Type": "application/json"})
    items = answer.json()["connections"]
    assert [(c["connection_id"], c["provider_config_key"]) for c in items] == [
        ("c1", "fake"),
        ("c2", "fake"),
    ]
    assert "credentials" not in items[0]
    assert items[0]["metadata"] == {"team": "a"}
    assert items[0]["created"].endswith("+00:00")
    only = await harness.client.get("/connections", params={"connectionId": "c2"})
    assert [c["connection_id"] for c in only.json()["connections"]] == ["c2"]
    none = await harness.client.get("/connections", params={"integrationId": "other"})
    assert none.json() == {"connections": []}


async def test_oauth2_refresh_token_is_shown_only_when_asked(harness: Harness) -> None:
    answer = await harness.client.post(
        "/connections",
        json={"provider_config_key": "oauthy", "connection_id": "o1", "credentials": OAUTH},
    )
    assert answer.status_code == 201, answer.text
    assert "refresh_token" not in answer.json()["credentials"]
    plain = await harness.client.get("/connections/o1", params={"provider_config_key": "oauthy"})
    credentials = plain.json()["credentials"]
    assert credentials == {
        "type": "OAUTH2",
        "access_token": "at-1",
        "expires_at": "2030-01-01T00:00:00.000Z",
        "raw": {},
    }
    asked = await harness.client.get(
        "/connections/o1", params={"provider_config_key": "oauthy", "refresh_token": "true"}
    )
    assert asked.json()["credentials"]["refresh_token"] == "rt-1"


async def test_credentials_must_fit_the_integrations_auth(harness: Harness) -> None:
    harness.service.connections.create("other", "o1", {})
    answer = await harness.client.post(
        "/connections",
        json={"provider_config_key": "other", "connection_id": "o1", "credentials": {}},
    )
    assert answer.status_code == 201  # an existing connection is overridden (Nango's import)
    # "other" has auth = "none": OAUTH2 credentials do not fit it.
    wrong = await harness.client.post(
        "/connections",
        json={"provider_config_key": "other", "connection_id": "o2", "credentials": OAUTH},
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "invalid_body"
    assert "auth" in wrong.json()["error"]["message"]


async def test_import_overrides_an_existing_connection(harness: Harness) -> None:
    answer = await create(
        harness, connection_id="c1", credentials={"type": "API_KEY", "apiKey": "new"}
    )
    assert answer.status_code == 201
    assert answer.json()["metadata"] == {"team": "a"}  # kept when not given
    assert harness.service.connections.get("fake", "c1").credentials["apiKey"] == "new"


@pytest.mark.parametrize(
    ("change", "status", "code", "words"),
    [
        ({"provider_config_key": "nope"}, 400, "unknown_provider_config", "'nope'"),
        ({"credentials": {"type": "API_KEY"}}, 400, "invalid_body", "apiKey"),
        ({"credentials": {"type": "MAGIC"}}, 400, "invalid_body", "type"),
        ({"credentials": "k"}, 400, "invalid_body", "credentials"),
        ({"tags": {"a": "b"}}, 400, "invalid_body", "tags"),
        ({"surprise": 1}, 400, "invalid_body", "surprise"),
        ({"connection_id": "bad\nid"}, 400, "invalid_body", "control"),
        (
            {"credentials": {"type": "API_KEY", "apiKey": "k-PLANTED\nX-Injected: 1"}},
            400,
            "invalid_body",
            '"apiKey" holds a control character',
        ),
    ],
)
async def test_bad_imports(
    harness: Harness, change: dict[str, Any], status: int, code: str, words: str
) -> None:
    answer = await create(harness, **change)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert words in answer.json()["error"]["message"]
    assert "PLANTED" not in answer.text


async def test_delete_stops_syncs_and_removes_records_and_schedules(harness: Harness) -> None:
    await harness.run_items()
    scope = RecordScope("dev", "fake", "c1")
    assert (harness.service.records.count_records(scope, "Item"))["live"] == 5
    answer = await harness.client.delete("/connections/c1", params={"provider_config_key": "fake"})
    assert (answer.status_code, answer.json()) == (200, {"success": True})
    assert (harness.service.records.count_records(scope, "Item"))["live"] == 0
    assert harness.service.schedules.get(harness.key()) is None
    assert harness.service.connections.summaries() == []
    again = await harness.client.delete("/connections/c1", params={"provider_config_key": "fake"})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "unknown_connection"
    missing = await harness.client.get("/connections/c1", params={"provider_config_key": "fake"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_patch_replaces_credentials(harness: Harness) -> None:
    answer = await harness.client.patch(
        "/connections/c1",
        params={"provider_config_key": "fake"},
        json={"credentials": {"type": "API_KEY", "apiKey": "rotated"}},
    )
    assert (answer.status_code, answer.json()) == (200, {"success": True})
    assert harness.service.connections.get("fake", "c1").credentials["apiKey"] == "rotated"
    unsupported = await harness.client.patch("/connections/c1", json={"end_user": {"id": "u"}})
    assert unsupported.status_code == 400


async def test_metadata_set_merge_and_get(harness: Harness) -> None:
    body = {"metadata": {"x": 1}, "connection_id": "c1", "provider_config_key": "fake"}
    posted = await harness.client.post("/connections/metadata", json=body)
    assert (posted.status_code, posted.json()) == (201, body)
    patched = await harness.client.patch(
        "/connections/metadata", json={**body, "metadata": {"y": 2}, "connection_id": ["c1"]}
    )
    assert patched.status_code == 200
    got = await harness.client.get(
        "/connections/metadata", params={"connection_id": "c1", "provider_config_key": "fake"}
    )
    assert got.json() == {
        "connection_id": "c1",
        "provider_config_key": "fake",
        "metadata": {"x": 1, "y": 2},
    }
    full = await harness.client.get("/connections/c1", params={"provider_config_key": "fake"})
    assert full.json()["metadata"] == {"x": 1, "y": 2}
    ghost = await harness.client.post(
        "/connections/metadata", json={**body, "connection_id": ["c1", "ghost"], "metadata": {}}
    )
    assert ghost.status_code == 404
    assert ghost.json()["error"]["code"] == "unknown_connection"
    assert harness.service.connections.get("fake", "c1").metadata == {"x": 1, "y": 2}
    bad = await harness.client.post("/connections/metadata", json={**body, "metadata": [1]})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_body"


async def test_integrations_are_read_from_nango_toml(harness: Harness) -> None:
    listed = await harness.client.get("/integrations")
    assert [i["unique_key"] for i in listed.json()["data"]] == ["fake", "oauthy", "other"]
    one = await harness.client.get("/integrations/fake", params={"include": "webhook"})
    assert one.status_code == 200
    assert one.json()["data"]["unique_key"] == "fake"
    unknown = await harness.client.get("/integrations/nope")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    for method, path in [
        ("POST", "/integrations"),
        ("PATCH", "/integrations/fake"),
        ("DELETE", "/integrations/fake"),
    ]:
        answer = await harness.client.request(method, path, json={"unique_key": "x"})
        assert answer.status_code == 400
        assert "nango.toml" in answer.json()["error"]["message"]


async def test_scripts_config_is_a_bare_array_per_integration(harness: Harness) -> None:
    answer = await harness.client.get("/scripts/config", params={"format": "nango"})
    assert answer.status_code == 200
    [fake] = answer.json()
    assert (fake["providerConfigKey"], fake["provider"]) == ("fake", "fake")
    [items] = fake["syncs"]
    assert items["name"] == "items"
    assert items["runs"] == "every hour"
    assert items["returns"] == ["Item"]
    assert items["auto_start"] is False
    assert "Item" in items["json_schema"]["definitions"]
    actions = {a["name"]: a for a in fake["actions"]}
    assert actions["greet"]["input"] == "Greeting"
    assert actions["greet"]["returns"] == ["Reply"]
    assert fake["on-events"] == []
    openai = await harness.client.get("/scripts/config", params={"format": "openai"})
    greet = next(f for f in openai.json()["data"] if f["name"] == "greet")
    assert greet["parameters"]["required"] == ["name"]
    assert greet["parameters"]["properties"]["times"]["type"] == "integer"
