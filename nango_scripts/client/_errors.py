"""The client's exceptions, and the one function that turns an answer into one.

::

    NangoClientError
    ├── NangoConnectionError          Nango could not be reached (wraps httpx's error)
    │   └── NangoTimeoutError
    └── NangoAPIError                 any non-2xx answer: status, code, message, payload
        ├── NangoBadRequestError      400
        ├── NangoAuthError            401
        ├── NangoNotFoundError        404
        │   └── ActionPendingError    the async action has not finished yet
        └── ActionFailedError         code action_script_failure: the action's payload
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "ActionFailedError",
    "ActionPendingError",
    "NangoAPIError",
    "NangoAuthError",
    "NangoBadRequestError",
    "NangoClientError",
    "NangoConnectionError",
    "NangoNotFoundError",
    "NangoTimeoutError",
    "error_from_response",
]


class NangoClientError(Exception):
    """Base of every error the client raises."""


class NangoConnectionError(NangoClientError):
    """The request did not get an answer: DNS, refused connection, TLS, reset..."""


class NangoTimeoutError(NangoConnectionError):
    """No answer within the client's timeout."""


class NangoAPIError(NangoClientError):
    """Nango answered with a non-2xx status.

    ``code`` is Nango's error code (``unknown_connection``, ``invalid_body``...), or
    ``http_<status>`` when the body is not Nango's ``{"error": {"code", ...}}`` (a proxied
    API's own error, for instance: the whole answer is in ``response``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None = None,
        payload: Any = None,
        *,
        errors: list[Any] | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.payload = payload
        self.errors = errors
        self.response = response
        super().__init__(
            f"{code} (HTTP {status}): {message}" if message else f"{code} (HTTP {status})"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}, message={self.message!r})"


class NangoBadRequestError(NangoAPIError):
    """HTTP 400: the request was wrong (the message says which field)."""


class NangoAuthError(NangoAPIError):
    """HTTP 401: a missing or wrong secret key."""


class NangoNotFoundError(NangoAPIError):
    """HTTP 404: no such connection, action, integration or route."""


class ActionPendingError(NangoNotFoundError):
    """``get_async_action_result``: the action is still running; ask again later."""


class ActionFailedError(NangoAPIError):
    """The action script failed (``action_script_failure``); ``payload`` is what it raised."""


_BY_STATUS: dict[int, type[NangoAPIError]] = {
    400: NangoBadRequestError,
    401: NangoAuthError,
    404: NangoNotFoundError,
}
_BY_CODE: dict[str, type[NangoAPIError]] = {"action_script_failure": ActionFailedError}


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def error_from_response(response: httpx.Response) -> NangoAPIError:
    """The exception for a non-2xx answer, Nango's error body parsed when there is one.

    Nango's shape is ``{"error": {"code", "message"?, "errors"?, "payload"?}}``; older
    servers sent ``{"error": "<message>", "type": "<code>"}``, which is understood too.
    """
    status = response.status_code
    code, message, payload, errors = f"http_{status}", None, None, None
    body = _body(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        code = error["code"]
        message = error.get("message") if isinstance(error.get("message"), str) else None
        payload = error.get("payload")
        errors = error.get("errors") if isinstance(error.get("errors"), list) else None
    elif isinstance(error, str) and isinstance(body, dict):
        message = error
        if isinstance(body.get("type"), str):
            code = body["type"]
        payload = body.get("payload")
    else:  # not Nango's shape: a proxied API's answer, a gateway's page...
        message = response.text[:500] or None
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status, NangoAPIError)
    return cls(status, code, message, payload, errors=errors, response=response)
