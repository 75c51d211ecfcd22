"""The Activity page's operations: the list at ``/`` (filters in the query string, paged,
kept live by a fragment the page's script polls) and each operation at
``/activity/{id}`` with its messages.

It shows what ``GET /logs`` shows, read from the same store: messages, errors and
results were stripped of secrets when they were recorded. Without a session, each of
these answers the login form (the fragments answer 401).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from nango_scripts.engine import Service
from nango_scripts.errors import RecordQueryError
from nango_scripts.server._common import get_service
from nango_scripts.server._page_login import current_session, login_page
from nango_scripts.server._page_render import PAGE_HEADERS, render
from nango_scripts.server._session import PageSession
from nango_scripts.store import (
    OPERATION_STATES,
    OPERATION_TYPES,
    Operation,
    OperationPage,
    blocking,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE: Final = 50
_FILTERS: Final = ("state", "type", "integration", "connection", "script")
_OPEN_STATES: Final = ("waiting", "running")


@dataclass(frozen=True)
class Filters:
    values: dict[str, str]
    """The filters as typed (non-empty ones), to fill the form and build links."""
    states: list[str] | None
    types: list[str] | None
    cursor: str | None
    limit: int
    problem: str | None

    def query(self, **extra: str | None) -> str:
        items = {**self.values, **{k: v for k, v in extra.items() if v}}
        return urlencode(items)


def _choices(name: str, raw: str, allowed: tuple[str, ...]) -> tuple[list[str] | None, str | None]:
    chosen = [v.strip() for v in raw.split(",") if v.strip()]
    for value in chosen:
        if value not in allowed:
            return None, f"{name}: {value!r} is not one of {', '.join(allowed)}."
    return chosen or None, None


def _filters(request: Request) -> Filters:
    query = request.query_params
    values = {name: query.get(name, "").strip() for name in _FILTERS}
    values = {name: value for name, value in values.items() if value}
    states, problem = _choices("state", values.get("state", ""), OPERATION_STATES)
    types, type_problem = _choices("type", values.get("type", ""), OPERATION_TYPES)
    problem = problem or type_problem
    limit = PAGE_SIZE
    raw_limit = query.get("limit", "").strip()
    if raw_limit:
        # isdigit() alone lets "²" and 5,000 digits through to int(), which refuses both.
        if (
            raw_limit.isascii()
            and raw_limit.isdigit()
            and len(raw_limit) <= 3
            and 1 <= int(raw_limit) <= 500
        ):
            limit = int(raw_limit)
            values["limit"] = raw_limit
        else:
            shown = raw_limit if len(raw_limit) <= 20 else raw_limit[:20] + "..."
            problem = problem or f"limit: {shown!r} is not a number from 1 to 500."
    return Filters(values, states, types, query.get("cursor") or None, limit, problem)


async def _page(service: Service, filters: Filters) -> tuple[OperationPage, str | None]:
    store = service.activity.store
    if store is None or filters.problem is not None:
        return OperationPage([], None), filters.problem
    try:
        page = await blocking(
            store.list_operations,
            service.environment,
            states=filters.states,
            integration_id=filters.values.get("integration"),
            connection_id=filters.values.get("connection"),
            script=filters.values.get("script"),
            types=filters.types,
            limit=filters.limit,
            cursor=filters.cursor,
        )
    except RecordQueryError as exc:
        return OperationPage([], None), f"cursor: {exc}"
    return page, None


def _list_context(filters: Filters, page: OperationPage) -> dict[str, Any]:
    return {
        "operations": page.operations,
        "older": filters.query(cursor=page.next_cursor) if page.next_cursor else None,
        "newest": filters.query() if filters.cursor else None,
        "fragment": "/fragments/operations?" + filters.query(cursor=filters.cursor),
    }


def _options(service: Service) -> dict[str, Any]:
    """The choices of the filter form (connections: a read without credentials)."""
    scripts = sorted({s.name for s in service.project.scripts})
    connections = sorted({c.connection_id for c in service.connections.summaries()})[:500]
    return {
        "states": OPERATION_STATES,
        "types": OPERATION_TYPES,
        "integrations": sorted(service.settings.integrations),
        "scripts": scripts,
        "connections": connections,
    }


@router.get("/")
async def operations_page(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return login_page(request)
    service = get_service(request)
    filters = _filters(request)
    page, problem = await _page(service, filters)
    options = await blocking(_options, service)
    return render(
        "activity.html.j2",
        400 if problem else 200,
        session=session,
        section="activity",
        filters=filters.values,
        problem=problem,
        **options,
        **_list_context(filters, page),
    )


@router.get("/fragments/operations")
async def operations_fragment(request: Request) -> Response:
    """The list alone, for the page's script to refresh it in place."""
    if current_session(request) is None:
        return _expired()
    filters = _filters(request)
    page, problem = await _page(get_service(request), filters)
    return render(
        "operations.html.j2",
        400 if problem else 200,
        problem=problem,
        **_list_context(filters, page),
    )


def _expired() -> Response:
    return HTMLResponse(
        "<p>Your session has ended: reload the page to log in again.</p>",
        status_code=401,
        headers=PAGE_HEADERS,
    )


async def _operation(service: Service, operation_id: str) -> Operation | None:
    store = service.activity.store
    if store is None or len(operation_id) > 200:
        return None
    operation = await blocking(store.get_operation, operation_id)
    if operation is None or operation.environment != service.environment:
        return None
    return operation


def _detail_context(operation: Operation) -> dict[str, Any]:
    result = dict(operation.result or {})
    models = result.pop("models", None) or {}
    invalid = result.pop("invalid_records", None) or []
    return {
        "operation": operation,
        "open": operation.state in _OPEN_STATES,
        "models": models,
        "invalid_records": invalid,
        "result": result,
    }


@router.get("/activity/{operation_id}")
async def operation_page(request: Request, operation_id: str) -> Response:
    session = current_session(request)
    if session is None:
        return login_page(request)
    service = get_service(request)
    operation = await _operation(service, operation_id)
    if operation is None:
        return _not_found(session, operation_id)
    return render(
        "operation.html.j2",
        session=session,
        section="activity",
        **_detail_context(operation),
    )


@router.get("/activity/{operation_id}/fragment")
async def operation_fragment(request: Request, operation_id: str) -> Response:
    if current_session(request) is None:
        return _expired()
    service = get_service(request)
    operation = await _operation(service, operation_id)
    if operation is None:
        return HTMLResponse("<p>No such operation.</p>", status_code=404, headers=PAGE_HEADERS)
    return render("operation_body.html.j2", **_detail_context(operation))


def _not_found(session: PageSession, operation_id: str) -> Response:
    return render(
        "message.html.j2",
        404,
        session=session,
        section="activity",
        title="No such operation",
        text=f"There is no operation '{operation_id}' in the Activity log"
        " (it may have been removed by the retention).",
    )
