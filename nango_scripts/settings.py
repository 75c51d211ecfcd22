"""``nango.toml`` plus ``NANGO_*`` environment variables -> one frozen :class:`Settings`.

Environment variables win over the file (an empty value counts as unset):

    NANGO_SCRIPTS_PROJECT               project folder (default: the current directory)
    NANGO_SECRET_KEY                    API key and webhook signing key of the environment
    NANGO_ENCRYPTION_KEY                key for credentials at rest
    NANGO_SCRIPTS_DATABASE_URL          sqlite:///<path> (default <project>/.nango/nango.db;
                                        relative paths are relative to the project) or
                                        postgresql://... (postgres:// is accepted)
    NANGO_ENVIRONMENT                   environment name (default "dev")
    NANGO_WEBHOOK_URL                   [webhooks] url
    NANGO_WEBHOOK_SECONDARY_URL         [webhooks] secondary_url
    NANGO_WEBHOOK_ON_SYNC_COMPLETION_ALWAYS   [webhooks] on_sync_completion_always (true/false)
    NANGO_WEBHOOK_ON_SYNC_ERROR         [webhooks] on_sync_error (true/false)
    NANGO_WEBHOOK_MAX_ATTEMPTS          [webhooks] max_attempts (default 12)
    NANGO_WEBHOOK_RETRY_BASE_S          [webhooks] retry_base_s (default 5)
    NANGO_WEBHOOK_RETRY_MAX_S           [webhooks] retry_max_s (default 1800)
    NANGO_WEBHOOK_TIMEOUT_S             [webhooks] timeout_s (default 10)
    NANGO_ACTIVITY_RETENTION_DAYS       days the Activity log keeps operations (default 30;
                                        0 keeps them all)
    NANGO_SCRIPTS_SERVER_HOST           [server] host (default 127.0.0.1)
    NANGO_SCRIPTS_SERVER_PORT           [server] port (default 3003)
    NANGO_SCRIPTS_SERVER_MAX_BODY_BYTES [server] max_body_bytes: the largest request body
                                        the service reads (default 10485760, 10 MiB)
    NANGO_INTEGRATION_<ID>_BASE_URL     base_url of integration <ID> (upper-cased, "-" -> "_")

docs/configuration.md describes the file and the providers.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from nango_scripts import providers as _providers
from nango_scripts.errors import ConfigError as _ConfigError

if typing.TYPE_CHECKING:
    from nango_scripts.providers import ProviderConfig

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_MAX_BODY_BYTES",
    "Settings",
    "WebhookSettings",
    "integration_base_url_var",
    "load_settings",
]

CONFIG_FILE = "nango.toml"
_TOP_KEYS = ("environment", "database_url", "integrations", "providers", "webhooks", "server")
_BOOL_WORDS = {"1": True, "true": True, "yes": True, "on": True} | {
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class WebhookSettings:
    url: str = ""
    secondary_url: str = ""
    on_sync_completion_always: bool = False
    on_sync_error: bool = True
    max_attempts: int = 12
    """POSTs of one webhook before it is marked failed (the first one included)."""
    retry_base_s: float = 5.0
    """Wait after the first failed attempt; it doubles after each one (less jitter)..."""
    retry_max_s: float = 1800.0
    """...up to this cap. The defaults retry for well over an hour (docs/webhooks.md)."""
    timeout_s: float = 10.0
    """Per-request timeout of a delivery."""


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    database_url: str
    """``sqlite:///<abs path>`` (default ``<project>/.nango/nango.db``) or ``postgresql://...``."""
    integrations: Mapping[str, ProviderConfig] = field(default_factory=lambda: MappingProxyType({}))
    """Integration id -> resolved provider config (catalogue + nango.toml overrides)."""
    secret_key: str | None = None
    encryption_key: str | None = None
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    environment: str = "dev"
    server_host: str = "127.0.0.1"
    server_port: int = 3003
    server_max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """Larger request bodies are refused with 413 before they are read."""
    config_path: Path | None = None
    """The ``nango.toml`` that was read, or None when the project has none."""
    activity_retention_days: int = 30
    """Operations of the Activity log older than this are pruned (0: kept for ever)."""
    integration_templates: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """Integration id -> templates enabled in nango.toml (``templates = [...]``); the
    database may enable more (docs/templates.md)."""

    @property
    def state_dir(self) -> Path:
        """``<project>/.nango``: local state (database, generated keys)."""
        return self.project_dir / ".nango"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or None for PostgreSQL and ``sqlite:///:memory:``."""
        if not self.database_url.startswith("sqlite:///"):
            return None
        rest = self.database_url.removeprefix("sqlite:///")
        return None if rest == ":memory:" else Path(rest)


def integration_base_url_var(integration_id: str) -> str:
    """``NANGO_INTEGRATION_<ID>_BASE_URL`` for an integration id (``my-api`` -> ``MY_API``)."""
    return f"NANGO_INTEGRATION_{integration_id.upper().replace('-', '_')}_BASE_URL"


def load_settings(
    project_dir: Path | str | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read ``<project>/nango.toml`` (optional) and the environment into a :class:`Settings`.

    ``project_dir`` defaults to ``NANGO_SCRIPTS_PROJECT``, then the current directory;
    ``env`` defaults to ``os.environ``. Environment variables (listed in this module's
    docstring) win over the file. Raises :class:`ConfigError` for a missing project
    folder, a TOML syntax error (with line and column), an unknown table or key, an
    unknown provider, a bad value or an unsupported database URL.
    """
    env = os.environ if env is None else env
    project = _project_dir(project_dir, env)
    path = project / CONFIG_FILE
    data = _read_toml(path) if path.is_file() else {}
    where = str(path)
    _check_keys(data, _TOP_KEYS, where)

    env_db = _env(env, "NANGO_SCRIPTS_DATABASE_URL")
    source = "NANGO_SCRIPTS_DATABASE_URL" if env_db else f"{where}: database_url"
    database_url = _database_url(env_db or _str(data, "database_url", where), project, source)
    environment = _env(env, "NANGO_ENVIRONMENT") or _str(data, "environment", where) or "dev"
    if not _ID.match(environment):
        raise _ConfigError(f"environment {environment!r}: use letters, digits, '-' and '_'.")
    server = _table(data, "server", where)
    host, port = _server(server, env, where)
    return Settings(
        project_dir=project,
        database_url=database_url,
        integrations=_integrations(data, env, where),
        integration_templates=_templates(data, where),
        secret_key=_env(env, "NANGO_SECRET_KEY"),
        encryption_key=_env(env, "NANGO_ENCRYPTION_KEY"),
        webhooks=_webhooks(_table(data, "webhooks", where), env, where),
        environment=environment,
        server_host=host,
        server_port=port,
        server_max_body_bytes=_max_body_bytes(server, env, f"{where} [server]"),
        config_path=path if path.is_file() else None,
        activity_retention_days=_retention_days(env),
    )


def _env(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name) or None


def _retention_days(env: Mapping[str, str]) -> int:
    raw = _env(env, "NANGO_ACTIVITY_RETENTION_DAYS")
    if raw is None:
        return 30
    if not raw.strip().isdigit():
        raise _ConfigError(
            f"NANGO_ACTIVITY_RETENTION_DAYS={raw!r}: expected a whole number of days"
            " (0 keeps the Activity log for ever)."
        )
    return int(raw.strip())


def _project_dir(project_dir: Path | str | None, env: Mapping[str, str]) -> Path:
    chosen = project_dir if project_dir is not None else _env(env, "NANGO_SCRIPTS_PROJECT")
    project = Path(os.path.abspath(Path(chosen or ".").expanduser()))
    if not project.is_dir():
        raise _ConfigError(
            f"project folder {str(project)!r} does not exist or is not a folder.",
            hint="Pass an existing project folder (--project or NANGO_SCRIPTS_PROJECT).",
        )
    return project


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _ConfigError(f"{path}: cannot be read ({exc}).") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(path, text, exc) from exc


def _toml_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> _ConfigError:
    reason = str(exc)
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", reason)
    if found is None:  # "(at end of document)"
        return _ConfigError(f"{path}: invalid TOML: {reason}.")
    line, column = int(found.group(1)), int(found.group(2))
    reason = reason[: found.start()]
    lines = text.splitlines()
    shown = lines[line - 1] if 0 < line <= len(lines) else ""
    return _ConfigError(
        f"{path}, line {line}, column {column}: invalid TOML: {reason}.",
        hint=f"    {shown}\n    {' ' * (column - 1)}^" if shown else None,
    )


def _check_keys(table: Mapping[str, Any], valid: tuple[str, ...], where: str) -> None:
    for key, value in table.items():
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            kind = "table" if isinstance(value, Mapping) else "key"
            raise _ConfigError(
                f"{where}: unknown {kind} {key!r}{guess}.",
                hint="Valid keys: " + ", ".join(valid) + ".",
            )


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise _ConfigError(f"{where}: {key} must be a table ([{key}]).")
    return value


def _str(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _ConfigError(f"{where}: {key} must be a string.")
    return value


def _bool(data: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise _ConfigError(f"{where}: {key} must be true or false.")
    return value


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _env(env, name)
    if raw is None:
        return default
    if raw.strip().lower() not in _BOOL_WORDS:
        raise _ConfigError(f"{name}={raw!r}: expected true or false.")
    return _BOOL_WORDS[raw.strip().lower()]


def _webhooks(table: Mapping[str, Any], env: Mapping[str, str], where: str) -> WebhookSettings:
    where = f"{where} [webhooks]"
    _check_keys(
        table,
        (
            "url",
            "secondary_url",
            "on_sync_completion_always",
            "on_sync_error",
            "max_attempts",
            "retry_base_s",
            "retry_max_s",
            "timeout_s",
        ),
        where,
    )
    always = _bool(table, "on_sync_completion_always", False, where)
    on_error = _bool(table, "on_sync_error", True, where)
    defaults = WebhookSettings()
    return WebhookSettings(
        url=_env(env, "NANGO_WEBHOOK_URL") or _str(table, "url", where) or "",
        secondary_url=_env(env, "NANGO_WEBHOOK_SECONDARY_URL")
        or _str(table, "secondary_url", where)
        or "",
        on_sync_completion_always=_env_bool(env, "NANGO_WEBHOOK_ON_SYNC_COMPLETION_ALWAYS", always),
        on_sync_error=_env_bool(env, "NANGO_WEBHOOK_ON_SYNC_ERROR", on_error),
        max_attempts=int(
            _number(table, env, "max_attempts", defaults.max_attempts, where, integer=True)
        ),
        retry_base_s=_number(table, env, "retry_base_s", defaults.retry_base_s, where),
        retry_max_s=_number(table, env, "retry_max_s", defaults.retry_max_s, where),
        timeout_s=_number(table, env, "timeout_s", defaults.timeout_s, where),
    )


def _number(
    table: Mapping[str, Any],
    env: Mapping[str, str],
    key: str,
    default: float,
    where: str,
    *,
    integer: bool = False,
) -> float:
    """A positive number of [webhooks], or its ``NANGO_WEBHOOK_<KEY>`` variable."""
    name = f"NANGO_WEBHOOK_{key.upper()}"
    raw_env = _env(env, name)
    value: Any = table.get(key, default)
    source = f"{where} {key}"
    if raw_env is not None:
        source = name
        try:
            value = int(raw_env) if integer else float(raw_env)
        except ValueError:
            value = raw_env
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not 0 < value < float("inf"):
        what = "a whole number" if integer else "a number"
        raise _ConfigError(f"{source} = {value!r}: expected {what} above 0.")
    return float(value)


def _server(table: Mapping[str, Any], env: Mapping[str, str], where: str) -> tuple[str, int]:
    where = f"{where} [server]"
    _check_keys(table, ("host", "port", "max_body_bytes"), where)
    host = _env(env, "NANGO_SCRIPTS_SERVER_HOST") or _str(table, "host", where) or "127.0.0.1"
    raw_port: Any = table.get("port", 3003)
    source = f"{where} port"
    env_port = _env(env, "NANGO_SCRIPTS_SERVER_PORT")
    if env_port is not None:
        source = "NANGO_SCRIPTS_SERVER_PORT"
        raw_port = int(env_port) if env_port.strip().isdigit() else env_port
    if isinstance(raw_port, bool) or not isinstance(raw_port, int) or not 0 < raw_port < 65536:
        raise _ConfigError(f"{source} = {raw_port!r}: expected a port number (1-65535).")
    return host, raw_port


def _max_body_bytes(table: Mapping[str, Any], env: Mapping[str, str], where: str) -> int:
    name = "NANGO_SCRIPTS_SERVER_MAX_BODY_BYTES"
    raw: Any = table.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)
    source = f"{where} max_body_bytes"
    env_value = _env(env, name)
    if env_value is not None:
        source = name
        raw = int(env_value.strip()) if env_value.strip().isdigit() else env_value
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise _ConfigError(
            f"{source} = {raw!r}: expected a whole number of bytes above 0"
            f" (default {DEFAULT_MAX_BODY_BYTES}, 10 MiB)."
        )
    return raw


def _database_url(url: str | None, project: Path, source: str) -> str:
    if url is None:
        return f"sqlite:///{project / '.nango' / 'nango.db'}"
    url = url.strip()
    if url.startswith("sqlite:///"):
        rest = url.removeprefix("sqlite:///")
        if rest == ":memory:":
            return url
        if not rest:
            raise _ConfigError(f"{source} {url!r} has no file path.")
        path = Path(rest).expanduser()
        return f"sqlite:///{os.path.normpath(project / path)}"  # absolute path stays as is
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme) and len(url) > len(scheme):
            return "postgresql://" + url.removeprefix(scheme)
    shown = re.sub(r"//[^@/]*@", "//***@", url)  # never echo a password
    raise _ConfigError(
        f"{source} {shown!r} is not a supported database URL.",
        hint="Use sqlite:///relative/path.db, sqlite:////absolute/path.db or "
        "postgresql://user:password@host/dbname.",
    )


def _integrations(
    data: Mapping[str, Any], env: Mapping[str, str], where: str
) -> Mapping[str, ProviderConfig]:
    custom = _table(data, "providers", where)
    try:
        for name in custom:  # validate every [providers.x], used or not
            _providers.resolve_provider(name, custom)
        resolved: dict[str, ProviderConfig] = {}
        for integration_id, section in _table(data, "integrations", where).items():
            if not _ID.match(integration_id):
                raise _ConfigError(
                    f"integration id {integration_id!r}: use letters, digits, '-' and '_' "
                    "(it is also the folder name of its scripts)."
                )
            if not isinstance(section, Mapping):
                raise _ConfigError(f"[integrations.{integration_id}] must be a table.")
            section = {k: v for k, v in section.items() if k != "templates"}
            base_url = _env(env, integration_base_url_var(integration_id))
            if base_url is not None:
                section["base_url"] = base_url
            resolved[integration_id] = _providers.resolve_integration(
                integration_id, section, custom
            )
    except _ConfigError as exc:
        raise _ConfigError(f"{where}: {exc.message}", hint=exc.hint) from exc
    return MappingProxyType(resolved)


def _templates(data: Mapping[str, Any], where: str) -> Mapping[str, tuple[str, ...]]:
    """``templates = ["issues", ...]`` of each ``[integrations.<id>]`` table."""
    enabled: dict[str, tuple[str, ...]] = {}
    for integration_id, section in _table(data, "integrations", where).items():
        names = section.get("templates") if isinstance(section, Mapping) else None
        if names is None:
            continue
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise _ConfigError(
                f"{where}: [integrations.{integration_id}] templates must be a list of "
                'template names, e.g. templates = ["issues", "pull-requests"].'
            )
        enabled[integration_id] = tuple(dict.fromkeys(names))
    return MappingProxyType(enabled)
