"""``Authorization: Bearer <secret key>`` on every route but ``/health``.

A pure ASGI middleware, so that it runs before routing and body parsing: a request
without the key learns nothing (not whether the route exists, nor whether its body was
valid). The key is compared in constant time.
"""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["OPEN_PATHS", "BearerAuth"]

OPEN_PATHS = frozenset({"/health", "/health/"})
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
    def __init__(self, app: ASGIApp, secret_key: str) -> None:
        self.app = app
        self._secret = secret_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        if key_matches(header, self._secret):
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_BODY)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _BODY})
