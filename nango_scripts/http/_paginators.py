"""Paginators: pure state machines that say which request comes next.

The driver (``ApiClient.paginate``) does the I/O; a paginator only turns "what the
script asked" and "what the last page said" into the next :class:`PageRequest`, so
each rule of SPEC section 3 is unit-tested without a server. A paginator serves one
``paginate()`` call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from nango_scripts.errors import PaginationError
from nango_scripts.http._link_header import find_link
from nango_scripts.http._pagination_config import Cursor, Link, Offset, PaginationConfig
from nango_scripts.http._paths import MISSING, get_path, parse_path

__all__ = [
    "CursorPaginator",
    "LinkPaginator",
    "OffsetPaginator",
    "PageRequest",
    "Paginator",
    "make_paginator",
]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What to send for one page. ``url`` set: fetch exactly that URL (a next link)."""

    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    url: str | None = None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Paginator:
    """Shared part: extracting items, and placing limit/cursor/offset in query or body."""

    def __init__(self, config: PaginationConfig) -> None:
        self.config = config
        self.warning: str | None = None
        """Why the last ``next_request`` stopped, when that was not a normal end."""
        self._items_path = parse_path(config.response_path) if config.response_path else None
        self._params: dict[str, Any] = {}
        self._json: Any = None
        # The page size is repeated on every request that is built from the script's params.
        self._limit_extra: dict[str, Any] = {}
        if config.limit is not None and config.limit_name_in_request:
            self._limit_extra[config.limit_name_in_request] = config.limit

    def extract_items(self, body: Any) -> list[Any]:
        """The page's items: the list at ``response_path``, or the body itself."""
        items = body
        if self._items_path is not None:
            items = get_path(body, self._items_path)
            if items is MISSING:
                keys = ", ".join(map(str, body)) if isinstance(body, dict) else type(body).__name__
                raise PaginationError(
                    f"response_path {self.config.response_path!r} is not in the response "
                    f"(top level: {keys}).",
                    hint="Set response_path to where the list of items is.",
                )
            if items is None:  # "data": null on the last page of some APIs
                return []
        if not isinstance(items, list):
            where = f"at response_path {self.config.response_path!r}" if self._items_path else ""
            raise PaginationError(
                f"Expected a list of items {where or 'as the response body'}, got "
                f"{type(items).__name__}.",
                hint='Set response_path to the key holding the list (e.g. response_path="data").',
            )
        return items

    def first_request(self, params: Mapping[str, Any] | None, json: Any) -> PageRequest:
        """The first page's request: the script's params/body plus limit (and start offset)."""
        self._params = dict(params or {})
        if self.config.in_body:
            if json is not None and not isinstance(json, Mapping):
                raise PaginationError(
                    f"in_body pagination needs a JSON object body, got {type(json).__name__}."
                )
            self._json = dict(json or {})
        else:
            self._json = json
        return self._with({**self._limit_extra, **self._first_extra()})

    def _first_extra(self) -> dict[str, Any]:
        return {}

    def _with(self, extra: Mapping[str, Any]) -> PageRequest:
        if self.config.in_body:
            return PageRequest(params=self._params, json={**self._json, **extra})
        return PageRequest(params={**self._params, **extra}, json=self._json)

    def next_request(
        self, body: Any, headers: Mapping[str, str], items: Sequence[Any], url: str = ""
    ) -> PageRequest | None:
        """The next page's request after a page (``url`` is where it came from), or None to stop."""
        raise NotImplementedError


class CursorPaginator(Paginator):
    """Stops on an empty page or a missing/blank cursor; a short page is not the end."""

    config: Cursor

    def __init__(self, config: Cursor) -> None:
        super().__init__(config)
        self._cursor_path = parse_path(_given(config.cursor_path_in_response))
        self._seen: set[Any] = set()

    def next_request(
        self, body: Any, headers: Mapping[str, str], items: Sequence[Any], url: str = ""
    ) -> PageRequest | None:
        if not items:
            return None
        cursor = get_path(body, self._cursor_path)
        if cursor is MISSING or cursor is None or (isinstance(cursor, str) and not cursor.strip()):
            return None
        key = cursor if isinstance(cursor, str | int | float) else repr(cursor)
        if key in self._seen:
            self.warning = (
                f"Pagination stopped: the API returned cursor {_short(cursor)} again "
                f"(at {self.config.cursor_path_in_response!r}); following it would loop forever."
            )
            return None
        self._seen.add(key)
        return self._with({**self._limit_extra, _given(self.config.cursor_name_in_request): cursor})


class OffsetPaginator(Paginator):
    """Stops on an empty page or one shorter than ``limit``; ``per-page`` counts pages."""

    config: Offset

    def __init__(self, config: Offset) -> None:
        super().__init__(config)
        self._offset = config.offset_start_value
        self._previous: Sequence[Any] | None = None

    def _first_extra(self) -> dict[str, Any]:
        self._offset = self.config.offset_start_value
        return {_given(self.config.offset_name_in_request): self._offset}

    def next_request(
        self, body: Any, headers: Mapping[str, str], items: Sequence[Any], url: str = ""
    ) -> PageRequest | None:
        if not items:
            return None
        if self.config.limit is not None and len(items) < self.config.limit:
            return None
        # The loop guard: an API that ignores the offset sends the same page forever.
        # Comparing with the previous page is cheap: pages differ at their first item.
        if self._previous is not None and list(items) == list(self._previous):
            self.warning = (
                f"Pagination stopped: the page at {self.config.offset_name_in_request}="
                f"{self._offset} repeats the previous one; the API seems to ignore "
                f"{self.config.offset_name_in_request!r}, and following it would loop forever."
            )
            return None
        self._previous = items
        per_page = self.config.offset_calculation_method == "per-page"
        self._offset += 1 if per_page else len(items)
        return self._with(
            {**self._limit_extra, _given(self.config.offset_name_in_request): self._offset}
        )


class LinkPaginator(Paginator):
    """Follows the next URL (header rel or body path) until there is none or it repeats.

    A next URL replaces everything: host, path and query, so the script's params are not
    added to it again. A relative one is resolved against the URL of the page it came in.
    """

    config: Link

    def __init__(self, config: Link) -> None:
        super().__init__(config)
        body_path = config.link_path_in_response_body
        self._link_path = parse_path(body_path) if body_path else None
        self._seen: set[str] = set()

    def _raw_link(self, body: Any, headers: Mapping[str, str]) -> str | None:
        if self._link_path is None:
            return find_link(headers.get("link"), self.config.link_rel_in_response_header or "")
        link = get_path(body, self._link_path)
        return link if isinstance(link, str) else None

    def next_request(
        self, body: Any, headers: Mapping[str, str], items: Sequence[Any], url: str = ""
    ) -> PageRequest | None:
        if url:
            self._seen.add(url)
        if not items:
            return None
        raw = self._raw_link(body, headers)
        if raw is None or not raw.strip():
            return None
        try:
            link = str(httpx.URL(url).join(raw.strip())) if url else raw.strip()
        except httpx.InvalidURL as exc:
            raise PaginationError(
                f"The API's next link {_short(raw)} is not a URL: {exc}"
            ) from None
        if link in self._seen:
            self.warning = (
                f"Pagination stopped: the API returned next link {_short(link)} again; "
                "following it would loop forever."
            )
            return None
        self._seen.add(link)
        return PageRequest(params={}, json=self._with(self._limit_extra).json, url=link)


def make_paginator(config: PaginationConfig) -> Paginator:
    if isinstance(config, Cursor):
        return CursorPaginator(config)
    if isinstance(config, Offset):
        return OffsetPaginator(config)
    return LinkPaginator(config)


def _given(value: str | None) -> str:
    """A field resolve_pagination() has checked is set."""
    assert value is not None, "pagination config was not resolved"
    return value
