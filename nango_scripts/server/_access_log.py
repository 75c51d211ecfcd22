"""The service's access log: a line per request, its secrets masked as the Activity log
masks them.

uvicorn's own access line writes the request target as it came (``/proxy/bot<key>/...``,
``/login?key=<secret key>``); ``serve`` turns it off and shows this one instead, in
the same shape (logger ``nango_scripts.access``, arguments as uvicorn's access
formatter takes them). What is masked: the values of query parameters named like a
secret (``scrub_url``), the values the service always masks (the secret key), and what
a route marked as secret for its request (:func:`mask_in_access_log`: the proxy marks
the connection's credentials and the caller's headers). Control characters are escaped,
so a request cannot write a line of its own. Errors about a request, logged or answered,
are masked the same way (:func:`masked`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nango_scripts.engine import SecretScrubber
from nango_scripts.http import scrub_url

__all__ = ["AccessLog", "mask_in_access_log", "masked"]

logger = logging.getLogger("nango_scripts.access")

_SCOPE_KEY: Final = "nango_scripts.access_masks"


def mask_in_access_log(
    request: Request, *, credentials: Mapping[str, Any] | None = None, values: Iterable[str] = ()
) -> None:
    """Mask ``credentials`` (as the Activity log masks a connection's) and ``values`` in
    this request's access line (a no-op outside :class:`AccessLog`)."""
    scrubber = request.scope.get(_SCOPE_KEY)
    if isinstance(scrubber, SecretScrubber):
        if credentials:
            scrubber.add(credentials)
        scrubber.add_values(values)


def masked(request: Request, text: str) -> str:
    """``text`` (an error about this request, for the service's log or its answer)
    masked as the request's access line is."""
    scrubber = request.scope.get(_SCOPE_KEY)
    return scrubber.text(text) if isinstance(scrubber, SecretScrubber) else text


def _printable(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


class AccessLog:
    """A pure ASGI middleware: outermost, so that every answer is logged (a 401 of the
    auth door, a 500 that escaped every handler)."""

    def __init__(self, app: ASGIApp, masked: Iterable[str | None] = ()) -> None:
        self.app = app
        self._masked = [v for v in masked if v]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Also there without an access log: errors logged about the request use it.
        scrubber = scope[_SCOPE_KEY] = SecretScrubber().with_values(self._masked)
        if not logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self._log(scope, status, scrubber)

    @staticmethod
    def _log(scope: Scope, status: int, scrubber: SecretScrubber) -> None:
        target = scope.get("root_path", "") + scope["path"]
        query = scope.get("query_string", b"")
        if query:
            target += "?" + query.decode("latin-1")
        client = scope.get("client")
        where = f"{client[0]}:{client[1]}" if client else "-"
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            where,
            scope["method"],
            scrub_url(_printable(scrubber.text(target))),  # urlsplit drops a raw newline
            scope.get("http_version", "1.1"),
            status,
        )
