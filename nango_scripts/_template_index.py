"""Finding template packs and reading their index, without importing any template.

Light on purpose (standard library only): ``nango-scripts templates list`` answers from
here in a fraction of the time that importing every template (pydantic models and all)
would take.

- Packs are registered by installed distributions in the entry point group
  ``nango_scripts.templates``; the value names a package whose folder is the pack.
- A pack may carry ``index.json`` (written by ``nango-scripts templates index`` and by
  ``templates package``): one row per template as ``templates list --json`` shows it, and
  a fingerprint of the pack's Python files. An index whose fingerprint no longer matches
  is ignored, and the templates are imported instead.
- When two packs hold a template of the same provider and name, an installed pack wins
  over the built-in one, and between installed packs the first by name; each clash is
  reported (:func:`pick_winners`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from nango_scripts.errors import ProjectError

__all__ = [
    "BUILTIN_PACK",
    "ENTRY_POINT_GROUP",
    "INDEX_FILE",
    "Pack",
    "discover_packs",
    "fingerprint",
    "ordered_packs",
    "pick_winners",
    "read_index",
]

ENTRY_POINT_GROUP = "nango_scripts.templates"
BUILTIN_PACK = "builtin"
INDEX_FILE = "index.json"
_PACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SKIPPED = {"tests", "__pycache__"}

T = TypeVar("T")


@dataclass(frozen=True)
class Pack:
    name: str
    version: str
    folder: Path
    distribution: str | None = None
    """The installed distribution that registered it (None for a folder given directly)."""


def discover_packs() -> tuple[list[Pack], list[ProjectError]]:
    """The packs registered in ``nango_scripts.templates`` by installed distributions."""
    packs: list[Pack] = []
    errors: list[ProjectError] = []
    seen: set[str] = set()
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist.name if ep.dist is not None else None
        where = f"template pack {ep.name!r}" + (f" (from {dist})" if dist else "")
        if ep.name in seen or not _PACK_NAME.match(ep.name):
            errors.append(ProjectError(f"{where}: the name is taken or not valid; ignored."))
            continue
        folder = _package_folder(ep.value)
        if folder is None:
            errors.append(
                ProjectError(
                    f"{where}: {ep.value!r} is not an installed package folder; ignored.",
                    hint="The entry point's value names a package whose folder holds the "
                    'pack, e.g. acme = "acme_templates".',
                )
            )
            continue
        seen.add(ep.name)
        version = ep.dist.version if ep.dist is not None else "0"
        packs.append(Pack(ep.name, version, folder, dist))
    return packs, errors


def _package_folder(name: str) -> Path | None:
    """The folder of package ``name``, found without importing it."""
    try:
        spec = importlib.util.find_spec(name.strip())
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    return folder if folder.is_dir() else None


def ordered_packs(packs: Iterable[Pack]) -> list[Pack]:
    """Installed packs first (by name), the built-in last: the first of a name wins."""
    return sorted(packs, key=lambda p: (p.name == BUILTIN_PACK, p.name))


def pick_winners(
    entries: Iterable[tuple[Pack, str, str, T]],
) -> tuple[list[T], list[str]]:
    """``(pack, provider, name, item)`` in :func:`ordered_packs` order -> the items that
    win, and one sentence per clash."""
    winners: dict[tuple[str, str], tuple[Pack, T]] = {}
    clashes: list[str] = []
    for pack, provider, name, item in entries:
        first = winners.setdefault((provider, name), (pack, item))
        if first[1] is not item:
            clashes.append(
                f"template {provider}/{name}: pack {first[0].name} {first[0].version} is "
                f"used, pack {pack.name} {pack.version} has one too (an installed pack wins "
                "over the built-in one; between installed packs, the first by name)."
            )
    return [item for _, item in winners.values()], clashes


def fingerprint(folder: Path) -> str:
    """A hash of every Python file of the pack's provider folders (tests left out)."""
    digest = hashlib.sha256()
    for path in sorted(_python_files(folder)):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _python_files(folder: Path) -> Iterable[Path]:
    for entry in folder.iterdir():
        if entry.is_dir() and entry.name not in _SKIPPED and not entry.name.startswith("."):
            for path in entry.rglob("*.py"):
                if not _SKIPPED.intersection(path.relative_to(entry).parts):
                    yield path


def read_index(pack: Pack) -> list[dict[str, Any]] | None:
    """The pack's index rows, or None when it has none or it is out of date."""
    path = pack.folder / INDEX_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("fingerprint") != fingerprint(pack.folder):
        return None
    rows = document.get("templates")
    if not isinstance(rows, list):
        return None
    return [{**row, "pack": pack.name, "pack_version": pack.version} for row in rows]
