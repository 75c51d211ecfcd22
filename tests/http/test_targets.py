"""The pure rules of where a request may go and which requests carry the credentials."""

from __future__ import annotations

import httpx
import pytest

from nango_scripts.http._targets import (
    MAX_URL_LENGTH,
    CredentialScope,
    UnsafeTarget,
    api_url,
    header_value,
    merge_headers,
    parse_target,
)

BASE = "https://api.x.com/v1"


@pytest.mark.parametrize(
    "endpoint",
    [
        "../../etc/passwd",
        "/../x",
        "a/../../b",
        "%2e%2e/x",
        "%2E%2e/%2e./x",
        "..%2f..%2fetc",
        "a%2F..%2F..%2Fb",
        "..\\..\\windows",
        "a/./../..",
        "a//../../..",
    ],
)
def test_an_endpoint_never_climbs_above_the_base_path(endpoint: str) -> None:
    with pytest.raises(UnsafeTarget, match="climb above the base URL's path"):
        api_url(BASE, endpoint)


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("issues", "https://api.x.com/v1/issues"),
        ("a/../b", "https://api.x.com/v1/a/../b"),  # httpx resolves it, under /v1
        ("./x", "https://api.x.com/v1/./x"),
        ("/search?q=../../..", "https://api.x.com/v1/search?q=../../.."),  # a query is data
        ("a%2Fb", "https://api.x.com/v1/a%2Fb"),
        ("/http://other.com/x", "https://api.x.com/v1/http://other.com/x"),  # a path, here
        ("https://other.com/x", "https://other.com/x"),  # absolute: a script's choice
        ("HTTPS://other.com/x", "HTTPS://other.com/x"),
    ],
)
def test_endpoints_that_stay_under_the_base(endpoint: str, expected: str) -> None:
    assert api_url(BASE, endpoint) == expected
    assert parse_target(expected).host in ("api.x.com", "other.com")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:99999/x", "port 99999 is not in 1..65535"),
        ("http://127.0.0.1:0/x", "port 0 is not in 1..65535"),
        ("http://[::1/x", "Invalid port"),
        ("http://user:pw-s3cr3t@h:abc/x", "Invalid port: 'abc'"),
        ("ftp://h/x", "must start with http:// or https://"),
        ("http:///x", "has no host"),
        ("http://h/" + "a" * MAX_URL_LENGTH, "characters long; at most 65,536"),
        ("http://h/a\nb", "non-printable"),
    ],
)
def test_unsendable_urls_say_why_without_quoting_them(url: str, reason: str) -> None:
    with pytest.raises(UnsafeTarget, match=reason) as caught:
        parse_target(url)
    assert "pw-s3cr3t" not in str(caught.value)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("base", "url", "allowed"),
    [
        ("https://api.x.com/v1", "https://api.x.com/v2/y", True),
        ("https://api.x.com/v1", "https://API.X.com./y", True),
        ("https://api.x.com/v1", "https://api.x.com:8443/y", True),  # ports do not matter
        ("https://slack.com/api", "https://files.slack.com/f", True),  # a subdomain
        ("https://api.x.com/v1", "http://api.x.com/y", False),  # never down to http
        ("http://api.x.com/v1", "https://api.x.com/y", True),
        ("https://api.x.com/v1", "https://x.com/y", False),  # the parent is not the API
        ("https://api.x.com/v1", "https://uploads.x.com/y", False),
        ("https://api.x.com/v1", "https://api.x.com.evil.io/y", False),
        ("https://api.x.com/v1", "https://evilapi.x.com/y", False),
        ("https://api.x.com/v1", "https://other-host/steal", False),
        ("http://127.0.0.1:9/v1", "http://127.0.0.1:10/x", True),
        ("http://127.0.0.1:9/v1", "http://localhost:9/x", False),
        ("http://127.0.0.1:9/v1", "http://x.127.0.0.1/x", False),  # no subdomains of an IP
        ("http://[::1]:9/v1", "http://[::1]:10/x", True),
    ],
)
def test_credentials_go_to_the_base_host_and_its_subdomains(
    base: str, url: str, allowed: bool
) -> None:
    assert CredentialScope.of(base).allows(httpx.URL(url)) is allowed


def test_a_scope_needs_a_usable_base_url() -> None:
    with pytest.raises(UnsafeTarget, match="port 99999"):
        CredentialScope.of("http://127.0.0.1:99999")
    assert CredentialScope.of("https://slack.com/api").describe() == (
        "slack.com (or a subdomain of it)"
    )
    assert CredentialScope.of("http://127.0.0.1:9").describe() == "127.0.0.1"


@pytest.mark.parametrize("value", ["k\nX-Injected: 1", "k\r\n", "a\x00b", "a\x7fb", "a\x1bb"])
def test_header_values_http_cannot_carry_are_refused_by_name(value: str) -> None:
    with pytest.raises(UnsafeTarget, match="header X-Key holds a control character") as caught:
        header_value("X-Key", value)
    assert "Injected" not in str(caught.value)


def test_header_values_travel_as_latin_1_without_surrounding_blanks() -> None:
    assert header_value("X-A", "a\xffb") == b"a\xffb"
    assert header_value("X-A", b"a\xffb") == b"a\xffb"
    assert header_value("X-A", " Bearer tok\t") == b"Bearer tok"
    assert header_value("X-A", "a\tb") == b"a\tb"
    with pytest.raises(UnsafeTarget, match="beyond Latin-1"):
        header_value("X-A", "price in €")
    for name in ("X A", "X-A\n", "X-A:", ""):
        with pytest.raises(UnsafeTarget, match="not a valid HTTP header name"):
            header_value(name, "v")


def test_merge_headers_later_wins_and_framing_is_left_to_httpx() -> None:
    merged = merge_headers(
        {"Accept": "a", "X-Team": "p"},
        None,
        {"x-team": "s", "Content-Length": "1", "Host": "evil.io", "Transfer-Encoding": "chunked"},
        {"X-Number": 3, "X-None": None},
    )
    assert merged == [(b"Accept", b"a"), (b"x-team", b"s"), (b"X-Number", b"3")]
