"""``templates package``: a project's integration folders -> a template pack -> its wheel.

The pack is a package (``<name>`` with ``-`` and ``.`` as ``_``) holding one folder per
provider (an integration folder is named after its provider in ``nango.toml``), registered
in the ``nango_scripts.templates`` entry point group. The wheel is written directly (a
zip with its ``dist-info``; no build tool needed), so packaging works offline.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from nango_scripts._template_index import INDEX_FILE
from nango_scripts.dsl import Pack, integration_folders, load_pack
from nango_scripts.errors import ConfigError, ProjectError
from nango_scripts.settings import Settings

__all__ = ["BuiltPack", "package_pack"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*$")
_VERSION = re.compile(r"^\d+(\.\d+)*([ab]|rc|\.dev|\.post)?\d*$")
_SKIPPED = {"__pycache__", ".nango", ".pytest_cache", "dist", "build"}


@dataclass(frozen=True)
class BuiltPack:
    wheel: Path
    package: str
    providers: tuple[str, ...]
    templates: tuple[str, ...]


def package_pack(settings: Settings, name: str, version: str, out: Path) -> BuiltPack:
    if not _NAME.match(name):
        raise ConfigError(
            f"pack name {name!r}: start with a letter; letters, digits, '-', '_' and '.'."
        )
    if not _VERSION.match(version):
        raise ConfigError(f"version {version!r} is not a version such as 1.0.0.")
    root = settings.project_dir
    folders = integration_folders(root)
    if not folders:
        raise ProjectError(
            f"{root} has no integration folder (one with syncs/ or actions/) to package."
        )
    package = re.sub(r"[^A-Za-z0-9_]", "_", name).lower()
    providers: dict[str, str] = {}
    for folder in folders:
        config = settings.integrations.get(folder)
        provider = config.name if config is not None else folder
        if provider in providers:
            raise ProjectError(
                f"integration folders {providers[provider]} and {folder} are both for provider "
                f"{provider}: a pack holds one folder per provider.",
                hint="Package them separately, or merge them into one folder.",
            )
        providers[provider] = folder
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / package
        staged.mkdir()
        (staged / "__init__.py").write_text(
            f'"""Template pack {name} {version} for nango-scripts (data: one folder per '
            'provider)."""\n'
        )
        for provider, folder in providers.items():
            shutil.copytree(
                root / folder, staged / provider, ignore=shutil.ignore_patterns(*_SKIPPED)
            )
        specs, errors = load_pack(Pack(name, version, staged))
        if errors:
            problems = "\n".join(f"  - {e}" for e in errors)
            raise ProjectError(f"the pack does not compile:\n{problems}")
        _write_index(staged)
        out.mkdir(parents=True, exist_ok=True)
        wheel = out / f"{_dist(name)}-{version}-py3-none-any.whl"
        _write_wheel(wheel, staged, package, name, version)
    return BuiltPack(
        wheel,
        package,
        tuple(providers),
        tuple(f"{s.template.provider}/{s.name}" for s in specs if s.template),
    )


def _write_index(staged: Path) -> None:
    """The pack's ``index.json``: without it, ``templates list`` imports every template of
    every installed pack (see ``nango_scripts._template_index``)."""
    from nango_scripts.engine import index_document

    document = index_document(staged)
    (staged / INDEX_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _dist(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _write_wheel(wheel: Path, staged: Path, package: str, name: str, version: str) -> None:
    info = f"{_dist(name)}-{version}.dist-info"
    files: dict[str, bytes] = {}
    for path in sorted(staged.rglob("*")):
        if path.is_file():
            files[f"{package}/{path.relative_to(staged).as_posix()}"] = path.read_bytes()
    files[f"{info}/METADATA"] = (
        "Metadata-Version: 2.1\n"
        f"Name: {name}\n"
        f"Version: {version}\n"
        f"Summary: nango-scripts template pack {name}\n"
        "Requires-Dist: nango-scripts\n"
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: nango-scripts\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = (
        f"[nango_scripts.templates]\n{name} = {package}\n"
    ).encode()
    files[f"{info}/top_level.txt"] = f"{package}\n".encode()
    record = [f"{path},{_hash(data)},{len(data)}" for path, data in files.items()]
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    partial = wheel.with_name(wheel.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    partial.replace(wheel)


def _hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"
