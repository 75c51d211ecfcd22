"""``GET /logs``: the operations of the Activity log, newest first, filtered and paged;
``GET /logs/{id}``: one operation with its messages.

Filters (all optional, combined with AND): ``state`` and ``type`` (comma-separated or
repeated), ``integration`` (or ``provider_config_key``), ``connection`` (or
``connection_id``), ``script``, ``from`` (inclusive) and ``to`` (exclusive) on the start
time, ISO 8601. ``limit`` 1..500 (50); ``cursor`` is the previous page's ``next_cursor``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from nango_scripts.server._common import ServiceDep, iso
from nango_scripts.server._errors import ERROR_RESPONSES, ApiError, FieldError
from nango_scripts.store import (
    OPERATION_STATES,
    OPERATION_TYPES,
    ActivityMessage,
    Operation,
    OperationPage,
    blocking,
)

__all__ = ["router"]

router = APIRouter(tags=["logs"], responses=ERROR_RESPONSES)


class MessageOut(BaseModel):
    at: str
    level: str = Field(description="debug, info, warning or error")
    message: str
    fields: dict[str, Any]


class OperationOut(BaseModel):
    id: str
    type: str = Field(description=", ".join(OPERATION_TYPES))
    state: str = Field(description=", ".join(OPERATION_STATES))
    integration_id: str | None
    connection_id: str | None
    script: str | None
    title: str
    started_at: str
    finished_at: str | None
    duration_ms: float | None
    error: str | None
    result: dict[str, Any] | None


class OperationDetail(OperationOut):
    messages: list[MessageOut]


class OperationList(BaseModel):
    operations: list[OperationOut]
    next_cursor: str | None = Field(description="Pass it as cursor for the next (older) page")


def _out(operation: Operation) -> dict[str, Any]:
    return {
        "id": operation.id,
        "type": operation.type,
        "state": operation.state,
        "integration_id": operation.integration_id,
        "connection_id": operation.connection_id,
        "script": operation.script,
        "title": operation.title,
        "started_at": iso(operation.started_at) or "",
        "finished_at": iso(operation.finished_at),
        "duration_ms": operation.duration_ms,
        "error": operation.error,
        "result": operation.result,
    }


def _message(message: ActivityMessage) -> MessageOut:
    return MessageOut(
        at=iso(message.at) or "",
        level=message.level,
        message=message.message,
        fields=message.fields,
    )


def _bad(name: str, message: str) -> ApiError:
    return ApiError(
        400,
        "invalid_query_params",
        f"{name}: {message}",
        errors=[FieldError(code="invalid", message=f"{name}: {message}", path=[name])],
    )


def _choices(name: str, raw: list[str] | None, allowed: tuple[str, ...]) -> list[str] | None:
    if raw is None:
        return None
    chosen = [v.strip() for item in raw for v in item.split(",") if v.strip()]
    for value in chosen:
        if value not in allowed:
            raise _bad(name, f"{value!r} is not one of {', '.join(allowed)}.")
    return chosen or None


def _moment(name: str, raw: str | None) -> datetime | None:
    if raw is None or not raw.strip():
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _bad(
            name, f"{raw!r} is not an ISO 8601 date, such as 2024-05-01T12:00:00Z."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _one_of(name: str, first: str | None, alias: str, second: str | None) -> str | None:
    if first is not None and second is not None and first != second:
        raise _bad(name, f"{name} and {alias} differ; pass one of them.")
    value = first if first is not None else second
    return value or None


@router.get(
    "/logs",
    response_model=OperationList,
    summary="Operations of the Activity log, newest first",
)
async def list_logs(
    service: ServiceDep,
    state: Annotated[
        list[str] | None,
        Query(description="Comma-separated or repeated: " + ", ".join(OPERATION_STATES)),
    ] = None,
    type: Annotated[
        list[str] | None,
        Query(description="Comma-separated or repeated: " + ", ".join(OPERATION_TYPES)),
    ] = None,
    integration: Annotated[str | None, Query(description="The integration id")] = None,
    provider_config_key: Annotated[str | None, Query(description="Same as integration")] = None,
    connection: Annotated[str | None, Query(description="The connection id")] = None,
    connection_id: Annotated[str | None, Query(description="Same as connection")] = None,
    script: Annotated[str | None, Query(description="A sync or action name")] = None,
    from_: Annotated[
        str | None, Query(alias="from", description="Started at or after (ISO 8601)")
    ] = None,
    to: Annotated[str | None, Query(description="Started before (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> OperationList:
    states = _choices("state", state, OPERATION_STATES)
    types = _choices("type", type, OPERATION_TYPES)
    integration_id = _one_of("integration", integration, "provider_config_key", provider_config_key)
    connection_value = _one_of("connection", connection, "connection_id", connection_id)
    since, until = _moment("from", from_), _moment("to", to)
    store = service.activity.store
    if store is None:
        return OperationList(operations=[], next_cursor=None)
    page: OperationPage = await blocking(
        store.list_operations,
        service.environment,
        states=states,
        integration_id=integration_id,
        connection_id=connection_value,
        script=script or None,
        types=types,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor or None,
    )
    return OperationList(
        operations=[OperationOut(**_out(o)) for o in page.operations],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/logs/{operation_id}",
    response_model=OperationDetail,
    summary="One operation of the Activity log, with its messages",
)
async def get_log(
    service: ServiceDep,
    operation_id: Annotated[str, Path(description="The id of an operation")],
) -> OperationDetail:
    store = service.activity.store
    operation = None if store is None else await blocking(store.get_operation, operation_id)
    if operation is None or operation.environment != service.environment:
        raise ApiError(404, "not_found", f"No operation '{operation_id}' in the Activity log.")
    return OperationDetail(**_out(operation), messages=[_message(m) for m in operation.messages])
