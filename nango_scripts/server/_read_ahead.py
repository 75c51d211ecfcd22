"""Read-ahead for ``GET /records``: while a client decodes one page, the next is read.

A client paging through records asks for the next page as soon as it has decoded the
last one, with the same query and the ``next_cursor`` it got. So once a page with a
``next_cursor`` is answered, that next page is read and rendered in a worker thread of
its own, and kept for a few seconds. A request with exactly that query takes it, but
only if it is still what a read now would return: the scope's latest change
(``latest_change``, one index probe) is the one seen before the page was read, and
no prune went through this server since (a prune keeps ``seq``, so it drops the pages
of its scope here). Otherwise, and on a miss, the request reads the page itself.

Bounded: a few pages kept (the oldest dropped first), at most two reads ahead at a time
(none is queued beyond that), each kept for ``ttl_s`` seconds at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from nango_scripts.store import RecordQuery, RecordScope, blocking

__all__ = ["ReadAhead", "RenderedPage"]

T = TypeVar("T")

_EXECUTOR: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    # One small pool for the process, apart from the event loop's default executor, so
    # that reads ahead never hold up the work a request waits for.
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="records-read-ahead")
    return _EXECUTOR


@dataclass(frozen=True)
class RenderedPage:
    body: bytes
    next_cursor: str | None
    version: int
    """The scope's latest change seen before the page was read."""


@dataclass
class _Ahead:
    future: Future[RenderedPage]
    started: float


class ReadAhead:
    """The pages read ahead for one app. Used from its event loop only."""

    def __init__(self, *, max_pages: int = 8, max_reading: int = 2, ttl_s: float = 10.0) -> None:
        self._pages: OrderedDict[RecordQuery, _Ahead] = OrderedDict()
        self.hits = 0
        """Requests answered with a page read ahead."""
        self._max_pages = max_pages
        self._max_reading = max_reading
        self._ttl_s = ttl_s

    def start(self, query: RecordQuery, read: Callable[[], RenderedPage]) -> None:
        """Read ``query``'s page in the background, unless enough reads are going on."""
        self._expire()
        reading = sum(1 for a in self._pages.values() if not a.future.done())
        if query in self._pages or reading >= self._max_reading:
            return
        future = _executor().submit(read)
        future.add_done_callback(_retrieve)
        self._pages[query] = _Ahead(future, time.monotonic())
        while len(self._pages) > self._max_pages:
            self._pages.popitem(last=False)

    async def take(
        self, query: RecordQuery, latest_change: Callable[[], int]
    ) -> RenderedPage | None:
        """The page read ahead for ``query`` if it is still current (waiting for it if its
        read is under way), else None."""
        self._expire()
        ahead = self._pages.pop(query, None)
        if ahead is None:
            return None
        try:
            page = await asyncio.wrap_future(ahead.future)
        except Exception:
            return None  # the request reads the page itself, and meets the error if any
        if await blocking(latest_change) != page.version:
            return None
        self.hits += 1
        return page

    async def wait_idle(self) -> None:
        """Until no read ahead is under way."""
        for ahead in list(self._pages.values()):
            with contextlib.suppress(Exception):
                await asyncio.wrap_future(ahead.future)

    def forget(self, scope: RecordScope, model: str) -> None:
        """Drop the pages of ``model`` (after a prune: it changes data, not ``seq``)."""
        for query in [q for q in self._pages if (q.scope, q.model) == (scope, model)]:
            del self._pages[query]

    def _expire(self) -> None:
        now = time.monotonic()
        for query in [q for q, a in self._pages.items() if now - a.started > self._ttl_s]:
            del self._pages[query]


def _retrieve(future: Future[T]) -> None:
    # A read ahead that failed (the database closed at shutdown, say) is simply not used.
    if not future.cancelled():
        future.exception()
