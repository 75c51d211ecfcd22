"""Blocking twins of the contexts, for scripts written as plain ``def``.

A plain script runs in a worker thread; each call here is handed to the run's
event loop and waited for, so both kinds of script share one implementation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, Unpack

import httpx
from pydantic import BaseModel

from nango_scripts.http import PageOptions, RequestOptions
from nango_scripts.runtime._awaited import drive
from nango_scripts.runtime._context import NangoAction, NangoSync
from nango_scripts.store import Connection

__all__ = ["BlockingNangoAction", "BlockingNangoSync"]

T = TypeVar("T")


class BlockingNangoAction:
    def __init__(self, inner: NangoAction, loop: asyncio.AbstractEventLoop) -> None:
        self._inner = inner
        self._loop = loop

    def _wait(self, awaitable: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(drive(awaitable), self._loop).result()

    @property
    def connection_id(self) -> str:
        return self._inner.connection_id

    @property
    def provider_config_key(self) -> str:
        return self._inner.provider_config_key

    def proxy(
        self, method: str, endpoint: str, **options: Unpack[RequestOptions]
    ) -> httpx.Response:
        return self._wait(self._inner.proxy(method, endpoint, **options))

    def get(self, endpoint: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return self.proxy("GET", endpoint, **options)

    def post(self, endpoint: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return self.proxy("POST", endpoint, **options)

    def put(self, endpoint: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return self.proxy("PUT", endpoint, **options)

    def patch(self, endpoint: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return self.proxy("PATCH", endpoint, **options)

    def delete(self, endpoint: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return self.proxy("DELETE", endpoint, **options)

    def paginate(self, endpoint: str, **options: Unpack[PageOptions]) -> Iterator[list[Any]]:
        pages = self._inner.paginate(endpoint, **options)

        async def next_page() -> list[Any] | None:
            try:
                return await anext(pages)
            except StopAsyncIteration:
                return None

        async def close() -> None:
            aclose = getattr(pages, "aclose", None)
            if aclose is not None:
                await aclose()

        try:
            while (page := self._wait(next_page())) is not None:
                yield page
        finally:
            # A half-read iterator may be collected after the run ended: then there is
            # no loop to close the pages on, and nothing left to close.
            if not self._loop.is_closed():
                self._wait(close())

    def get_connection(self) -> Connection:
        return self._wait(self._inner.get_connection())

    def get_metadata(self) -> dict[str, Any]:
        return self._wait(self._inner.get_metadata())

    def set_metadata(self, metadata: Mapping[str, Any]) -> None:
        self._wait(self._inner.set_metadata(metadata))

    def update_metadata(self, metadata: Mapping[str, Any]) -> None:
        self._wait(self._inner.update_metadata(metadata))

    def log(self, message: Any, level: str = "info", **fields: Any) -> None:
        self._inner.log(message, level, **fields)


class BlockingNangoSync(BlockingNangoAction):
    _inner: NangoSync

    def __init__(self, inner: NangoSync, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(inner, loop)

    @property
    def last_sync_date(self) -> datetime | None:
        return self._inner.last_sync_date

    def batch_save(self, records: Sequence[Any], model: type[BaseModel] | str) -> bool:
        return self._wait(self._inner.batch_save(records, model))

    def batch_update(self, records: Sequence[Any], model: type[BaseModel] | str) -> bool:
        return self._wait(self._inner.batch_update(records, model))

    def batch_delete(self, records: Sequence[Any], model: type[BaseModel] | str) -> bool:
        return self._wait(self._inner.batch_delete(records, model))

    def get_records_by_ids(
        self, ids: Sequence[str | int], model: type[BaseModel] | str
    ) -> list[dict[str, Any]]:
        return self._wait(self._inner.get_records_by_ids(ids, model))

    def get_checkpoint(self) -> dict[str, Any] | None:
        return self._wait(self._inner.get_checkpoint())

    def save_checkpoint(self, checkpoint: Mapping[str, Any]) -> None:
        self._wait(self._inner.save_checkpoint(checkpoint))

    def clear_checkpoint(self) -> None:
        self._wait(self._inner.clear_checkpoint())
