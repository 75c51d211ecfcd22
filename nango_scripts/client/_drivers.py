"""The only I/O of the client: run a flow (see ``_flow``) with httpx, sync or async."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import anyio  # httpx's own dependency: sleeps on asyncio and trio alike
import httpx

from nango_scripts.client._flow import Emit, Flow, Outcome, Request, Sleep

__all__ = ["AsyncDriver", "SyncDriver"]

T = TypeVar("T")


def _build(client: httpx.Client | httpx.AsyncClient, request: Request) -> httpx.Request:
    return client.build_request(
        request.method,
        request.full_url,
        headers=dict(request.headers),
        content=request.content,
    )


def _no_emit(step: Emit) -> RuntimeError:
    return RuntimeError(f"a flow run for its result emitted items: {step!r:.100}")


class SyncDriver:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def _perform(self, step: Request | Sleep) -> Outcome | None:
        if isinstance(step, Sleep):
            time.sleep(step.seconds)
            return None
        try:
            return self.client.send(_build(self.client, step))
        except httpx.TransportError as exc:
            return exc

    def run(self, flow: Flow[T]) -> T:
        outcome: Outcome | None = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as stop:
                result: T = stop.value
                return result
            if isinstance(step, Emit):
                flow.close()
                raise _no_emit(step)
            outcome = self._perform(step)

    def iterate(self, flow: Flow[None]) -> Iterator[Any]:
        outcome: Outcome | None = None
        try:
            while True:
                try:
                    step = flow.send(outcome)
                except StopIteration:
                    return
                if isinstance(step, Emit):
                    outcome = None
                    yield from step.items
                else:
                    outcome = self._perform(step)
        finally:
            flow.close()


class AsyncDriver:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def _perform(self, step: Request | Sleep) -> Outcome | None:
        if isinstance(step, Sleep):
            await anyio.sleep(step.seconds)
            return None
        try:
            return await self.client.send(_build(self.client, step))
        except httpx.TransportError as exc:
            return exc

    async def run(self, flow: Flow[T]) -> T:
        outcome: Outcome | None = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as stop:
                result: T = stop.value
                return result
            if isinstance(step, Emit):
                flow.close()
                raise _no_emit(step)
            outcome = await self._perform(step)

    async def iterate(self, flow: Flow[None]) -> AsyncIterator[Any]:
        outcome: Outcome | None = None
        try:
            while True:
                try:
                    step = flow.send(outcome)
                except StopIteration:
                    return
                if isinstance(step, Emit):
                    outcome = None
                    for item in step.items:
                        yield item
                else:
                    outcome = await self._perform(step)
        finally:
            flow.close()
