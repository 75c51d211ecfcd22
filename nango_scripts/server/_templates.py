"""The template library over HTTP: what exists, what an integration has enabled, toggles.

- ``GET /templates[?provider=P]``: every template of the installed packs;
- ``GET /integrations/{key}/templates``: the templates of the integration's provider,
  each with ``enabled``, where it is enabled (``source``) and the project script that
  overrides it (``overridden_by``);
- ``POST /integrations/{key}/templates/enable`` and ``/disable`` with
  ``{"names": [...]}``: all of them or none (a 400 names what exists); applied at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from nango_scripts.dsl import TemplateLibrary, load_library
from nango_scripts.engine import Service, TemplateRow, describe, template_rows
from nango_scripts.errors import TemplateError
from nango_scripts.server._common import ServiceDep
from nango_scripts.server._errors import ERROR_RESPONSES, ApiError
from nango_scripts.store import blocking

__all__ = ["router"]

router = APIRouter(tags=["templates"], responses=ERROR_RESPONSES)


class Template(BaseModel):
    provider: str
    name: str
    kind: str
    description: str
    version: str
    scopes: list[str]
    pack: str | None
    pack_version: str | None
    models: list[str]
    endpoints: list[str] = Field(default_factory=list, description="Where it is served")
    frequency: str | None = None
    sync_type: str | None = None
    track_deletes: bool | None = None
    auto_start: bool | None = None
    metadata: list[str] = Field(default_factory=list, description="Connection metadata fields")
    input: str | None = None
    output: str | None = None


class TemplateList(BaseModel):
    data: list[Template]
    clashes: list[str]


class IntegrationTemplate(Template):
    enabled: bool
    source: str | None = Field(description="nango.toml, database, or both, when enabled")
    overridden_by: str | None = Field(description="The project script that replaces it")


class IntegrationTemplates(BaseModel):
    providerConfigKey: str
    provider: str
    data: list[IntegrationTemplate]


class TemplateNames(BaseModel):
    names: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=100, description="Template names of the integration's provider"
    )


async def _library() -> TemplateLibrary:
    return await blocking(load_library)


def _row(row: TemplateRow) -> IntegrationTemplate:
    return IntegrationTemplate(
        **describe(row.spec),
        enabled=row.enabled,
        source=row.source,
        overridden_by=row.overridden_by,
    )


async def _integration_templates(service: Service, key: str) -> IntegrationTemplates:
    provider = service.settings.integrations.get(key)
    if provider is None:
        known = ", ".join(sorted(service.settings.integrations)) or "none"
        raise ApiError(404, "not_found", f"No integration '{key}' (configured: {known}).")
    library = await _library()
    rows = template_rows(service.settings, service.project, service.templates_enabled, key, library)
    return IntegrationTemplates(
        providerConfigKey=key, provider=provider.name, data=[_row(r) for r in rows]
    )


@router.get("/templates", response_model=TemplateList, summary="Every template of the packs")
async def list_templates(
    provider: Annotated[str | None, Query(description="Only this provider's")] = None,
) -> TemplateList:
    library = await _library()
    specs = library.for_provider(provider) if provider else list(library.templates)
    data: list[dict[str, Any]] = [describe(s) for s in specs]
    return TemplateList(data=[Template(**d) for d in data], clashes=list(library.clashes))


@router.get(
    "/integrations/{key}/templates",
    response_model=IntegrationTemplates,
    summary="The templates of an integration's provider, enabled or not",
)
async def integration_templates(
    service: ServiceDep,
    key: Annotated[str, Path(description="The integration id (unique key)")],
) -> IntegrationTemplates:
    return await _integration_templates(service, key)


async def _toggle(
    service: Service, key: str, names: list[str], enabled: bool
) -> IntegrationTemplates:
    if key not in service.settings.integrations:
        return await _integration_templates(service, key)  # the 404
    try:
        await service.set_templates(key, names, enabled=enabled)
    except TemplateError as exc:
        raise ApiError(400, "unknown_template", str(exc).replace("\n", " ")) from None
    return await _integration_templates(service, key)


@router.post(
    "/integrations/{key}/templates/enable",
    response_model=IntegrationTemplates,
    summary="Enable templates for an integration (all or none)",
)
async def enable_templates(
    service: ServiceDep,
    key: Annotated[str, Path(description="The integration id (unique key)")],
    body: TemplateNames,
) -> IntegrationTemplates:
    """Their syncs are scheduled for every connection of the integration at once
    (``auto_start`` permitting), exactly like the project's own syncs."""
    return await _toggle(service, key, body.names, True)


@router.post(
    "/integrations/{key}/templates/disable",
    response_model=IntegrationTemplates,
    summary="Disable templates of an integration (records are kept)",
)
async def disable_templates(
    service: ServiceDep,
    key: Annotated[str, Path(description="The integration id (unique key)")],
    body: TemplateNames,
) -> IntegrationTemplates:
    return await _toggle(service, key, body.names, False)
