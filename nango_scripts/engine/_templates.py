"""Templates enabled per integration, and the scripts a service serves with them.

A template is enabled for an integration by ``templates = [...]`` under its
``[integrations.<id>]`` table in ``nango.toml``, or in the database (the Scripts page's
toggle, ``nango-scripts templates enable``, ``POST /integrations/{key}/templates/enable``).
Both sources add up; only the database's can be switched off without editing the file.

:func:`compose` turns a loaded project into what is served: the project's own scripts,
then each enabled template bound to its integration (``integration`` = the integration id,
``template`` kept). A project script with the same integration and name overrides the
template: the template is left out and :func:`template_rows` says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from nango_scripts._template_index import fingerprint
from nango_scripts.dsl import (
    Pack,
    Project,
    ScriptSpec,
    SyncSpec,
    TemplateLibrary,
    endpoint_clashes,
    load_library,
    load_pack,
)
from nango_scripts.errors import ProjectError, TemplateError
from nango_scripts.settings import Settings
from nango_scripts.store import ScheduleStore

__all__ = [
    "TemplateRow",
    "check_templates",
    "compose",
    "describe",
    "enabled_names",
    "index_document",
    "read_enabled",
    "served_project",
    "set_templates",
    "template_rows",
]

Enabled = Mapping[str, Sequence[str]]
"""Integration id -> names of templates enabled in the database."""


def enabled_names(settings: Settings, database: Enabled, integration_id: str) -> list[str]:
    """The templates enabled for an integration: nango.toml's first, then the database's."""
    names = [
        *settings.integration_templates.get(integration_id, ()),
        *database.get(integration_id, ()),
    ]
    return list(dict.fromkeys(names))


def compose(
    project: Project,
    settings: Settings,
    database: Enabled,
    library: TemplateLibrary | None = None,
) -> Project:
    """``project`` plus every enabled template, bound to its integration."""
    if not any(settings.integration_templates.values()) and not any(database.values()):
        return project
    library = library if library is not None else load_library()
    own = {(s.integration, s.name) for s in project.scripts}
    scripts = list(project.scripts)
    errors = list(project.errors)
    for integration_id, provider in settings.integrations.items():
        for name in enabled_names(settings, database, integration_id):
            template = library.get(provider.name, name)
            if template is None:
                errors.append(
                    ProjectError(
                        f'template "{name}" is enabled for integration "{integration_id}", '
                        f'but no installed pack has a template "{name}" for provider '
                        f'"{provider.name}".',
                        hint="Disable it (nango-scripts templates disable "
                        f"{integration_id} {name}) or install the pack that has it.",
                    )
                )
            elif (integration_id, name) not in own:
                scripts.append(dataclasses.replace(template, integration=integration_id))
    scripts, clashes = endpoint_clashes(scripts)  # the project's scripts come first
    errors.extend(clashes)
    errors.extend(library.errors)
    return dataclasses.replace(project, scripts=tuple(scripts), errors=tuple(errors))


def check_templates(
    settings: Settings, integration_id: str, names: Sequence[str], library: TemplateLibrary
) -> list[ScriptSpec]:
    """The templates ``names`` of the integration's provider, or a :class:`TemplateError`
    naming what exists; nothing is enabled unless every name is right."""
    provider = settings.integrations.get(integration_id)
    if provider is None:
        known = ", ".join(sorted(settings.integrations)) or "none"
        raise TemplateError(
            f'no integration "{integration_id}".',
            hint=f"Integrations: {known} (add one to nango.toml with [integrations.ID]).",
        )
    if not names:
        raise TemplateError("name at least one template.")
    own = library.for_provider(provider.name)
    available = ", ".join(t.name for t in own) or "none"
    found: list[ScriptSpec] = []
    for name in names:
        spec = library.get(provider.name, name)
        if spec is not None:
            found.append(spec)
            continue
        elsewhere = sorted(p for p in library.providers if library.get(p, name) is not None)
        if elsewhere:
            problem = (
                f'template "{name}" is a template of {", ".join(elsewhere)}, not of '
                f'"{provider.name}", the provider of integration "{integration_id}".'
            )
        else:
            problem = f'provider "{provider.name}" has no template "{name}".'
        raise TemplateError(
            problem, hint=f"Templates of {provider.name}: {available}. Nothing was changed."
        )
    return found


def read_enabled(schedules: ScheduleStore, settings: Settings) -> dict[str, list[str]]:
    return schedules.enabled_templates(settings.environment)


def set_templates(
    schedules: ScheduleStore,
    settings: Settings,
    integration_id: str,
    names: Sequence[str],
    *,
    enabled: bool,
    library: TemplateLibrary | None = None,
) -> list[ScriptSpec]:
    """Enable or disable templates of an integration in the database, all or none.

    Disabling a template that nango.toml enables is refused (the file would enable it
    again at once): it names the file to edit.
    """
    library = library if library is not None else load_library()
    specs = check_templates(settings, integration_id, list(dict.fromkeys(names)), library)
    if not enabled:
        pinned = [n for n in names if n in settings.integration_templates.get(integration_id, ())]
        if pinned:
            raise TemplateError(
                f"{', '.join(pinned)} enabled in nango.toml for integration "
                f'"{integration_id}": the file decides.',
                hint=f"Remove them from templates = [...] under [integrations.{integration_id}] "
                f"in {settings.config_path or 'nango.toml'}. Nothing was changed.",
            )
    schedules.set_templates(settings.environment, integration_id, [s.name for s in specs], enabled)
    return specs


Source = Literal["nango.toml", "database", "nango.toml and database"]


@dataclass(frozen=True)
class TemplateRow:
    """One template of an integration's provider, as the page, the CLI and the API show it."""

    integration_id: str
    spec: ScriptSpec
    enabled: bool
    source: Source | None
    """Where it is enabled, when it is."""
    overridden_by: str | None
    """The project's own script file that replaces it, if any."""


def template_rows(
    settings: Settings,
    project: Project,
    database: Enabled,
    integration_id: str,
    library: TemplateLibrary | None = None,
) -> list[TemplateRow]:
    library = library if library is not None else load_library()
    provider = settings.integrations.get(integration_id)
    if provider is None:
        return []
    toml = set(settings.integration_templates.get(integration_id, ()))
    db = set(database.get(integration_id, ()))
    own = {
        s.name: s for s in project.scripts if s.integration == integration_id and s.template is None
    }
    rows = []
    for spec in library.for_provider(provider.name):
        source: Source | None = None
        if spec.name in toml and spec.name in db:
            source = "nango.toml and database"
        elif spec.name in toml:
            source = "nango.toml"
        elif spec.name in db:
            source = "database"
        mine = own.get(spec.name)
        overridden = None
        if mine is not None:
            overridden = str(mine.source_file) if mine.source_file else mine.func.__module__
        rows.append(TemplateRow(integration_id, spec, source is not None, source, overridden))
    return rows


def describe(spec: ScriptSpec) -> dict[str, Any]:
    """A template as plain data: what ``templates list --json``, the API and the page show."""
    template = spec.template
    info: dict[str, Any] = {
        "provider": template.provider if template else spec.integration,
        "name": spec.name,
        "kind": spec.kind,
        "description": spec.description,
        "version": spec.version,
        "scopes": list(spec.scopes),
        "pack": template.pack if template else None,
        "pack_version": template.version if template else None,
        "endpoints": [str(e) for e in spec.endpoints],
    }
    if isinstance(spec, SyncSpec):
        info.update(
            models=[m.__name__ for m in spec.models],
            frequency=spec.frequency,
            sync_type=spec.sync_type,
            track_deletes=spec.track_deletes,
            auto_start=spec.auto_start,
            metadata=_fields(spec.metadata),
        )
    else:
        info.update(
            input=spec.input.__name__ if spec.input else None,
            output=spec.output.__name__ if spec.output else None,
            models=[m.__name__ for m in (spec.input, spec.output) if m is not None],
        )
    return info


def _fields(model: type[BaseModel] | None) -> list[str]:
    """The metadata fields a script needs (required ones first)."""
    if model is None:
        return []
    fields = model.model_fields
    required = [n for n, f in fields.items() if f.is_required()]
    return required + [n for n in fields if n not in required]


def index_document(folder: Path) -> dict[str, Any]:
    """The ``index.json`` of the pack in ``folder``: what ``templates list`` reads instead
    of importing every template. Raises :class:`ProjectError` if the pack does not load."""
    specs, errors = load_pack(Pack("index", "0", folder))
    if errors:
        problems = "\n".join(f"  - {e}" for e in errors)
        raise ProjectError(f"the pack in {folder} does not load:\n{problems}")
    rows = []
    for spec in specs:
        row = describe(spec)
        del row["pack"], row["pack_version"]
        rows.append(row)
    return {"fingerprint": fingerprint(folder), "templates": rows}


def served_project(settings: Settings) -> Project:
    """The project as ``serve`` would serve it: its scripts plus the enabled templates
    (nango.toml's, and the database's when the database exists; none is created)."""
    from nango_scripts.dsl import load_project

    project = load_project(settings.project_dir)
    database: dict[str, list[str]] = {}
    sqlite = settings.sqlite_path
    if sqlite is None or sqlite.is_file():
        with ScheduleStore.open(settings.database_url) as schedules:
            database = read_enabled(schedules, settings)
    return compose(project, settings, database)
