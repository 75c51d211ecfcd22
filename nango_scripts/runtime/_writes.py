"""A sync run's side of its ``RecordWriter``: writes in order, memory bounded, failures surfaced.

``batch_save`` validates on the run's thread and hands the records to the writer, which
writes and commits them while the script fetches the next page. The script waits only
when ``max_queued`` writes are already waiting for the writer (so memory stays bounded
whatever the API's speed), and a read of the store (``get_records_by_ids``,
``get_checkpoint``) or a metadata change first waits for what was submitted before it.

A write that fails fails the run at the script's next call to the context
(:meth:`RunWrites.check`), or at its end (:meth:`RunWrites.close`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from nango_scripts.store import PreparedRecords, RecordWriter, Write

__all__ = ["RunWrites"]

T = TypeVar("T")

MAX_QUEUED = 4
"""Writes that may wait for the writer before the script waits: a few pages of records."""
MAX_JOINED_ROWS = 500
"""Records of batches joined into one save while they wait for the writer."""


class _JoinedSave:
    """A save of prepared records waiting for the writer, which later batches of the same
    model may join (one statement for several pages) until the writer takes it up."""

    def __init__(self, key: object, batch: PreparedRecords, save: Callable[[PreparedRecords], Any]):
        self.key = key
        self._save = save
        self._parts = [batch]
        self._rows = len(batch)
        self._ids: set[str] = set(batch.by_id)
        self._lock = threading.Lock()
        self._taken = False

    def join(self, batch: PreparedRecords) -> bool:
        """Add ``batch``, unless the writer has begun, it would be too big, or it shares an
        id with what is here (a record saved twice keeps both saves, in order)."""
        with self._lock:
            if self._taken or self._rows + len(batch) > MAX_JOINED_ROWS:
                return False
            if not self._ids.isdisjoint(batch.by_id):
                return False
            self._parts.append(batch)
            self._rows += len(batch)
            self._ids.update(batch.by_id)
            return True

    def __call__(self) -> Any:
        with self._lock:
            self._taken = True
            parts, self._parts = self._parts, []  # the writer's group keeps the job, not its data
        if len(parts) == 1:
            return self._save(parts[0])
        merged: dict[str, tuple[bytes, bytes]] = {}
        for part in parts:
            merged.update(part.by_id)
        return self._save(PreparedRecords(merged))


class RunWrites:
    def __init__(
        self,
        store: object,
        loop: asyncio.AbstractEventLoop,
        *,
        max_queued: int = MAX_QUEUED,
        group_size: int = 16,
        group_seconds: float = 0.05,
    ) -> None:
        self._writer = RecordWriter(store, group_size=group_size, group_seconds=group_seconds)
        self._loop = loop
        self._max_queued = max(1, max_queued)
        self._queued: deque[Write] = deque()
        self._last: Write | None = None
        self._joinable: tuple[_JoinedSave, Write] | None = None
        """The save queued last and its write: later batches may join it. (Kept here, not
        on the save, which its write holds: no reference cycle keeps a batch alive.)"""
        self.waited_s = 0.0
        """Seconds the script waited because the writer's queue was full."""

    def timings(self) -> dict[str, float]:
        return {
            "writer_busy_s": round(self._writer.busy_s, 6),
            "writer_cpu_s": round(self._writer.cpu_s, 6),
            "commits": self._writer.commits,
            "script_waited_s": round(self.waited_s, 6),
        }

    def check(self) -> None:
        """Raise the writer's failure, if a write failed."""
        failure = self._writer.failure
        if failure is not None:
            raise failure

    async def submit(self, call: Callable[[], T], then: Callable[[T], None] | None = None) -> None:
        """Queue ``call`` for the writer; ``then(result)`` runs on this loop once committed."""
        self.check()
        write = self._last = self._writer.submit(call)
        if then is not None:
            write.future.add_done_callback(self._deliver(then))
        queued = self._queued
        queued.append(write)
        while queued and queued[0].started.done():
            queued.popleft()
        if len(queued) > self._max_queued:
            oldest = queued.popleft()
            started = time.perf_counter()
            await asyncio.wrap_future(oldest.started)
            self.waited_s += time.perf_counter() - started
        self.check()

    async def save(
        self,
        key: object,
        batch: PreparedRecords,
        save: Callable[[PreparedRecords], T],
        then: Callable[[T], None],
    ) -> None:
        """Queue the save of ``batch`` (records of one model, ``key``): it joins the save
        queued last if that one is of the same model and still waits for the writer, so
        that a writer behind the script catches up with fewer, bigger statements."""
        self.check()
        if self._joinable is not None:
            last_save, its_write = self._joinable
            if its_write is self._last and last_save.key == key and last_save.join(batch):
                return
            self._joinable = None
        joined = _JoinedSave(key, batch, save)
        await self.submit(joined, then)
        assert self._last is not None
        self._joinable = (joined, self._last)

    async def flush(self) -> None:
        """Wait until everything submitted so far is committed; raise a write's failure."""
        self.check()
        await asyncio.wrap_future(self._writer.flush())
        self._queued.clear()

    async def close(self) -> None:
        """Commit what is queued and stop the writer's thread; raise a write's failure."""
        try:
            await asyncio.wrap_future(self._writer.flush())
        except BaseException:
            self._writer.close(timeout=0)
            raise
        self._writer.close()
        self._queued.clear()
        self.check()

    def abandon(self) -> None:
        """Stop after committing what is queued, without raising (the run failed already)."""
        self._writer.close()
        self._queued.clear()

    def _deliver(self, then: Callable[[T], None]) -> Callable[[Future[Any]], None]:
        loop = self._loop

        def done(future: Future[Any]) -> None:
            if future.cancelled() or future.exception() is not None:
                return
            loop.call_soon_threadsafe(then, future.result())

        return done
