"""The API reference of an integration (``/scripts-view/reference/{integration}``): every
generated endpoint of its syncs and actions, with its parameters and headers, its models'
fields, and ready-to-copy ``curl``, Python client and Node client calls.

The snippets name this server's address, the integration and a connection of it (the
first, or ``CONNECTION_ID`` when there is none); the secret key is read from the
``NANGO_SECRET_KEY`` environment variable, never printed on the page.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from nango_scripts.dsl import ActionSpec, Endpoint, ScriptSpec, SyncSpec
from nango_scripts.server._common import get_service
from nango_scripts.server._page_login import current_session, login_page
from nango_scripts.server._page_render import render
from nango_scripts.store import blocking

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_RECORDS_PARAMETERS = (
    ("modified_after", "ISO 8601: only records changed at or after this moment"),
    ("limit", "Records per page, 1 to 10000 (default 100)"),
    ("cursor", "The next_cursor of the previous page"),
    ("filter", "added, updated, deleted; comma-combined"),
    ("ids", "Record ids, repeated or comma-separated"),
)


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool


@dataclass(frozen=True)
class ModelView:
    name: str
    fields: list[Field]


@dataclass(frozen=True)
class EndpointView:
    spec: ScriptSpec
    endpoint: Endpoint
    parameters: list[tuple[str, str]]
    models: list[ModelView]
    curl: str
    python: str
    node: str

    @property
    def anchor(self) -> str:
        return f"{self.endpoint.method.lower()}-{self.endpoint.path.strip('/').replace('/', '-')}"


def _type(detail: dict[str, Any]) -> str:
    if "$ref" in detail:
        return str(detail["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in detail:
        return " | ".join(_type(d) for d in detail["anyOf"])
    kind = detail.get("type", "any")
    if kind == "array":
        return f"list[{_type(detail.get('items', {}))}]"
    return str(kind)


def _model(model: type[BaseModel]) -> ModelView:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    fields = [
        Field(name, _type(detail), name in required)
        for name, detail in schema.get("properties", {}).items()
    ]
    return ModelView(model.__name__, fields)


def _snippets(
    base: str, integration: str, connection: str, spec: ScriptSpec, endpoint: Endpoint
) -> tuple[str, str, str]:
    url = base + endpoint.path
    query = params = ""
    if isinstance(spec, SyncSpec) and len(spec.models) > 1:
        query = f"?model={spec.models[0].__name__}"
        params = f", params={{'model': '{spec.models[0].__name__}'}}"
    body = "{}" if isinstance(spec, ActionSpec) and spec.input is not None else None
    curl = [
        "curl",
        "-s",
        "-X",
        endpoint.method,
        shlex.quote(url + query),
        "-H",
        '"Authorization: Bearer $NANGO_SECRET_KEY"',
        "-H",
        shlex.quote(f"Connection-Id: {connection}"),
        "-H",
        shlex.quote(f"Provider-Config-Key: {integration}"),
    ]
    if body is not None:
        curl += ["-H", "'Content-Type: application/json'", "-d", shlex.quote(body)]
    payload = ", input={}" if body is not None else ""
    python = (
        "import os\nfrom nango_scripts.client import Nango\n\n"
        f'with Nango(secret_key=os.environ["NANGO_SECRET_KEY"], host={base!r}) as nango:\n'
        f"    answer = nango.call_endpoint({integration!r}, {connection!r}, "
        f"{endpoint.method!r}, {endpoint.path!r}{params}{payload})"
    )
    # Nango's Node client reads the same data with listRecords / triggerAction; the
    # generated path itself is called with fetch (Node 18+).
    headers = (
        "Authorization: `Bearer ${process.env.NANGO_SECRET_KEY}`, "
        f"'Connection-Id': '{connection}', 'Provider-Config-Key': '{integration}'"
    )
    if body is not None:
        headers += ", 'Content-Type': 'application/json'"
    node = (
        f"const response = await fetch('{url + query}', {{\n"
        f"  method: '{endpoint.method}',\n"
        f"  headers: {{ {headers} }},\n"
        + (f"  body: JSON.stringify({body}),\n" if body is not None else "")
        + "});\nconst answer = await response.json();\n"
        + _node_equivalent(integration, connection, spec)
    )
    return " ".join(curl), python, node


def _node_equivalent(integration: str, connection: str, spec: ScriptSpec) -> str:
    if isinstance(spec, SyncSpec):
        return (
            "// or, with @nangohq/node: await nango.listRecords({ providerConfigKey: "
            f"'{integration}', connectionId: '{connection}', model: '{spec.models[0].__name__}' }})"
        )
    return (
        f"// or, with @nangohq/node: await nango.triggerAction('{integration}', "
        f"'{connection}', '{spec.name}', {{}})"
    )


def _views(request: Request, integration: str) -> list[EndpointView] | None:
    service = get_service(request)
    if integration not in service.settings.integrations:
        return None
    summaries = service.connections.summaries(integration)
    connection = sorted(c.connection_id for c in summaries)[0] if summaries else "CONNECTION_ID"
    base = str(request.base_url).rstrip("/")
    views = []
    for spec in service.project.scripts:
        if spec.integration != integration:
            continue
        if isinstance(spec, SyncSpec):
            models = [_model(m) for m in spec.models]
            parameters = list(_RECORDS_PARAMETERS)
            if len(spec.models) > 1:
                names = ", ".join(m.__name__ for m in spec.models)
                parameters.append(("model", f"Required: one of {names}"))
        else:
            models = [_model(m) for m in (spec.input, spec.output) if m is not None]
            parameters = []
        for endpoint in spec.endpoints:
            curl, python, node = _snippets(base, integration, connection, spec, endpoint)
            views.append(EndpointView(spec, endpoint, parameters, models, curl, python, node))
    return sorted(views, key=lambda v: (v.endpoint.group or "", v.endpoint.path, v.endpoint.method))


@router.get("/scripts-view/reference/{integration}")
async def reference(request: Request, integration: str) -> Response:
    session = current_session(request)
    if session is None:
        return login_page(request)
    views = await blocking(_views, request, integration)
    if views is None:
        return render(
            "message.html.j2",
            404,
            session=session,
            section="scripts",
            title="No such integration",
            text=f"There is no integration '{integration}' in nango.toml.",
            back="/scripts-view",
        )
    return render(
        "reference.html.j2",
        session=session,
        section="scripts",
        integration=integration,
        endpoints=views,
        json=json,
    )
