"""The built-in catalogue and the resolution of one ``[integrations.<id>]`` table."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from importlib import resources
from types import MappingProxyType
from typing import Any

from nango_scripts.errors import ConfigError
from nango_scripts.providers._build import (
    PROVIDER_FIELDS,
    apply_fields,
    check_keys,
    check_urls,
    did_you_mean,
    fill_placeholders,
    placeholders,
)
from nango_scripts.providers._config import ProviderConfig

__all__ = [
    "INTEGRATION_KEYS",
    "PROVIDER_TABLE_KEYS",
    "load_catalogue",
    "parse_catalogue",
    "resolve_integration",
    "resolve_provider",
]

CATALOGUE_FILE = "catalogue.json"
#: Keys an ``[integrations.<id>]`` table may hold.
INTEGRATION_KEYS: frozenset[str] = PROVIDER_FIELDS | {"provider", "base_url_params"}
#: Keys a ``[providers.<name>]`` table may hold.
PROVIDER_TABLE_KEYS: frozenset[str] = PROVIDER_FIELDS | {"extends"}

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_Custom = Mapping[str, Mapping[str, Any]]


@functools.cache
def load_catalogue() -> Mapping[str, ProviderConfig]:
    """The built-in providers by name, validated once and cached (read-only)."""
    text = resources.files(__package__).joinpath(CATALOGUE_FILE).read_text("utf-8")
    return parse_catalogue(json.loads(text))


def parse_catalogue(raw: Any) -> Mapping[str, ProviderConfig]:
    """Validate catalogue data (``{"providers": {name: fields}}``) into provider configs."""
    entries = raw.get("providers") if isinstance(raw, Mapping) else None
    if not isinstance(entries, Mapping):
        raise ConfigError("provider catalogue: expected an object with a 'providers' object.")
    catalogue: dict[str, ProviderConfig] = {}
    for name, entry in entries.items():
        where = f"built-in provider {name!r}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(f"{where}: names are lower-case letters, digits and '-'.")
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: expected an object of provider fields.")
        check_keys(entry, PROVIDER_FIELDS, where)
        catalogue[name] = apply_fields(None, entry, name=name, where=where)
    return MappingProxyType(catalogue)


def resolve_provider(name: str, custom_providers: _Custom | None = None) -> ProviderConfig:
    """A provider by name: a ``[providers.<name>]`` table (``custom_providers``) or a built-in.

    Placeholders in its URLs are left as they are; :func:`resolve_integration` fills them.
    """
    return _resolve(name, custom_providers or {}, chain=(), where=f"provider {name!r}")


def resolve_integration(
    integration_id: str,
    section: Mapping[str, Any],
    custom_providers: _Custom | None = None,
) -> ProviderConfig:
    """The provider config of one ``[integrations.<id>]`` table of ``nango.toml``.

    ``provider`` names a built-in or a ``custom_providers`` entry; without it the table
    defines the provider itself (it needs ``base_url``; the name is ``integration_id``).
    Any provider field in the table overrides the provider's (``headers`` merge, a header
    set to ``""`` is removed; an ``oauth`` table merges key by key). ``{placeholder}``
    fields of ``base_url``, ``token_url`` and the ``oauth`` URL and parameters are filled
    from the ``base_url_params`` table; one left unfilled is a ConfigError.
    """
    where = f"integration {integration_id!r}"
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where}: expected a table of settings.")
    check_keys(section, INTEGRATION_KEYS, where)
    overrides = {k: v for k, v in section.items() if k in PROVIDER_FIELDS}
    provider = section.get("provider")
    if provider is None:
        if "base_url" not in section:
            raise ConfigError(
                f"{where}: no provider and no base_url.",
                hint='Set provider = "<name>" (a built-in provider or a [providers.<name>] '
                'table) or define the API here with base_url = "https://..." and auth.',
            )
        config = apply_fields(None, overrides, name=integration_id, where=where)
    else:
        if not isinstance(provider, str):
            raise ConfigError(f"{where}: provider must be a string.")
        base = _resolve(provider, custom_providers or {}, chain=(), where=where)
        config = apply_fields(base, overrides, name=base.name, where=where)
    params = _params(section.get("base_url_params", {}), where)
    return _fill(config, params, integration_id, where)


def _resolve(name: str, custom: _Custom, chain: tuple[str, ...], where: str) -> ProviderConfig:
    catalogue = load_catalogue()
    if name in chain:
        cycle = " -> ".join((*chain, name))
        raise ConfigError(f"provider {chain[0]!r}: extends goes round in a circle ({cycle}).")
    if name in custom:
        if name in catalogue:
            raise ConfigError(
                f"[providers.{name}] has the name of a built-in provider.",
                hint=f'Give it another name and set extends = "{name}" to start from the built-in.',
            )
        return _custom(name, custom, chain)
    if name in catalogue:
        return catalogue[name]
    known = [*catalogue, *custom]
    raise ConfigError(
        f"{where}: unknown provider {name!r}{did_you_mean(name, known)}.",
        hint="Built-in providers: "
        + ", ".join(sorted(catalogue))
        + f". Or define one in nango.toml with a [providers.{name}] table.",
    )


def _custom(name: str, custom: _Custom, chain: tuple[str, ...]) -> ProviderConfig:
    table = custom[name]
    where = f"[providers.{name}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: expected a table of provider settings.")
    check_keys(table, PROVIDER_TABLE_KEYS, where)
    fields = {k: v for k, v in table.items() if k != "extends"}
    extends = table.get("extends")
    if extends is None:
        return apply_fields(None, fields, name=name, where=where)
    if not isinstance(extends, str):
        raise ConfigError(f"{where}: extends must be a provider name (a string).")
    base = _resolve(extends, custom, (*chain, name), where)
    return apply_fields(base, fields, name=name, where=where)


def _params(value: Any, where: str) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(
            f"{where}: base_url_params must be a table of strings, "
            'e.g. base_url_params = { subdomain = "acme" }.'
        )
    return value


def _fill(
    config: ProviderConfig, params: Mapping[str, str], integration_id: str, where: str
) -> ProviderConfig:
    def filled(key: str, url: str) -> str:
        result = fill_placeholders(url, params)
        missing = placeholders(result)
        if missing:
            raise ConfigError(
                f"{where}: {key} {url!r} needs a value for the placeholder {{{missing[0]}}}.",
                hint=f"Add it to [integrations.{integration_id}] in nango.toml: "
                f'base_url_params = {{ {missing[0]} = "..." }}, or override {key}.',
            )
        return result

    token_url = config.token_url
    base_url = filled("base_url", config.base_url).rstrip("/")
    token_url = filled("token_url", token_url) if token_url is not None else None
    # Only an oauth2 integration uses its OAuth facts (and needs their placeholders).
    oauth = config.oauth if config.auth == "oauth2" else None
    if oauth is not None:
        oauth = replace(
            oauth,
            authorization_url=filled("oauth.authorization_url", oauth.authorization_url),
            authorization_params=_filled_table(
                filled, "oauth.authorization_params", oauth.authorization_params
            ),
            token_params=_filled_table(filled, "oauth.token_params", oauth.token_params),
        )
    config = replace(config, base_url=base_url, token_url=token_url, oauth=oauth)
    check_urls(config, where)
    return config


def _filled_table(
    filled: Callable[[str, str], str], key: str, table: Mapping[str, str]
) -> Mapping[str, str]:
    return MappingProxyType({name: filled(f"{key}.{name}", value) for name, value in table.items()})
