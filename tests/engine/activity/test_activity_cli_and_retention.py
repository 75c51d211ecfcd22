"""The command line records into the same Activity log as ``serve`` (``run``, connection
create/delete), and the service prunes what is older than the retention when it starts."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support.activity_harness import API_KEY, flaky_items, make_project
from support.fakeapi import FakeApi, Received

from nango_scripts.cli.main import cli
from nango_scripts.engine import Service
from nango_scripts.errors import ConfigError
from nango_scripts.settings import load_settings
from nango_scripts.store import ActivityStore


def test_cli_run_and_connection_changes_are_recorded(tmp_path: Path, fake_api: FakeApi) -> None:
    env = make_project(tmp_path, fake_api)
    fake_api.route("/items", flaky_items())
    runner = CliRunner()
    credentials = json.dumps({"type": "API_KEY", "apiKey": API_KEY})
    created = runner.invoke(
        cli, ["connections", "create", "fake", "c1", "--credentials", credentials], env=env
    )
    assert created.exit_code == 0, created.output
    ran = runner.invoke(cli, ["run", "items", "c1"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "[debug]" not in ran.stderr  # request lines go to the Activity log only
    deleted = runner.invoke(cli, ["connections", "delete", "fake", "c1", "--yes"], env=env)
    assert deleted.exit_code == 0, deleted.output

    settings = load_settings(env["NANGO_SCRIPTS_PROJECT"], env)
    with ActivityStore.open(settings.database_url) as store:
        operations = store.list_operations("dev").operations
        assert [(o.type, o.title, o.state) for o in operations] == [
            ("connection", "connection deleted", "success"),
            ("sync", "sync items", "success"),
            ("connection", "connection created", "success"),
        ]
        run = store.get_operation(operations[1].id)
        assert run is not None
        statuses = [m.fields["status"] for m in run.messages if "duration_ms" in m.fields]
        assert statuses == [500, 200]
        assert run.result is not None and run.result["models"]["Item"]["added"] == 5
        created_op = store.get_operation(operations[2].id)
        assert created_op is not None
        assert created_op.messages[0].fields == {"auth_type": "API_KEY"}
        assert API_KEY not in repr(created_op)


@pytest.mark.anyio
async def test_the_service_prunes_old_operations_when_it_starts(
    tmp_path: Path, fake_api: FakeApi
) -> None:
    env = make_project(tmp_path, fake_api) | {"NANGO_ACTIVITY_RETENTION_DAYS": "7"}
    settings = load_settings(env["NANGO_SCRIPTS_PROJECT"], env)
    assert settings.activity_retention_days == 7
    now = datetime.now(UTC)
    with ActivityStore.open(settings.database_url) as store:
        ids = {
            age: store.start_operation(
                environment="dev",
                type="proxy",
                integration_id="fake",
                connection_id="c1",
                script=None,
                title=f"{age} days old",
                started_at=now - timedelta(days=age),
            )
            for age in (30, 8, 6)
        }
    service = Service.open(settings, tick_s=0.05)
    await service.start()
    try:
        store = service.activity.store
        assert store is not None
        for _ in range(500):
            if store.get_operation(ids[8]) is None:
                break
            await _later()
        assert store.get_operation(ids[30]) is None
        assert store.get_operation(ids[8]) is None
        survivor = store.get_operation(ids[6])
        # left 'running' by a process that is gone: failed, not running for ever
        assert survivor is not None and survivor.state == "failed"
    finally:
        await service.stop()


async def _later() -> None:
    import asyncio

    await asyncio.sleep(0.01)


@pytest.mark.parametrize(("raw", "days"), [(None, 30), ("0", 0), ("90", 90), (" 7 ", 7)])
def test_retention_setting(tmp_path: Path, raw: str | None, days: int) -> None:
    env = {} if raw is None else {"NANGO_ACTIVITY_RETENTION_DAYS": raw}
    assert load_settings(tmp_path, env).activity_retention_days == days


@pytest.mark.parametrize("raw", ["-1", "a week", "1.5"])
def test_a_bad_retention_setting_is_a_clear_error(tmp_path: Path, raw: str) -> None:
    with pytest.raises(ConfigError, match="NANGO_ACTIVITY_RETENTION_DAYS"):
        load_settings(tmp_path, {"NANGO_ACTIVITY_RETENTION_DAYS": raw})


@pytest.mark.anyio
async def test_webhook_deliveries_are_recorded(tmp_path: Path, fake_api: FakeApi) -> None:
    env = make_project(tmp_path, fake_api) | {
        "NANGO_WEBHOOK_URL": fake_api.url_for("/hook?secret=hook-s3cret"),
        "NANGO_WEBHOOK_RETRY_BASE_S": "0.05",
        "NANGO_WEBHOOK_RETRY_MAX_S": "0.05",
    }
    fake_api.route("/items", flaky_items())
    answers = iter([500])
    fake_api.route("/hook", lambda r: (next(answers, 200), {}, {}))
    settings = load_settings(env["NANGO_SCRIPTS_PROJECT"], env)
    service = Service.open(settings, tick_s=0.05)
    service.connections.create("fake", "c1", {"type": "API_KEY", "apiKey": API_KEY})
    await service.start()
    try:
        await service.scheduler.trigger(service.scheduler.key("fake", "c1", "items"))
        store = service.activity.store
        assert store is not None
        for _ in range(1000):
            found = store.list_operations(
                "dev", types=["webhook"], states=["success", "failed"]
            ).operations
            if len(found) == 2:
                break
            await _later()
        failed, delivered = found[1], found[0]
        assert (failed.state, delivered.state) == ("failed", "success")
        assert (failed.integration_id, failed.connection_id) == ("fake", "c1")
        assert failed.script == "items" and failed.error == "HTTP 500"
        # shown down to its first path segment: the query may hold a token
        assert failed.title == "sync webhook (Item) to " + fake_api.url_for("/hook?***")
        detail = store.get_operation(failed.id)
        assert detail is not None
        assert [m.message.split(" (")[0] for m in detail.messages[:2]] == [
            f"POST {fake_api.url_for('/hook?***')} 500",
            "HTTP 500",
        ]
        retry = detail.messages[2]  # the retry with its wait (retry_base_s, less jitter)
        assert retry.message.startswith("retrying in ") and "(attempt 2)" in retry.message
        assert 0.0375 <= retry.fields["wait_s"] <= 0.05 and retry.fields["attempt"] == 2
        assert detail.messages[0].fields["status"] == 500
        assert delivered.result is not None and delivered.result["attempt"] == 2
    finally:
        await service.stop()


def test_cli_run_records_its_webhook_deliveries(tmp_path: Path, fake_api: FakeApi) -> None:
    """``run`` tries each webhook once: each attempt is a ``webhook`` operation, as the
    ones of serve's worker, with its state, its timing (from the POST's start) and its
    attempt; the one not accepted says that another attempt follows."""
    env = make_project(tmp_path, fake_api) | {
        "NANGO_WEBHOOK_URL": fake_api.url_for("/hook-ok"),
        "NANGO_WEBHOOK_SECONDARY_URL": fake_api.url_for("/hook-down"),
    }
    fake_api.route("/items", flaky_items())

    def slow_ok(_: Received) -> tuple[int, dict[str, str], Any]:
        time.sleep(0.2)
        return 200, {}, {}

    fake_api.route("/hook-ok", slow_ok)
    fake_api.route("/hook-down", lambda _: (503, {}, {"message": "down"}))
    runner = CliRunner()
    credentials = json.dumps({"type": "API_KEY", "apiKey": API_KEY})
    created = runner.invoke(
        cli, ["connections", "create", "fake", "c1", "--credentials", credentials], env=env
    )
    assert created.exit_code == 0, created.output
    ran = runner.invoke(cli, ["run", "items", "c1"], env=env)
    assert ran.exit_code == 0, ran.output
    assert "webhooks: 1 delivered, 1 not accepted yet" in ran.stderr

    settings = load_settings(env["NANGO_SCRIPTS_PROJECT"], env)
    with ActivityStore.open(settings.database_url) as store:
        hooks = store.list_operations("dev", types=["webhook"]).operations
        by_url = {("down" if "/hook-down" in o.title else "ok"): o for o in hooks}
        assert sorted(by_url) == ["down", "ok"] and len(hooks) == 2
        ok, down = by_url["ok"], by_url["down"]
        assert (ok.state, down.state) == ("success", "failed")
        for operation in (ok, down):
            assert (operation.integration_id, operation.connection_id) == ("fake", "c1")
            assert operation.script == "items"
            assert operation.result is not None and operation.result["attempt"] == 1
            assert operation.finished_at is not None
            assert operation.started_at <= operation.finished_at
        assert ok.title == "sync webhook (Item) to " + fake_api.url_for("/hook-ok")
        assert ok.result is not None and ok.result["status"] == 200
        # the operation is timed from the POST's start: the receiver's 200 ms are in it
        assert ok.duration_ms is not None and ok.duration_ms >= 200
        assert down.error == "HTTP 503"
        detail = store.get_operation(down.id)
        assert detail is not None
        assert [m.message.split(" (")[0] for m in detail.messages[:2]] == [
            f"POST {fake_api.url_for('/hook-down')} 503",
            "HTTP 503",
        ]
        retry = detail.messages[2]  # serve retries it after retry_base_s, less jitter
        assert retry.message.startswith("retrying in ") and retry.fields["attempt"] == 2
        assert 0.75 * settings.webhooks.retry_base_s <= retry.fields["wait_s"]
        assert detail.messages[0].fields["attempt"] == 1
        run = next(o for o in store.list_operations("dev", types=["sync"]).operations)
        assert run.finished_at is not None and run.finished_at <= ok.started_at
