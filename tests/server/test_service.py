"""The Service object: reload after a file change, the secret key settled once."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from support.fakeapi import FakeApi
from support.server_harness import Harness, make_project

from nango_scripts.engine import Service
from nango_scripts.settings import load_settings

pytestmark = pytest.mark.anyio

NEW_SCRIPTS = """
from nango_scripts import NangoAction, NangoSync, action, sync

from fake.models import Item


@action()
async def added(nango: NangoAction) -> dict:
    return {"new": True}


@sync(models=[Item], frequency="every day", auto_start=False)
async def more(nango: NangoSync) -> None:
    pass
"""


async def test_reload_picks_up_new_scripts_and_their_schedules(harness: Harness) -> None:
    conn = {"Connection-Id": "c1", "Provider-Config-Key": "fake"}
    before = await harness.client.post(
        "/action/trigger", json={"action_name": "added"}, headers=conn
    )
    assert before.status_code == 404
    project = harness.service.settings.project_dir
    (project / "fake" / "actions" / "added.py").write_text(NEW_SCRIPTS)
    reloaded = await harness.service.reload()
    assert not reloaded.errors
    after = await harness.client.post(
        "/action/trigger", json={"action_name": "added"}, headers=conn
    )
    assert (after.status_code, after.json()) == (200, {"new": True})
    assert harness.service.schedules.get(harness.key(sync="more")) is not None


async def test_the_generated_key_is_kept_and_an_env_key_wins(
    tmp_path: Path, fake_api: FakeApi
) -> None:
    env = make_project(tmp_path, fake_api)
    settings = load_settings(env["NANGO_SCRIPTS_PROJECT"], env)
    first = Service.open(settings)
    first.close()
    second = Service.open(settings)
    second.close()
    assert first.secret_key_created and not second.secret_key_created
    assert first.secret_key == second.secret_key
    assert first.secret_key.startswith("nango_sk_") and len(first.secret_key) == 9 + 64
    mine = load_settings(env["NANGO_SCRIPTS_PROJECT"], {**env, "NANGO_SECRET_KEY": "mine"})
    third = Service.open(mine)
    third.close()
    assert (third.secret_key, third.secret_key_created) == ("mine", False)
    assert third.settings.secret_key == "mine"


@pytest.mark.postgres
async def test_service_state_on_postgres(tmp_path: Path, fake_api: FakeApi) -> None:
    url = os.environ.get("NANGO_SCRIPTS_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PostgreSQL tests need NANGO_SCRIPTS_TEST_POSTGRES_URL (see .ci/run)")
    import psycopg

    schema = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            separator = "&" if "?" in url else "?"
            env = make_project(tmp_path, fake_api)
            env["NANGO_SCRIPTS_DATABASE_URL"] = f"{url}{separator}options=-csearch_path%3D{schema}"
            settings = load_settings(env["NANGO_SCRIPTS_PROJECT"], env)
            first = Service.open(settings)
            await first.start()
            run_id = str(uuid.uuid4())
            first.action_runs.create(
                run_id,
                environment="dev",
                integration_id="fake",
                connection_id="c1",
                action_name="ping",
            )
            first.action_runs.finish(run_id, output={"a": [1, "é"]})
            await first.stop()
            second = Service.open(settings)
            run = second.action_runs.get(run_id)
            second.close()
            assert first.secret_key_created and not second.secret_key_created
            assert first.secret_key == second.secret_key
            assert run is not None and (run.status, run.output) == ("success", {"a": [1, "é"]})
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
