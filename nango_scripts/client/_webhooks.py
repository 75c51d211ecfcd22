"""Webhook signatures: ``X-Nango-Hmac-Sha256`` is the hex HMAC-SHA256 of the raw body,
keyed with the secret key (or the environment's webhook signing key)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = [
    "SIGNATURE_HEADER",
    "signature_from_headers",
    "verify_webhook_signature",
    "webhook_signature",
]

SIGNATURE_HEADER = "X-Nango-Hmac-Sha256"
_HEADER_LOWER = SIGNATURE_HEADER.lower()


def _bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def webhook_signature(body: bytes | str, secret_key: str) -> str:
    """The value of ``X-Nango-Hmac-Sha256`` for ``body`` (lowercase hex)."""
    return hmac.new(secret_key.encode("utf-8"), _bytes(body), hashlib.sha256).hexdigest()


def verify_webhook_signature(body: bytes | str, signature: str | None, secret_key: str) -> bool:
    """True when ``signature`` is the HMAC of exactly these body bytes with ``secret_key``.

    Pass the raw body as received, before any JSON parsing: re-serialized JSON does not
    have the same bytes. The comparison takes constant time.
    """
    if not secret_key or not isinstance(signature, str) or not signature:
        return False
    expected = webhook_signature(body, secret_key).encode("ascii")
    return hmac.compare_digest(expected, signature.strip().lower().encode("utf-8"))


def signature_from_headers(headers: Mapping[str, str]) -> str | None:
    """``X-Nango-Hmac-Sha256`` from any mapping of headers, whatever the name's case."""
    for name, value in headers.items():
        if isinstance(name, str) and name.lower() == _HEADER_LOWER:
            return value if isinstance(value, str) else None
    return None
