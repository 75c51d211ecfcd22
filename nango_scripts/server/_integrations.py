"""``/integrations``: read from nango.toml. Writing answers 400: integrations are
configured in nango.toml (``[integrations.<key>]``), not through the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel

from nango_scripts.engine import Service
from nango_scripts.providers import ProviderConfig
from nango_scripts.server._common import ServiceDep, iso
from nango_scripts.server._errors import ERROR_RESPONSES, ApiError

__all__ = ["router"]

router = APIRouter(tags=["integrations"], responses=ERROR_RESPONSES)


class Integration(BaseModel):
    unique_key: str
    provider: str
    display_name: str
    logo: str
    forward_webhooks: bool
    created_at: str
    updated_at: str
    webhook_url: str | None = None
    credentials: dict[str, Any] | None = None


class IntegrationList(BaseModel):
    data: list[Integration]


class IntegrationOne(BaseModel):
    data: Integration


def _configured_at(service: Service) -> str:
    path = service.settings.config_path
    moment = (
        datetime.fromtimestamp(path.stat().st_mtime, UTC)
        if path is not None and path.exists()
        else datetime.now(UTC)
    )
    return iso(moment) or ""


def _integration(service: Service, key: str, provider: ProviderConfig) -> Integration:
    when = _configured_at(service)
    return Integration(
        unique_key=key,
        provider=provider.name,
        display_name=provider.name.replace("-", " ").replace("_", " ").title(),
        logo=f"https://app.nango.dev/images/template-logos/{provider.name}.svg",
        forward_webhooks=False,
        created_at=when,
        updated_at=when,
    )


def _read_only(key: str | None = None) -> ApiError:
    where = f"[integrations.{key}]" if key else "[integrations.<key>]"
    return ApiError(
        400,
        "integrations_read_only",
        f"Integrations are configured in nango.toml ({where}), not through the API:"
        " edit nango.toml and restart the service.",
    )


@router.get("/integrations", response_model=IntegrationList, summary="List integrations")
async def list_integrations(service: ServiceDep) -> IntegrationList:
    items = service.settings.integrations
    return IntegrationList(data=[_integration(service, k, p) for k, p in sorted(items.items())])


@router.get("/integrations/{key}", response_model=IntegrationOne, summary="One integration")
async def get_integration(
    service: ServiceDep,
    key: Annotated[str, Path(description="The integration id (unique key)")],
    include: Annotated[str | None, Query(description="webhook, credentials")] = None,
) -> IntegrationOne:
    provider = service.settings.integrations.get(key)
    if provider is None:
        known = ", ".join(sorted(service.settings.integrations)) or "none"
        raise ApiError(
            404, "not_found", f"No integration '{key}' in nango.toml (configured: {known})."
        )
    item = _integration(service, key, provider)
    wanted = {part.strip() for part in (include or "").split(",")}
    if "webhook" in wanted:
        item.webhook_url = None  # no provider webhooks are received here
    if "credentials" in wanted:
        item.credentials = None  # OAuth app credentials live in the connections
    return IntegrationOne(data=item)


@router.post("/integrations", summary="Not here: integrations are configured in nango.toml")
async def create_integration(body: Annotated[Any, Body()] = None) -> None:
    raise _read_only()


@router.patch("/integrations/{key}", summary="Not here: integrations are configured in nango.toml")
async def update_integration(key: str, body: Annotated[Any, Body()] = None) -> None:
    raise _read_only(key)


@router.delete("/integrations/{key}", summary="Not here: integrations are configured in nango.toml")
async def delete_integration(key: str) -> None:
    raise _read_only(key)
