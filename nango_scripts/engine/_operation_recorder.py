"""One operation of the Activity log being recorded: :class:`OperationRecorder`.

:meth:`ActivityRecorder.operation <nango_scripts.engine.ActivityRecorder.operation>`
opens one. It

- takes messages from any thread (a plain-``def`` script logs from a worker thread):
  ``tee(on_log)`` for a run's ``LogRecord`` callback, ``log`` for an ``ApiClient``;
- buffers them and writes them in batches: every ``flush_interval_s``, or at once when
  ``batch_size`` are waiting, and at the end; at most ``max_messages`` per operation;
- masks secrets (its :class:`~nango_scripts.engine._redact.SecretScrubber`) in the text
  and fields of every message, the error and the result before anything is written;
- never fails what it records: a write that fails is logged (logger
  ``nango_scripts.activity``) and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal

from nango_scripts.engine._redact import SecretScrubber, capped_fields, capped_text
from nango_scripts.runtime import LogRecord, RunResult
from nango_scripts.store import ActivityMessage, ActivityStore, blocking

__all__ = ["FinalState", "OperationRecorder"]

logger = logging.getLogger("nango_scripts.activity")

_MAX_INVALID_IN_RESULT: Final = 100
_MAX_OUTPUT_CHARS: Final = 10_000
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
            await blocking(self._write, batch)
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
            await blocking(self.store.set_running, self.id)
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
            await blocking(
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
