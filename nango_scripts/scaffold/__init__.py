"""Templates for ``nango-scripts init`` and ``new`` (package data) and their renderer."""

from __future__ import annotations

from nango_scripts.scaffold._render import (
    PROJECT_INTEGRATION,
    PROJECT_SYNC,
    PlannedFile,
    ScriptKind,
    model_name_for,
    project_files,
    script_files,
    write_files,
)

__all__ = [
    "PROJECT_INTEGRATION",
    "PROJECT_SYNC",
    "PlannedFile",
    "ScriptKind",
    "model_name_for",
    "project_files",
    "script_files",
    "write_files",
]
