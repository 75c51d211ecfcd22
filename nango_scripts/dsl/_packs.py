"""Template packs: folders of ready scripts, found through entry points and loaded once.

A pack is a folder laid out like a project (one folder per provider, each with
``models.py``, ``syncs/``, ``actions/``, ``tests/``). Any installed distribution ships one
by naming, in the entry point group ``nango_scripts.templates``, a package whose folder is
the pack; the built-in pack (the repository's top-level ``templates/``, installed as the
package ``nango_scripts_templates``) is registered the same way, as ``builtin``::

    [project.entry-points."nango_scripts.templates"]
    acme = "acme_templates"

A pack's modules are imported under ``nango_template_packs.<pack>`` (relative imports
work, nothing goes on ``sys.path``) once per process: reloading a project never reloads
them. A template's spec has ``integration`` = its provider and ``template`` set.

When two packs hold a template of the same provider and name, one wins by a fixed rule:
an installed pack wins over the built-in one (installing a pack is how a user replaces a
built-in template), and between installed packs the one whose name sorts first. Every
such clash is reported in :attr:`TemplateLibrary.clashes`.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nango_scripts._template_index import (
    BUILTIN_PACK,
    ENTRY_POINT_GROUP,
    Pack,
    discover_packs,
    ordered_packs,
    pick_winners,
)
from nango_scripts.dsl._loader import (
    PACKS_PACKAGE,
    LoadError,
    _drop_duplicates,
    _import_scripts,
    _the_finder,
    integration_folders,
)
from nango_scripts.dsl._location import project_root
from nango_scripts.dsl._spec import ScriptSpec, TemplateRef
from nango_scripts.errors import ScriptNotFoundError

__all__ = [
    "BUILTIN_PACK",
    "ENTRY_POINT_GROUP",
    "Pack",
    "TemplateLibrary",
    "discover_packs",
    "load_library",
    "load_pack",
    "reset_library_cache",
]

_lock = threading.RLock()
_loaded: dict[tuple[str, Path], tuple[list[ScriptSpec], list[LoadError]]] = {}
_default: TemplateLibrary | None = None


@dataclass(frozen=True)
class TemplateLibrary:
    """Every template of the installed packs, one per (provider, name)."""

    packs: tuple[Pack, ...]
    templates: tuple[ScriptSpec, ...]
    """The winners, in pack then provider then file order; ``integration`` = provider."""
    clashes: tuple[str, ...] = ()
    """One sentence per template hidden by another pack's (see the module docstring)."""
    errors: tuple[LoadError, ...] = ()
    """Broken template files and packs that could not be found."""

    @property
    def providers(self) -> list[str]:
        return sorted({t.template.provider for t in self.templates if t.template})

    def for_provider(self, provider: str) -> list[ScriptSpec]:
        return [t for t in self.templates if t.template and t.template.provider == provider]

    def get(self, provider: str, name: str) -> ScriptSpec | None:
        for spec in self.for_provider(provider):
            if spec.name == name:
                return spec
        return None

    def find(self, ref: str) -> ScriptSpec:
        """``provider/name``; a clear :class:`ScriptNotFoundError` naming what exists."""
        provider, slash, name = ref.partition("/")
        if not slash or not provider or not name:
            raise ScriptNotFoundError(
                f'"{ref}" does not name a template.',
                hint="Name it PROVIDER/NAME, e.g. github/issues (nango-scripts templates list).",
            )
        found = self.get(provider, name)
        if found is not None:
            return found
        if provider not in self.providers:
            raise ScriptNotFoundError(
                f'no templates for provider "{provider}"{_close(provider, self.providers)}.',
                hint=f"Providers with templates: {', '.join(self.providers) or 'none'}.",
            )
        names = [t.name for t in self.for_provider(provider)]
        raise ScriptNotFoundError(
            f'provider "{provider}" has no template "{name}"{_close(name, names)}.',
            hint=f"Templates of {provider}: {', '.join(names)}.",
        )


def _close(word: str, pool: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(pool), n=2)
    return " (did you mean " + " or ".join(f'"{c}"' for c in close) + "?)" if close else ""


def load_pack(pack: Pack) -> tuple[list[ScriptSpec], list[LoadError]]:
    """Import every template of ``pack`` (once per process and folder)."""
    folder = pack.folder.resolve()
    with _lock:
        cached = _loaded.get((pack.name, folder))
        if cached is not None:
            return cached
        package = f"{PACKS_PACKAGE}.{_identifier(pack.name)}_{len(_loaded)}"
        _the_finder().packs[package] = folder
        with project_root(folder):
            specs, errors, _broken = _import_scripts(folder, integration_folders(folder), package)
            specs, duplicates = _drop_duplicates(specs)
            errors.extend(duplicates)
        specs = [
            dataclasses.replace(
                spec,
                template=TemplateRef(
                    pack.name, pack.version, str(spec.integration), folder / str(spec.integration)
                ),
            )
            for spec in specs
        ]
        _loaded[(pack.name, folder)] = (specs, errors)
        return specs, errors


def _identifier(name: str) -> str:
    return re.sub(r"\W", "_", name)


def load_library(packs: Iterable[Pack] | None = None) -> TemplateLibrary:
    """The templates of ``packs`` (default: the installed ones, cached for the process)."""
    global _default
    if packs is None and _default is not None:
        return _default
    errors: list[LoadError] = []
    if packs is None:
        found, discovery_errors = discover_packs()
        errors.extend(discovery_errors)
    else:
        found = list(packs)
    ordered = ordered_packs(found)
    entries: list[tuple[Pack, str, str, ScriptSpec]] = []
    for pack in ordered:
        specs, pack_errors = load_pack(pack)
        errors.extend(pack_errors)
        entries.extend((pack, str(s.integration), s.name, s) for s in specs)
    winners, clashes = pick_winners(entries)
    library = TemplateLibrary(
        packs=tuple(ordered),
        templates=tuple(winners),
        clashes=tuple(clashes),
        errors=tuple(errors),
    )
    if packs is None:
        _default = library
    return library


def reset_library_cache() -> None:
    """Forget the installed packs found so far (after installing one, in tests)."""
    global _default
    with _lock:
        _default = None
