"""The wheel: every subpackage listed, and the built-in template pack shipped whole."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject() -> None:
    # pyproject lists packages by hand (the built-in pack lives outside nango_scripts/):
    # a new subpackage left off the list would be missing from the wheel.
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "nango_scripts").rglob("__init__.py")
        if "scaffold" not in init.parent.relative_to(ROOT / "nango_scripts").parts[1:]
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert "nango_scripts_templates" in listed


@pytest.mark.slow
def test_a_built_wheel_holds_every_template_file(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = tmp_path.glob("nango_scripts-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        text = archive.read(entry_points).decode()
    assert "[nango_scripts.templates]" in text and "builtin = nango_scripts_templates" in text
    pack = ROOT / "templates"
    expected = {
        "nango_scripts_templates/" + path.relative_to(pack).as_posix()
        for path in pack.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    missing = sorted(expected - names)
    assert not missing, f"template files left out of the wheel: {missing[:20]}"
    assert not [n for n in names if "__pycache__" in n]


def test_the_default_install_brings_what_nango_scripts_test_needs() -> None:
    from importlib.metadata import requires

    core = [r for r in requires("nango-scripts") or [] if "extra ==" not in r]
    names = {r.split(";")[0].split("[")[0].split(">")[0].split("=")[0].strip() for r in core}
    assert {"pytest", "vcrpy"} <= names, core
