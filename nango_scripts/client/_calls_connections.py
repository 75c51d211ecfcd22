"""The calls on connections, their metadata, integrations and the scripts' config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

import httpx

from nango_scripts.client._calls import (
    NOT_GIVEN,
    Calls,
    NotGiven,
    ParamValue,
    ignore_answer,
    name_list,
    parse_list,
    parse_model,
    required,
    validated,
)
from nango_scripts.client._errors import NangoClientError
from nango_scripts.client._flow import Flow, decode
from nango_scripts.client._models import Connection, ConnectionDetails, Integration

__all__ = ["ConnectionCalls"]


class ConnectionCalls(Calls):
    """Connections (list, get, import, patch, delete), their token and metadata,
    integrations, and the scripts' config."""

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
            ("integrationId", ",".join(name_list(integration_id)) or None),
            ("search", search),
            ("limit", limit),
            ("page", page),
        ]
        request = self._request("GET", "/connections", params=params, retryable=True)
        return self._call(request, parse_list(Connection, "connections"))

    def get_connection(
        self,
        provider_config_key: str,
        connection_id: str,
        *,
        force_refresh: bool = False,
        refresh_token: bool = False,
    ) -> Flow[ConnectionDetails]:
        required(provider_config_key=provider_config_key, connection_id=connection_id)
        params: list[tuple[str, ParamValue | None]] = [
            ("provider_config_key", provider_config_key),
            ("force_refresh", force_refresh),
            ("refresh_token", refresh_token),
            ("refresh_github_app_jwt_token", False),
        ]
        path = f"/connections/{quote(connection_id, safe='')}"
        request = self._request("GET", path, params=params, retryable=not force_refresh)
        return self._call(request, parse_model(ConnectionDetails))

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
        required(provider_config_key=provider_config_key)
        body: dict[str, Any] = {"provider_config_key": provider_config_key}
        if connection_id is not None:
            body["connection_id"] = connection_id
        body["credentials"] = dict(credentials)
        if metadata is not None:
            body["metadata"] = dict(metadata)
        if webhook_url_override is not NOT_GIVEN:
            body["webhook_url_override"] = webhook_url_override
        request = self._request("POST", "/connections", body=body)
        return self._call(request, parse_model(ConnectionDetails))

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
        required(provider_config_key=provider_config_key, connection_id=connection_id)
        body: dict[str, Any] = {}
        if end_user is not None:
            body["end_user"] = dict(end_user)
        if tags is not None:
            body["tags"] = dict(tags)
        if webhook_url_override is not NOT_GIVEN:
            body["webhook_url_override"] = webhook_url_override
        path = f"/connections/{quote(connection_id, safe='')}"
        params = [("provider_config_key", provider_config_key)]
        return self._call(self._request("PATCH", path, params=params, body=body), ignore_answer)

    def delete_connection(self, provider_config_key: str, connection_id: str) -> Flow[None]:
        required(provider_config_key=provider_config_key, connection_id=connection_id)
        path = f"/connections/{quote(connection_id, safe='')}"
        params = [("provider_config_key", provider_config_key)]
        return self._call(self._request("DELETE", path, params=params), ignore_answer)

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
        required(provider_config_key=provider_config_key)
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
        return self._call(self._request(method, "/connections/metadata", body=body), ignore_answer)

    # -- integrations and scripts -------------------------------------------------------

    def list_integrations(self) -> Flow[list[Integration]]:
        request = self._request("GET", "/integrations", retryable=True)
        return self._call(request, parse_list(Integration, "data"))

    def get_integration(self, unique_key: str) -> Flow[Integration]:
        required(unique_key=unique_key)
        path = f"/integrations/{quote(unique_key, safe='')}"
        request = self._request("GET", path, retryable=True)

        def parse(response: httpx.Response) -> Integration:
            body = decode(response)
            return validated(Integration, body.get("data") if isinstance(body, dict) else body)

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
