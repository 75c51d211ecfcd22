"""Every call of the API as a flow: the request Nango's Node client would send, and the
parsing of the answer (see docs/nango-node-client.md for the wire contract)."""

from __future__ import annotations

import enum
import json as jsonlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from nango_scripts.client._errors import (
    ActionPendingError,
    NangoClientError,
    NangoNotFoundError,
)
from nango_scripts.client._flow import Emit, Flow, Request, RetryPolicy, Sleep, call, decode
from nango_scripts.client._models import (
    AsyncActionHandle,
    Connection,
    ConnectionDetails,
    Integration,
    PruneResult,
    RecordsPage,
    SyncStatus,
)

__all__ = ["NOT_GIVEN", "NotGiven", "Operations", "ParamValue", "ProxyParams"]

M = TypeVar("M", bound=BaseModel)

ParamValue = str | int | float | bool
ProxyParams = (
    Mapping[str, ParamValue | Sequence[ParamValue] | None] | Sequence[tuple[str, ParamValue]]
)

_NO_BODY: Any = object()
NO_BODY: Any = _NO_BODY
"""``call_endpoint(..., input=NO_BODY)``: send no body (``None`` sends JSON ``null``)."""


class NotGiven(enum.Enum):
    """The default of an optional field a PATCH leaves out (``None`` would clear it)."""

    NOT_GIVEN = "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON: pass JSON values or a pydantic model")


def encode_json(value: Any) -> bytes:
    text = jsonlib.dumps(
        value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default
    )
    return text.encode("utf-8")


def _text(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _required(**values: str | None) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} is required (a non-empty string), not {value!r}")


def _names(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _iso(moment: str | datetime) -> str:
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        raise ValueError(
            "modified_after must be timezone-aware (e.g. datetime.now(UTC)): a naive"
            " datetime does not say which moment it is."
        )
    utc = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return utc.replace("+00:00", "Z")


def _proxy_params(params: ProxyParams | None) -> list[tuple[str, str]]:
    if params is None:
        return []
    pairs: list[tuple[str, str]] = []
    items = params.items() if isinstance(params, Mapping) else params
    for name, value in items:
        if value is None:
            continue
        if isinstance(value, str | int | float | bool):
            pairs.append((name, _text(value)))
        else:
            pairs.extend((name, _text(v)) for v in value)
    return pairs


def _validated(cls: type[M], data: Any) -> M:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise NangoClientError(f"Unexpected answer from Nango for {cls.__name__}: {exc}") from exc


def _model(cls: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: _validated(cls, decode(response))


def _listed(cls: type[M], key: str | None) -> Callable[[httpx.Response], list[M]]:
    def parse(response: httpx.Response) -> list[M]:
        body = decode(response)
        items = body.get(key) if key is not None and isinstance(body, dict) else body
        if not isinstance(items, list):
            raise NangoClientError(
                f"Unexpected answer from Nango: expected a list, got {body!r:.200}"
            )
        return [_validated(cls, item) for item in items]

    return parse


def _ignore(response: httpx.Response) -> None:
    return None


def _connection(provider_config_key: str, connection_id: str) -> dict[str, str]:
    _required(provider_config_key=provider_config_key, connection_id=connection_id)
    return {"Connection-Id": connection_id, "Provider-Config-Key": provider_config_key}


class Operations:
    """Builds each call's flow; holds the host, the key and the retry policy."""

    def __init__(self, host: str, secret_key: str, policy: RetryPolicy, user_agent: str) -> None:
        self.host = host
        self.policy = policy
        self._headers = {
            "Authorization": f"Bearer {secret_key}",
            "User-Agent": user_agent,
            "Accept": "application/json",
        }

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, ParamValue | None]] = (),
        body: Any = _NO_BODY,
        headers: Mapping[str, str] | None = None,
        retryable: bool = False,
    ) -> Request:
        all_headers = {**self._headers, **(headers or {})}
        content = None
        if body is not _NO_BODY:
            content = encode_json(body)
            all_headers["Content-Type"] = "application/json"
        return Request(
            method=method,
            url=self.host + path,
            params=tuple((k, _text(v)) for k, v in params if v is not None),
            headers=all_headers,
            content=content,
            retryable=retryable,
        )

    def _call(self, request: Request, parse: Callable[[httpx.Response], Any]) -> Flow[Any]:
        return call(request, self.policy, parse)

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
        headers = _connection(provider_config_key, connection_id)
        _required(model=model)
        params: list[tuple[str, ParamValue | None]] = [("model", model)]
        if modified_after:
            params.append(("modified_after", _iso(modified_after)))
        params.append(("limit", limit))
        if filter:
            params.append(("filter", ",".join(_names(filter))))
        if cursor:
            params.append(("cursor", cursor))
        params.extend(("ids", str(i)) for i in ids or ())
        request = self._request("GET", "/records/", params=params, headers=headers, retryable=True)
        return self._call(request, _model(RecordsPage))

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
        headers = _connection(provider_config_key, connection_id)
        _required(model=model, until_cursor=until_cursor)
        body: dict[str, Any] = {"model": model, "until_cursor": until_cursor}
        if limit:
            body["limit"] = limit
        request = self._request("PATCH", "/records/prune", body=body, headers=headers)
        return self._call(request, _model(PruneResult))

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
        _required(provider_config_key=provider_config_key)
        body: dict[str, Any] = {"syncs": _names(syncs), "provider_config_key": provider_config_key}
        if connection_id is not None:
            body["connection_id"] = connection_id
        if reset or empty_cache:
            body["opts"] = {"reset": reset, "emptyCache": empty_cache}
        return self._call(self._request("POST", "/sync/trigger", body=body), _ignore)

    def _sync_command(
        self,
        path: str,
        provider_config_key: str,
        syncs: str | Sequence[str],
        connection_id: str | None,
    ) -> Flow[None]:
        _required(provider_config_key=provider_config_key)
        names = _names(syncs)
        if not names:
            raise ValueError("syncs is required: name at least one sync")
        body: dict[str, Any] = {"syncs": names, "provider_config_key": provider_config_key}
        if connection_id is not None:
            body["connection_id"] = connection_id
        return self._call(self._request("POST", path, body=body), _ignore)

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
        _required(provider_config_key=provider_config_key)
        names = _names(syncs)
        if not names:
            raise ValueError('syncs is required: a list of sync names, or "*" for all')
        params = [
            ("syncs", ",".join(names)),
            ("provider_config_key", provider_config_key),
            ("connection_id", connection_id),
        ]
        request = self._request("GET", "/sync/status", params=params, retryable=True)
        return self._call(request, _listed(SyncStatus, "syncs"))

    def update_sync_connection_frequency(
        self,
        provider_config_key: str,
        sync: str,
        connection_id: str,
        frequency: str | None,
    ) -> Flow[str | None]:
        _required(provider_config_key=provider_config_key, sync=sync, connection_id=connection_id)
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

    # -- actions ------------------------------------------------------------------------

    def _action_request(
        self,
        provider_config_key: str,
        connection_id: str,
        action_name: str,
        input: Any,
        *,
        background: bool,
    ) -> Request:
        headers = _connection(provider_config_key, connection_id)
        _required(action_name=action_name)
        if background:
            headers["X-Async"] = "true"
        body: dict[str, Any] = {"action_name": action_name}
        if input is not None:
            body["input"] = input
        return self._request("POST", "/action/trigger", body=body, headers=headers)

    def trigger_action(
        self, provider_config_key: str, connection_id: str, action_name: str, input: Any = None
    ) -> Flow[Any]:
        request = self._action_request(
            provider_config_key, connection_id, action_name, input, background=False
        )
        return self._call(request, decode)

    def call_endpoint(
        self,
        provider_config_key: str,
        connection_id: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        input: Any = _NO_BODY,
    ) -> Flow[Any]:
        headers = _connection(provider_config_key, connection_id)
        _required(method=method, path=path)
        if not path.startswith("/"):
            raise ValueError(f"path {path!r} must start with '/' (e.g. /issues)")
        pairs: list[tuple[str, ParamValue | None]] = []
        for name, value in (params or {}).items():
            if isinstance(value, list | tuple):
                pairs.extend((name, v) for v in value)
            else:
                pairs.append((name, value))
        request = self._request(
            method.upper(),
            path,
            params=pairs,
            body=input,
            headers=headers,
            retryable=method.upper() == "GET",
        )
        return self._call(request, decode)

    def trigger_action_async(
        self, provider_config_key: str, connection_id: str, action_name: str, input: Any = None
    ) -> Flow[AsyncActionHandle]:
        request = self._action_request(
            provider_config_key, connection_id, action_name, input, background=True
        )
        return self._call(request, _model(AsyncActionHandle))

    def _status_path(self, handle: AsyncActionHandle | str) -> str:
        if isinstance(handle, AsyncActionHandle):
            return (
                handle.status_url if handle.status_url.startswith("/") else f"/action/{handle.id}"
            )
        _required(id=handle)
        if handle.startswith(self.host + "/"):
            return handle[len(self.host) :]
        if handle.startswith("/"):
            return handle
        if "://" in handle:
            raise ValueError(f"{handle!r} is not a status URL of this Nango ({self.host})")
        return f"/action/{quote(handle, safe='')}"

    def get_async_action_result(self, handle: AsyncActionHandle | str) -> Flow[Any]:
        request = self._request("GET", self._status_path(handle))
        try:
            return (yield from self._call(request, decode))
        except NangoNotFoundError as exc:
            payload = exc.payload
            if isinstance(payload, dict) and payload.get("status") in ("running", "pending"):
                raise ActionPendingError(
                    exc.status,
                    exc.code,
                    exc.message,
                    exc.payload,
                    errors=exc.errors,
                    response=exc.response,
                ) from None
            raise

    def wait_for_async_action(
        self,
        handle: AsyncActionHandle | str,
        *,
        max_wait: float,
        poll_interval: float,
        clock: Callable[[], float],
    ) -> Flow[Any]:
        deadline = clock() + max_wait
        while True:
            try:
                return (yield from self.get_async_action_result(handle))
            except ActionPendingError:
                left = deadline - clock()
                if left <= 0:
                    raise
                yield Sleep(min(poll_interval, left))

    # -- proxy --------------------------------------------------------------------------

    def proxy(
        self,
        method: str,
        endpoint: str,
        provider_config_key: str,
        connection_id: str,
        *,
        params: ProxyParams | None = None,
        json: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        retries: int | None = None,
        base_url_override: str | None = None,
    ) -> Flow[httpx.Response]:
        all_headers = {**self._headers, **_connection(provider_config_key, connection_id)}
        _required(endpoint=endpoint)
        if json is not None and data is not None:
            raise ValueError("pass json or data, not both")
        for name, value in (headers or {}).items():
            all_headers[f"Nango-Proxy-{name}"] = value
            if name.lower() == "content-type":
                all_headers["Content-Type"] = value
        content: bytes | None = None
        if json is not None:
            content = encode_json(json)
            if not any(k.lower() == "content-type" for k in headers or {}):
                all_headers["Content-Type"] = "application/json"
        elif data is not None:
            content = data.encode("utf-8") if isinstance(data, str) else data
        if retries:
            all_headers["Retries"] = str(retries)
        if base_url_override:
            all_headers["Base-Url-Override"] = base_url_override
        verb = method.upper()
        request = Request(
            method=verb,
            url=self.host + "/proxy" + ("" if endpoint.startswith("/") else "/") + endpoint,
            params=tuple(_proxy_params(params)),
            headers=all_headers,
            content=content,
            retryable=verb in ("GET", "HEAD"),
        )
        return self._call(request, lambda response: response)

    # -- connections --------------------------------------------------------------------

    def list_connections(
        self,
        *,
        connection_id: str | None = None,
        integration_id: str | Sequence[str] | None = None,
        search: str | None = None,
        limit: int | None = None,
        page: int | None = None,
    ) -> Flow[list[Connection]]:
        params: list[tuple[str, ParamValue | None]] = [
            ("connectionId", connection_id),
            ("integrationId", ",".join(_names(integration_id)) or None),
            ("search", search),
            ("limit", limit),
            ("page", page),
        ]
        request = self._request("GET", "/connections", params=params, retryable=True)
        return self._call(request, _listed(Connection, "connections"))

    def get_connection(
        self,
        provider_config_key: str,
        connection_id: str,
        *,
        force_refresh: bool = False,
        refresh_token: bool = False,
    ) -> Flow[ConnectionDetails]:
        _required(provider_config_key=provider_config_key, connection_id=connection_id)
        params: list[tuple[str, ParamValue | None]] = [
            ("provider_config_key", provider_config_key),
            ("force_refresh", force_refresh),
            ("refresh_token", refresh_token),
            ("refresh_github_app_jwt_token", False),
        ]
        path = f"/connections/{quote(connection_id, safe='')}"
        request = self._request("GET", path, params=params, retryable=not force_refresh)
        return self._call(request, _model(ConnectionDetails))

    def get_token(
        self, provider_config_key: str, connection_id: str, *, force_refresh: bool = False
    ) -> Flow[str | dict[str, Any]]:
        connection = yield from self.get_connection(
            provider_config_key, connection_id, force_refresh=force_refresh
        )
        credentials = connection.credentials
        kind = credentials.get("type")
        if kind == "OAUTH2" and isinstance(credentials.get("access_token"), str):
            token: str = credentials["access_token"]
            return token
        if kind == "OAUTH1":
            return {
                "oAuthToken": credentials.get("oauth_token"),
                "oAuthTokenSecret": credentials.get("oauth_token_secret"),
            }
        return credentials

    def import_connection(
        self,
        provider_config_key: str,
        connection_id: str | None,
        credentials: Mapping[str, Any],
        *,
        metadata: Mapping[str, Any] | None = None,
        webhook_url_override: str | NotGiven | None = NOT_GIVEN,
    ) -> Flow[ConnectionDetails]:
        _required(provider_config_key=provider_config_key)
        body: dict[str, Any] = {"provider_config_key": provider_config_key}
        if connection_id is not None:
            body["connection_id"] = connection_id
        body["credentials"] = dict(credentials)
        if metadata is not None:
            body["metadata"] = dict(metadata)
        if webhook_url_override is not NOT_GIVEN:
            body["webhook_url_override"] = webhook_url_override
        request = self._request("POST", "/connections", body=body)
        return self._call(request, _model(ConnectionDetails))

    def patch_connection(
        self,
        provider_config_key: str,
        connection_id: str,
        *,
        webhook_url_override: str | NotGiven | None = NOT_GIVEN,
        end_user: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Flow[None]:
        """``PATCH /connections/{id}`` as the Node client's ``patchConnection``: only the
        fields given are sent (``webhook_url_override=None`` sends null: remove it)."""
        _required(provider_config_key=provider_config_key, connection_id=connection_id)
        body: dict[str, Any] = {}
        if end_user is not None:
            body["end_user"] = dict(end_user)
        if tags is not None:
            body["tags"] = dict(tags)
        if webhook_url_override is not NOT_GIVEN:
            body["webhook_url_override"] = webhook_url_override
        path = f"/connections/{quote(connection_id, safe='')}"
        params = [("provider_config_key", provider_config_key)]
        return self._call(self._request("PATCH", path, params=params, body=body), _ignore)

    def delete_connection(self, provider_config_key: str, connection_id: str) -> Flow[None]:
        _required(provider_config_key=provider_config_key, connection_id=connection_id)
        path = f"/connections/{quote(connection_id, safe='')}"
        params = [("provider_config_key", provider_config_key)]
        return self._call(self._request("DELETE", path, params=params), _ignore)

    def get_metadata(self, provider_config_key: str, connection_id: str) -> Flow[dict[str, Any]]:
        connection = yield from self.get_connection(provider_config_key, connection_id)
        return dict(connection.metadata or {})

    def change_metadata(
        self,
        method: Literal["POST", "PATCH"],
        provider_config_key: str,
        connection_id: str | Sequence[str],
        metadata: Mapping[str, Any],
    ) -> Flow[None]:
        _required(provider_config_key=provider_config_key)
        ids: str | list[str] = (
            connection_id if isinstance(connection_id, str) else list(connection_id)
        )
        if not ids:
            raise ValueError("connection_id is required (one id or a list of ids)")
        if not isinstance(metadata, Mapping):
            raise TypeError(f"metadata must be a mapping, not {type(metadata).__name__}")
        body = {
            "metadata": dict(metadata),
            "connection_id": ids,
            "provider_config_key": provider_config_key,
        }
        return self._call(self._request(method, "/connections/metadata", body=body), _ignore)

    # -- integrations and scripts -------------------------------------------------------

    def list_integrations(self) -> Flow[list[Integration]]:
        request = self._request("GET", "/integrations", retryable=True)
        return self._call(request, _listed(Integration, "data"))

    def get_integration(self, unique_key: str) -> Flow[Integration]:
        _required(unique_key=unique_key)
        path = f"/integrations/{quote(unique_key, safe='')}"
        request = self._request("GET", path, retryable=True)

        def parse(response: httpx.Response) -> Integration:
            body = decode(response)
            return _validated(Integration, body.get("data") if isinstance(body, dict) else body)

        return self._call(request, parse)

    def get_scripts_config(
        self, format: Literal["nango", "openai"] = "nango"
    ) -> Flow[list[dict[str, Any]]]:
        request = self._request(
            "GET", "/scripts/config", params=[("format", format)], retryable=True
        )

        def parse(response: httpx.Response) -> list[dict[str, Any]]:
            body = decode(response)
            items = body.get("data") if isinstance(body, dict) else body
            if not isinstance(items, list):
                raise NangoClientError(f"Unexpected answer from Nango: {body!r:.200}")
            return [item for item in items if isinstance(item, dict)]

        return self._call(request, parse)
