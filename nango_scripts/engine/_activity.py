"""Recording the Activity log: what the engine, the API and the CLI call while they work.

One :class:`ActivityRecorder` per process wraps the :class:`ActivityStore` (or nothing:
then every call is a no-op). ``await recorder.operation(...)`` opens an operation and
returns an :class:`OperationRecorder`, which

- takes messages from any thread (a plain-``def`` script logs from a worker thread):
  ``tee(on_log)`` for a run's ``LogRecord`` callback, ``api_log`` for an ``ApiClient``;
- buffers them and writes them in batches: every ``flush_interval_s``, or at once when
  ``batch_size`` are waiting, and at the end; at most ``max_messages`` per operation;
- removes secrets before anything is written: every credential value of the connection
  (as given, URL-encoded, JSON-escaped, and ``user:password`` in base64) is masked in
  the text and fields of every message, the error and the result, and the values of
  fields named like a secret (``Authorization``, ``Cookie``, ``api-key``, ``*token*``...)
  are masked whatever they hold;
- never fails what it records: a write that fails is logged (logger
  ``nango_scripts.activity``) and dropped.

Retention: :meth:`ActivityRecorder.start_retention` prunes now, then daily.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, Required, TypedDict, Unpack

from nango_scripts.engine._redact import SecretScrubber, capped_fields, capped_text, shown_url
from nango_scripts.runtime import LogRecord, RunResult
from nango_scripts.store import (
    ActivityMessage,
    ActivityStore,
    Connection,
    Operation,
    OperationType,
)

__all__ = [
    "ActivityRecorder",
    "OperationRecorder",
    "record_connection_change_now",
    "start_run_operation",
]

logger = logging.getLogger("nango_scripts.activity")

_MAX_INVALID_IN_RESULT: Final = 100
_MAX_OUTPUT_CHARS: Final = 10_000
_DAY_S: Final = 24 * 3600.0
_LEVELS: Final[dict[str, int]] = {"debug": 10, "info": 20, "warning": 30, "error": 40}

FinalState = Literal["success", "failed", "cancelled"]


class OperationRecorder:
    """One operation being recorded. Every method is safe to call when recording is off."""

    def __init__(
        self,
        store: ActivityStore | None,
        operation_id: str | None,
        scrubber: SecretScrubber,
        *,
        flush_interval_s: float,
        batch_size: int,
        max_messages: int,
        live: bool,
        waiting: bool = False,
    ) -> None:
        self.store = store if operation_id is not None else None
        self.id = operation_id
        self._scrubber = scrubber
        self._interval = flush_interval_s
        self._batch_size = batch_size
        self._max_messages = max_messages
        self._lock = threading.Lock()
        self._buffer: list[ActivityMessage] = []
        self._kept = 0
        self._dropped = 0
        self._finished = False
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._live = live
        self._flusher: asyncio.Task[None] | None = None
        self._ending: asyncio.Future[None] | None = None
        if not waiting:
            self._start_flusher()

    def _start_flusher(self) -> None:
        if self.store is not None and self._live and self._flusher is None and not self._finished:
            self._flusher = asyncio.create_task(self._flush_loop(), name=f"activity {self.id}")

    @property
    def enabled(self) -> bool:
        return self.store is not None

    # -- messages (any thread) ------------------------------------------------------------

    def log(self, level: str, message: str, fields: Mapping[str, Any] | None = None) -> None:
        self.add(ActivityMessage(datetime.now(UTC), level, message, dict(fields or {})))

    def add(self, message: ActivityMessage) -> None:
        if self.store is None:
            return
        with self._lock:
            if self._kept >= self._max_messages:
                self._dropped += 1
                return
            self._kept += 1
            self._buffer.append(message)
            full = len(self._buffer) == self._batch_size
        if full and self._flusher is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closing: finish() flushes
                self._loop.call_soon_threadsafe(self._wake.set)

    def add_record(self, record: LogRecord) -> None:
        self.add(ActivityMessage(record.at, record.level, record.message, dict(record.fields)))

    def tee(
        self, on_log: Callable[[LogRecord], None] | None, *, min_level: str = "info"
    ) -> Callable[[LogRecord], None]:
        """A run's ``on_log``: every record is kept here; ``on_log`` still gets those at
        ``min_level`` and above (the run logs at debug level for the Activity log)."""
        threshold = _LEVELS.get(min_level, 20)

        def both(record: LogRecord) -> None:
            self.add_record(record)
            if on_log is not None and _LEVELS.get(record.level, 20) >= threshold:
                on_log(record)

        return both

    def api_log(self, level: str, message: str, fields: Mapping[str, Any]) -> None:
        """An ``ApiClient``'s ``log``: a line per request, a warning per retry."""
        self.log(level, message, fields)

    def add_secrets(self, credentials: Mapping[str, Any]) -> None:
        """Refreshed credentials: mask the new tokens too."""
        self._scrubber.add(credentials)

    def mask(self, text: str) -> str:
        """``text`` with what this operation masks masked: for errors shown elsewhere."""
        return self._scrubber.text(text)

    def add_secret_values(self, values: Iterable[str]) -> None:
        """What a caller sent (the proxy's headers): masked wherever it appears too."""
        self._scrubber.add_values(values)

    # -- writing --------------------------------------------------------------------------

    def _take(self) -> list[ActivityMessage]:
        with self._lock:
            batch, self._buffer = self._buffer, []
        return batch

    def _clean(self, message: ActivityMessage) -> ActivityMessage:
        scrub = self._scrubber
        return ActivityMessage(
            message.at,
            message.level,
            capped_text(scrub.text(message.message)),
            capped_fields(scrub.value(message.fields)),
        )

    def _write(self, batch: list[ActivityMessage]) -> None:
        assert self.store is not None and self.id is not None
        self.store.add_messages(self.id, [self._clean(m) for m in batch])

    async def _flush(self) -> None:
        batch = self._take()
        if not batch or self.store is None:
            return
        try:
            await asyncio.to_thread(self._write, batch)
        except Exception as exc:
            logger.warning(
                "activity log: %d message(s) of operation %s were not written: %s",
                len(batch),
                self.id,
                exc,
            )

    async def _flush_loop(self) -> None:
        while not self._finished:
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that
            # arrives as the event is set, and the loop would never end.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            await self._flush()

    async def running(self) -> None:
        """A waiting operation has begun."""
        if self.store is None or self.id is None:
            return
        self._start_flusher()
        try:
            await asyncio.to_thread(self.store.set_running, self.id)
        except Exception as exc:
            logger.warning("activity log: operation %s not marked running: %s", self.id, exc)

    async def finish(
        self,
        state: FinalState,
        *,
        error: str | None = None,
        result: Mapping[str, Any] | None = None,
    ) -> None:
        """Write what is buffered and end the operation (the first call only).

        Shielded: a second cancellation of the caller (a run cancelled, then timed out)
        does not leave the operation open."""
        if self._finished:
            return
        self._finished = True
        self._ending = asyncio.ensure_future(self._end(state, error, result))
        await asyncio.shield(self._ending)

    async def _end(
        self, state: FinalState, error: str | None, result: Mapping[str, Any] | None
    ) -> None:
        if self._flusher is not None:
            self._wake.set()
            with contextlib.suppress(Exception):
                await self._flusher
        if self.store is None or self.id is None:
            return
        if self._dropped:
            self._buffer.append(
                ActivityMessage(
                    datetime.now(UTC),
                    "warning",
                    f"{self._dropped} more message(s) were not kept"
                    f" (at most {self._max_messages} per operation)",
                    {"dropped": self._dropped},
                )
            )
        await self._flush()
        scrub = self._scrubber
        try:
            await asyncio.to_thread(
                self.store.finish_operation,
                self.id,
                state=state,
                error=None if error is None else capped_text(scrub.text(error)),
                result=None if result is None else capped_fields(scrub.value(dict(result))),
            )
        except Exception as exc:
            logger.warning("activity log: operation %s not finished: %s", self.id, exc)

    async def finish_run(self, result: RunResult, *, run_type: str | None = None) -> None:
        """End a sync or action run with its outcome: per-model counts, invalid records,
        the output of an action, the error and its traceback."""
        summary: dict[str, Any] = {}
        if run_type is not None:
            summary["run_type"] = run_type
        if result.kind == "sync":
            summary["models"] = {m: c.as_dict() for m, c in result.models.items()}
            for model, c in result.models.items():
                self.log(
                    "info",
                    f"{model}: {c.added} added, {c.updated} updated, {c.deleted} deleted,"
                    f" {c.unchanged} unchanged, {c.invalid} invalid",
                    {"model": model, **c.as_dict()},
                )
            if result.invalid_records:
                summary["invalid_records"] = [
                    {"model": r.model, "id": r.record_id, "field": r.field, "reason": r.reason}
                    for r in result.invalid_records[:_MAX_INVALID_IN_RESULT]
                ]
        elif result.success:
            output = json.dumps(result.output, ensure_ascii=False, default=str)
            if len(output) <= _MAX_OUTPUT_CHARS:
                summary["output"] = result.output
            else:
                summary["output_truncated"] = True
        error = None
        if result.error is not None:
            error = result.error.message
            summary["error_type"] = result.error.type
            if result.error.traceback:
                self.log("debug", "traceback", {"traceback": result.error.traceback})
        summary["duration_s"] = round(result.duration_s, 6)
        await self.finish("success" if result.success else "failed", error=error, result=summary)

    async def stopped(self, reason: str, *, cancelled: bool) -> None:
        """A run that never produced a result: cancelled, timed out, or broken."""
        self.log("error" if not cancelled else "warning", reason, {})
        await self.finish("cancelled" if cancelled else "failed", error=reason)


class FinishedFields(TypedDict, total=False):
    """:meth:`ActivityRecorder.finished`'s arguments, for :meth:`ActivityRecorder.record`."""

    environment: Required[str]
    type: Required[OperationType]
    integration_id: Required[str | None]
    connection_id: Required[str | None]
    script: Required[str | None]
    title: Required[str]
    state: FinalState
    messages: list[tuple[str, str, dict[str, Any]]] | None
    error: str | None
    result: Mapping[str, Any] | None
    credentials: Mapping[str, Any] | None
    started_at: datetime | None


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
        return self._scrubber(credentials)

    def _scrubber(self, credentials: Mapping[str, Any] | None) -> SecretScrubber:
        """What masks an operation: ``credentials`` and the values masked everywhere."""
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
        scrubber = self._scrubber(credentials)
        operation_id: str | None = None
        if self.store is not None:
            try:
                operation_id = await asyncio.to_thread(
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
        scrub = self._scrubber(credentials)
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

    async def record(self, **operation: Unpack[FinishedFields]) -> str | None:
        """A finished operation at once (a connection change, a webhook delivery), in one
        transaction; its id (None when not recorded). Takes what :meth:`finished` takes."""
        if self.store is None:
            return None
        finished = self.finished(**operation)
        return finished.id if await asyncio.to_thread(self.write, [finished]) else None

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
            environment=environment,
            type="connection",
            integration_id=integration_id,
            connection_id=connection_id,
            script=None,
            title=f"connection {change}",
            messages=[
                ("info", f"connection {integration_id}/{connection_id} {change}", fields or {})
            ],
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

    # -- retention ------------------------------------------------------------------------

    async def prune(self, retention_days: int) -> int:
        """Delete operations started more than ``retention_days`` ago; how many went."""
        if self.store is None or retention_days <= 0:
            return 0
        cutoff = datetime.now(UTC) - timedelta(days=retention_days)
        try:
            return await asyncio.to_thread(self.store.prune, cutoff)
        except Exception as exc:
            logger.warning("activity log: pruning failed: %s", exc)
            return 0

    async def mark_interrupted(self, environment: str) -> None:
        """Operations left open by a previous process are failed now."""
        if self.store is None:
            return
        try:
            await asyncio.to_thread(self.store.mark_interrupted, environment)
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
            operation_id = store.start_operation(
                environment=environment,
                type="connection",
                integration_id=integration_id,
                connection_id=connection_id,
                script=None,
                title=f"connection {change}",
            )
            message = f"connection {integration_id}/{connection_id} {change} (command line)"
            store.add_messages(
                operation_id,
                [ActivityMessage(datetime.now(UTC), "info", message, fields or {})],
            )
            store.finish_operation(operation_id, state="success", result={"change": change})
    except Exception as exc:
        logger.warning("activity log: connection %s not recorded: %s", change, exc)
