"""Connections and their metadata; integrations; the scripts config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio.to_thread
import pytest
from support.server_harness import API_KEY, Harness

from nango_scripts.client import (
    AsyncNango,
    Connection,
    ConnectionDetails,
    Integration,
    Nango,
    NangoBadRequestError,
    NangoNotFoundError,
)

pytestmark = pytest.mark.anyio


async def test_list_and_get_connections(harness: Harness, anango: AsyncNango) -> None:
    [listed] = await anango.list_connections()
    assert isinstance(listed, Connection)
    assert (listed.connection_id, listed.provider_config_key, listed.provider) == (
        "c1",
        "fake",
        "fake",
    )
    assert listed.metadata == {"team": "a"}
    assert isinstance(listed.created, datetime)
    assert await anango.list_connections(integration_id=["other", "oauthy"]) == []
    assert len(await anango.list_connections(connection_id="c1", integration_id="fake")) == 1
    assert await anango.list_connections(search="zz") == []

    details = await anango.get_connection("fake", "c1")
    assert isinstance(details, ConnectionDetails)
    assert details.credentials == {"type": "API_KEY", "apiKey": API_KEY}
    assert details.metadata == {"team": "a"}
    assert details.id == listed.id
    assert await anango.get_token("fake", "c1") == {"type": "API_KEY", "apiKey": API_KEY}


async def test_import_get_and_delete(harness: Harness, anango: AsyncNango) -> None:
    odd = "a b/c?d"  # quoted in the path
    created = await anango.import_connection(
        "fake", odd, {"type": "API_KEY", "apiKey": "k2"}, metadata={"x": 1}
    )
    assert (created.connection_id, created.credentials["apiKey"]) == (odd, "k2")
    fetched = await anango.get_connection("fake", odd)
    assert (fetched.connection_id, fetched.metadata) == (odd, {"x": 1})
    ids = sorted(c.connection_id for c in await anango.list_connections(integration_id="fake"))
    assert ids == [odd, "c1"]

    await anango.delete_connection("fake", odd)
    with pytest.raises(NangoNotFoundError) as gone:
        await anango.get_connection("fake", odd)
    assert gone.value.code == "not_found"
    with pytest.raises(NangoBadRequestError) as again:
        await anango.delete_connection("fake", odd)
    assert again.value.code == "unknown_connection"


async def test_import_without_an_id_and_an_oauth2_token(
    harness: Harness, anango: AsyncNango
) -> None:
    expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    credentials = {"type": "OAUTH2", "access_token": "tok", "expires_at": expires}
    created = await anango.import_connection("oauthy", None, credentials)
    assert created.connection_id  # a UUID made by the server
    assert await anango.get_token("oauthy", created.connection_id) == "tok"
    with pytest.raises(NangoBadRequestError) as bad:
        await anango.import_connection("fake", "c3", {"type": "BASIC"})
    assert bad.value.code == "invalid_body"


async def test_the_webhook_url_override_on_import_and_patch(
    harness: Harness, anango: AsyncNango, nango: Nango
) -> None:
    made = await anango.import_connection(
        "fake", "c2", {"type": "API_KEY", "apiKey": "k2"}, webhook_url_override="https://a.test/h"
    )
    assert made.webhook_url_override == "https://a.test/h"
    await anango.patch_connection("fake", "c2", webhook_url_override="https://b.test/h")
    assert (await anango.get_connection("fake", "c2")).webhook_url_override == "https://b.test/h"
    await anango.patch_connection("fake", "c2")  # nothing given: nothing changes
    assert harness.service.connections.get_webhook_url_override("fake", "c2") == (
        "https://b.test/h"
    )
    await anyio.to_thread.run_sync(
        lambda: nango.patch_connection("fake", "c2", webhook_url_override=None)
    )
    assert (await anango.get_connection("fake", "c2")).webhook_url_override is None
    with pytest.raises(NangoBadRequestError) as bad:
        await anango.patch_connection("fake", "c2", webhook_url_override="mailto:me@a.test")
    assert bad.value.code == "invalid_body"
    assert "webhook_url_override" in bad.value.message
    with pytest.raises(NangoBadRequestError):  # Nango Cloud's fields, refused by serve
        await anango.patch_connection("fake", "c2", tags={"team": "a"})


async def test_metadata_set_update_get(harness: Harness, anango: AsyncNango) -> None:
    await anango.set_metadata("fake", "c1", {"a": 1, "nested": {"k": "v"}})
    assert await anango.get_metadata("fake", "c1") == {"a": 1, "nested": {"k": "v"}}
    await anango.update_metadata("fake", ["c1"], {"b": 2})
    assert await anango.get_metadata("fake", "c1") == {"a": 1, "nested": {"k": "v"}, "b": 2}
    await anango.set_metadata("fake", "c1", {})
    assert await anango.get_metadata("fake", "c1") == {}
    with pytest.raises(NangoNotFoundError) as caught:
        await anango.set_metadata("fake", ["c1", "ghost"], {"c": 3})
    assert caught.value.code == "unknown_connection"
    assert await anango.get_metadata("fake", "c1") == {}  # nothing changed
    with pytest.raises(ValueError, match="connection_id is required"):
        await anango.update_metadata("fake", [], {"c": 3})


async def test_integrations(harness: Harness, anango: AsyncNango) -> None:
    integrations = await anango.list_integrations()
    assert all(isinstance(i, Integration) for i in integrations)
    assert [i.unique_key for i in integrations] == ["fake", "oauthy", "other"]
    fake = await anango.get_integration("fake")
    assert (fake.unique_key, fake.provider) == ("fake", integrations[0].provider)
    with pytest.raises(NangoNotFoundError) as caught:
        await anango.get_integration("nope")
    assert caught.value.code == "not_found"


async def test_scripts_config(harness: Harness, anango: AsyncNango) -> None:
    config = await anango.get_scripts_config()
    [fake] = [c for c in config if c["providerConfigKey"] == "fake"]
    assert [s["name"] for s in fake["syncs"]] == ["items"]
    assert fake["syncs"][0]["returns"] == ["Item"]
    assert sorted(a["name"] for a in fake["actions"]) == ["greet", "ping", "slow"]
    functions = await anango.get_scripts_config("openai")
    greet = next(f for f in functions if f["name"] == "greet")
    assert greet["parameters"]["type"] == "object"
