"""``Nango``: the blocking client, a thin door over the flows of ``_operations``."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Self, Unpack

import httpx

from nango_scripts.client._base import DEFAULT_TIMEOUT, NangoBase, ProxyOptions
from nango_scripts.client._drivers import SyncDriver
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

__all__ = ["Nango"]


class Nango(NangoBase):
    """The blocking client. ``with Nango(secret_key=...) as nango: ...``"""

    def __init__(
        self,
        secret_key: str | None = None,
        host: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retries: int = 0,
        retry_backoff: float = 0.5,
        webhook_signing_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
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
        self._http = http_client or httpx.Client(
            transport=transport, timeout=timeout, follow_redirects=True
        )
        self._driver = SyncDriver(self._http)

    def close(self) -> None:
        """Close the connections (not those of an ``http_client`` passed in)."""
        if self._owns_client:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- records ------------------------------------------------------------------------

    def list_records(
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
        return self._driver.run(
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
    ) -> Iterator[dict[str, Any]]:
        """Every record, page after page (``limit`` is the page size)."""
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

    def prune_records(
        self,
        provider_config_key: str,
        connection_id: str,
        model: str,
        until_cursor: str,
        *,
        limit: int | None = None,
    ) -> PruneResult:
        """Drop the data of the records up to a record's cursor (their ids stay)."""
        return self._driver.run(
            self._ops.prune_records(
                provider_config_key, connection_id, model, until_cursor, limit=limit
            )
        )

    # -- syncs --------------------------------------------------------------------------

    def trigger_sync(
        self,
        provider_config_key: str,
        syncs: str | Sequence[str] | None = None,
        connection_id: str | None = None,
        *,
        reset: bool = False,
        empty_cache: bool = False,
    ) -> None:
        """Run syncs now (none named: all; no connection: every connection)."""
        self._driver.run(
            self._ops.trigger_sync(
                provider_config_key, syncs, connection_id, reset=reset, empty_cache=empty_cache
            )
        )

    def start_sync(
        self, provider_config_key: str, syncs: str | Sequence[str], connection_id: str | None = None
    ) -> None:
        """Start (resume) the schedules of syncs."""
        self._driver.run(self._ops.start_sync(provider_config_key, syncs, connection_id))

    def pause_sync(
        self, provider_config_key: str, syncs: str | Sequence[str], connection_id: str | None = None
    ) -> None:
        """Pause the schedules of syncs."""
        self._driver.run(self._ops.pause_sync(provider_config_key, syncs, connection_id))

    def sync_status(
        self,
        provider_config_key: str,
        syncs: str | Sequence[str] = "*",
        connection_id: str | None = None,
    ) -> list[SyncStatus]:
        """One status per (connection, sync); ``"*"`` for every sync."""
        return self._driver.run(self._ops.sync_status(provider_config_key, syncs, connection_id))

    def update_sync_connection_frequency(
        self, provider_config_key: str, sync: str, connection_id: str, frequency: str | None
    ) -> str | None:
        """Override a sync's frequency for one connection (``None``: back to the script's);
        the frequency now in effect."""
        return self._driver.run(
            self._ops.update_sync_connection_frequency(
                provider_config_key, sync, connection_id, frequency
            )
        )

    # -- actions ------------------------------------------------------------------------

    def trigger_action(
        self, provider_config_key: str, connection_id: str, action_name: str, input: Any = None
    ) -> Any:
        """Run an action and return its output (any JSON value)."""
        return self._driver.run(
            self._ops.trigger_action(provider_config_key, connection_id, action_name, input)
        )

    def call_endpoint(
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
        return self._driver.run(
            self._ops.call_endpoint(
                provider_config_key, connection_id, method, path, params=params, input=input
            )
        )

    def trigger_action_async(
        self, provider_config_key: str, connection_id: str, action_name: str, input: Any = None
    ) -> AsyncActionHandle:
        """Start an action in the background."""
        return self._driver.run(
            self._ops.trigger_action_async(provider_config_key, connection_id, action_name, input)
        )

    def get_async_action_result(self, handle: AsyncActionHandle | str) -> Any:
        """The output of a background action (a handle, an id or a status URL);
        ``ActionPendingError`` while it runs."""
        return self._driver.run(self._ops.get_async_action_result(handle))

    def wait_for_async_action(
        self,
        handle: AsyncActionHandle | str,
        *,
        max_wait: float = 60.0,
        poll_interval: float = 0.5,
    ) -> Any:
        """Poll until the background action is done and return its output;
        ``ActionPendingError`` if it still runs after ``max_wait`` seconds."""
        return self._driver.run(
            self._ops.wait_for_async_action(
                handle, max_wait=max_wait, poll_interval=poll_interval, clock=time.monotonic
            )
        )

    # -- proxy --------------------------------------------------------------------------

    def proxy(
        self,
        method: str,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        **options: Unpack[ProxyOptions],
    ) -> httpx.Response:
        """A request to the integration's API with the connection's credentials."""
        return self._driver.run(
            self._ops.proxy(method, endpoint, provider_config_key, connection_id, **options)
        )

    def get(
        self,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        **options: Unpack[ProxyOptions],
    ) -> httpx.Response:
        return self.proxy("GET", endpoint, provider_config_key, connection_id, **options)

    def post(
        self,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        **options: Unpack[ProxyOptions],
    ) -> httpx.Response:
        return self.proxy("POST", endpoint, provider_config_key, connection_id, **options)

    def put(
        self,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        **options: Unpack[ProxyOptions],
    ) -> httpx.Response:
        return self.proxy("PUT", endpoint, provider_config_key, connection_id, **options)

    def patch(
        self,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        **options: Unpack[ProxyOptions],
    ) -> httpx.Response:
        return self.proxy("PATCH", endpoint, provider_config_key, connection_id, **options)

    def delete(
        self,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        **options: Unpack[ProxyOptions],
    ) -> httpx.Response:
        return self.proxy("DELETE", endpoint, provider_config_key, connection_id, **options)

    # -- connections --------------------------------------------------------------------

    def list_connections(
        self,
        *,
        connection_id: str | None = None,
        integration_id: str | Sequence[str] | None = None,
        search: str | None = None,
        limit: int | None = None,
        page: int | None = None,
    ) -> list[Connection]:
        return self._driver.run(
            self._ops.list_connections(
                connection_id=connection_id,
                integration_id=integration_id,
                search=search,
                limit=limit,
                page=page,
            )
        )

    def get_connection(
        self,
        provider_config_key: str,
        connection_id: str,
        *,
        force_refresh: bool = False,
        refresh_token: bool = False,
    ) -> ConnectionDetails:
        """The connection with its credentials."""
        return self._driver.run(
            self._ops.get_connection(
                provider_config_key,
                connection_id,
                force_refresh=force_refresh,
                refresh_token=refresh_token,
            )
        )

    def get_token(
        self, provider_config_key: str, connection_id: str, *, force_refresh: bool = False
    ) -> str | dict[str, Any]:
        """OAuth2: the access token; OAuth1: the token pair; else the credentials."""
        return self._driver.run(
            self._ops.get_token(provider_config_key, connection_id, force_refresh=force_refresh)
        )

    def import_connection(
        self,
        provider_config_key: str,
        connection_id: str | None,
        credentials: Mapping[str, Any],
        *,
        metadata: Mapping[str, Any] | None = None,
        webhook_url_override: str | NotGiven | None = NOT_GIVEN,
    ) -> ConnectionDetails:
        """Create (or override) a connection from credentials (``POST /connections``);
        ``webhook_url_override`` sends its webhooks to that URL (None: the environment's)."""
        return self._driver.run(
            self._ops.import_connection(
                provider_config_key,
                connection_id,
                credentials,
                metadata=metadata,
                webhook_url_override=webhook_url_override,
            )
        )

    def patch_connection(
        self,
        provider_config_key: str,
        connection_id: str,
        *,
        webhook_url_override: str | NotGiven | None = NOT_GIVEN,
        end_user: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Change a connection (``PATCH /connections/{id}``): only what is given.
        ``webhook_url_override``: a URL for its webhooks, or None to go back to the
        environment's. ``end_user`` and ``tags`` are Nango Cloud's (refused by serve)."""
        self._driver.run(
            self._ops.patch_connection(
                provider_config_key,
                connection_id,
                webhook_url_override=webhook_url_override,
                end_user=end_user,
                tags=tags,
            )
        )

    def delete_connection(self, provider_config_key: str, connection_id: str) -> None:
        self._driver.run(self._ops.delete_connection(provider_config_key, connection_id))

    def get_metadata(self, provider_config_key: str, connection_id: str) -> dict[str, Any]:
        return self._driver.run(self._ops.get_metadata(provider_config_key, connection_id))

    def set_metadata(
        self,
        provider_config_key: str,
        connection_id: str | Sequence[str],
        metadata: Mapping[str, Any],
    ) -> None:
        """Replace the metadata of one or more connections."""
        self._driver.run(
            self._ops.change_metadata("POST", provider_config_key, connection_id, metadata)
        )

    def update_metadata(
        self,
        provider_config_key: str,
        connection_id: str | Sequence[str],
        metadata: Mapping[str, Any],
    ) -> None:
        """Merge top-level keys into the metadata of one or more connections."""
        self._driver.run(
            self._ops.change_metadata("PATCH", provider_config_key, connection_id, metadata)
        )

    # -- integrations and scripts -------------------------------------------------------

    def list_integrations(self) -> list[Integration]:
        return self._driver.run(self._ops.list_integrations())

    def get_integration(self, unique_key: str) -> Integration:
        return self._driver.run(self._ops.get_integration(unique_key))

    def get_scripts_config(
        self, format: Literal["nango", "openai"] = "nango"
    ) -> list[dict[str, Any]]:
        return self._driver.run(self._ops.get_scripts_config(format))
