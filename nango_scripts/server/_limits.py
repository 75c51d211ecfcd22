"""The door every request goes through before a route sees it: sizes, ids and JSON text.

A pure ASGI middleware, inside the key check (a request without the key learns nothing),
in front of routing, body parsing and every store:

- the body: at most ``max_body_bytes`` (``[server] max_body_bytes``, 10 MiB by default);
  a larger ``Content-Length`` is a 413 before a byte of the body is read, and a body
  without one is read only up to the limit;
- ids: a NUL character in the path, the query or a header is a 400 naming where. Ids
  reach the database from all three, and PostgreSQL cannot hold NUL in text;
- a JSON body (as FastAPI decides it: no content type, ``application/json`` or
  ``+json``) nesting deeper than the limit, or holding a lone surrogate or a NUL in any
  key or string, is a 400 that names the limit, before anything runs. The proxy's body
  is the exception: it is passed on as bytes, never parsed nor stored here.

The body read here is handed to the app as it came, in one message.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nango_scripts.server._errors import error_response
from nango_scripts.store import MAX_JSON_DEPTH, json_body_problem, size_text

__all__ = ["RequestLimits"]

_NUL_HINT = "no id or value may hold NUL; remove it"


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str, *, body_read: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.body_read = body_read


class RequestLimits:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, max_json_depth: int = MAX_JSON_DEPTH
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_ids(scope)
            body = await self._body(scope, receive)
        except _Refused as refused:
            await _refuse(scope, receive, send, refused)
            return
        except _Gone:
            return
        if body is None:
            await self.app(scope, receive, send)
            return
        if _is_json(scope) and not scope["path"].startswith("/proxy/"):
            problem = json_body_problem(body, max_depth=self.max_json_depth)
            if problem is not None:
                bad = _Refused(400, "invalid_body", f"The JSON body {problem}.", body_read=True)
                await _refuse(scope, receive, send, bad)
                return
        await self.app(scope, _replay(body, receive), send)

    async def _body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None when the request has none; refused past the limit."""
        length = _header(scope, b"content-length")
        chunked = b"chunked" in (_header(scope, b"transfer-encoding") or b"").lower()
        if length is not None:
            declared = int(length) if length.strip().isdigit() else None
            if declared is not None and declared > self.max_body_bytes:
                raise self._too_large()
            if declared == 0:
                return None
        elif not chunked:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Gone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _too_large(self) -> _Refused:
        return _Refused(
            413,
            "payload_too_large",
            f"The request body is larger than the limit of {size_text(self.max_body_bytes)}"
            f" ({self.max_body_bytes} bytes): send less, or raise [server] max_body_bytes"
            " (NANGO_SCRIPTS_SERVER_MAX_BODY_BYTES) where the service runs.",
        )


class _Gone(Exception):
    """The client went away while sending its body: nobody to answer."""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value)
    return None


def _check_ids(scope: Scope) -> None:
    if "\x00" in scope["path"]:
        raise _Refused(
            400,
            "invalid_uri_params",
            f"The path contains a NUL character (%00): {_NUL_HINT}.",
        )
    query = scope.get("query_string", b"")
    if b"\x00" in query or (b"%00" in query and b"\x00" in unquote_to_bytes(query)):
        raise _Refused(
            400,
            "invalid_query_params",
            f"The query string contains a NUL character (%00): {_NUL_HINT}.",
        )
    for name, value in scope["headers"]:
        if b"\x00" in value:
            shown = bytes(name).decode("latin-1")
            raise _Refused(
                400,
                "invalid_headers",
                f"Header {shown} contains a NUL character: {_NUL_HINT}.",
            )


def _is_json(scope: Scope) -> bool:
    """FastAPI's rule for parsing a body as JSON."""
    content_type = _header(scope, b"content-type")
    if content_type is None:
        return True
    kind = content_type.split(b";", 1)[0].strip().lower()
    maintype, _, subtype = kind.partition(b"/")
    return maintype == b"application" and (subtype == b"json" or subtype.endswith(b"+json"))


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then what comes next: the client's disconnect

    return replay


async def _refuse(scope: Scope, receive: Receive, send: Send, refused: _Refused) -> None:
    # "Connection: close" when the body (if any) was not read: what is left of it would
    # be taken for the next request on the connection.
    headers = None if refused.body_read else {"connection": "close"}
    response = error_response(refused.status, refused.code, refused.message, headers=headers)
    await response(scope, receive, send)
