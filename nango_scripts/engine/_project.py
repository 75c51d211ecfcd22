"""Finding what a command runs: the project folder, settings, the script by name, and its
connection."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from nango_scripts.dsl import ScriptSpec, load_project
from nango_scripts.errors import ConfigError, ScriptNotFoundError
from nango_scripts.providers import ProviderConfig
from nango_scripts.settings import CONFIG_FILE, Settings, load_settings
from nango_scripts.store import Connection, ConnectionStore

__all__ = [
    "FoundScript",
    "ProjectScript",
    "find_project_dir",
    "find_project_script",
    "find_template",
    "open_project_script",
]


def find_project_dir(explicit: str | Path | None, *, start: Path | None = None) -> Path:
    """The project folder a command works in: ``explicit`` (``--project`` or
    ``NANGO_SCRIPTS_PROJECT``) when given, else the nearest folder holding ``nango.toml``
    from ``start`` (default: the current directory) up to the file system's root.

    Raises :class:`ConfigError` (exit 2) naming where it looked when there is no project,
    so that a command run in the wrong folder stops before creating anything.
    """
    hint = (
        "Run the command inside a project (a folder with nango.toml or below one), "
        "pass --project DIR, or create one with nango-scripts init."
    )
    if explicit is not None:
        folder = Path(os.path.abspath(Path(explicit).expanduser()))
        if not folder.is_dir():
            raise ConfigError(
                f"no nango-scripts project at {folder}: it does not exist or is not a folder.",
                hint=hint,
            )
        if not (folder / CONFIG_FILE).is_file():
            raise ConfigError(
                f"no nango-scripts project at {folder}: it has no {CONFIG_FILE}.", hint=hint
            )
        return folder
    here = Path(os.path.abspath(start if start is not None else Path.cwd()))
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise ConfigError(
        f"no nango-scripts project here: no {CONFIG_FILE} in {here} "
        f"or any folder above it (looked from {here} up to {here.anchor}).",
        hint=hint,
    )


@dataclass(frozen=True)
class FoundScript:
    """A script of a project and its integration's provider: all a run needs but a connection."""

    settings: Settings
    spec: ScriptSpec
    provider: ProviderConfig
    other_errors: tuple[str, ...]
    """Problems in other scripts of the project: worth a warning, not a stop."""


@dataclass(frozen=True)
class ProjectScript:
    settings: Settings
    spec: ScriptSpec
    provider: ProviderConfig
    connection: Connection
    other_errors: tuple[str, ...]
    """Problems in other scripts of the project: worth a warning, not a stop."""


def open_project_script(
    project: str | Path | None,
    name: str,
    connection_id: str,
    *,
    integration: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ProjectScript:
    """Load the project, find the script and its connection; raise a clear error if not."""
    found = find_project_script(project, name, integration=integration, env=env)
    assert found.spec.integration is not None
    with ConnectionStore.open(found.settings) as connections:
        connection = connections.get(found.spec.integration, connection_id)
    return ProjectScript(found.settings, found.spec, found.provider, connection, found.other_errors)


def find_project_script(
    project: str | Path | None,
    name: str,
    *,
    integration: str | None = None,
    env: Mapping[str, str] | None = None,
) -> FoundScript:
    """Load the project (fresh) and find the script and its provider; no database is opened.

    Raises a clear error for an unknown script or an integration missing from nango.toml.
    """
    settings = load_settings(project, env)
    loaded = load_project(settings.project_dir)
    try:
        spec = loaded.find(name, integration)
    except ScriptNotFoundError as exc:
        # A broken file may hold the project's own script of that name: no template then.
        template = None if loaded.broken_files else find_template(settings, name, integration)
        if template is not None:
            spec = template
        elif not loaded.errors:
            raise
        else:
            broken = "\n".join(f"  - {e}" for e in loaded.errors)
            raise ScriptNotFoundError(
                f"{exc.message}\nThese files could not be loaded and may hold it:\n{broken}",
                hint=exc.hint,
            ) from None
    assert spec.integration is not None
    provider = settings.integrations.get(spec.integration)
    if provider is None:
        raise ConfigError(
            f'integration "{spec.integration}" of script "{spec.name}" is not in nango.toml.',
            hint=f'Add [integrations.{spec.integration}] with provider = "..." '
            f"(or base_url and auth) to {settings.project_dir / 'nango.toml'}.",
        )
    return FoundScript(settings, spec, provider, tuple(str(e) for e in loaded.errors))


def find_template(settings: Settings, name: str, integration: str | None) -> ScriptSpec | None:
    """A template called ``name`` of the integration's provider (of any integration when
    none is given), bound to that integration; enabled or not, so that a template can be
    tried with dryrun before it is enabled. Ambiguous without ``integration``: an error."""
    candidates = [
        (integration_id, provider)
        for integration_id, provider in settings.integrations.items()
        if integration in (None, integration_id)
    ]
    if not candidates:
        return None
    from nango_scripts.dsl import load_library

    library = load_library()
    found = [
        dataclasses.replace(template, integration=integration_id)
        for integration_id, provider in candidates
        if (template := library.get(provider.name, name)) is not None
    ]
    if len(found) > 1:
        owners = ", ".join(str(s.integration) for s in found)
        raise ScriptNotFoundError(
            f'template "{name}" fits several integrations: {owners}.',
            hint="Pass --integration to say which one.",
        )
    return found[0] if found else None
