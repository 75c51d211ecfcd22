from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from nango_scripts.dsl._endpoints import Endpoint

SyncType = Literal["full", "incremental"]


@dataclass(frozen=True)
class TemplateRef:
    """Where a template comes from: set on the specs of a template pack, None for a project's
    own scripts."""

    pack: str
    """The pack's name (its ``nango_scripts.templates`` entry point; ``builtin``)."""
    version: str
    """The version of the distribution that ships the pack."""
    provider: str
    """The provider folder of the pack (a catalogue name)."""
    folder: Path
    """That folder: ``<pack>/<provider>``, laid out like a project's integration folder."""


@dataclass(frozen=True, eq=False)
class SyncSpec:
    """What ``@sync`` turns a function into. Calling it calls the function."""

    func: Callable[..., Any]
    name: str
    integration: str | None
    """From ``integration=`` or, once loaded from a project, the folder name."""
    models: tuple[type[BaseModel], ...]
    frequency: str
    frequency_seconds: int
    sync_type: SyncType
    track_deletes: bool
    auto_start: bool
    metadata: type[BaseModel] | None
    scopes: tuple[str, ...]
    description: str
    version: str
    is_async: bool
    source_file: Path | None

    kind: Literal["sync"] = "sync"
    line: int | None = None
    """Line of the definition in ``source_file`` (its first decorator)."""
    endpoints: tuple[Endpoint, ...] = ()
    """Where it is served (``GET /<name>`` for a sync, ``POST /<name>`` for an action,
    unless declared): see :mod:`nango_scripts.dsl._endpoints`."""
    template: TemplateRef | None = None
    """Set when the script comes from a template pack (``integration`` is then the
    integration it is enabled for, or the provider while it is only listed)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def model(self, name: str) -> type[BaseModel] | None:
        """The declared model called ``name``, or None."""
        for m in self.models:
            if m.__name__ == name:
                return m
        return None


@dataclass(frozen=True, eq=False)
class ActionSpec:
    """What ``@action`` turns a function into. Calling it calls the function."""

    func: Callable[..., Any]
    name: str
    integration: str | None
    input: type[BaseModel] | None
    output: type[BaseModel] | None
    scopes: tuple[str, ...]
    description: str
    version: str
    is_async: bool
    source_file: Path | None
    takes_input: bool
    """Whether the function has a second parameter for the input."""

    kind: Literal["action"] = "action"
    line: int | None = None
    """Line of the definition in ``source_file`` (its first decorator)."""
    endpoints: tuple[Endpoint, ...] = ()
    """Where it is served (``GET /<name>`` for a sync, ``POST /<name>`` for an action,
    unless declared): see :mod:`nango_scripts.dsl._endpoints`."""
    template: TemplateRef | None = None
    """Set when the script comes from a template pack (``integration`` is then the
    integration it is enabled for, or the provider while it is only listed)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)


ScriptSpec = SyncSpec | ActionSpec
