"""Paginator state machines: the rules of SPEC section 3, without a server."""

from __future__ import annotations

import pytest

from nango_scripts.errors import PaginationError
from nango_scripts.http import Cursor, Link, Offset
from nango_scripts.http._paginators import PageRequest, make_paginator

NO_HEADERS: dict[str, str] = {}


def test_cursor_sends_limit_first_then_cursor_and_keeps_params() -> None:
    p = make_paginator(
        Cursor(
            cursor_path_in_response="meta.next",
            cursor_name_in_request="after",
            response_path="data",
            limit=2,
            limit_name_in_request="per_page",
        )
    )
    assert p.first_request({"state": "open"}, None) == PageRequest(
        params={"state": "open", "per_page": 2}
    )
    body = {"data": [1, 2], "meta": {"next": "c2"}}
    items = p.extract_items(body)
    assert items == [1, 2]
    assert p.next_request(body, NO_HEADERS, items) == PageRequest(
        params={"state": "open", "per_page": 2, "after": "c2"}
    )


@pytest.mark.parametrize("cursor", [None, "", "   "])
def test_cursor_stops_on_missing_or_blank_cursor(cursor: str | None) -> None:
    p = make_paginator(
        Cursor(cursor_path_in_response="next", cursor_name_in_request="c", response_path="d")
    )
    p.first_request(None, None)
    assert p.next_request({"d": [1], "next": cursor}, NO_HEADERS, [1]) is None
    assert p.next_request({"d": [1]}, NO_HEADERS, [1]) is None
    assert p.warning is None


def test_cursor_stops_on_empty_page_but_not_on_short_page() -> None:
    p = make_paginator(
        Cursor(
            cursor_path_in_response="next",
            cursor_name_in_request="c",
            limit=10,
            limit_name_in_request="n",
        )
    )
    p.first_request(None, None)
    assert p.next_request({"next": "x"}, NO_HEADERS, []) is None
    assert p.next_request({"next": "x"}, NO_HEADERS, [1]) is not None


def test_cursor_seen_before_stops_with_a_warning() -> None:
    p = make_paginator(Cursor(cursor_path_in_response="next", cursor_name_in_request="c"))
    p.first_request(None, None)
    assert p.next_request({"next": "a"}, NO_HEADERS, [1]) is not None
    assert p.next_request({"next": "b"}, NO_HEADERS, [1]) is not None
    assert p.next_request({"next": "a"}, NO_HEADERS, [1]) is None
    assert p.warning is not None and "'a'" in p.warning


def test_cursor_in_body() -> None:
    p = make_paginator(
        Cursor(
            cursor_path_in_response="next",
            cursor_name_in_request="cursor",
            limit=5,
            limit_name_in_request="page_size",
            in_body=True,
        )
    )
    first = p.first_request({"q": "x"}, {"filter": {"a": 1}})
    assert first == PageRequest(params={"q": "x"}, json={"filter": {"a": 1}, "page_size": 5})
    nxt = p.next_request({"next": 42}, NO_HEADERS, [1])
    assert nxt == PageRequest(
        params={"q": "x"}, json={"filter": {"a": 1}, "page_size": 5, "cursor": 42}
    )


def test_in_body_refuses_a_non_object_body() -> None:
    p = make_paginator(
        Cursor(cursor_path_in_response="n", cursor_name_in_request="c", in_body=True)
    )
    with pytest.raises(PaginationError, match="JSON object"):
        p.first_request(None, [1, 2])


def test_offset_by_response_size() -> None:
    p = make_paginator(
        Offset(
            offset_name_in_request="offset",
            limit=2,
            limit_name_in_request="limit",
            response_path="r",
        )
    )
    assert p.first_request({"a": 1}, None).params == {"a": 1, "limit": 2, "offset": 0}
    assert p.next_request({}, NO_HEADERS, [1, 2]) == PageRequest(
        params={"a": 1, "limit": 2, "offset": 2}
    )
    assert p.next_request({}, NO_HEADERS, [3, 4]) == PageRequest(
        params={"a": 1, "limit": 2, "offset": 4}
    )
    assert p.next_request({}, NO_HEADERS, [5]) is None  # shorter than limit
    assert p.next_request({}, NO_HEADERS, []) is None


def test_offset_per_page_from_start_value_without_limit() -> None:
    p = make_paginator(
        Offset(
            offset_name_in_request="page",
            offset_start_value=1,
            offset_calculation_method="per-page",
        )
    )
    assert p.first_request(None, None).params == {"page": 1}
    assert p.next_request({}, NO_HEADERS, [1]) == PageRequest(params={"page": 2})
    assert p.next_request({}, NO_HEADERS, [1, 2, 3]) == PageRequest(params={"page": 3})
    assert p.next_request({}, NO_HEADERS, []) is None


def test_offset_page_that_repeats_the_previous_one_stops_with_a_warning() -> None:
    p = make_paginator(
        Offset(offset_name_in_request="offset", limit=2, limit_name_in_request="limit")
    )
    p.first_request(None, None)
    assert p.next_request({}, NO_HEADERS, [{"id": 1}, {"id": 2}]) is not None
    assert p.warning is None
    # the API ignored offset=2 and sent the first page again
    assert p.next_request({}, NO_HEADERS, [{"id": 1}, {"id": 2}]) is None
    assert p.warning is not None and "repeats the previous one" in p.warning


def test_link_from_header_absolute_replaces_everything() -> None:
    p = make_paginator(
        Link(link_rel_in_response_header="next", limit=2, limit_name_in_request="per_page")
    )
    assert p.first_request({"state": "all"}, None).params == {"state": "all", "per_page": 2}
    headers = {
        "link": '<https://other.example.com/v2/x?page=2>; rel="next", <https://a.com/x?page=5>; rel="last"'
    }
    assert p.next_request(
        [1], headers, [1], url="https://a.com/v1/x?state=all&per_page=2"
    ) == PageRequest(params={}, url="https://other.example.com/v2/x?page=2")


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("/v1/items?page=2", "https://a.com/v1/items?page=2"),
        ("?page=2", "https://a.com/v1/items?page=2"),
        ("https://b.com/items?page=2", "https://b.com/items?page=2"),
    ],
)
def test_link_from_body_is_resolved_against_the_page_url(link: str, expected: str) -> None:
    p = make_paginator(Link(link_path_in_response_body="@odata.nextLink", response_path="value"))
    p.first_request({"x": "1"}, None)
    body = {"value": [1], "@odata.nextLink": link}
    nxt = p.next_request(body, NO_HEADERS, p.extract_items(body), url="https://a.com/v1/items?x=1")
    assert nxt == PageRequest(params={}, url=expected)


def test_link_stops_without_next_or_on_empty_page() -> None:
    p = make_paginator(Link(link_rel_in_response_header="next"))
    p.first_request(None, None)
    assert (
        p.next_request(
            [1], {"link": '<https://a.com/x?p=9>; rel="last"'}, [1], url="https://a.com/x"
        )
        is None
    )
    assert p.next_request([1], NO_HEADERS, [1], url="https://a.com/x") is None
    assert (
        p.next_request([], {"link": '<https://a.com/x?p=2>; rel="next"'}, [], url="https://a.com/x")
        is None
    )
    assert p.warning is None


def test_link_that_comes_back_stops_with_a_warning() -> None:
    p = make_paginator(Link(link_path_in_response_body="next"))
    p.first_request(None, None)
    page1 = "https://a.com/x"
    page2 = p.next_request({"next": "/x?p=2"}, NO_HEADERS, [1], url=page1)
    assert page2 is not None and page2.url == "https://a.com/x?p=2"
    assert p.next_request({"next": "/x?p=2"}, NO_HEADERS, [1], url=page2.url) is None
    assert p.warning is not None and "again" in p.warning
    # A cycle back to the first page is caught too.
    q = make_paginator(Link(link_path_in_response_body="next"))
    q.first_request(None, None)
    assert q.next_request({"next": "/x?p=2"}, NO_HEADERS, [1], url=page1) is not None
    assert q.next_request({"next": "/x"}, NO_HEADERS, [1], url="https://a.com/x?p=2") is None
    assert q.warning is not None


def test_extract_items_errors_name_the_fix() -> None:
    p = make_paginator(
        Cursor(cursor_path_in_response="n", cursor_name_in_request="c", response_path="data")
    )
    with pytest.raises(
        PaginationError, match=r"response_path 'data' is not in the response \(top level: items\)"
    ):
        p.extract_items({"items": []})
    with pytest.raises(PaginationError, match="Expected a list"):
        p.extract_items({"data": {"a": 1}})
    assert p.extract_items({"data": None}) == []
    q = make_paginator(Cursor(cursor_path_in_response="n", cursor_name_in_request="c"))
    with pytest.raises(PaginationError, match="response_path"):
        q.extract_items({"data": []})
