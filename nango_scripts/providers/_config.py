"""The frozen shapes of the catalogue: a provider, its OAuth facts and its Connect form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

AuthMode = Literal["none", "api_key", "basic", "oauth2", "oauth2_cc"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class OAuthSpec:
    """How an ``oauth2`` provider authorizes a user (the token URL is ``ProviderConfig.token_url``).

    Facts follow Nango's providers.yaml; :mod:`nango_scripts.providers._oauth` reads them.
    """

    authorization_url: str
    """Where the user's browser is sent to consent. May hold ``{placeholders}``."""
    default_scopes: tuple[str, ...] = ()
    """Scopes asked for when the integration names none."""
    scope_separator: Literal[" ", ","] = " "
    """How scopes are joined in the authorization URL's ``scope``."""
    pkce: bool = True
    """Send an S256 ``code_challenge`` (and the verifier with the code)."""
    authorization_params: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    """Extra query parameters of the authorization URL (``access_type = offline``...)."""
    token_params: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    """Extra fields of every token request (code exchange and refresh)."""
    token_format: Literal["form", "json"] = "form"
    """Body of the token requests: form-encoded or JSON."""
    access_token_paths: tuple[str, ...] = ("access_token",)
    """Dotted paths of the access token in the token response, tried in order. The
    ``refresh_token``, ``expires_in`` and ``scope`` beside the one found are read with it
    (Slack: ``authed_user.access_token`` for a user-token-only install)."""
    connection_config: tuple[str, ...] = ()
    """Dotted paths of token-response values kept as the connection's config, under the
    dotted path itself (``instance_url``, ``team.id``); only strings and booleans."""


@dataclass(frozen=True)
class FormField:
    """One input of a Connect form; ``name`` is the credentials key it fills."""

    name: str
    label: str
    secret: bool = False
    help: str = ""


@dataclass(frozen=True)
class Verification:
    """A request (relative to ``base_url``) that must answer 2xx with the new credentials."""

    path: str
    method: Literal["GET", "POST"] = "GET"


@dataclass(frozen=True)
class ConnectForm:
    """The Connect form of an ``api_key``, ``basic`` or ``oauth2_cc`` connection."""

    fields: tuple[FormField, ...]
    verification: Verification | None = None


@dataclass(frozen=True)
class ProviderConfig:
    """How to reach one integration's API. Frozen; mappings are read-only views."""

    name: str
    """The provider's name (``github``), or the integration id for a custom provider."""
    base_url: str
    auth: AuthMode = "none"
    token_url: str | None = None
    """OAuth2 (refresh and client-credentials) token endpoint."""
    token_auth_method: Literal["body", "basic"] = "body"
    """How client_id/client_secret are sent to ``token_url``: form fields or HTTP basic."""
    oauth: OAuthSpec | None = None
    """``oauth2``: authorization URL, scopes, PKCE and how to read the token response."""
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    pagination: Mapping[str, Any] | None = None
    """Default pagination in Nango's dict form (``{"type": "cursor", ...}``), or None."""
    rate_limit_reset_header: str | None = None
    """Header telling when the rate limit resets, e.g. ``x-ratelimit-reset``."""
    rate_limit_reset_format: Literal["epoch", "seconds"] = "epoch"
    """``epoch``: the header is a Unix time; ``seconds``: seconds to wait."""
    api_key_header: str = "Authorization"
    api_key_format: str = "Bearer {api_key}"
    api_key_query: str = ""
    """If set, the API key goes into this query parameter instead of a header."""
    form: ConnectForm | None = None
    """The Connect form's fields and verification request; None: the auth mode's default."""
    docs: str = ""
    """Link to the API's reference documentation."""
    notes: str = ""
    """Caveats of the built-in defaults (why a field is unset, what to override)."""
