"""The options of a script's request, declared once for every HTTP verb.

``nango.get/post/put/patch/delete/proxy`` (async and blocking) and ``ApiClient.request``
take :class:`RequestOptions` as ``**options``; ``nango.paginate`` and
``ApiClient.paginate`` take :class:`PageOptions`. An option left out means its default
(``None``: not sent, or the client's setting). Python does not check a ``TypedDict``'s
keys when it is unpacked into ``**options``: :func:`check_options` does, so a misspelt
option is a ``TypeError``, as it is for a parameter written out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from nango_scripts.http._pagination_config import PaginationConfig

__all__ = ["PAGE_OPTIONS", "REQUEST_OPTIONS", "PageOptions", "RequestOptions", "check_options"]


class _SharedOptions(TypedDict, total=False):
    params: Mapping[str, Any] | None
    """Query parameters, merged into the endpoint's own query."""
    json: Any
    """A body sent as JSON."""
    headers: Mapping[str, str] | None
    """Headers of this request; they win over the credentials' and the integration's."""
    retries: int | None
    """Retries of a 429, a 5xx or a network error (default: the client's, 3)."""


class RequestOptions(_SharedOptions, total=False):
    """The keyword options of ``get/post/put/patch/delete/proxy``, all optional."""

    data: Any
    """A form (a mapping) or a raw body (``str`` or ``bytes``)."""
    base_url_override: str | None
    """Send to this base URL instead of the integration's (with its credentials)."""


class PageOptions(_SharedOptions, total=False):
    """The keyword options of ``paginate``, all optional."""

    method: str
    """The HTTP method of every page (default ``GET``)."""
    paginate: PaginationConfig | Mapping[str, Any] | None
    """``Cursor``, ``Link``, ``Offset`` or a dict, merged over the provider's default."""


# A TypedDict's __annotations__ hold its bases' keys too.
REQUEST_OPTIONS = frozenset(RequestOptions.__annotations__)
PAGE_OPTIONS = frozenset(PageOptions.__annotations__)


def check_options(options: Mapping[str, object], allowed: frozenset[str]) -> None:
    """``TypeError`` naming the first keyword ``options`` holds that is not ``allowed``."""
    for name in options:
        if name not in allowed:
            raise TypeError(
                f"unexpected keyword argument {name!r}: the options are "
                + ", ".join(sorted(allowed))
            )
