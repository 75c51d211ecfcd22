"""``templates clone``: copy templates into a project, with what they import, never overwriting.

A template imports its models and helpers relatively (``from ..models import Issue``),
which works unchanged inside a project's integration folder: the copy runs as is and,
having the template's integration and name, overrides it. Each copied script's cassette
and snapshot come along, so ``nango-scripts test`` replays the copy at once.
"""

from __future__ import annotations

import ast
import filecmp
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from nango_scripts.dsl import ScriptSpec, TemplateLibrary
from nango_scripts.errors import TemplateError

__all__ = ["CloneReport", "clone_templates", "select_templates"]

_KINDS = {"syncs": "sync", "actions": "action"}


@dataclass
class CloneReport:
    provider: str
    integration: str
    scripts: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)
    same: list[str] = field(default_factory=list)
    """Already in the project with the same content."""
    kept: list[str] = field(default_factory=list)
    """Already in the project with other content: left alone."""


def select_templates(library: TemplateLibrary, ref: str) -> list[ScriptSpec]:
    """``PROVIDER``, ``PROVIDER/syncs``, ``PROVIDER/actions``, ``PROVIDER/NAME`` or
    ``PROVIDER/syncs/NAME``: the templates named."""
    parts = [p for p in ref.strip("/").split("/") if p]
    if not parts or len(parts) > 3:
        raise TemplateError(
            f'"{ref}" does not name templates.',
            hint="Use PROVIDER, PROVIDER/syncs, PROVIDER/actions or PROVIDER/NAME.",
        )
    provider, rest = parts[0], parts[1:]
    templates = library.for_provider(provider)
    if not templates:
        library.find(f"{provider}/-")  # raises, naming the providers that exist
    kind = _KINDS.get(rest[0]) if rest else None
    if kind is not None:
        rest = rest[1:]
        everything = ", ".join(t.name for t in templates)
        templates = [t for t in templates if t.kind == kind]
        if not templates:
            # else clone_templates would fail on an empty selection
            raise TemplateError(
                f'provider "{provider}" has no {kind} templates.',
                hint=f"Templates of {provider}: {everything}.",
            )
    if rest:
        if len(rest) > 1:
            raise TemplateError(f'"{ref}" does not name templates.')
        found = library.find(f"{provider}/{rest[0]}")
        if kind is not None and found.kind != kind:
            raise TemplateError(
                f"{provider}/{rest[0]} is {'an' if found.kind == 'action' else 'a'} "
                f'{found.kind}, not in "{ref}".',
                hint=f"The {kind}s of {provider}: {', '.join(t.name for t in templates)}.",
            )
        return [found]
    return templates


def clone_templates(
    library: TemplateLibrary, ref: str, project_dir: Path, integration: str | None = None
) -> CloneReport:
    specs = select_templates(library, ref)
    first = specs[0].template
    assert first is not None
    folder = first.folder
    target = integration or first.provider
    report = CloneReport(first.provider, target, scripts=[s.name for s in specs])
    files: list[Path] = []
    for spec in specs:
        assert spec.source_file is not None
        files.append(spec.source_file)
        for sub in ("cassettes", "snapshots"):
            ext = ".yaml" if sub == "cassettes" else ".json"
            found = sorted((folder / "tests" / sub).glob(f"{spec.name}{ext}"))
            found += sorted((folder / "tests" / sub).glob(f"{spec.name}@*{ext}"))
            files.extend(found)
    for path in _with_imports(files, folder):
        relative = path.relative_to(folder)
        destination = project_dir / target / relative
        shown = (Path(target) / relative).as_posix()
        if destination.exists():
            if destination.is_file() and filecmp.cmp(path, destination, shallow=False):
                report.same.append(shown)
            else:
                report.kept.append(shown)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        report.copied.append(shown)
    return report


def _with_imports(files: list[Path], folder: Path) -> list[Path]:
    """``files`` and every module of ``folder`` they import relatively, transitively."""
    ordered: dict[Path, None] = {}
    todo = list(files)
    while todo:
        path = todo.pop(0)
        if path in ordered:
            continue
        ordered[path] = None
        if path.suffix == ".py":
            todo.extend(_relative_imports(path, folder))
            todo.extend(_package_inits(path, folder))
    return list(ordered)


def _package_inits(path: Path, folder: Path) -> list[Path]:
    """The ``__init__.py`` of each package holding ``path`` inside ``folder``: importing
    ``..lib.convert`` runs ``lib/__init__.py`` first, which may define what is imported."""
    found: list[Path] = []
    for parent in path.parents:
        if not parent.is_relative_to(folder):
            break
        init = parent / "__init__.py"
        if init.is_file() and init != path:
            found.append(init)
    return found


def _relative_imports(path: Path, folder: Path) -> list[Path]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return []
    found: list[Path] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        base = path.parent
        for _ in range(node.level - 1):
            base = base.parent
        names = [node.module] if node.module else [a.name for a in node.names]
        for name in names:
            target = base.joinpath(*name.split("."))
            for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                if candidate.is_file() and candidate.is_relative_to(folder):
                    found.append(candidate)
            if node.module:
                # `from ..helpers import dates` may name a submodule too
                for alias in node.names:
                    sub = target / f"{alias.name}.py"
                    if sub.is_file() and sub.is_relative_to(folder):
                        found.append(sub)
    return found
