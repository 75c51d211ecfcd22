"""``AsyncNango``: the async client, a thin door over the flows of ``_operations``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Self, Unpack

import httpx

from nango_scripts.client._base import DEFAULT_TIMEOUT, NangoBase, ProxyOptions
from nango_scripts.client._drivers import AsyncDriver
from nango_scripts.client._models import (
    AsyncActionHandle,
    Connection,
    ConnectionDetails,
    Integration,
    PruneResult,
    RecordsPage,
    SyncStatus,
)
from nango_scripts.client._operations import NO_BODY, NOT_GIVEN, NotGiven

__all__ = ["AsyncNango"]


class AsyncNango(NangoBase):
    """The async client: the same methods as :class:`Nango`, awaited.
    ``async with AsyncNango(secret_key=...) as nango: ...``"""

    def __init__(
        self,
        secret_key: str | None = None,
        host: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retries: int = 0,
        retry_backoff: float = 0.5,
        webhook_signing_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            secret_key,
            host,
            retries=retries,
            retry_backoff=retry_backoff,
            webhook_signing_key=webhook_signing_key,
        )
        if transport is not None and http_client is not None:
            raise ValueError("pass transport or http_client, not both")
        self._owns_client = http_client is None
        self._http = http_client or httpx.AsyncClient(
            transport=transport, timeout=timeout, follow_redirects=True
        )
        self._driver = AsyncDriver(self._http)

    async def aclose(self) -> None:
        """Close the connections (not those of an ``http_client`` passed in)."""
        if self._owns_client:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- records ------------------------------------------------------------------------

    async def list_records(
        self,
        provider_config_key: str,
        connection_id: str,
        model: str,
        *,
        modified_after: str | datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        filter: str | Sequence[str] | None = None,
        ids: Sequence[str | int] | None = None,
    ) -> RecordsPage:
        """One page of a model's records (``GET /records``)."""
        return await self._driver.run(
            self._ops.list_records(
                provider_config_key,
                connection_id,
                model,
                modified_after=modified_after,
                limit=limit,
                cursor=cursor,
                filter=filter,
                ids=ids,
            )
        )

    def iter_records(
        self,
        provider_config_key: str,
        connection_id: str,
        model: str,
        *,
        modified_after: str | datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        filter: str | Sequence[str] | None = None,
        ids: Sequence[str | int] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record, page after page: ``async for record in nango.iter_records(...)``."""
        return self._driver.iterate(
            self._ops.iter_records(
                provider_config_key,
                connection_id,
                model,
                modified_after=modified_after,
                limit=limit,
                cursor=cursor,
                filter=filter,
                ids=ids,
            )
        )

    async def prune_records(
        self,
        provider_config_key: str,
        connection_id: str,
        model: str,
        until_cursor: str,
        *,
        limit: int | None = None,
    ) -> PruneResult:
        return await self._driver.run(
            self._ops.prune_records(
                provider_config_key, connection_id, model, until_cursor, limit=limit
            )
        )

    # -- syncs --------------------------------------------------------------------------

    async def trigger_sync(
        self,
        provider_config_key: str,
        syncs: str | Sequence[str] | None = None,
        connection_id: str | None = None,
        *,
        reset: bool = False,
        empty_cache: bool = False,
    ) -> None:
        await self._driver.run(
            self._ops.trigger_sync(
                provider_config_key, syncs, connection_id, reset=reset, empty_cache=empty_cache
            )
        )

    async def start_sync(
        self, provider_config_key: str, syncs: str | Sequence[str], connection_id: str | None = None
    ) -> None:
        await self._driver.run(self._ops.start_sync(provider_config_key, syncs, connection_id))

    async def pause_sync(
        self, provider_config_key: str, syncs: str | Sequence[str], connection_id: str | None = None
    ) -> None:
        await self._driver.run(self._ops.pause_sync(provider_config_key, syncs, connection_id))

    async def sync_status(
        self,
        provider_config_key: str,
        syncs: str | Sequence[str] = "*",
        connection_id: str | None = None,
    ) -> list[SyncStatus]:
        return await self._driver.run(
            self._ops.sync_status(provider_config_key, syncs, connection_id)
        )

    async def update_sync_connection_frequency(
        self, provider_config_key: str, sync: str, connection_id: str, frequency: str | None
    ) -> str | None:
        return await self._driver.run(
            self._ops.update_sync_connection_frequency(
                provider_config_key, sync, connection_id, frequency
            )
        )

    # -- actions ------------------------------------------------------------------------

    async def trigger_action(
        self, provider_config_key: str, connection_id: str, action_name: str, input: Any = None
    ) -> Any:
        return await self._driver.run(
            self._ops.trigger_action(provider_config_key, connection_id, action_name, input)
        )

    async def call_endpoint(
        self,
        provider_config_key: str,
        connection_id: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        input: Any = NO_BODY,
    ) -> Any:
        """A generated endpoint of a sync or action (``GET /issues``, ``POST /issues``): the
        records page ``{"records", "next_cursor"}`` of a sync, an action's output."""
        return await self._driver.run(
            self._ops.call_endpoint(
                provider_config_key, connection_id, method, path, params=params, input=input
            )
        )

    async def trigger_action_async(
        self, provider_config_key: str, connection_id: str, action_name: str, input: Any = None
    ) -> AsyncActionHandle:
        return await self._driver.run(
            self._ops.trigger_action_async(provider_config_key, connection_id, action_name, input)
        )

    async def get_async_action_result(self, handle: AsyncActionHandle | str) -> Any:
        return await self._driver.run(self._ops.get_async_action_result(handle))

    async def wait_for_async_action(
        self,
        handle: AsyncActionHandle | str,
        *,
        max_wait: float = 60.0,
        poll_interval: float = 0.5,
    ) -> Any:
        return await self._driver.run(
            self._ops.wait_for_async_action(
                handle, max_wait=max_wait, poll_interval=poll_interval, clock=time.monotonic
            )
        )

    # -- proxy --------------------------------------------------------------------------

    async def proxy(
        self,
        method: str,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        **options: Unpack[ProxyOptions],
    ) -> httpx.Response:
        return await self._driver.run(
            self._ops.proxy(method, endpoint, provider_config_key, connection_id, **options)
        )

    async def get(
        self,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        **options: Unpack[ProxyOptions],
    ) -> httpx.Response:
        return await self.proxy("GET", endpoint, provider_config_key, connection_id, **options)

    async def post(
        self,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        **options: Unpack[ProxyOptions],
    ) -> httpx.Response:
        return await self.proxy("POST", endpoint, provider_config_key, connection_id, **options)

    async def put(
        self,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        **options: Unpack[ProxyOptions],
    ) -> httpx.Response:
        return await self.proxy("PUT", endpoint, provider_config_key, connection_id, **options)

    async def patch(
        self,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        **options: Unpack[ProxyOptions],
    ) -> httpx.Response:
        return await self.proxy("PATCH", endpoint, provider_config_key, connection_id, **options)

    async def delete(
        self,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        **options: Unpack[ProxyOptions],
    ) -> httpx.Response:
        return await self.proxy("DELETE", endpoint, provider_config_key, connection_id, **options)

    # -- connections --------------------------------------------------------------------

    async def list_connections(
        self,
        *,
        connection_id: str | None = None,
        integration_id: str | Sequence[str] | None = None,
        search: str | None = None,
        limit: int | None = None,
        page: int | None = None,
    ) -> list[Connection]:
        return await self._driver.run(
            self._ops.list_connections(
                connection_id=connection_id,
                integration_id=integration_id,
                search=search,
                limit=limit,
                page=page,
            )
        )

    async def get_connection(
        self,
        provider_config_key: str,
        connection_id: str,
        *,
        force_refresh: bool = False,
        refresh_token: bool = False,
    ) -> ConnectionDetails:
        return await self._driver.run(
            self._ops.get_connection(
                provider_config_key,
                connection_id,
                force_refresh=force_refresh,
                refresh_token=refresh_token,
            )
        )

    async def get_token(
        self, provider_config_key: str, connection_id: str, *, force_refresh: bool = False
    ) -> str | dict[str, Any]:
        return await self._driver.run(
            self._ops.get_token(provider_config_key, connection_id, force_refresh=force_refresh)
        )

    async def import_connection(
        self,
        provider_config_key: str,
        connection_id: str | None,
        credentials: Mapping[str, Any],
        *,
        metadata: Mapping[str, Any] | None = None,
        webhook_url_override: str | NotGiven | None = NOT_GIVEN,
    ) -> ConnectionDetails:
        return await self._driver.run(
            self._ops.import_connection(
                provider_config_key,
                connection_id,
                credentials,
                metadata=metadata,
                webhook_url_override=webhook_url_override,
            )
        )

    async def patch_connection(
        self,
        provider_config_key: str,
        connection_id: str,
        *,
        webhook_url_override: str | NotGiven | None = NOT_GIVEN,
        end_user: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        await self._driver.run(
            self._ops.patch_connection(
                provider_config_key,
                connection_id,
                webhook_url_override=webhook_url_override,
                end_user=end_user,
                tags=tags,
            )
        )

    async def delete_connection(self, provider_config_key: str, connection_id: str) -> None:
        await self._driver.run(self._ops.delete_connection(provider_config_key, connection_id))

    async def get_metadata(self, provider_config_key: str, connection_id: str) -> dict[str, Any]:
        return await self._driver.run(self._ops.get_metadata(provider_config_key, connection_id))

    async def set_metadata(
        self,
        provider_config_key: str,
        connection_id: str | Sequence[str],
        metadata: Mapping[str, Any],
    ) -> None:
        await self._driver.run(
            self._ops.change_metadata("POST", provider_config_key, connection_id, metadata)
        )

    async def update_metadata(
        self,
        provider_config_key: str,
        connection_id: str | Sequence[str],
        metadata: Mapping[str, Any],
    ) -> None:
        await self._driver.run(
            self._ops.change_metadata("PATCH", provider_config_key, connection_id, metadata)
        )

    # -- integrations and scripts -------------------------------------------------------

    async def list_integrations(self) -> list[Integration]:
        return await self._driver.run(self._ops.list_integrations())

    async def get_integration(self, unique_key: str) -> Integration:
        return await self._driver.run(self._ops.get_integration(unique_key))

    async def get_scripts_config(
        self, format: Literal["nango", "openai"] = "nango"
    ) -> list[dict[str, Any]]:
        return await self._driver.run(self._ops.get_scripts_config(format))
