"""Generated endpoints: each sync's and action's declared method and path, served.

An ASGI layer inside the auth middleware turns a call to a generated endpoint into the
built-in call it stands for, so that the answer is exactly the built-in one (records,
cursors, errors, ``X-Async``):

- a sync's ``GET <path>?...`` is ``GET /records?...&model=<its model>`` (the caller names
  the model when the sync has several);
- an action's ``<METHOD> <path>`` with a JSON body is ``POST /action/trigger`` with
  ``{"action_name": <name>, "input": <body>}``.

The integration is the ``Provider-Config-Key`` header, as for ``/records``. The layer reads
the scripts served at the moment of each request, so a reload (``dev``) adds and removes
endpoints at once. Built-in paths are never looked up here (their routes always win; the
DSL refuses endpoints under them). :func:`generated_openapi` adds every endpoint, with
its parameters and its models as schemas, to ``/openapi.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nango_scripts.dsl import ActionSpec, Project, ScriptSpec, SyncSpec, built_in_clash
from nango_scripts.engine import Service
from nango_scripts.server._errors import error_response

__all__ = ["GeneratedEndpoints", "generated_openapi", "served_endpoints"]


def served_endpoints(project: Project) -> Iterator[tuple[ScriptSpec, str, str]]:
    """(script, method, path) of every endpoint served now."""
    for spec in project.scripts:
        for endpoint in spec.endpoints:
            yield spec, endpoint.method, endpoint.path


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class GeneratedEndpoints:
    def __init__(self, app: ASGIApp, service: Callable[[], Service]) -> None:
        self.app = app
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or built_in_clash(scope["path"]) is not None:
            await self.app(scope, receive, send)
            return
        found = self._match(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        if isinstance(found, str):  # the integration is known but does not serve it
            await error_response(404, "not_found", found)(scope, receive, send)
            return
        if isinstance(found, SyncSpec):
            await self._records(found, scope, receive, send)
        else:
            await self._action(found, scope, receive, send)

    def _match(self, scope: Scope) -> ScriptSpec | str | None:
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        path = scope["path"].rstrip("/") or "/"
        service = self._service()
        claims = [s for s, m, p in served_endpoints(service.project) if (m, p) == (method, path)]
        if not claims:
            return None
        integration = _header(scope, b"provider-config-key")
        for spec in claims:
            if spec.integration == integration:
                return spec
        if integration and integration in service.settings.integrations:
            served = sorted(
                f"{m} {p}"
                for s, m, p in served_endpoints(service.project)
                if s.integration == integration
            )
            return (
                f"Integration '{integration}' does not serve {method} {path} "
                f"(its endpoints: {', '.join(served) or 'none'})."
            )
        # No or an unknown integration: the built-in call answers, with its own 4xx.
        return claims[0]

    async def _records(self, spec: SyncSpec, scope: Scope, receive: Receive, send: Send) -> None:
        pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        names = [m.__name__ for m in spec.models]
        asked = [v for k, v in pairs if k == "model"]
        if asked and asked[-1] not in names:
            message = f"Sync '{spec.name}' has no model '{asked[-1]}' (models: {', '.join(names)})."
            await error_response(400, "invalid_query_params", message)(scope, receive, send)
            return
        if not asked:
            if len(names) > 1:
                message = (
                    f"Sync '{spec.name}' has several models: pass model= one of {', '.join(names)}."
                )
                await error_response(400, "invalid_query_params", message)(scope, receive, send)
                return
            pairs.append(("model", names[0]))
        query = urlencode(pairs).encode()
        inner = {**scope, "path": "/records", "raw_path": b"/records", "query_string": query}
        await self.app(inner, receive, send)

    async def _action(self, spec: ActionSpec, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            payload: Any = json.loads(body) if body.strip() else None
        except ValueError as exc:
            problem = f"The body is not JSON: {exc.args[0] if exc.args else exc}"
            await error_response(400, "invalid_body", problem)(scope, receive, send)
            return
        wrapped = json.dumps({"action_name": spec.name, "input": payload}).encode()
        headers = [
            (k, v)
            for k, v in scope.get("headers", ())
            if k not in (b"content-length", b"content-type")
        ]
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(wrapped)).encode()),
        ]
        inner = {
            **scope,
            "method": "POST",
            "path": "/action/trigger",
            "raw_path": b"/action/trigger",
            "headers": headers,
        }
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": wrapped, "more_body": False}
            return await receive()

        await self.app(inner, replay, send)


# --------------------------------------------------------------------------- OpenAPI

_CONNECTION_HEADERS = [
    {
        "name": "Connection-Id",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "The connection id",
    },
    {
        "name": "Provider-Config-Key",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "The integration id",
    },
]


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_RECORDS_QUERY = [
    _query(
        "modified_after", "ISO 8601: records changed at or after this moment", {"type": "string"}
    ),
    _query("delta", "Deprecated name of modified_after", {"type": "string"}),
    _query(
        "limit",
        "Records per page (1-10000, default 100)",
        {"type": "integer", "minimum": 1, "maximum": 10000},
    ),
    _query("cursor", "next_cursor of the previous page", {"type": "string"}),
    _query("filter", "added, updated, deleted; comma-combined", {"type": "string"}),
    _query(
        "ids",
        "Record ids: repeated and/or comma-separated",
        {"type": "array", "items": {"type": "string"}},
    ),
]


def _schema_of(model: type[Any], prefix: str, components: dict[str, Any]) -> dict[str, Any]:
    """A reference to ``model``'s schema, added (with what it nests) to ``components``."""
    schema = model.model_json_schema(ref_template=f"#/components/schemas/{prefix}{{model}}")
    for name, nested in schema.pop("$defs", {}).items():
        components.setdefault(prefix + name, nested)
    components.setdefault(prefix + model.__name__, schema)
    return {"$ref": f"#/components/schemas/{prefix}{model.__name__}"}


def generated_openapi(project: Project, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (FastAPI's) with every generated endpoint added, as a new dict."""
    paths = dict(document.get("paths", {}))
    components = dict(document.get("components", {}).get("schemas", {}))
    for spec, method, path in served_endpoints(project):
        prefix = f"{spec.integration}__"
        operations = dict(paths.get(path, {}))
        key = method.lower()
        if key in operations:
            also = operations[key].setdefault("x-integrations", [])
            also.append(spec.integration)
            continue
        operation: dict[str, Any] = {
            "operationId": f"{spec.integration}__{spec.name}__{key}",
            "summary": spec.description or f"{spec.kind} {spec.name}",
            "tags": [f"{spec.integration} (generated)"],
            "x-integrations": [spec.integration],
            "parameters": list(_CONNECTION_HEADERS),
        }
        if isinstance(spec, SyncSpec):
            refs = [_schema_of(m, prefix, components) for m in spec.models]
            model_names = [m.__name__ for m in spec.models]
            operation["parameters"] += [
                *_RECORDS_QUERY,
                {
                    **_query(
                        "model",
                        "The model (needed when the sync has several)",
                        {"type": "string", "enum": model_names},
                    ),
                    "required": len(model_names) > 1,
                },
            ]
            item = refs[0] if len(refs) == 1 else {"oneOf": refs}
            operation["responses"] = {
                "200": {
                    "description": f"Records of sync {spec.name}, as GET /records gives them",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["records", "next_cursor"],
                                "properties": {
                                    "records": {"type": "array", "items": item},
                                    "next_cursor": {"type": ["string", "null"]},
                                },
                            }
                        }
                    },
                }
            }
        else:
            operation["parameters"].append(
                {
                    "name": "X-Async",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "true: run in the background",
                }
            )
            if spec.input is not None:
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _schema_of(spec.input, prefix, components)}
                    },
                }
            output: dict[str, Any] = (
                _schema_of(spec.output, prefix, components) if spec.output else {}
            )
            operation["responses"] = {
                "200": {
                    "description": f"The output of action {spec.name}",
                    "content": {"application/json": {"schema": output}},
                },
                "202": {"description": "Started in the background (X-Async: true)"},
                "500": {"description": "The action failed, as POST /action/trigger answers it"},
            }
        operation["responses"]["4XX"] = {"description": "As GET /records or /action/trigger"}
        operations[key] = operation
        paths[path] = operations
    result = dict(document)
    result["paths"] = paths
    result["components"] = {**document.get("components", {}), "schemas": components}
    return result
