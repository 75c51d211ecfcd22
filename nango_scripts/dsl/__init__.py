"""The script definition layer: ``@sync``/``@action`` -> frozen specs, frequency parsing,
and loading a project folder into a :class:`Project`."""

from __future__ import annotations

from nango_scripts.dsl._decorators import action, sync
from nango_scripts.dsl._endpoints import (
    BUILT_IN_PREFIXES,
    Endpoint,
    built_in_clash,
    endpoint_clashes,
)
from nango_scripts.dsl._frequency import FrequencyError, parse_frequency
from nango_scripts.dsl._loader import Project, integration_folders, load_project
from nango_scripts.dsl._packs import (
    BUILTIN_PACK,
    ENTRY_POINT_GROUP,
    Pack,
    TemplateLibrary,
    discover_packs,
    load_library,
    load_pack,
    reset_library_cache,
)
from nango_scripts.dsl._spec import ActionSpec, ScriptSpec, SyncSpec, TemplateRef

__all__ = [
    "BUILTIN_PACK",
    "BUILT_IN_PREFIXES",
    "ENTRY_POINT_GROUP",
    "ActionSpec",
    "Endpoint",
    "FrequencyError",
    "Pack",
    "Project",
    "ScriptSpec",
    "SyncSpec",
    "TemplateLibrary",
    "TemplateRef",
    "action",
    "built_in_clash",
    "discover_packs",
    "endpoint_clashes",
    "integration_folders",
    "load_library",
    "load_pack",
    "load_project",
    "parse_frequency",
    "reset_library_cache",
    "sync",
]
