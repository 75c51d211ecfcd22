"""Running actions for the service: now (the caller waits) or in the background.

An action saves no records, so it runs against a counting in-memory store. A refreshed
OAuth2 token and metadata the action sets are saved to the connection store. A
background run keeps its result in ``action_runs`` (:class:`ActionRunStore`) until it
is fetched; the service's stop cancels the runs still going and records why.

A failed run's error message is masked as the Activity log masks it (the connection's
credentials, refreshed ones included): it may quote an upstream body that echoes them,
and it goes to the caller (a 424) and into ``action_runs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping
from typing import Any

from nango_scripts.dsl import ActionSpec
from nango_scripts.engine._activity import ActivityRecorder, start_run_operation
from nango_scripts.engine._connection_saver import ConnectionSaver
from nango_scripts.engine._operation_recorder import OperationRecorder
from nango_scripts.engine._redact import SecretScrubber, masked_error
from nango_scripts.providers import ProviderConfig
from nango_scripts.runtime import RunResult, run_script
from nango_scripts.store import (
    ActionRunStore,
    Connection,
    ConnectionStore,
    MemoryRecordStore,
    blocking,
)

__all__ = ["ActionRunner"]


class ActionRunner:
    def __init__(
        self,
        connections: ConnectionStore,
        runs: ActionRunStore,
        activity: ActivityRecorder | None = None,
    ) -> None:
        self.connections = connections
        self.runs = runs
        self.activity = activity
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def run(
        self,
        spec: ActionSpec,
        connection: Connection,
        provider: ProviderConfig,
        input: Any = None,
        *,
        operation: OperationRecorder | None = None,
    ) -> RunResult:
        """Run the action once and return its result (output, or error with payload).

        ``operation``: its Activity log entry, when :meth:`start` opened it (waiting)."""
        connections, c = self.connections, connection
        if operation is None:
            operation = await start_run_operation(self.activity, "action", c, spec.name)
        else:
            await operation.running()
        scrub = (
            self.activity.scrubber(c.credentials)
            if self.activity is not None
            else SecretScrubber(c.credentials)
        )

        def mask(credentials: dict[str, Any]) -> None:
            operation.add_secrets(credentials)
            scrub.add(credentials)

        saver = ConnectionSaver(connections, c, on_credentials=mask)

        try:
            result = await run_script(
                spec,
                connection=connection,
                provider=provider,
                store=MemoryRecordStore(keep_records=False),
                input=input,
                save_credentials=saver.save_credentials,
                save_metadata=saver.save_metadata,
                on_log=operation.tee(None),
                log_level="debug" if operation.enabled else "info",
            )
        except BaseException as exc:
            cancelled = isinstance(exc, asyncio.CancelledError)
            reason = "cancelled" if cancelled else f"{type(exc).__name__}: {exc}"
            await operation.stopped(reason, cancelled=cancelled)
            raise
        await operation.finish_run(result)
        return masked_error(result, scrub)

    async def start(
        self,
        spec: ActionSpec,
        connection: Connection,
        provider: ProviderConfig,
        input: Any = None,
    ) -> str:
        """Start the action in the background; its id reads the result later (:meth:`result`)."""
        run_id = str(uuid.uuid4())
        operation = await start_run_operation(
            self.activity, "action", connection, spec.name, state="waiting"
        )
        await blocking(
            self.runs.create,
            run_id,
            environment=connection.environment,
            integration_id=connection.integration_id,
            connection_id=connection.connection_id,
            action_name=spec.name,
        )
        task = asyncio.create_task(
            self._background(run_id, spec, connection, provider, input, operation),
            name=f"action {run_id}",
        )
        self._tasks[run_id] = task
        return run_id

    async def _background(
        self,
        run_id: str,
        spec: ActionSpec,
        connection: Connection,
        provider: ProviderConfig,
        input: Any,
        operation: OperationRecorder | None = None,
    ) -> None:
        try:
            try:
                result = await self.run(spec, connection, provider, input, operation=operation)
            except Exception as exc:  # run_script catches the script's errors; this is ours
                error: Mapping[str, Any] = {
                    "type": "server_error",
                    "message": f"{type(exc).__name__}: {exc}",
                    "payload": None,
                }
                await blocking(self.runs.finish, run_id, error=dict(error))
                return
            if result.error is None:
                await blocking(self.runs.finish, run_id, output=result.output)
            else:
                failure = {
                    "type": result.error.type,
                    "message": result.error.message,
                    "payload": result.error.payload,
                }
                await blocking(self.runs.finish, run_id, error=failure)
        finally:
            self._tasks.pop(run_id, None)

    def is_running(self, run_id: str) -> bool:
        return run_id in self._tasks

    async def wait_idle(self) -> None:
        """For tests and shutdown: wait until no background action is running."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel the background runs; they are recorded as interrupted."""
        for task in list(self._tasks.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await blocking(self.runs.mark_interrupted)
