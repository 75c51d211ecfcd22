"""What the resource modules share: the service, connection lookup, headers, dates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request

from nango_scripts._iso_time import iso_millis
from nango_scripts.engine import Service
from nango_scripts.errors import ConnectionNotFoundError
from nango_scripts.providers import ProviderConfig
from nango_scripts.server._errors import ApiError
from nango_scripts.store import Connection, ConnectionSummary, blocking

__all__ = [
    "ConnectionIdHeader",
    "ProviderConfigKeyHeader",
    "ServiceDep",
    "find_connection",
    "find_summary",
    "get_service",
    "iso",
    "require_integration",
]


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def _service_dependency(request: Request) -> Service:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a hop per request
    return get_service(request)


ServiceDep = Annotated[Service, Depends(_service_dependency)]
ConnectionIdHeader = Annotated[
    str, Header(alias="Connection-Id", description="The connection id", min_length=1)
]
ProviderConfigKeyHeader = Annotated[
    str,
    Header(alias="Provider-Config-Key", description="The integration id", min_length=1),
]


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds and ``Z``, as Nango writes dates."""
    return None if moment is None else iso_millis(moment)


def require_integration(service: Service, integration_id: str) -> ProviderConfig:
    """The integration's provider; 400 ``unknown_provider_config`` naming the integration
    when nango.toml does not define it (the one answer of every route that names one)."""
    provider = service.settings.integrations.get(integration_id)
    if provider is None:
        known = ", ".join(sorted(service.settings.integrations)) or "none"
        raise ApiError(
            400,
            "unknown_provider_config",
            f"No integration '{integration_id}' in nango.toml (configured: {known}).",
        )
    return provider


async def find_connection(
    service: Service, integration_id: str, connection_id: str, *, status: int = 400
) -> Connection:
    """The connection of a configured integration (else :func:`require_integration`'s 400),
    or Nango's ``unknown_connection`` with ``status`` (400 or 404)."""
    require_integration(service, integration_id)
    try:
        return await blocking(service.connections.get, integration_id, connection_id)
    except ConnectionNotFoundError:
        raise ApiError(
            status,
            "unknown_connection",
            f"No connection '{connection_id}' for integration '{integration_id}'.",
        ) from None


async def find_summary(
    service: Service, integration_id: str, connection_id: str, *, status: int = 400
) -> ConnectionSummary:
    """As :func:`find_connection`, without reading (nor decrypting) the credentials."""
    require_integration(service, integration_id)
    try:
        return await blocking(service.connections.get_summary, integration_id, connection_id)
    except ConnectionNotFoundError:
        raise ApiError(
            status,
            "unknown_connection",
            f"No connection '{connection_id}' for integration '{integration_id}'.",
        ) from None
