"""How async code calls a store: the stores block, so their calls run in a worker thread.

Every store is synchronous. Async code (the runtime, the engine, the server) calls one
with ``await blocking(store.method, *args, **kwargs)``, which keeps the event loop free
while the driver waits, as starlette's ``run_in_threadpool`` does. It is the package's
one use of :func:`asyncio.to_thread` (a test checks), and serves any other blocking call
async code makes too (a script written with ``def``, loading a project folder).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["blocking"]

P = ParamSpec("P")
T = TypeVar("T")


async def blocking(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` in a worker thread (the context variables go along)."""
    return await asyncio.to_thread(fn, *args, **kwargs)
