"""What ``Nango`` and ``AsyncNango`` share: configuration, the flows (``_operations``),
webhook verification. Each adds only its driver (``_sync``, ``_async``)."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from typing import Any, TypedDict

import httpx

from nango_scripts import __version__
from nango_scripts.client._flow import RetryPolicy
from nango_scripts.client._operations import Operations, ProxyParams
from nango_scripts.client._webhooks import signature_from_headers, verify_webhook_signature

__all__ = ["CLOUD_HOST", "DEFAULT_HOST", "DEFAULT_TIMEOUT", "NangoBase", "ProxyOptions"]

DEFAULT_HOST = "http://127.0.0.1:3003"
"""Where ``nango-scripts serve`` listens by default."""
CLOUD_HOST = "https://api.nango.dev"
"""Nango Cloud."""
DEFAULT_TIMEOUT = 60.0


class ProxyOptions(TypedDict, total=False):
    params: ProxyParams | None
    """Query parameters, added to any already in the endpoint; a list value repeats the name."""
    json: Any
    """A JSON body (a pydantic model is dumped by alias)."""
    data: bytes | str | None
    """A raw body (set its Content-Type in ``headers``)."""
    headers: Mapping[str, str] | None
    """Headers for the API: each is sent as ``Nango-Proxy-<Name>``."""
    retries: int | None
    """Retries done by Nango on 429, 5xx and network errors of the API."""
    base_url_override: str | None


def _user_agent() -> str:
    return f"nango-scripts-python/{__version__} (python/{platform.python_version()})"


def _host(value: str) -> str:
    host = value.strip().rstrip("/")
    url = httpx.URL(host) if host else None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"host must be an http(s) URL like {DEFAULT_HOST!r}, not {value!r}")
    return host


class NangoBase:
    """What needs no I/O: configuration, the flows, webhook verification."""

    def __init__(
        self,
        secret_key: str | None,
        host: str | None,
        *,
        retries: int,
        retry_backoff: float,
        webhook_signing_key: str | None,
    ) -> None:
        key = secret_key if secret_key is not None else os.environ.get("NANGO_SECRET_KEY", "")
        if not key:
            raise ValueError(
                "A secret key is required: pass secret_key=... or set NANGO_SECRET_KEY"
                " (nango-scripts serve prints it on its first start)."
            )
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, not {retries}")
        self.host = _host(host or os.environ.get("NANGO_HOST") or DEFAULT_HOST)
        self._webhook_key = webhook_signing_key or key
        self._ops = Operations(self.host, key, RetryPolicy(retries, retry_backoff), _user_agent())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.host!r})"

    def verify_webhook(self, body: bytes | str, headers: Mapping[str, str]) -> bool:
        """True when ``X-Nango-Hmac-Sha256`` (any case) signs exactly ``body`` with the
        webhook signing key (or, without one, the secret key). Pass the raw body."""
        return verify_webhook_signature(body, signature_from_headers(headers), self._webhook_key)
