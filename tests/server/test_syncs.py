"""The sync routes over the scheduler: trigger, start, pause, status, frequency."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support.server_harness import Harness
from support.waiting import eventually_async

from nango_scripts.store import RecordScope

pytestmark = pytest.mark.anyio


async def status(harness: Harness, syncs: str = "items", **query: str) -> list[dict[str, Any]]:
    answer = await harness.client.get(
        "/sync/status", params={"syncs": syncs, "provider_config_key": "fake", **query}
    )
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["syncs"]
    return entries


async def test_status_before_and_after_a_triggered_run(harness: Harness) -> None:
    [before] = await status(harness, connection_id="c1")
    assert before["status"] == "PAUSED"  # auto_start=False
    assert before["type"] == "INITIAL"
    assert before["frequency"] == "every hour"
    assert before["finishedAt"] is None
    assert before["recordCount"] == {"Item": 0}
    await harness.run_items()
    [after] = await status(harness, connection_id="c1")
    assert after["status"] == "PAUSED"  # a trigger runs once, it does not start the schedule
    assert after["latestResult"] == {"Item": {"added": 5, "updated": 0, "deleted": 0}}
    assert after["latestExecutionStatus"] == "SUCCESS"
    assert after["recordCount"] == {"Item": 5}
    assert after["finishedAt"].endswith("Z")
    assert (after["id"], after["connection_id"], after["name"], after["variant"]) == (
        before["id"],
        "c1",
        "items",
        "base",
    )
    await harness.run_items()
    [again] = await status(harness, syncs="*")
    assert again["type"] == "INCREMENTAL"
    assert again["latestResult"] == {"Item": {"added": 0, "updated": 0, "deleted": 0}}


async def test_start_and_pause(harness: Harness) -> None:
    body = {"syncs": ["items"], "provider_config_key": "fake", "connection_id": "c1"}
    started = await harness.client.post("/sync/start", json=body)
    assert (started.status_code, started.json()) == (200, {"success": True})

    def ran() -> bool:
        last = harness.service.schedules.latest_run(harness.key(), finished=True)
        return last is not None

    # a started schedule that never ran is due at once
    await eventually_async(lambda: asyncio.to_thread(ran), "the started schedule's first run")
    await harness.service.scheduler.wait_idle()
    schedule = harness.service.schedules.get(harness.key())
    assert schedule is not None and schedule.status == "STARTED"
    [entry] = await status(harness)
    assert entry["status"] == "SUCCESS"
    assert entry["nextScheduledSyncAt"] is not None
    paused = await harness.client.post("/sync/pause", json={**body, "connection_id": None})
    assert paused.status_code == 200
    [entry] = await status(harness)
    assert entry["status"] == "PAUSED"
    assert entry["nextScheduledSyncAt"] is None


async def test_trigger_reset_and_empty_cache(harness: Harness) -> None:
    await harness.run_items()
    scope = RecordScope("dev", "fake", "c1")
    assert harness.service.records.get_last_sync_date(scope, "items") is not None
    answer = await harness.client.post(
        "/sync/trigger",
        json={
            "syncs": [{"name": "items"}],
            "provider_config_key": "fake",
            "opts": {"reset": True, "emptyCache": True},
        },
    )
    assert answer.status_code == 200
    await harness.service.scheduler.wait_idle()

    def ran_twice() -> bool:
        runs = harness.service.schedules.runs(harness.key())
        return len(runs) == 2 and runs[0].finished_at is not None

    await eventually_async(lambda: asyncio.to_thread(ran_twice), "the triggered run to finish")
    latest = harness.service.schedules.runs(harness.key())[0]
    assert latest.run_type == "INITIAL"  # reset: last_sync_date forgotten
    assert latest.result is not None and latest.result["Item"]["added"] == 5  # cache emptied


async def test_legacy_sync_mode_and_headers_for_the_integration(harness: Harness) -> None:
    answer = await harness.client.post(
        "/sync/trigger",
        json={"syncs": [], "sync_mode": "full_refresh"},
        headers={"Provider-Config-Key": "fake", "Connection-Id": "c1"},
    )
    assert (answer.status_code, answer.json()) == (200, {"success": True})
    both = await harness.client.post(
        "/sync/trigger",
        json={"provider_config_key": "fake", "opts": {"reset": True}, "sync_mode": "incremental"},
    )
    assert both.status_code == 400
    assert both.json()["error"]["code"] == "invalid_body"


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "words"),
    [
        (
            "/sync/trigger",
            {"syncs": ["nope"], "provider_config_key": "fake"},
            400,
            "unknown_sync",
            "nope",
        ),
        (
            "/sync/trigger",
            {"syncs": ["items::v2"], "provider_config_key": "fake"},
            400,
            "unknown_sync",
            "items::v2",
        ),
        ("/sync/trigger", {"syncs": []}, 400, "missing_provider_config_key", "provider_config_key"),
        ("/sync/trigger", {"provider_config_key": "nope"}, 400, "unknown_provider_config", "nope"),
        ("/sync/trigger", {"provider_config_key": "other"}, 400, "no_syncs_found", "other"),
        (
            "/sync/trigger",
            {"provider_config_key": "fake", "connection_id": "ghost"},
            404,
            "unknown_connection",
            "ghost",
        ),
        (
            "/sync/trigger",
            {"provider_config_key": "fake", "sync_mode": "fast"},
            400,
            "invalid_body",
            "sync_mode",
        ),
        (
            "/sync/trigger",
            {"provider_config_key": "fake", "extra": 1},
            400,
            "invalid_body",
            "extra",
        ),
        ("/sync/start", {"syncs": [], "provider_config_key": "fake"}, 400, "invalid_body", "syncs"),
        ("/sync/pause", {"syncs": ["items"]}, 400, "invalid_body", "provider_config_key"),
        (
            "/sync/pause",
            {"syncs": ["items"], "provider_config_key": "fake", "connection_id": "ghost"},
            404,
            "unknown_connection",
            "ghost",
        ),
    ],
)
async def test_bad_sync_requests(
    harness: Harness, path: str, body: dict[str, Any], status: int, code: str, words: str
) -> None:
    answer = await harness.client.post(path, json=body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert words in error["message"]


async def test_status_skips_unknown_names_and_rejects_unknown_connections(harness: Harness) -> None:
    assert await status(harness, syncs="nope,other::v") == []
    missing = await harness.client.get("/sync/status", params={"syncs": "*"})
    assert missing.status_code == 400
    assert "provider_config_key" in missing.json()["error"]["message"]
    ghost = await harness.client.get(
        "/sync/status",
        params={"syncs": "*", "provider_config_key": "fake", "connection_id": "ghost"},
    )
    assert ghost.status_code == 400
    assert ghost.json()["error"]["code"] == "unknown_connection"


async def test_update_connection_frequency(harness: Harness) -> None:
    body: dict[str, Any] = {
        "sync_name": "items",
        "provider_config_key": "fake",
        "connection_id": "c1",
        "frequency": "every 2 hours",
    }
    answer = await harness.client.put("/sync/update-connection-frequency", json=body)
    assert (answer.status_code, answer.json()) == (200, {"frequency": "every 2 hours"})
    schedule = harness.service.schedules.get(harness.key())
    assert schedule is not None and schedule.frequency_seconds == 7200
    assert (await status(harness))[0]["frequency"] == "every 2 hours"
    reverted = await harness.client.put(
        "/sync/update-connection-frequency", json={**body, "frequency": None}
    )
    assert reverted.json() == {"frequency": "every hour"}
    for change, code in [
        ({"frequency": "every 2 seconds"}, "invalid_body"),
        ({"frequency": "sometimes"}, "invalid_body"),
        ({"sync_name": "nope"}, "unknown_sync"),
        ({"connection_id": "ghost"}, "unknown_connection"),
    ]:
        bad = await harness.client.put("/sync/update-connection-frequency", json={**body, **change})
        assert bad.status_code == 400, change
        assert bad.json()["error"]["code"] == code
    missing = dict(body)
    del missing["frequency"]
    absent = await harness.client.put("/sync/update-connection-frequency", json=missing)
    assert absent.status_code == 400
    assert "frequency" in absent.json()["error"]["message"]


async def test_a_disabled_sync_is_stopped_refuses_triggers_and_says_so(harness: Harness) -> None:
    start = {"syncs": ["items"], "provider_config_key": "fake", "connection_id": "c1"}
    assert (await harness.client.post("/sync/start", json=start)).status_code == 200
    [started] = await status(harness, connection_id="c1")
    assert started["nextScheduledSyncAt"] is not None
    await eventually_async(
        lambda: asyncio.to_thread(
            lambda: harness.service.schedules.latest_run(harness.key(), finished=True)
        ),
        "the started schedule's first run",
    )
    await harness.service.scheduler.wait_idle()
    await harness.service.scheduler.set_enabled("fake", "items", False)

    [stopped] = await status(harness, connection_id="c1")
    assert (stopped["status"], stopped["nextScheduledSyncAt"]) == ("STOPPED", None)
    refused = await harness.client.post("/sync/trigger", json=start)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "sync_disabled"
    assert "items" in refused.json()["error"]["message"]
    config = (await harness.client.get("/scripts/config")).json()
    [fake] = [i for i in config if i["providerConfigKey"] == "fake"]
    assert [(s["name"], s["enabled"]) for s in fake["syncs"]] == [("items", False)]

    await harness.service.scheduler.set_enabled("fake", "items", True)
    [again] = await status(harness, connection_id="c1")
    assert again["status"] != "STOPPED" and again["nextScheduledSyncAt"] is not None
    await harness.run_items()
    config = (await harness.client.get("/scripts/config")).json()
    [fake] = [i for i in config if i["providerConfigKey"] == "fake"]
    assert [(s["name"], s["enabled"]) for s in fake["syncs"]] == [("items", True)]
