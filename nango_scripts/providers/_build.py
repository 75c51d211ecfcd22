"""Raw mappings (catalogue JSON, nango.toml tables) -> validated :class:`ProviderConfig`.

Every check raises :class:`ConfigError` whose message starts with ``where`` (the
catalogue entry or the nango.toml table), so the user knows which block to fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import fields, replace
from types import MappingProxyType
from typing import Any, get_args

from nango_scripts.errors import ConfigError
from nango_scripts.providers._config import (
    AuthMode,
    ConnectForm,
    FormField,
    OAuthSpec,
    ProviderConfig,
    Verification,
)

AUTH_MODES: tuple[str, ...] = get_args(AuthMode)
PAGINATION_TYPES = ("cursor", "link", "offset")
TOKEN_AUTH_METHODS = ("body", "basic")
RESET_FORMATS = ("epoch", "seconds")
#: Keys of an ``oauth`` table (``OAuthSpec`` fields).
OAUTH_KEYS: frozenset[str] = frozenset(f.name for f in fields(OAuthSpec))
FORM_KEYS = frozenset({"fields", "verification"})
FORM_FIELD_KEYS = frozenset(f.name for f in fields(FormField))
VERIFICATION_KEYS = frozenset(f.name for f in fields(Verification))
# Credentials keys each auth mode reads (nango_scripts.http._auth): a form fills them.
FORM_NAMES: dict[str, tuple[str, ...]] = {
    "api_key": ("apiKey",),
    "basic": ("username", "password"),
    "oauth2_cc": ("client_id", "client_secret"),
}

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
        elif key == "oauth":
            current["oauth"] = _oauth(current.get("oauth"), value, where)
        else:
            current[key] = _field_value(key, value, where)
    if not current.get("base_url"):
        raise ConfigError(
            f"{where}: no base_url.",
            hint='Set base_url = "https://..." or provider = "<a built-in provider>".',
        )
    form = current.get("form")
    if form is not None and not _form_fits(form, current.get("auth", "none")):
        if "form" in values:
            raise ConfigError(_form_mismatch(form, current.get("auth", "none"), where))
        current["form"] = None  # the auth mode changed: the mode's default form applies
    config = ProviderConfig(name=name, **current)
    _check_consistency(config, where)
    return config


def check_urls(config: ProviderConfig, where: str) -> None:
    """base_url, token_url and the authorization URL must be http(s) URLs (unless a
    placeholder is still to fill)."""
    oauth_url = config.oauth.authorization_url if config.oauth is not None else None
    for key, url in (
        ("base_url", config.base_url),
        ("token_url", config.token_url),
        ("oauth.authorization_url", oauth_url),
    ):
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
    if key == "form":
        return _form(value, where)
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


def _oauth(base: OAuthSpec | None, value: Any, where: str) -> OAuthSpec | None:
    """An ``oauth`` table laid over ``base`` key by key; ``{}`` removes the spec."""
    where = f"{where}: oauth"
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table, e.g. {{ authorization_url = ... }}.")
    if not value:
        return None
    check_keys(value, OAUTH_KEYS, where)
    if base is None and "authorization_url" not in value:
        raise ConfigError(f"{where}: needs authorization_url (the provider's consent page).")
    changes: dict[str, Any] = {}
    for key, item in value.items():
        if key == "authorization_url":
            changes[key] = _string(key, item, where)
        elif key in ("default_scopes", "access_token_paths", "connection_config"):
            changes[key] = _strings(key, item, where)
        elif key in ("authorization_params", "token_params"):
            changes[key] = _string_table(key, item, where)
        elif key == "pkce":
            if not isinstance(item, bool):
                raise ConfigError(f"{where}: pkce must be true or false.")
            changes[key] = item
        else:
            choices = {"scope_separator": (" ", ","), "token_format": ("form", "json")}[key]
            if item not in choices:
                raise ConfigError(
                    f"{where}: {key} = {item!r} is not one of " + ", ".join(map(repr, choices))
                )
            changes[key] = item
    if "access_token_paths" in changes and not changes["access_token_paths"]:
        raise ConfigError(f"{where}: access_token_paths needs at least one path.")
    return replace(base, **changes) if base is not None else OAuthSpec(**changes)


def _form(value: Any, where: str) -> ConnectForm | None:
    where = f"{where}: form"
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table with fields = [...].")
    if not value:
        return None
    check_keys(value, FORM_KEYS, where)
    items = value.get("fields")
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{where}: fields must be a non-empty list of {{ name, label }}.")
    form_fields = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: each field is a table {{ name, label, secret, help }}.")
        check_keys(item, FORM_FIELD_KEYS, f"{where} field")
        secret = item.get("secret", False)
        if not isinstance(secret, bool):
            raise ConfigError(f"{where}: secret must be true or false.")
        form_fields.append(
            FormField(
                name=_string("name", item.get("name"), where),
                label=_string("label", item.get("label"), where),
                secret=secret,
                help=_string("help", item.get("help", ""), where),
            )
        )
    verification = None
    if "verification" in value:
        check = value["verification"]
        if not isinstance(check, Mapping):
            raise ConfigError(f"{where}: verification must be a table {{ method, path }}.")
        check_keys(check, VERIFICATION_KEYS, f"{where} verification")
        path = _string("path", check.get("path"), where)
        method = _string("method", check.get("method", "GET"), where).upper()
        if not path.startswith("/") or method not in ("GET", "POST"):
            raise ConfigError(
                f"{where}: verification needs a path starting with / and method GET or POST."
            )
        verification = Verification(path=path, method="GET" if method == "GET" else "POST")
    return ConnectForm(fields=tuple(form_fields), verification=verification)


def _form_fits(form: ConnectForm, auth: str) -> bool:
    """The form fills the credentials keys of ``auth`` (each once, the first one surely)."""
    names = [f.name for f in form.fields]
    wanted = FORM_NAMES.get(auth)
    if wanted is None:
        return False
    return len(set(names)) == len(names) and set(names) <= set(wanted) and wanted[0] in names


def _form_mismatch(form: ConnectForm, auth: str, where: str) -> str:
    wanted = FORM_NAMES.get(auth)
    if wanted is None:
        return f"{where}: auth {auth!r} has no Connect form; only " + ", ".join(FORM_NAMES) + "."
    return (
        f"{where}: the form fields of auth {auth!r} are named "
        + " and ".join(repr(n) for n in wanted)
        + " (the credentials keys), not "
        + ", ".join(repr(f.name) for f in form.fields)
        + "."
    )


def _strings(key: str, value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of strings.")
    return tuple(value)


def _string_table(key: str, value: Any, where: str) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(f"{where}: {key} must be a table of strings.")
    return MappingProxyType(dict(value))
