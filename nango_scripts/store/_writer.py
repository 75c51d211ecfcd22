"""A run's writes, in order, on a thread of their own, committed in groups.

A sync run fetches a page, then hands its records over and fetches the next. With
``RecordWriter`` the hand-over costs a queue put: the writes run on the writer's thread
while the run fetches, in the order they were submitted, several to a transaction
(``group_size`` writes or ``group_seconds``, whichever comes first, and at every
``flush``). Each write's future resolves once the transaction holding it is committed,
so what a future reports is stored; a write that fails rolls its transaction back,
fails its future and those of every write after it, and ``failure`` says why.

The writer knows nothing of asyncio: callers wait on its ``concurrent.futures``
futures (the runtime wraps them). It bounds nothing itself: a caller keeps memory
bounded by waiting for the future of an older write before submitting more.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["RecordWriter", "Write", "WriteGroups"]


class WriteGroups(Protocol):
    """A store whose writes can share a transaction (``SqlRecordStore``)."""

    def write_group(self) -> AbstractContextManager[object]:
        """One transaction for every write made inside it, committed at its end."""
        ...


@dataclass
class Write:
    """A submitted write: ``started`` resolves when the thread takes it up (it no longer
    waits in the queue), ``future`` with its result once its transaction is committed."""

    call: Callable[[], Any] | None
    """The write; None for a barrier (``flush``, ``close``), which commits what is open."""
    future: Future[Any] = field(default_factory=Future)
    started: Future[None] = field(default_factory=Future)
    stop: bool = False


class RecordWriter:
    """Runs submitted writes in order on one thread, grouped into transactions."""

    def __init__(
        self,
        store: object,
        *,
        group_size: int = 16,
        group_seconds: float = 0.05,
        name: str = "nango-scripts-writer",
    ) -> None:
        group = getattr(store, "write_group", None)
        self._group: Callable[[], AbstractContextManager[object]] = (
            group if callable(group) else nullcontext
        )
        self._group_size = max(1, group_size)
        self._group_seconds = group_seconds
        self._queue: queue.SimpleQueue[Write] = queue.SimpleQueue()
        self.failure: BaseException | None = None
        """The error of the first write that failed; every later write fails with it."""
        self.commits = 0
        """Transactions committed so far (for the run's timings)."""
        self.busy_s = 0.0
        """Seconds the thread spent writing and committing (waiting for writes excluded)."""
        self.cpu_s = 0.0
        """CPU seconds the thread used."""
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    # -- the caller's side -----------------------------------------------------------------

    def submit(self, call: Callable[[], Any]) -> Write:
        """Queue ``call`` (run on the writer's thread, in a transaction shared with its
        neighbours); its ``future`` resolves with ``call``'s result once committed."""
        return self._put(Write(call))

    def flush(self) -> Future[Any]:
        """A future that resolves once everything submitted before is committed."""
        return self._put(Write(None)).future

    def close(self, timeout: float | None = None) -> None:
        """Commit what is queued, then stop the thread (idempotent)."""
        if not self._closed:
            self._closed = True
            self._queue.put(Write(None, stop=True))
        self._thread.join(timeout)

    def _put(self, job: Write) -> Write:
        if self._closed:
            closed = RuntimeError("the run's record writer is closed")
            job.started.set_result(None)
            job.future.set_exception(closed)
        else:
            self._queue.put(job)
        return job

    # -- the writer's thread -------------------------------------------------------------

    def _loop(self) -> None:
        try:
            self._serve()
        finally:
            self.cpu_s = time.thread_time()

    def _serve(self) -> None:
        while True:
            job = self._queue.get()
            job.started.set_result(None)
            if self.failure is not None:
                self._refuse(job)
            elif job.call is None:
                job.future.set_result(None)
            else:
                job = self._write_group(job)
            if job.stop:
                return

    def _write_group(self, first: Write) -> Write:
        """Run ``first`` and the writes queued behind it in one transaction; returns the
        job that ended the group (a barrier is answered after the commit)."""
        done: list[tuple[Write, Any]] = []
        job = first
        deadline = time.perf_counter() + self._group_seconds
        try:
            with self._committed():
                for job in self._jobs(first, deadline):
                    if job.call is None:
                        break
                    assert job.call is not None
                    began = time.perf_counter()
                    done.append((job, job.call()))
                    self.busy_s += time.perf_counter() - began
                    if len(done) >= self._group_size:
                        break
        except BaseException as exc:
            self.failure = exc
            for written, _ in done:
                written.future.set_exception(exc)
            if not job.future.done():
                job.future.set_exception(exc)
            return job
        self.commits += 1
        for written, result in done:
            written.future.set_result(result)
        if job.call is None:
            job.future.set_result(None)
        return job

    @contextmanager
    def _committed(self) -> Iterator[None]:
        """The group's transaction, its begin and commit counted as busy time."""
        began = time.perf_counter()
        group = self._group()
        group.__enter__()
        self.busy_s += time.perf_counter() - began
        try:
            yield
        except BaseException as exc:
            if not group.__exit__(type(exc), exc, exc.__traceback__):
                raise
            return
        began = time.perf_counter()
        group.__exit__(None, None, None)
        self.busy_s += time.perf_counter() - began

    def _jobs(self, first: Write, deadline: float) -> Iterator[Write]:
        """``first``, then the jobs that arrive before ``deadline``."""
        yield first
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            try:
                job = self._queue.get(timeout=remaining)
            except queue.Empty:
                return
            job.started.set_result(None)
            yield job

    def _refuse(self, job: Write) -> None:
        assert self.failure is not None
        job.future.set_exception(self.failure)
