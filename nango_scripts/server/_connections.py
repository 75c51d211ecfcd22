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

import contextlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from nango_scripts.engine import Service
from nango_scripts.errors import ConfigError, ConnectionExistsError, ConnectionNotFoundError
from nango_scripts.server._common import ServiceDep, require_integration
from nango_scripts.server._connection_bodies import (
    ConnectionFull,
    ConnectionList,
    CreateConnection,
    MetadataBody,
    MetadataOf,
    PatchConnection,
    Success,
    connection_full,
    connection_item,
    refuse_unsupported,
    webhook_url_override_of,
)
from nango_scripts.server._errors import ERROR_RESPONSES, ApiError
from nango_scripts.store import Connection, blocking, check_stored_json

__all__ = ["router"]

router = APIRouter(tags=["connections"], responses=ERROR_RESPONSES)


async def _override_of(service: Service, c: Connection) -> str | None:
    return await blocking(
        service.connections.get_webhook_url_override, c.integration_id, c.connection_id
    )


async def _get(service: Service, connection_id: str, integration_id: str | None) -> Connection:
    """By id (and integration): 404 ``not_found`` as Nango's GET /connections/{id}."""
    if integration_id is not None:
        require_integration(service, integration_id)
    try:
        return await blocking(service.connections.find, connection_id, integration_id)
    except ConnectionNotFoundError as exc:
        raise ApiError(404, "not_found", exc.message) from None


async def _integration_of(service: Service, connection_id: str, integration_id: str | None) -> str:
    """The connection's integration, read without credentials; 400 ``unknown_connection``."""
    if integration_id is not None:
        require_integration(service, integration_id)
    summaries = await blocking(service.connections.summaries, integration_id)
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
    summaries = await blocking(service.connections.summaries)
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
    return ConnectionList(connections=[connection_item(service, s) for s in chosen])


@router.post(
    "/connections",
    response_model=ConnectionFull,
    status_code=201,
    summary="Import a connection (an existing one is overridden)",
)
async def create_connection(service: ServiceDep, body: CreateConnection) -> ConnectionFull:
    refuse_unsupported(body)
    set_override, override = webhook_url_override_of(body)
    integration_id = body.provider_config_key
    require_integration(service, integration_id)
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
        connection, created = await blocking(upsert)
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
    return connection_full(
        service, connection, webhook_url_override=await _override_of(service, connection)
    )


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
    require_integration(service, body.provider_config_key)
    ids = [body.connection_id] if isinstance(body.connection_id, str) else body.connection_id
    for connection_id in ids:
        try:
            await blocking(service.connections.get_summary, body.provider_config_key, connection_id)
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
    require_integration(service, provider_config_key)
    try:
        summary = await blocking(
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
        await blocking(
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
        await blocking(
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
    return connection_full(
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
    refuse_unsupported(body)
    set_override, override = webhook_url_override_of(body)
    connection = await _get(service, connection_id, provider_config_key)
    if body.credentials is not None:
        await blocking(
            service.connections.update_credentials,
            connection.integration_id,
            connection.connection_id,
            body.credentials,
        )
        await _record_change(
            service, connection.integration_id, connection.connection_id, "credentials replaced"
        )
    if set_override:
        await blocking(
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
        await blocking(service.connections.delete, integration_id, connection_id)
    await _record_change(service, integration_id, connection_id, "deleted")
    return Success(success=True)
