"""Loading a project folder: find every script module, import it, collect the specs.

How project code is imported
----------------------------
Each file is imported under a synthetic package, ``nango_project``, that maps onto the
project folder: ``github/syncs/issues.py`` becomes ``nango_project.github.syncs.issues``.
A meta path finder (:class:`_ProjectFinder`) resolves every ``nango_project.*`` name to
a file or folder of the project, so

- relative imports work everywhere (``from ..models import Issue`` is
  ``nango_project.github.models``), and folders need no ``__init__.py``;
- ``from github.models import Issue`` works too: the integration's own name is an alias
  of ``nango_project.github`` (the very same module objects, so classes are identical
  whichever way they were imported). An installed package of the same name wins, so a
  script can still use an SDK called ``github``; relative imports always work;
- nothing is added to ``sys.path``, and the project's names never shadow installed ones;
- modules are compiled from source, without ``__pycache__`` (no stale bytecode when a
  file is edited twice within a second, as the ``dev`` hot reload does).

One project is loaded at a time in a process: every :func:`load_project` first drops the
modules of the previous load from ``sys.modules``, so it always imports fresh code.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import keyword
import sys
import threading
import traceback
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nango_scripts.dsl._endpoints import endpoint_clashes
from nango_scripts.dsl._location import display_path, project_root
from nango_scripts.dsl._spec import ActionSpec, ScriptSpec, SyncSpec
from nango_scripts.errors import ProjectError, ScriptDefinitionError, ScriptNotFoundError

__all__ = ["ROOT_PACKAGE", "Project", "integration_folders", "load_project"]

ROOT_PACKAGE = "nango_project"
PACKS_PACKAGE = "nango_template_packs"
_SCRIPT_FOLDERS = ("syncs", "actions")
_SKIPPED_FOLDERS = frozenset(
    {"tests", "node_modules", "venv", "env", "build", "dist", "site-packages", "__pycache__"}
)

LoadError = ScriptDefinitionError | ProjectError

_lock = threading.Lock()
_finder: _ProjectFinder | None = None


@dataclass(frozen=True)
class Project:
    """The scripts of a project folder, and everything that kept others from loading."""

    project_dir: Path
    integrations: tuple[str, ...]
    """Integration folders found (those that have ``syncs/`` or ``actions/``)."""
    scripts: tuple[ScriptSpec, ...]
    """In discovery order: integration folder, then file, then definition."""
    errors: tuple[LoadError, ...]
    """One per broken file or definition; a broken file's scripts are missing."""
    broken_files: tuple[Path, ...] = ()
    """The script files that could not be imported (their scripts are missing), whether
    the fault is in them or in a file they import. A service reloading the project keeps
    the previous version of their scripts."""

    def find(self, name: str, integration: str | None = None) -> ScriptSpec:
        """The script called ``name`` (in ``integration``, if given).

        Raises :class:`ScriptNotFoundError` with close matches, or when the name
        exists in several integrations and ``integration`` is not given.
        """
        found = [
            s
            for s in self.scripts
            if s.name == name and (integration is None or s.integration == integration)
        ]
        if len(found) == 1:
            return found[0]
        if found:
            owners = ", ".join(sorted(str(s.integration) for s in found))
            raise ScriptNotFoundError(
                f'a script named "{name}" exists in several integrations: {owners}.',
                hint="Pass --integration to say which one.",
            )
        where = f' in integration "{integration}"' if integration else ""
        pool = sorted({s.name for s in self.scripts if integration in (None, s.integration)})
        hints = []
        close = difflib.get_close_matches(name, pool, n=3)
        elsewhere = sorted(str(s.integration) for s in self.scripts if s.name == name)
        if elsewhere:
            hints.append(f"It exists in integration {', '.join(elsewhere)}.")
        elif close:
            hints.append("Did you mean " + " or ".join(f'"{c}"' for c in close) + "?")
        elif pool:
            shown = ", ".join(pool[:10]) + (", ..." if len(pool) > 10 else "")
            hints.append(f"Scripts{where}: {shown}.")
        if self.errors:
            hints.append(
                f"{len(self.errors)} error(s) kept scripts from loading; "
                "run nango-scripts compile to see them."
            )
        raise ScriptNotFoundError(f'no script named "{name}"{where}.', hint=" ".join(hints) or None)


def load_project(project_dir: Path | str, integrations: Iterable[str] | None = None) -> Project:
    """Import every script of ``project_dir`` (only of ``integrations``, if given).

    Never raises for a broken script: import failures and definition errors are collected
    in :attr:`Project.errors`. Raises :class:`ProjectError` if the folder does not exist.
    """
    root = Path(project_dir).resolve()
    if not root.is_dir():
        raise ProjectError(f"project folder {root} does not exist or is not a folder.")
    folders = integration_folders(root)
    errors: list[LoadError] = []
    wanted = folders
    if integrations is not None:
        asked = list(dict.fromkeys(integrations))
        wanted = [f for f in folders if f in asked]
        errors.extend(
            ProjectError(
                f'no integration folder "{missing}" in {root}.',
                hint=f"Integration folders: {', '.join(folders) or 'none'}.",
            )
            for missing in asked
            if missing not in folders
        )

    with _lock, project_root(root):
        _install_finder(root, folders)
        scripts, load_errors, broken_files = _import_scripts(root, wanted)
        scripts, duplicate_errors = _drop_duplicates(scripts)
        scripts, clash_errors = endpoint_clashes(scripts)
    errors.extend(load_errors)
    errors.extend(duplicate_errors)
    errors.extend(clash_errors)
    return Project(
        project_dir=root,
        integrations=tuple(folders),
        scripts=tuple(scripts),
        errors=tuple(errors),
        broken_files=tuple(broken_files),
    )


# --------------------------------------------------------------------------- discovery


def integration_folders(root: Path) -> list[str]:
    """The folders of ``root`` that hold scripts (``syncs/`` or ``actions/``): a project's
    integrations, or a template pack's providers."""
    return [
        entry.name
        for entry in sorted(root.iterdir())
        if entry.is_dir()
        and not _skipped(entry)
        and not (entry / "pyvenv.cfg").exists()
        and any((entry / sub).is_dir() for sub in _SCRIPT_FOLDERS)
    ]


def _skipped(path: Path) -> bool:
    return path.name.startswith((".", "_")) or path.name in _SKIPPED_FOLDERS


def _script_files(root: Path, integration: str) -> list[Path]:
    files: list[Path] = []
    for sub in _SCRIPT_FOLDERS:
        folder = root / integration / sub
        if folder.is_dir():
            files.extend(_walk(folder))
    return files


def _walk(folder: Path) -> list[Path]:
    files: list[Path] = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            if not _skipped(entry):
                files.extend(_walk(entry))
        elif entry.suffix == ".py" and (
            entry.name == "__init__.py" or not entry.name.startswith(("_", "test_"))
        ):
            files.append(entry)
    return files


def _module_name(root: Path, file: Path, package: str = ROOT_PACKAGE) -> str:
    parts = list(file.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join((package, *parts))


# --------------------------------------------------------------------------- importing


def _import_scripts(
    root: Path, integrations: Sequence[str], package: str = ROOT_PACKAGE
) -> tuple[list[ScriptSpec], list[LoadError], list[Path]]:
    scripts: list[ScriptSpec] = []
    broken_files: list[Path] = []
    # Keyed by message, in discovery order. An error inside a shared file (models.py)
    # breaks every script importing it: reported once, with the files it broke.
    failures: dict[str, tuple[ScriptDefinitionError | None, list[Path]]] = {}
    for integration in integrations:
        for file in _script_files(root, integration):
            if "." in file.stem:
                message = (
                    f"{display_path(file)}: a file name with a dot cannot be imported. "
                    f'Rename it (e.g. "{file.stem.replace(".", "_")}.py").'
                )
                failures.setdefault(message, (None, []))
                broken_files.append(file)
                continue
            try:
                module = importlib.import_module(_module_name(root, file, package))
            except ScriptDefinitionError as exc:
                failures.setdefault(str(exc), (exc, []))
                broken_files.append(file)
                continue
            except (Exception, SystemExit) as exc:
                message = _describe_import_error(exc, root, file)
                failures.setdefault(message, (None, []))[1].append(file)
                broken_files.append(file)
                continue
            scripts.extend(_specs_of(module, integration, file))
    errors: list[LoadError] = []
    for message, (definition_error, files) in failures.items():
        if definition_error is not None:
            errors.append(definition_error)
            continue
        broken = [display_path(f) for f in files if not message.startswith(f"{display_path(f)}:")]
        hint = f"Importing {', '.join(broken)} failed because of it." if broken else None
        errors.append(ProjectError(message, hint=hint))
    return scripts, errors, broken_files


def _specs_of(module: types.ModuleType, integration: str, file: Path) -> list[ScriptSpec]:
    """The scripts defined in ``module`` itself (not those it imported from elsewhere)."""
    found: dict[int, ScriptSpec] = {}
    for value in vars(module).values():
        if isinstance(value, SyncSpec | ActionSpec) and value.func.__module__ == module.__name__:
            found.setdefault(id(value), value)
    return [
        dataclasses.replace(spec, integration=spec.integration or integration, source_file=file)
        for spec in found.values()
    ]


def _describe_import_error(exc: BaseException, root: Path, file: Path) -> str:
    """One line: where it went wrong (file:line inside the project) and the original message."""
    if isinstance(exc, SyntaxError):
        where = display_path(exc.filename) if exc.filename else display_path(file)
        if exc.lineno:
            where += f":{exc.lineno}"
        return f"{where}: {type(exc).__name__}: {exc.msg}"
    where = display_path(file)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(frame.filename).is_relative_to(root):
            where = f"{display_path(frame.filename)}:{frame.lineno}"
            break
    text = f"{where}: {type(exc).__name__}: {exc}"
    if isinstance(exc, ModuleNotFoundError) and exc.name and _finder is not None:
        top = exc.name.partition(".")[0]
        if top in _finder.aliases and sys.modules.get(top) is not sys.modules.get(
            _finder.aliases[top]
        ):
            text += (
                f' (an installed package is also called "{top}"; import from your '
                f"integration with a relative import, e.g. from ..models import ...)"
            )
    return text


def _drop_duplicates(scripts: list[ScriptSpec]) -> tuple[list[ScriptSpec], list[LoadError]]:
    """Names are unique per integration: keep the first, report the others."""
    kept: dict[tuple[str | None, str], ScriptSpec] = {}
    errors: list[LoadError] = []
    for spec in scripts:
        first = kept.setdefault((spec.integration, spec.name), spec)
        if first is not spec:
            errors.append(
                ProjectError(
                    f'two scripts are named "{spec.name}" in integration {spec.integration}: '
                    f"{_place(first)} and {_place(spec)}.",
                    hint='Names are unique per integration: rename one with name="...".',
                )
            )
    return list(kept.values()), errors


def _place(spec: ScriptSpec) -> str:
    where = display_path(spec.source_file) if spec.source_file else spec.func.__module__
    return f"{where}:{spec.line}" if spec.line else where


# --------------------------------------------------------------------------- import hook


def _the_finder() -> _ProjectFinder:
    global _finder
    if _finder is None:
        _finder = _ProjectFinder()
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    return _finder


def _install_finder(root: Path, folders: Sequence[str]) -> None:
    """Point the ``nango_project`` package at ``root``, dropping the previous load's modules."""
    _the_finder()
    assert _finder is not None
    stale = [
        name
        for name, module in list(sys.modules.items())
        if _is_project_module_name(name)
        or _is_project_module_name(str(getattr(module, "__name__", "")))
    ]
    for name in stale:
        del sys.modules[name]
    _finder.root = root
    _finder.aliases = {
        folder: f"{ROOT_PACKAGE}.{folder}"
        for folder in folders
        if folder.isidentifier() and not keyword.iskeyword(folder)
    }


def _is_project_module_name(name: str) -> bool:
    return name == ROOT_PACKAGE or name.startswith(ROOT_PACKAGE + ".")


class _ProjectFinder(importlib.abc.MetaPathFinder):
    """Resolves ``nango_project.*`` to the project folder, and integration names to it."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.aliases: dict[str, str] = {}
        """Importable integration name -> its canonical package (``nango_project.github``)."""
        self.packs: dict[str, Path] = {}
        """Template packs: package name (``nango_template_packs.builtin``) -> its folder.
        Their modules are imported once per process and kept across project reloads."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == PACKS_PACKAGE or fullname.startswith(PACKS_PACKAGE + "."):
            return self._pack_spec(fullname, path)
        root = self.root
        if root is None:
            return None
        if fullname == ROOT_PACKAGE:
            return _folder_spec(fullname, root)
        if fullname.startswith(ROOT_PACKAGE + "."):
            return _file_spec(fullname, path or [])
        top, dot, rest = fullname.partition(".")
        canonical_top = self.aliases.get(top)
        if canonical_top is None:
            return None
        if dot:
            # Only below an alias we created (not below an installed package of that name).
            if sys.modules.get(top) is not sys.modules.get(canonical_top):
                return None
        elif self._installed_elsewhere(fullname, root):
            return None
        target_name = f"{canonical_top}.{rest}" if dot else canonical_top
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name))

    def _pack_spec(
        self, fullname: str, path: Sequence[str] | None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == PACKS_PACKAGE:
            spec = importlib.machinery.ModuleSpec(fullname, _FolderLoader(), is_package=True)
            spec.submodule_search_locations = []
            return spec
        folder = self.packs.get(fullname)
        if folder is not None:
            return _folder_spec(fullname, folder)
        return _file_spec(fullname, path or [])

    def _installed_elsewhere(self, fullname: str, root: Path) -> bool:
        """Whether another finder has a real package called ``fullname``, outside ``root``."""
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            try:
                spec = find_spec(fullname, None)
            except Exception:
                continue
            if (
                spec is not None
                and spec.origin is not None  # a namespace package is only a folder
                and not Path(spec.origin).is_relative_to(root)
            ):
                return True
        return False


def _file_spec(fullname: str, search: Iterable[str]) -> importlib.machinery.ModuleSpec | None:
    tail = fullname.rpartition(".")[2]
    for entry in search:
        folder = Path(entry) / tail
        init = folder / "__init__.py"
        if init.is_file():
            return importlib.util.spec_from_file_location(
                fullname,
                init,
                loader=_SourceLoader(fullname, str(init)),
                submodule_search_locations=[str(folder)],
            )
        module = Path(entry) / f"{tail}.py"
        if module.is_file():
            return importlib.util.spec_from_file_location(
                fullname, module, loader=_SourceLoader(fullname, str(module))
            )
        if folder.is_dir():
            return _folder_spec(fullname, folder)
    return None


def _folder_spec(fullname: str, folder: Path) -> importlib.machinery.ModuleSpec:
    spec = importlib.machinery.ModuleSpec(fullname, _FolderLoader(), is_package=True)
    spec.submodule_search_locations = [str(folder)]
    return spec


class _SourceLoader(importlib.machinery.SourceFileLoader):
    """Always compiles from source: project files change under a running ``dev``."""

    def get_code(self, fullname: str) -> types.CodeType:
        path = self.get_filename(fullname)
        return self.source_to_code(self.get_data(path), path)


class _FolderLoader(importlib.abc.Loader):
    """A folder without ``__init__.py``: an empty package."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class _AliasLoader(importlib.abc.Loader):
    """``github.models`` is the module ``nango_project.github.models`` itself."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system set the alias spec on the shared module: put its own back.
        real = sys.modules[self.target]
        module.__spec__ = real.__spec__
