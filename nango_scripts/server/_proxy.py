"""``/proxy/{path}``: a request to the integration's API with the connection's credentials.

The upstream answer comes back as it is (status, body, content type and other
end-to-end headers), a 4xx or 5xx included: only a failure to reach the API at all is
an error of ours (502). ``Nango-Proxy-<Name>`` headers are forwarded as ``<Name>``, byte
for byte; ``Retries`` and ``Base-Url-Override`` (empty means absent) are honoured.

The path is always relative to the base URL (the integration's, or the override's) and
never climbs above it: ``/proxy/https://elsewhere/x`` is the path ``https:/...`` under the
base URL, ``..`` above it is a 400. Only ``Base-Url-Override`` changes the host. Our
errors mask the connection's secrets: an upstream body or a header may quote them.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from nango_scripts.errors import (
    AuthRefreshError,
    CredentialsError,
    HttpError,
    InvalidRequestError,
)
from nango_scripts.http import MASK, ApiClient, is_secret_name
from nango_scripts.server._access_log import mask_in_access_log
from nango_scripts.server._common import (
    ConnectionIdHeader,
    ProviderConfigKeyHeader,
    ServiceDep,
    find_connection,
    require_integration,
)
from nango_scripts.server._errors import ApiError, ErrorBody
from nango_scripts.store import blocking

__all__ = ["router"]

# Not ERROR_RESPONSES: whatever the API answers (any status, any body) is passed through,
# so only our own failures below have our error shape.
router = APIRouter(tags=["proxy"])

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PREFIX = "nango-proxy-"
# The proxy frames the request and names the host itself; a caller's value would
# contradict the body (a 500 once) or send the credentials to another virtual host.
_REFUSED_FORWARDS = frozenset({"content-length", "transfer-encoding", "host"})
_TITLE_PATH_CHARS = 300
# Forwarded headers whose values the Activity log shows; any other may be a credential.
_PLAIN_HEADERS = frozenset(
    {"accept", "accept-encoding", "accept-language", "content-language", "content-type"}
)
# Not relayed: hop-by-hop headers, and what httpx already undid (compression, length).
_DROPPED_RESPONSE_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-encoding",
        "content-length",
        "date",
        "server",
    }
)


class _PassThroughClient(ApiClient):
    """An ApiClient whose final answer is returned whatever its status.

    Retries, auth and OAuth2 refresh stay the client's; only the last step, which turns
    a 4xx/5xx into an HttpError for scripts, is skipped: the proxy relays it instead.
    """

    def _checked(self, response: httpx.Response, retried: int) -> httpx.Response:
        return response


def _forwarded_headers(request: Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        if name.startswith(_PREFIX) and len(name) > len(_PREFIX):
            forwarded = name[len(_PREFIX) :]
            if forwarded in _REFUSED_FORWARDS:
                raise ApiError(
                    400,
                    "invalid_headers",
                    f"{name.title()} cannot be forwarded: the proxy sets Content-Length, "
                    "Transfer-Encoding and Host itself (Base-Url-Override changes the host).",
                )
            headers[forwarded] = value
    return headers


def _endpoint(request: Request, path: str) -> str:
    """The path after /proxy/ as the client encoded it (``a%2Fb`` stays one segment),
    always relative: the leading slash makes ``http://x`` a path, not a URL."""
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes) and raw.startswith(b"/proxy/"):
        path = raw[len(b"/proxy/") :].decode("latin-1")
    relative = path.lstrip("/").replace("#", "%23")
    return "/" + relative if relative else ""


def _caller_secrets(
    headers: dict[str, str], query: dict[str, list[str]]
) -> tuple[dict[str, str], list[str]]:
    """What the caller sends the API is masked as what the service sends: (the forwarded
    headers as recorded, values masked but for content negotiation's; the values to mask
    wherever they appear: those headers' and the secret-named query parameters')."""
    shown = {k: v if k.lower() in _PLAIN_HEADERS else MASK for k, v in headers.items()}
    values = [v for k, v in headers.items() if k.lower() not in _PLAIN_HEADERS]
    values += [v for k, vs in query.items() if is_secret_name(k) for v in vs]
    return shown, values


def _query(request: Request) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        query.setdefault(name, []).append(value)
    return query


async def proxy(
    request: Request,
    path: str,
    service: ServiceDep,
    connection_id: ConnectionIdHeader,
    provider_config_key: ProviderConfigKeyHeader,
    retries: Annotated[int | None, Header(alias="Retries", ge=0, le=10)] = None,
    base_url_override: Annotated[str | None, Header(alias="Base-Url-Override")] = None,
) -> Response:
    provider = require_integration(service, provider_config_key)
    connection = await find_connection(service, provider_config_key, connection_id)
    headers = _forwarded_headers(request)
    body = await request.body()
    content_type = request.headers.get("content-type")
    if body and content_type and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = content_type
    connections = service.connections
    endpoint = _endpoint(request, path)
    query = _query(request)
    shown_headers, caller_secrets = _caller_secrets(headers, query)
    mask_in_access_log(request, credentials=connection.credentials, values=caller_secrets)
    # The Activity log: credentials and what the caller sent (above) are masked there.
    operation = await service.activity.operation(
        environment=connection.environment,
        type="proxy",
        integration_id=connection.integration_id,
        connection_id=connection.connection_id,
        script=None,
        title=f"proxy {request.method} {_shortened(endpoint)}",
        credentials=connection.credentials,
        live=False,
    )
    operation.add_secret_values(caller_secrets)

    async def save_credentials(credentials: dict[str, Any]) -> None:
        operation.add_secrets(credentials)
        await blocking(
            connections.update_credentials,
            connection.integration_id,
            connection.connection_id,
            credentials,
        )

    try:
        async with _PassThroughClient(
            provider,
            connection.credentials,
            on_credentials_refreshed=save_credentials,
            retries=0,
            log=operation.log,
        ) as client:
            upstream = await client.request(
                request.method,
                endpoint,
                params=query or None,
                data=body or None,
                headers=headers,
                retries=retries,
                base_url_override=(base_url_override or "").strip() or None,
            )
    except (HttpError, CredentialsError) as exc:
        await operation.finish("failed", error=str(exc), result={"headers": shown_headers})
        status, code = _failure(exc)
        raise ApiError(status, code, operation.mask(str(exc)).replace("\n", " ")) from None
    except BaseException as exc:
        await operation.finish("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    status = upstream.status_code
    await operation.finish(
        "success" if status < 400 else "failed",
        error=None
        if status < 400
        else f"the API answered {status} {upstream.reason_phrase}: {upstream.text[:300]}",
        result={"status": status, "headers": shown_headers},
    )
    response = Response(content=upstream.content, status_code=upstream.status_code)
    response.raw_headers.extend(
        (name.lower(), value)
        for name, value in upstream.headers.raw
        if name.lower().decode("latin-1") not in _DROPPED_RESPONSE_HEADERS
    )
    return response


def _failure(exc: HttpError | CredentialsError) -> tuple[int, str]:
    if isinstance(exc, InvalidRequestError):
        return 400, "invalid_request"  # nothing was sent: the path, override or a header
    if isinstance(exc, AuthRefreshError):
        return 424, "connection_refresh_failed"
    if isinstance(exc, CredentialsError):
        return 424, "invalid_credentials"
    return 502, "upstream_unreachable"


def _shortened(endpoint: str) -> str:
    if len(endpoint) <= _TITLE_PATH_CHARS:
        return endpoint
    return f"{endpoint[:_TITLE_PATH_CHARS]}... ({len(endpoint):,} characters)"


for _method in METHODS:
    router.add_api_route(
        "/proxy/{path:path}",
        proxy,
        methods=[_method],
        name=f"proxy_{_method.lower()}",
        summary=f"{_method} to the integration's API",
        response_class=Response,
        responses={
            "default": {
                "description": "The API's answer as it is: any status, any body",
                "content": {"*/*": {"schema": {}}},
            },
            400: {
                "model": ErrorBody,
                "description": "Bad headers, or a request that cannot be sent (a path above "
                "the base URL, a bad Base-Url-Override, a header value HTTP cannot carry)",
            },
            401: {"model": ErrorBody, "description": "Missing or wrong secret key"},
            424: {
                "model": ErrorBody,
                "description": "The connection's credentials are unusable, or the OAuth2 "
                "token could not be refreshed",
            },
            502: {"model": ErrorBody, "description": "The API could not be reached"},
        },
    )
