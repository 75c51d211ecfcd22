"""The built-in catalogue and the resolution of nango.toml integration tables."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from nango_scripts.errors import ConfigError
from nango_scripts.providers import (
    INTEGRATION_KEYS,
    ProviderConfig,
    load_catalogue,
    resolve_integration,
    resolve_provider,
)
from nango_scripts.providers._loader import parse_catalogue

REQUIRED = [
    "github",
    "gitlab",
    "linear",
    "hubspot",
    "slack",
    "jira",
    "notion",
    "zendesk",
    "salesforce",
    "stripe",
    "asana",
    "intercom",
    "google-calendar",
]
OAUTH = [name for name, p in load_catalogue().items() if p.auth in ("oauth2", "oauth2_cc")]


# --- the catalogue itself -------------------------------------------------------------


@pytest.mark.parametrize("name", REQUIRED)
def test_required_provider_is_present(name: str) -> None:
    provider = load_catalogue()[name]
    assert provider.name == name
    assert provider.base_url.startswith(("https://", "{"))
    assert provider.docs.startswith("https://")


@pytest.mark.parametrize("name", OAUTH)
def test_every_oauth2_provider_has_a_token_url(name: str) -> None:
    token_url = load_catalogue()[name].token_url
    assert token_url is not None
    assert token_url.startswith("https://")


@pytest.mark.parametrize("name", sorted(load_catalogue()))
def test_default_pagination_has_a_known_type(name: str) -> None:
    pagination = load_catalogue()[name].pagination
    assert pagination is None or pagination["type"] in ("cursor", "link", "offset")


def test_catalogue_is_read_only_and_cached() -> None:
    catalogue = load_catalogue()
    assert catalogue is load_catalogue()
    with pytest.raises(TypeError):
        catalogue["evil"] = catalogue["github"]  # type: ignore[index]
    with pytest.raises(TypeError):
        catalogue["github"].headers["Accept"] = "text/html"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalogue["github"].base_url = "https://evil.example"  # type: ignore[misc]


def test_well_known_defaults() -> None:
    catalogue = load_catalogue()
    github = catalogue["github"]
    assert github.headers["Accept"] == "application/vnd.github+json"
    assert github.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert github.pagination == {
        "type": "link",
        "link_rel_in_response_header": "next",
        "limit_name_in_request": "per_page",
    }
    assert (github.rate_limit_reset_header, github.rate_limit_reset_format) == (
        "x-ratelimit-reset",
        "epoch",
    )
    hubspot = catalogue["hubspot"].pagination
    assert hubspot is not None
    assert hubspot["cursor_path_in_response"] == "paging.next.after"
    assert hubspot["cursor_name_in_request"] == "after"
    assert hubspot["response_path"] == "results"
    notion = catalogue["notion"]
    assert "Notion-Version" in notion.headers
    assert notion.token_auth_method == "basic"
    assert notion.pagination is not None and notion.pagination["in_body"] is True
    assert catalogue["linear"].pagination is None
    assert catalogue["stripe"].auth == "api_key"
    assert catalogue["stripe"].pagination is None
    assert "starting_after" in catalogue["stripe"].notes
    assert catalogue["zendesk"].base_url == "https://{subdomain}.zendesk.com"


def _entry(**fields: Any) -> dict[str, Any]:
    return {"providers": {"acme": {"base_url": "https://api.acme.test", **fields}}}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"colour": "blue"}, "unknown key 'colour'"),
        ({"auth": "oauth3"}, "auth = 'oauth3' is not one of"),
        ({"auth": "oauth2"}, "needs a token_url"),
        ({"auth": "oauth2_cc"}, "needs a token_url"),
        ({"pagination": {"type": "pages"}}, "pagination type 'pages'"),
        ({"pagination": ["cursor"]}, "pagination must be a table"),
        ({"headers": {"Accept": 1}}, "header 'Accept' must be a string"),
        ({"api_key_format": "Token"}, "must contain {api_key}"),
        ({"base_url": "ftp://acme.test"}, "must start with http"),
        ({"rate_limit_reset_format": "iso"}, "rate_limit_reset_format"),
    ],
)
def test_a_bad_catalogue_entry_names_the_provider(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match="built-in provider 'acme'") as caught:
        parse_catalogue(_entry(**fields))
    assert message in str(caught.value)


def test_a_catalogue_without_providers_is_refused() -> None:
    with pytest.raises(ConfigError, match="'providers' object"):
        parse_catalogue([])


# --- integrations on a built-in provider ------------------------------------------------


def test_provider_alone_gives_the_catalogue_entry() -> None:
    assert resolve_integration("gh", {"provider": "github"}) == load_catalogue()["github"]


def test_any_field_can_be_overridden() -> None:
    config = resolve_integration(
        "gh",
        {
            "provider": "github",
            "base_url": "http://127.0.0.1:8080/",
            "auth": "api_key",
            "api_key_header": "X-Token",
            "api_key_format": "token {api_key}",
            "rate_limit_reset_header": "",
            "token_url": "",
            "docs": "https://internal.example/docs",
        },
    )
    assert config.name == "github"
    assert config.base_url == "http://127.0.0.1:8080"  # trailing slash dropped
    assert config.auth == "api_key"
    assert (config.api_key_header, config.api_key_format) == ("X-Token", "token {api_key}")
    assert config.rate_limit_reset_header is None
    assert config.token_url is None
    assert config.docs == "https://internal.example/docs"


def test_nango_spelling_of_auth_modes_is_accepted() -> None:
    assert resolve_integration("gh", {"provider": "github", "auth": "API_KEY"}).auth == "api_key"


def test_headers_merge_over_the_provider_and_empty_removes() -> None:
    config = resolve_integration(
        "gh",
        {
            "provider": "github",
            "headers": {"accept": "application/json", "X-GitHub-Api-Version": "", "X-Extra": "1"},
        },
    )
    assert dict(config.headers) == {"accept": "application/json", "X-Extra": "1"}


def test_pagination_replaces_and_empty_table_removes() -> None:
    cursor = {"type": "cursor", "cursor_path_in_response": "next", "cursor_name_in_request": "c"}
    replaced = resolve_integration("gh", {"provider": "github", "pagination": cursor})
    assert replaced.pagination == cursor
    removed = resolve_integration("gh", {"provider": "github", "pagination": {}})
    assert removed.pagination is None


def test_api_key_format_must_contain_the_key() -> None:
    with pytest.raises(ConfigError, match=r"integration 'st'.*must contain \{api_key\}"):
        resolve_integration("st", {"provider": "stripe", "api_key_format": "Bearer"})


def test_switching_to_oauth2_without_token_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="needs a token_url"):
        resolve_integration("st", {"provider": "stripe", "auth": "oauth2"})


def test_unknown_provider_suggests_close_names() -> None:
    with pytest.raises(ConfigError, match="unknown provider 'githb'") as caught:
        resolve_integration("gh", {"provider": "githb"})
    assert "did you mean 'github'" in caught.value.message
    assert caught.value.hint is not None and "hubspot" in caught.value.hint


def test_unknown_key_names_the_key_and_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="unknown key 'base_ulr'") as caught:
        resolve_integration("gh", {"provider": "github", "base_ulr": "https://x.test"})
    assert "did you mean 'base_url'" in caught.value.message
    assert caught.value.hint is not None
    for key in INTEGRATION_KEYS:
        assert key in caught.value.hint


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"provider": 3}, "provider must be a string"),
        ({"provider": "github", "headers": "Accept: x"}, "headers must be a table"),
        ({"provider": "github", "base_url": 1}, "base_url must be a string"),
        ({"provider": "zendesk", "base_url_params": {"subdomain": 1}}, "base_url_params"),
    ],
)
def test_wrong_types_are_config_errors(section: Mapping[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_integration("x", section)


# --- placeholders -------------------------------------------------------------------------


def test_placeholders_are_filled_from_base_url_params() -> None:
    config = resolve_integration(
        "support", {"provider": "zendesk", "base_url_params": {"subdomain": "acme"}}
    )
    assert config.base_url == "https://acme.zendesk.com"
    assert config.token_url == "https://acme.zendesk.com/oauth/tokens"


def test_a_whole_url_placeholder_is_filled() -> None:
    config = resolve_integration(
        "crm",
        {
            "provider": "salesforce",
            "base_url_params": {"instance_url": "https://acme.my.salesforce.com/"},
        },
    )
    assert config.base_url == "https://acme.my.salesforce.com"


def test_a_missing_placeholder_names_the_integration_and_the_placeholder() -> None:
    with pytest.raises(ConfigError, match=r"integration 'support'.*\{subdomain\}") as caught:
        resolve_integration("support", {"provider": "zendesk"})
    assert caught.value.hint is not None and "base_url_params" in caught.value.hint


def test_a_filled_placeholder_must_give_an_http_url() -> None:
    with pytest.raises(ConfigError, match="must start with http"):
        resolve_integration(
            "crm", {"provider": "salesforce", "base_url_params": {"instance_url": "acme"}}
        )


def test_overriding_base_url_still_needs_token_url_placeholders() -> None:
    section = {"provider": "zendesk", "base_url": "http://127.0.0.1:9000"}
    with pytest.raises(ConfigError, match=r"token_url .*\{subdomain\}"):
        resolve_integration("support", section)
    config = resolve_integration("support", {**section, "auth": "api_key", "token_url": ""})
    assert config.base_url == "http://127.0.0.1:9000"


# --- custom providers ---------------------------------------------------------------------


def test_inline_section_defines_the_provider() -> None:
    config = resolve_integration(
        "acme", {"base_url": "https://api.acme.test", "headers": {"X-Acme": "1"}}
    )
    assert config == ProviderConfig(
        name="acme", base_url="https://api.acme.test", headers={"X-Acme": "1"}
    )
    assert config.auth == "none"


def test_inline_section_without_base_url_says_what_to_add() -> None:
    with pytest.raises(ConfigError, match="no provider and no base_url") as caught:
        resolve_integration("acme", {"auth": "api_key"})
    assert caught.value.hint is not None and "provider =" in caught.value.hint


def test_provider_from_a_providers_table() -> None:
    custom = {
        "acme": {
            "base_url": "https://api.acme.test",
            "auth": "api_key",
            "api_key_header": "X-Api-Key",
            "api_key_format": "{api_key}",
        }
    }
    config = resolve_integration("shop", {"provider": "acme"}, custom)
    assert config.name == "acme"
    assert (config.auth, config.api_key_header) == ("api_key", "X-Api-Key")
    assert resolve_provider("acme", custom) == config


def test_providers_table_extends_a_built_in() -> None:
    custom = {
        "ghe": {
            "extends": "github",
            "base_url": "https://github.acme.test/api/v3",
            "headers": {"X-GitHub-Api-Version": ""},
        }
    }
    config = resolve_integration("code", {"provider": "ghe", "headers": {"X-Team": "a"}}, custom)
    github = load_catalogue()["github"]
    assert config.name == "ghe"
    assert config.base_url == "https://github.acme.test/api/v3"
    assert config.pagination == github.pagination
    assert config.token_url == github.token_url
    assert dict(config.headers) == {"Accept": "application/vnd.github+json", "X-Team": "a"}


def test_providers_can_extend_each_other() -> None:
    custom = {
        "base": {"base_url": "https://api.acme.test", "headers": {"A": "1"}},
        "child": {"extends": "base", "headers": {"B": "2"}},
    }
    assert dict(resolve_provider("child", custom).headers) == {"A": "1", "B": "2"}


def test_an_extends_cycle_is_refused() -> None:
    custom = {"a": {"extends": "b"}, "b": {"extends": "a"}}
    with pytest.raises(ConfigError, match="a -> b -> a"):
        resolve_provider("a", custom)


def test_extends_of_an_unknown_provider_suggests() -> None:
    with pytest.raises(ConfigError, match=r"\[providers.ghe\].*'gitub'.*did you mean 'github'"):
        resolve_provider("ghe", {"ghe": {"extends": "gitub"}})


def test_a_providers_table_may_not_shadow_a_built_in() -> None:
    with pytest.raises(ConfigError, match=r"\[providers.github\] has the name of a built-in"):
        resolve_integration("gh", {"provider": "github"}, {"github": {"base_url": "https://x"}})


def test_unknown_key_in_a_providers_table() -> None:
    with pytest.raises(ConfigError, match=r"\[providers.acme\]: unknown key 'provider'"):
        resolve_provider("acme", {"acme": {"base_url": "https://a.test", "provider": "github"}})


def test_custom_provider_names_are_suggested_too() -> None:
    with pytest.raises(ConfigError, match="did you mean 'acme-crm'"):
        resolve_integration("x", {"provider": "acme-cr"}, {"acme-crm": {"base_url": "https://a"}})
