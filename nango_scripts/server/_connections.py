"""Connections: list, get (with credentials), import (create or override), patch,
delete; and their metadata (``/connections/metadata``: get, set, merge).

Credentials are encrypted at rest by the connection store and returned only by
``GET /connections/{id}`` and the import's answer, as Nango does. Creating a connection
adds its schedules; deleting one stops its runs and removes its records first.

``webhook_url_override`` (Nango's field on ``PATCH /connections/{id}``, also taken by the
import) sends the connection's webhooks to that URL instead of the environment's;
``null`` or ``""`` goes back to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from nango_scripts.engine import Service, shown_url
from nango_scripts.errors import ConfigError, ConnectionExistsError, ConnectionNotFoundError
from nango_scripts.server._common import ServiceDep, iso
from nango_scripts.server._errors import ERROR_RESPONSES, ApiError
from nango_scripts.store import Connection, ConnectionSummary, check_stored_json

__all__ = ["router"]

router = APIRouter(tags=["connections"], responses=ERROR_RESPONSES)

_UNSUPPORTED = ("connection_config", "end_user", "tags")
_MAX_URL_LENGTH = 2048
_OVERRIDE_DESCRIPTION = (
    "Send this connection's webhooks to this http(s) URL instead of the environment's"
    " primary and secondary URLs; null or empty goes back to them"
)


class ConnectionItem(BaseModel):
    id: int = Field(description="A stable number derived from the connection's key")
    connection_id: str
    provider_config_key: str
    provider: str
    created: str
    metadata: dict[str, Any] | None
    tags: dict[str, str]
    errors: list[dict[str, Any]]
    end_user: dict[str, Any] | None


class ConnectionList(BaseModel):
    connections: list[ConnectionItem]


class ConnectionFull(BaseModel):
    id: int
    connection_id: str
    provider_config_key: str
    provider: str
    errors: list[dict[str, Any]]
    end_user: dict[str, Any] | None
    tags: dict[str, str]
    metadata: dict[str, Any] | None
    connection_config: dict[str, Any]
    webhook_url_override: str | None
    created_at: str
    updated_at: str
    last_fetched_at: str
    credentials: dict[str, Any]


class CreateConnection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider_config_key: str = Field(min_length=1)
    connection_id: str | None = Field(default=None, min_length=1)
    credentials: dict[str, Any] = Field(description="Nango's import shape, by type")
    metadata: dict[str, Any] | None = None
    connection_config: dict[str, Any] | None = None
    end_user: dict[str, Any] | None = None
    tags: dict[str, str] | None = None
    webhook_url_override: str | None = Field(
        default=None,
        description=_OVERRIDE_DESCRIPTION + " (nango-scripts' addition: left out, kept as is)",
    )


class PatchConnection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credentials: dict[str, Any] | None = Field(
        default=None, description="Replace the credentials (nango-scripts' addition)"
    )
    end_user: dict[str, Any] | None = None
    tags: dict[str, str] | None = None
    webhook_url_override: str | None = Field(default=None, description=_OVERRIDE_DESCRIPTION)


class MetadataBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, Any]
    connection_id: str | list[str] = Field(min_length=1)
    provider_config_key: str = Field(min_length=1)


class MetadataOf(BaseModel):
    connection_id: str
    provider_config_key: str
    metadata: dict[str, Any]


class Success(BaseModel):
    success: bool


def _number(environment: str, integration_id: str, connection_id: str) -> int:
    return zlib.crc32(f"{environment}\0{integration_id}\0{connection_id}".encode()) or 1


def _provider_name(service: Service, integration_id: str) -> str:
    provider = service.settings.integrations.get(integration_id)
    return provider.name if provider is not None else integration_id


def _item(service: Service, s: ConnectionSummary) -> ConnectionItem:
    return ConnectionItem(
        id=_number(s.environment, s.integration_id, s.connection_id),
        connection_id=s.connection_id,
        provider_config_key=s.integration_id,
        provider=_provider_name(service, s.integration_id),
        created=(iso(s.created_at) or "").replace("Z", "+00:00"),
        metadata=dict(s.metadata) or None,
        tags={},
        errors=[],
        end_user=None,
    )


def _public_credentials(credentials: Mapping[str, Any], *, refresh_token: bool) -> dict[str, Any]:
    shown = dict(credentials)
    if isinstance(shown.get("expires_at"), str):
        with contextlib.suppress(ValueError):
            shown["expires_at"] = iso(datetime.fromisoformat(shown["expires_at"]))
    if shown.get("type") in ("OAUTH2", "OAUTH2_CC"):
        shown.setdefault("raw", {})
        if not refresh_token:
            shown.pop("refresh_token", None)
            if isinstance(shown["raw"], dict):
                shown["raw"] = {k: v for k, v in shown["raw"].items() if k != "refresh_token"}
    return shown


def _full(
    service: Service,
    c: Connection,
    *,
    webhook_url_override: str | None,
    refresh_token: bool = False,
) -> ConnectionFull:
    return ConnectionFull(
        id=_number(c.environment, c.integration_id, c.connection_id),
        connection_id=c.connection_id,
        provider_config_key=c.integration_id,
        provider=_provider_name(service, c.integration_id),
        errors=[],
        end_user=None,
        tags={},
        metadata=dict(c.metadata) or None,
        connection_config={},
        webhook_url_override=webhook_url_override,
        created_at=iso(c.created_at) or "",
        updated_at=iso(c.updated_at) or "",
        last_fetched_at=iso(datetime.now(UTC)) or "",
        credentials=_public_credentials(c.credentials, refresh_token=refresh_token),
    )


def _refuse_unsupported(body: BaseModel) -> None:
    for name in _UNSUPPORTED:
        if getattr(body, name, None):
            raise ApiError(
                400,
                "invalid_body",
                f"{name} is not supported by nango-scripts (leave it out or empty).",
            )


def _webhook_url_override(body: BaseModel) -> tuple[bool, str | None]:
    """``(given, url)``: whether the body sets the override, and to what (None: remove).

    Only an absolute http(s) URL with a host is taken: a 400 naming the field otherwise.
    """
    if "webhook_url_override" not in body.model_fields_set:
        return False, None
    raw: str | None = getattr(body, "webhook_url_override", None)
    url = (raw or "").strip()
    if not url:
        return True, None
    problem = None
    if len(url) > _MAX_URL_LENGTH:
        problem = f"is longer than {_MAX_URL_LENGTH} characters"
    elif any(ch.isspace() or ord(ch) < 32 for ch in url):
        problem = "contains spaces or control characters"
    else:
        try:
            parts = urlsplit(url)
            host = parts.hostname
            _ = parts.port  # raises on a port that is not a number
        except ValueError as exc:
            problem = f"is not a URL ({exc})"
        else:
            if parts.scheme.lower() not in ("http", "https"):
                problem = "must start with http:// or https://"
            elif not host:
                problem = "has no host"
    if problem is not None:
        shown = shown_url(url[:100])  # its path or query may hold the receiver's token
        raise ApiError(
            400,
            "invalid_body",
            f"webhook_url_override {problem}: {shown!r}."
            " Give an http(s) URL such as https://example.com/nango-webhook, or null to remove it.",
        )
    return True, url


async def _override_of(service: Service, c: Connection) -> str | None:
    return await asyncio.to_thread(
        service.connections.get_webhook_url_override, c.integration_id, c.connection_id
    )


async def _get(service: Service, connection_id: str, integration_id: str | None) -> Connection:
    """By id (and integration): 404 ``not_found`` as Nango's GET /connections/{id}."""
    try:
        return await asyncio.to_thread(service.connections.find, connection_id, integration_id)
    except ConnectionNotFoundError as exc:
        raise ApiError(404, "not_found", exc.message) from None


async def _integration_of(service: Service, connection_id: str, integration_id: str | None) -> str:
    """The connection's integration, read without credentials; 400 ``unknown_connection``."""
    summaries = await asyncio.to_thread(service.connections.summaries, integration_id)
    owners = [s.integration_id for s in summaries if s.connection_id == connection_id]
    if len(owners) == 1:
        return owners[0]
    if owners:
        raise ApiError(
            400,
            "unknown_connection",
            f"Connection id '{connection_id}' exists in several integrations"
            f" ({', '.join(owners)}): pass provider_config_key.",
        )
    where = f" for integration '{integration_id}'" if integration_id else ""
    raise ApiError(400, "unknown_connection", f"No connection '{connection_id}'{where}.")


@router.get("/connections", response_model=ConnectionList, summary="List connections")
async def list_connections(
    service: ServiceDep,
    connectionId: Annotated[str | None, Query(description="Only this connection id")] = None,
    integrationId: Annotated[str | None, Query(description="Comma-separated ids")] = None,
    search: Annotated[str | None, Query(description="Part of a connection id")] = None,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    page: Annotated[int, Query(ge=0)] = 0,
) -> ConnectionList:
    summaries = await asyncio.to_thread(service.connections.summaries)
    wanted = {i.strip() for i in (integrationId or "").split(",") if i.strip()}
    chosen = [
        s
        for s in summaries
        if (not wanted or s.integration_id in wanted)
        and (connectionId is None or s.connection_id == connectionId)
        and (not search or search.lower() in s.connection_id.lower())
    ]
    if limit is not None:
        chosen = chosen[page * limit : (page + 1) * limit]
    return ConnectionList(connections=[_item(service, s) for s in chosen])


@router.post(
    "/connections",
    response_model=ConnectionFull,
    status_code=201,
    summary="Import a connection (an existing one is overridden)",
)
async def create_connection(service: ServiceDep, body: CreateConnection) -> ConnectionFull:
    _refuse_unsupported(body)
    set_override, override = _webhook_url_override(body)
    integration_id = body.provider_config_key
    if integration_id not in service.settings.integrations:
        known = ", ".join(sorted(service.settings.integrations)) or "none"
        raise ApiError(
            404,
            "not_found",
            f"Integration does not exist: no [integrations.{integration_id}] in nango.toml"
            f" (configured: {known}).",
        )
    connection_id = body.connection_id or str(uuid.uuid4())
    store = service.connections
    if body.metadata is not None:  # refused before the credentials of one that exists change
        check_stored_json("connection metadata", body.metadata)

    def upsert() -> tuple[Connection, bool]:
        try:
            made = store.create(integration_id, connection_id, body.credentials, body.metadata)
            created = True
        except ConnectionExistsError:
            store.update_credentials(integration_id, connection_id, body.credentials)
            if body.metadata is not None:
                store.set_metadata(integration_id, connection_id, body.metadata)
            made, created = store.get(integration_id, connection_id), False
        if set_override:
            store.set_webhook_url_override(integration_id, connection_id, override)
        return made, created

    try:
        connection, created = await asyncio.to_thread(upsert)
    except ConfigError as exc:  # a connection id the store refuses (control characters...)
        raise ApiError(400, "invalid_body", exc.message) from None
    fields: dict[str, Any] = {
        "auth_type": connection.auth_type,
        "metadata_keys": sorted(body.metadata or {}),
    }
    if set_override:
        fields["webhook_url_override"] = "set" if override else "removed"
    await _record_change(
        service,
        integration_id,
        connection_id,
        "created" if created else "imported again (credentials replaced)",
        fields,
    )
    await service.scheduler.ensure_schedules(integration_id, connection_id)
    return _full(service, connection, webhook_url_override=await _override_of(service, connection))


async def _record_change(
    service: Service,
    integration_id: str,
    connection_id: str,
    change: str,
    fields: dict[str, Any] | None = None,
) -> None:
    """The Activity log's entry for a connection change (names only, never values)."""
    await service.activity.record_connection_change(
        environment=service.environment,
        integration_id=integration_id,
        connection_id=connection_id,
        change=change,
        fields=fields,
    )


async def _connections_for(service: Service, body: MetadataBody) -> list[str]:
    """Every id must exist before anything changes (404 otherwise, as Nango)."""
    ids = [body.connection_id] if isinstance(body.connection_id, str) else body.connection_id
    for connection_id in ids:
        try:
            await asyncio.to_thread(
                service.connections.get_summary, body.provider_config_key, connection_id
            )
        except ConnectionNotFoundError:
            raise ApiError(
                404,
                "unknown_connection",
                f"Connection with connection id {connection_id} and provider config key"
                f" {body.provider_config_key} not found. Please make sure the connection exists.",
            ) from None
    return ids


@router.get("/connections/metadata", response_model=MetadataOf, summary="A connection's metadata")
async def get_metadata(
    service: ServiceDep,
    connection_id: Annotated[str, Query(min_length=1)],
    provider_config_key: Annotated[str, Query(min_length=1)],
) -> MetadataOf:
    try:
        summary = await asyncio.to_thread(
            service.connections.get_summary, provider_config_key, connection_id
        )
    except ConnectionNotFoundError as exc:
        raise ApiError(404, "unknown_connection", exc.message) from None
    return MetadataOf(
        connection_id=connection_id,
        provider_config_key=provider_config_key,
        metadata=dict(summary.metadata),
    )


@router.post(
    "/connections/metadata",
    response_model=MetadataBody,
    status_code=201,
    summary="Replace the metadata of one or more connections",
)
async def set_metadata(service: ServiceDep, body: MetadataBody) -> MetadataBody:
    for connection_id in await _connections_for(service, body):
        await asyncio.to_thread(
            service.connections.set_metadata, body.provider_config_key, connection_id, body.metadata
        )
        await _record_change(
            service,
            body.provider_config_key,
            connection_id,
            "metadata replaced",
            {"metadata_keys": sorted(body.metadata)},
        )
    return body


@router.patch(
    "/connections/metadata",
    response_model=MetadataBody,
    summary="Merge keys into the metadata of one or more connections",
)
async def update_metadata(service: ServiceDep, body: MetadataBody) -> MetadataBody:
    for connection_id in await _connections_for(service, body):
        await asyncio.to_thread(
            service.connections.update_metadata,
            body.provider_config_key,
            connection_id,
            body.metadata,
        )
        await _record_change(
            service,
            body.provider_config_key,
            connection_id,
            "metadata updated",
            {"metadata_keys": sorted(body.metadata)},
        )
    return body


ConnectionIdPath = Annotated[str, Path(description="The connection id")]


@router.get(
    "/connections/{connection_id:path}",
    response_model=ConnectionFull,
    summary="A connection, credentials included",
)
async def get_connection(
    service: ServiceDep,
    connection_id: ConnectionIdPath,
    provider_config_key: Annotated[str | None, Query(min_length=1)] = None,
    force_refresh: bool = False,
    refresh_token: bool = False,
    refresh_github_app_jwt_token: bool = False,
) -> ConnectionFull:
    connection = await _get(service, connection_id, provider_config_key)
    return _full(
        service,
        connection,
        webhook_url_override=await _override_of(service, connection),
        refresh_token=refresh_token,
    )


@router.patch(
    "/connections/{connection_id:path}", response_model=Success, summary="Update a connection"
)
async def patch_connection(
    service: ServiceDep,
    connection_id: ConnectionIdPath,
    body: PatchConnection,
    provider_config_key: Annotated[str | None, Query(min_length=1)] = None,
) -> Success:
    _refuse_unsupported(body)
    set_override, override = _webhook_url_override(body)
    connection = await _get(service, connection_id, provider_config_key)
    if body.credentials is not None:
        await asyncio.to_thread(
            service.connections.update_credentials,
            connection.integration_id,
            connection.connection_id,
            body.credentials,
        )
        await _record_change(
            service, connection.integration_id, connection.connection_id, "credentials replaced"
        )
    if set_override:
        await asyncio.to_thread(
            service.connections.set_webhook_url_override,
            connection.integration_id,
            connection.connection_id,
            override,
        )
        # The URL itself stays out of the log: it may carry a token in its query.
        await _record_change(
            service,
            connection.integration_id,
            connection.connection_id,
            "webhook URL override " + ("set" if override else "removed"),
        )
    return Success(success=True)


@router.delete(
    "/connections/{connection_id:path}",
    response_model=Success,
    summary="Delete a connection, its schedules and its records",
)
async def delete_connection(
    service: ServiceDep,
    connection_id: ConnectionIdPath,
    provider_config_key: Annotated[str | None, Query(min_length=1)] = None,
) -> Success:
    integration_id = await _integration_of(service, connection_id, provider_config_key)
    await service.scheduler.remove_connection(integration_id, connection_id)
    # Deleted meanwhile by another request: the outcome is the same.
    with contextlib.suppress(ConnectionNotFoundError):
        await asyncio.to_thread(service.connections.delete, integration_id, connection_id)
    await _record_change(service, integration_id, connection_id, "deleted")
    return Success(success=True)
