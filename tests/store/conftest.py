"""Settings for a throwaway project in ``tmp_path``, built directly (no nango.toml)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from nango_scripts.providers import ProviderConfig
from nango_scripts.settings import Settings
from nango_scripts.store import ConnectionStore

KEY = bytes(range(32))
KEY_B64 = base64.b64encode(KEY).decode()
OTHER_KEY_B64 = base64.b64encode(bytes(range(1, 33))).decode()

INTEGRATIONS = MappingProxyType(
    {
        "github": ProviderConfig(name="github", base_url="https://api.github.com", auth="oauth2"),
        "stripe": ProviderConfig(name="stripe", base_url="https://api.stripe.com", auth="api_key"),
        "jira": ProviderConfig(name="jira", base_url="https://jira.example", auth="basic"),
        "billing": ProviderConfig(name="billing", base_url="https://b.example", auth="oauth2_cc"),
        "public": ProviderConfig(name="public", base_url="https://p.example", auth="none"),
    }
)

MakeSettings = Callable[..., Settings]


def settings_for(project: Path, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "project_dir": project,
        "database_url": f"sqlite:///{project}/.nango/nango.db",
        "integrations": INTEGRATIONS,
        "encryption_key": KEY_B64,
    }
    return Settings(**(fields | overrides))


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    def make(**overrides: Any) -> Settings:
        return settings_for(tmp_path, **overrides)

    return make


@pytest.fixture
def settings(make_settings: MakeSettings) -> Settings:
    return make_settings()


@pytest.fixture
def store(settings: Settings) -> Iterator[ConnectionStore]:
    with ConnectionStore.open(settings) as opened:
        yield opened
