"""ApiClient.request against a real local server: URLs, headers, static auth, retries, errors."""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

import pytest
from support.fakeapi import FakeApi, Received, Reply, json_reply

from nango_scripts.errors import ConfigError, CredentialsError, HttpError
from nango_scripts.http import ApiClient, RetryPolicy

pytestmark = pytest.mark.anyio

NO_JITTER = RetryPolicy(jitter="none")


def sequence(*replies: Reply) -> Any:
    """A handler answering ``replies`` in turn, then repeating the last one."""
    calls = iter(replies)
    last: list[Reply] = []

    def handler(_: Received) -> Reply:
        reply = next(calls, None)
        if reply is None:
            return last[0]
        last[:] = [reply]
        return reply

    return handler


async def test_joins_endpoint_and_merges_headers(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/issues", json_reply({"ok": True}))
    provider = provider_for(fake_api, headers={"Accept": "application/vnd.x+json", "X-Team": "a"})
    async with ApiClient(provider, {}) as client:
        response = await client.request(
            "get", "issues", params={"state": "open"}, headers={"x-team": "b"}
        )
        assert response.json() == {"ok": True}
        await client.request("GET", "/issues")
        await client.request("GET", fake_api.url_for("/v1/issues") + "?abs=1")
    first, second, third = fake_api.requests
    assert (first.method, first.path, first.query) == ("GET", "/v1/issues", {"state": "open"})
    assert first.headers["accept"] == "application/vnd.x+json"
    assert first.headers["x-team"] == "b"
    assert "authorization" not in first.headers
    assert second.path == "/v1/issues"
    assert third.query == {"abs": "1"}


async def test_bodies_json_form_and_raw(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/things", json_reply({}, status=201))
    async with ApiClient(provider_for(fake_api), {}) as client:
        await client.request("POST", "/things", json={"a": [1, 2]})
        await client.request("PUT", "/things", data={"name": "x y"})
        await client.request("PATCH", "/things", data="raw text")
    posted, put, patched = fake_api.requests
    assert posted.json() == {"a": [1, 2]}
    assert put.form() == {"name": "x y"}
    assert patched.body == b"raw text"


async def test_base_url_override(fake_api: FakeApi, provider_for: Any) -> None:
    with FakeApi() as other:
        other.route("/v9/x", json_reply({"from": "other"}))
        async with ApiClient(provider_for(fake_api), {}) as client:
            response = await client.request("GET", "/x", base_url_override=other.url + "/v9")
        assert response.json() == {"from": "other"}
    assert fake_api.requests == []


async def test_api_key_in_header_with_format(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/me", json_reply({}))
    provider = provider_for(
        fake_api, auth="api_key", api_key_header="X-Api-Key", api_key_format="Token {api_key}"
    )
    async with ApiClient(provider, {"type": "API_KEY", "apiKey": "s3cr3t"}) as client:
        await client.request("GET", "/me")
    assert fake_api.requests[0].headers["x-api-key"] == "Token s3cr3t"


async def test_api_key_default_is_bearer(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/me", json_reply({}))
    async with ApiClient(provider_for(fake_api, auth="api_key"), {"apiKey": "k"}) as client:
        await client.request("GET", "/me")
    assert fake_api.requests[0].headers["authorization"] == "Bearer k"


async def test_api_key_in_query_and_404_raises_at_once_scrubbed(
    fake_api: FakeApi, provider_for: Any, spy: Any
) -> None:
    fake_api.route("/v1/issues", json_reply({"message": "Not Found"}, status=404))
    provider = provider_for(fake_api, auth="api_key", api_key_query="hapikey")
    async with ApiClient(
        provider, {"type": "API_KEY", "apiKey": "k123"}, sleep=spy.sleep
    ) as client:
        with pytest.raises(HttpError) as info:
            await client.request("GET", "/issues", params={"state": "open"})
    assert fake_api.requests[0].query == {"hapikey": "k123", "state": "open"}
    err = info.value
    assert err.status == 404
    assert err.method == "GET"
    assert err.url == f"{fake_api.url}/v1/issues?hapikey=***&state=open"
    assert err.body == '{"message": "Not Found"}'
    assert err.message == f'GET {err.url} failed with 404 Not Found: {{"message": "Not Found"}}'
    assert "k123" not in str(err)
    assert len(fake_api.requests) == 1
    assert spy.sleeps == []


async def test_error_body_is_cut_to_500_chars(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/x", json_reply("e" * 2000, status=400))
    async with ApiClient(provider_for(fake_api), {}) as client:
        with pytest.raises(HttpError) as info:
            await client.request("GET", "/x")
    assert info.value.body == "e" * 500


async def test_basic_auth(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/me", json_reply({}))
    creds = {"type": "BASIC", "username": "ann", "password": "pä:ss"}
    async with ApiClient(provider_for(fake_api, auth="basic"), creds) as client:
        await client.request("GET", "/me")
    # base64("ann:pä:ss") in UTF-8
    assert fake_api.requests[0].headers["authorization"] == "Basic YW5uOnDDpDpzcw=="


@pytest.mark.parametrize(
    ("auth", "creds", "fragment"),
    [
        ("api_key", {"type": "API_KEY"}, "'apiKey'"),
        ("basic", {"type": "BASIC", "password": "x"}, "'username'"),
        ("oauth2", {"type": "OAUTH2", "refresh_token": "r"}, "'access_token'"),
        ("oauth2_cc", {"type": "OAUTH2_CC", "client_id": "i"}, "'client_secret'"),
        ("api_key", {"type": "BASIC", "username": "u"}, "of type 'BASIC'"),
        ("oauth2", {"type": "OAUTH2", "access_token": "a", "expires_at": "tomorrow"}, "ISO 8601"),
    ],
)
def test_missing_credentials_fields(auth: str, creds: dict[str, Any], fragment: str) -> None:
    from nango_scripts.providers import ProviderConfig

    provider = ProviderConfig(name="p", base_url="http://127.0.0.1:9", auth=auth)  # type: ignore[arg-type]
    with pytest.raises(CredentialsError) as info:
        ApiClient(provider, creds)
    assert fragment in str(info.value)
    assert "Expected:" in str(info.value) or "ISO 8601" in str(info.value)


def test_api_key_format_with_unknown_placeholder() -> None:
    from nango_scripts.providers import ProviderConfig

    provider = ProviderConfig(name="p", base_url="http://x", auth="api_key", api_key_format="{key}")
    with pytest.raises(ConfigError, match="api_key"):
        ApiClient(provider, {"apiKey": "k"})


async def test_500_then_200_is_retried_and_logged(
    fake_api: FakeApi, provider_for: Any, spy: Any
) -> None:
    fake_api.route("/v1/x", sequence((500, {}, "oops"), (200, {}, {"ok": 1})))
    async with ApiClient(
        provider_for(fake_api), {}, log=spy.log, sleep=spy.sleep, retry_policy=NO_JITTER
    ) as client:
        response = await client.request("GET", "/x")
    assert response.json() == {"ok": 1}
    assert len(fake_api.requests) == 2
    assert spy.sleeps == [1.0]
    warning = [fields for level, _, fields in spy.logs if level == "warning"]
    assert warning == [
        {"method": "GET", "url": f"{fake_api.url}/v1/x", "status": 500, "wait_s": 1.0, "attempt": 1}
    ]
    debug = [fields for level, _, fields in spy.logs if level == "debug"]
    assert [d["status"] for d in debug] == [500, 200]
    assert all(d["duration_ms"] >= 0 and d["method"] == "GET" for d in debug)


async def test_429_retry_after_seconds(fake_api: FakeApi, provider_for: Any, spy: Any) -> None:
    fake_api.route("/v1/x", sequence((429, {"Retry-After": "7"}, {}), (200, {}, [])))
    async with ApiClient(provider_for(fake_api), {}, sleep=spy.sleep) as client:
        await client.request("GET", "/x")
    assert spy.sleeps == [7.0]


async def test_429_retry_after_http_date(fake_api: FakeApi, provider_for: Any, spy: Any) -> None:
    when = formatdate(time.time() + 30, usegmt=True)
    fake_api.route("/v1/x", sequence((429, {"Retry-After": when}, {}), (200, {}, [])))
    async with ApiClient(provider_for(fake_api), {}, sleep=spy.sleep) as client:
        await client.request("GET", "/x")
    assert len(spy.sleeps) == 1
    assert 27 <= spy.sleeps[0] <= 30


async def test_429_rate_limit_reset_header(fake_api: FakeApi, provider_for: Any, spy: Any) -> None:
    reset = str(int(time.time()) + 20)
    fake_api.route("/v1/x", sequence((429, {"X-RateLimit-Reset": reset}, {}), (200, {}, [])))
    provider = provider_for(fake_api, rate_limit_reset_header="x-ratelimit-reset")
    async with ApiClient(provider, {}, sleep=spy.sleep) as client:
        await client.request("GET", "/x")
    assert len(spy.sleeps) == 1
    assert 17 <= spy.sleeps[0] <= 20


async def test_retries_exhausted_with_growing_backoff(
    fake_api: FakeApi, provider_for: Any, spy: Any
) -> None:
    fake_api.route("/v1/x", json_reply({"error": "down"}, status=503))
    async with ApiClient(
        provider_for(fake_api), {}, sleep=spy.sleep, retry_policy=NO_JITTER
    ) as client:
        with pytest.raises(HttpError) as info:
            await client.request("GET", "/x")
        assert info.value.status == 503
        assert "Gave up after 3 retries" in str(info.value)
        assert len(fake_api.requests) == 4
        assert spy.sleeps == [1.0, 2.0, 4.0]
        # the per-call value wins over the client's
        with pytest.raises(HttpError):
            await client.request("GET", "/x", retries=1)
    assert len(fake_api.requests) == 6


async def test_default_jitter_stays_under_the_exponential_ceiling(
    fake_api: FakeApi, provider_for: Any, spy: Any
) -> None:
    fake_api.route("/v1/x", json_reply({}, status=500))
    async with ApiClient(provider_for(fake_api), {}, retries=5, sleep=spy.sleep) as client:
        with pytest.raises(HttpError):
            await client.request("GET", "/x")
    assert len(spy.sleeps) == 5
    assert all(0 <= s <= 2**i for i, s in enumerate(spy.sleeps))


async def test_connection_refused_is_retried_then_raises(closed_port: int, spy: Any) -> None:
    from nango_scripts.providers import ProviderConfig

    provider = ProviderConfig(name="down", base_url=f"http://127.0.0.1:{closed_port}/v1")
    async with ApiClient(
        provider, {}, retries=2, sleep=spy.sleep, log=spy.log, retry_policy=NO_JITTER
    ) as client:
        with pytest.raises(HttpError) as info:
            await client.request("GET", "/x", params={"token": "t0p"})
    err = info.value
    assert err.status is None
    assert err.url == f"http://127.0.0.1:{closed_port}/v1/x?token=***"
    assert "ConnectError" in err.message and "gave up after 2 retries" in err.message
    assert spy.sleeps == [1.0, 2.0]
    assert [f["status"] for lvl, _, f in spy.logs if lvl == "warning"] == ["ConnectError"] * 2


async def test_endpoint_query_is_kept_next_to_params(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/x", json_reply({}))
    provider = provider_for(fake_api, auth="api_key", api_key_query="key")
    async with ApiClient(provider, {"apiKey": "k"}) as client:
        await client.request("GET", "/x?a=1", params={"b": 2})
    assert fake_api.requests[0].query == {"a": "1", "key": "k", "b": "2"}


async def test_a_cookie_the_api_sets_goes_back_with_the_next_requests(
    fake_api: FakeApi, provider_for: Any
) -> None:
    """The client reads cookies only from responses that set one: they still come back."""
    fake_api.route("/v1/login", json_reply({"ok": True}, headers={"Set-Cookie": "session=s1"}))
    fake_api.route("/v1/me", json_reply({"ok": True}))
    async with ApiClient(provider_for(fake_api), {}) as client:
        await client.request("GET", "me")
        await client.request("GET", "login")
        await client.request("GET", "me")
    cookies = [r.headers.get("cookie") for r in fake_api.requests]
    assert cookies == [None, None, "session=s1"]
