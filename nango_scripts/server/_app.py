"""``create_app(service)``: the FastAPI application of ``nango-scripts serve``.

Nango's REST API for the parts that exist here (SPEC 6), so that Nango's own Node
client works against it. The app's lifespan starts and stops the service; every route
but ``/health`` and the Activity page's wants ``Authorization: Bearer <secret key>``
(the page logs in with the same key and keeps a session cookie); every error has
Nango's shape. docs/service.md lists the routes and what differs from Nango.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from nango_scripts import __version__
from nango_scripts.engine import Service
from nango_scripts.server import (
    _actions,
    _connections,
    _integrations,
    _logs,
    _page_activity,
    _page_login,
    _page_reference,
    _page_render,
    _page_scripts,
    _proxy,
    _records,
    _scripts,
    _syncs,
    _templates,
)
from nango_scripts.server._access_log import AccessLog
from nango_scripts.server._auth import OPEN_PATHS, BearerAuth
from nango_scripts.server._endpoints import GeneratedEndpoints, generated_openapi
from nango_scripts.server._errors import JsonAnswer, install_error_handlers
from nango_scripts.server._limits import RequestLimits
from nango_scripts.server._login_limit import LoginLimiter
from nango_scripts.server._session import PageSessions

__all__ = ["create_app"]

logger = logging.getLogger("nango_scripts.server")


class Health(BaseModel):
    result: str


health_router = APIRouter(tags=["health"])


@health_router.get("/health", response_model=Health, summary="Liveness (no key needed)")
async def health() -> Health:
    return Health(result="ok")


def create_app(service: Service) -> FastAPI:
    """The API over ``service``; its lifespan calls ``service.start()`` and ``stop()``."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await service.start()
        for problem in service.project.errors:
            logger.warning("a script did not load: %s", str(problem).replace("\n", " "))
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title="nango-scripts",
        version=__version__,
        description="Nango's REST API for syncs, actions, records, connections and the proxy.",
        lifespan=lifespan,
        default_response_class=JsonAnswer,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    install_error_handlers(app)
    for router in (
        health_router,
        _records.router,
        _syncs.router,
        _actions.router,
        _proxy.router,
        _connections.router,
        _integrations.router,
        _scripts.router,
        _templates.router,
        _logs.router,
        _page_login.router,
        _page_activity.router,
        _page_scripts.router,
        _page_reference.router,
        _page_render.assets_router,
    ):
        app.include_router(router)
    # Inside the auth middleware (added after it runs first): generated endpoints are
    # served with the same key as the API.
    app.add_middleware(GeneratedEndpoints, service=lambda: service)
    app.state.page_sessions = PageSessions(service.secret_key)
    # Inside the key check (added after, so it runs first): sizes, NUL ids, JSON bodies.
    app.add_middleware(RequestLimits, max_body_bytes=service.settings.server_max_body_bytes)
    # One bucket per client for both doors that take the key: the API and the login form.
    app.state.login_limiter = LoginLimiter()
    app.add_middleware(BearerAuth, secret_key=service.secret_key, limiter=app.state.login_limiter)
    # Added last, so outermost: every answer gets its (masked) access line.
    app.add_middleware(AccessLog, masked=(service.secret_key,))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _schema(app)
        # The generated endpoints change with every reload: added on each request.
        try:
            project = service.project
        except RuntimeError:  # not started: no scripts yet
            return app.openapi_schema
        return generated_openapi(project, app.openapi_schema)

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _schema(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, saying what the service really does: bearer auth, and 400 (not
    422) for invalid input."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["secretKey"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "The environment's secret key",
    }
    schema["security"] = [{"secretKey": []}]
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
            if path in OPEN_PATHS:
                operation["security"] = []
    for name in ("HTTPValidationError", "ValidationError"):
        schema["components"].get("schemas", {}).pop(name, None)
    return schema
