"""The HTTP client a script's requests go through: one connection, its auth, retries, pagination.

``ApiClient`` is bound to one integration's :class:`~nango_scripts.providers.ProviderConfig`
and one connection's credentials. Retry decisions (``RetryPolicy``) and pagination
(``Cursor``, ``Link``, ``Offset``) are pure code, unit-tested without I/O; the client
drives them with httpx.
"""

from __future__ import annotations

from nango_scripts.http._client import ApiClient
from nango_scripts.http._options import PageOptions, RequestOptions
from nango_scripts.http._pagination_config import (
    Cursor,
    Link,
    Offset,
    PaginationConfig,
    pagination_from_dict,
)
from nango_scripts.http._retry import RetryPolicy
from nango_scripts.http._targets import READ_AHEAD
from nango_scripts.http._urls import MASK, is_secret_name, scrub_url

__all__ = [
    "MASK",
    "READ_AHEAD",
    "ApiClient",
    "Cursor",
    "Link",
    "Offset",
    "PageOptions",
    "PaginationConfig",
    "RequestOptions",
    "RetryPolicy",
    "is_secret_name",
    "pagination_from_dict",
    "scrub_url",
]
