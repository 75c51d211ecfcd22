"""Templates for ``nango-scripts init`` and ``new`` (package data) and their renderer."""

from __future__ import annotations

from nango_scripts.scaffold._clone import CloneReport, clone_templates, select_templates
from nango_scripts.scaffold._package import BuiltPack, package_pack
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
    "BuiltPack",
    "CloneReport",
    "PlannedFile",
    "ScriptKind",
    "clone_templates",
    "model_name_for",
    "package_pack",
    "project_files",
    "script_files",
    "select_templates",
    "write_files",
]
