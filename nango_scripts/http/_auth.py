"""Authenticating requests per ``provider.auth``: static headers/params, or OAuth2 tokens.

OAuth2 tokens are renewed under an ``asyncio.Lock`` so concurrent requests share one
refresh: whoever waited on the lock sees the new token and does not refresh again.
Token requests go through ``post`` (the client's retrying sender), so this module does
no I/O of its own.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from nango_scripts.errors import AuthRefreshError, ConfigError, HttpError
from nango_scripts.http._credentials import (
    check_credentials,
    format_expires_at,
    parse_expires_at,
    parse_token_response,
    require_field,
)
from nango_scripts.providers import ProviderConfig

__all__ = ["Auth", "AuthParts", "TokenPoster", "build_auth"]

EXPIRY_MARGIN_S = 60.0
"""A token this close to expiry is renewed before use: it could expire in flight."""

TokenPoster = Callable[[str, dict[str, str], dict[str, str]], Awaitable[httpx.Response]]
Refreshed = Callable[[dict[str, Any]], Awaitable[None]]
Log = Callable[[str, str, Mapping[str, Any]], None]


@dataclass(frozen=True, slots=True)
class AuthParts:
    """What to add to one request; ``token`` tells a stale 401 from a fresh one."""

    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    token: str | None = None


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


class Auth:
    """Static credentials (none, api_key, basic): the same parts on every request."""

    can_refresh = False

    def __init__(self, parts: AuthParts | None = None) -> None:
        self._parts = parts or AuthParts()

    async def prepare(self) -> AuthParts:
        return self._parts

    async def unauthorized(self, used: AuthParts) -> bool:
        """After a 401: renew if possible; True when a retry may succeed."""
        return False


class _TokenAuth(Auth):
    """Bearer tokens from ``provider.token_url``; subclasses say which grant renews them."""

    can_refresh = True
    what = "get an OAuth2 access token"
    done = "got an OAuth2 access token"

    def __init__(
        self,
        provider: ProviderConfig,
        credentials: Mapping[str, Any],
        post: TokenPoster,
        on_refreshed: Refreshed | None,
        log: Log,
    ) -> None:
        super().__init__()
        self._provider = provider
        self._credentials = dict(credentials)
        self._post = post
        self._on_refreshed = on_refreshed
        self._log = log
        self._lock = asyncio.Lock()
        self._token: str | None = credentials.get("access_token") or None
        self._expires_at = parse_expires_at(credentials.get("expires_at"), provider.name)
        self._margin = EXPIRY_MARGIN_S

    def _stale(self) -> bool:
        if self._token is None:
            return True
        return self._expires_at is not None and self._expires_at - time.time() < self._margin

    async def prepare(self) -> AuthParts:
        if self._stale():
            async with self._lock:
                if self._stale():  # another request may have renewed it while we waited
                    await self._renew()
        return AuthParts(headers={"Authorization": f"Bearer {self._token}"}, token=self._token)

    async def unauthorized(self, used: AuthParts) -> bool:
        async with self._lock:
            if self._token != used.token:
                return True
            if not self._renewable():
                return False
            await self._renew()
            return True

    def _renewable(self) -> bool:
        return True

    def _grant(self) -> dict[str, str]:
        raise NotImplementedError

    def _client_auth(self, form: dict[str, str], headers: dict[str, str]) -> None:
        client_id = self._credentials.get("client_id")
        secret = self._credentials.get("client_secret")
        if self._provider.token_auth_method == "basic" and client_id and secret:
            headers["Authorization"] = _basic(str(client_id), str(secret))
            return
        if client_id:
            form["client_id"] = str(client_id)
        if secret:
            form["client_secret"] = str(secret)

    async def _renew(self) -> None:
        token_url = self._provider.token_url
        if not token_url:
            raise ConfigError(
                f"Provider {self._provider.name!r} (auth {self._provider.auth!r}) has no token_url, "
                f"so the access token cannot be {'renewed' if self._token else 'obtained'}.",
                hint="Set token_url for this integration in nango.toml.",
            )
        form = self._grant()
        headers = {"Accept": "application/json"}
        self._client_auth(form, headers)
        try:
            response = await self._post(token_url, form, headers)
        except HttpError as exc:
            raise AuthRefreshError(
                f"Could not {self.what}: {exc.message}",
                method=exc.method,
                url=exc.url,
                status=exc.status,
                body=exc.body,
            ) from exc
        payload = parse_token_response(response, self.what)
        self._token = str(payload["access_token"])
        updated = {**self._credentials, "access_token": self._token}
        if payload.get("refresh_token"):
            updated["refresh_token"] = str(payload["refresh_token"])
        try:
            expires_in: float | None = float(payload["expires_in"])
        except (KeyError, TypeError, ValueError):
            expires_in = None
        if expires_in is not None:
            self._expires_at = time.time() + expires_in
            # A short-lived token (expires_in <= margin) must still be usable once.
            self._margin = min(EXPIRY_MARGIN_S, expires_in / 2)
            updated["expires_at"] = format_expires_at(self._expires_at)
        else:
            self._expires_at = None
            updated.pop("expires_at", None)
        self._credentials = updated
        self._log(
            "info",
            self.done,
            {"provider": self._provider.name, "expires_at": updated.get("expires_at")},
        )
        if self._on_refreshed is not None:
            await self._on_refreshed(dict(updated))


class OAuth2Auth(_TokenAuth):
    """Authorization-code tokens: renewed with the refresh token when expired or refused."""

    what = "refresh the OAuth2 access token"
    done = "refreshed the OAuth2 access token"

    def _renewable(self) -> bool:
        return bool(self._credentials.get("refresh_token"))

    def _grant(self) -> dict[str, str]:
        refresh_token = self._credentials.get("refresh_token")
        if not refresh_token:
            raise AuthRefreshError(
                f"The OAuth2 access token of provider {self._provider.name!r} has expired and "
                "the credentials hold no refresh_token to renew it.",
                method="POST",
                url=self._provider.token_url or "",
                hint="Authorize the connection again, or import credentials with a refresh_token.",
            )
        return {"grant_type": "refresh_token", "refresh_token": str(refresh_token)}


class ClientCredentialsAuth(_TokenAuth):
    """Client-credentials tokens: fetched on first use, cached until expiry, renewed on 401."""

    what = "get an OAuth2 client-credentials token"
    done = "got an OAuth2 client-credentials token"

    def _grant(self) -> dict[str, str]:
        return {"grant_type": "client_credentials"}


def build_auth(
    provider: ProviderConfig,
    credentials: Mapping[str, Any],
    post: TokenPoster,
    on_refreshed: Refreshed | None,
    log: Log,
) -> Auth:
    """The authenticator for ``provider.auth``; CredentialsError if a field is missing."""
    mode = provider.auth
    check_credentials(credentials, mode, provider.name)
    if mode == "api_key":
        key = require_field(credentials, mode, provider.name, "apiKey", "api_key")
        if provider.api_key_query:
            return Auth(AuthParts(params={provider.api_key_query: key}))
        try:
            value = provider.api_key_format.format(api_key=key)
        except (KeyError, IndexError, ValueError):
            raise ConfigError(
                f"api_key_format {provider.api_key_format!r} of provider {provider.name!r} may "
                "only use the placeholder {api_key}."
            ) from None
        return Auth(AuthParts(headers={provider.api_key_header: value}))
    if mode == "basic":
        user = require_field(credentials, mode, provider.name, "username")
        password = str(credentials.get("password") or "")
        return Auth(AuthParts(headers={"Authorization": _basic(user, password)}))
    if mode == "oauth2":
        require_field(credentials, mode, provider.name, "access_token")
        return OAuth2Auth(provider, credentials, post, on_refreshed, log)
    if mode == "oauth2_cc":
        require_field(credentials, mode, provider.name, "client_id")
        require_field(credentials, mode, provider.name, "client_secret")
        return ClientCredentialsAuth(provider, credentials, post, on_refreshed, log)
    return Auth()
