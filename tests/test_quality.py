"""The house rules of DESIGN.md, checked by the tools themselves: a failure prints their report."""

from __future__ import annotations

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
