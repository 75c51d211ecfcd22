"""Waiting in tests for something another thread or process makes true: ``eventually``
for plain tests, ``eventually_async`` for ``async`` ones.

Both poll a condition until it gives something truthy and return that; both fail with an
``AssertionError`` naming what was awaited (and the condition's last answer when it says
more than true or false) once ``seconds`` have passed. Use them only where the awaited
state has no event to await (another thread's requests, a subprocess's output, a store
written by a worker); a test about the scheduler's timing drives its injectable clock.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["TIMEOUT_S", "eventually", "eventually_async"]

T = TypeVar("T")

TIMEOUT_S = 20.0
"""How long a wait lasts unless the caller says otherwise: long enough for a loaded CI
machine, short enough that a hang fails the test instead of the job."""

What = str | Callable[[], str]
"""What is awaited, for the failure message; a callable is asked only on failure (to
describe the state at that moment)."""


def eventually(
    condition: Callable[[], T], what: What, *, seconds: float = TIMEOUT_S, interval: float = 0.05
) -> T:
    """Call ``condition`` every ``interval`` seconds until it gives something truthy."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out(what, seconds, found))
        time.sleep(interval)


async def eventually_async(
    condition: Callable[[], T | Awaitable[T]],
    what: What,
    *,
    seconds: float = TIMEOUT_S,
    interval: float = 0.02,
) -> T:
    """:func:`eventually` for ``async`` code: the event loop runs on while it waits, and
    ``condition`` may return an awaitable (an ``async`` read, or ``asyncio.to_thread(...)``
    for a blocking one)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = condition()
        found: T = await answer if inspect.isawaitable(answer) else answer  # type: ignore[assignment]
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out(what, seconds, found))
        await asyncio.sleep(interval)


def _timed_out(what: What, seconds: float, last: object) -> str:
    described = what() if callable(what) else what
    message = f"timed out after {seconds:g} s waiting for {described}"
    if last is None or isinstance(last, bool):
        return message
    return f"{message} (last: {last!r})"
