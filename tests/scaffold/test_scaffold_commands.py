"""``nango-scripts init`` and ``nango-scripts new``: what they write, and what they refuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nango_scripts.cli.main import cli


def invoke(*args: str, cwd: Path | None = None) -> Result:
    runner = CliRunner()
    env = {"NANGO_SCRIPTS_PROJECT": ""}
    if cwd is None:
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)


def compiled(project: Path) -> dict[str, object]:
    done = invoke("--project", str(project), "compile", "--json")
    document: dict[str, object] = json.loads(done.stdout)
    return document


# --------------------------------------------------------------------------- init


def test_init_creates_a_project_that_compiles_and_prints_next_steps(tmp_path: Path) -> None:
    done = invoke("init", "my-project", cwd=tmp_path)
    assert done.exit_code == 0, done.output
    project = tmp_path / "my-project"
    assert (project / "nango.toml").is_file()
    assert (project / ".gitignore").read_text().count(".nango/") == 1
    assert "cd my-project" in done.stdout
    assert "nango-scripts dryrun issues demo --replay" in done.stdout
    document = compiled(project)
    assert document["errors"] == []
    scripts = {(s["name"], s["kind"]) for s in document["scripts"]}  # type: ignore[attr-defined]
    assert scripts == {("issues", "sync"), ("create_issue", "action")}


def test_init_without_dir_uses_the_current_folder(tmp_path: Path) -> None:
    done = invoke("init", cwd=tmp_path)
    assert done.exit_code == 0, done.output
    assert (tmp_path / "github" / "syncs" / "issues.py").is_file()
    assert "cd " not in done.stdout


def test_init_fills_a_non_empty_folder_when_nothing_clashes(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    done = invoke("init", str(tmp_path))
    assert done.exit_code == 0, done.output
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_init_refuses_an_existing_project(tmp_path: Path) -> None:
    (tmp_path / "nango.toml").write_text("# mine\n")
    done = invoke("init", str(tmp_path))
    assert done.exit_code == 2
    assert "already a nango-scripts project" in done.stderr
    assert "--force" in done.stderr
    assert (tmp_path / "nango.toml").read_text() == "# mine\n"
    assert not (tmp_path / "github").exists()


def test_init_refuses_to_overwrite_any_file_of_the_example(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("mine")
    done = invoke("init", str(tmp_path))
    assert done.exit_code == 2
    assert "README.md" in done.stderr
    assert (tmp_path / "README.md").read_text() == "mine"
    assert not (tmp_path / "nango.toml").exists()


def test_init_force_overwrites_the_example_files_and_keeps_the_others(tmp_path: Path) -> None:
    (tmp_path / "nango.toml").write_text("# mine\n")
    (tmp_path / "github" / "syncs").mkdir(parents=True)
    (tmp_path / "github" / "syncs" / "mine.py").write_text("# mine\n")
    done = invoke("init", str(tmp_path), "--force")
    assert done.exit_code == 0, done.output
    assert "nango.toml (overwritten)" in done.stdout
    assert "[integrations.github]" in (tmp_path / "nango.toml").read_text()
    assert (tmp_path / "github" / "syncs" / "mine.py").read_text() == "# mine\n"


def test_init_into_a_file_is_bad_usage(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    done = invoke("init", str(tmp_path / "file"))
    assert done.exit_code == 2
    assert "is a file" in done.stderr


# --------------------------------------------------------------------------- new


@pytest.fixture
def project(tmp_path: Path) -> Path:
    assert invoke("init", str(tmp_path / "p")).exit_code == 0
    return tmp_path / "p"


def test_new_sync_writes_the_script_and_its_test_and_it_compiles(project: Path) -> None:
    done = invoke(
        "--project", str(project), "new", "sync", "pull_requests", "--integration", "github"
    )
    assert done.exit_code == 0, done.output
    assert (project / "github" / "syncs" / "pull_requests.py").is_file()
    assert (project / "github" / "tests" / "test_pull_requests.py").is_file()
    assert "Warning" not in done.stderr
    assert "nango-scripts dryrun pull_requests <connection-id> --save-responses" in done.stdout
    document = compiled(project)
    assert document["errors"] == []
    found = [s for s in document["scripts"] if s["name"] == "pull_requests"]  # type: ignore[attr-defined]
    assert found[0]["kind"] == "sync" and found[0]["models"] == ["PullRequest"]


def test_new_action_writes_the_script_and_its_test_and_it_compiles(project: Path) -> None:
    done = invoke("new", "action", "close_issue", "-i", "github", cwd=project)
    assert done.exit_code == 0, done.output
    assert (project / "github" / "actions" / "close_issue.py").is_file()
    assert (project / "github" / "tests" / "test_close_issue.py").is_file()
    document = compiled(project)
    assert document["errors"] == []
    found = [s for s in document["scripts"] if s["name"] == "close_issue"]  # type: ignore[attr-defined]
    assert (found[0]["input"], found[0]["output"]) == ("CloseIssueInput", "CloseIssueOutput")


def test_new_creates_the_integration_folder_and_says_what_to_add_to_nango_toml(
    project: Path,
) -> None:
    done = invoke("new", "sync", "tickets", "--integration", "helpdesk", cwd=project)
    assert done.exit_code == 0, done.output
    assert (project / "helpdesk" / "syncs" / "tickets.py").is_file()
    assert 'integration "helpdesk" is not in nango.toml' in done.stderr
    assert "[integrations.helpdesk]\nbase_url = " in done.stderr
    # compile agrees: the script loads, but its integration cannot run yet
    document = compiled(project)
    assert ["not configured in nango.toml" in e["message"] for e in document["errors"]] == [True]  # type: ignore[attr-defined]


def test_new_suggests_the_built_in_provider_of_that_name(project: Path) -> None:
    done = invoke("new", "sync", "channels", "--integration", "slack", cwd=project)
    assert done.exit_code == 0, done.output
    assert '[integrations.slack]\nprovider = "slack"' in done.stderr


def test_new_refuses_to_overwrite(project: Path) -> None:
    before = (project / "github" / "syncs" / "issues.py").read_text()
    done = invoke("new", "sync", "issues", "--integration", "github", cwd=project)
    assert done.exit_code == 2
    assert "github/syncs/issues.py" in done.stderr and "nothing was written" in done.stderr
    assert (project / "github" / "syncs" / "issues.py").read_text() == before
    assert not (project / "github" / "tests" / "test_issues_1.py").exists()


def test_new_refuses_a_test_file_that_exists_and_writes_nothing(project: Path) -> None:
    (project / "github" / "tests" / "test_labels.py").write_text("# mine\n")
    done = invoke("new", "sync", "labels", "--integration", "github", cwd=project)
    assert done.exit_code == 2
    assert not (project / "github" / "syncs" / "labels.py").exists()


def test_new_refuses_a_name_another_file_of_the_integration_uses(project: Path) -> None:
    done = invoke("new", "sync", "create_issue", "--integration", "github", cwd=project)
    assert done.exit_code == 2
    assert 'already has a script named "create_issue" (github/actions/create_issue.py)' in (
        done.stderr
    )
    assert not (project / "github" / "syncs" / "create_issue.py").exists()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("2fast", "not a Python identifier"),
        ("my-sync", "not a Python identifier"),
        ("class", "is a Python keyword"),
        ("_private", 'cannot start with "_"'),
        ("test_thing", 'cannot start with "_" or "test_"'),
        ("sync", "would shadow"),
    ],
)
def test_new_validates_the_name(project: Path, name: str, reason: str) -> None:
    done = invoke("new", "sync", name, "--integration", "github", cwd=project)
    assert done.exit_code == 2
    assert reason in done.stderr
    assert not (project / "github" / "syncs" / f"{name}.py").exists()


def test_new_validates_the_integration_id(project: Path) -> None:
    done = invoke("new", "sync", "tickets", "--integration", "../evil", cwd=project)
    assert done.exit_code == 2
    assert "not an integration id" in done.stderr
    assert not (project.parent / "evil").exists()


def test_new_outside_a_project_is_bad_usage(tmp_path: Path) -> None:
    done = invoke("new", "sync", "tickets", "--integration", "github", cwd=tmp_path)
    assert done.exit_code == 2
    assert "no nango-scripts project here: no nango.toml in" in done.stderr
    assert not (tmp_path / "github").exists()


def test_new_needs_the_integration(project: Path) -> None:
    done = invoke("new", "sync", "tickets", cwd=project)
    assert done.exit_code == 2
    assert "--integration" in done.stderr


def test_the_generated_readme_keeps_its_comment_columns(tmp_path: Path) -> None:
    done = invoke("init", str(tmp_path / "p"), cwd=tmp_path)
    assert done.exit_code == 0, done.output
    readme = (tmp_path / "p" / "README.md").read_text()
    blocks = readme.split("```")
    listing = [line for line in blocks[1].splitlines() if line.strip()]
    # every comment of the file list starts at column 36, after at least one space
    misplaced = [line for line in listing if line[35] != " " or line[36] == " "]
    assert len(listing) == 8 and not misplaced, misplaced
    commands = [
        line
        for block in blocks[2:]
        for line in block.splitlines()
        if line.startswith("nango-scripts") and "  #" in line and len(line.split("#")[0]) <= 48
    ]
    assert commands and {line.index("#") for line in commands} == {47}, commands
