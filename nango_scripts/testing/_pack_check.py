"""``templates check``: compile a template pack and replay every one of its cassettes.

The pack's provider folders are copied into a throw-away project whose ``nango.toml``
has one integration per provider (named after it), then pytest runs there with the
nango-scripts plugin: every snapshot with a cassette is replayed and compared, and the
pack's own ``tests/test_*.py`` run too. A provider folder may hold
``tests/integration.json``: the keys of its ``[integrations.<provider>]`` table for the
replay (``{"base_url_params": {"subdomain": "acme"}}`` for a base URL with placeholders).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nango_scripts.dsl import Pack, integration_folders, load_pack

__all__ = ["check_pack", "integration_section", "integration_table"]

_IGNORED = shutil.ignore_patterns("__pycache__", ".nango", ".pytest_cache")


def integration_section(folder: Path) -> dict[str, Any]:
    """The ``[integrations.<provider>]`` keys of a pack's provider folder: its
    ``tests/integration.json``, with ``provider`` = the folder's name unless the file
    defines the API itself (a ``base_url`` and no ``provider``)."""
    section: dict[str, Any] = {}
    path = folder / "tests" / "integration.json"
    if path.is_file():
        section = json.loads(path.read_text(encoding="utf-8"))
    if "base_url" not in section or "provider" in section:
        section.setdefault("provider", folder.name)
    return section


def integration_table(folder: Path, *, base_url: str | None = None) -> str:
    """:func:`integration_section` as TOML; ``base_url`` points it elsewhere (a local
    imitation of the API), the provider kept."""
    section = integration_section(folder)
    if base_url is not None:
        section["base_url"] = base_url
    lines = [f"[integrations.{folder.name}]"]
    for key, value in section.items():
        lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def check_pack(folder: Path, *, echo: Callable[[str], Any] = print) -> bool:
    """True when every template of the pack in ``folder`` loads and replays as recorded."""
    if not folder.is_dir():
        echo(f"Error: {folder} is not a folder.")
        return False
    providers = integration_folders(folder)
    if not providers:
        echo(f"Error: {folder} holds no provider folder (one with syncs/ or actions/).")
        return False
    specs, errors = load_pack(Pack("check", "0", folder))
    syncs = sum(1 for s in specs if s.kind == "sync")
    echo(
        f"{folder}: {len(specs)} templates ({syncs} syncs, {len(specs) - syncs} actions) "
        f"of {len(providers)} providers."
    )
    for error in errors:
        echo(f"Error: {error}")
    missing = [
        f"{s.template.provider}/{s.name}"
        for s in specs
        if s.template is not None
        and not (s.template.folder / "tests" / "cassettes" / f"{s.name}.yaml").is_file()
    ]
    for ref in missing:
        echo(f"Error: {ref} has no cassette (tests/cassettes/<name>.yaml): it is not tested.")
    import pytest

    with tempfile.TemporaryDirectory(prefix="nango-pack-check-") as tmp:
        project = Path(tmp)
        tables = []
        for provider in providers:
            shutil.copytree(folder / provider, project / provider, ignore=_IGNORED)
            tables.append(integration_table(folder / provider))
        (project / "nango.toml").write_text("\n".join(tables), encoding="utf-8")
        args = [
            "--rootdir",
            str(project),
            "--nango-project",
            str(project),
            "--import-mode=importlib",
            "-o",
            "cache_dir=.nango/pytest-cache",
            "-q",
            str(project),
        ]
        if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
            args[:0] = ["-p", "nango_scripts.testing.plugin"]
        with contextlib.chdir(project):
            code = int(pytest.main(args))
    return code == 0 and not errors and not missing
