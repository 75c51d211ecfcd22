"""Pure helpers: URL joining and scrubbing, lodash-like paths, Link header parsing."""

from __future__ import annotations

import pytest

from nango_scripts.http import scrub_url
from nango_scripts.http._link_header import find_link, parse_link_header
from nango_scripts.http._paths import MISSING, get_path
from nango_scripts.http._urls import join_url


@pytest.mark.parametrize(
    ("base", "endpoint", "expected"),
    [
        ("https://api.x.com/v1", "/issues", "https://api.x.com/v1/issues"),
        ("https://api.x.com/v1/", "issues", "https://api.x.com/v1/issues"),
        ("https://api.x.com/v1/", "/issues?a=1", "https://api.x.com/v1/issues?a=1"),
        ("https://api.x.com", "", "https://api.x.com"),
        ("https://api.x.com/v1", "https://other.com/x", "https://other.com/x"),
        ("https://api.x.com/v1", "http://other.com/x", "http://other.com/x"),
    ],
)
def test_join_url(base: str, endpoint: str, expected: str) -> None:
    assert join_url(base, endpoint) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.x.com/v1/issues?api_key=abc&state=open",
            "https://api.x.com/v1/issues?api_key=***&state=open",
        ),
        ("https://user:pw@api.x.com/v1?x=1", "https://api.x.com/v1?x=1"),
        (
            "https://a.com/?access_token=t&client_secret=s&password=p&signature=g&key=k&page=2",
            "https://a.com/?access_token=***&client_secret=***&password=***&signature=***&key=***&page=2",
        ),
        ("https://a.com/?X-Api-Key=k&Token=t", "https://a.com/?X-Api-Key=***&Token=***"),
        ("https://a.com/?sort_key=name&monkey=1", "https://a.com/?sort_key=name&monkey=1"),
        # the names a caller's values come under are masked as the service's are
        (
            "https://a.com/?session=s&sessionId=i&sid=d&jwt=j&x-hmac=h&q=plain",
            "https://a.com/?session=***&sessionId=***&sid=***&jwt=***&x-hmac=***&q=plain",
        ),
        (
            "https://a.com/?Cookie=c&credentials=c&private_key=p&passwd=p&pages=2",
            "https://a.com/?Cookie=***&credentials=***&private_key=***&passwd=***&pages=2",
        ),
        ("https://a.com/path", "https://a.com/path"),
    ],
)
def test_scrub_url_masks_secret_params_and_userinfo(url: str, expected: str) -> None:
    assert scrub_url(url) == expected


def test_scrub_url_masks_extra_names() -> None:
    assert (
        scrub_url("https://a.com/?hapikey=1&q=x", ["hapikey"]) == "https://a.com/?hapikey=***&q=x"
    )


def test_get_path_reads_like_lodash() -> None:
    body = {
        "@odata.nextLink": "top",
        "data": {"items": [{"id": 1}, {"id": 2}], "@odata.nextLink": "nested"},
        "paging": {"next": {"after": "c2"}},
        "nil": None,
    }
    assert get_path(body, "@odata.nextLink") == "top"
    assert get_path(body, "data.@odata.nextLink") == "nested"
    assert get_path(body, "paging.next.after") == "c2"
    assert get_path(body, "data.items.1.id") == 2
    assert get_path(body, "data.items[0].id") == 1
    assert get_path(body, "nil") is None
    assert get_path(body, "paging.prev") is MISSING
    assert get_path(body, "data.items.5") is MISSING
    assert get_path([{"a": 1}], "0.a") == 1


def test_parse_link_header_multiple_links_and_rels() -> None:
    header = (
        '<https://a.com/x?page=2&b=1,2>; rel="next", <https://a.com/x?page=9>; rel=last, '
        '<https://a.com/x?page=1>; title="a; b, c"; rel="first prev"'
    )
    assert parse_link_header(header) == [
        ("https://a.com/x?page=2&b=1,2", frozenset({"next"})),
        ("https://a.com/x?page=9", frozenset({"last"})),
        ("https://a.com/x?page=1", frozenset({"first", "prev"})),
    ]
    assert find_link(header, "next") == "https://a.com/x?page=2&b=1,2"
    assert find_link(header, "PREV") == "https://a.com/x?page=1"
    assert find_link(header, "nope") is None
    assert find_link(None, "next") is None
    assert find_link('</p2>; REL="Next"', "next") == "/p2"
