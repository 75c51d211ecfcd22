"""The in-process scheduler: every enabled sync, for every connection, at its frequency.

- A sync can be switched off as a whole (:meth:`Scheduler.set_enabled`, the Activity
  page's toggle): its schedules are then never due, whatever their connection.
- A schedule per (connection, sync) lives in the database (``ScheduleStore``); a sync
  with ``auto_start`` gets a started one when its connection or script appears.
- At most one active run per (connection, sync): a trigger during a run leaves one
  follow-up waiting (``pending_trigger``), run as soon as the current one ends.
- A run longer than ``run_timeout_s`` is cancelled and recorded as failed.
- On start, runs left 'running' by a previous process (it died: SIGKILL, a crash, the
  machine) are marked failed, and their syncs run again soon rather than a frequency
  after the cut-off run began, which would leave the connection's data half-synced that
  long: within ``RETRY_INTERRUPTED_S`` seconds (resuming from the script's checkpoint),
  doubled for each further cut-off in a row so that a run that kills its process is not
  retried in a tight loop, never later than the run already planned. A run cancelled
  because the service is stopping (SIGTERM, Ctrl-C) is due again at once on the next
  start. Paused schedules stay paused. Other schedules go on from their stored next run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from nango_scripts.dsl import Project, SyncSpec, parse_frequency
from nango_scripts.engine._activity import ActivityRecorder
from nango_scripts.engine._run_once import SyncRunner
from nango_scripts.errors import ConfigError, ConnectionNotFoundError, ScriptNotFoundError
from nango_scripts.runtime import LogRecord, RunResult
from nango_scripts.settings import Settings
from nango_scripts.store import (
    ConnectionStore,
    RecordScope,
    Schedule,
    ScheduleKey,
    ScheduleStore,
    SqlRecordStore,
    blocking,
)

__all__ = ["RETRY_INTERRUPTED_S", "FinishedSyncRun", "Scheduler", "interrupted_retry_delay"]

RETRY_INTERRUPTED_S: Final = 5.0
"""A sync whose run was cut off by the death of the service runs again this long after
the next start (documented in docs/service.md); doubled for each cut-off in a row."""


def interrupted_retry_delay(base_s: float, cut_offs_in_a_row: int) -> timedelta:
    """``base_s`` after one cut-off run, doubling with each further one (capped at 2**12:
    the sync's own schedule comes first long before that)."""
    return timedelta(seconds=base_s * 2 ** min(max(cut_offs_in_a_row, 1) - 1, 12))


@dataclass(frozen=True)
class FinishedSyncRun:
    """A scheduled sync run that ended, as the scheduler tells listeners (webhooks, the
    activity log): its key, run id and type, and its result or error."""

    key: ScheduleKey
    run_id: str | None
    run_type: str
    result: RunResult | None
    error: str | None


def _now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        project: Callable[[], Project],
        *,
        records: SqlRecordStore,
        connections: ConnectionStore,
        schedules: ScheduleStore,
        tick_s: float = 1.0,
        run_timeout_s: float = 24 * 3600,
        retry_interrupted_s: float = RETRY_INTERRUPTED_S,
        on_run_finished: Callable[[FinishedSyncRun], Awaitable[None]] | None = None,
        on_log: Callable[[ScheduleKey, LogRecord], None] | None = None,
        clock: Callable[[], datetime] = _now,
        activity: ActivityRecorder | None = None,
    ) -> None:
        self.settings = settings
        self.activity = activity
        self._project = project
        self.records = records
        self.connections = connections
        self.schedules = schedules
        self.tick_s = tick_s
        self.run_timeout_s = run_timeout_s
        self.retry_interrupted_s = retry_interrupted_s
        self._on_run_finished = on_run_finished
        self._on_log = on_log
        self._clock = clock
        self._active: dict[ScheduleKey, asyncio.Task[None]] = {}
        self._runs: dict[ScheduleKey, SyncRunner] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    @property
    def environment(self) -> str:
        return self.settings.environment

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        started = self._clock()

        def retry_at(cut_offs_in_a_row: int) -> datetime:
            return started + interrupted_retry_delay(self.retry_interrupted_s, cut_offs_in_a_row)

        await blocking(self.schedules.mark_interrupted_runs, self.environment, retry_at)
        await self.ensure_schedules()
        self._loop_task = asyncio.create_task(self._loop(), name="nango-scheduler")

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        for key in list(self._active):
            if await self.cancel(key, reason="cancelled: the service stopped"):
                # cut off, not finished: due again as soon as the service is back
                await blocking(self.schedules.retry_soon, key, self._clock())

    async def _loop(self) -> None:
        while True:
            try:
                await self._tick()
            except Exception as exc:  # a bad row must not stop every schedule
                self._log(None, "error", f"scheduler tick failed: {exc}")
            self._wake.clear()
            # asyncio.timeout rather than wait_for: on Python 3.11 wait_for can swallow
            # the cancellation that stop() sends, and the loop would never end.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick_s):
                    await self._wake.wait()

    async def _tick(self) -> None:
        due = await blocking(self.schedules.due, self._clock())
        for schedule in due:
            if schedule.key in self._active:
                continue  # a pending trigger waits for the current run to end
            spec = self._spec(schedule.key.integration_id, schedule.key.sync_name)
            if spec is None:
                continue  # the script is gone (or broken): its schedule waits for it
            self._launch(schedule, spec)

    # -- schedules ----------------------------------------------------------------------------

    def _syncs(self) -> list[SyncSpec]:
        return [s for s in self._project().scripts if isinstance(s, SyncSpec)]

    def _spec(self, integration_id: str, name: str) -> SyncSpec | None:
        for spec in self._syncs():
            if spec.integration == integration_id and spec.name == name:
                return spec
        return None

    def require_sync(self, integration_id: str, name: str) -> SyncSpec:
        spec = self._spec(integration_id, name)
        if spec is None:
            known = sorted(s.name for s in self._syncs() if s.integration == integration_id)
            raise ScriptNotFoundError(
                f'no sync named "{name}" in integration "{integration_id}".',
                hint=f"Syncs of {integration_id}: {', '.join(known) or 'none'}.",
            )
        return spec

    def key(self, integration_id: str, connection_id: str, sync_name: str) -> ScheduleKey:
        return ScheduleKey(self.environment, integration_id, connection_id, sync_name)

    async def ensure_schedules(
        self, integration_id: str | None = None, connection_id: str | None = None
    ) -> None:
        """A schedule for every sync x connection of its integration (new ones only)."""
        connections = await blocking(self.connections.list, integration_id)
        now = self._clock()
        for spec in self._syncs():
            if spec.integration not in self.settings.integrations:
                continue
            for connection in connections:
                if connection.integration_id != spec.integration:
                    continue
                if connection_id is not None and connection.connection_id != connection_id:
                    continue
                key = self.key(spec.integration, connection.connection_id, spec.name)
                await blocking(
                    self.schedules.ensure,
                    key,
                    spec.frequency_seconds,
                    started=spec.auto_start,
                    first_run_at=now,
                )
        self._wake.set()

    # -- runs ---------------------------------------------------------------------------------

    def _launch(self, schedule: Schedule, spec: SyncSpec) -> None:
        key = schedule.key
        self._active[key] = asyncio.create_task(self._run(schedule, spec), name=f"run {key}")

    async def _run(self, schedule: Schedule, spec: SyncSpec) -> None:
        key = schedule.key
        started = self._clock()
        next_run = (
            started + timedelta(seconds=schedule.frequency_seconds)
            if schedule.status == "STARTED"
            else None
        )
        # due() was read a moment ago: a toggle switched off since then wins (no run).
        if not await blocking(self.schedules.begin_run, key, next_run):
            self._active.pop(key, None)
            return
        result: RunResult | None = None
        error: str | None = None
        sync_run: SyncRunner | None = None
        try:
            connection = await blocking(self.connections.get, key.integration_id, key.connection_id)
            provider = self.settings.integrations.get(key.integration_id)
            if provider is None:
                raise ConfigError(f'integration "{key.integration_id}" is not in nango.toml.')
            sync_run = SyncRunner(
                self.settings, spec, provider, connection, self.records, self.connections
            )
            sync_run.activity = self.activity
            self._runs[key] = sync_run
            on_log = None
            if self._on_log is not None:
                hook = self._on_log

                def on_log(record: LogRecord) -> None:
                    hook(key, record)

            # If the timeout cancels the run, the run records why; cancel() overrides both.
            sync_run.cancel_reason = f"timed out after {self.run_timeout_s:g} s"
            sync_run.cancel_status = "failed"
            async with asyncio.timeout(self.run_timeout_s):
                result = await sync_run.run(on_log=on_log)
        except TimeoutError:
            error = f"timed out after {self.run_timeout_s:g} s"
        except asyncio.CancelledError:
            error = sync_run.cancel_reason if sync_run is not None else "cancelled"
            raise
        except (ConnectionNotFoundError, ConfigError) as exc:
            error = str(exc)
        except Exception as exc:  # the run itself catches script errors; this is ours
            error = f"{type(exc).__name__}: {exc}"
        finally:
            self._active.pop(key, None)
            self._runs.pop(key, None)
            if result is not None and result.error is not None:
                error = result.error.message
            if (
                self.activity is not None
                and error
                and (sync_run is None or not sync_run.last_run_id)
            ):
                await self.activity.record_unstarted_run(key.values(), error)
            outcome = FinishedSyncRun(
                key=key,
                run_id=sync_run.last_run_id if sync_run is not None else None,
                run_type=sync_run.last_run_type if sync_run is not None else "INITIAL",
                result=result,
                error=error,
            )
            self._wake.set()  # a pending trigger can go now
            if self._on_run_finished is not None:
                await self._on_run_finished(outcome)

    async def trigger(
        self, key: ScheduleKey, *, reset: bool = False, empty_cache: bool = False
    ) -> None:
        """Run now (or right after the active run): one follow-up at most."""
        spec = self.require_sync(key.integration_id, key.sync_name)
        await blocking(self.connections.get, key.integration_id, key.connection_id)
        await self.ensure_schedules(key.integration_id, key.connection_id)
        scope = RecordScope(key.environment, key.integration_id, key.connection_id)
        if reset:
            await blocking(self.records.clear_checkpoint, scope, key.sync_name)
            await blocking(self.records.set_last_sync_date, scope, key.sync_name, None)
        if empty_cache:
            await blocking(self.records.clear_records, scope, [m.__name__ for m in spec.models])
        await blocking(self.schedules.set_pending, key, True)
        self._wake.set()

    async def pause(self, key: ScheduleKey) -> None:
        self.require_sync(key.integration_id, key.sync_name)
        await self.ensure_schedules(key.integration_id, key.connection_id)
        await blocking(self.schedules.set_status, key, "PAUSED", next_run_at=None)

    async def resume(self, key: ScheduleKey) -> None:
        """Start a paused schedule: due now if it never ran or its time has passed."""
        self.require_sync(key.integration_id, key.sync_name)
        await self.ensure_schedules(key.integration_id, key.connection_id)
        schedule = await blocking(self.schedules.get, key)
        last = await blocking(self.schedules.latest_run, key)
        now = self._clock()
        when = now
        if schedule is not None and last is not None:
            when = max(now, last.started_at + timedelta(seconds=schedule.frequency_seconds))
        await blocking(self.schedules.set_status, key, "STARTED", next_run_at=when)
        self._wake.set()

    async def set_enabled(self, integration_id: str, sync_name: str, enabled: bool) -> None:
        """The Scripts view's toggle: off, the sync is scheduled for no connection of the
        integration (those created later included) and waiting triggers are dropped; a
        run in progress finishes. On, schedules whose time has passed are due at once."""
        self.require_sync(integration_id, sync_name)
        await blocking(
            self.schedules.set_enabled, self.environment, integration_id, sync_name, enabled
        )
        self._wake.set()

    async def is_enabled(self, integration_id: str, sync_name: str) -> bool:
        return await blocking(
            self.schedules.is_enabled, self.environment, integration_id, sync_name
        )

    async def cancel(self, key: ScheduleKey, *, reason: str = "cancelled") -> bool:
        task = self._active.get(key)
        if task is None:
            return False
        sync_run = self._runs.get(key)
        if sync_run is not None:
            sync_run.cancel_reason = reason
            sync_run.cancel_status = "cancelled"
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return True

    async def update_frequency(self, key: ScheduleKey, frequency: str | None) -> int:
        """Override a connection's frequency (None: back to the script's); returns seconds."""
        spec = self.require_sync(key.integration_id, key.sync_name)
        await self.ensure_schedules(key.integration_id, key.connection_id)
        seconds = spec.frequency_seconds if frequency is None else parse_frequency(frequency)
        await blocking(self.schedules.set_frequency, key, frequency, seconds)
        schedule = await blocking(self.schedules.get, key)
        if schedule is not None and schedule.status == "STARTED":
            last = await blocking(self.schedules.latest_run, key)
            base = last.started_at if last is not None else self._clock()
            await blocking(
                self.schedules.set_next_run,
                key,
                max(self._clock(), base + timedelta(seconds=seconds)),
            )
        return seconds

    async def remove_connection(self, integration_id: str, connection_id: str) -> None:
        """A deleted connection: stop its runs, forget its schedules and records."""
        for key in [
            k
            for k in self._active
            if (k.integration_id, k.connection_id) == (integration_id, connection_id)
        ]:
            await self.cancel(key, reason="cancelled: the connection was deleted")
        await blocking(
            self.schedules.delete_connection, self.environment, integration_id, connection_id
        )
        await blocking(
            self.records.delete_connection_records, self.environment, integration_id, connection_id
        )

    def is_running(self, key: ScheduleKey) -> bool:
        return key in self._active

    def _log(self, key: ScheduleKey | None, level: str, message: str) -> None:
        if self._on_log is not None and key is not None:
            self._on_log(key, LogRecord(self._clock(), level, message, {}))  # type: ignore[arg-type]

    async def wait_idle(self) -> None:
        """For tests and shutdown: wait until no run is active (wrap in asyncio.timeout)."""
        while self._active:
            await asyncio.gather(*self._active.values(), return_exceptions=True)
