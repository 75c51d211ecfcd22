"""The hot-reload loop of ``nango-scripts dev``, without its doors: reload, run, compare.

:class:`DevSession` reloads a project's scripts and re-runs one of them through a
*runner* it is given (the CLI passes a replay from a cassette, or a live dry run), and
says what changed since the previous successful run. It prints nothing and watches
nothing: the CLI drives it from the file watcher (:mod:`._watch`) and shows its events.

A reload re-imports only the project's own modules (``load_project`` drops the previous
load's ``nango_project.*`` modules first); nango_scripts, pydantic and httpx stay
imported once for the life of the process.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nango_scripts.dsl import Project, ScriptSpec, load_project
from nango_scripts.engine._project import find_template
from nango_scripts.engine._unconfigured import unconfigured_integrations
from nango_scripts.errors import NangoScriptsError, ProjectError
from nango_scripts.runtime import RunResult
from nango_scripts.settings import Settings, load_settings

__all__ = [
    "DevSession",
    "ModelChanges",
    "ReloadOutcome",
    "RerunReport",
    "RunWithRecords",
    "Runner",
    "changed_fields",
    "diff_records",
    "final_records",
]

RecordsByModel = Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]]
"""``{Model: {"saved": [...], "updated": [...], "deleted": [...]}}``, as ``dryrun --json``."""

_IGNORED_FIELDS = frozenset({"_nango_metadata"})


@dataclass(frozen=True)
class RunWithRecords:
    """What a runner hands back: the run, and its records in the dryrun shape."""

    result: RunResult
    records: RecordsByModel


Runner = Callable[[], Awaitable[RunWithRecords]]


@dataclass(frozen=True)
class ReloadOutcome:
    project: Project | None
    """None when not even the settings could be read."""
    settings: Settings | None
    errors: tuple[NangoScriptsError, ...]
    duration_s: float

    @property
    def scripts(self) -> tuple[ScriptSpec, ...]:
        return self.project.scripts if self.project is not None else ()


@dataclass(frozen=True)
class ModelChanges:
    """How one model's records differ between two runs."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    """Record id -> the fields that differ (dotted paths into nested objects)."""

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}


@dataclass(frozen=True)
class RerunReport:
    """One re-run of the dev loop: its run and records, what changed since the previous
    run, and how long it took."""

    outcome: RunWithRecords
    changes: dict[str, ModelChanges] | None
    """Per model with a difference; None for the first successful run (nothing to
    compare with) and for a failed run."""
    output_changes: list[str] | None
    """For an action: the output fields that differ from the previous run's."""
    duration_s: float


class DevSession:
    """One project folder, reloaded on demand, and optionally one script re-run."""

    def __init__(
        self,
        project_dir: Path,
        *,
        script: str | None = None,
        integration: str | None = None,
        runner: Runner | None = None,
    ) -> None:
        self.project_dir = project_dir
        self.script = script
        self.integration = integration
        self.runner = runner
        self.last: ReloadOutcome | None = None
        self._previous: RunWithRecords | None = None

    def reload(self) -> ReloadOutcome:
        """Re-read nango.toml and re-import every script; collect every problem."""
        started = time.perf_counter()
        errors: list[NangoScriptsError] = []
        settings: Settings | None = None
        try:
            settings = load_settings(self.project_dir)
        except NangoScriptsError as exc:
            errors.append(exc)
        project: Project | None = None
        try:
            project = load_project(self.project_dir)
        except NangoScriptsError as exc:
            errors.append(exc)
        if project is not None:
            errors.extend(project.errors)
            if settings is not None:
                errors.extend(unconfigured_integrations(project, settings.integrations))
        self.last = ReloadOutcome(project, settings, tuple(errors), time.perf_counter() - started)
        return self.last

    def target(self) -> ScriptSpec | None:
        """The script to re-run, if the last reload has it (a broken file hides it)."""
        if self.script is None or self.last is None or self.last.project is None:
            return None
        for spec in self.last.project.scripts:
            if spec.name == self.script and self.integration in (None, spec.integration):
                return spec
        if self.last.settings is not None and not self.last.project.broken_files:
            # A template of an integration's provider runs as dryrun runs it (unless a
            # broken file may hold the project's own script of that name).
            return find_template(self.last.settings, self.script, self.integration)
        return None

    async def run(self) -> RerunReport:
        """Run the script once through the runner; compare with the last successful run."""
        if self.runner is None:
            raise ProjectError("this dev session re-runs no script (pass --run).")
        started = time.perf_counter()
        outcome = await self.runner()
        duration = time.perf_counter() - started
        previous = self._previous
        changes: dict[str, ModelChanges] | None = None
        output_changes: list[str] | None = None
        if outcome.result.success:
            if previous is not None:
                changes = diff_records(previous.records, outcome.records)
                if outcome.result.kind == "action":
                    output_changes = changed_fields(previous.result.output, outcome.result.output)
            self._previous = outcome
        return RerunReport(outcome, changes, output_changes, duration)


# --------------------------------------------------------------------------- comparing


def final_records(records: RecordsByModel) -> dict[str, dict[str, dict[str, Any]]]:
    """Per model, id -> record as the run left it: saved, then updated, minus deleted."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for model, lists in records.items():
        table: dict[str, dict[str, Any]] = {}
        for record in lists.get("saved", ()):
            table[str(record.get("id"))] = dict(record)
        for record in lists.get("updated", ()):
            rid = str(record.get("id"))
            table[rid] = {**table.get(rid, {}), **record}
        for record in lists.get("deleted", ()):
            table.pop(str(record.get("id")), None)
        out[model] = table
    return out


def diff_records(previous: RecordsByModel, current: RecordsByModel) -> dict[str, ModelChanges]:
    """Per model with any difference: the ids added, removed, and changed (with fields)."""
    before, after = final_records(previous), final_records(current)
    changes: dict[str, ModelChanges] = {}
    for model in sorted(before.keys() | after.keys()):
        old, new = before.get(model, {}), after.get(model, {})
        found = ModelChanges(
            added=[rid for rid in new if rid not in old],
            removed=[rid for rid in old if rid not in new],
            changed={
                rid: fields
                for rid, record in new.items()
                if rid in old and (fields := changed_fields(old[rid], record))
            },
        )
        if found:
            changes[model] = found
    return changes


def changed_fields(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The paths that differ between two JSON values (``user.login``); nested objects are
    followed, lists compared whole. Two unequal non-objects at the top give ``["."]``."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        paths: list[str] = []
        for key in sorted(old.keys() | new.keys(), key=str):
            if not prefix and key in _IGNORED_FIELDS:
                continue
            path = f"{prefix}{key}"
            if key not in old or key not in new:
                paths.append(path)
            else:
                paths.extend(changed_fields(old[key], new[key], path + "."))
        return paths
    if old != new:
        return [prefix.removesuffix(".") or "."]
    return []
