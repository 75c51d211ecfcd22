"""The Activity log's door: what the engine, the API and the CLI call while they work.

One :class:`ActivityRecorder` per process wraps the :class:`ActivityStore` (or nothing:
then every call is a no-op). ``await recorder.operation(...)`` opens an operation and
returns an :class:`~nango_scripts.engine._operation_recorder.OperationRecorder`;
:meth:`ActivityRecorder.finished` builds an operation that is over (a connection change,
a webhook attempt) for :meth:`ActivityRecorder.write`.

Secrets never reach the store: every credential value of the connection (as given,
URL-encoded, JSON-escaped, and ``user:password`` in base64) and the values masked
everywhere (the secret key) are masked in the text and fields of every message, the
error and the result, and the values of fields named like a secret
(``Authorization``, ``Cookie``, ``api-key``, ``*token*``...) are masked whatever they
hold. A write that fails is logged (logger ``nango_scripts.activity``) and dropped.

Retention: :meth:`ActivityRecorder.start_retention` prunes now, then daily.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from nango_scripts.engine._operation_recorder import FinalState, OperationRecorder
from nango_scripts.engine._redact import SecretScrubber, capped_fields, capped_text, shown_url
from nango_scripts.store import (
    ActivityMessage,
    ActivityStore,
    Connection,
    Operation,
    OperationType,
    blocking,
)

__all__ = [
    "ActivityRecorder",
    "record_connection_change_now",
    "start_run_operation",
]

logger = logging.getLogger("nango_scripts.activity")

_DAY_S: Final = 24 * 3600.0


class ActivityRecorder:
    """The process's door to the Activity log (``store=None``: record nothing)."""

    def __init__(
        self,
        store: ActivityStore | None,
        *,
        flush_interval_s: float = 0.5,
        batch_size: int = 200,
        max_messages: int = 10_000,
        masked: Sequence[str | None] = (),
    ) -> None:
        self.store = store
        self.flush_interval_s = flush_interval_s
        self.batch_size = batch_size
        self.max_messages = max_messages
        self._masked = {f"masked_{i}": v for i, v in enumerate(masked) if v}
        """Masked in every operation besides its connection's credentials: the secret
        key, which a script could read from the environment and log."""
        self._retention: asyncio.Task[None] | None = None

    def scrubber(self, credentials: Mapping[str, Any] | None) -> SecretScrubber:
        """What masks an operation (and a run's error wherever it goes: webhooks, run
        history): ``credentials`` and the values masked everywhere."""
        scrubber = SecretScrubber(credentials)
        if self._masked:
            scrubber.add(self._masked)
        return scrubber

    async def operation(
        self,
        *,
        environment: str,
        type: OperationType,
        integration_id: str | None,
        connection_id: str | None,
        script: str | None,
        title: str,
        credentials: Mapping[str, Any] | None = None,
        state: Literal["waiting", "running"] = "running",
        live: bool = True,
        started_at: datetime | None = None,
    ) -> OperationRecorder:
        """Open an operation. ``credentials``: what to mask in everything it records;
        ``live``: flush messages while it runs (else only at the end, for short ones);
        ``started_at``: when it began, if before now."""
        scrubber = self.scrubber(credentials)
        operation_id: str | None = None
        if self.store is not None:
            try:
                operation_id = await blocking(
                    self.store.start_operation,
                    environment=environment,
                    type=type,
                    integration_id=integration_id,
                    connection_id=connection_id,
                    script=script,
                    title=scrubber.text(title),
                    state=state,
                    started_at=started_at,
                )
            except Exception as exc:
                logger.warning("activity log: %s %r not recorded: %s", type, title, exc)
        return OperationRecorder(
            self.store,
            operation_id,
            scrubber,
            flush_interval_s=self.flush_interval_s,
            batch_size=self.batch_size,
            max_messages=self.max_messages,
            live=live,
            waiting=state == "waiting",
        )

    def finished(
        self,
        *,
        environment: str,
        type: OperationType,
        integration_id: str | None,
        connection_id: str | None,
        script: str | None,
        title: str,
        state: FinalState = "success",
        messages: list[tuple[str, str, dict[str, Any]]] | None = None,
        error: str | None = None,
        result: Mapping[str, Any] | None = None,
        credentials: Mapping[str, Any] | None = None,
        started_at: datetime | None = None,
    ) -> Operation:
        """A finished operation, secrets masked and sizes capped, for :meth:`write`
        (nothing is written here: no I/O). ``started_at``: when it began, else now."""
        scrub = self.scrubber(credentials)
        now = datetime.now(UTC)
        return Operation(
            id=uuid.uuid4().hex,
            environment=environment,
            type=type,
            state=state,
            integration_id=integration_id,
            connection_id=connection_id,
            script=script,
            title=scrub.text(title),
            started_at=min(started_at, now) if started_at is not None else now,
            finished_at=now,
            duration_ms=None,
            error=None if error is None else capped_text(scrub.text(error)),
            result=None if result is None else capped_fields(scrub.value(dict(result))),
            messages=[
                ActivityMessage(
                    now, level, capped_text(scrub.text(text)), capped_fields(scrub.value(fields))
                )
                for level, text, fields in messages or ()
            ],
        )

    def write(self, operations: Sequence[Operation]) -> bool:
        """Write finished operations in one transaction. Blocking (call it from a worker
        thread); never raises: a failed write is logged and dropped (False)."""
        if self.store is None or not operations:
            return self.store is not None
        try:
            self.store.add_operations(operations)
        except Exception as exc:
            logger.warning("activity log: %d operation(s) not recorded: %s", len(operations), exc)
            return False
        return True

    async def record(self, operation: Operation) -> str | None:
        """Write one finished operation (from :meth:`finished`) now, in one transaction;
        its id (None when not recorded)."""
        if self.store is None:
            return None
        return operation.id if await blocking(self.write, [operation]) else None

    async def record_connection_change(
        self,
        *,
        environment: str,
        integration_id: str,
        connection_id: str,
        change: str,
        fields: dict[str, Any] | None = None,
    ) -> str | None:
        """``change``: ``created``, ``deleted``, ``credentials updated``, ``metadata set``..."""
        return await self.record(
            self.connection_change(
                environment=environment,
                integration_id=integration_id,
                connection_id=connection_id,
                change=change,
                fields=fields,
            )
        )

    def connection_change(
        self,
        *,
        environment: str,
        integration_id: str,
        connection_id: str,
        change: str,
        fields: Mapping[str, Any] | None = None,
        source: str = "",
    ) -> Operation:
        """A connection change as a finished operation (for :meth:`write`; no I/O);
        ``source`` is added to its message (`` (command line)``)."""
        message = f"connection {integration_id}/{connection_id} {change}{source}"
        return self.finished(
            environment=environment,
            type="connection",
            integration_id=integration_id,
            connection_id=connection_id,
            script=None,
            title=f"connection {change}",
            messages=[("info", message, dict(fields or {}))],
            result={"change": change},
        )

    def webhook_delivery(
        self,
        *,
        environment: str,
        url: str,
        integration_id: str | None = None,
        connection_id: str | None = None,
        script: str | None = None,
        event: str = "sync",
        model: str | None = None,
        attempt: int = 1,
        status: int | None = None,
        duration_ms: float | None = None,
        error: str | None = None,
        retry_in_s: float | None = None,
        will_retry: bool | None = None,
        delivery_id: str | None = None,
        started_at: datetime | None = None,
    ) -> Operation:
        """One attempt to deliver a webhook to the user's backend, as its own operation
        (for :meth:`write`; no I/O), timed from ``started_at`` (when the POST began).

        ``status`` is the backend's answer (None: it could not be reached, say why in
        ``error``); 2xx without ``error`` is a success. ``retry_in_s``: the attempt
        failed and another one follows after that wait (``will_retry``: it does, the wait
        unknown; False: out of attempts).
        """
        shown = shown_url(url)  # a webhook URL may be its own credential
        delivered = error is None and status is not None and 200 <= status < 300
        what = f"{event} webhook" + (f" ({model})" if model else "")
        answer = f"{status}" if status is not None else "no answer"
        took = f" ({duration_ms:g} ms)" if duration_ms is not None else ""
        fields: dict[str, Any] = {
            "url": shown,
            "status": status,
            "attempt": attempt,
            "duration_ms": duration_ms,
        }
        if delivery_id is not None:
            fields["delivery_id"] = delivery_id
        messages: list[tuple[str, str, dict[str, Any]]] = [
            ("info" if delivered else "warning", f"POST {shown} {answer}{took}", fields)
        ]
        if error is not None:
            messages.append(("error", error, {"attempt": attempt}))
        if retry_in_s is not None and not delivered:
            messages.append(
                (
                    "warning",
                    f"retrying in {retry_in_s:.2f}s (attempt {attempt + 1})",
                    {"wait_s": round(retry_in_s, 3), "attempt": attempt + 1},
                )
            )
        elif will_retry is not None and not delivered:
            messages.append(
                (
                    "warning" if will_retry else "error",
                    f"another attempt follows (attempt {attempt + 1})"
                    if will_retry
                    else f"out of attempts after {attempt}: not delivered",
                    {"attempt": attempt + 1} if will_retry else {"attempts": attempt},
                )
            )
        if not delivered and error is None:
            error = f"the webhook URL answered {answer}"
        return self.finished(
            environment=environment,
            type="webhook",
            integration_id=integration_id,
            connection_id=connection_id,
            script=script,
            title=f"{what} to {shown}",
            state="success" if delivered else "failed",
            messages=messages,
            error=error,
            result={"status": status, "attempt": attempt, "model": model, "event": event},
            started_at=started_at,
        )

    async def record_unstarted_run(self, key: tuple[str, str, str, str], error: str) -> None:
        """A scheduled run that failed before it began (no connection, no integration...)."""
        environment, integration_id, connection_id, script = key
        await self.record(
            self.finished(
                environment=environment,
                type="sync",
                integration_id=integration_id,
                connection_id=connection_id,
                script=script,
                title=f"sync {script}",
                state="failed",
                messages=[("error", error, {})],
                error=error,
            )
        )

    # -- retention ------------------------------------------------------------------------

    async def prune(self, retention_days: int) -> int:
        """Delete operations started more than ``retention_days`` ago; how many went."""
        if self.store is None or retention_days <= 0:
            return 0
        cutoff = datetime.now(UTC) - timedelta(days=retention_days)
        try:
            return await blocking(self.store.prune, cutoff)
        except Exception as exc:
            logger.warning("activity log: pruning failed: %s", exc)
            return 0

    async def mark_interrupted(self, environment: str) -> None:
        """Operations left open by a previous process are failed now."""
        if self.store is None:
            return
        try:
            await blocking(self.store.mark_interrupted, environment)
        except Exception as exc:
            logger.warning("activity log: open operations not closed: %s", exc)

    def start_retention(self, retention_days: int, *, every_s: float = _DAY_S) -> None:
        """Prune now, then every ``every_s`` (a day) until :meth:`stop`; 0 days keeps all."""
        if self.store is None or retention_days <= 0 or self._retention is not None:
            return

        async def loop() -> None:
            while True:
                await self.prune(retention_days)
                await asyncio.sleep(every_s)

        self._retention = asyncio.create_task(loop(), name="activity retention")

    async def stop(self) -> None:
        task, self._retention = self._retention, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


async def start_run_operation(
    recorder: ActivityRecorder | None,
    kind: Literal["sync", "action"],
    connection: Connection,
    script: str,
    *,
    state: Literal["waiting", "running"] = "running",
) -> OperationRecorder:
    """The operation of one run of ``script`` for ``connection`` (a no-op without recorder)."""
    return await (recorder or ActivityRecorder(None)).operation(
        environment=connection.environment,
        type=kind,
        integration_id=connection.integration_id,
        connection_id=connection.connection_id,
        script=script,
        title=f"{kind} {script}",
        credentials=connection.credentials,
        state=state,
    )


def record_connection_change_now(
    database_url: str,
    *,
    environment: str,
    integration_id: str,
    connection_id: str,
    change: str,
    fields: dict[str, Any] | None = None,
) -> None:
    """:meth:`ActivityRecorder.record_connection_change` for the CLI (no event loop)."""
    try:
        with ActivityStore.open(database_url) as store:
            recorder = ActivityRecorder(store)
            change_made = recorder.connection_change(
                environment=environment,
                integration_id=integration_id,
                connection_id=connection_id,
                change=change,
                fields=fields,
                source=" (command line)",
            )
            recorder.write([change_made])  # logs and drops a failed write
    except Exception as exc:  # the database could not be opened
        logger.warning("activity log: connection %s not recorded: %s", change, exc)
