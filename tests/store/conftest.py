"""Settings for a throwaway project in ``tmp_path``, built directly (no nango.toml)."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from nango_scripts.providers import ProviderConfig
from nango_scripts.settings import Settings
from nango_scripts.store import ConnectionStore, SqlRecordStore

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


# -- records store on both backends ---------------------------------------------------------

POSTGRES_URL_ENV = "NANGO_SCRIPTS_TEST_POSTGRES_URL"
POSTGRES_SKIP = "PostgreSQL tests need NANGO_SCRIPTS_TEST_POSTGRES_URL (see .ci/run)"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A URL into a fresh schema of the test server, dropped (with all it holds) afterwards."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(POSTGRES_SKIP)
    import psycopg

    schema = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            separator = "&" if "?" in url else "?"
            yield f"{url}{separator}options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/records.db"
    else:
        with postgres_schema_url() as url:
            yield url


@pytest.fixture(params=BACKENDS)
def records_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (SQLite file, or a PostgreSQL schema of its own) for one test."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=["auto", "lookup", "upsert"])
def backend(records_url: str, request: pytest.FixtureRequest) -> Iterator[SqlRecordStore]:
    """A fresh ``SqlRecordStore`` on each backend, with each way of saving (``auto``
    switches between the other two by what the last batch found)."""
    with SqlRecordStore.open(records_url, write_path=request.param) as opened:
        yield opened
