from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

AuthMode = Literal["none", "api_key", "basic", "oauth2", "oauth2_cc"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


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
    docs: str = ""
    """Link to the API's reference documentation."""
    notes: str = ""
    """Caveats of the built-in defaults (why a field is unset, what to override)."""
