"""The client against our real server: the service in-process with a real project and
SQLite database (tests/server's harness), reached through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio.from_thread
import httpx
import pytest
from support import server_harness
from support.server_harness import SECRET, Harness

from nango_scripts.client import AsyncNango, Nango

harness = server_harness.harness  # the fixture: the service in-process

HOST = "http://testserver"


class BlockingASGI(httpx.BaseTransport):
    """A blocking transport onto the ASGI app, for the blocking client in a worker thread
    (``anyio.to_thread.run_sync``): each request runs on the event loop that serves."""

    def __init__(self, transport: httpx.ASGITransport) -> None:
        self._transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()

        async def exchange() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            response = await self._transport.handle_async_request(request)
            return response.status_code, response.headers.raw, await response.aread()

        status, headers, content = anyio.from_thread.run(exchange)
        return httpx.Response(status, headers=headers, content=content, request=request)


@pytest.fixture
async def anango(harness: Harness) -> AsyncIterator[AsyncNango]:
    async with AsyncNango(secret_key=SECRET, host=HOST, transport=harness.transport) as client:
        yield client


@pytest.fixture
def nango(harness: Harness) -> Iterator[Nango]:
    """Use it from a worker thread only: ``await anyio.to_thread.run_sync(...)``."""
    with Nango(secret_key=SECRET, host=HOST, transport=BlockingASGI(harness.transport)) as client:
        yield client
