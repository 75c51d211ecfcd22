"""Every command that needs a project says there is none, where it looked, and creates nothing."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from nango_scripts.cli.main import cli

# Each command that works in a project, with the arguments it needs to get that far.
PROJECT_COMMANDS = [
    ["compile"],
    ["compile", "--json"],
    ["dryrun", "items", "c1"],
    ["run", "items", "c1"],
    ["dev"],
    ["test"],
    ["serve"],
    ["new", "sync", "issues", "--integration", "github"],
    ["new", "action", "create_issue", "--integration", "github"],
    ["connections", "list"],
    ["connections", "create", "github", "c1", "--credentials", '{"token": "x"}'],
    ["connections", "delete", "github", "c1", "--yes"],
    ["templates", "enable", "github", "issues"],
    ["templates", "disable", "github", "issues"],
    ["templates", "clone", "github"],
    ["templates", "package", "--name", "pack", "--version", "1.0.0"],
    ["secret-key", "show"],
    ["secret-key", "rotate"],
]

# Commands that need no project: init makes one.
PROJECT_FREE = {"init"}


def test_every_command_is_checked_outside_a_project() -> None:
    checked = {args[0] for args in PROJECT_COMMANDS}
    commands = set(cli.list_commands(click.Context(cli)))
    assert commands - PROJECT_FREE == checked


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder with no nango.toml in it or above it, as the current directory."""
    folder = tmp_path / "nowhere"
    folder.mkdir()
    if any((parent / "nango.toml").exists() for parent in folder.parents):
        pytest.skip("a nango.toml above the temporary folder makes it part of a project")
    monkeypatch.chdir(folder)
    monkeypatch.delenv("NANGO_SCRIPTS_PROJECT", raising=False)
    monkeypatch.delenv("NANGO_SCRIPTS_DATABASE_URL", raising=False)
    return folder


@pytest.mark.parametrize("args", PROJECT_COMMANDS, ids=" ".join)
def test_outside_a_project_says_so_and_creates_nothing(empty: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 2, result.output
    assert "no nango-scripts project here" in result.output
    assert f"no nango.toml in {empty} or any folder above it" in result.output
    assert f"looked from {empty} up to {Path(empty.anchor)}" in result.output
    assert "nango-scripts init" in result.output
    assert list(empty.iterdir()) == []


def test_a_project_is_found_from_a_folder_below_it(empty: Path) -> None:
    (empty / "nango.toml").write_text("", encoding="utf-8")
    below = empty / "github" / "syncs"
    below.mkdir(parents=True)

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(below)
        result = CliRunner().invoke(cli, ["compile", "--json"])

    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in empty.iterdir()) == ["github", "nango.toml"]


@pytest.mark.parametrize("option", ["--project", "NANGO_SCRIPTS_PROJECT"])
def test_a_named_folder_without_nango_toml_is_not_a_project(
    empty: Path, tmp_path: Path, option: str
) -> None:
    named = tmp_path / "named"
    named.mkdir()
    args, env = (
        (["--project", str(named)], {}) if option == "--project" else ([], {option: str(named)})
    )

    result = CliRunner().invoke(cli, [*args, "connections", "list"], env=env)

    assert result.exit_code == 2, result.output
    assert f"no nango-scripts project at {named}: it has no nango.toml" in result.output
    assert list(named.iterdir()) == []
    assert list(empty.iterdir()) == []


def test_init_still_works_outside_a_project(empty: Path) -> None:
    result = CliRunner().invoke(cli, ["init"])

    assert result.exit_code == 0, result.output
    assert (empty / "nango.toml").is_file()
