"""OAuth2 against a real local server: refresh on 401, refresh before expiry, client credentials."""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import datetime
from typing import Any

import pytest
from support.fakeapi import FakeApi, Received, Reply, json_reply

from nango_scripts.errors import AuthRefreshError, ConfigError, HttpError
from nango_scripts.http import ApiClient

pytestmark = pytest.mark.anyio

PAST = "2000-01-01T00:00:00Z"
FUTURE = "2999-01-01T00:00:00Z"


def bearer_only(token: str) -> Any:
    """An API route that answers 200 to ``Bearer <token>`` and 401 to anything else."""

    def handler(request: Received) -> Reply:
        if request.headers.get("authorization") == f"Bearer {token}":
            return 200, {}, {"ok": True}
        return 401, {}, {"message": "Bad credentials"}

    return handler


def oauth_provider(api: FakeApi, provider_for: Any, **overrides: Any) -> Any:
    return provider_for(api, auth="oauth2", token_url=api.url_for("/oauth/token"), **overrides)


class Saved:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, credentials: dict[str, Any]) -> None:
        self.calls.append(credentials)


async def test_401_is_cured_by_one_refresh(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/me", bearer_only("new"))
    fake_api.route(
        "/oauth/token",
        json_reply({"access_token": "new", "refresh_token": "r2", "expires_in": 3600}),
    )
    creds = {
        "type": "OAUTH2",
        "access_token": "old",
        "refresh_token": "r1",
        "expires_at": FUTURE,
        "client_id": "cid",
        "client_secret": "csecret",
    }
    saved = Saved()
    async with ApiClient(
        oauth_provider(fake_api, provider_for), creds, on_credentials_refreshed=saved
    ) as client:
        response = await client.request("GET", "/me")
        assert response.json() == {"ok": True}
        await client.request("GET", "/me")  # the new token is kept
    token_requests = fake_api.requests_to("/oauth/token")
    assert len(token_requests) == 1
    assert token_requests[0].form() == {
        "grant_type": "refresh_token",
        "refresh_token": "r1",
        "client_id": "cid",
        "client_secret": "csecret",
    }
    assert [r.headers["authorization"] for r in fake_api.requests_to("/v1/me")] == [
        "Bearer old",
        "Bearer new",
        "Bearer new",
    ]
    assert len(saved.calls) == 1
    new = saved.calls[0]
    assert new == {
        **creds,
        "access_token": "new",
        "refresh_token": "r2",
        "expires_at": new["expires_at"],
    }
    assert new["expires_at"].endswith("Z")
    expires = datetime.fromisoformat(new["expires_at"]).timestamp()
    assert abs(expires - (time.time() + 3600)) < 60


async def test_expired_token_is_refreshed_before_the_request(
    fake_api: FakeApi, provider_for: Any
) -> None:
    fake_api.route("/v1/me", bearer_only("fresh"))
    fake_api.route("/oauth/token", json_reply({"access_token": "fresh"}))
    creds = {
        "type": "OAUTH2",
        "access_token": "stale",
        "refresh_token": "r1",
        "expires_at": PAST,
        "client_id": "cid",
        "client_secret": "cs",
    }
    saved = Saved()
    provider = oauth_provider(fake_api, provider_for, token_auth_method="basic")
    async with ApiClient(provider, creds, on_credentials_refreshed=saved) as client:
        await client.request("GET", "/me")
    assert [r.path for r in fake_api.requests] == ["/oauth/token", "/v1/me"]
    token_request = fake_api.requests[0]
    assert token_request.form() == {"grant_type": "refresh_token", "refresh_token": "r1"}
    assert token_request.headers["authorization"] == "Basic " + base64.b64encode(b"cid:cs").decode()
    # no refresh_token and no expires_in in the answer: the old refresh token stays
    assert saved.calls[0]["access_token"] == "fresh"
    assert saved.calls[0]["refresh_token"] == "r1"
    assert "expires_at" not in saved.calls[0]


async def test_concurrent_requests_refresh_once(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/me", bearer_only("fresh"))
    fake_api.route("/oauth/token", json_reply({"access_token": "fresh", "expires_in": 3600}))
    creds = {"access_token": "stale", "refresh_token": "r", "expires_at": PAST}
    async with ApiClient(oauth_provider(fake_api, provider_for), creds) as client:
        await asyncio.gather(*(client.request("GET", "/me") for _ in range(5)))
    assert len(fake_api.requests_to("/oauth/token")) == 1
    assert len(fake_api.requests_to("/v1/me")) == 5


async def test_concurrent_401s_refresh_once(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/me", bearer_only("fresh"))
    fake_api.route("/oauth/token", json_reply({"access_token": "fresh", "expires_in": 3600}))
    creds = {"access_token": "revoked", "refresh_token": "r", "expires_at": FUTURE}
    async with ApiClient(oauth_provider(fake_api, provider_for), creds) as client:
        await asyncio.gather(*(client.request("GET", "/me") for _ in range(4)))
    assert len(fake_api.requests_to("/oauth/token")) == 1


async def test_failed_refresh_raises_auth_refresh_error(
    fake_api: FakeApi, provider_for: Any
) -> None:
    fake_api.route("/v1/me", bearer_only("never"))
    fake_api.route(
        "/oauth/token",
        json_reply({"error": "invalid_grant", "error_description": "revoked"}, status=400),
    )
    creds = {"access_token": "a", "refresh_token": "r", "expires_at": PAST}
    async with ApiClient(oauth_provider(fake_api, provider_for), creds) as client:
        with pytest.raises(AuthRefreshError) as info:
            await client.request("GET", "/me")
    err = info.value
    assert isinstance(err, HttpError)
    assert err.status == 400
    assert "Could not refresh the OAuth2 access token" in err.message
    assert "invalid_grant: revoked" in err.message
    assert fake_api.requests_to("/v1/me") == []


async def test_second_401_after_a_refresh_is_an_error(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/me", bearer_only("never"))
    fake_api.route("/oauth/token", json_reply({"access_token": "new"}))
    creds = {"access_token": "a", "refresh_token": "r"}
    async with ApiClient(oauth_provider(fake_api, provider_for), creds) as client:
        with pytest.raises(HttpError) as info:
            await client.request("GET", "/me")
    assert info.value.status == 401
    assert len(fake_api.requests_to("/oauth/token")) == 1
    assert len(fake_api.requests_to("/v1/me")) == 2


async def test_401_without_refresh_token_is_an_error(fake_api: FakeApi, provider_for: Any) -> None:
    fake_api.route("/v1/me", bearer_only("never"))
    async with ApiClient(oauth_provider(fake_api, provider_for), {"access_token": "a"}) as client:
        with pytest.raises(HttpError) as info:
            await client.request("GET", "/me")
    assert info.value.status == 401
    assert "credentials" in str(info.value)
    assert fake_api.requests_to("/oauth/token") == []


async def test_expired_without_refresh_token(fake_api: FakeApi, provider_for: Any) -> None:
    creds = {"access_token": "a", "expires_at": PAST}
    async with ApiClient(oauth_provider(fake_api, provider_for), creds) as client:
        with pytest.raises(AuthRefreshError, match="no refresh_token"):
            await client.request("GET", "/me")
    assert fake_api.requests == []


async def test_refresh_without_token_url_is_a_config_error(
    fake_api: FakeApi, provider_for: Any
) -> None:
    creds = {"access_token": "a", "refresh_token": "r", "expires_at": PAST}
    async with ApiClient(provider_for(fake_api, auth="oauth2"), creds) as client:
        with pytest.raises(ConfigError, match="token_url"):
            await client.request("GET", "/me")


async def test_token_endpoint_down_is_retried_then_auth_refresh_error(
    fake_api: FakeApi, provider_for: Any, spy: Any
) -> None:
    fake_api.route("/oauth/token", json_reply({}, status=502))
    creds = {"access_token": "a", "refresh_token": "r", "expires_at": PAST}
    async with ApiClient(
        oauth_provider(fake_api, provider_for), creds, retries=2, sleep=spy.sleep
    ) as client:
        with pytest.raises(AuthRefreshError) as info:
            await client.request("GET", "/me")
    assert info.value.status == 502
    assert len(fake_api.requests_to("/oauth/token")) == 3
    assert len(spy.sleeps) == 2


async def test_client_credentials_token_is_fetched_and_cached(
    fake_api: FakeApi, provider_for: Any
) -> None:
    fake_api.route("/v1/me", bearer_only("cc1"))
    fake_api.route("/oauth/token", json_reply({"access_token": "cc1", "expires_in": 3600}))
    provider = provider_for(fake_api, auth="oauth2_cc", token_url=fake_api.url_for("/oauth/token"))
    creds = {"type": "OAUTH2_CC", "client_id": "cid", "client_secret": "cs"}
    saved = Saved()
    async with ApiClient(provider, creds, on_credentials_refreshed=saved) as client:
        for _ in range(3):
            await client.request("GET", "/me")
    token_requests = fake_api.requests_to("/oauth/token")
    assert len(token_requests) == 1
    assert token_requests[0].form() == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "cs",
    }
    assert len(fake_api.requests_to("/v1/me")) == 3
    assert saved.calls[0]["access_token"] == "cc1"
    assert saved.calls[0]["client_id"] == "cid"
    assert "expires_at" in saved.calls[0]


async def test_client_credentials_cached_token_is_used_then_refetched_on_401(
    fake_api: FakeApi, provider_for: Any
) -> None:
    fake_api.route("/v1/me", bearer_only("cc2"))
    fake_api.route("/oauth/token", json_reply({"access_token": "cc2", "expires_in": 60}))
    provider = provider_for(
        fake_api,
        auth="oauth2_cc",
        token_url=fake_api.url_for("/oauth/token"),
        token_auth_method="basic",
    )
    creds = {"client_id": "cid", "client_secret": "cs", "access_token": "cc1", "expires_at": FUTURE}
    async with ApiClient(provider, creds) as client:
        await client.request("GET", "/me")
    assert [r.path for r in fake_api.requests] == ["/v1/me", "/oauth/token", "/v1/me"]
    assert fake_api.requests[0].headers["authorization"] == "Bearer cc1"
    assert fake_api.requests[1].headers["authorization"].startswith("Basic ")
    assert fake_api.requests[1].form() == {"grant_type": "client_credentials"}


async def test_a_token_that_cannot_go_into_a_header_is_refused_unquoted(
    fake_api: FakeApi, provider_for: Any
) -> None:
    fake_api.route("/v1/me", bearer_only("new"))
    fake_api.route("/oauth/token", json_reply({"access_token": "t-s3cr3t\nX-Injected: 1"}))
    creds = {"type": "OAUTH2", "access_token": "old", "refresh_token": "r1", "expires_at": PAST}
    saved = Saved()
    async with ApiClient(
        oauth_provider(fake_api, provider_for), creds, on_credentials_refreshed=saved
    ) as client:
        with pytest.raises(AuthRefreshError, match="access_token in the answer") as caught:
            await client.request("GET", "/me")
    assert "s3cr3t" not in str(caught.value)
    assert "Injected" not in str(caught.value)
    assert saved.calls == []  # never stored
    assert fake_api.requests_to("/v1/me") == []
