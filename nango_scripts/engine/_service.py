"""The service behind ``nango-scripts serve``: settings, scripts, stores, scheduler, actions.

One object wires what the HTTP API (and the dev loop) drive::

    service = Service.open(settings)      # opens the database, resolves the secret key
    await service.start()                 # loads the scripts, starts the scheduler
    ...                                   # service.scheduler / .connections / .records ...
    await service.reload()                # after a file change: scripts again, schedules
    await service.stop()                  # stops runs and closes the database

The dev loop loads the project itself and hands it over: ``service.use(project)``
before ``start()``, then ``await service.reload(project, settings=...)`` after each save.
A reload never drops a script because its file is broken now: the last good version of
the scripts of ``project.broken_files`` is kept (and served) until the file is fixed.

The API's secret key is ``settings.secret_key`` (``NANGO_SECRET_KEY``); without one, the
key kept in the database (see :mod:`~nango_scripts.engine._secret_key`):
``secret_key_created`` tells the process that generated it, so that it is shown once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from nango_scripts.dsl import ActionSpec, Project, ScriptSpec, SyncSpec, load_project
from nango_scripts.engine._actions import ActionRunner
from nango_scripts.engine._activity import ActivityRecorder
from nango_scripts.engine._scheduler import FinishedSyncRun, Scheduler
from nango_scripts.engine._secret_key import resolve_secret_key
from nango_scripts.engine._templates import compose, read_enabled, set_templates
from nango_scripts.engine._webhooks import WebhookDelivery
from nango_scripts.settings import Settings
from nango_scripts.store import (
    ActionRunStore,
    ActivityStore,
    ConnectionStore,
    ScheduleStore,
    SqlRecordStore,
    WebhookOutbox,
    blocking,
)

__all__ = ["Service"]

_logger = logging.getLogger("nango_scripts.service")


class Service:
    def __init__(
        self,
        settings: Settings,
        *,
        connections: ConnectionStore,
        records: SqlRecordStore,
        schedules: ScheduleStore,
        action_runs: ActionRunStore,
        secret_key_created: bool = False,
        tick_s: float = 1.0,
        on_run_finished: Callable[[FinishedSyncRun], Awaitable[None]] | None = None,
        activity: ActivityStore | None = None,
        outbox: WebhookOutbox | None = None,
    ) -> None:
        assert settings.secret_key, "the service needs a secret key (Service.open makes one)"
        self.settings = settings
        self.connections = connections
        self.records = records
        self.schedules = schedules
        self.action_runs = action_runs
        self.secret_key_created = secret_key_created
        """True when this process generated the secret key (show it once)."""
        self._project: Project | None = None
        self._loaded: Project | None = None
        """The project as loaded (last good versions kept), before templates are added."""
        self.templates_enabled: dict[str, list[str]] = {}
        """Templates enabled in the database, as last read (nango.toml's are in settings)."""
        self._templates_task: asyncio.Task[None] | None = None
        self._tick_s = tick_s
        self.scripts_loaded_at: datetime | None = None
        """When the scripts served now were loaded (start or the last reload)."""
        self.kept_scripts: tuple[ScriptSpec, ...] = ()
        """Scripts served in their last good version: their file is broken now."""
        self.activity = ActivityRecorder(activity, masked=[settings.secret_key])
        """The Activity log (``activity.store`` reads it; None when not kept)."""
        self.scheduler = Scheduler(
            settings,
            lambda: self.project,
            records=records,
            connections=connections,
            schedules=schedules,
            tick_s=tick_s,
            on_run_finished=self._run_finished,
            activity=self.activity,
        )
        self._on_run_finished = on_run_finished
        self.outbox = outbox if outbox is not None else WebhookOutbox.open(settings.database_url)
        self.webhooks = WebhookDelivery(
            self.outbox, settings.secret_key, settings.webhooks, activity=self.activity
        )
        """Sends the webhook outbox (started and stopped with the service)."""
        self.actions = ActionRunner(connections, action_runs, self.activity)
        self._started = False

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        tick_s: float = 1.0,
        on_run_finished: Callable[[FinishedSyncRun], Awaitable[None]] | None = None,
    ) -> Service:
        """Open the database (migrating it) and settle the secret key."""
        action_runs = ActionRunStore.open(settings.database_url)
        opened: list[
            ConnectionStore | SqlRecordStore | ScheduleStore | ActionRunStore | ActivityStore
        ] = [action_runs]
        try:
            key, created = resolve_secret_key(settings)
            settings = dataclasses.replace(settings, secret_key=key)
            connections = ConnectionStore.open(settings)
            opened.append(connections)
            records = SqlRecordStore.open(settings.database_url)
            opened.append(records)
            schedules = ScheduleStore.open(settings.database_url)
            opened.append(schedules)
            activity = ActivityStore.open(settings.database_url)
            opened.append(activity)
        except BaseException:
            for store in opened:
                store.close()
            raise
        return cls(
            settings,
            connections=connections,
            records=records,
            schedules=schedules,
            action_runs=action_runs,
            secret_key_created=created,
            tick_s=tick_s,
            on_run_finished=on_run_finished,
            activity=activity,
        )

    @property
    def secret_key(self) -> str:
        assert self.settings.secret_key
        return self.settings.secret_key

    @property
    def environment(self) -> str:
        return self.settings.environment

    @property
    def project(self) -> Project:
        """The scripts loaded at start (or at the last reload)."""
        if self._project is None:
            raise RuntimeError("the service is not started: call await service.start()")
        return self._project

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the scripts (unless :meth:`use` gave them) and start the background work."""
        if self._started:
            return
        self.templates_enabled = await blocking(read_enabled, self.schedules, self.settings)
        if self._loaded is None:
            loaded = await blocking(load_project, self.settings.project_dir)
        else:
            loaded = self._loaded
        # Importing the template packs takes a moment: off the event loop.
        await blocking(self.use, loaded)
        await blocking(self.action_runs.mark_interrupted)
        await self.activity.mark_interrupted(self.environment)
        self.activity.start_retention(self.settings.activity_retention_days)
        await self.scheduler.start()
        await self.webhooks.start()
        self._templates_task = asyncio.create_task(
            self._watch_templates(), name="nango-templates-watch"
        )
        self._started = True

    def use(self, project: Project) -> Project:
        """Serve the scripts of ``project`` from now on (as loaded by the caller), keeping
        the last good version of those whose file is broken; returns what is served."""
        previous, self._loaded = self._loaded, project
        if previous is not None and project.broken_files:
            self._loaded, self.kept_scripts = keep_last_good(previous, project)
        else:
            self.kept_scripts = ()
        self._project = compose(self._loaded, self.settings, self.templates_enabled)
        self.scripts_loaded_at = datetime.now(UTC)
        return self._project

    # -- templates --------------------------------------------------------------------------

    async def refresh_templates(self) -> bool:
        """Read the enabled templates again (another process may have changed them); when
        they changed, serve them and schedule their syncs at once. True if they changed."""
        enabled = await blocking(read_enabled, self.schedules, self.settings)
        if enabled == self.templates_enabled or self._loaded is None:
            return False
        self.templates_enabled = enabled
        loaded = self._loaded
        self._project = await blocking(compose, loaded, self.settings, enabled)
        if self._started:
            await self.scheduler.ensure_schedules()
        return True

    async def set_templates(self, integration_id: str, names: list[str], *, enabled: bool) -> None:
        """Enable or disable templates of an integration (all or none), and apply it now."""
        await blocking(
            set_templates, self.schedules, self.settings, integration_id, names, enabled=enabled
        )
        await self.refresh_templates()

    async def _watch_templates(self) -> None:
        # The CLI (`templates enable`) writes the database from another process.
        while True:
            await asyncio.sleep(self._tick_s)
            try:
                await self.refresh_templates()
            except Exception as exc:  # a passing database fault must not end the watch
                _logger.warning("reading the enabled templates failed: %s", exc)

    async def reload(
        self, project: Project | None = None, *, settings: Settings | None = None
    ) -> Project:
        """Load the scripts again (after a file change), or take ``project`` loaded by the
        caller, and add schedules for new syncs. With ``settings`` (nango.toml read
        again), its integrations replace the service's; the rest of the settings
        (database, keys, webhooks, server) need a restart."""
        if project is None:
            project = await blocking(load_project, self.settings.project_dir)
        if settings is not None and (
            settings.integrations != self.settings.integrations
            or settings.integration_templates != self.settings.integration_templates
        ):
            self.settings = dataclasses.replace(
                self.settings,
                integrations=settings.integrations,
                integration_templates=settings.integration_templates,
            )
            self.scheduler.settings = self.settings
            self.connections.use_settings(self.settings)
        served = await blocking(self.use, project)
        if self._started:
            await self.scheduler.ensure_schedules()
        return served

    async def stop(self) -> None:
        """Stop runs and background actions, then close the database."""
        if self._templates_task is not None:
            self._templates_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._templates_task
            self._templates_task = None
        if self._started:
            await self.scheduler.stop()
            await self.webhooks.stop()
            await self.actions.stop()
            await self.activity.stop()
            self._started = False
        self.close()

    def close(self) -> None:
        for store in (self.connections, self.records, self.schedules, self.action_runs):
            store.close()
        self.activity.close()
        self.outbox.close()

    async def _run_finished(self, outcome: FinishedSyncRun) -> None:
        self.webhooks.notify()  # the run's webhooks are in the outbox: send them now
        if self._on_run_finished is not None:
            await self._on_run_finished(outcome)

    # -- scripts ----------------------------------------------------------------------------

    def syncs(self, integration_id: str) -> list[SyncSpec]:
        return [
            s
            for s in self.project.scripts
            if isinstance(s, SyncSpec) and s.integration == integration_id
        ]

    def actions_of(self, integration_id: str) -> list[ActionSpec]:
        return [
            s
            for s in self.project.scripts
            if isinstance(s, ActionSpec) and s.integration == integration_id
        ]


def keep_last_good(previous: Project, current: Project) -> tuple[Project, tuple[ScriptSpec, ...]]:
    """``current``, plus the scripts of ``previous`` that lived in a file ``current`` could
    not import and that no other file now defines. Also returns those kept scripts."""
    broken = set(current.broken_files)
    present = {(s.integration, s.name) for s in current.scripts}
    kept = tuple(
        spec
        for spec in previous.scripts
        if spec.source_file in broken and (spec.integration, spec.name) not in present
    )
    if not kept:
        return current, ()
    return dataclasses.replace(current, scripts=current.scripts + kept), kept
