"""Nango's error body everywhere: ``{"error": {"code", "message", "errors"?, "payload"?}}``.

Route handlers raise :class:`ApiError`; FastAPI's own failures (validation, unknown
route, wrong method) and the errors of nango-scripts are turned into the same shape
here, so a client never sees another one, and bad input is never a 500.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from nango_scripts.errors import (
    ConfigError,
    ConnectionNotFoundError,
    CredentialsError,
    InvalidCredentialsError,
    LimitError,
    NangoScriptsError,
    RecordQueryError,
    ScriptNotFoundError,
    StoreError,
)
from nango_scripts.server._access_log import masked

__all__ = [
    "DATABASE_FAILED",
    "ERROR_RESPONSES",
    "ApiError",
    "ErrorBody",
    "ErrorDetail",
    "FieldError",
    "JsonAnswer",
    "error_response",
    "install_error_handlers",
]

logger = logging.getLogger("nango_scripts.server")

_LOCATION_CODES = {
    "body": "invalid_body",
    "query": "invalid_query_params",
    "header": "invalid_headers",
    "path": "invalid_uri_params",
}


class FieldError(BaseModel):
    code: str
    message: str
    path: list[str | int]


class ErrorDetail(BaseModel):
    code: str
    message: str | None = None
    errors: list[FieldError] | None = None
    payload: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Bad input (the message names the field)"),
        (401, "Missing or wrong secret key"),
        (404, "Unknown resource"),
        (413, "The request body is over the size limit ([server] max_body_bytes)"),
        (429, "Too many wrong secret keys from this client: wait Retry-After seconds"),
    )
}
"""Declared on every route, so a schema checker accepts our error answers."""


class JsonAnswer(JSONResponse):
    """JSON as Starlette writes it, except that text holding a lone surrogate (an action's
    error payload may) is written with ASCII escapes instead of failing the answer."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False, indent=None, separators=(",", ":")).encode()


class ApiError(Exception):
    """An answer in Nango's error shape, raised from a route handler."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None = None,
        *,
        errors: Sequence[FieldError] | None = None,
        payload: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or code)
        self.status = status
        self.code = code
        self.message = message
        self.errors = list(errors) if errors is not None else None
        self.payload = payload
        self.headers = headers


def error_response(
    status: int,
    code: str,
    message: str | None = None,
    *,
    errors: Sequence[FieldError] | None = None,
    payload: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"code": code}
    if message is not None:
        error["message"] = message
    if errors is not None:
        error["errors"] = [e.model_dump() for e in errors]
    if payload is not None:
        error["payload"] = payload
    return JsonAnswer({"error": error}, status_code=status, headers=headers)


def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(
        exc.status,
        exc.code,
        exc.message,
        errors=exc.errors,
        payload=exc.payload,
        headers=exc.headers,
    )


def _field_path(loc: Sequence[Any]) -> list[str | int]:
    return [p if isinstance(p, int) else str(p) for p in loc[1:]]


def validation_errors(raw: Sequence[Any]) -> tuple[str, str, list[FieldError]]:
    """(code, message, errors) for pydantic errors located by FastAPI (``loc[0]`` = where)."""
    where = str(raw[0]["loc"][0]) if raw and raw[0].get("loc") else "body"
    code = _LOCATION_CODES.get(where, "invalid_request")
    errors: list[FieldError] = []
    parts: list[str] = []
    for detail in raw:
        loc = detail.get("loc") or ()
        path = _field_path(loc)
        if detail.get("type") == "json_invalid":
            reason = (detail.get("ctx") or {}).get("error", "")
            message = f"The body is not valid JSON: {reason}".rstrip(": ")
            path = []
        elif not path and detail.get("type") == "missing" and where == "body":
            message = "A JSON body is required."
        else:
            name = ".".join(str(p) for p in path) or where
            message = f"{name}: {detail.get('msg', 'invalid')}"
        parts.append(message)
        errors.append(
            FieldError(code=str(detail.get("type", "invalid")), message=message, path=path)
        )
    shown = "; ".join(parts[:5]) + (f" (and {len(parts) - 5} more)" if len(parts) > 5 else "")
    return code, shown, errors


def _request_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    code, message, errors = validation_errors(exc.errors())
    return error_response(400, code, message, errors=errors)


def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 404:
        return error_response(
            404, "not_found", f"No route {request.method} {request.url.path}.", headers=headers
        )
    if exc.status_code == 405:
        return error_response(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {request.url.path}.",
            headers=headers,
        )
    return error_response(exc.status_code, "invalid_request", str(exc.detail), headers=headers)


def _nango_error(request: Request, exc: Exception) -> JSONResponse:
    """Errors of the layers below that a route did not translate itself."""
    assert isinstance(exc, NangoScriptsError)
    message = masked(request, str(exc).replace("\n", " "))
    if isinstance(exc, RecordQueryError):
        return error_response(400, "invalid_query_params", message)
    if isinstance(exc, InvalidCredentialsError | LimitError):
        return error_response(400, "invalid_body", message)
    if isinstance(exc, ConnectionNotFoundError):
        return error_response(404, "unknown_connection", message)
    if isinstance(exc, ScriptNotFoundError):
        return error_response(404, "not_found", message)
    if isinstance(exc, ConfigError):
        return error_response(400, "unknown_provider_config", message)
    if isinstance(exc, CredentialsError):
        return error_response(500, "server_error", message)
    logger.error("request failed: %s", message)
    if isinstance(exc, StoreError):  # it quotes the database driver: the log's, not the client's
        return error_response(500, "server_error", DATABASE_FAILED)
    return error_response(500, "server_error", message)


DATABASE_FAILED = "The database failed to answer; see the server log."
"""What a client is told of a database failure (the driver's message is logged)."""


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # A bug of ours: log it (masked: its message may quote the request), answer in the
    # usual shape without internals.
    trace = "".join(traceback.format_exception(exc)).rstrip()
    logger.error("unexpected error in a request: %s", masked(request, trace))
    return error_response(500, "server_error", "An unexpected error occurred; see the server log.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(NangoScriptsError, _nango_error)
    app.add_exception_handler(Exception, _unexpected)
