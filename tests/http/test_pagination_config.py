"""Pagination configs: construction, the dict form, and merging over a provider default."""

from __future__ import annotations

from typing import Any

import pytest

from nango_scripts.errors import PaginationError
from nango_scripts.http import Cursor, Link, Offset, pagination_from_dict
from nango_scripts.http._pagination_config import resolve_pagination


def test_from_dict_builds_each_type() -> None:
    assert pagination_from_dict(
        {"type": "cursor", "cursor_path_in_response": "next", "cursor_name_in_request": "c"}
    ) == Cursor(cursor_path_in_response="next", cursor_name_in_request="c")
    assert pagination_from_dict({"type": "link", "link_rel_in_response_header": "next"}) == Link(
        link_rel_in_response_header="next"
    )
    offset = pagination_from_dict(
        {
            "type": "offset",
            "offset_name_in_request": "offset",
            "limit": 10,
            "limit_name_in_request": "n",
        }
    )
    assert offset == Offset(offset_name_in_request="offset", limit=10, limit_name_in_request="n")
    assert isinstance(offset, Offset)
    assert offset.offset_start_value == 0
    assert offset.offset_calculation_method == "by-response-size"


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"cursor_path_in_response": "x"}, '"type"'),
        ({"type": "page"}, "Unknown pagination type 'page'"),
        (
            {"type": "cursor", "cursor_path_in_response": "x"},
            "missing required key 'cursor_name_in_request'",
        ),
        (
            {"type": "offset", "offset_name_in_request": "o", "limt": 5},
            "unknown key 'limt'",
        ),
        ({"type": "offset", "offset_name_in_request": "o", "limit": 0}, "limit"),
        (
            {"type": "offset", "offset_name_in_request": "o", "offset_calculation_method": "x"},
            "offset_calculation_method",
        ),
        ({"type": "link"}, "exactly one of"),
        (
            {
                "type": "link",
                "link_rel_in_response_header": "next",
                "link_path_in_response_body": "n",
            },
            "exactly one of",
        ),
        ("cursor", "not str"),
    ],
)
def test_bad_dicts_raise_pagination_error(config: Any, fragment: str) -> None:
    with pytest.raises(PaginationError) as info:
        pagination_from_dict(config)
    assert fragment in str(info.value)


def test_direct_construction_errors_are_pagination_errors_too() -> None:
    with pytest.raises(PaginationError, match="limit"):
        Cursor(cursor_path_in_response="x", limit=0)
    with pytest.raises(PaginationError, match="exactly one of"):
        Link(link_rel_in_response_header="next", link_path_in_response_body="next")


def test_an_incomplete_config_fails_when_nothing_completes_it() -> None:
    with pytest.raises(PaginationError, match="cursor_name_in_request"):
        resolve_pagination(None, Cursor(cursor_path_in_response="x"), provider="p")
    with pytest.raises(PaginationError, match="exactly one of"):
        resolve_pagination(None, Link(limit=5, limit_name_in_request="n"), provider="p")
    with pytest.raises(PaginationError, match="offset_name_in_request"):
        resolve_pagination(
            {"type": "cursor", "cursor_path_in_response": "a", "cursor_name_in_request": "b"},
            Offset(),
        )


def test_a_partial_config_overrides_only_what_it_sets() -> None:
    default = {
        "type": "link",
        "link_rel_in_response_header": "next",
        "limit_name_in_request": "per_page",
    }
    assert resolve_pagination(default, Link(limit=25)) == Link(
        link_rel_in_response_header="next", limit_name_in_request="per_page", limit=25
    )
    # choosing the body path replaces the default's header rel instead of clashing with it
    assert resolve_pagination(default, Link(link_path_in_response_body="links.next")) == Link(
        link_path_in_response_body="links.next", limit_name_in_request="per_page"
    )


PROVIDER_CURSOR = {
    "type": "cursor",
    "cursor_path_in_response": "meta.next",
    "cursor_name_in_request": "cursor",
    "response_path": "data",
    "limit_name_in_request": "per_page",
}


def test_script_config_merges_over_provider_default() -> None:
    merged = resolve_pagination(
        PROVIDER_CURSOR,
        Cursor(cursor_path_in_response="next", cursor_name_in_request="after", limit=50),
    )
    assert merged == Cursor(
        cursor_path_in_response="next",
        cursor_name_in_request="after",
        response_path="data",
        limit=50,
        limit_name_in_request="per_page",
    )


def test_partial_dict_without_type_completes_the_default() -> None:
    merged = resolve_pagination(PROVIDER_CURSOR, {"limit": 10})
    assert isinstance(merged, Cursor)
    assert (merged.limit, merged.limit_name_in_request, merged.response_path) == (
        10,
        "per_page",
        "data",
    )


def test_other_type_replaces_the_default() -> None:
    link = Link(link_rel_in_response_header="next")
    assert resolve_pagination(PROVIDER_CURSOR, link) is link
    assert resolve_pagination(
        PROVIDER_CURSOR, {"type": "link", "link_path_in_response_body": "n"}
    ) == Link(link_path_in_response_body="n")


def test_default_alone_and_nothing_at_all() -> None:
    assert resolve_pagination(PROVIDER_CURSOR, None).response_path == "data"
    with pytest.raises(PaginationError) as info:
        resolve_pagination(None, None, provider="acme")
    assert "paginate=" in str(info.value)
    with pytest.raises(PaginationError, match='"type"'):
        resolve_pagination(None, {"limit": 5})


def test_limit_needs_a_name_after_merging() -> None:
    with pytest.raises(PaginationError, match="limit_name_in_request"):
        resolve_pagination(None, Offset(offset_name_in_request="o", limit=5))


def test_to_dict_keeps_only_set_fields() -> None:
    assert Offset(offset_name_in_request="o", limit=3, limit_name_in_request="n").to_dict() == {
        "type": "offset",
        "offset_name_in_request": "o",
        "limit": 3,
        "limit_name_in_request": "n",
    }
