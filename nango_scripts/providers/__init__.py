"""The built-in provider catalogue (``catalogue.json``) and its resolution.

A provider says how to talk to one kind of API: base URL, auth mode, token URL,
default headers, default pagination and rate-limit headers. A project's
``nango.toml`` can override any field per integration or define its own provider
(see docs/configuration.md).
"""

from __future__ import annotations

from nango_scripts.providers._config import AuthMode, ProviderConfig
from nango_scripts.providers._loader import (
    INTEGRATION_KEYS,
    PROVIDER_TABLE_KEYS,
    load_catalogue,
    resolve_integration,
    resolve_provider,
)

__all__ = [
    "INTEGRATION_KEYS",
    "PROVIDER_TABLE_KEYS",
    "AuthMode",
    "ProviderConfig",
    "load_catalogue",
    "resolve_integration",
    "resolve_provider",
]
