"""The script definition layer: ``@sync``/``@action`` -> frozen specs, frequency parsing,
and loading a project folder into a :class:`Project`."""

from __future__ import annotations

from nango_scripts.dsl._decorators import action, sync
from nango_scripts.dsl._frequency import FrequencyError, parse_frequency
from nango_scripts.dsl._loader import Project, load_project
from nango_scripts.dsl._spec import ActionSpec, ScriptSpec, SyncSpec

__all__ = [
    "ActionSpec",
    "FrequencyError",
    "Project",
    "ScriptSpec",
    "SyncSpec",
    "action",
    "load_project",
    "parse_frequency",
    "sync",
]
