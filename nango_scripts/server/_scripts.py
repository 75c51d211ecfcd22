"""``GET /scripts/config``: the project's syncs and actions per integration, in Nango's
``StandardNangoConfig`` shape (``format=nango``, a bare array) or as OpenAI function
definitions of the actions (``format=openai``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from nango_scripts.dsl import ActionSpec, ScriptSpec, SyncSpec
from nango_scripts.engine import Service
from nango_scripts.server._common import ServiceDep, iso
from nango_scripts.server._errors import ERROR_RESPONSES
from nango_scripts.store import blocking

__all__ = ["router"]

router = APIRouter(tags=["scripts"], responses=ERROR_RESPONSES)


class Endpoint(BaseModel):
    method: str
    path: str
    group: str | None = None


class ScriptConfig(BaseModel):
    name: str
    type: Literal["sync", "action"]
    runs: str | None
    auto_start: bool | None
    track_deletes: bool | None
    sync_type: str | None
    description: str
    scopes: list[str]
    returns: list[str]
    endpoints: list[Endpoint]
    input: str | None
    version: str
    last_deployed: str | None
    enabled: bool
    webhookSubscriptions: list[str]
    json_schema: dict[str, Any] | None
    sdk_version: str | None
    features: list[str]
    attributes: dict[str, Any]
    metadata: dict[str, Any]


class IntegrationScripts(BaseModel):
    providerConfigKey: str
    provider: str
    syncs: list[ScriptConfig]
    actions: list[ScriptConfig]
    on_events: list[Any] = Field(alias="on-events", serialization_alias="on-events")


class OpenAIParameters(BaseModel):
    type: Literal["object"] = "object"
    properties: dict[str, dict[str, Any]]
    required: list[str]


class OpenAIFunction(BaseModel):
    name: str
    description: str
    parameters: OpenAIParameters


class OpenAIFunctions(BaseModel):
    data: list[OpenAIFunction]


def _definitions(models: list[type[BaseModel]]) -> dict[str, Any]:
    definitions: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/definitions/{model}")
        for name, nested in schema.pop("$defs", {}).items():
            definitions.setdefault(name, nested)
        definitions[model.__name__] = schema
    return {"definitions": definitions}


def _config(spec: ScriptSpec, deployed: str | None, enabled: bool = True) -> ScriptConfig:
    if isinstance(spec, SyncSpec):
        models = list(spec.models)
        return ScriptConfig(
            name=spec.name,
            type="sync",
            runs=spec.frequency,
            auto_start=spec.auto_start,
            track_deletes=spec.track_deletes,
            sync_type=spec.sync_type,
            description=spec.description,
            scopes=list(spec.scopes),
            returns=[m.__name__ for m in models],
            endpoints=[Endpoint(**e.to_json()) for e in spec.endpoints],
            input=spec.metadata.__name__ if spec.metadata is not None else None,
            version=spec.version,
            last_deployed=deployed,
            enabled=enabled,
            webhookSubscriptions=[],
            json_schema=_definitions(
                models + ([spec.metadata] if spec.metadata is not None else [])
            ),
            sdk_version=None,
            features=["checkpoints"],
            attributes={},
            metadata={},
        )
    action_models = [m for m in (spec.input, spec.output) if m is not None]
    return ScriptConfig(
        name=spec.name,
        type="action",
        runs=None,
        auto_start=None,
        track_deletes=None,
        sync_type=None,
        description=spec.description,
        scopes=list(spec.scopes),
        returns=[spec.output.__name__] if spec.output is not None else [],
        endpoints=[Endpoint(**e.to_json()) for e in spec.endpoints],
        input=spec.input.__name__ if spec.input is not None else None,
        version=spec.version,
        last_deployed=deployed,
        enabled=True,
        webhookSubscriptions=[],
        json_schema=_definitions(action_models),
        sdk_version=None,
        features=[],
        attributes={},
        metadata={},
    )


def _integrations(service: Service) -> list[IntegrationScripts]:
    """Reads the sync toggles: call it in a worker thread."""
    deployed = iso(service.scripts_loaded_at)  # when the scripts were (re)loaded
    disabled = service.schedules.disabled_syncs(service.environment)
    grouped: dict[str, list[ScriptSpec]] = {}
    for spec in service.project.scripts:
        grouped.setdefault(str(spec.integration), []).append(spec)
    out = []
    for integration_id in sorted(grouped):
        provider = service.settings.integrations.get(integration_id)
        specs = grouped[integration_id]
        out.append(
            IntegrationScripts.model_validate(
                {
                    "providerConfigKey": integration_id,
                    "provider": provider.name if provider is not None else integration_id,
                    "syncs": [
                        _config(s, deployed, (integration_id, s.name) not in disabled)
                        for s in specs
                        if isinstance(s, SyncSpec)
                    ],
                    "actions": [_config(s, deployed) for s in specs if isinstance(s, ActionSpec)],
                    "on-events": [],
                }
            )
        )
    return out


def _openai(service: Service) -> list[OpenAIFunction]:
    functions = []
    for spec in service.project.scripts:
        if not isinstance(spec, ActionSpec):
            continue
        properties: dict[str, dict[str, Any]] = {}
        required: list[str] = []
        if spec.input is not None:
            schema = spec.input.model_json_schema()
            for name, field in (schema.get("properties") or {}).items():
                properties[name] = {
                    "type": field.get("type", "string"),
                    "description": field.get("description", field.get("title", name)),
                }
            required = list(schema.get("required") or [])
        functions.append(
            OpenAIFunction(
                name=spec.name,
                description=spec.description,
                parameters=OpenAIParameters(properties=properties, required=required),
            )
        )
    return functions


@router.get(
    "/scripts/config",
    response_model=list[IntegrationScripts] | OpenAIFunctions,
    summary="Syncs and actions per integration",
)
async def scripts_config(
    service: ServiceDep,
    format: Annotated[Literal["nango", "openai"], Query()] = "nango",
) -> JSONResponse:
    if format == "openai":
        return JSONResponse(OpenAIFunctions(data=_openai(service)).model_dump(mode="json"))
    integrations = await blocking(_integrations, service)
    return JSONResponse([i.model_dump(mode="json", by_alias=True) for i in integrations])
