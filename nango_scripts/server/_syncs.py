"""The sync routes over the scheduler: trigger, start, pause, status, frequency."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from nango_scripts.dsl import FrequencyError, SyncSpec, parse_frequency
from nango_scripts.engine import Service
from nango_scripts.server._common import (
    ServiceDep,
    find_summary,
    iso,
    require_integration,
)
from nango_scripts.server._errors import ERROR_RESPONSES, ApiError
from nango_scripts.store import RecordScope, ScheduleKey, blocking

__all__ = ["refuse_disabled", "router"]

router = APIRouter(tags=["syncs"], responses=ERROR_RESPONSES)

SyncStatusName = Literal["RUNNING", "SUCCESS", "ERROR", "PAUSED", "STOPPED"]
_EXECUTION_STATUS = {
    "running": "RUNNING",
    "success": "SUCCESS",
    "failed": "ERROR",
    "cancelled": "STOPPED",
}


class SyncRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    variant: str | None = None


class TriggerOpts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reset: bool = Field(default=False, description="Full resync: forget last_sync_date")
    emptyCache: bool = Field(default=False, description="Also delete the stored records")


class TriggerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    syncs: list[str | SyncRef] = Field(default_factory=list, description="[] means all syncs")
    provider_config_key: str | None = None
    connection_id: str | None = None
    opts: TriggerOpts | None = None
    sync_mode: Literal["incremental", "full_refresh", "full_refresh_and_clear_cache"] | None = None
    full_resync: bool | None = None


class SyncsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    syncs: list[str | SyncRef] = Field(min_length=1, max_length=256)
    provider_config_key: str = Field(min_length=1)
    connection_id: str | None = None


class FrequencyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sync_name: str = Field(min_length=1)
    sync_variant: str | None = None
    provider_config_key: str = Field(min_length=1)
    connection_id: str = Field(min_length=1)
    frequency: str | None = Field(description="A phrase like 'every 2 hours'; null: the script's")


class Success(BaseModel):
    success: bool


class FrequencyResult(BaseModel):
    frequency: str


class ModelResult(BaseModel):
    added: int = 0
    updated: int = 0
    deleted: int = 0


class SyncStatus(BaseModel):
    id: str
    connection_id: str
    name: str
    variant: str
    status: SyncStatusName
    type: Literal["INITIAL", "INCREMENTAL"]
    finishedAt: str | None
    nextScheduledSyncAt: str | None
    frequency: str | None
    latestResult: dict[str, ModelResult]
    latestExecutionStatus: str | None
    recordCount: dict[str, int]
    checkpoint: dict[str, Any] | None


class SyncStatuses(BaseModel):
    syncs: list[SyncStatus]


def _name_of(item: str | SyncRef) -> tuple[str, str | None]:
    if isinstance(item, SyncRef):
        return item.name, item.variant
    name, _, variant = item.partition("::")
    return name, variant or None


def _resolve_syncs(
    service: Service, integration_id: str, items: list[str | SyncRef]
) -> list[SyncSpec]:
    """The syncs named (all of the integration's for an empty list); 400 for unknown ones."""
    specs = {s.name: s for s in service.syncs(integration_id)}
    if not specs:
        raise ApiError(400, "no_syncs_found", f"Integration '{integration_id}' has no syncs.")
    if not items:
        return list(specs.values())
    chosen: list[SyncSpec] = []
    unknown: list[str] = []
    for item in items:
        name, variant = _name_of(item)
        if name not in specs or variant not in (None, "base"):
            unknown.append(name if variant in (None, "base") else f"{name}::{variant}")
        elif specs[name] not in chosen:
            chosen.append(specs[name])
    if unknown:
        raise ApiError(
            400,
            "unknown_sync",
            f"Unknown sync(s) {', '.join(unknown)} in integration '{integration_id}'"
            f" (syncs: {', '.join(specs)}; nango-scripts has no variants).",
        )
    return chosen


async def refuse_disabled(service: Service, integration_id: str, specs: list[SyncSpec]) -> None:
    """A sync switched off in the Scripts view runs neither on schedule nor on demand."""
    disabled = await blocking(service.schedules.disabled_syncs, service.environment)
    off = [s.name for s in specs if (integration_id, s.name) in disabled]
    if off:
        raise ApiError(
            400,
            "sync_disabled",
            f"Sync(s) {', '.join(off)} of integration '{integration_id}' are disabled:"
            " switch them on in the Scripts view of the Activity page first.",
        )


async def _connection_ids(
    service: Service, integration_id: str, connection_id: str | None, *, status: int
) -> list[str]:
    if connection_id is not None:
        await find_summary(service, integration_id, connection_id, status=status)
        return [connection_id]
    summaries = await blocking(service.connections.summaries, integration_id)
    return [s.connection_id for s in summaries]


@router.post("/sync/trigger", response_model=Success, summary="Run syncs now")
async def trigger_sync(
    service: ServiceDep,
    body: TriggerBody,
    header_key: Annotated[str | None, Header(alias="Provider-Config-Key")] = None,
    header_connection: Annotated[str | None, Header(alias="Connection-Id")] = None,
) -> Success:
    integration_id = body.provider_config_key or header_key
    if not integration_id:
        raise ApiError(
            400,
            "missing_provider_config_key",
            "provider_config_key is required (in the body or the Provider-Config-Key header).",
        )
    if body.opts is not None and (body.sync_mode is not None or body.full_resync is not None):
        raise ApiError(400, "invalid_body", "Use either opts or sync_mode/full_resync, not both.")
    reset = empty_cache = False
    if body.opts is not None:
        reset, empty_cache = body.opts.reset, body.opts.emptyCache
    elif body.sync_mode is not None:
        reset = body.sync_mode != "incremental"
        empty_cache = body.sync_mode == "full_refresh_and_clear_cache"
    elif body.full_resync:
        reset = True
    require_integration(service, integration_id)
    specs = _resolve_syncs(service, integration_id, body.syncs)
    await refuse_disabled(service, integration_id, specs)
    connection_ids = await _connection_ids(
        service, integration_id, body.connection_id or header_connection, status=404
    )
    for connection_id in connection_ids:
        for spec in specs:
            key = service.scheduler.key(integration_id, connection_id, spec.name)
            await service.scheduler.trigger(key, reset=reset, empty_cache=empty_cache)
    return Success(success=True)


async def _each(service: Service, body: SyncsBody) -> list[ScheduleKey]:
    require_integration(service, body.provider_config_key)
    specs = _resolve_syncs(service, body.provider_config_key, body.syncs)
    connection_ids = await _connection_ids(
        service, body.provider_config_key, body.connection_id, status=404
    )
    return [
        service.scheduler.key(body.provider_config_key, connection_id, spec.name)
        for connection_id in connection_ids
        for spec in specs
    ]


@router.post("/sync/start", response_model=Success, summary="Start (resume) syncs")
async def start_sync(service: ServiceDep, body: SyncsBody) -> Success:
    for key in await _each(service, body):
        await service.scheduler.resume(key)
    return Success(success=True)


@router.post("/sync/pause", response_model=Success, summary="Pause syncs")
async def pause_sync(service: ServiceDep, body: SyncsBody) -> Success:
    for key in await _each(service, body):
        await service.scheduler.pause(key)
    return Success(success=True)


def _status(service: Service, key: ScheduleKey, spec: SyncSpec) -> SyncStatus:
    """One (connection, sync): read from the database (called in a worker thread)."""
    schedule = service.schedules.get(key)
    last = service.schedules.latest_run(key)
    finished = service.schedules.latest_run(key, finished=True)
    enabled = service.schedules.is_enabled(key.environment, key.integration_id, key.sync_name)
    status: SyncStatusName
    if service.scheduler.is_running(key):
        status = "RUNNING"
    elif schedule is None or not enabled:
        status = "STOPPED"
    elif schedule.status == "PAUSED":
        status = "PAUSED"
    elif finished is None or finished.status == "success":
        status = "SUCCESS"
    else:
        status = "ERROR"
    scope = RecordScope(key.environment, key.integration_id, key.connection_id)
    latest: dict[str, ModelResult] = {}
    if finished is not None and finished.result:
        for model, counts in finished.result.items():
            latest[model] = ModelResult(
                added=int(counts.get("added", 0)),
                updated=int(counts.get("updated", 0)),
                deleted=int(counts.get("deleted", 0)),
            )
    return SyncStatus(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, "nango-scripts:" + "/".join(key.values()))),
        connection_id=key.connection_id,
        name=key.sync_name,
        variant="base",
        status=status,
        type="INCREMENTAL" if last is not None and last.run_type == "INCREMENTAL" else "INITIAL",
        finishedAt=iso(finished.finished_at) if finished is not None else None,
        nextScheduledSyncAt=(
            iso(schedule.next_run_at) if schedule is not None and enabled else None
        ),
        frequency=(schedule.frequency_override if schedule is not None else None) or spec.frequency,
        latestResult=latest,
        latestExecutionStatus=_EXECUTION_STATUS.get(last.status) if last is not None else None,
        recordCount={
            m.__name__: service.records.count_records(scope, m.__name__)["live"]
            for m in spec.models
        },
        checkpoint=service.records.get_checkpoint(scope, key.sync_name),
    )


@router.get("/sync/status", response_model=SyncStatuses, summary="Status of syncs")
async def sync_status(
    service: ServiceDep,
    syncs: Annotated[str, Query(min_length=1, description="Comma-separated names, or *")],
    provider_config_key: Annotated[str, Query(min_length=1)],
    connection_id: Annotated[str | None, Query(min_length=1)] = None,
) -> SyncStatuses:
    require_integration(service, provider_config_key)
    specs = service.syncs(provider_config_key)
    if syncs.strip() != "*":
        wanted = {_name_of(part.strip())[0] for part in syncs.split(",") if part.strip()}
        specs = [s for s in specs if s.name in wanted]  # unknown names are skipped, as Nango does
    connection_ids = await _connection_ids(service, provider_config_key, connection_id, status=400)
    entries: list[SyncStatus] = []
    for cid in connection_ids:
        for spec in specs:
            key = service.scheduler.key(provider_config_key, cid, spec.name)
            entries.append(await blocking(_status, service, key, spec))
    return SyncStatuses(syncs=entries)


@router.put(
    "/sync/update-connection-frequency",
    response_model=FrequencyResult,
    summary="Override a sync's frequency for one connection",
)
async def update_frequency(service: ServiceDep, body: FrequencyBody) -> FrequencyResult:
    require_integration(service, body.provider_config_key)
    await find_summary(service, body.provider_config_key, body.connection_id)
    ref: list[str | SyncRef] = [SyncRef(name=body.sync_name, variant=body.sync_variant)]
    spec = _resolve_syncs(service, body.provider_config_key, ref)[0]
    if body.frequency is not None:
        try:
            parse_frequency(body.frequency)
        except FrequencyError as exc:
            raise ApiError(400, "invalid_body", f"Sync interval is invalid: {exc}") from None
    key = service.scheduler.key(body.provider_config_key, body.connection_id, spec.name)
    await service.scheduler.update_frequency(key, body.frequency)
    return FrequencyResult(frequency=body.frequency or spec.frequency)
