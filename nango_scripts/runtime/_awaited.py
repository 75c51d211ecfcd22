"""Catching ``nango.batch_save(...)`` without ``await``.

A coroutine that is never awaited does nothing, and Python only says so in a
warning when it is garbage-collected, long after the run reported success. Every
async method of the context therefore hands out a ``Pending`` awaitable that
remembers where it was created; when the script returns, any that was never awaited
fails the run, naming the call and its line.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Pending(Awaitable[T]):
    __slots__ = ("_coro", "_ledger", "call", "where")

    def __init__(self, coro: Coroutine[Any, Any, T], call: str, where: str, ledger: Ledger) -> None:
        self._coro = coro
        self.call = call
        self.where = where
        self._ledger = ledger
        ledger.open.add(self)

    def __await__(self) -> Generator[Any, None, T]:
        self._ledger.open.discard(self)
        return self._coro.__await__()

    def discard(self) -> None:
        """Close the coroutine without running it (no 'never awaited' warning)."""
        self._ledger.open.discard(self)
        self._coro.close()


class Ledger:
    """The awaitables a run handed out and nobody awaited yet."""

    def __init__(self) -> None:
        self.open: set[Pending[Any]] = set()

    def unawaited(self) -> list[Pending[Any]]:
        left = sorted(self.open, key=lambda p: p.where)
        for pending in left:
            pending.discard()
        return left


class _HasLedger(Protocol):
    @property
    def _ledger(self) -> Ledger: ...


S = TypeVar("S", bound=_HasLedger)


def must_await(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[S, P], Awaitable[T]]:
    """Make an async context method return a tracked ``Pending`` instead of a bare coroutine."""
    name = method.__name__

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> Awaitable[T]:
        caller = sys._getframe(1)
        where = f"{caller.f_code.co_filename}:{caller.f_lineno}"
        return Pending(method(self, *args, **kwargs), f"nango.{name}()", where, self._ledger)

    return wrapper


async def drive(awaitable: Awaitable[T]) -> T:
    """A coroutine for ``asyncio.run_coroutine_threadsafe``, which takes nothing else."""
    return await awaitable
