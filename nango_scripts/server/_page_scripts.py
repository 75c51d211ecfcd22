"""The Activity page's Scripts view (``/scripts-view``): every integration's syncs and
actions; for each sync its frequency, its schedule per connection (next run), its latest
result, a toggle and a button that triggers a run.

- The toggle (``POST /scripts-view/toggle``) switches the sync on or off for every
  connection of the integration, those created later included
  (:meth:`Scheduler.set_enabled`).
- The template toggle (``POST /scripts-view/template``) enables or disables a template of
  the integration's provider ("Sync templates" and "Action templates" sections), as
  ``nango-scripts templates enable`` does.
- The button (``POST /scripts-view/trigger``) runs it now for one connection or all of
  them, as ``POST /sync/trigger`` does; a sync switched off cannot be triggered.

Both forms carry the session's CSRF token. Latest results come from the Activity log,
like the list: what is shown there was stripped of secrets when it was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from nango_scripts.dsl import ActionSpec, SyncSpec, load_library
from nango_scripts.engine import Service, TemplateRow, template_rows
from nango_scripts.errors import ConnectionNotFoundError, TemplateError
from nango_scripts.server._common import get_service
from nango_scripts.server._page_login import (
    FormError,
    current_session,
    login_page,
    read_form,
    redirect,
)
from nango_scripts.server._page_render import render
from nango_scripts.server._session import PageSession
from nango_scripts.store import Operation, blocking

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_CONNECTIONS_SHOWN: Final = 50
_NOTICES: Final = {
    "triggered": "Triggered {sync} of {integration} for {count} connection(s).",
    "enabled": "{sync} of {integration} is on: it runs on its schedule again.",
    "disabled": "{sync} of {integration} is off: it runs for no connection until switched on.",
    "template-on": "Template {sync} is enabled for {integration}: its syncs run for every "
    "connection.",
    "template-off": "Template {sync} is disabled for {integration}: its schedules stopped, "
    "its records are kept.",
}


@dataclass(frozen=True)
class ConnectionRow:
    connection_id: str
    schedule: str
    """``STARTED``, ``PAUSED`` or ``none`` (no schedule yet)."""
    next_run_at: datetime | None
    running: bool
    latest: Operation | None


@dataclass(frozen=True)
class SyncRow:
    spec: SyncSpec
    enabled: bool
    connections: list[ConnectionRow]


@dataclass
class IntegrationRow:
    id: str
    provider: str
    configured: bool
    connection_ids: list[str] = field(default_factory=list)
    hidden_connections: int = 0
    syncs: list[SyncRow] = field(default_factory=list)
    actions: list[ActionSpec] = field(default_factory=list)
    sync_templates: list[TemplateRow] = field(default_factory=list)
    action_templates: list[TemplateRow] = field(default_factory=list)


def _latest(
    service: Service, integration_id: str, connection_ids: list[str], syncs: list[str]
) -> dict[tuple[str, str], Operation]:
    """The latest run of each sync for each connection shown, keyed (connection, sync):
    one indexed query for the integration (a connection that never ran is absent)."""
    store = service.activity.store
    if store is None:
        return {}
    return store.latest_operations(
        service.environment,
        type="sync",
        integration_id=integration_id,
        connection_ids=connection_ids,
        scripts=syncs,
    )


def _integrations(service: Service) -> list[IntegrationRow]:
    """Everything the view shows (blocking reads: call it in a worker thread)."""
    disabled = service.schedules.disabled_syncs(service.environment)
    rows: dict[str, IntegrationRow] = {
        key: IntegrationRow(key, provider.name, True)
        for key, provider in sorted(service.settings.integrations.items())
    }
    for spec in service.project.scripts:
        integration_id = str(spec.integration)
        if integration_id not in rows:
            rows[integration_id] = IntegrationRow(integration_id, integration_id, False)
        if isinstance(spec, ActionSpec):
            rows[integration_id].actions.append(spec)
    library = load_library()
    for row in rows.values():
        if row.configured:
            for template in template_rows(
                service.settings, service.project, service.templates_enabled, row.id, library
            ):
                kind = row.sync_templates if template.spec.kind == "sync" else row.action_templates
                kind.append(template)
        ids = sorted(c.connection_id for c in service.connections.summaries(row.id))
        row.connection_ids = ids[:MAX_CONNECTIONS_SHOWN]
        row.hidden_connections = max(0, len(ids) - MAX_CONNECTIONS_SHOWN)
        specs = service.syncs(row.id)
        latest = _latest(service, row.id, row.connection_ids, [spec.name for spec in specs])
        schedules = {
            schedule.key: schedule
            for schedule in service.schedules.list(
                service.environment, row.id, connection_ids=row.connection_ids
            )
        }
        for spec in specs:
            connections = []
            for connection_id in row.connection_ids:
                key = service.scheduler.key(row.id, connection_id, spec.name)
                schedule = schedules.get(key)
                connections.append(
                    ConnectionRow(
                        connection_id=connection_id,
                        schedule=schedule.status if schedule is not None else "none",
                        next_run_at=schedule.next_run_at if schedule is not None else None,
                        running=service.scheduler.is_running(key),
                        latest=latest.get((connection_id, spec.name)),
                    )
                )
            row.syncs.append(SyncRow(spec, (row.id, spec.name) not in disabled, connections))
    return list(rows.values())


def _notice(request: Request) -> str | None:
    query = request.query_params
    template = _NOTICES.get(query.get("notice", ""))
    if template is None:
        return None
    return template.format(
        sync=query.get("sync", "?"),
        integration=query.get("integration", "?"),
        count=query.get("count", "?"),
    )


@router.get("/scripts-view")
async def scripts_view(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return login_page(request)
    service = get_service(request)
    integrations = await blocking(_integrations, service)
    return render(
        "scripts.html.j2",
        session=session,
        section="scripts",
        integrations=integrations,
        notice=_notice(request),
        load_errors=len(service.project.errors),
    )


def _problem(session: PageSession, status_code: int, text: str) -> Response:
    return render(
        "message.html.j2",
        status_code,
        session=session,
        section="scripts",
        title="Nothing was changed",
        text=text,
        back="/scripts-view",
    )


async def _sync_form(request: Request) -> tuple[PageSession, dict[str, str], SyncSpec] | Response:
    """The session, the form and the sync it names; or the answer explaining what is wrong."""
    session = current_session(request)
    if session is None:
        return login_page(request, error="Log in again: your session has ended.", status_code=401)
    try:
        fields = await read_form(request, session)
    except FormError as exc:
        return _problem(session, exc.status_code, exc.message)
    service = get_service(request)
    integration_id, name = fields.get("integration", ""), fields.get("sync", "")
    for spec in service.syncs(integration_id) if integration_id else []:
        if spec.name == name:
            if integration_id not in service.settings.integrations:
                break
            return session, fields, spec
    return _problem(session, 400, f"No sync '{name}' in integration '{integration_id}'.")


def _back(notice: str, spec: SyncSpec, **extra: str) -> Response:
    query = urlencode(
        {"notice": notice, "integration": spec.integration, "sync": spec.name, **extra}
    )
    return redirect(f"/scripts-view?{query}#sync-{spec.integration}-{spec.name}")


@router.post("/scripts-view/toggle")
async def toggle(request: Request) -> Response:
    found = await _sync_form(request)
    if isinstance(found, Response):
        return found
    session, fields, spec = found
    wanted = fields.get("enabled", "")
    if wanted not in ("true", "false"):
        return _problem(session, 400, "enabled must be true or false.")
    await get_service(request).scheduler.set_enabled(
        str(spec.integration), spec.name, wanted == "true"
    )
    return _back("enabled" if wanted == "true" else "disabled", spec)


@router.post("/scripts-view/trigger")
async def trigger(request: Request) -> Response:
    found = await _sync_form(request)
    if isinstance(found, Response):
        return found
    session, fields, spec = found
    service = get_service(request)
    integration_id = str(spec.integration)
    if not await service.scheduler.is_enabled(integration_id, spec.name):
        return _problem(
            session, 400, f"{spec.name} of {integration_id} is off: switch it on to trigger it."
        )
    chosen = fields.get("connection", "")
    if chosen:
        connection_ids = [chosen]
    else:
        summaries = await blocking(service.connections.summaries, integration_id)
        connection_ids = [s.connection_id for s in summaries]
    try:
        for connection_id in connection_ids:
            key = service.scheduler.key(integration_id, connection_id, spec.name)
            await service.scheduler.trigger(key)
    except ConnectionNotFoundError:
        return _problem(
            session, 400, f"No connection '{chosen}' for integration '{integration_id}'."
        )
    return _back("triggered", spec, count=str(len(connection_ids)))


@router.post("/scripts-view/template")
async def toggle_template(request: Request) -> Response:
    """The template toggle: enable or disable one template for one integration."""
    session = current_session(request)
    if session is None:
        return login_page(request, error="Log in again: your session has ended.", status_code=401)
    try:
        fields = await read_form(request, session)
    except FormError as exc:
        return _problem(session, exc.status_code, exc.message)
    integration_id, name = fields.get("integration", ""), fields.get("template", "")
    wanted = fields.get("enabled", "")
    if wanted not in ("true", "false"):
        return _problem(session, 400, "enabled must be true or false.")
    try:
        await get_service(request).set_templates(integration_id, [name], enabled=wanted == "true")
    except TemplateError as exc:
        return _problem(session, 400, str(exc))
    query = urlencode(
        {
            "notice": "template-on" if wanted == "true" else "template-off",
            "integration": integration_id,
            "sync": name,
        }
    )
    return redirect(f"/scripts-view?{query}#template-{integration_id}-{name}")
