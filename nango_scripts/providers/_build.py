"""Raw mappings (catalogue JSON, nango.toml tables) -> validated :class:`ProviderConfig`.

Every check raises :class:`ConfigError` whose message starts with ``where`` (the
catalogue entry or the nango.toml table), so the user knows which block to fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import fields
from types import MappingProxyType
from typing import Any, get_args

from nango_scripts.errors import ConfigError
from nango_scripts.providers._config import AuthMode, ProviderConfig

AUTH_MODES: tuple[str, ...] = get_args(AuthMode)
PAGINATION_TYPES = ("cursor", "link", "offset")
TOKEN_AUTH_METHODS = ("body", "basic")
RESET_FORMATS = ("epoch", "seconds")

#: Fields a catalogue entry or a nango.toml table may set (``name`` is never set by hand).
PROVIDER_FIELDS: frozenset[str] = frozenset(f.name for f in fields(ProviderConfig)) - {"name"}

_STRING_FIELDS = (
    "base_url",
    "api_key_header",
    "api_key_format",
    "api_key_query",
    "docs",
    "notes",
)
# Optional strings: "" in a table means "unset" (TOML has no null).
_OPTIONAL_STRING_FIELDS = ("token_url", "rate_limit_reset_header")
_CHOICES: dict[str, tuple[str, ...]] = {
    "auth": AUTH_MODES,
    "token_auth_method": TOKEN_AUTH_METHODS,
    "rate_limit_reset_format": RESET_FORMATS,
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


def check_keys(table: Mapping[str, Any], valid: Collection[str], where: str) -> None:
    for key in table:
        if key not in valid:
            raise ConfigError(
                f"{where}: unknown key {key!r}{did_you_mean(key, valid)}.",
                hint="Valid keys: " + ", ".join(sorted(valid)) + ".",
            )


def placeholders(text: str) -> list[str]:
    """Names of the ``{placeholder}`` fields in ``text``, in order."""
    return _PLACEHOLDER.findall(text)


def fill_placeholders(text: str, params: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), text)


def apply_fields(
    base: ProviderConfig | None, values: Mapping[str, Any], *, name: str, where: str
) -> ProviderConfig:
    """``base`` with ``values`` (provider fields only) laid over it, validated.

    ``headers`` merge over the base's (case-insensitively; ``""`` removes one),
    ``pagination`` replaces (``{}`` removes it), every other field replaces.
    """
    current: dict[str, Any] = (
        {f: getattr(base, f) for f in PROVIDER_FIELDS} if base is not None else {}
    )
    for key, value in values.items():
        if key == "headers":
            current["headers"] = _merge_headers(current.get("headers", {}), value, where)
        else:
            current[key] = _field_value(key, value, where)
    if not current.get("base_url"):
        raise ConfigError(
            f"{where}: no base_url.",
            hint='Set base_url = "https://..." or provider = "<a built-in provider>".',
        )
    config = ProviderConfig(name=name, **current)
    _check_consistency(config, where)
    return config


def check_urls(config: ProviderConfig, where: str) -> None:
    """base_url and token_url must be http(s) URLs (unless a placeholder is still to fill)."""
    for key in ("base_url", "token_url"):
        url = getattr(config, key)
        if url is None or placeholders(url):
            continue
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: {key} {url!r} must start with http:// or https://.")


def _field_value(key: str, value: Any, where: str) -> Any:
    if key in _STRING_FIELDS:
        text = _string(key, value, where)
        return text.rstrip("/") if key == "base_url" else text
    if key in _OPTIONAL_STRING_FIELDS:
        return _string(key, value, where) or None
    if key in _CHOICES:
        choice = _string(key, value, where)
        if key == "auth":
            choice = choice.lower()  # Nango spells them API_KEY, OAUTH2...
        if choice not in _CHOICES[key]:
            raise ConfigError(
                f"{where}: {key} = {value!r} is not one of "
                + ", ".join(_CHOICES[key])
                + f"{did_you_mean(choice, _CHOICES[key])}."
            )
        return choice
    if key == "pagination":
        return _pagination(value, where)
    raise AssertionError(f"unhandled provider field {key}")  # PROVIDER_FIELDS grew


def _string(key: str, value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, not {type(value).__name__}.")
    return value


def _merge_headers(base: Mapping[str, str], value: Any, where: str) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: headers must be a table of strings, e.g. {{ Accept = ... }}.")
    merged = dict(base)
    for header, text in value.items():
        if not isinstance(header, str) or not header.strip():
            raise ConfigError(f"{where}: header names must be non-empty strings.")
        if not isinstance(text, str):
            raise ConfigError(f"{where}: header {header!r} must be a string.")
        for existing in [h for h in merged if h.lower() == header.lower()]:
            del merged[existing]
        if text != "":
            merged[header] = text
    return MappingProxyType(merged)


def _pagination(value: Any, where: str) -> Mapping[str, Any] | None:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: pagination must be a table with a 'type'.")
    if not value:
        return None
    kind = value.get("type")
    if kind not in PAGINATION_TYPES:
        raise ConfigError(
            f"{where}: pagination type {kind!r} is not one of " + ", ".join(PAGINATION_TYPES) + "."
        )
    return MappingProxyType(dict(value))


def _check_consistency(config: ProviderConfig, where: str) -> None:
    if config.auth in ("oauth2", "oauth2_cc") and not config.token_url:
        raise ConfigError(
            f"{where}: auth = {config.auth!r} needs a token_url.",
            hint="Set token_url to the provider's OAuth2 token endpoint.",
        )
    if "{api_key}" not in config.api_key_format:
        raise ConfigError(
            f"{where}: api_key_format {config.api_key_format!r} must contain {{api_key}}.",
            hint='For example api_key_format = "Bearer {api_key}" or "{api_key}".',
        )
    check_urls(config, where)
