"""OAuth2 authorization-code flow and Connect forms, as pure functions of a provider.

Each function builds or reads one step of the flow and does no I/O, so the server's
Connect routes (and any other driver) send the requests themselves::

    verifier, challenge = new_pkce()
    url = authorization_url(provider, client_id=..., redirect_uri=..., scopes=None,
                            state=state, code_challenge=challenge if provider.oauth.pkce else None)
    request = token_request(provider, code=code, redirect_uri=..., client_id=...,
                            client_secret=..., code_verifier=verifier)
    answer = httpx.post(request.url, content=request.content, headers=request.headers)
    tokens = read_token_response(provider, answer.json(), now=datetime.now(UTC))
    store(tokens.credentials(), tokens.connection_config)

Credentials use the names the HTTP layer refreshes with (``access_token``,
``refresh_token``, ``expires_at`` as ISO 8601 UTC). No error message carries a token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple, NoReturn
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from nango_scripts.errors import AuthRefreshError, ConfigError
from nango_scripts.providers._build import placeholders
from nango_scripts.providers._config import ConnectForm, FormField, OAuthSpec, ProviderConfig

__all__ = [
    "OAuthTokens",
    "TokenRequest",
    "authorization_url",
    "connect_form",
    "new_pkce",
    "read_token_response",
    "refresh_request",
    "token_request",
]

_DEFAULT_FORMS: Mapping[str, ConnectForm] = MappingProxyType(
    {
        "api_key": ConnectForm((FormField("apiKey", "API key", secret=True),)),
        "basic": ConnectForm(
            (FormField("username", "Username"), FormField("password", "Password", secret=True))
        ),
        "oauth2_cc": ConnectForm(
            (FormField("client_id", "Client ID"), FormField("client_secret", "Client secret", True))
        ),
    }
)
_SCOPES = re.compile(r"[\s,]+")


class TokenRequest(NamedTuple):
    """A POST to the token endpoint: ``url, form, headers = request`` also works."""

    url: str
    form: Mapping[str, str]
    headers: Mapping[str, str]

    @property
    def content(self) -> bytes:
        """``form`` encoded as ``headers["Content-Type"]`` says (form or JSON)."""
        if self.headers.get("Content-Type") == "application/json":
            return json.dumps(dict(self.form)).encode()
        return urlencode(self.form).encode()


@dataclass(frozen=True)
class OAuthTokens:
    """A token endpoint's answer, read. Tokens are kept out of ``repr``."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    """None when the answer has none: a refresh then keeps the previous one."""
    expires_at: datetime | None
    scopes: tuple[str, ...]
    """Granted scopes as the provider reports them (empty when it does not)."""
    connection_config: Mapping[str, str | bool]
    raw: Mapping[str, Any] = field(repr=False)
    """The whole answer, as Nango keeps it."""

    def credentials(self) -> dict[str, Any]:
        """The connection's ``OAUTH2`` credentials (Nango's shape, read by the HTTP layer)."""
        out: dict[str, Any] = {"type": "OAUTH2", "access_token": self.access_token}
        if self.refresh_token is not None:
            out["refresh_token"] = self.refresh_token
        if self.expires_at is not None:
            when = self.expires_at.astimezone(UTC).isoformat(timespec="seconds")
            out["expires_at"] = when.replace("+00:00", "Z")
        out["raw"] = dict(self.raw)
        return out


def new_pkce() -> tuple[str, str]:
    """A fresh PKCE pair: (code verifier, its S256 code challenge), RFC 7636."""
    verifier = secrets.token_urlsafe(48)  # 64 characters of the unreserved set
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    provider: ProviderConfig,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str] | None,
    state: str,
    code_challenge: str | None = None,
    extra: Mapping[str, str | None] | None = None,
) -> str:
    """The consent page's URL: ``response_type=code``, client, redirect, scopes, state, the
    provider's ``authorization_params``, the S256 challenge when given, then ``extra``
    (a None value removes a parameter). ``scopes=None`` asks for the default scopes."""
    spec = _spec(provider)
    base = _url(provider, "oauth.authorization_url", spec.authorization_url)
    wanted = spec.default_scopes if scopes is None else tuple(scopes)
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": spec.scope_separator.join(wanted) or None,
        "state": state,
        **spec.authorization_params,
    }
    if code_challenge is not None:
        params.update(code_challenge=code_challenge, code_challenge_method="S256")
    params.update(extra or {})
    split = urlsplit(base)
    query = [*parse_qsl(split.query, keep_blank_values=True)]
    query = [(k, v) for k, v in query if k not in params]
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(split._replace(query=urlencode(query, quote_via=quote)))


def token_request(
    provider: ProviderConfig,
    *,
    code: str,
    redirect_uri: str,
    client_id: str,
    client_secret: str,
    code_verifier: str | None = None,
) -> TokenRequest:
    """The code exchange (``grant_type=authorization_code``) at ``token_url``."""
    grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier is not None:
        grant["code_verifier"] = code_verifier
    return _token_request(provider, grant, client_id, client_secret)


def refresh_request(
    provider: ProviderConfig, *, refresh_token: str, client_id: str, client_secret: str
) -> TokenRequest:
    """A refresh (``grant_type=refresh_token``) at ``token_url``."""
    grant = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token_request(provider, grant, client_id, client_secret)


def read_token_response(
    provider: ProviderConfig, body: Mapping[str, Any], now: datetime
) -> OAuthTokens:
    """Tokens, expiry, scopes and connection config from the token endpoint's JSON.

    ``expires_at`` is ``now + expires_in`` (or the answer's own ``expires_at``). An error
    answer (``{"error": ...}``, Slack's ``{"ok": false}``) or one without an access token
    raises :class:`AuthRefreshError` naming what is wrong, never a token.
    """
    spec = provider.oauth or OAuthSpec(authorization_url="")
    if not isinstance(body, Mapping):
        _fail(provider, f"the answer is not a JSON object but {type(body).__name__}")
    if body.get("error") or body.get("ok") is False:
        error = str(body.get("error") or "ok: false")[:100]
        text = f"the token endpoint answered error {error!r}"
        description = body.get("error_description")
        if description:
            text += f": {str(description)[:200]}"
        _fail(provider, text, error)
    for path in spec.access_token_paths:
        token = _at(body, path)
        if isinstance(token, str) and token:
            break
    else:
        looked = ", ".join(spec.access_token_paths)
        keys = ", ".join(sorted(map(str, body))) or "none"
        _fail(provider, f"the answer has no access token (looked at {looked}; keys: {keys})")
    beside = _at(body, path.rpartition(".")[0]) if "." in path else body
    assert isinstance(beside, Mapping)
    refresh = beside.get("refresh_token")
    if refresh is not None and not isinstance(refresh, str):
        _fail(provider, f"refresh_token beside {path} is not a string")
    scope = beside.get("scope")
    return OAuthTokens(
        access_token=token,
        refresh_token=refresh or None,
        expires_at=_expires_at(provider, beside, now),
        scopes=tuple(s for s in _SCOPES.split(scope) if s) if isinstance(scope, str) else (),
        connection_config=MappingProxyType(
            {
                key: value
                for key in spec.connection_config
                if isinstance(value := _at(body, key), str | bool)
            }
        ),
        raw=MappingProxyType(dict(body)),
    )


def connect_form(provider: ProviderConfig) -> ConnectForm | None:
    """The Connect form of an api_key, basic or oauth2_cc provider (its own or the mode's
    default); None for oauth2 (a consent page) and none."""
    if provider.form is not None:
        return provider.form
    return _DEFAULT_FORMS.get(provider.auth)


# -- helpers --------------------------------------------------------------------------------


def _spec(provider: ProviderConfig) -> OAuthSpec:
    if provider.oauth is None:
        raise ConfigError(
            f"Provider {provider.name!r} has no OAuth authorization URL.",
            hint='Set oauth = { authorization_url = "https://..." } for it in nango.toml.',
        )
    return provider.oauth


def _url(provider: ProviderConfig, key: str, url: str) -> str:
    missing = placeholders(url)
    if missing:
        raise ConfigError(
            f"Provider {provider.name!r}: {key} {url!r} needs a value for {{{missing[0]}}}.",
            hint=f'Set base_url_params = {{ {missing[0]} = "..." }} for the integration.',
        )
    return url


def _token_request(
    provider: ProviderConfig, grant: dict[str, str], client_id: str, client_secret: str
) -> TokenRequest:
    if not provider.token_url:
        raise ConfigError(
            f"Provider {provider.name!r} has no token_url.",
            hint="Set token_url for the integration in nango.toml.",
        )
    url = _url(provider, "token_url", provider.token_url)
    spec = provider.oauth
    form = {**(spec.token_params if spec is not None else {}), **grant}
    json_body = spec is not None and spec.token_format == "json"
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/json" if json_body else "application/x-www-form-urlencoded",
    }
    if provider.token_auth_method == "basic":
        pair = f"{client_id}:{client_secret}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    else:
        form.update(client_id=client_id, client_secret=client_secret)
    return TokenRequest(url, MappingProxyType(form), MappingProxyType(headers))


def _at(body: Mapping[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split(".") if path else ():
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _expires_at(
    provider: ProviderConfig, beside: Mapping[str, Any], now: datetime
) -> datetime | None:
    expires_in = beside.get("expires_in")
    if expires_in not in (None, ""):
        try:
            seconds = float(expires_in)
        except (TypeError, ValueError):
            _fail(provider, f"expires_in is not a number of seconds ({type(expires_in).__name__})")
        return now + timedelta(seconds=seconds)
    expires_at = beside.get("expires_at")
    if isinstance(expires_at, int | float) and not isinstance(expires_at, bool):
        return datetime.fromtimestamp(expires_at, UTC)
    if isinstance(expires_at, str) and expires_at:
        try:
            when = datetime.fromisoformat(expires_at)
        except ValueError:
            _fail(provider, "expires_at is neither a Unix time nor an ISO 8601 date-time")
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def _fail(provider: ProviderConfig, text: str, error: str = "") -> NoReturn:
    raise AuthRefreshError(
        f"Could not read the OAuth2 tokens of provider {provider.name!r}: {text}.",
        method="POST",
        url=provider.token_url or "",
        body=json.dumps({"error": error}) if error else "",
        hint="Check the client id and secret, the redirect URI and the token URL; "
        "a used or expired code needs the user to authorize again.",
    )
