"""The templates of ``nango_scripts.scaffold``: found as package data, rendered or copied."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from nango_scripts.scaffold import (
    model_name_for,
    project_files,
    script_files,
    write_files,
)

BIN = Path(sys.executable).parent
SHIPPED = Path(__file__).resolve().parents[2] / "nango_scripts" / "scaffold" / "project"


def test_the_project_has_every_file_the_issue_asks_for() -> None:
    paths = {f.path.as_posix() for f in project_files("demo")}
    assert paths == {
        ".gitignore",
        "README.md",
        "nango.toml",
        "github/models.py",
        "github/syncs/issues.py",
        "github/actions/create_issue.py",
        "github/tests/test_issues.py",
        "github/tests/cassettes/issues.yaml",
        "github/tests/snapshots/issues.json",
    }


def test_dotfiles_are_renamed_and_the_gitignore_ignores_local_state() -> None:
    files = {f.path.as_posix(): f.content.decode() for f in project_files("demo")}
    assert ".nango/" in files[".gitignore"].splitlines()
    assert not any(path.endswith(".j2") or "dot-" in path for path in files)


def test_recordings_are_copied_byte_for_byte_not_rendered() -> None:
    files = {f.path.as_posix(): f.content for f in project_files("demo")}
    for path in ("github/tests/cassettes/issues.yaml", "github/tests/snapshots/issues.json"):
        shipped = (SHIPPED / path).read_bytes()
        assert files[path] == shipped
        assert b"{{" in shipped or b"{" in shipped  # braces that jinja2 would have mangled


def test_the_project_name_reaches_the_templates() -> None:
    files = {f.path.as_posix(): f.content.decode() for f in project_files("acme-sync")}
    assert files["README.md"].startswith("# acme-sync\n")
    assert files["nango.toml"].startswith("# acme-sync: ")


def test_script_templates_go_to_the_integration_folder() -> None:
    sync_files = [f.path for f in script_files("sync", "tickets", "zendesk")]
    action_files = [f.path for f in script_files("action", "close_ticket", "zendesk")]
    assert sync_files == [
        PurePosixPath("zendesk/syncs/tickets.py"),
        PurePosixPath("zendesk/tests/test_tickets.py"),
    ]
    assert action_files == [
        PurePosixPath("zendesk/actions/close_ticket.py"),
        PurePosixPath("zendesk/tests/test_close_ticket.py"),
    ]
    source = script_files("sync", "tickets", "zendesk")[0].content.decode()
    assert "class Ticket(BaseModel):" in source
    assert "async def tickets(nango: NangoSync) -> None:" in source


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("issues", "Issue"),
        ("pull_requests", "PullRequest"),
        ("companies", "Company"),
        ("addresses", "Address"),
        ("branches", "Branch"),
        ("boxes", "Box"),
        ("status", "Status"),
        ("bus", "Bus"),
        ("create_issue", "CreateIssue"),
        ("Issue", "IssueRecord"),
        ("base_models", "BaseModelRecord"),
        ("_", "Record"),
    ],
)
def test_model_names(name: str, model: str) -> None:
    assert model_name_for(name) == model


def test_generated_python_is_lint_and_format_clean(tmp_path: Path) -> None:
    write_files(tmp_path, project_files("demo"))
    write_files(tmp_path, script_files("sync", "pull_requests", "github"))
    write_files(tmp_path, script_files("action", "close_issue", "github"))
    python_files = sorted(str(p) for p in tmp_path.rglob("*.py"))
    assert len(python_files) == 8
    for args in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        done = subprocess.run(
            [str(BIN / "ruff"), *args, *python_files], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
