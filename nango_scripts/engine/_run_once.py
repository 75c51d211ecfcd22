"""One real run of one sync for one connection, into the records store.

What the scheduler does for each run, and ``nango-scripts run`` does once:

1. read ``last_sync_date`` (unless ``full``) and start a run in the store, telling it
   which models track deletes (full syncs with ``track_deletes=True``);
2. run the script, every batch committed as it is saved;
3. finish the run: on success apply the deletes ``track_deletes`` implies and advance
   ``last_sync_date`` to this run's start; on failure delete nothing and keep the old
   date, so the next run tries the same window again. Checkpoints are the script's.
   In the same transaction the run's webhooks go to the outbox (engine/_webhooks.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from nango_scripts.dsl import SyncSpec
from nango_scripts.engine._activity import ActivityRecorder, start_run_operation
from nango_scripts.engine._connection_saver import ConnectionSaver
from nango_scripts.engine._redact import SecretScrubber, masked_error, masked_log
from nango_scripts.engine._webhook_payloads import plan_for_run
from nango_scripts.providers import ProviderConfig
from nango_scripts.runtime import LogRecord, RunResult, run_script
from nango_scripts.settings import Settings
from nango_scripts.store import (
    Connection,
    ConnectionStore,
    RecordScope,
    SqlRecordStore,
    blocking,
)

__all__ = ["SyncRunner"]


@dataclass
class SyncRunner:
    """Runs a sync for a connection for real: the sync, the connection and the stores a
    run writes to (:meth:`run` does one run)."""

    settings: Settings
    spec: SyncSpec
    provider: ProviderConfig
    connection: Connection
    records: SqlRecordStore
    connections: ConnectionStore
    cancel_reason: str = "cancelled"
    """Recorded as the error of a run that is cancelled (a timeout says so here)."""
    cancel_status: str = "cancelled"
    """The run's status if it is cancelled: ``failed`` when a timeout cancelled it."""
    last_run_id: str | None = None
    last_run_type: str = "INITIAL"
    activity: ActivityRecorder | None = None
    """Where the run is recorded for the Activity log (None: not recorded)."""

    @property
    def scope(self) -> RecordScope:
        c = self.connection
        return RecordScope(c.environment, c.integration_id, c.connection_id)

    async def run(
        self,
        *,
        full: bool = False,
        on_log: Callable[[LogRecord], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> RunResult:
        spec, scope = self.spec, self.scope
        last_sync_date: datetime | None = None
        if not full:
            last_sync_date = await blocking(self.records.get_last_sync_date, scope, spec.name)
        tracked = (
            [m.__name__ for m in spec.models]
            if spec.track_deletes and spec.sync_type == "full"
            else []
        )
        run_type = "INITIAL" if last_sync_date is None else "INCREMENTAL"
        url_override = await blocking(
            self.connections.get_webhook_url_override,
            self.connection.integration_id,
            self.connection.connection_id,
        )
        run_id = await blocking(
            self.records.start_run, scope, spec.name, track_deletes=tracked, run_type=run_type
        )
        self.last_run_id, self.last_run_type = run_id, run_type
        c = self.connection
        operation = await start_run_operation(self.activity, "sync", c, spec.name)
        # A script's error may quote its credentials (or the secret key): the error goes
        # to the user's backend in a webhook and into the run history, masked.
        scrub = (
            self.activity.scrubber(c.credentials)
            if self.activity is not None
            else SecretScrubber(c.credentials)
        )
        if self.settings.secret_key:
            scrub.add({"secret_key": self.settings.secret_key})

        def mask(credentials: dict[str, Any]) -> None:
            operation.add_secrets(credentials)
            scrub.add(credentials)

        saver = ConnectionSaver(self.connections, c, on_credentials=mask)

        result: RunResult | None = None
        cancelled = False
        started_at = datetime.now(UTC)
        try:
            result = await run_script(
                spec,
                connection=c,
                provider=self.provider,
                store=self.records,
                last_sync_date=last_sync_date,
                save_credentials=saver.save_credentials,
                save_metadata=saver.save_metadata,
                on_log=operation.tee(masked_log(on_log, scrub)),
                log_level="debug" if operation.enabled else "info",
                transport=transport,
                run_id=run_id,
            )
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            # A cancelled run (result None) ends like a failed one: nothing deleted.
            success = result is not None and result.success
            error = None
            if result is not None and result.error is not None:
                error = scrub.text(result.error.message)
            elif result is None:
                error = self.cancel_reason if cancelled else "the run stopped unexpectedly"
                await operation.stopped(
                    error, cancelled=cancelled and self.cancel_status == "cancelled"
                )
            deleted = await blocking(
                self.records.finish_run,
                run_id,
                success=success,
                status=self.cancel_status if cancelled else None,
                error=error,
                webhooks=plan_for_run(
                    self.settings.webhooks,
                    integration_id=c.integration_id,
                    connection_id=c.connection_id,
                    sync_name=spec.name,
                    models=[m.__name__ for m in spec.models],
                    run_type=run_type,
                    started_at=started_at,
                    result=result,
                    error=error,
                    cancelled=cancelled,
                    timed_out=cancelled and self.cancel_status == "failed",
                    url_override=url_override,
                ),
            )
        for model, count in deleted.items():
            result.model_counts(model).deleted += count
        await operation.finish_run(result, run_type=run_type)
        await blocking(
            self.records.record_run_result,
            run_id,
            {model: counts.as_dict() for model, counts in result.models.items()},
        )
        if result.success:
            await blocking(self.records.set_last_sync_date, scope, spec.name, result.started_at)
        return masked_error(result, scrub)  # the CLI prints it
