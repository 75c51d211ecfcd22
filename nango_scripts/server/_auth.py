"""``Authorization: Bearer <secret key>`` on every route but ``/health`` and the
Activity page's.

A pure ASGI middleware, so that it runs before routing and body parsing: a request
without the key learns nothing (not whether the route exists, nor whether its body was
valid). The key is compared in constant time, and wrong keys are limited per client
(:mod:`._login_limit`): a client that sent too many gets 429 with ``Retry-After``, its
key not compared. The Activity page's routes (exactly those, listed here) check its
session cookie themselves: the API never accepts it.
"""

from __future__ import annotations

import hmac
import json
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from nango_scripts.server._login_limit import LoginLimiter, client_key, too_many_attempts_message

__all__ = ["OPEN_PATHS", "BearerAuth", "is_page_path"]

OPEN_PATHS = frozenset({"/health", "/health/", "/favicon.ico"})
_PAGE_PATHS = frozenset(
    {
        "/",
        "/login",
        "/logout",
        "/fragments/operations",
        "/scripts-view",
        "/scripts-view/toggle",
        "/scripts-view/trigger",
        "/scripts-view/template",
        "/assets/page.js",
        "/assets/page.css",
    }
)
_PAGE_OPERATION = re.compile(r"/activity/[^/]+(?:/fragment)?|/scripts-view/reference/[^/]+")


def is_page_path(path: str) -> bool:
    """A route of the Activity page, which wants its session cookie, not the key."""
    return path in _PAGE_PATHS or _PAGE_OPERATION.fullmatch(path) is not None


_BODY = json.dumps(
    {
        "error": {
            "code": "unauthorized",
            "message": "Authentication failed: send the secret key as"
            " 'Authorization: Bearer <secret key>'.",
        }
    }
).encode()


def key_matches(header: bytes | None, secret: bytes) -> bool:
    if header is None:
        return False
    scheme, _, token = header.strip().partition(b" ")
    if scheme.lower() != b"bearer":
        return False
    return hmac.compare_digest(token.strip(), secret)


class BearerAuth:
    def __init__(self, app: ASGIApp, secret_key: str, limiter: LoginLimiter) -> None:
        self.app = app
        self._secret = secret_key.encode()
        self._limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or is_page_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        if header is None:  # no key, no guess: not counted
            await _refuse(send, 401, _BODY, [(b"www-authenticate", b"Bearer")])
            return
        client = client_key(scope.get("client"))
        wait_s = self._limiter.wait_s(client)
        if wait_s:
            body = json.dumps(
                {
                    "error": {
                        "code": "too_many_attempts",
                        "message": too_many_attempts_message(wait_s),
                    }
                }
            ).encode()
            await _refuse(send, 429, body, [(b"retry-after", str(wait_s).encode())])
            return
        if key_matches(header, self._secret):
            await self.app(scope, receive, send)
            return
        self._limiter.failed(client)
        await _refuse(send, 401, _BODY, [(b"www-authenticate", b"Bearer")])


async def _refuse(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
