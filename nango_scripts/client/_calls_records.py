"""The calls on records and syncs, as flows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from nango_scripts.client._calls import (
    Calls,
    ParamValue,
    connection_headers,
    ignore_answer,
    name_list,
    parse_list,
    parse_model,
    required,
)
from nango_scripts.client._errors import NangoClientError
from nango_scripts.client._flow import Emit, Flow, decode
from nango_scripts.client._models import PruneResult, RecordsPage, SyncStatus

__all__ = ["RecordCalls"]


def iso(moment: str | datetime) -> str:
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        raise ValueError(
            "modified_after must be timezone-aware (e.g. datetime.now(UTC)): a naive"
            " datetime does not say which moment it is."
        )
    # Not nango_scripts._iso_time's iso_millis: the client loads nothing of the package
    # but itself (see tests/client/test_api.py).
    utc = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return utc.replace("+00:00", "Z")


class RecordCalls(Calls):
    """Records (list, iterate, prune) and syncs (trigger, start, pause, status, frequency)."""

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
    ) -> Flow[RecordsPage]:
        headers = connection_headers(provider_config_key, connection_id)
        required(model=model)
        params: list[tuple[str, ParamValue | None]] = [("model", model)]
        if modified_after:
            params.append(("modified_after", iso(modified_after)))
        params.append(("limit", limit))
        if filter:
            params.append(("filter", ",".join(name_list(filter))))
        if cursor:
            params.append(("cursor", cursor))
        params.extend(("ids", str(i)) for i in ids or ())
        request = self._request("GET", "/records/", params=params, headers=headers, retryable=True)
        return self._call(request, parse_model(RecordsPage))

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
    ) -> Flow[None]:
        while True:
            page = yield from self.list_records(
                provider_config_key,
                connection_id,
                model,
                modified_after=modified_after,
                limit=limit,
                cursor=cursor,
                filter=filter,
                ids=ids,
            )
            if page.records:
                yield Emit(page.records)
            if not page.next_cursor:
                return
            if page.next_cursor == cursor:
                raise NangoClientError(f"Nango returned the same cursor twice: {cursor!r}")
            cursor = page.next_cursor

    def prune_records(
        self,
        provider_config_key: str,
        connection_id: str,
        model: str,
        until_cursor: str,
        *,
        limit: int | None = None,
    ) -> Flow[PruneResult]:
        headers = connection_headers(provider_config_key, connection_id)
        required(model=model, until_cursor=until_cursor)
        body: dict[str, Any] = {"model": model, "until_cursor": until_cursor}
        if limit:
            body["limit"] = limit
        request = self._request("PATCH", "/records/prune", body=body, headers=headers)
        return self._call(request, parse_model(PruneResult))

    # -- syncs --------------------------------------------------------------------------

    def trigger_sync(
        self,
        provider_config_key: str,
        syncs: str | Sequence[str] | None = None,
        connection_id: str | None = None,
        *,
        reset: bool = False,
        empty_cache: bool = False,
    ) -> Flow[None]:
        required(provider_config_key=provider_config_key)
        body: dict[str, Any] = {
            "syncs": name_list(syncs),
            "provider_config_key": provider_config_key,
        }
        if connection_id is not None:
            body["connection_id"] = connection_id
        if reset or empty_cache:
            body["opts"] = {"reset": reset, "emptyCache": empty_cache}
        return self._call(self._request("POST", "/sync/trigger", body=body), ignore_answer)

    def _sync_command(
        self,
        path: str,
        provider_config_key: str,
        syncs: str | Sequence[str],
        connection_id: str | None,
    ) -> Flow[None]:
        required(provider_config_key=provider_config_key)
        names = name_list(syncs)
        if not names:
            raise ValueError("syncs is required: name at least one sync")
        body: dict[str, Any] = {"syncs": names, "provider_config_key": provider_config_key}
        if connection_id is not None:
            body["connection_id"] = connection_id
        return self._call(self._request("POST", path, body=body), ignore_answer)

    def start_sync(
        self, provider_config_key: str, syncs: str | Sequence[str], connection_id: str | None = None
    ) -> Flow[None]:
        return self._sync_command("/sync/start", provider_config_key, syncs, connection_id)

    def pause_sync(
        self, provider_config_key: str, syncs: str | Sequence[str], connection_id: str | None = None
    ) -> Flow[None]:
        return self._sync_command("/sync/pause", provider_config_key, syncs, connection_id)

    def sync_status(
        self,
        provider_config_key: str,
        syncs: str | Sequence[str] = "*",
        connection_id: str | None = None,
    ) -> Flow[list[SyncStatus]]:
        required(provider_config_key=provider_config_key)
        names = name_list(syncs)
        if not names:
            raise ValueError('syncs is required: a list of sync names, or "*" for all')
        params = [
            ("syncs", ",".join(names)),
            ("provider_config_key", provider_config_key),
            ("connection_id", connection_id),
        ]
        request = self._request("GET", "/sync/status", params=params, retryable=True)
        return self._call(request, parse_list(SyncStatus, "syncs"))

    def update_sync_connection_frequency(
        self,
        provider_config_key: str,
        sync: str,
        connection_id: str,
        frequency: str | None,
    ) -> Flow[str | None]:
        required(provider_config_key=provider_config_key, sync=sync, connection_id=connection_id)
        name, _, variant = sync.partition("::")
        body: dict[str, Any] = {"sync_name": name}
        if variant:
            body["sync_variant"] = variant
        body.update(
            provider_config_key=provider_config_key,
            connection_id=connection_id,
            frequency=frequency,
        )
        request = self._request("PUT", "/sync/update-connection-frequency", body=body)

        def parse(response: httpx.Response) -> str | None:
            answer = decode(response)
            value = answer.get("frequency") if isinstance(answer, dict) else None
            return value if isinstance(value, str) else None

        return self._call(request, parse)
