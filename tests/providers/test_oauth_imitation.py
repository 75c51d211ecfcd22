"""The local OAuth2 provider imitation (tests/support/oauth_provider.py), over real HTTP.

The flow's own functions (nango_scripts.providers) drive it, so these tests also show
the catalogue's requests are what a real provider accepts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from support.oauth_provider import OAuthProvider

from nango_scripts.errors import AuthRefreshError
from nango_scripts.providers import (
    OAuthTokens,
    authorization_url,
    new_pkce,
    read_token_response,
    refresh_request,
    resolve_integration,
    token_request,
)

CALLBACK = "http://127.0.0.1:1/oauth/callback"


@pytest.fixture
def idp() -> Iterator[OAuthProvider]:
    with OAuthProvider(redirect_uris=[CALLBACK]) as provider:
        yield provider


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def _integration(idp: OAuthProvider, *, pkce: bool = True, basic: bool = False) -> Any:
    overrides = idp.integration_overrides()
    overrides["oauth"]["pkce"] = pkce
    section = {"provider": "github", **overrides}
    if basic:
        section["token_auth_method"] = "basic"
    return resolve_integration("gh", section)


def _consent(
    idp: OAuthProvider,
    http: httpx.Client,
    decision: str = "allow",
    *,
    challenge: str | None = None,
    state: str = "state-1",
) -> dict[str, str]:
    """Open the consent page, press a button; the redirect's query."""
    url = authorization_url(
        _integration(idp),
        client_id=idp.client_id,
        redirect_uri=CALLBACK,
        scopes=["repo", "user"],
        state=state,
        code_challenge=challenge,
    )
    page = http.get(url)
    assert page.status_code == 200
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.text)
    assert request_id is not None
    answer = http.post(
        idp.authorize_url, data={"request_id": request_id.group(1), "decision": decision}
    )
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return dict(parse_qsl(urlsplit(location).query))


def _exchange(
    idp: OAuthProvider,
    http: httpx.Client,
    code: str,
    *,
    verifier: str | None = None,
    basic: bool = False,
    secret: str | None = None,
) -> httpx.Response:
    request = token_request(
        _integration(idp, basic=basic),
        code=code,
        redirect_uri=CALLBACK,
        client_id=idp.client_id,
        client_secret=secret or idp.client_secret,
        code_verifier=verifier,
    )
    return http.post(request.url, content=request.content, headers=request.headers)


def _tokens(idp: OAuthProvider, response: httpx.Response) -> OAuthTokens:
    assert response.status_code == 200, response.text
    return read_token_response(_integration(idp), response.json(), datetime.now(UTC))


def _userinfo(idp: OAuthProvider, http: httpx.Client, token: str) -> httpx.Response:
    return http.get(idp.userinfo_url, headers={"Authorization": f"Bearer {token}"})


# --- consent ---------------------------------------------------------------------------


def test_consent_page_is_an_accessible_form(idp: OAuthProvider, http: httpx.Client) -> None:
    url = authorization_url(
        _integration(idp),
        client_id=idp.client_id,
        redirect_uri=CALLBACK,
        scopes=["repo"],
        state="s",
    )
    page = http.get(url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in page.text and "<h1>" in page.text
    assert '<form method="post" action="/authorize">' in page.text
    assert ">Allow</button>" in page.text and ">Deny</button>" in page.text
    assert "<li>repo</li>" in page.text


def test_allowed_consent_redirects_with_a_code_and_the_state(
    idp: OAuthProvider, http: httpx.Client
) -> None:
    query = _consent(idp, http, state="abc")
    assert set(query) == {"code", "state"} and query["state"] == "abc"
    tokens = _tokens(idp, _exchange(idp, http, query["code"]))
    assert tokens.scopes == ("repo", "user")
    assert tokens.expires_at is not None and tokens.refresh_token
    me = _userinfo(idp, http, tokens.access_token)
    assert me.status_code == 200 and me.json() == {"id": "user-1", "email": "ada@example.test"}


def test_denied_consent_redirects_with_access_denied(
    idp: OAuthProvider, http: httpx.Client
) -> None:
    query = _consent(idp, http, "deny", state="xyz")
    assert query["error"] == "access_denied" and query["state"] == "xyz"
    assert "code" not in query


@pytest.mark.parametrize(
    ("change", "title"),
    [
        ({"client_id": "nobody"}, "Unknown application"),
        ({"redirect_uri": "http://evil.test/cb"}, "Wrong redirect URI"),
    ],
)
def test_unknown_client_or_redirect_is_a_400_page_without_redirect(
    idp: OAuthProvider, http: httpx.Client, change: dict[str, str], title: str
) -> None:
    params = {"response_type": "code", "client_id": idp.client_id, "redirect_uri": CALLBACK}
    page = http.get(idp.authorize_url, params={**params, **change, "state": "s"})
    assert page.status_code == 400 and "location" not in page.headers
    assert title in page.text


def test_auto_consent_redirects_at_once(idp: OAuthProvider, http: httpx.Client) -> None:
    idp.auto_consent = "deny"
    url = authorization_url(
        _integration(idp), client_id=idp.client_id, redirect_uri=CALLBACK, scopes=[], state="s"
    )
    answer = http.get(url)
    assert answer.status_code == 302 and "error=access_denied" in answer.headers["location"]


# --- code exchange ---------------------------------------------------------------------


def test_pkce_right_verifier_gets_tokens(idp: OAuthProvider, http: httpx.Client) -> None:
    verifier, challenge = new_pkce()
    code = _consent(idp, http, challenge=challenge)["code"]
    assert _exchange(idp, http, code, verifier=verifier).status_code == 200


@pytest.mark.parametrize("verifier", ["wrong-" + "x" * 43, None])
def test_pkce_wrong_or_missing_verifier_is_refused(
    idp: OAuthProvider, http: httpx.Client, verifier: str | None
) -> None:
    _, challenge = new_pkce()
    code = _consent(idp, http, challenge=challenge)["code"]
    answer = _exchange(idp, http, code, verifier=verifier)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    with pytest.raises(AuthRefreshError, match="invalid_grant"):
        read_token_response(_integration(idp), answer.json(), datetime.now(UTC))


def test_a_code_is_used_once(idp: OAuthProvider, http: httpx.Client) -> None:
    code = _consent(idp, http)["code"]
    assert _exchange(idp, http, code).status_code == 200
    again = _exchange(idp, http, code)
    assert again.status_code == 400 and "already used" in again.json()["error_description"]


def test_client_secret_by_basic_auth_and_a_wrong_secret(
    idp: OAuthProvider, http: httpx.Client
) -> None:
    code = _consent(idp, http)["code"]
    wrong = _exchange(idp, http, code, basic=True, secret="not-it")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert _exchange(idp, http, code, basic=True).status_code == 200
    assert all("client_secret" not in form for form in idp.token_forms)


def test_a_different_redirect_uri_is_refused(idp: OAuthProvider, http: httpx.Client) -> None:
    code = _consent(idp, http)["code"]
    request = token_request(
        _integration(idp),
        code=code,
        redirect_uri=CALLBACK + "/other",
        client_id=idp.client_id,
        client_secret=idp.client_secret,
    )
    answer = http.post(request.url, content=request.content, headers=request.headers)
    assert answer.status_code == 400 and "redirect_uri" in answer.json()["error_description"]


def test_an_expired_code_is_refused(idp: OAuthProvider, http: httpx.Client) -> None:
    code = _consent(idp, http)["code"]
    idp.advance(601)
    assert "expired" in _exchange(idp, http, code).json()["error_description"]


# --- refresh, expiry, failures ---------------------------------------------------------


def test_refresh_rotates_the_refresh_token(idp: OAuthProvider, http: httpx.Client) -> None:
    first = _tokens(idp, _exchange(idp, http, _consent(idp, http)["code"]))
    assert first.refresh_token is not None

    def refresh(token: str) -> httpx.Response:
        request = refresh_request(
            _integration(idp),
            refresh_token=token,
            client_id=idp.client_id,
            client_secret=idp.client_secret,
        )
        return http.post(request.url, content=request.content, headers=request.headers)

    second = _tokens(idp, refresh(first.refresh_token))
    assert second.refresh_token not in (None, first.refresh_token)
    assert second.access_token != first.access_token
    reused = refresh(first.refresh_token)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert idp.token_requests == {"authorization_code": 1, "refresh_token": 2}


def test_access_tokens_expire(idp: OAuthProvider, http: httpx.Client) -> None:
    idp.expires_in = 60
    tokens = _tokens(idp, _exchange(idp, http, _consent(idp, http)["code"]))
    assert tokens.expires_at is not None
    assert 55 <= (tokens.expires_at - datetime.now(UTC)).total_seconds() <= 60
    assert _userinfo(idp, http, tokens.access_token).status_code == 200
    idp.advance(61)
    expired = _userinfo(idp, http, tokens.access_token)
    assert expired.status_code == 401 and "invalid_token" in expired.headers["www-authenticate"]
    assert _userinfo(idp, http, "at-made-up").status_code == 401
    assert http.get(idp.userinfo_url).status_code == 401
    assert idp.userinfo_requests == 4


@pytest.mark.parametrize(("failure", "status"), [("server_error", 500), ("invalid_grant", 400)])
def test_failure_switch(idp: OAuthProvider, http: httpx.Client, failure: Any, status: int) -> None:
    code = _consent(idp, http)["code"]
    idp.failure = failure
    answer = _exchange(idp, http, code)
    assert answer.status_code == status and answer.json()["error"] == failure
    idp.failure = None
    assert _exchange(idp, http, code).status_code == 200  # the code was not spent
    assert idp.token_requests["authorization_code"] == 2


def test_unknown_grant_type_and_path(idp: OAuthProvider, http: httpx.Client) -> None:
    form = {
        "grant_type": "password",
        "client_id": idp.client_id,
        "client_secret": idp.client_secret,
    }
    answer = http.post(idp.token_url, data=form)
    assert answer.json()["error"] == "unsupported_grant_type"
    assert http.get(idp.origin + "/nope").status_code == 404
