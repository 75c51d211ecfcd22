"""Syncs: trigger, status, pause and start, frequency; their errors."""

from __future__ import annotations

from datetime import datetime

import anyio
import pytest
from support.server_harness import Harness

from nango_scripts.client import (
    AsyncNango,
    ModelResult,
    NangoBadRequestError,
    NangoNotFoundError,
    SyncStatus,
)

pytestmark = pytest.mark.anyio


async def finished_status(nango: AsyncNango) -> SyncStatus:
    """Poll until the items sync of c1 has finished a run."""
    with anyio.fail_after(10):
        while True:
            [status] = await nango.sync_status("fake", ["items"], "c1")
            if status.status != "RUNNING" and status.finished_at is not None:
                return status
            await anyio.sleep(0.02)


async def test_trigger_then_status(harness: Harness, anango: AsyncNango) -> None:
    await anango.trigger_sync("fake", ["items"], "c1")
    status = await finished_status(anango)
    assert (status.connection_id, status.name, status.variant) == ("c1", "items", "base")
    assert status.type == "INITIAL"
    assert isinstance(status.finished_at, datetime)
    assert status.status == "PAUSED"  # auto_start=False: not scheduled, only triggered
    assert status.next_scheduled_sync_at is None
    assert status.frequency == "every hour"
    assert status.latest_result == {"Item": ModelResult(added=5, updated=0, deleted=0)}
    assert status.latest_execution_status == "SUCCESS"
    assert status.record_count == {"Item": 5}
    assert status.model_dump(by_alias=True)["recordCount"] == {"Item": 5}
    page = await anango.list_records("fake", "c1", "Item")
    assert len(page.records) == 5


async def test_trigger_every_sync_of_every_connection_with_a_reset(
    harness: Harness, anango: AsyncNango
) -> None:
    await harness.run_items()
    before = len(harness.service.schedules.runs(harness.key()))
    await anango.trigger_sync("fake", reset=True, empty_cache=True)
    with anyio.fail_after(10):
        while True:
            runs = harness.service.schedules.runs(harness.key())
            if len(runs) > before and runs[0].finished_at is not None:
                break
            await anyio.sleep(0.02)
    assert runs[0].run_type == "INITIAL"  # reset: a full resync
    statuses = await anango.sync_status("fake")
    assert [(s.name, s.latest_execution_status) for s in statuses] == [("items", "SUCCESS")]


async def test_start_and_pause(harness: Harness, anango: AsyncNango) -> None:
    await anango.start_sync("fake", "items")  # a single name; every connection
    started = await finished_status(anango)  # a started schedule is due at once
    await harness.service.scheduler.wait_idle()
    assert started.status == "SUCCESS"
    assert isinstance(started.next_scheduled_sync_at, datetime)
    await anango.pause_sync("fake", ["items"], "c1")
    [paused] = await anango.sync_status("fake", "*", "c1")
    assert paused.status == "PAUSED"


async def test_update_sync_connection_frequency(harness: Harness, anango: AsyncNango) -> None:
    answer = await anango.update_sync_connection_frequency("fake", "items", "c1", "every 2 hours")
    assert answer == "every 2 hours"
    [status] = await anango.sync_status("fake", ["items"], "c1")
    assert status.frequency == "every 2 hours"
    assert await anango.update_sync_connection_frequency("fake", "items", "c1", None) == (
        "every hour"
    )
    with pytest.raises(NangoBadRequestError) as caught:
        await anango.update_sync_connection_frequency("fake", "items", "c1", "now and then")
    assert caught.value.code == "invalid_body"


async def test_sync_errors_carry_nangos_codes(harness: Harness, anango: AsyncNango) -> None:
    with pytest.raises(NangoBadRequestError) as caught:
        await anango.trigger_sync("fake", ["nope"], "c1")
    assert caught.value.code == "unknown_sync"
    with pytest.raises(NangoNotFoundError) as missing:
        await anango.trigger_sync("fake", ["items"], "ghost")
    assert (missing.value.status, missing.value.code) == (404, "unknown_connection")
    with pytest.raises(NangoBadRequestError) as unknown:
        await anango.sync_status("fake", "*", "ghost")
    assert unknown.value.code == "unknown_connection"
    assert await anango.sync_status("fake", ["not-a-sync"]) == []


async def test_sync_arguments_are_checked_before_sending(anango: AsyncNango) -> None:
    with pytest.raises(ValueError, match="syncs is required"):
        await anango.pause_sync("fake", [])
    with pytest.raises(ValueError, match="syncs is required"):
        await anango.sync_status("fake", [])
    with pytest.raises(ValueError, match="provider_config_key is required"):
        await anango.trigger_sync("")
