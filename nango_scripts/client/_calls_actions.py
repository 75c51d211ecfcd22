"""The calls that run something at the integration: actions, endpoints, the proxy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from nango_scripts.client._calls import (
    NO_BODY,
    Calls,
    ParamValue,
    ProxyParams,
    connection_headers,
    encode_json,
    param_text,
    parse_model,
    required,
)
from nango_scripts.client._errors import ActionPendingError, NangoNotFoundError
from nango_scripts.client._flow import Flow, Request, Sleep, decode
from nango_scripts.client._models import AsyncActionHandle

__all__ = ["ActionCalls"]


def _proxy_params(params: ProxyParams | None) -> list[tuple[str, str]]:
    if params is None:
        return []
    pairs: list[tuple[str, str]] = []
    items = params.items() if isinstance(params, Mapping) else params
    for name, value in items:
        if value is None:
            continue
        if isinstance(value, str | int | float | bool):
            pairs.append((name, param_text(value)))
        else:
            pairs.extend((name, param_text(v)) for v in value)
    return pairs


class ActionCalls(Calls):
    """Actions (now or in the background, and their results), endpoints and the proxy."""

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
        headers = connection_headers(provider_config_key, connection_id)
        required(action_name=action_name)
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
        input: Any = NO_BODY,
    ) -> Flow[Any]:
        headers = connection_headers(provider_config_key, connection_id)
        required(method=method, path=path)
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
        return self._call(request, parse_model(AsyncActionHandle))

    def _status_path(self, handle: AsyncActionHandle | str) -> str:
        if isinstance(handle, AsyncActionHandle):
            return (
                handle.status_url if handle.status_url.startswith("/") else f"/action/{handle.id}"
            )
        required(id=handle)
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
        all_headers = {**self._headers, **connection_headers(provider_config_key, connection_id)}
        required(endpoint=endpoint)
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
