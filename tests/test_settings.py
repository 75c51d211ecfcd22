"""load_settings on real project folders: nango.toml files in tmp_path, env as a dict."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nango_scripts.errors import ConfigError
from nango_scripts.providers import load_catalogue
from nango_scripts.settings import (
    Settings,
    WebhookSettings,
    integration_base_url_var,
    load_settings,
)

FULL_TOML = """
environment = "staging"
database_url = "postgres://user:pw@db.test/nango"

[integrations.github]
provider = "github"
headers = { X-Team = "core" }

[integrations.support]
provider = "zendesk"
base_url_params = { subdomain = "acme" }

[integrations.my-api]
base_url = "https://api.acme.test"
auth = "api_key"
api_key_header = "X-Api-Key"
api_key_format = "{api_key}"

[integrations.billing]
provider = "acme-billing"

[providers.acme-billing]
extends = "stripe"
base_url = "https://billing.acme.test"

[webhooks]
url = "https://backend.test/hook"
secondary_url = "https://backup.test/hook"
on_sync_completion_always = true
on_sync_error = false

[server]
host = "0.0.0.0"
port = 8080
"""


def _project(tmp_path: Path, toml: str | None) -> Path:
    if toml is not None:
        (tmp_path / "nango.toml").write_text(toml, "utf-8")
    return tmp_path


def test_defaults_without_nango_toml(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={})
    assert settings.project_dir == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path}/.nango/nango.db"
    assert settings.sqlite_path == tmp_path / ".nango" / "nango.db"
    assert settings.state_dir == tmp_path / ".nango"
    assert dict(settings.integrations) == {}
    assert settings.webhooks == WebhookSettings()
    assert (settings.environment, settings.server_host, settings.server_port) == (
        "dev",
        "127.0.0.1",
        3003,
    )
    assert settings.secret_key is None and settings.encryption_key is None
    assert settings.config_path is None


def test_values_from_the_file(tmp_path: Path) -> None:
    settings = load_settings(_project(tmp_path, FULL_TOML), env={})
    assert settings.config_path == tmp_path / "nango.toml"
    assert settings.environment == "staging"
    assert settings.database_url == "postgresql://user:pw@db.test/nango"
    assert settings.sqlite_path is None
    assert settings.webhooks == WebhookSettings(
        url="https://backend.test/hook",
        secondary_url="https://backup.test/hook",
        on_sync_completion_always=True,
        on_sync_error=False,
    )
    assert (settings.server_host, settings.server_port) == ("0.0.0.0", 8080)
    assert list(settings.integrations) == ["github", "support", "my-api", "billing"]
    github = settings.integrations["github"]
    assert github.headers["X-Team"] == "core"
    assert github.headers["Accept"] == "application/vnd.github+json"
    assert settings.integrations["support"].base_url == "https://acme.zendesk.com"
    my_api = settings.integrations["my-api"]
    assert (my_api.name, my_api.auth, my_api.api_key_header) == ("my-api", "api_key", "X-Api-Key")
    billing = settings.integrations["billing"]
    assert (billing.name, billing.base_url, billing.auth) == (
        "acme-billing",
        "https://billing.acme.test",
        "api_key",
    )


def test_environment_beats_the_file(tmp_path: Path) -> None:
    env = {
        "NANGO_SECRET_KEY": "sk-test",
        "NANGO_ENCRYPTION_KEY": "enc-test",
        "NANGO_SCRIPTS_DATABASE_URL": "postgresql://other.test/db",
        "NANGO_WEBHOOK_URL": "https://env.test/hook",
        "NANGO_WEBHOOK_SECONDARY_URL": "https://env.test/second",
        "NANGO_WEBHOOK_ON_SYNC_COMPLETION_ALWAYS": "false",
        "NANGO_WEBHOOK_ON_SYNC_ERROR": "yes",
        "NANGO_ENVIRONMENT": "prod",
        "NANGO_SCRIPTS_SERVER_HOST": "127.0.0.2",
        "NANGO_SCRIPTS_SERVER_PORT": "9000",
    }
    settings = load_settings(_project(tmp_path, FULL_TOML), env=env)
    assert (settings.secret_key, settings.encryption_key) == ("sk-test", "enc-test")
    assert settings.database_url == "postgresql://other.test/db"
    assert settings.webhooks == WebhookSettings(
        url="https://env.test/hook",
        secondary_url="https://env.test/second",
        on_sync_completion_always=False,
        on_sync_error=True,
    )
    assert settings.environment == "prod"
    assert (settings.server_host, settings.server_port) == ("127.0.0.2", 9000)


def test_empty_environment_values_count_as_unset(tmp_path: Path) -> None:
    settings = load_settings(
        _project(tmp_path, FULL_TOML), env={"NANGO_WEBHOOK_URL": "", "NANGO_SECRET_KEY": ""}
    )
    assert settings.webhooks.url == "https://backend.test/hook"
    assert settings.secret_key is None


def test_project_dir_from_environment_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    project = _project(tmp_path, 'environment = "from-file"')
    assert load_settings(env={"NANGO_SCRIPTS_PROJECT": str(project)}).environment == "from-file"
    monkeypatch.chdir(elsewhere)
    assert load_settings(env={}).project_dir == elsewhere
    assert load_settings("..", env={}).project_dir == tmp_path  # made absolute


def test_environment_is_os_environ_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NANGO_ENVIRONMENT", "from-os")
    assert load_settings(tmp_path).environment == "from-os"


def test_missing_project_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope", env={})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/app.db", "{project}/data/app.db"),
        ("sqlite:///./data/../app.db", "{project}/app.db"),
        ("sqlite:////var/lib/nango.db", "/var/lib/nango.db"),
    ],
)
def test_sqlite_paths(tmp_path: Path, url: str, expected: str) -> None:
    path = expected.format(project=tmp_path)
    from_env = load_settings(tmp_path, env={"NANGO_SCRIPTS_DATABASE_URL": url})
    assert from_env.database_url == f"sqlite:///{path}"
    assert from_env.sqlite_path == Path(path)
    from_file = load_settings(_project(tmp_path, f'database_url = "{url}"'), env={})
    assert from_file.database_url == f"sqlite:///{path}"


def test_sqlite_in_memory_is_kept(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={"NANGO_SCRIPTS_DATABASE_URL": "sqlite:///:memory:"})
    assert settings.database_url == "sqlite:///:memory:"
    assert settings.sqlite_path is None


@pytest.mark.parametrize(
    "url", ["mysql://u:secret@h/db", "sqlite://relative.db", "sqlite:///", "postgres://"]
)
def test_unsupported_database_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="NANGO_SCRIPTS_DATABASE_URL") as caught:
        load_settings(tmp_path, env={"NANGO_SCRIPTS_DATABASE_URL": url})
    assert "secret" not in str(caught.value)


def test_bad_database_url_in_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nango\.toml: database_url 'redis://x'"):
        load_settings(_project(tmp_path, 'database_url = "redis://x"'), env={})


def test_toml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    _project(tmp_path, '[integrations.github]\nprovider = "github"\nbase_url = \n')
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, env={})
    message = caught.value.message
    assert str(tmp_path / "nango.toml") in message
    assert "line 3, column 12" in message
    assert caught.value.hint is not None and "base_url =" in caught.value.hint


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[integration.github]\nprovider = 'github'", "unknown table 'integration'"),
        ("[webhook]\nurl = 'x'", r"unknown table 'webhook' \(did you mean 'webhooks'\?\)"),
        ("environmnet = 'x'", "unknown key 'environmnet' .did you mean 'environment'"),
        ("[webhooks]\nurls = 'x'", r"\[webhooks\]: unknown key 'urls'"),
        ("[server]\nhots = 'x'", r"\[server\]: unknown key 'hots'"),
        ("[integrations.gh]\nprovider = 'github'\nbase = 'x'", "integration 'gh': unknown key"),
        ("[providers.acme]\nbase_url = 'https://a.test'\nauht = 'none'", "did you mean 'auth'"),
    ],
)
def test_unknown_tables_and_keys_are_named(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(_project(tmp_path, toml), env={})


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("[webhooks]\non_sync_error = 'yes'", {}, "on_sync_error must be true or false"),
        ("[server]\nport = 0", {}, "expected a port number"),
        ("[server]\nport = true", {}, "expected a port number"),
        ("", {"NANGO_SCRIPTS_SERVER_PORT": "http"}, "NANGO_SCRIPTS_SERVER_PORT"),
        ("[server]\nmax_body_bytes = 0", {}, "max_body_bytes = 0: expected a whole number"),
        ("[server]\nmax_body_bytes = '10MB'", {}, "expected a whole number of bytes"),
        ("", {"NANGO_SCRIPTS_SERVER_MAX_BODY_BYTES": "10MB"}, "NANGO_SCRIPTS_SERVER_MAX_BODY"),
        ("", {"NANGO_WEBHOOK_ON_SYNC_ERROR": "maybe"}, "expected true or false"),
        ("environment = 'my env'", {}, "environment 'my env'"),
        ("webhooks = 3", {}, "webhooks must be a table"),
        ("integrations = { 'a b' = { provider = 'github' } }", {}, "integration id 'a b'"),
        ("[integrations.gh]\nprovider = 'gthub'", {}, "did you mean 'github'"),
        ("[providers.unused]\nauth = 'none'", {}, r"\[providers.unused\]: no base_url"),
    ],
)
def test_bad_values_are_config_errors(
    tmp_path: Path, toml: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(_project(tmp_path, toml), env=env)


def test_provider_errors_name_the_file(tmp_path: Path) -> None:
    _project(tmp_path, "[integrations.support]\nprovider = 'zendesk'")
    with pytest.raises(ConfigError, match=r"nango\.toml: integration 'support'.*\{subdomain\}"):
        load_settings(tmp_path, env={})


def test_integration_base_url_from_environment(tmp_path: Path) -> None:
    _project(tmp_path, FULL_TOML)
    env = {
        "NANGO_INTEGRATION_GITHUB_BASE_URL": "http://127.0.0.1:8123/",
        "NANGO_INTEGRATION_MY_API_BASE_URL": "http://127.0.0.1:8124",
        "NANGO_INTEGRATION_UNKNOWN_BASE_URL": "http://127.0.0.1:1",
    }
    integrations = load_settings(tmp_path, env=env).integrations
    assert integrations["github"].base_url == "http://127.0.0.1:8123"
    assert integrations["github"].pagination == load_catalogue()["github"].pagination
    assert integrations["my-api"].base_url == "http://127.0.0.1:8124"
    assert integrations["support"].base_url == "https://acme.zendesk.com"
    assert "unknown" not in integrations


def test_base_url_variable_name() -> None:
    assert integration_base_url_var("google-calendar") == (
        "NANGO_INTEGRATION_GOOGLE_CALENDAR_BASE_URL"
    )


def test_env_base_url_replaces_a_placeholder_base_url(tmp_path: Path) -> None:
    _project(tmp_path, "[integrations.crm]\nprovider = 'salesforce'")
    env = {"NANGO_INTEGRATION_CRM_BASE_URL": "http://127.0.0.1:8125"}
    assert load_settings(tmp_path, env=env).integrations["crm"].base_url == "http://127.0.0.1:8125"


def test_settings_are_frozen_and_read_only(tmp_path: Path) -> None:
    settings = load_settings(_project(tmp_path, FULL_TOML), env={})
    assert isinstance(settings, Settings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.environment = "prod"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.webhooks.url = "https://evil.test"  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.integrations["evil"] = settings.integrations["github"]  # type: ignore[index]
    with pytest.raises(TypeError):
        settings.integrations["github"].headers["X-Team"] = "evil"  # type: ignore[index]


def test_toml_error_at_end_of_document_names_the_file(tmp_path: Path) -> None:
    _project(tmp_path, "a = [1,\n")
    with pytest.raises(ConfigError, match=r"nango\.toml: invalid TOML: .*end of document"):
        load_settings(tmp_path, env={})


def test_the_body_size_limit_from_the_file_or_the_environment(tmp_path: Path) -> None:
    assert load_settings(tmp_path, env={}).server_max_body_bytes == 10 * 1024 * 1024
    project = _project(tmp_path, "[server]\nmax_body_bytes = 2048")
    assert load_settings(project, env={}).server_max_body_bytes == 2048
    env = {"NANGO_SCRIPTS_SERVER_MAX_BODY_BYTES": "4096"}
    assert load_settings(project, env=env).server_max_body_bytes == 4096
