"""The built-in provider catalogue (``catalogue.json``) and its resolution.

A provider says how to talk to one kind of API: base URL, auth mode, token URL,
default headers, default pagination and rate-limit headers; for Connect, its OAuth
facts (:class:`OAuthSpec`) or its credentials form (:class:`ConnectForm`), with pure
functions that build and read each step of the OAuth flow. A project's ``nango.toml``
can override any field per integration or define its own provider (see
docs/configuration.md).
"""

from __future__ import annotations

from nango_scripts.providers._config import (
    AuthMode,
    ConnectForm,
    FormField,
    OAuthSpec,
    ProviderConfig,
    Verification,
)
from nango_scripts.providers._loader import (
    INTEGRATION_KEYS,
    PROVIDER_TABLE_KEYS,
    load_catalogue,
    resolve_integration,
    resolve_provider,
)
from nango_scripts.providers._oauth import (
    OAuthTokens,
    TokenRequest,
    authorization_url,
    connect_form,
    new_pkce,
    read_token_response,
    refresh_request,
    token_request,
)

__all__ = [
    "INTEGRATION_KEYS",
    "PROVIDER_TABLE_KEYS",
    "AuthMode",
    "ConnectForm",
    "FormField",
    "OAuthSpec",
    "OAuthTokens",
    "ProviderConfig",
    "TokenRequest",
    "Verification",
    "authorization_url",
    "connect_form",
    "load_catalogue",
    "new_pkce",
    "read_token_response",
    "refresh_request",
    "resolve_integration",
    "resolve_provider",
    "token_request",
]
