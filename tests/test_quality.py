"""The house rules of DESIGN.md, checked by the tools themselves: a failure prints their report."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    which = shutil.which(name)
    if which is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return which


def _run(*args: str) -> None:
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    _run(_tool("mypy"), "--strict", "nango_scripts")


def test_ruff_lint_is_clean() -> None:
    _run(_tool("ruff"), "check", "nango_scripts", "tests", "benchmarks", "examples", "templates")


def test_ruff_format_is_clean() -> None:
    _run(
        _tool("ruff"),
        "format",
        "--check",
        "nango_scripts",
        "tests",
        "benchmarks",
        "examples",
        "templates",
    )


def test_imports_point_down_only() -> None:
    _run(_tool("lint-imports"))


PACKAGE = ROOT / "nango_scripts"
THREAD_HELPER = PACKAGE / "store" / "_blocking.py"


def test_async_code_reaches_blocking_calls_through_one_helper() -> None:
    """Stores are synchronous; async code calls them (and any other blocking function)
    through ``store.blocking``, the package's one ``asyncio.to_thread``."""
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != THREAD_HELPER
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "to_thread(" in line
    ]
    assert found == [], "use nango_scripts.store.blocking instead:\n" + "\n".join(found)


def test_no_store_has_blocking_twins() -> None:
    """One synchronous method per job: no ``x`` / ``x_sync`` pairs, no async store methods."""
    twin = re.compile(r"\bdef \w+_sync\(|^\s*async def ")
    twins = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((PACKAGE / "store").glob("*.py"))
        if path != THREAD_HELPER
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if twin.search(line)
    ]
    assert twins == []
