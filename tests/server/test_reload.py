"""Reloading the service's scripts: ``last_deployed`` is the load time, a broken file
keeps the last good version of its scripts, nango.toml's integrations come along."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from support.server_harness import Harness

from nango_scripts.dsl import load_project
from nango_scripts.settings import load_settings

pytestmark = pytest.mark.anyio

CONN = {"Connection-Id": "c1", "Provider-Config-Key": "fake"}


async def deployed(harness: Harness) -> dict[str, datetime]:
    """Script name -> its last_deployed, from GET /scripts/config."""
    answer = await harness.client.get("/scripts/config")
    assert answer.status_code == 200, answer.text
    return {
        script["name"]: datetime.fromisoformat(script["last_deployed"])
        for integration in answer.json()
        for script in integration["syncs"] + integration["actions"]
    }


async def greet(harness: Harness, name: str = "ada") -> Any:
    answer = await harness.client.post(
        "/action/trigger", json={"action_name": "greet", "input": {"name": name}}, headers=CONN
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def actions_file(harness: Harness) -> Path:
    return harness.service.settings.project_dir / "fake" / "actions" / "greet.py"


def to_ms(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


async def test_last_deployed_is_when_the_scripts_were_loaded(harness: Harness) -> None:
    started = harness.service.scripts_loaded_at
    first = await deployed(harness)
    assert set(first) == {"items", "greet", "ping", "slow"}
    assert set(first.values()) == {to_ms(started)}
    assert await deployed(harness) == first  # asking again is not a deploy

    await harness.service.reload()
    reloaded = harness.service.scripts_loaded_at
    assert started is not None and reloaded is not None and reloaded > started
    assert set((await deployed(harness)).values()) == {to_ms(reloaded)}


async def test_a_broken_file_keeps_its_last_good_scripts_until_fixed(harness: Harness) -> None:
    path = actions_file(harness)
    good = path.read_text()
    path.write_text(
        good.replace('Reply(text=response.json()["text"]', 'Reply(text="hi " + input.name')
    )
    served = await harness.service.reload()
    assert not served.errors and harness.service.kept_scripts == ()
    assert await greet(harness) == {"text": "hi ada"}

    path.write_text(good + "\ndef broken(:\n")
    served = await harness.service.reload()
    assert [str(e).split(":")[0] for e in served.errors] == ["fake/actions/greet.py"]
    assert sorted(s.name for s in harness.service.kept_scripts) == ["greet", "ping", "slow"]
    assert sorted(s.name for s in served.scripts) == ["greet", "items", "ping", "slow"]
    assert await greet(harness) == {"text": "hi ada"}  # the last good version answers

    # a second broken save keeps the same last good version
    path.write_text(good.replace("async def ping(", "async def ping(:"))
    await harness.service.reload()
    assert await greet(harness) == {"text": "hi ada"}

    path.write_text(good)
    served = await harness.service.reload()
    assert not served.errors and harness.service.kept_scripts == ()
    assert await greet(harness) == {"text": "hello ada"}


async def test_a_deleted_file_or_script_is_gone_even_while_another_is_broken(
    harness: Harness,
) -> None:
    project = harness.service.settings.project_dir
    (project / "fake" / "syncs" / "items.py").unlink()
    actions = actions_file(harness)
    actions.write_text(actions.read_text() + "\ndef broken(:\n")
    served = await harness.service.reload()
    assert sorted(s.name for s in served.scripts) == ["greet", "ping", "slow"]


async def test_a_reload_given_a_project_and_settings(harness: Harness) -> None:
    """What the dev loop does: it loads the project and nango.toml itself."""
    project_dir = harness.service.settings.project_dir
    config = project_dir / "nango.toml"
    config.write_text(
        config.read_text() + '\n[integrations.added]\nbase_url = "http://127.0.0.1:9"\n'
    )
    env = {"NANGO_INTEGRATION_FAKE_BASE_URL": harness.api.url}
    settings = load_settings(project_dir, env)
    served = await harness.service.reload(load_project(project_dir), settings=settings)
    assert "added" in harness.service.settings.integrations
    assert harness.service.scheduler.settings is harness.service.settings
    assert harness.service.secret_key == harness.service.settings.secret_key  # kept
    assert served is harness.service.project
    answer = await harness.client.get("/integrations/added")
    assert answer.status_code == 200, answer.text


async def test_connections_follow_the_integrations_of_a_reload(harness: Harness) -> None:
    """An integration added to nango.toml takes connections after a reload, and one whose
    auth changed wants the new credentials (the dev loop reloads nango.toml on save)."""
    project_dir = harness.service.settings.project_dir
    config = project_dir / "nango.toml"
    before = config.read_text()
    other = '[integrations.other]\nbase_url = "http://127.0.0.1:9"\n'
    assert other in before
    config.write_text(
        before.replace(other, other + 'auth = "basic"\n')
        + '\n[integrations.newone]\nbase_url = "http://127.0.0.1:9"\nauth = "api_key"\n'
    )

    async def create(integration: str, credentials: dict[str, Any]) -> Any:
        return await harness.client.post(
            "/connections",
            json={
                "provider_config_key": integration,
                "connection_id": "n1",
                "credentials": credentials,
            },
        )

    refused = await create("newone", {"type": "API_KEY", "apiKey": "k-new"})
    assert refused.status_code == 400, refused.text  # not in the settings yet
    assert refused.json()["error"]["code"] == "unknown_provider_config"
    env = {"NANGO_INTEGRATION_FAKE_BASE_URL": harness.api.url}
    await harness.service.reload(
        load_project(project_dir), settings=load_settings(project_dir, env)
    )

    created = await create("newone", {"type": "API_KEY", "apiKey": "k-new"})
    assert created.status_code in (200, 201), created.text
    assert harness.service.connections.get("newone", "n1").credentials["apiKey"] == "k-new"
    no_auth = await create("other", {})
    assert no_auth.status_code == 400 and "BASIC" in no_auth.text, no_auth.text
    basic = await create("other", {"type": "BASIC", "username": "u", "password": "p-1234"})
    assert basic.status_code in (200, 201), basic.text
