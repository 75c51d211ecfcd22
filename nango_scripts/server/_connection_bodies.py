"""The bodies of ``/connections``: what a request sends, what an answer holds, and
turning a stored connection into Nango's shape (credentials shown as Nango shows them).

The routes that use them are in ``_connections.py``.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from nango_scripts.engine import Service, shown_url
from nango_scripts.server._common import iso
from nango_scripts.server._errors import ApiError
from nango_scripts.store import Connection, ConnectionSummary

__all__ = [
    "ConnectionFull",
    "ConnectionItem",
    "ConnectionList",
    "CreateConnection",
    "MetadataBody",
    "MetadataOf",
    "PatchConnection",
    "Success",
    "connection_full",
    "connection_item",
    "refuse_unsupported",
    "webhook_url_override_of",
]

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


def connection_item(service: Service, s: ConnectionSummary) -> ConnectionItem:
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


def connection_full(
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


def refuse_unsupported(body: BaseModel) -> None:
    for name in _UNSUPPORTED:
        if getattr(body, name, None):
            raise ApiError(
                400,
                "invalid_body",
                f"{name} is not supported by nango-scripts (leave it out or empty).",
            )


def webhook_url_override_of(body: BaseModel) -> tuple[bool, str | None]:
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
