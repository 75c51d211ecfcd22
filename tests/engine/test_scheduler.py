"""The in-process scheduler against a real local API, real SQLite, and a clock we move."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.fakeapi import FakeApi, Received
from support.waiting import TIMEOUT_S, eventually_async

from nango_scripts.dsl import Project, load_project
from nango_scripts.engine import (
    RETRY_INTERRUPTED_S,
    FinishedSyncRun,
    Scheduler,
    interrupted_retry_delay,
)
from nango_scripts.settings import load_settings
from nango_scripts.store import (
    ConnectionStore,
    RecordScope,
    Schedule,
    ScheduleKey,
    ScheduleStore,
    SqlRecordStore,
)

pytestmark = pytest.mark.anyio

NANGO_TOML = """
[integrations.fake]
base_url = "http://127.0.0.1:9"
"""

SYNCS = """
from pydantic import BaseModel

from nango_scripts import NangoSync, sync


class Item(BaseModel):
    id: str
    n: int


@sync(models=[Item], frequency="every hour")
async def items(nango: NangoSync) -> None:
    params = {"since": nango.last_sync_date.isoformat()} if nango.last_sync_date else {}
    await nango.batch_save((await nango.get("/items", params=params)).json(), Item)


@sync(models=[Item], frequency="every day", auto_start=False)
async def manual(nango: NangoSync) -> None:
    await nango.batch_save((await nango.get("/items")).json(), Item)
"""


@dataclass
class Clock:
    """The scheduler's clock: the test moves ``now``; ``reads`` counts the scheduler's looks
    at it (each tick begins with one)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    reads: int = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.now


@dataclass
class Harness:
    scheduler: Scheduler
    clock: Clock
    records: SqlRecordStore
    schedules: ScheduleStore
    finished: list[FinishedSyncRun]
    api: FakeApi
    scheduler_for: Callable[[ScheduleStore], Scheduler]
    """Another scheduler of the same project, clock and stores but ``schedules``."""

    def key(self, sync: str = "items", connection: str = "c1") -> ScheduleKey:
        return ScheduleKey("dev", "fake", connection, sync)

    async def runs(self, count: int) -> list[FinishedSyncRun]:
        await eventually_async(lambda: len(self.finished) >= count, f"{count} finished runs")
        return self.finished

    async def settled(self, scheduler: Scheduler | None = None) -> None:
        """Return once the scheduler has looked at the clock twice more (so a whole tick saw
        the state the test set, and launched whatever was due by it) and what it launched
        has finished: "nothing ran" is then the scheduler's answer, not a matter of time."""
        looked = self.clock.reads
        await eventually_async(lambda: self.clock.reads >= looked + 2, "a scheduler tick")
        async with asyncio.timeout(TIMEOUT_S):
            await (scheduler or self.scheduler).wait_idle()


@pytest.fixture
async def harness(tmp_path: Path, fake_api: FakeApi) -> AsyncIterator[Harness]:
    project = tmp_path / "proj"
    (project / "fake" / "syncs").mkdir(parents=True)
    (project / "nango.toml").write_text(NANGO_TOML)
    (project / "fake" / "syncs" / "items.py").write_text(SYNCS)
    env = {
        "NANGO_SCRIPTS_DATABASE_URL": f"sqlite:///{tmp_path}/nango.db",
        "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
        "NANGO_INTEGRATION_FAKE_BASE_URL": fake_api.url,
    }
    settings = load_settings(project, env)
    loaded: Project = load_project(project)
    assert not loaded.errors, loaded.errors
    fake_api.route("/items", lambda r: (200, {}, [{"id": "a", "n": 1}, {"id": "b", "n": 2}]))
    connections = ConnectionStore.open(settings)
    connections.create("fake", "c1", {})
    records = SqlRecordStore.open(settings.database_url)
    schedules = ScheduleStore.open(settings.database_url)
    finished: list[FinishedSyncRun] = []

    async def on_finished(outcome: FinishedSyncRun) -> None:
        finished.append(outcome)

    clock = Clock()

    def scheduler_for(store: ScheduleStore) -> Scheduler:
        return Scheduler(
            settings,
            lambda: loaded,
            records=records,
            connections=connections,
            schedules=store,
            tick_s=0.05,
            on_run_finished=on_finished,
            clock=clock,
        )

    scheduler = scheduler_for(schedules)
    await scheduler.start()
    try:
        yield Harness(scheduler, clock, records, schedules, finished, fake_api, scheduler_for)
    finally:
        await scheduler.stop()
        records.close()
        schedules.close()
        connections.close()


async def test_first_run_is_initial_and_later_runs_are_incremental(harness: Harness) -> None:
    first = (await harness.runs(1))[0]
    assert first.run_type == "INITIAL" and first.error is None
    assert first.result is not None and first.result.models["Item"].added == 2
    assert "since" not in harness.api.requests_to("/items")[0].query

    # nothing more until the frequency has passed
    await harness.settled()
    assert len(harness.finished) == 1
    harness.api.route("/items", lambda r: (200, {}, [{"id": "b", "n": 20}]))
    harness.clock.now += timedelta(hours=1, seconds=1)
    second = (await harness.runs(2))[1]
    assert second.run_type == "INCREMENTAL"
    assert second.result is not None
    assert (second.result.models["Item"].added, second.result.models["Item"].updated) == (0, 1)
    assert "since" in harness.api.requests_to("/items")[-1].query
    history = harness.schedules.runs(harness.key())
    assert [(r.run_type, r.status) for r in history] == [
        ("INCREMENTAL", "success"),
        ("INITIAL", "success"),
    ]
    assert history[0].result == {
        "Item": {"saved": 1, "updated": 1, "deleted": 0, "invalid": 0, "added": 0, "unchanged": 0}
    }


async def test_a_sync_without_auto_start_waits_for_start(harness: Harness) -> None:
    await harness.runs(1)  # items
    schedule = harness.schedules.get(harness.key("manual"))
    assert schedule is not None and schedule.status == "PAUSED"
    await harness.settled()
    assert [f.key.sync_name for f in harness.finished] == ["items"]
    await harness.scheduler.resume(harness.key("manual"))
    assert (await harness.runs(2))[1].key.sync_name == "manual"


async def test_pause_stops_the_schedule_and_trigger_still_runs(harness: Harness) -> None:
    await harness.runs(1)
    await harness.scheduler.pause(harness.key())
    harness.clock.now += timedelta(hours=5)
    await harness.settled()
    assert len(harness.finished) == 1
    await harness.scheduler.trigger(harness.key())
    await harness.runs(2)
    schedule = harness.schedules.get(harness.key())
    assert schedule is not None and schedule.status == "PAUSED" and schedule.next_run_at is None


async def test_triggers_during_a_run_queue_exactly_one_follow_up(harness: Harness) -> None:
    await harness.runs(1)
    gate = threading.Event()
    calls: list[Received] = []

    def slow(request: Received) -> Any:
        calls.append(request)
        gate.wait(10)
        return 200, {}, []

    harness.api.route("/items", slow)
    await harness.scheduler.trigger(harness.key())
    await eventually_async(lambda: bool(calls), "the triggered run's request")
    for _ in range(3):
        await harness.scheduler.trigger(harness.key())
    gate.set()
    await harness.runs(3)
    await harness.settled()
    assert len(harness.finished) == 3  # the first, the triggered one, one follow-up
    assert len(calls) == 2


async def test_trigger_with_reset_and_empty_cache(harness: Harness) -> None:
    await harness.runs(1)
    scope = RecordScope("dev", "fake", "c1")
    harness.records.save_checkpoint(scope, "items", {"page": 3})
    await harness.scheduler.trigger(harness.key(), reset=True, empty_cache=True)
    run = (await harness.runs(2))[1]
    assert run.run_type == "INITIAL"  # reset forgot last_sync_date
    assert run.result is not None and run.result.models["Item"].added == 2  # cache emptied
    assert harness.records.get_checkpoint(scope, "items") is None


async def test_timeout_and_cancel_are_recorded(harness: Harness) -> None:
    await harness.runs(1)
    gate = threading.Event()
    harness.api.route("/items", lambda r: (gate.wait(10), (200, {}, []))[1])
    harness.scheduler.run_timeout_s = 0.3
    await harness.scheduler.trigger(harness.key())
    timed_out = (await harness.runs(2))[1]
    assert timed_out.error == "timed out after 0.3 s"
    gate.set()
    latest = harness.schedules.latest_run(harness.key())
    assert latest is not None and latest.status == "failed" and latest.error == timed_out.error

    gate.clear()
    harness.scheduler.run_timeout_s = 60
    await harness.scheduler.trigger(harness.key())
    # cancelled in the middle of its request (the third to /items), once its run is recorded
    await eventually_async(lambda: len(harness.api.requests_to("/items")) == 3, "the run's request")
    assert harness.scheduler.is_running(harness.key())
    assert await harness.scheduler.cancel(harness.key(), reason="cancelled by a test")
    gate.set()
    latest = harness.schedules.latest_run(harness.key())
    assert latest is not None and latest.status == "cancelled"
    assert latest.error == "cancelled by a test"


async def test_a_run_cut_off_by_a_restart_is_failed_and_retried_within_the_delay(
    harness: Harness,
) -> None:
    await harness.runs(1)
    await harness.scheduler.stop()
    scope = RecordScope("dev", "fake", "c1")
    # as a process killed in the middle of a run leaves it (its next run an hour on)
    orphan = harness.records.start_run(scope, "items", run_type="INCREMENTAL")
    other_environment = harness.records.start_run(
        RecordScope("prod", "fake", "c1"), "items", run_type="INCREMENTAL"
    )
    restarted = harness.scheduler_for(harness.schedules)
    await restarted.start()
    try:
        runs = {r.id: r for r in harness.schedules.runs(harness.key())}
        assert (runs[orphan].status, runs[orphan].error) == (
            "failed",
            "interrupted: the service stopped during the run",
        )
        # another environment's service is not this one's to judge
        prod = {r.id: r for r in harness.schedules.runs(ScheduleKey("prod", "fake", "c1", "items"))}
        assert prod[other_environment].status == "running"
        schedule = harness.schedules.get(harness.key())
        assert schedule is not None
        assert schedule.next_run_at == harness.clock.now + timedelta(seconds=RETRY_INTERRUPTED_S)
        await harness.settled(restarted)
        assert len(harness.finished) == 1  # not before the delay
        harness.clock.now += timedelta(seconds=RETRY_INTERRUPTED_S)
        retried = (await harness.runs(2))[1]
        assert (retried.key, retried.error) == (harness.key(), None)
    finally:
        await restarted.stop()


async def test_runs_cut_off_in_a_row_are_retried_less_and_less_often(
    harness: Harness,
) -> None:
    await harness.runs(1)
    await harness.scheduler.stop()
    scope = RecordScope("dev", "fake", "c1")
    waits: list[float] = []
    for _ in range(4):
        harness.records.start_run(scope, "items", run_type="INCREMENTAL")
        harness.clock.now += timedelta(seconds=1)
        retry_at = harness.clock.now + timedelta(hours=1)

        def at(cut_offs: int, now: datetime = harness.clock.now) -> datetime:
            return now + interrupted_retry_delay(RETRY_INTERRUPTED_S, cut_offs)

        # the schedule as the cut-off run left it: an hour on
        harness.schedules.set_next_run(harness.key(), retry_at)
        assert harness.schedules.mark_interrupted_runs("dev", at) == [harness.key()]
        schedule = harness.schedules.get(harness.key())
        assert schedule is not None and schedule.next_run_at is not None
        waits.append((schedule.next_run_at - harness.clock.now).total_seconds())
    # the successful run before them does not count; each one cut off after it does
    assert waits == [RETRY_INTERRUPTED_S * f for f in (1, 2, 4, 8)]
    assert harness.schedules.mark_interrupted_runs("dev", lambda n: harness.clock.now) == []


async def test_a_paused_sync_cut_off_by_a_restart_stays_paused(harness: Harness) -> None:
    await harness.runs(1)
    await harness.scheduler.pause(harness.key())
    await harness.scheduler.stop()
    harness.records.start_run(RecordScope("dev", "fake", "c1"), "items")
    assert harness.schedules.mark_interrupted_runs("dev", lambda n: harness.clock.now) == [
        harness.key()
    ]
    schedule = harness.schedules.get(harness.key())
    assert schedule is not None and (schedule.status, schedule.next_run_at) == ("PAUSED", None)


async def test_a_run_cancelled_by_a_stop_is_due_at_once_on_the_next_start(
    harness: Harness,
) -> None:
    await harness.runs(1)
    gate = threading.Event()
    harness.api.route("/items", lambda r: (gate.wait(10), (200, {}, []))[1])
    harness.clock.now += timedelta(hours=1, seconds=1)
    await eventually_async(  # in the middle
        lambda: len(harness.api.requests_to("/items")) == 2, "the second run's request"
    )
    await harness.scheduler.stop()
    gate.set()
    latest = harness.schedules.latest_run(harness.key())
    assert latest is not None and latest.status == "cancelled"
    schedule = harness.schedules.get(harness.key())
    assert schedule is not None and schedule.next_run_at == harness.clock.now


async def test_removing_a_connection_forgets_its_schedules_and_records(harness: Harness) -> None:
    await harness.runs(1)
    scope = RecordScope("dev", "fake", "c1")
    assert (harness.records.count_records(scope, "Item"))["live"] == 2
    await harness.scheduler.remove_connection("fake", "c1")
    assert harness.schedules.list("dev", "fake", "c1") == []
    assert (harness.records.count_records(scope, "Item"))["live"] == 0


async def test_a_sync_switched_off_runs_for_no_connection_until_switched_on(
    harness: Harness,
) -> None:
    await harness.runs(1)  # items for c1
    await harness.scheduler.set_enabled("fake", "items", False)
    assert not await harness.scheduler.is_enabled("fake", "items")

    # c1's next run is due, and a connection created now gets a schedule due at once:
    # neither runs. The manual sync of the new connection, started in the same tick,
    # shows that the scheduler did look.
    harness.scheduler.connections.create("fake", "c2", {})
    await harness.scheduler.ensure_schedules("fake", "c2")
    harness.clock.now += timedelta(hours=2)
    await harness.scheduler.resume(harness.key("manual", "c2"))
    await harness.runs(2)
    await harness.scheduler.wait_idle()
    assert [f.key for f in harness.finished] == [harness.key(), harness.key("manual", "c2")]
    assert harness.schedules.due(harness.clock.now) == []

    await harness.scheduler.set_enabled("fake", "items", True)
    assert await harness.scheduler.is_enabled("fake", "items")
    await harness.runs(4)
    assert {f.key for f in harness.finished[2:]} == {harness.key(), harness.key("items", "c2")}
    # the toggle is the sync's, not the environment's: the manual sync was never touched
    assert harness.schedules.disabled_syncs("dev") == set()


class SwitchedOffAfterDue(ScheduleStore):
    """The race of the Activity page's toggle: the sync is switched off right after the
    scheduler read what is due, before the run begins (once, when armed)."""

    armed = False

    def due(self, now: datetime) -> list[Schedule]:
        found = super().due(now)
        if self.armed and any(s.key.sync_name == "items" for s in found):
            self.armed = False
            self.set_enabled("dev", "fake", "items", False)
        return found


async def test_a_sync_switched_off_between_due_and_the_run_does_not_run(
    harness: Harness, tmp_path: Path
) -> None:
    await harness.runs(1)  # items for c1
    await harness.scheduler.stop()
    with SwitchedOffAfterDue.open(f"sqlite:///{tmp_path}/nango.db") as racing:
        scheduler = harness.scheduler_for(racing)
        await scheduler.start()
        try:
            racing.armed = True
            harness.clock.now += timedelta(hours=2)  # items c1 due again...
            await scheduler.resume(harness.key("manual"))  # ...with manual c1, same tick
            await harness.runs(2)
            async with asyncio.timeout(10):
                await scheduler.wait_idle()
            assert not racing.armed  # the toggle did land between due() and the run
            assert [f.key for f in harness.finished] == [harness.key(), harness.key("manual")]
            assert len(harness.api.requests_to("/items")) == 2
            kept = racing.get(harness.key())
            assert kept is not None and kept.next_run_at is not None
            assert kept.next_run_at <= harness.clock.now  # left as it was: due when on

            await scheduler.set_enabled("fake", "items", True)
            await harness.runs(3)
            assert harness.finished[2].key == harness.key()
        finally:
            await scheduler.stop()
