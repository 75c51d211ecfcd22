"""``GET /records`` (and ``/records/``, as Nango's Node client calls it) and
``PATCH /records/prune``."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from nango_scripts.server._common import (
    ConnectionIdHeader,
    ProviderConfigKeyHeader,
    ServiceDep,
    find_summary,
)
from nango_scripts.server._errors import ERROR_RESPONSES, ApiError, FieldError
from nango_scripts.server._read_ahead import ReadAhead, RenderedPage
from nango_scripts.store import (
    RECORD_IDS_MAX,
    RECORDS_LIMIT_DEFAULT,
    RECORDS_LIMIT_MAX,
    RecordQuery,
    RecordScope,
    SqlRecordStore,
    blocking,
)

__all__ = ["router"]

router = APIRouter(tags=["records"], responses=ERROR_RESPONSES)


class RecordsPage(BaseModel):
    records: list[dict[str, Any]] = Field(
        description="Records, oldest change first; each has its _nango_metadata"
    )
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end")


class PruneBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    until_cursor: str = Field(min_length=1, max_length=1000)
    variant: str | None = None
    limit: int | None = Field(default=None, ge=1, le=RECORDS_LIMIT_MAX)


class PruneResult(BaseModel):
    count: int
    has_more: bool


def _check_variant(variant: str | None) -> None:
    if variant not in (None, "", "base"):
        raise ApiError(
            400,
            "invalid_query_params",
            f"variant '{variant}' does not exist: nango-scripts has no sync variants (use base).",
        )


async def _check_model(service: ServiceDep, scope: RecordScope, model: str) -> None:
    """A model no sync of the integration declares, and of which nothing is stored, is a typo."""
    declared = sorted({m.__name__ for s in service.syncs(scope.integration_id) for m in s.models})
    if model in declared:
        return
    if await blocking(service.records.has_records, scope, model):
        return  # records of a script that is gone (or broken right now) stay readable
    shown = ", ".join(declared) or "none"
    message = (
        f"model '{model}' is not a model of the syncs of integration"
        f" '{scope.integration_id}' (models: {shown})."
    )
    raise ApiError(
        400,
        "invalid_query_params",
        message,
        errors=[FieldError(code="unknown_model", message=message, path=["model"])],
    )


def _render(records: SqlRecordStore, query: RecordQuery) -> tuple[bytes, str | None]:
    """``{"records": [...], "next_cursor": ...}`` from records that are JSON already."""
    page = records.list_records_json(query)
    parts = page.records
    head, tail = b'{"records":[', b'],"next_cursor":' + orjson.dumps(page.next_cursor) + b"}"
    if not parts:
        return head + tail, page.next_cursor
    # One join, one copy of the page: a megabyte-sized copy costs as much as the splice.
    parts[0] = head + parts[0]
    parts[-1] += tail
    return b",".join(parts), page.next_cursor


def _render_ahead(records: SqlRecordStore, query: RecordQuery) -> RenderedPage:
    version = records.latest_change(query.scope, query.model)  # before the read
    body, next_cursor = _render(records, query)
    return RenderedPage(body, next_cursor, version)


def _read_ahead(request: Request) -> ReadAhead:
    state = request.app.state
    ahead: ReadAhead | None = getattr(state, "records_read_ahead", None)
    if ahead is None:
        ahead = state.records_read_ahead = ReadAhead()
    return ahead


def _split_ids(ids: list[str] | None) -> list[str] | None:
    if ids is None:
        return None
    wanted = [part.strip() for value in ids for part in value.split(",") if part.strip()]
    if len(wanted) > RECORD_IDS_MAX:
        raise ApiError(
            400,
            "invalid_query_params",
            f"ids: at most {RECORD_IDS_MAX} per request, not {len(wanted)}.",
        )
    return wanted


@router.get("/records", response_model=RecordsPage, summary="List records")
@router.get("/records/", response_model=RecordsPage, include_in_schema=False)
async def list_records(
    request: Request,
    service: ServiceDep,
    connection_id: ConnectionIdHeader,
    provider_config_key: ProviderConfigKeyHeader,
    model: Annotated[str, Query(min_length=1, description="The model name")],
    modified_after: Annotated[
        str | None, Query(description="ISO 8601: records changed at or after this moment")
    ] = None,
    delta: Annotated[str | None, Query(description="Deprecated name of modified_after")] = None,
    limit: Annotated[int, Query(ge=1, le=RECORDS_LIMIT_MAX)] = RECORDS_LIMIT_DEFAULT,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1000)] = None,
    filter: Annotated[
        str | None, Query(description="added, updated, deleted; comma-combined")
    ] = None,
    ids: Annotated[
        list[str] | None, Query(description="Record ids: repeated and/or comma-separated")
    ] = None,
    variant: Annotated[str | None, Query()] = None,
) -> Response:
    _check_variant(variant)
    connection = await find_summary(service, provider_config_key, connection_id)
    scope = RecordScope(service.environment, connection.integration_id, connection.connection_id)
    await _check_model(service, scope, model)
    wanted = _split_ids(ids)
    query = RecordQuery(
        scope,
        model,
        modified_after=modified_after or delta or None,
        limit=limit,
        cursor=cursor or None,
        filter=filter or None,
        ids=None if wanted is None else tuple(wanted),
    )
    records = service.records
    ahead = _read_ahead(request)
    page = await ahead.take(query, lambda: records.latest_change(scope, model))
    if page is not None:
        body, next_cursor = page.body, page.next_cursor
    else:
        # Read and joined in one worker thread, off the event loop.
        body, next_cursor = await blocking(_render, records, query)
    if next_cursor is not None:
        following = query.after(next_cursor)
        ahead.start(following, lambda: _render_ahead(records, following))
    # Declared as RecordsPage for the schema; the records go out as stored (up to 10,000
    # of them: neither decoded, nor encoded, nor validated again).
    return Response(body, media_type="application/json")


@router.patch("/records/prune", response_model=PruneResult, summary="Prune records' data")
async def prune_records(
    request: Request,
    service: ServiceDep,
    connection_id: ConnectionIdHeader,
    provider_config_key: ProviderConfigKeyHeader,
    body: PruneBody,
) -> PruneResult:
    _check_variant(body.variant)
    connection = await find_summary(service, provider_config_key, connection_id)
    scope = RecordScope(service.environment, connection.integration_id, connection.connection_id)
    await _check_model(service, scope, body.model)
    count = await blocking(
        service.records.prune_records, scope, body.model, until_cursor=body.until_cursor
    )
    _read_ahead(request).forget(scope, body.model)
    return PruneResult(count=count, has_more=False)
