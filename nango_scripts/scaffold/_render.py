"""Turning the template folders of this package into files of a user project.

Two template sets live next to this module, as package data:

- ``project/``: what ``nango-scripts init`` writes, mirrored path for path;
- ``script/``: what ``nango-scripts new sync|action`` writes, one file per role.

Rules for a template file:

- a name ending in ``.j2`` is rendered by jinja2 (undefined variables are errors) and
  written without the suffix; every other file is copied byte for byte, so recorded
  cassettes and snapshots (full of braces) are data, never templates;
- a name starting with ``dot-`` is written with a leading dot (``dot-gitignore.j2`` ->
  ``.gitignore``): dotfiles in package data are easy to lose, plain names are not.

Nothing here writes outside the target folder or decides whether overwriting is allowed:
callers plan the files, check for clashes, then :func:`write_files`.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath
from typing import Any, Literal

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

ScriptKind = Literal["sync", "action"]

PROJECT_INTEGRATION = "github"
"""The integration of the example project that ``init`` writes."""
PROJECT_SYNC = "issues"
"""Its sync, which ships with a recorded cassette and snapshot."""

_RENDERED_SUFFIX = ".j2"
_DOT_PREFIX = "dot-"
_TAKEN = frozenset({"ActionError", "BaseModel", "NangoAction", "NangoSync"})
"""Names the script templates import: a model must not shadow them."""


@dataclass(frozen=True)
class PlannedFile:
    """One file to write: where (relative to the target folder) and what."""

    path: PurePosixPath
    content: bytes


def project_files(project_name: str) -> list[PlannedFile]:
    """Every file of a new project, in a stable order."""
    context = {
        "project_name": project_name,
        "integration": PROJECT_INTEGRATION,
        "sync": PROJECT_SYNC,
    }
    root = _templates() / "project"
    files = [
        PlannedFile(_output_path(relative), _produce(template, relative, context))
        for relative, template in _walk(root, PurePosixPath())
    ]
    return sorted(files, key=lambda f: f.path)


def script_files(kind: ScriptKind, name: str, integration: str) -> list[PlannedFile]:
    """The script ``name`` of ``integration`` and its test, ready to fill in."""
    folder = "syncs" if kind == "sync" else "actions"
    context = {
        "name": name,
        "integration": integration,
        "model": model_name_for(name),
        "kind": kind,
    }
    root = _templates() / "script"
    targets = {
        f"{kind}.py.j2": PurePosixPath(integration, folder, f"{name}.py"),
        "test_script.py.j2": PurePosixPath(integration, "tests", f"test_{name}.py"),
    }
    return [
        PlannedFile(target, _produce(root / template, PurePosixPath(template), context))
        for template, target in targets.items()
    ]


def write_files(target: Path, files: Iterable[PlannedFile]) -> list[Path]:
    """Write ``files`` below ``target`` (creating folders); return the paths written."""
    written: list[Path] = []
    for planned in files:
        path = target.joinpath(*planned.path.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(planned.content)
        written.append(path)
    return written


def model_name_for(name: str) -> str:
    """``pull_requests`` -> ``PullRequest``: a class name for the records of a script.

    A plain English singular, good enough for a first draft the user will edit.
    """
    words = [w for w in name.split("_") if w]
    if not words:
        return "Record"
    last = words[-1]
    lower = last.lower()
    if lower.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif re.search(r"(ss|sh|ch|x)es$", lower):
        last = last[:-2]
    elif lower.endswith("s") and not lower.endswith(("ss", "us", "is")) and len(last) > 3:
        last = last[:-1]
    words[-1] = last
    model = "".join(w[:1].upper() + w[1:] for w in words)
    if not model.isidentifier() or keyword.iskeyword(model) or model in _TAKEN or model == name:
        model += "Record"
    return model


# --------------------------------------------------------------------------- internals


def _templates() -> Traversable:
    return resources.files(__package__ or "nango_scripts.scaffold")


def _walk(
    folder: Traversable, prefix: PurePosixPath
) -> Iterator[tuple[PurePosixPath, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        relative = prefix / entry.name
        if entry.is_dir():
            yield from _walk(entry, relative)
        else:
            yield relative, entry


def _output_path(relative: PurePosixPath) -> PurePosixPath:
    parts = list(relative.parts)
    name = parts[-1].removesuffix(_RENDERED_SUFFIX)
    if name.startswith(_DOT_PREFIX):
        name = "." + name.removeprefix(_DOT_PREFIX)
    parts[-1] = name
    return PurePosixPath(*parts)


def _produce(template: Traversable, relative: PurePosixPath, context: Mapping[str, Any]) -> bytes:
    data = template.read_bytes()
    if not relative.name.endswith(_RENDERED_SUFFIX):
        return data
    # jinja2 is imported here: only init and new need it, not every command.
    import jinja2

    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return env.from_string(data.decode("utf-8")).render(**context).encode("utf-8")
